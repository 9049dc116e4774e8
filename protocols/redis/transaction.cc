// Transaction state machine of one client (protocols/redis/transaction.h has the rules).
#include "protocols/redis/transaction.h"

#include "protocols/redis/resp.h"

namespace proxy::protocols::redis {
namespace {

constexpr absl::string_view kOk = "+OK\r\n";
constexpr absl::string_view kNested = "-ERR MULTI calls can not be nested\r\n";
constexpr absl::string_view kExecWithoutMulti = "-ERR EXEC without MULTI\r\n";
constexpr absl::string_view kDiscardWithoutMulti = "-ERR DISCARD without MULTI\r\n";
constexpr absl::string_view kWatchInMulti = "-ERR WATCH inside MULTI is not allowed\r\n";
constexpr absl::string_view kExecAbort =
    "-EXECABORT Transaction discarded because of previous errors.\r\n";
constexpr absl::string_view kNoKeyYet =
    "-ERR a transaction through the proxy runs on the server of its first key: send a command "
    "with a key before this one (or use hash tags)\r\n";
constexpr absl::string_view kLocalInMulti =
    "-ERR this connection command cannot be queued in a transaction through the proxy\r\n";
constexpr absl::string_view kEmptyExec = "*0\r\n";
constexpr absl::string_view kMultiRequest = "*1\r\n$5\r\nMULTI\r\n";

void Set(std::string* reply, absl::string_view text) { reply->append(text.data(), text.size()); }

}  // namespace

bool Transaction::OnRequest(const Request& request, const CommandSpec* spec, std::string* reply,
                            LocalAction* action) {
  pin_ = PinAction::kNone;
  was_pinned_ = pinned_;
  const Op op = spec != nullptr ? spec->op : Op::kNone;
  switch (op) {
    case Op::kMulti:
      *action = LocalAction::kReply;
      if (in_multi_) {
        Set(reply, kNested);  // not queued by redis either: the transaction goes on
        return true;
      }
      in_multi_ = true;
      failed_ = false;
      if (pinned_) {
        // WATCH pinned the client: MULTI goes to that server now.
        multi_sent_ = true;
        pin_ = PinAction::kPinned;
        *action = LocalAction::kForward;
        return true;
      }
      multi_sent_ = false;  // held until the first key names the server
      Set(reply, kOk);
      return true;

    case Op::kExec:
      *action = LocalAction::kReply;
      if (!in_multi_) {
        Set(reply, kExecWithoutMulti);
        return true;
      }
      in_multi_ = false;
      if (failed_ || watch_lost_) {
        // Nothing runs: the pinned connection (if any) is reset (DISCARD, UNWATCH).
        Set(reply, failed_ ? kExecAbort : (resp3_ ? absl::string_view("_\r\n")
                                                  : absl::string_view("*-1\r\n")));
        pin_ = pinned_ ? PinAction::kReset : PinAction::kNone;
        pinned_ = multi_sent_ = failed_ = watch_lost_ = false;
        return true;
      }
      if (!multi_sent_) {
        Set(reply, kEmptyExec);  // MULTI with nothing queued: redis answers an empty array
        return true;
      }
      multi_sent_ = false;
      pinned_ = false;
      pin_ = PinAction::kRelease;
      *action = LocalAction::kForward;
      return true;

    case Op::kDiscard:
      *action = LocalAction::kReply;
      if (!in_multi_) {
        Set(reply, kDiscardWithoutMulti);
        return true;
      }
      in_multi_ = false;
      failed_ = watch_lost_ = false;
      if (multi_sent_) {
        multi_sent_ = false;
        pinned_ = false;
        pin_ = PinAction::kRelease;  // DISCARD also unwatches: the connection is clean after it
        *action = LocalAction::kForward;
        return true;
      }
      if (pinned_) {
        // A MULTI held while pinned cannot happen (MULTI is sent when pinned); be safe.
        pin_ = PinAction::kReset;
        pinned_ = false;
      }
      Set(reply, kOk);
      return true;

    case Op::kWatch:
      if (in_multi_) {
        *action = LocalAction::kReply;
        Set(reply, kWatchInMulti);
        return true;
      }
      pin_ = PinAction::kPin;  // routed by its keys; the core pins (or checks the server)
      pinned_ = true;
      return false;

    case Op::kUnwatch:
      if (in_multi_) break;  // queued like any keyless command
      *action = LocalAction::kReply;
      watch_lost_ = false;
      if (pinned_) {
        pinned_ = false;
        pin_ = PinAction::kRelease;
        *action = LocalAction::kForward;
        return true;
      }
      Set(reply, kOk);
      return true;

    case Op::kQuit:
    case Op::kReset:
      return false;  // act at once (the session handles them)

    default:
      break;
  }
  if (!in_multi_) return false;
  // Inside MULTI.
  if (request.kind == CommandKind::kUnsupported) {
    failed_ = true;  // refused by the core; redis fails the transaction for it too
    return false;
  }
  const bool keyless = request.kind == CommandKind::kLocal || request.broadcast ||
                       request.synthetic_key || op == Op::kUnwatch;
  if (keyless) {
    const bool queueable = op == Op::kPing || op == Op::kEcho || op == Op::kUnwatch ||
                           (request.kind != CommandKind::kLocal && !request.broadcast);
    *action = LocalAction::kReply;
    if (!queueable) {
      failed_ = true;
      Set(reply, kLocalInMulti);
      return true;
    }
    if (!multi_sent_) {
      failed_ = true;
      Set(reply, kNoKeyYet);
      return true;
    }
    pin_ = PinAction::kPinned;  // queued on the transaction's server
    *action = LocalAction::kForward;
    return true;
  }
  if (!pinned_) {
    // The first key decides the server: pin, sending the held MULTI first.
    pin_ = PinAction::kPin;
    pinned_ = true;
    multi_sent_ = true;
  }
  return false;
}

std::string Transaction::PinPrelude() const {
  if (pin_ == PinAction::kPin && in_multi_ && !was_pinned_) return std::string(kMultiRequest);
  return {};
}

void Transaction::OnPinRefused() {
  if (pin_ == PinAction::kPin && !was_pinned_) {
    pinned_ = false;
    if (in_multi_) multi_sent_ = false;
  }
  if (in_multi_) failed_ = true;
  pin_ = PinAction::kNone;
}

void Transaction::OnInvalidRequest() {
  if (in_multi_) failed_ = true;
}

void Transaction::OnPinLost() {
  pinned_ = false;
  if (in_multi_) {
    failed_ = true;
    multi_sent_ = false;
  } else {
    watch_lost_ = true;
  }
}

PinAction Transaction::Reset() {
  const PinAction action = pinned_ ? PinAction::kReset : PinAction::kNone;
  in_multi_ = multi_sent_ = pinned_ = was_pinned_ = failed_ = watch_lost_ = false;
  pin_ = action;
  return action;
}

}  // namespace proxy::protocols::redis

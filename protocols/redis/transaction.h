// One client's transaction state on a sharding proxy: MULTI/EXEC/DISCARD/WATCH/UNWATCH run on
// one server through a dedicated server connection (api/codec.h PinAction), never on a shared
// one. RedisSession owns one and calls it first for every authenticated request.
//
//   MULTI (not pinned)   → +OK from the proxy; MULTI is held and sent (PinPrelude) in front of
//                          the first command that has a key, which pins the client to that
//                          key's server (PinAction::kPin)
//   MULTI (pinned: WATCH) → sent on the pinned connection (kPinned)
//   commands in MULTI    → must map to the pinned server (PinnedOnly); a key elsewhere gets an
//                          error and fails the transaction; keyless commands before the first
//                          key are refused and fail it too; EXEC then answers -EXECABORT and
//                          the pinned connection is reset (kReset: DISCARD, UNWATCH)
//   EXEC / DISCARD       → sent on the pinned connection, which is released after the reply
//                          (kRelease); with nothing sent yet: *0 / +OK from the proxy
//   WATCH key...         → routed by its keys (colocated), pins the client (kPin); commands
//                          between WATCH and MULTI for other servers use shared connections
//   UNWATCH              → kRelease when pinned outside MULTI, +OK otherwise
//   MULTI inside MULTI   → -ERR MULTI calls can not be nested (redis's text)
//   EXEC/DISCARD without MULTI → -ERR EXEC without MULTI / -ERR DISCARD without MULTI
//   WATCH inside MULTI   → -ERR WATCH inside MULTI is not allowed
//   PING/ECHO inside MULTI → queued on the pinned server (before the first key: refused);
//                          other local commands (AUTH, SELECT, CLIENT, HELLO) are refused
//                          inside MULTI and fail the transaction; QUIT and RESET act at once
//   a refused or invalid command inside MULTI fails the transaction (EXEC → -EXECABORT), as
//                          redis does for a command it cannot queue
//   the pinned connection closes → a transaction in progress fails; after a lost WATCH the
//                          next EXEC answers a null reply (the optimistic lock failed: the
//                          client retries), never runs without its watch
#pragma once

#include <string>

#include "api/codec.h"
#include "protocols/redis/command_table.h"

namespace proxy::protocols::redis {

class Transaction {
 public:
  // Called for every authenticated request before anything else of the session. True when the
  // transaction decided what happens to it (`*action`, and `*reply` for local replies); false
  // when the session goes on as usual (Pin() may still route it to the pinned connection).
  bool OnRequest(const Request& request, const CommandSpec* spec, std::string* reply,
                 LocalAction* action);
  // What the core does with the request just seen (api/codec.h PinAction).
  PinAction Pin() const { return pin_; }
  // The session's fast path saw a request that concerns no transaction (a data command while
  // not Active(), not WATCH): same effect as OnRequest returning false with no pin.
  void NoteOrdinaryRequest() {
    pin_ = PinAction::kNone;
    was_pinned_ = pinned_;
  }
  bool PinnedOnly() const { return in_multi_; }
  std::string PinPrelude() const;
  void OnPinRefused();
  void OnPinLost();
  // Pinned, or inside MULTI: a protocol change (HELLO) is refused meanwhile.
  bool Active() const { return in_multi_ || pinned_; }
  // A request the decoder refused (wrong arity...): fails a transaction in progress.
  void OnInvalidRequest();
  // RESET: forgets everything; returns the pin action for it (kReset when pinned).
  PinAction Reset();
  // The client speaks RESP3 (after HELLO 3): an aborted EXEC's null reply is `_`.
  void SetResp3(bool resp3) { resp3_ = resp3; }

 private:
  PinAction pin_ = PinAction::kNone;
  bool in_multi_ = false;
  bool multi_sent_ = false;   // MULTI reached (or is on its way to) the server
  bool pinned_ = false;       // the core holds a dedicated connection for this client
  bool was_pinned_ = false;   // pinned before the current request (a refused kPin is undone)
  bool failed_ = false;       // EXEC will abort with -EXECABORT
  bool watch_lost_ = false;   // the WATCHing connection closed: EXEC answers a null reply
  bool resp3_ = false;
};

}  // namespace proxy::protocols::redis

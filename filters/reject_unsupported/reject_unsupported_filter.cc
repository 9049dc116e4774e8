// Rejection texts and the per-request check of the reject_unsupported filter.
#include "filters/reject_unsupported/reject_unsupported_filter.h"

#include <cstdint>
#include <initializer_list>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace proxy::filters::reject_unsupported {
namespace {

// Longest command name quoted in an error reply; longer (client-chosen) names are cut.
constexpr size_t kMaxQuotedName = 64;

// `name` made safe to quote inside a one-line error reply: printable ASCII only, bounded length.
std::string Quotable(absl::string_view name) {
  std::string out;
  const size_t n = name.size() > kMaxQuotedName ? kMaxQuotedName : name.size();
  out.reserve(n + 3);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  if (n < name.size()) {
    out.append("...");
  }
  return out;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const DenyList>> DenyList::Create(
    const config::filters::v1::RejectUnsupportedConfig& config) {
  auto list = std::make_shared<DenyList>();
  for (int i = 0; i < config.deny_commands_size(); ++i) {
    const std::string& command = config.deny_commands(i);
    if (command.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("deny_commands[", i, "]: must not be empty; give a command name"));
    }
    for (char c : command) {
      const unsigned char u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u >= 0x7f) {
        return absl::InvalidArgumentError(
            absl::StrCat("deny_commands[", i, "]: '", Quotable(command),
                         "' is not a single command name (no spaces or control characters)"));
      }
    }
    list->commands_.insert(command);
  }
  return std::shared_ptr<const DenyList>(std::move(list));
}

absl::string_view CommandName(const Request& request) {
  if (!request.command.empty()) {
    return request.command;
  }
  return request.args.empty() ? absl::string_view() : request.args[0];
}

std::string UnsupportedMessage(const Request& request, const Codec& codec) {
  const absl::string_view name = CommandName(request);
  if (name.empty()) {
    return "unknown or unsupported command";
  }
  const absl::string_view reason = codec.UnsupportedReason(name);
  if (!reason.empty()) {
    return absl::StrCat("unsupported command '", Quotable(name), "': ", reason);
  }
  if (!request.command.empty()) {
    // Known to the codec, classified as not proxiable, no specific explanation.
    return absl::StrCat("unsupported command '", Quotable(name), "': it is not proxied");
  }
  return absl::StrCat("unknown or unsupported command '", Quotable(name), "'");
}

std::string DisabledMessage(const Request& request) {
  return absl::StrCat("command '", Quotable(CommandName(request)), "' is disabled on this pool");
}

FilterStatus RejectUnsupportedFilter::OnRequest(Request& request, FilterCallbacks& callbacks) {
  if (!deny_->empty() && deny_->Contains(CommandName(request))) {
    callbacks.SendLocalError(DisabledMessage(request));
    return FilterStatus::kStop;
  }
  if (request.kind == CommandKind::kUnsupported) {
    callbacks.SendLocalError(UnsupportedMessage(request, callbacks.Pool().PoolCodec()));
    return FilterStatus::kStop;
  }
  return FilterStatus::kContinue;
}

}  // namespace proxy::filters::reject_unsupported

// Rejection texts and the per-request check of the reject_unsupported filter.
#include "filters/reject_unsupported/reject_unsupported_filter.h"

#include <cstdint>
#include <initializer_list>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/command_text.h"

namespace proxy::filters::reject_unsupported {

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


std::string DisabledMessage(const Request& request) {
  return absl::StrCat("command '", Quotable(CommandName(request)), "' is disabled on this pool");
}

FilterStatus RejectUnsupportedFilter::OnRequest(Request& request, FilterCallbacks& callbacks) {
  if (!deny_->empty() && deny_->Contains(CommandName(request))) {
    callbacks.SendLocalError(DisabledMessage(request));
    return FilterStatus::kStop;
  }
  if (request.kind == CommandKind::kUnsupported) {
    callbacks.SendLocalError(UnsupportedCommandText(request, callbacks.Pool().PoolCodec()));
    return FilterStatus::kStop;
  }
  return FilterStatus::kContinue;
}

}  // namespace proxy::filters::reject_unsupported

#include "api/command_text.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace proxy {

absl::string_view CommandName(const Request& request) {
  if (!request.command.empty()) return request.command;
  return request.args.empty() ? absl::string_view() : request.args[0];
}

std::string Quotable(absl::string_view name) {
  std::string out;
  const size_t n = std::min(name.size(), kMaxQuotedName);
  out.reserve(n + 3);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  if (n < name.size()) out.append("...");
  return out;
}

std::string UnsupportedCommandText(const Request& request, const Codec& codec) {
  const absl::string_view name = CommandName(request);
  if (name.empty()) return "unknown or unsupported command";
  const absl::string_view reason = codec.UnsupportedReason(name);
  if (!reason.empty()) return absl::StrCat("unsupported command '", Quotable(name), "': ", reason);
  if (!request.command.empty()) {
    // Known to the codec, classified as not proxiable, no specific explanation.
    return absl::StrCat("unsupported command '", Quotable(name), "': it is not proxied");
  }
  return absl::StrCat("unknown or unsupported command '", Quotable(name), "'");
}

}  // namespace proxy

#include "filters/common/command_text.h"

#include <algorithm>

namespace proxy::filters::common {

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

}  // namespace proxy::filters::common

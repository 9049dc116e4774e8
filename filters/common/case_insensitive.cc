// FNV-1a over upper-cased bytes; absl's case-insensitive comparison.
#include "filters/common/case_insensitive.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace proxy::filters::common {

size_t CaseInsensitiveHash::operator()(absl::string_view s) const {
  uint64_t h = 14695981039346656037ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(absl::ascii_toupper(static_cast<unsigned char>(c)));
    h *= 1099511628211ull;
  }
  return static_cast<size_t>(h);
}

bool CaseInsensitiveEq::operator()(absl::string_view a, absl::string_view b) const {
  return absl::EqualsIgnoreCase(a, b);
}

}  // namespace proxy::filters::common

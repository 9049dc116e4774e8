// ASCII case-insensitive hashing and equality for command-name sets and maps, so that a
// request's command is looked up without an upper-cased copy ("get" finds "GET").
#pragma once

#include <cstddef>

#include "absl/strings/string_view.h"

namespace proxy::filters::common {

struct CaseInsensitiveHash {
  using is_transparent = void;
  size_t operator()(absl::string_view s) const;
};

struct CaseInsensitiveEq {
  using is_transparent = void;
  bool operator()(absl::string_view a, absl::string_view b) const;
};

}  // namespace proxy::filters::common

// The one_at_a_time hash: Bob Jenkins' one-at-a-time over sign-extended bytes.
#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace proxy::hashes {

// Bit-exact with twemproxy 0.5.0 on x86-64; allocation-free and thread-safe.
uint32_t OneAtATimeHash(absl::string_view key);

}  // namespace proxy::hashes

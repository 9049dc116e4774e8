// The fnv1a_64 hash (twemproxy's default): FNV-1a with the low halves of the 64-bit constants.
#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace proxy::hashes {

// Bit-exact with twemproxy 0.5.0 on x86-64; allocation-free and thread-safe.
uint32_t Fnv1aHash64(absl::string_view key);

}  // namespace proxy::hashes

// The fnv1_64 hash: 64-bit FNV-1 over sign-extended bytes, low 32 bits returned.
#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace proxy::hashes {

// Bit-exact with twemproxy 0.5.0 on x86-64; allocation-free and thread-safe.
uint32_t Fnv1Hash64(absl::string_view key);

}  // namespace proxy::hashes

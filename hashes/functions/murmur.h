// The murmur hash: MurmurHash2 seeded from the key length (twemproxy's variant).
#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace proxy::hashes {

// Bit-exact with twemproxy 0.5.0 on x86-64; allocation-free and thread-safe.
uint32_t MurmurHash(absl::string_view key);

}  // namespace proxy::hashes

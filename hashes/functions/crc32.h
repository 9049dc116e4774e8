// The crc32 hash: libmemcached's 15-bit variant of CRC-32 (bits 16..30 of the CRC).
#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace proxy::hashes {

// Bit-exact with twemproxy 0.5.0 on x86-64; allocation-free and thread-safe.
uint32_t Crc32Hash(absl::string_view key);

}  // namespace proxy::hashes

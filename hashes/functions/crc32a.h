// The crc32a hash: the standard IEEE CRC-32 (zlib's crc32).
#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace proxy::hashes {

// Bit-exact with twemproxy 0.5.0 on x86-64; allocation-free and thread-safe.
uint32_t Crc32aHash(absl::string_view key);

}  // namespace proxy::hashes

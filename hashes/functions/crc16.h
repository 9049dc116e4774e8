// The crc16 hash: CRC-16/XMODEM with twemproxy's unmasked 32-bit running value.
#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace proxy::hashes {

// Bit-exact with twemproxy 0.5.0 on x86-64; allocation-free and thread-safe.
uint32_t Crc16Hash(absl::string_view key);

}  // namespace proxy::hashes

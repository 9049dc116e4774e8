// Compile-time CRC lookup tables shared by the crc16, crc32 and crc32a hash plugins.
#pragma once

#include <array>
#include <cstdint>

namespace proxy::hashes {

// CRC-16/XMODEM: polynomial 0x1021, MSB-first. T[i] is the CRC of the single byte i.
constexpr std::array<uint32_t, 256> MakeCrc16Table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i << 8;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
    }
    table[i] = crc & 0xFFFF;
  }
  return table;
}

// Reflected CRC-32 (IEEE): polynomial 0xEDB88320, LSB-first.
constexpr std::array<uint32_t, 256> MakeCrc32Table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
    }
    table[i] = crc;
  }
  return table;
}

inline constexpr std::array<uint32_t, 256> kCrc16Table = MakeCrc16Table();
inline constexpr std::array<uint32_t, 256> kCrc32Table = MakeCrc32Table();

static_assert(kCrc16Table[1] == 0x1021, "CRC-16/XMODEM table");
static_assert(kCrc32Table[1] == 0x77073096, "CRC-32 table");

}  // namespace proxy::hashes

// MD5 message digest (RFC 1321), written from the RFC's algorithm description.
#include "hashes/common/md5.h"

#include <cstring>

namespace proxy::hashes {
namespace {

// T[i] = floor(2^32 * abs(sin(i + 1))), RFC 1321 section 3.4.
constexpr uint32_t kSine[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

// Left-rotation amounts, four per round.
constexpr int kShift[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

constexpr size_t kBlockSize = 64;

inline uint32_t RotateLeft(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

inline uint32_t LoadLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

inline void StoreLe32(uint32_t v, uint8_t* p) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v >> 16);
  p[3] = static_cast<uint8_t>(v >> 24);
}

// Runs the four rounds over one 64-byte block and adds the result into `state`.
void ProcessBlock(const uint8_t* block, uint32_t state[4]) {
  uint32_t x[16];
  for (int i = 0; i < 16; ++i) {
    x[i] = LoadLe32(block + 4 * i);
  }
  uint32_t a = state[0];
  uint32_t b = state[1];
  uint32_t c = state[2];
  uint32_t d = state[3];
  for (int i = 0; i < 64; ++i) {
    const int round = i / 16;
    uint32_t f;
    int word;
    if (round == 0) {
      f = (b & c) | (~b & d);
      word = i;
    } else if (round == 1) {
      f = (b & d) | (c & ~d);
      word = (5 * i + 1) % 16;
    } else if (round == 2) {
      f = b ^ c ^ d;
      word = (3 * i + 5) % 16;
    } else {
      f = c ^ (b | ~d);
      word = (7 * i) % 16;
    }
    const uint32_t rotated = b + RotateLeft(a + f + x[word] + kSine[i], kShift[round][i % 4]);
    a = d;
    d = c;
    c = b;
    b = rotated;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
}

}  // namespace

void Md5(absl::string_view in, uint8_t out[kMd5DigestSize]) {
  uint32_t state[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
  const auto* data = reinterpret_cast<const uint8_t*>(in.data());
  const size_t size = in.size();

  size_t offset = 0;
  for (; size - offset >= kBlockSize; offset += kBlockSize) {
    ProcessBlock(data + offset, state);
  }

  // Padding: 0x80, zeros up to 56 mod 64, then the bit length as a little-endian uint64.
  uint8_t tail[2 * kBlockSize] = {};
  const size_t rest = size - offset;
  if (rest > 0) {
    std::memcpy(tail, data + offset, rest);
  }
  tail[rest] = 0x80;
  const size_t tail_size = rest < kBlockSize - 8 ? kBlockSize : 2 * kBlockSize;
  const uint64_t bit_length = static_cast<uint64_t>(size) * 8;
  StoreLe32(static_cast<uint32_t>(bit_length), tail + tail_size - 8);
  StoreLe32(static_cast<uint32_t>(bit_length >> 32), tail + tail_size - 4);
  for (size_t block = 0; block < tail_size; block += kBlockSize) {
    ProcessBlock(tail + block, state);
  }

  for (int i = 0; i < 4; ++i) {
    StoreLe32(state[i], out + 4 * i);
  }
}

}  // namespace proxy::hashes

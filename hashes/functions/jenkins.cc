// The jenkins hash plugin: Bob Jenkins' lookup3 hashlittle with initial value 13, as "jenkins".
#include "hashes/functions/jenkins.h"

#include "api/hash.h"
#include "api/registry.h"
#include "hashes/functions/function_hash.h"

namespace proxy::hashes {
namespace {

constexpr uint32_t kInitialValue = 13;

inline uint32_t Rotate(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

// lookup3's reversible mix of three 32-bit values.
inline void Mix(uint32_t& a, uint32_t& b, uint32_t& c) {
  a -= c;
  a ^= Rotate(c, 4);
  c += b;
  b -= a;
  b ^= Rotate(a, 6);
  a += c;
  c -= b;
  c ^= Rotate(b, 8);
  b += a;
  a -= c;
  a ^= Rotate(c, 16);
  c += b;
  b -= a;
  b ^= Rotate(a, 19);
  a += c;
  c -= b;
  c ^= Rotate(b, 4);
  b += a;
}

// lookup3's final mixing of three 32-bit values into c.
inline void Final(uint32_t& a, uint32_t& b, uint32_t& c) {
  c ^= b;
  c -= Rotate(b, 14);
  a ^= c;
  a -= Rotate(c, 11);
  b ^= a;
  b -= Rotate(a, 25);
  c ^= b;
  c -= Rotate(b, 16);
  a ^= c;
  a -= Rotate(c, 4);
  b ^= a;
  b -= Rotate(a, 14);
  c ^= b;
  c -= Rotate(b, 24);
}

}  // namespace

uint32_t JenkinsHash(absl::string_view key) {
  const auto* p = reinterpret_cast<const uint8_t*>(key.data());
  size_t remaining = key.size();
  uint32_t a = 0xdeadbeef + static_cast<uint32_t>(remaining) + kInitialValue;
  uint32_t b = a;
  uint32_t c = a;
  if (remaining == 0) {
    return c;
  }
  for (; remaining > 12; remaining -= 12, p += 12) {
    a += LoadLe32(p);
    b += LoadLe32(p + 4);
    c += LoadLe32(p + 8);
    Mix(a, b, c);
  }
  // The last 1..12 bytes, zero-padded to three little-endian words.
  uint8_t tail[12] = {};
  for (size_t i = 0; i < remaining; ++i) {
    tail[i] = p[i];
  }
  a += LoadLe32(tail);
  b += LoadLe32(tail + 4);
  c += LoadLe32(tail + 8);
  Final(a, b, c);
  return c;
}

namespace {

class JenkinsHashFactory final : public FunctionHashFactory<&JenkinsHash> {
 public:
  JenkinsHashFactory()
      : FunctionHashFactory("jenkins", "Bob Jenkins' lookup3 hashlittle, initial value 13") {}
};

}  // namespace

PROXY_REGISTER_FACTORY(JenkinsHashFactory, ::proxy::HashFunctionFactory)

}  // namespace proxy::hashes

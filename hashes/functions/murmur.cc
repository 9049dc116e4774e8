// The murmur hash plugin: MurmurHash2 seeded from the key length, registered as "murmur".
#include "hashes/functions/murmur.h"

#include "api/hash.h"
#include "api/registry.h"
#include "hashes/functions/function_hash.h"

namespace proxy::hashes {

uint32_t MurmurHash(absl::string_view key) {
  constexpr uint32_t kMultiplier = 0x5bd1e995;
  const auto length = static_cast<uint32_t>(key.size());
  const auto* p = reinterpret_cast<const uint8_t*>(key.data());
  uint32_t h = (0xdeadbeef * length) ^ length;
  for (size_t words = key.size() / 4; words > 0; --words, p += 4) {
    uint32_t k = LoadLe32(p);
    k *= kMultiplier;
    k ^= k >> 24;
    k *= kMultiplier;
    h *= kMultiplier;
    h ^= k;
  }
  switch (key.size() % 4) {
    case 3:
      h ^= static_cast<uint32_t>(p[2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<uint32_t>(p[1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= p[0];
      h *= kMultiplier;
      break;
    default:
      break;
  }
  h ^= h >> 13;
  h *= kMultiplier;
  h ^= h >> 15;
  return h;
}

namespace {

class MurmurHashFactory final : public FunctionHashFactory<&MurmurHash> {
 public:
  MurmurHashFactory()
      : FunctionHashFactory("murmur", "MurmurHash2, seed derived from the key length") {}
};

}  // namespace

PROXY_REGISTER_FACTORY(MurmurHashFactory, ::proxy::HashFunctionFactory)

}  // namespace proxy::hashes

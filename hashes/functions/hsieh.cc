// The hsieh hash plugin: SuperFastHash with initial value 0, registered as "hsieh".
#include "hashes/functions/hsieh.h"

#include "api/hash.h"
#include "api/registry.h"
#include "hashes/functions/function_hash.h"

namespace proxy::hashes {

uint32_t HsiehHash(absl::string_view key) {
  if (key.empty()) {
    return 0;
  }
  const auto* p = reinterpret_cast<const uint8_t*>(key.data());
  uint32_t h = 0;  // twemproxy starts at 0, not at the length as the original does.
  for (size_t blocks = key.size() / 4; blocks > 0; --blocks, p += 4) {
    h += LoadLe16(p);
    const uint32_t t = (LoadLe16(p + 2) << 11) ^ h;
    h = (h << 16) ^ t;
    h += h >> 11;
  }
  switch (key.size() % 4) {
    case 3:
      h += LoadLe16(p);
      h ^= h << 16;
      // The one signed read: the third tail byte goes through plain (signed) char.
      h ^= SignExtend32(static_cast<char>(p[2])) << 18;
      h += h >> 11;
      break;
    case 2:
      h += LoadLe16(p);
      h ^= h << 11;
      h += h >> 17;
      break;
    case 1:
      h += p[0];
      h ^= h << 10;
      h += h >> 1;
      break;
    default:
      break;
  }
  h ^= h << 3;
  h += h >> 5;
  h ^= h << 4;
  h += h >> 17;
  h ^= h << 25;
  h += h >> 6;
  return h;
}

namespace {

class HsiehHashFactory final : public FunctionHashFactory<&HsiehHash> {
 public:
  HsiehHashFactory()
      : FunctionHashFactory("hsieh", "Paul Hsieh's SuperFastHash, initial value 0") {}
};

}  // namespace

PROXY_REGISTER_FACTORY(HsiehHashFactory, ::proxy::HashFunctionFactory)

}  // namespace proxy::hashes

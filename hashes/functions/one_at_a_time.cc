// The one_at_a_time hash plugin: Jenkins' one-at-a-time hash, registered as "one_at_a_time".
#include "hashes/functions/one_at_a_time.h"

#include "api/hash.h"
#include "api/registry.h"
#include "hashes/functions/function_hash.h"

namespace proxy::hashes {

uint32_t OneAtATimeHash(absl::string_view key) {
  uint32_t h = 0;
  for (char byte : key) {
    h += SignExtend32(byte);
    h += h << 10;
    h ^= h >> 6;
  }
  h += h << 3;
  h ^= h >> 11;
  h += h << 15;
  return h;
}

namespace {

class OneAtATimeFactory final : public FunctionHashFactory<&OneAtATimeHash> {
 public:
  OneAtATimeFactory()
      : FunctionHashFactory("one_at_a_time", "Bob Jenkins' one-at-a-time hash (signed bytes)") {}
};

}  // namespace

PROXY_REGISTER_FACTORY(OneAtATimeFactory, ::proxy::HashFunctionFactory)

}  // namespace proxy::hashes

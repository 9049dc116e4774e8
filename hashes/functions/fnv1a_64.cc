// The fnv1a_64 hash plugin (twemproxy's default), registered as "fnv1a_64".
#include "hashes/functions/fnv1a_64.h"

#include "api/hash.h"
#include "api/registry.h"
#include "hashes/functions/function_hash.h"

namespace proxy::hashes {

uint32_t Fnv1aHash64(absl::string_view key) {
  // Despite the name, twemproxy computes this in 32 bits with the low halves of the 64-bit
  // FNV offset basis and prime (the prime's low half is just 0x1b3).
  uint32_t h = 0x84222325;
  for (char byte : key) {
    h ^= SignExtend32(byte);
    h *= 0x000001b3;
  }
  return h;
}

namespace {

class Fnv1aHash64Factory final : public FunctionHashFactory<&Fnv1aHash64> {
 public:
  Fnv1aHash64Factory()
      : FunctionHashFactory("fnv1a_64",
                            "twemproxy's default: FNV-1a with 32-bit halves of the 64-bit "
                            "constants") {}
};

}  // namespace

PROXY_REGISTER_FACTORY(Fnv1aHash64Factory, ::proxy::HashFunctionFactory)

}  // namespace proxy::hashes

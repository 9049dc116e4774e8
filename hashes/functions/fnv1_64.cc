// The fnv1_64 hash plugin: 64-bit FNV-1 over sign-extended bytes, low 32 bits, as "fnv1_64".
#include "hashes/functions/fnv1_64.h"

#include "api/hash.h"
#include "api/registry.h"
#include "hashes/functions/function_hash.h"

namespace proxy::hashes {

uint32_t Fnv1Hash64(absl::string_view key) {
  uint64_t h = 0xcbf29ce484222325;
  for (char byte : key) {
    h *= 0x100000001b3;
    h ^= SignExtend64(byte);
  }
  return static_cast<uint32_t>(h);
}

namespace {

class Fnv1Hash64Factory final : public FunctionHashFactory<&Fnv1Hash64> {
 public:
  Fnv1Hash64Factory()
      : FunctionHashFactory("fnv1_64", "64-bit FNV-1, low 32 bits (signed bytes)") {}
};

}  // namespace

PROXY_REGISTER_FACTORY(Fnv1Hash64Factory, ::proxy::HashFunctionFactory)

}  // namespace proxy::hashes

// The fnv1_32 hash plugin: 32-bit FNV-1 over sign-extended bytes, registered as "fnv1_32".
#include "hashes/functions/fnv1_32.h"

#include "api/hash.h"
#include "api/registry.h"
#include "hashes/functions/function_hash.h"

namespace proxy::hashes {

uint32_t Fnv1Hash32(absl::string_view key) {
  uint32_t h = 0x811C9DC5;
  for (char byte : key) {
    h *= 0x01000193;
    h ^= SignExtend32(byte);
  }
  return h;
}

namespace {

class Fnv1Hash32Factory final : public FunctionHashFactory<&Fnv1Hash32> {
 public:
  Fnv1Hash32Factory() : FunctionHashFactory("fnv1_32", "32-bit FNV-1 (signed bytes)") {}
};

}  // namespace

PROXY_REGISTER_FACTORY(Fnv1Hash32Factory, ::proxy::HashFunctionFactory)

}  // namespace proxy::hashes

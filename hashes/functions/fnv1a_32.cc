// The fnv1a_32 hash plugin: 32-bit FNV-1a over sign-extended bytes, registered as "fnv1a_32".
#include "hashes/functions/fnv1a_32.h"

#include "api/hash.h"
#include "api/registry.h"
#include "hashes/functions/function_hash.h"

namespace proxy::hashes {

uint32_t Fnv1aHash32(absl::string_view key) {
  uint32_t h = 0x811C9DC5;
  for (char byte : key) {
    h ^= SignExtend32(byte);
    h *= 0x01000193;
  }
  return h;
}

namespace {

class Fnv1aHash32Factory final : public FunctionHashFactory<&Fnv1aHash32> {
 public:
  Fnv1aHash32Factory() : FunctionHashFactory("fnv1a_32", "32-bit FNV-1a (signed bytes)") {}
};

}  // namespace

PROXY_REGISTER_FACTORY(Fnv1aHash32Factory, ::proxy::HashFunctionFactory)

}  // namespace proxy::hashes

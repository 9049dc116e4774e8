// The md5 hash plugin: the key's MD5 digest bytes 0..3 as a little-endian uint32, as "md5".
#include "hashes/functions/md5.h"

#include "api/hash.h"
#include "api/registry.h"
#include "hashes/common/md5.h"
#include "hashes/functions/function_hash.h"

namespace proxy::hashes {

uint32_t Md5Hash(absl::string_view key) {
  uint8_t digest[kMd5DigestSize];
  Md5(key, digest);
  return LoadLe32(digest);
}

namespace {

class Md5HashFactory final : public FunctionHashFactory<&Md5Hash> {
 public:
  Md5HashFactory() : FunctionHashFactory("md5", "MD5 digest, first 4 bytes little-endian") {}
};

}  // namespace

PROXY_REGISTER_FACTORY(Md5HashFactory, ::proxy::HashFunctionFactory)

}  // namespace proxy::hashes

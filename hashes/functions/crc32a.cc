// The crc32a hash plugin: the standard IEEE CRC-32 (as zlib computes it), as "crc32a".
#include "hashes/functions/crc32a.h"

#include "api/hash.h"
#include "api/registry.h"
#include "hashes/functions/crc_tables.h"
#include "hashes/functions/function_hash.h"

namespace proxy::hashes {

uint32_t Crc32aHash(absl::string_view key) {
  uint32_t crc = 0xFFFFFFFF;
  for (char byte : key) {
    crc = (crc >> 8) ^ kCrc32Table[(crc ^ static_cast<uint8_t>(byte)) & 0xFF];
  }
  return crc ^ 0xFFFFFFFF;
}

namespace {

class Crc32aHashFactory final : public FunctionHashFactory<&Crc32aHash> {
 public:
  Crc32aHashFactory() : FunctionHashFactory("crc32a", "standard IEEE CRC-32 (zlib's crc32)") {}
};

}  // namespace

PROXY_REGISTER_FACTORY(Crc32aHashFactory, ::proxy::HashFunctionFactory)

}  // namespace proxy::hashes

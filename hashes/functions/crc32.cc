// The crc32 hash plugin: libmemcached-compatible CRC-32 reduced to 15 bits, as "crc32".
#include "hashes/functions/crc32.h"

#include "api/hash.h"
#include "api/registry.h"
#include "hashes/functions/crc_tables.h"
#include "hashes/functions/function_hash.h"

namespace proxy::hashes {

uint32_t Crc32Hash(absl::string_view key) {
  uint32_t crc = 0xFFFFFFFF;
  for (char byte : key) {
    crc = (crc >> 8) ^ kCrc32Table[(crc ^ SignExtend32(byte)) & 0xFF];
  }
  return ((~crc) >> 16) & 0x7FFF;
}

namespace {

class Crc32HashFactory final : public FunctionHashFactory<&Crc32Hash> {
 public:
  Crc32HashFactory()
      : FunctionHashFactory("crc32", "libmemcached CRC-32: 15 bits of the IEEE CRC (0..32767)") {}
};

}  // namespace

PROXY_REGISTER_FACTORY(Crc32HashFactory, ::proxy::HashFunctionFactory)

}  // namespace proxy::hashes

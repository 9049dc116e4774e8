// The crc16 hash plugin: CRC-16/XMODEM whose 32-bit running value is never masked, as "crc16".
#include "hashes/functions/crc16.h"

#include "api/hash.h"
#include "api/registry.h"
#include "hashes/functions/crc_tables.h"
#include "hashes/functions/function_hash.h"

namespace proxy::hashes {

uint32_t Crc16Hash(absl::string_view key) {
  // twemproxy keeps the CRC in a 32-bit integer and returns it whole: the low 16 bits are the
  // XMODEM CRC, the high bits the shifted-out history. Sign extension of the byte is masked off.
  uint32_t crc = 0;
  for (char byte : key) {
    crc = (crc << 8) ^ kCrc16Table[((crc >> 8) ^ SignExtend32(byte)) & 0xFF];
  }
  return crc;
}

namespace {

class Crc16HashFactory final : public FunctionHashFactory<&Crc16Hash> {
 public:
  Crc16HashFactory()
      : FunctionHashFactory("crc16", "CRC-16/XMODEM with an unmasked 32-bit result") {}
};

}  // namespace

PROXY_REGISTER_FACTORY(Crc16HashFactory, ::proxy::HashFunctionFactory)

}  // namespace proxy::hashes

// Feeds arbitrary bytes to every decoder at every split point; any crash, sanitizer report or
// contract violation is a bug (bad input must never crash the proxy).
#include "test/protocols/fuzz/decoder_fuzz.h"

#include <cstdlib>
#include <string>

#include "protocols/memcache/binary_reply_decoder.h"
#include "protocols/memcache/binary_request_decoder.h"
#include "protocols/memcache/reply_decoder.h"
#include "protocols/memcache/request_decoder.h"
#include "protocols/redis/reply_decoder.h"
#include "protocols/redis/request_decoder.h"
#include "test/fakes/string_buffer.h"

namespace proxy::test {
namespace {

template <class Decoder, class Message, class... Options>
void Drive(const std::string& wire, size_t chunk, const DecoderLimits& limits,
           Options... options) {
  StringBuffer buffer("", chunk);
  Decoder decoder(limits, options...);
  Message message;
  std::string error;
  for (char byte : wire) {
    buffer.Append(std::string(1, byte));
    for (;;) {
      const DecodeResult result = decoder.Decode(buffer, &message, &error);
      if (result == DecodeResult::kNeedMoreData || result == DecodeResult::kProtocolError) break;
      // The contract: a message or an invalid request names bytes that are in the buffer.
      if (message.wire_size == 0 || message.wire_size > buffer.Length()) std::abort();
      buffer.Drain(message.wire_size);
    }
  }
}

}  // namespace

void FuzzDecoders(const uint8_t* data, size_t size) {
  if (size < 1) return;
  const size_t chunk = data[0] % 8;
  const std::string wire(reinterpret_cast<const char*>(data + 1), size - 1);
  DecoderLimits limits;
  limits.max_message_bytes = 1 << 20;
  limits.max_key_bytes = 64;
  limits.max_args = 1000;
  Drive<protocols::redis::RedisRequestDecoder, Request>(wire, chunk, limits);
  Drive<protocols::redis::RedisReplyDecoder, Reply>(wire, chunk, limits);
  Drive<protocols::redis::RedisReplyDecoder, Reply>(wire, chunk, limits, /*resp3=*/true);
  Drive<protocols::memcache::MemcacheRequestDecoder, Request>(wire, chunk, limits);
  Drive<protocols::memcache::MemcacheReplyDecoder, Reply>(wire, chunk, limits);
  Drive<protocols::memcache::BinaryRequestDecoder, Request>(wire, chunk, limits);
  Drive<protocols::memcache::BinaryReplyDecoder, Reply>(wire, chunk, limits);
}

}  // namespace proxy::test

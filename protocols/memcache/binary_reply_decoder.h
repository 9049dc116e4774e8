// Resumable memcache binary-protocol reply decoder for the binary server connections
// (MemcacheBinaryCodec, variant 1): frames responses by their header and groups the hits of a
// quiet multi-get with the response that ends it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "api/buffer.h"
#include "api/codec.h"

namespace proxy::protocols::memcache {

// Decodes one reply per call (contract: api/codec.h ReplyDecoder).
//
//   reply    = *quiet-hit final                  ; what one forwarded request gets back
//   quiet-hit = response with opcode getq, getkq, gatq or gatkq
//   final    = response with any other opcode    ; a fragment always ends with a noop
//   response = header(24) extras key value       ; magic 0x81, data type 0,
//                                                ; key + extras <= body length
//
// The proxy forwards single requests with exactly one response (quiet mutations are refused)
// and quiet gets only in batches that end with a noop (the client's or the proxy's), so a
// response whose opcode is not a quiet get always ends a reply. Reply::is_error is set when the
// final response's status is neither success nor one of the ordinary outcomes (not found,
// exists, not stored). Anything else, and a reply over DecoderLimits::max_message_bytes
// (detected from the headers, before buffering the bodies), is kProtocolError: the server
// connection must be closed.
class BinaryReplyDecoder final : public ReplyDecoder {
 public:
  explicit BinaryReplyDecoder(const DecoderLimits& limits);

  DecodeResult Decode(const Buffer& in, Reply* out, std::string* error) override;

 private:
  DecodeResult Fail(std::string text, std::string* error);

  DecoderLimits limits_;
  size_t pos_ = 0;  // bytes of the current reply already framed (whole responses)
  bool failed_ = false;
  std::string failure_;
};

}  // namespace proxy::protocols::memcache

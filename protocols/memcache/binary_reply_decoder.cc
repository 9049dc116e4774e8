// BinaryReplyDecoder: response framing and quiet-hit grouping.
#include "protocols/memcache/binary_reply_decoder.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "protocols/memcache/binary_protocol.h"

namespace proxy::protocols::memcache {

BinaryReplyDecoder::BinaryReplyDecoder(const DecoderLimits& limits) : limits_(limits) {}

DecodeResult BinaryReplyDecoder::Fail(std::string text, std::string* error) {
  failed_ = true;
  failure_ = std::move(text);
  *error = failure_;
  return DecodeResult::kProtocolError;
}

DecodeResult BinaryReplyDecoder::Decode(const Buffer& in, Reply* out, std::string* error) {
  if (failed_) {
    *error = failure_;
    return DecodeResult::kProtocolError;
  }
  for (;;) {
    const size_t length = in.Length();
    if (length < pos_ + binary::kHeaderSize) {
      return DecodeResult::kNeedMoreData;
    }
    char bytes[binary::kHeaderSize];
    in.CopyOut(pos_, binary::kHeaderSize, bytes);
    const binary::Header h = binary::ParseHeader(bytes);
    if (h.magic != binary::kResponseMagic) {
      return Fail(absl::StrCat("binary reply with magic byte 0x", absl::Hex(h.magic),
                               " (a response starts with 0x81)"),
                  error);
    }
    if (h.data_type != 0) {
      return Fail(absl::StrCat("binary reply with data type 0x", absl::Hex(h.data_type)), error);
    }
    if (static_cast<uint64_t>(h.key_length) + h.extras_length > h.body_length) {
      return Fail(absl::StrCat("binary reply with key length ", h.key_length,
                               " + extras length ", h.extras_length, " over its body length ",
                               h.body_length),
                  error);
    }
    const uint64_t end = static_cast<uint64_t>(pos_) + binary::kHeaderSize + h.body_length;
    if (end > limits_.max_message_bytes) {
      return Fail(absl::StrCat("reply exceeds the proxy's limit of ", limits_.max_message_bytes,
                               " bytes"),
                  error);
    }
    if (length < end) {
      return DecodeResult::kNeedMoreData;
    }
    pos_ = static_cast<size_t>(end);
    if (binary::IsQuietGet(h.opcode)) {
      continue;  // a hit of a quiet batch: the batch's noop response follows
    }
    out->Reset();
    out->wire_size = pos_;
    out->is_error = h.status != binary::kSuccess && h.status != binary::kKeyNotFound &&
                    h.status != binary::kKeyExists && h.status != binary::kNotStored;
    pos_ = 0;
    return DecodeResult::kMessage;
  }
}

}  // namespace proxy::protocols::memcache

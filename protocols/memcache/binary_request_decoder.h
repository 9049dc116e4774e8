// Resumable memcache binary-protocol request decoder for client connections whose first byte is
// 0x80 (MemcacheCodec::ForClient): frames each request by its header, checks its lengths exactly
// as memcached 1.6.18 does before forwarding it, and gathers quiet multi-gets into one request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "api/buffer.h"
#include "api/codec.h"
#include "protocols/memcache/binary_protocol.h"

namespace proxy::protocols::memcache {

// Request::codec_flags bits of binary requests (every decoded binary request has kBinary).
// Request::command_id is the opcode and Request::codec_tag the opaque (of the client's noop for
// a batch that ends with one, else of the batch's first quiet get): errors and refusals echo
// them (MemcacheBinaryCodec::EncodeErrorFor).
namespace binary_flags {
inline constexpr uint16_t kBinary = 0x8000;
inline constexpr uint16_t kBatch = 0x4000;        // a quiet multi-get batch (kMultiKey)
inline constexpr uint16_t kClientNoop = 0x2000;   // the batch ends with the client's noop
inline constexpr uint16_t kStatusHint = 0x1000;   // the low byte is the status for an error
inline constexpr uint16_t kStatusMask = 0x00ff;
}  // namespace binary_flags

inline bool IsBinaryRequest(const Request& request) {
  return (request.codec_flags & binary_flags::kBinary) != 0;
}

// Decodes one client request per call (contract: api/codec.h RequestDecoder).
//
// Safety rule, as for ASCII (request_decoder.h): the proxy shares each memcached connection
// among its clients, so a request is forwarded only when memcached frames it exactly as this
// decoder does. memcached frames a binary request by the header's total body length, but only
// after checking the key and extras lengths for the opcode; where it does not check (touch and
// gat accept a body longer than extras + key and would then read the rest as the next request)
// the proxy checks more.
//
//   request = header(24) extras key value      ; body length = extras + key + value
//   header  = magic(0x80) opcode key-length(2) extras-length data-type(0) vbucket(2)
//             body-length(4) opaque(4) cas(8)   ; big-endian
//
//   opcode                         extras  key     value    treatment
//   get getk                       0       1-250   none     forwarded (kRead, one key)
//   gat gatk                       4       1-250   none     forwarded (kRead)
//   set add replace                8       1-250   any      forwarded (kWrite)
//   append prepend                 0       1-250   any      forwarded (kWrite)
//   delete                         0       1-250   none     forwarded (kWrite)
//   incr decr                      20      1-250   none     forwarded (kWrite)
//   touch                          4       1-250   none     forwarded (kWrite)
//   getq getkq gatq gatkq          0/4     1-250   none     a quiet batch (below)
//   noop version quit quitq        0       0       none     kLocal (MemcacheBinarySession)
//   flush(q) stat verbosity sasl*  any     0-250   any      kUnsupported: refused by the
//   setq addq replaceq appendq                              session with status 0x0083, never
//   prependq deleteq incrq decrq                            forwarded
//   anything else                  any     0-250   any      kInvalidRequest, status 0x0081
//
// The vbucket field is forwarded unchanged (memcached ignores it); a data type other than 0
// (raw bytes) is an invalid request (status 0x0004, the body skipped, the connection stays).
//
// Quiet batch: a run of quiet gets is ONE kMultiKey request (args = the keys, in order). It
// ends at the first request that is not a quiet get:
//   - a valid noop belongs to the batch (kClientNoop): the batch's reply is the hits in request
//     order followed by the noop's response, exactly what memcached answers;
//   - anything else (a get, a set, a refused or bad request) is NOT part of the batch: the batch
//     is returned without it (no kClientNoop) and that request is decoded next. The codec then
//     always splits the batch (also for one server) and ends each fragment with the proxy's own
//     noop, whose response is dropped: the client gets just the hits, then the next request's
//     reply, as from memcached.
//   A batch also ends (without kClientNoop) before a quiet get that would take it past
//   DecoderLimits::max_args keys or max_message_bytes; the rest forms the next batch, which the
//   client cannot tell apart. A batch whose end has not arrived waits (memcached would answer
//   hits early; clients always end a batch with noop or another request).
//   `rewritten` (has_rewrite = false) holds, per key, the opcode (1 byte), the opaque (4 bytes)
//   and for gatq/gatkq the extras (4 bytes); Split() rebuilds the requests from them.
//
// Results (`error` is the text of the error response; `out` has the opcode and opaque):
//   kProtocolError (memcached closes the connection on all of these too): magic other than
//   0x80, key + extras > body, extras/key/body lengths not as in the table, a key over 250
//   bytes (or DecoderLimits::max_key_bytes), a body over 2^31 - 3 bytes (memcached's value length
//   is an int and it allocates value + 2 bytes: beyond that it would read the body as requests),
//   a request over DecoderLimits::max_message_bytes.
//   A batch before the bad header is returned first.
//   kInvalidRequest (wire_size = the whole request, skipped): unknown opcode, data type not 0.
class BinaryRequestDecoder final : public RequestDecoder {
 public:
  explicit BinaryRequestDecoder(const DecoderLimits& limits);

  DecodeResult Decode(const Buffer& in, Request* out, std::string* error) override;

 private:
  // Returns the batch gathered so far as one request of `wire_size` bytes.
  DecodeResult FinishBatch(Request* out, size_t wire_size, bool client_noop, uint32_t noop_opaque);
  DecodeResult Fail(const binary::Header& header, std::string text, Request* out,
                    std::string* error);
  // Why memcached would close on this header (empty when it frames it like us).
  std::string HeaderProblem(const binary::Header& header) const;
  void Start(const binary::Header& header, const binary::OpcodeSpec& spec, size_t wire_size,
             Request* out) const;

  DecoderLimits limits_;
  size_t max_key_size_;
  // The quiet batch in progress: its bytes so far, keys and per-key opcode/opaque/extras.
  size_t pos_ = 0;
  ArgList keys_;
  std::string ops_;
  uint8_t first_opcode_ = 0;
  uint32_t first_opaque_ = 0;
  // A protocol error is sticky.
  bool failed_ = false;
  std::string failure_;
  uint8_t failed_opcode_ = 0;
  uint32_t failed_opaque_ = 0;
  std::string key_;  // scratch
};

}  // namespace proxy::protocols::memcache

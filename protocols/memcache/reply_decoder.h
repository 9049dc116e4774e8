// Resumable memcache ASCII reply decoder for server connections: finds where each reply ends
// (a whole VALUE...END retrieval is one reply; data blocks are skipped by length) and flags
// error replies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "api/buffer.h"
#include "api/codec.h"

namespace proxy::protocols::memcache {

// Decodes one server reply per call (contract: api/codec.h ReplyDecoder).
//
// Wire grammar (memcached 1.6 replies):
//
//   reply      = retrieval / meta-value / status
//   retrieval  = *value "END" CRLF                    ; get/gets/gat/gats: one reply in all
//   value      = "VALUE" SP key SP flags SP bytes [SP cas] CRLF data CRLF  ; data: bytes octets
//   meta-value = "VA" SP size *(SP flag) CRLF data CRLF                     ; mg/ma with v
//   status     = ( "STORED" / "NOT_STORED" / "EXISTS" / "NOT_FOUND" / "DELETED" / "TOUCHED"
//                / "OK" / "MN" / number
//                / ( "HD" / "NS" / "EX" / "NF" / "EN" ) *( SP flag )
//                / "ME" SP text / "VERSION" [SP text]
//                / "ERROR" [SP text] / "CLIENT_ERROR" [SP text] / "SERVER_ERROR" [SP text]
//                ) CRLF
//   number     = 1*20DIGIT                            ; incr/decr result
//
// Lines end in CRLF (memcached never sends a bare LF) and are at most kMaxLineSize bytes.
// Reply::is_error is set for ERROR, CLIENT_ERROR and SERVER_ERROR; memcache has no transient
// failure replies, so Reply::server_failure is never set. Anything else is
// kProtocolError (the server connection must be closed), as is a reply larger than
// DecoderLimits::max_message_bytes (detected from a VALUE/VA header, before buffering it).
class MemcacheReplyDecoder final : public ReplyDecoder {
 public:
  explicit MemcacheReplyDecoder(const DecoderLimits& limits);

  DecodeResult Decode(const Buffer& in, Reply* out, std::string* error) override;

  // Longest reply line accepted (VALUE lines carry keys of at most 250 bytes).
  static constexpr size_t kMaxLineSize = 8192;

 private:
  // Decoder states, one per position in the grammar above.
  enum class State : uint8_t {
    kLine,    // looking for the LF of the line that starts at line_start_
    kData,    // skipping a data block by length (data_remaining_ bytes left)
    kDataCr,  // expects the CR after a data block
    kDataLf,  // expects the LF after the data block's CR
    kFailed,  // a protocol error was returned; the connection is unusable
  };

  // What a complete line means for the reply.
  enum class Step : uint8_t {
    kReplyDone,  // the reply is complete
    kData,       // a data block follows (state_ is kData)
    kError,      // failure_ holds the protocol error
  };

  // Advances pos_ past the line's LF; false when it has not arrived (or after Fail()).
  bool FindLineEnd(const Buffer& in, size_t length, size_t* line_end);
  Step ParseLine(const Buffer& in, size_t line_end);
  // A VALUE or VA header: `size_token` is the data length.
  Step StartData(absl::string_view size_token, absl::string_view line);
  Step Fail(std::string text);
  void Finish(Reply* out);

  DecoderLimits limits_;
  State state_ = State::kLine;
  size_t pos_ = 0;         // bytes of the current reply scanned so far
  size_t line_start_ = 0;  // where the current line starts
  uint64_t data_size_ = 0;
  uint64_t data_remaining_ = 0;
  bool in_retrieval_ = false;  // VALUE blocks were seen: only VALUE or END may follow
  bool meta_value_ = false;    // the current data block belongs to VA and ends the reply
  bool is_error_ = false;
  std::string failure_;
  // Scratch: a line straddling buffer chunks (copied once) and its tokens.
  std::string line_;
  std::vector<absl::string_view> tokens_;
};

}  // namespace proxy::protocols::memcache

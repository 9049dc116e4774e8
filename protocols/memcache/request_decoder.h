// Resumable memcache ASCII request decoder for client connections: finds each command line and
// data block (skipped by length) and classifies the request through the command table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "api/buffer.h"
#include "api/codec.h"
#include "protocols/memcache/command_table.h"

namespace proxy::protocols::memcache {

// Decodes one client request per call (contract: api/codec.h RequestDecoder).
//
// Wire grammar (memcached 1.6 text protocol, as memcached itself reads it):
//
//   request   = line [ data-block ]
//   line      = *SP token *( 1*SP token ) *SP ( CRLF / LF )   ; bare LF accepted, as memcached
//   token     = 1*( any byte but SP, LF )                      ; split at ' ' only
//   data-block = <bytes> octets CRLF                           ; storage commands and ms only
//
//   get|gets  <key>+                       gat|gats <exptime> <key>+
//   set|add|replace|append|prepend <key> <flags> <exptime> <bytes> [noreply]   + data-block
//   cas       <key> <flags> <exptime> <bytes> <cas unique> [noreply]           + data-block
//   incr|decr <key> <delta> [noreply]      touch <key> <exptime> [noreply]
//   delete    <key> [0] [noreply]          ; the legacy "0" is accepted, as memcached 1.6 does
//   mg|md|ma|me <key> <flag>*              ms <key> <datalen> <flag>*          + data-block
//   mn                                     version                 quit
//   stats|flush_all|verbosity|shutdown|cache_memlimit|slabs|lru|lru_crawler|watch|extstore|
//   misbehave|debugtime <arg>*             ; known, not proxied
//
//   key = 1..250 bytes, no control characters (0x00-0x1f, 0x7f); numbers as memcached's
//   strtol/strtoull checks; `noreply` means "the last token is exactly noreply" (memcached's
//   set_noreply_maybe). Command names are lower case only.
//
// Line limits: at most kMaxLineSize bytes before the line end, except for get/gets/gat/gats
// (large multi-gets, which memcached allows too), whose line may grow to
// DecoderLimits::max_message_bytes. Data blocks are skipped by length, never scanned.
//
// What a decoded Request holds:
//   get/gets/gat/gats  args = the keys; kRead with one key, kMultiKey with several. For a
//                      kMultiKey gat/gats, `rewritten` holds the exptime token with has_rewrite
//                      = false (api/codec.h has no codec-private field for it; Split() reads it
//                      there; it is never sent because has_rewrite stays false, unless a
//                      key-rewriting filter replaces it with the whole rewritten request).
//   other keyed        args = {key}, kRead/kWrite (meta commands route by the raw key token, also
//                      with the b flag); expects_reply = false with noreply.
//   version            args = {"placeholder"}, synthetic_key.
//   mn, quit           kLocal, no args (MemcacheSession answers them).
//   admin commands     kUnsupported, command = the name, args = {name}.
//
// Results and error texts (`error` is what Codec::EncodeError turns into the client's reply):
//   kInvalidRequest (the line, and its data block when its length is known, are dropped; the
//   connection stays open):
//     unknown command / empty line / wrong token count   "ERROR" (memcached's reply)
//     invalid key, bad numbers with a known data length  "CLIENT_ERROR bad command line format"
//     delete <key> <not 0>                               memcached's delete usage text
//     gat/gats with a bad exptime                        "CLIENT_ERROR invalid exptime argument"
//     a meta command with the q flag                     "CLIENT_ERROR quiet mode (q flag) is not
//                                                        supported by the proxy"
//     more keys than DecoderLimits::max_args             a SERVER_ERROR text
//   and "" (no reply at all, with expects_reply = false) instead of the CLIENT_ERROR texts when
//   the request says noreply, as memcached stays silent then (MemcacheCodec::EncodeError("")
//   appends nothing).
//   kProtocolError (reply, then the connection closes; every later call returns it again):
//     storage/ms line whose data length cannot be known  "CLIENT_ERROR bad command line format"
//     data block not followed by CRLF                    "CLIENT_ERROR bad data chunk"
//     a line over kMaxLineSize (not a multi-get)         "CLIENT_ERROR line too long"
//     a data block over max_message_bytes                "object too large for the proxy: ..."
//                                                        (the limit bounds the data block; its
//                                                        line adds at most kMaxLineSize bytes)
//     a binary-protocol request (magic byte 0x80)        a SERVER_ERROR text
//     an admin command with noreply                      a SERVER_ERROR text (refusing it with a
//                                                        reply would break the client's stream)
class MemcacheRequestDecoder final : public RequestDecoder {
 public:
  explicit MemcacheRequestDecoder(const DecoderLimits& limits);

  DecodeResult Decode(const Buffer& in, Request* out, std::string* error) override;

  // memcached's limit for a line without its end (except multi-gets).
  static constexpr size_t kMaxLineSize = 2048;

 private:
  // Decoder states, one per position in the grammar above.
  enum class State : uint8_t {
    kLine,    // looking for the LF that ends the command line (bytes before pos_ have none)
    kData,    // skipping a data block by length (data_remaining_ bytes left)
    kDataCr,  // expects the CR after a data block
    kDataLf,  // expects the LF after the data block's CR
    kFailed,  // a protocol error was returned; the stream is unusable
  };

  // What a complete line turned out to be.
  enum class LineResult : uint8_t {
    kDone,      // `out` and the return value are set
    kNeedData,  // a data block follows: state_ is kData
  };

  // Advances pos_ to the line's LF; false when it has not arrived (or after Fail()).
  bool FindLineEnd(const Buffer& in, size_t length, size_t* line_end);
  // The first bytes of an over-long line decide whether it may go on (multi-gets only).
  bool LongLineAllowed(absl::string_view head) const;
  LineResult ParseLine(const Buffer& in, size_t line_end, Request* out, std::string* error,
                       DecodeResult* result);
  // A get/gets line over kMaxLineSize bytes: counted and checked in place, then parsed straight
  // into `out` (no token list), so that its cost stays a small multiple of its size.
  DecodeResult ParseLongRetrieval(const Buffer& in, size_t line_end, Request* out,
                                  std::string* error);
  std::string TooManyKeys() const;
  // Classifies the tokens of a line that needs no data block.
  DecodeResult Classify(const CommandSpec& spec, Request* out, std::string* error);
  // Storage and ms lines: checks the line and starts skipping its data block.
  LineResult StartData(const CommandSpec& spec, absl::string_view line, Request* out,
                       std::string* error, DecodeResult* result);
  DecodeResult FinishData(const Buffer& in, Request* out, std::string* error);
  DecodeResult Done(DecodeResult result, Request* out);
  // `noreply`: the request said noreply (`text` is then empty and expects_reply false).
  DecodeResult Invalid(const CommandSpec* spec, std::string text, Request* out, std::string* error,
                       bool noreply = false);
  DecodeResult Fail(std::string text, Request* out, std::string* error);
  void ResetMessage();

  DecoderLimits limits_;
  size_t max_key_size_;
  State state_ = State::kLine;
  size_t pos_ = 0;               // bytes of the current request scanned so far
  bool long_line_ok_ = false;    // the current line is a multi-get allowed past kMaxLineSize
  uint64_t data_remaining_ = 0;  // data block bytes (kData) not yet skipped
  // A line with a data block, remembered until the block has been skipped.
  const CommandSpec* spec_ = nullptr;
  size_t key_offset_ = 0;
  size_t key_size_ = 0;
  bool expects_reply_ = true;
  DecodeResult pending_result_ = DecodeResult::kMessage;
  std::string pending_error_;
  std::string failure_;
  // Scratch: a line straddling buffer chunks (copied once) and its tokens.
  std::string line_;
  std::vector<absl::string_view> tokens_;
};

}  // namespace proxy::protocols::memcache

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
// Safety rule (the proxy shares one connection per memcached among all its clients and forwards
// the client's bytes): a request is forwarded only when memcached 1.6.18 certainly frames it
// exactly as this decoder does (same line end, same data-block length, same number of replies);
// everything else is answered here and never reaches a server.
//
// Wire grammar (memcached 1.6 text protocol, restricted to what memcached frames like us):
//
//   request   = line [ data-block ]
//   line      = *SP token *( 1*SP token ) *SP [ CR ] LF      ; bare LF accepted, as memcached
//   token     = 1*( byte 0x21-0x7e or 0x80-0xff )            ; split at ' ' only
//   data-block = <bytes> octets CRLF                           ; storage commands and ms only
//
//   get|gets  <key>+                       gat|gats <exptime> <key>+
//   set|add|replace|append|prepend <key> <flags> <exptime> <bytes> [noreply]   + data-block
//   cas       <key> <flags> <exptime> <bytes> <cas unique> [noreply]           + data-block
//   incr|decr <key> <delta> [noreply]      touch <key> <exptime> [noreply]
//   delete    <key> [0] [noreply]          ; the legacy "0" is accepted, as memcached 1.6 does
//   mg|md|ma  <key> <flag>*                me <key> [b]
//   ms <key> <datalen> <flag>*             + data-block
//   mn                                     version                 quit
//   stats|flush_all|verbosity|shutdown|cache_memlimit|slabs|lru|lru_crawler|watch|extstore|
//   misbehave|debugtime <arg>*             ; known, kUnsupported: MemcacheSession refuses them
//                                          ; before the filter chain runs, never forwarded
//
// The rules, each against a measured memcached 1.6.18 behaviour:
//   - Control bytes: a line holding any byte 0x00-0x1f or 0x7f, other than the one CR right
//     before the LF, is refused (memcached's tokenizer stops at a NUL, its strtol stops at CR,
//     TAB...). When only the key token holds them, the line is refused as memcached refuses a bad
//     key (a storage line's block skipped by its clean length). Otherwise, when its first token,
//     with control bytes left out, names a storage command or ms, the data length cannot be
//     trusted: error, then the connection closes.
//   - Line length: at most kMaxLineSize (2048) bytes before the LF, CR included (memcached
//     closes a connection holding 2049 bytes without an LF), except get/gets starting within 100
//     leading spaces, which may grow to DecoderLimits::max_message_bytes. gat/gats are not
//     exempt (memcached closes on them too).
//   - key = 1..250 bytes (memcached drops the replies it has queued when a get key is longer).
//   - Numbers as memcached's safe_strto*: optional '+', digits, leading zeros fine; storage
//     <flags> <= 2^32-1, <exptime> and gat's exptime within a signed 32-bit range, <cas> <= 2^64-1,
//     <bytes> <= 2^31-3. (memcached refuses a bad storage number *without* reading the data
//     block and runs the block as commands; the proxy skips the block itself.)
//   - `noreply` means "the last token is exactly noreply" (memcached's set_noreply_maybe).
//   - Meta commands: at most kMaxMetaTokens (19) tokens (memcached refuses more than 20 with its
//     empty last token, for ms before reading the data length); flags are single letters from
//     a per-command list (mg: b c f h k l O s t u v N R T; ms: b c C F I k O s T M N; md: b C I k
//     O T; ma: b c C D J k M N O t T v), each at most once; b c f h I k l s t u v take no value,
//     O at most 31 bytes, T N R a signed 32-bit number, C D J an unsigned 64-bit one, F an
//     unsigned 32-bit one, M one mode (ms: E A P R S; ma: I D + -); with b the key is canonical
//     base64. q (quiet mode) is refused: its replies could not be counted.
//   - Command names are lower case only; a request starting with 0x80 (binary magic) closes the
//     connection (a connection whose very first byte is 0x80 is given the binary decoder instead,
//     binary_request_decoder.h).
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
//   admin commands     kUnsupported, command = the name, args = {name}; MemcacheSession answers
//                      "CLIENT_ERROR unsupported command '<name>': <reason>".
//
// Cost: a line of at most 2048 bytes is tokenized once, in place when it lies in one buffer
// chunk. A longer get/gets line is first counted where it lies (more than
// DecoderLimits::max_args keys are refused without any copy), then copied once and its keys
// go straight into Request::args: no per-key token list.
//
// Results and error texts (`error` is what Codec::EncodeError turns into the client's reply):
//   kInvalidRequest (the line, and its data block when its length is known, are dropped; the
//   connection stays open):
//     unknown command / empty line / wrong token count   "ERROR" (memcached's reply)
//     a control byte (only in the key token, or in a     "CLIENT_ERROR bad command line format"
//     line that carries no data block)                   (silent for a dirty key with a clean
//                                                        noreply, as memcached for a bad key)
//     invalid key, bad numbers with a known data length  "CLIENT_ERROR bad command line format"
//     delete <key> <not 0>                               memcached's delete usage text
//     gat/gats with a bad exptime                        "CLIENT_ERROR invalid exptime argument"
//     meta flags                                         memcached's texts: "CLIENT_ERROR options
//                                                        flags are too long", "... invalid
//                                                        flag", "... duplicate flag", "... bad
//                                                        token in command line format", "...
//                                                        opaque token too long", "... error
//                                                        decoding key"
//     a meta command with the q flag                     "CLIENT_ERROR quiet mode (q flag) is not
//                                                        supported by the proxy"
//     more keys than DecoderLimits::max_args             a SERVER_ERROR text
//   and "" (no reply at all, with expects_reply = false) instead of the CLIENT_ERROR texts when
//   the request says noreply, as memcached stays silent then (MemcacheCodec::EncodeError("")
//   appends nothing).
//   kProtocolError (reply, then the connection closes; every later call returns it again):
//     storage/ms line whose data length cannot be known  "CLIENT_ERROR bad command line format"
//     a control byte outside the key of a line that may  "CLIENT_ERROR bad command line format:
//     carry a data block                                 control character in the command line"
//     data block not followed by CRLF                    "CLIENT_ERROR bad data chunk"
//     a line over kMaxLineSize (not a get/gets)          "CLIENT_ERROR line too long"
//     a data block over max_message_bytes                "object too large for the proxy: ..."
//                                                        (the limit bounds the data block; its
//                                                        line adds at most kMaxLineSize bytes)
//     a byte 0x80 (binary magic) starting a request      a SERVER_ERROR text (a connection whose
//     after ASCII requests                               first byte is 0x80 gets the binary codec
//                                                        instead: MemcacheCodec::ForClient)
//     an admin command with noreply                      a CLIENT_ERROR text (refusing it with a
//                                                        reply would break the client's stream)
//
// MemcacheCodec keeps what it builds within the same limits: Split() fragments carry a subset
// of the request's keys (a gat fragment is never longer than its line), and RewriteKeys()
// refuses a mapped key over 250 bytes or a rewritten non-get line over kMaxLineSize.
class MemcacheRequestDecoder final : public RequestDecoder {
 public:
  explicit MemcacheRequestDecoder(const DecoderLimits& limits);

  DecodeResult Decode(const Buffer& in, Request* out, std::string* error) override;

  // memcached's limit for the bytes before a line's LF, CR included (except get/gets).
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
  // A line holding control bytes: refused (kData when a storage line's block is to be skipped).
  DecodeResult RefuseControlBytes(const CommandSpec* spec, absl::string_view line, Request* out,
                                  std::string* error);
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

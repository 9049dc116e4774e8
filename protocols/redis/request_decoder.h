// Resumable RESP2 request decoder for client connections: arrays of bulk strings and inline
// commands, classified through the command table into proxy::Request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "api/buffer.h"
#include "api/codec.h"

namespace proxy::protocols::redis {

// Splits one inline request line (without its line end; NUL-terminated, and a NUL byte ends it)
// into `args` the way redis's sdssplitargs does (the `inline` rule below). `args` is cleared
// first; an all-blank line leaves it empty. False, with a protocol error text in `error`, on
// unbalanced quotes or an empty command name.
bool SplitInlineArgs(const char* line, ArgList* args, absl::string_view* error);

// Decodes one client request per call (contract: api/codec.h RequestDecoder).
//
// Wire grammar (RESP2 requests, plus redis's inline form for telnet-style clients):
//
//   request  = *blank ( array / inline )
//   array    = "*" count CRLF count( bulk )         ; 1 <= count <= max_args
//   bulk     = "$" length CRLF payload CRLF          ; 0 <= length; payload = length bytes
//   count, length = "0" / %x31-39 *DIGIT            ; no sign, no leading zeros (as redis)
//   inline   = line ( CRLF / LF )                    ; line split like redis's sdssplitargs:
//                                                    ; space-separated, "..." with \n \r \t \b
//                                                    ; \a \\ \" \xHH escapes, '...' with \'
//   blank    = a line of only white space (ignored, like redis; its bytes join the next request)
//
// Bulk payloads are skipped by length, never scanned. Only the arguments a command needs are
// copied into Request::args, after the whole request arrived (never for kNeedMoreData).
//
// What a decoded Request holds, by kind:
//   kRead/kWrite  args = the keys (Key(0) routes). colocated_keys when there are several
//                 (SINTER, RPOPLPUSH, EVAL's keys...): they must all live on one server.
//                 COMMAND and LOLWUT: args = {"placeholder"}, synthetic_key = true.
//   kMultiKey     args = every argument after the name (MGET/DEL/UNLINK/TOUCH/EXISTS: keys;
//                 MSET: key, value, key, value... with key_step = 2).
//   kLocal        args = the arguments after the name (PING, QUIT, ECHO, SELECT, AUTH).
//   kUnsupported  args[0] = the upper-case command name: `command` is the canonical name for
//                 commands redis has but the proxy does not proxy (KEYS, MULTI...), and empty
//                 for unknown commands, whose name (the client's, upper-cased, at most 128
//                 bytes) is then only in args[0]. KeyCount() is meaningless for this kind.
//
// Results: kInvalidRequest (wrong arity, bad numkeys, a key longer than max_key_bytes) leaves
// the stream in sync; kProtocolError (bad framing, limits) does not, and every later call
// returns it again. `error` never carries the "-ERR " prefix: the caller passes it to
// Codec::EncodeError.
class RedisRequestDecoder final : public RequestDecoder {
 public:
  explicit RedisRequestDecoder(const DecoderLimits& limits);

  DecodeResult Decode(const Buffer& in, Request* out, std::string* error) override;

  // Longest inline line (redis's PROTO_INLINE_MAX_SIZE); also the most blank-line bytes
  // accepted before a request (they stay in the input buffer until the request completes).
  static constexpr size_t kMaxInlineSize = 64 * 1024;

  // Where one bulk payload lies, relative to the start of the request.
  struct ArgRange {
    size_t offset;
    size_t size;
  };

 private:
  // Decoder states, one per position in the grammar above.
  enum class State : uint8_t {
    kStart,      // before a request: '*' starts an array, anything else an inline line
    kCount,      // after '*': digits of the argument count, until '\r'
    kCountLf,    // after the count's '\r': expects '\n'
    kDollar,     // expects the '$' of the next bulk string
    kLength,     // after '$': digits of the bulk length, until '\r'
    kLengthLf,   // after the length's '\r': expects '\n'
    kPayload,    // skipping the payload by length (bulk_remaining_ bytes left)
    kPayloadCr,  // expects '\r' after the payload
    kPayloadLf,  // expects '\n' after the payload's '\r'
    kInline,     // inside an inline line (from line_start_), looking for '\n'
    kFailed,     // a protocol error was returned; the stream is unusable
  };

  // What Scan() stopped on.
  enum class Step : uint8_t {
    kSliceDone,  // the whole slice was consumed
    kRepeek,     // a payload continues past the slice: skip it by arithmetic, peek again
    kArrayDone,  // the last bulk of an array ended
    kLineDone,   // an inline line ended
    kError,      // failure_ holds the protocol error
  };

  Step Scan(const char* data, size_t size);
  // Digits of a count or length; false (after Fail()) on a bad byte.
  bool AddDigit(char c, const char* what);
  Step Fail(std::string text);
  // Returns the (sticky) protocol error of failure_ with `out` reset.
  DecodeResult ProtocolError(Request* out, std::string* error);
  DecodeResult Finish(const Buffer& in, bool is_inline, Request* out, std::string* error);
  // Splits the inline line [line_start_, pos_) into inline_args_; false on unbalanced quotes.
  bool SplitInline(const Buffer& in);
  void ResetMessage();

  DecoderLimits limits_;
  State state_ = State::kStart;
  size_t pos_ = 0;       // bytes of the current request scanned so far
  uint64_t number_ = 0;  // the count or length being read
  uint32_t digits_ = 0;  // digits of number_ read so far
  uint64_t args_expected_ = 0;
  size_t bulk_size_ = 0;       // size of the current bulk payload
  size_t bulk_remaining_ = 0;  // payload bytes not yet skipped
  size_t line_start_ = 0;      // kInline: where the line starts
  std::vector<ArgRange> ranges_;
  std::string failure_;
  // Scratch for inline requests (reused).
  std::string line_;
  ArgList inline_args_;
};

}  // namespace proxy::protocols::redis

// Resumable RESP2 request decoder for client connections: arrays of bulk strings and inline
// commands, classified through the command table into proxy::Request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "api/buffer.h"
#include "api/codec.h"
#include "protocols/redis/auth.h"

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
//   array    = "*" count CRLF count( bulk )         ; 1 <= count <= max_args (and INT_MAX)
//   bulk     = "$" length CRLF payload CRLF          ; 0 <= length <= 512 MiB and max_message_bytes
//   count, length = %x31-39 *17DIGIT / "0"          ; as redis's string2ll: no '+', no spaces,
//                                                    ; no leading zeros; no '-' (see below)
//   inline   = line ( CRLF / LF )                    ; line split like redis's sdssplitargs:
//                                                    ; space-separated, "..." with \n \r \t \b
//                                                    ; \a \\ \" \xHH escapes, '...' with \'
//   blank    = a line of only white space            ; redis answers nothing to it
//
// The framing rules. The proxy shares one connection per server among all its clients and
// forwards a request's bytes, so it accepts only what redis 7 frames exactly the same way, and
// never forwards anything redis would not answer exactly once:
//
//   * Array requests are forwarded as received (no copy), and only when every header is exactly
//     what redis's string2ll accepts and every CRLF is present where redis's framing skips two
//     bytes without looking at them (after a header's '\r', after a payload). Redis itself
//     does not check those bytes; the proxy refuses anything else there, so the two never
//     disagree on where a request ends.
//   * Inline requests are never forwarded as bytes: they are re-encoded as a canonical RESP
//     array in Request::rewritten (has_rewrite), which the core sends instead. An inline line
//     holding a NUL byte is a protocol error (redis looks for the line end with strchr and
//     would wait forever, blocking every client of that server). The line is split exactly
//     like sdssplitargs (isspace() blanks between arguments, ' \t \r \n ends an unquoted
//     argument, quotes and escapes as above); unbalanced quotes are a protocol error, as in
//     redis.
//   * Blank lines get no reply from redis. The proxy consumes them with the next request (at
//     most kMaxInlineSize bytes of them) and never forwards them: a request preceded by blank
//     lines is sent from Request::rewritten (a copy of the request alone), so a backend only
//     ever receives requests that get exactly one reply.
//   * "*0" and "*-N" (any negative count), which redis also skips without a reply, are a
//     protocol error: never forwarded, and no client library sends them.
//     That copy (at most max_message_bytes) is the only one an array request can cost; client
//     libraries do not send blank lines before arrays, so the common path copies nothing.
//   * Redis's own limits: a line without its end longer than PROTO_INLINE_MAX_SIZE (64 KiB),
//     a bulk longer than proto-max-bulk-len (512 MiB, or max_message_bytes when smaller), more
//     than INT_MAX (or max_args) arguments. A request larger than max_message_bytes in total is
//     refused as well (redis's limit, client-query-buffer-limit, is 1 GiB).
//   * Before AUTH succeeds on a pool with redis_auth or client_auth (ClientAuth::required),
//     the limits of redis for unauthenticated clients apply: more than 10 arguments →
//     "Protocol error: unauthenticated multibulk length", a bulk longer than 16384 bytes →
//     "Protocol error: unauthenticated bulk length" (redis's texts), both checked on the header,
//     before any payload is buffered. The decoder sees every AUTH (and HELLO ... AUTH) and checks
//     it with the same functions as the session (auth.h), so both agree on when the client is
//     authenticated; a failed AUTH never revokes an earlier success (as in redis), RESET does
//     (the session's rule, protocols/redis/redis_codec.h).
//
// Every violation is kProtocolError: the client gets the error text and is closed; nothing of
// the offending request reaches a server.
//
// Bulk payloads are skipped by length, never scanned. Only the arguments a command needs are
// copied into Request::args, after the whole request arrived (never for kNeedMoreData).
//
// What a decoded Request holds, by kind (keys where FindKeys, protocols/redis/command_table.h,
// finds them: RewriteKeys maps the same positions):
//   kRead/kWrite  args = the keys (Key(0) routes). colocated_keys when there are several
//                 (SINTER, RPOPLPUSH, EVAL's keys...): they must all live on one server.
//                 COMMAND, LOLWUT and INFO: args = {"placeholder"}, synthetic_key = true;
//                 INFO also broadcast = true, codec_flags = its sections (protocols/redis/info.h).
//   kMultiKey     args = every argument after the name (MGET/DEL/UNLINK/TOUCH/EXISTS: keys;
//                 MSET: key, value, key, value... with key_step = 2).
//   kLocal        args = the arguments after the name (PING, QUIT, ECHO, SELECT, AUTH, HELLO,
//                 CLIENT, RESET, MULTI...).
//   kUnsupported  args[0] = the upper-case command name: `command` is the canonical name for
//                 commands redis has but the proxy does not proxy (KEYS, MULTI, COPY with a DB
//                 option...), and empty for unknown commands, whose name (the client's,
//                 upper-cased, at most 128 bytes) is then only in args[0]. KeyCount() is
//                 meaningless for this kind.
//
// Results: kInvalidRequest (wrong arity, bad numkeys, a key longer than max_key_bytes) leaves
// the stream in sync; kProtocolError (bad framing, limits) does not, and every later call
// returns it again. `error` never carries the "-ERR " prefix: the caller passes it to
// Codec::EncodeError.
class RedisRequestDecoder final : public RequestDecoder {
 public:
  // `password`: the pool's redis_auth ("" = none).
  explicit RedisRequestDecoder(const DecoderLimits& limits, absl::string_view password = {});
  // `auth`: the pool's client credentials (auth.h); it must outlive the decoder (the codec's).
  RedisRequestDecoder(const DecoderLimits& limits, const ClientAuth* auth);
  // auth_ may point into the decoder itself.
  RedisRequestDecoder(const RedisRequestDecoder&) = delete;
  RedisRequestDecoder& operator=(const RedisRequestDecoder&) = delete;

  DecodeResult Decode(const Buffer& in, Request* out, std::string* error) override;

  // Longest inline line (redis's PROTO_INLINE_MAX_SIZE); also the most blank-line bytes
  // accepted before a request (they stay in the input buffer until the request completes).
  static constexpr size_t kMaxInlineSize = 64 * 1024;
  // redis's proto-max-bulk-len default: a longer bulk is "invalid bulk length" to redis.
  static constexpr uint64_t kProtoMaxBulkLen = 512ull << 20;
  // redis's multibulk count limit.
  static constexpr uint64_t kMaxMultibulkCount = 2147483647;
  // redis's limits for clients that have not authenticated yet.
  static constexpr uint64_t kUnauthMaxArgs = 10;
  static constexpr uint64_t kUnauthMaxBulk = 16384;

  // True once an AUTH with the right password was decoded (always true without a password).
  bool authenticated() const { return authenticated_; }
  // Between requests, and authenticated exactly as a new decoder of the same pool would be.
  bool AtRest() const override {
    return state_ == State::kStart && pos_ == 0 && prefix_end_ == 0 &&
           authenticated_ == !auth_->required();
  }

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
    kError,      // rare_->failure holds the protocol error
  };

  Step Scan(const char* data, size_t size);
  // Digits of a count or length; false (after Fail()) on a bad byte.
  bool AddDigit(char c, const char* what);
  Step Fail(std::string text);
  // Returns the (sticky) protocol error of rare_->failure with `out` reset.
  DecodeResult ProtocolError(Request* out, std::string* error);
  DecodeResult Finish(const Buffer& in, bool is_inline, Request* out, std::string* error);
  // Splits the inline line [line_start_, pos_) into rare_->inline_args; false on unbalanced
  // quotes.
  bool SplitInline(const Buffer& in);
  // Blank lines before the request now total prefix_end_ bytes; false (after Fail()) when
  // there are too many.
  bool SkipPrefix(size_t prefix_end);
  // After a decoded AUTH: marks the connection authenticated when its password is right.
  void TrackAuth(const Request& request);
  void ResetMessage();

  // What only inline requests (telnet-style lines), protocol errors and the password
  // constructor use, made on first need: one decoder per client connection, and most clients
  // never send either (issue 15: this kept the decoder at ~300 bytes per connection, now 136).
  struct Rare {
    std::string failure;
    // Scratch for inline requests (reused).
    std::string line;
    ArgList inline_args;
    ClientAuth own_auth;  // the redis_auth of the password constructor (auth_ points here)
  };
  Rare& rare() {
    if (rare_ == nullptr) rare_ = std::make_unique<Rare>();
    return *rare_;
  }

  // Ordered by size, so that padding costs nothing.
  DecoderLimits limits_;
  size_t pos_ = 0;       // bytes of the current request scanned so far
  uint64_t number_ = 0;  // the count or length being read
  uint64_t args_expected_ = 0;
  size_t bulk_size_ = 0;       // size of the current bulk payload
  size_t bulk_remaining_ = 0;  // payload bytes not yet skipped
  size_t line_start_ = 0;      // kInline: where the line starts
  size_t prefix_end_ = 0;      // blank-line bytes before the request
  const ClientAuth* auth_;
  std::vector<ArgRange> ranges_;
  std::unique_ptr<Rare> rare_;
  uint32_t digits_ = 0;  // digits of number_ read so far
  State state_ = State::kStart;
  bool authenticated_ = true;
};

}  // namespace proxy::protocols::redis

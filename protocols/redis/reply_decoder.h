// Resumable RESP2 reply decoder for server connections: finds where each reply ends (payloads
// skipped by length) and flags errors and transient server failures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "api/buffer.h"
#include "api/codec.h"

namespace proxy::protocols::redis {

// Decodes one server reply per call (contract: api/codec.h ReplyDecoder).
//
// Wire grammar (RESP2 replies):
//
//   reply   = simple / error / integer / bulk / array
//   simple  = "+" line CRLF                 ; line: any bytes but CR and LF
//   error   = "-" line CRLF
//   integer = ":" ["-"] 1*DIGIT CRLF
//   bulk    = "$" ( "-1" / length CRLF payload ) CRLF      ; payload = length bytes
//   array   = "*" ( "-1" / count ) CRLF count( reply )     ; nested at most kMaxDepth deep
//
// Reply::is_error is set for a top-level error; Reply::server_failure when its first word is
// OOM, BUSY or LOADING (passed to the client; counted as a server failure only when it answers the
// proxy's own AUTH/SELECT, see core/proxy/server_connection.cc). Anything
// else is kProtocolError (the server connection must be closed), as is a reply larger than
// DecoderLimits::max_message_bytes.
//
// Reply counting is what keeps a shared server connection in sync: the core pairs the n-th
// reply with the n-th forwarded request. The proxy never lets a connection leave RESP2 (HELLO,
// RESET, CLIENT, SUBSCRIBE and MONITOR are never forwarded, see request_decoder.h), so a
// RESP3 type byte (> _ # , ( = % ~ | !), a push message, an unknown type byte, a malformed
// header or a missing CRLF is never guessed at: it is kProtocolError and the connection is
// closed (its pending requests fail; nothing is paired with the wrong reply). Top-level arrays
// are one reply however many elements they hold; "*-1", "$-1" and "*0" are complete values.
class RedisReplyDecoder final : public ReplyDecoder {
 public:
  explicit RedisReplyDecoder(const DecoderLimits& limits);

  DecodeResult Decode(const Buffer& in, Reply* out, std::string* error) override;

  // Deepest array nesting accepted.
  static constexpr size_t kMaxDepth = 128;

 private:
  // Decoder states, one per position in the grammar above.
  enum class State : uint8_t {
    kType,       // expects the type byte of a reply or array element: + - : $ *
    kLine,       // inside a simple string or error line, looking for '\r'
    kInteger,    // inside an integer: optional '-', then digits until '\r'
    kLength,     // after '$': "-1" or digits until '\r'
    kCount,      // after '*': "-1" or digits until '\r'
    kLf,         // after a header's or line's '\r': expects '\n', then completes what it ends
    kPayload,    // skipping a bulk payload by length (bulk_remaining_ bytes left)
    kPayloadCr,  // expects '\r' after a payload
    kFailed,     // a protocol error was returned; the connection is unusable
  };

  // What the current header line is, so that kLf knows what its '\n' completes.
  enum class Header : uint8_t { kValue, kBulk, kArray };

  // What Scan() stopped on.
  enum class Step : uint8_t { kSliceDone, kRepeek, kDone, kError };

  Step Scan(const char* data, size_t size);
  Step Fail(std::string text);
  // A reply grew past max_message_bytes where no header announced its size.
  Step FailTooBig();
  // One value ended: pops finished arrays; true when the whole reply is complete.
  bool CompleteValue();
  // Digits of an integer, length or count; false (after Fail()) on a bad byte.
  bool AddDigit(char c, const char* what);
  // False (after Fail()) when a header announces a reply of more than max_message_bytes.
  bool CheckSize(uint64_t at_least);
  void Finish(const Buffer& in, Reply* out);

  DecoderLimits limits_;
  State state_ = State::kType;
  Header header_ = Header::kValue;
  size_t pos_ = 0;  // bytes of the current reply scanned so far
  uint64_t number_ = 0;
  uint32_t digits_ = 0;
  bool negative_ = false;
  size_t bulk_size_ = 0;
  size_t bulk_remaining_ = 0;
  // Elements still expected by each open array, outermost first.
  std::vector<uint64_t> stack_;
  // The reply is a top-level error whose text starts at error_start_ and ends at error_end_.
  bool top_error_ = false;
  size_t error_start_ = 0;
  size_t error_end_ = 0;
  std::string failure_;
};

}  // namespace proxy::protocols::redis

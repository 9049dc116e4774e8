// Resumable RESP2/RESP3 reply decoder for server connections: finds where each reply ends
// (payloads skipped by length) and flags errors and transient server failures.
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
// RESP3 (a decoder made with `resp3`, for the connections that sent HELLO 3 in their
// handshake, RedisCodec::Variant(1)) adds:
//
//   null    = "_" CRLF
//   boolean = "#" ( "t" / "f" ) CRLF
//   double  = "," line CRLF                 ; "1.5", "inf", "-inf", "nan", "1e+30"...
//   bignum  = "(" ["-"] 1*DIGIT CRLF         ; any number of digits
//   blobErr = "!" length CRLF payload CRLF   ; an error (the payload is its text)
//   verbatim= "=" length CRLF payload CRLF   ; "txt:..." / "mkd:..."
//   map     = "%" count CRLF count( reply reply )
//   set     = "~" count CRLF count( reply )
//   attr    = "|" count CRLF count( reply reply )   ; precedes a value and belongs to it: the
//                                                   ; value after it completes the reply (or
//                                                   ; the aggregate element)
//
// A push message (">") is kProtocolError even on a RESP3 connection: the proxy never subscribes
// nor enables tracking on a server connection, so a push would be paired with the wrong
// request. "!" at the top level sets Reply::is_error (and server_failure by its first word).
//
// Reply counting is what keeps a shared server connection in sync: the core pairs the n-th
// reply with the n-th forwarded request. The proxy never changes a server connection's protocol
// after its handshake (HELLO, RESET, CLIENT, SUBSCRIBE and MONITOR are never forwarded, see
// request_decoder.h), so on a RESP2 connection a RESP3 type byte (> _ # , ( = % ~ | !), and on
// any connection a push message, an unknown type byte, a malformed header or a missing CRLF is
// never guessed at: it is kProtocolError and the connection is closed (its pending requests
// fail; nothing is paired with the wrong reply). Top-level aggregates are one reply however
// many elements they hold; "*-1", "$-1", "*0", "%0", "~0" are complete values.
class RedisReplyDecoder final : public ReplyDecoder {
 public:
  // `resp3`: accept the RESP3 types (a connection whose handshake sent HELLO 3).
  explicit RedisReplyDecoder(const DecoderLimits& limits, bool resp3 = false);

  DecodeResult Decode(const Buffer& in, Reply* out, std::string* error) override;

  // Deepest aggregate nesting accepted (arrays, maps, sets, attributes).
  static constexpr size_t kMaxDepth = 128;

 private:
  // Decoder states, one per position in the grammar above.
  enum class State : uint8_t {
    kType,       // expects a type byte: + - : $ * (RESP3 also _ # , ( ! = % ~ |)
    kLine,       // inside a simple string, error or double line, looking for '\r'
    kInteger,    // inside an integer: optional '-', then digits until '\r'
    kBigNumber,  // inside a big number: optional '-', then any number of digits until '\r'
    kBoolean,    // after '#': 't' or 'f'
    kCr,         // expects the '\r' that ends a null or boolean
    kLength,     // after '$' '!' '=': "-1" (only '$') or digits until '\r'
    kCount,      // after '*' '%' '~' '|': "-1" (only '*') or digits until '\r'
    kLf,         // after a header's or line's '\r': expects '\n', then completes what it ends
    kPayload,    // skipping a bulk payload by length (bulk_remaining_ bytes left)
    kPayloadCr,  // expects '\r' after a payload
    kFailed,     // a protocol error was returned; the connection is unusable
  };

  // What the current header line is, so that kLf knows what its '\n' completes.
  enum class Header : uint8_t { kValue, kBulk, kArray };
  // An open aggregate: the elements it still expects; an attribute does not count as an
  // element of its parent (the value after it does).
  struct Frame {
    uint64_t remaining;
    bool attribute;
  };

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
  bool resp3_ = false;
  State state_ = State::kType;
  Header header_ = Header::kValue;
  size_t pos_ = 0;  // bytes of the current reply scanned so far
  uint64_t number_ = 0;
  uint32_t digits_ = 0;
  bool negative_ = false;
  char type_ = 0;  // the type byte of the current header (length or count)
  size_t bulk_size_ = 0;
  size_t bulk_remaining_ = 0;
  // Each open aggregate, outermost first.
  std::vector<Frame> stack_;
  // The reply is a top-level error whose text starts at error_start_ and ends at error_end_.
  bool top_error_ = false;
  bool attribute_empty_ = false;  // the header just read is "|0"
  size_t error_start_ = 0;
  size_t error_end_ = 0;
  std::string failure_;
};

}  // namespace proxy::protocols::redis

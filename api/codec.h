// Wire-protocol plugin interface (twemproxy's nc_proto.h table as classes): request and reply
// decoders, local error encoding, and splitting/merging of multi-key requests.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "api/buffer.h"

namespace proxy {

namespace config::v1 {
class Pool;
}  // namespace config::v1

// How the core and the filters treat a request.
enum class CommandKind : uint8_t {
  kRead,         // single key, forwarded
  kWrite,        // single key, forwarded
  kMultiKey,     // may be split across servers (MGET, DEL, get k1 k2 ...)
  kLocal,        // answered by the proxy itself (PING, QUIT, AUTH, mn)
  kUnsupported,  // well-formed but cannot be proxied (KEYS, MULTI, ...)
};

// One decoded request or reply. Its wire bytes stay in Bytes() and are forwarded verbatim.
class Message {
 public:
  virtual ~Message() = default;
  // Canonical command name: "GET" (redis, upper case), "get" (memcache). Empty for replies.
  virtual absl::string_view Command() const = 0;
  virtual CommandKind Kind() const = 0;
  virtual size_t KeyCount() const = 0;
  // Key `i` (< KeyCount()), always contiguous; valid while the message lives.
  virtual absl::string_view Key(size_t i) const = 0;
  virtual Buffer& Bytes() = 0;
};
using MessagePtr = std::unique_ptr<Message>;

enum class DecodeResult { kMessage, kNeedMoreData, kProtocolError };

// Per connection and direction; a resumable state machine holding all parse state.
class Decoder {
 public:
  virtual ~Decoder() = default;
  // Consumes from the front of `in`. kMessage: `*out` holds exactly one complete message.
  // kNeedMoreData: everything usable was consumed or remembered; call again with more bytes.
  // kProtocolError: the stream cannot be resynchronised; `error` (if non-null) says why.
  virtual DecodeResult Decode(Buffer& in, MessagePtr* out, std::string* error) = 0;
};
using DecoderPtr = std::unique_ptr<Decoder>;

// One piece of a split request and the index of the server it goes to.
struct Fragment {
  uint32_t server = 0;
  MessagePtr request;
};

// Stateless and shared by every connection of a pool.
class Codec {
 public:
  virtual ~Codec() = default;
  virtual DecoderPtr NewRequestDecoder() const = 0;
  virtual DecoderPtr NewResponseDecoder() const = 0;
  // Appends a protocol-correct error reply ("-ERR text\r\n", "SERVER_ERROR text\r\n").
  virtual void EncodeError(absl::string_view text, Buffer& out) const = 0;
  // Splits a kMultiKey request by server; an empty result means "forward as is".
  virtual std::vector<Fragment> Split(
      Message& request, absl::FunctionRef<uint32_t(absl::string_view)> server_of) const = 0;
  // Merges the fragments' replies (in Split()'s order) into one client reply appended to `out`.
  // Returns false when a reply has an unexpected type (the request then fails as a whole).
  virtual bool Merge(const Message& request, absl::Span<const MessagePtr> replies,
                     Buffer& out) const = 0;
};
using CodecPtr = std::unique_ptr<Codec>;

// A problem a protocol finds with a pool's settings, e.g. `redis_auth` on a memcache pool.
struct PoolConfigIssue {
  std::string key;      // the YAML key it concerns ("redis_auth")
  std::string message;  // what is wrong, without location (the validator adds file:line:col)
};

// Registered under the protocol's name: "redis", "memcache".
class CodecFactory {
 public:
  static constexpr absl::string_view kCategory = "protocol";
  virtual ~CodecFactory() = default;
  virtual absl::string_view Name() const = 0;
  virtual absl::string_view Description() const = 0;
  // Protocol-specific checks of a pool's settings; runs in `proxyctl check` too.
  virtual std::vector<PoolConfigIssue> ValidatePool(const config::v1::Pool& pool) const {
    return {};
  }
  virtual CodecPtr Create() const = 0;
};

}  // namespace proxy

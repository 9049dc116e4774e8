// The memcache binary-protocol Codec (variant 1 of a memcache pool) and its Session. See
// docs/memcache-binary.md for what is supported and why the rest is refused.
#pragma once

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "api/buffer.h"
#include "api/codec.h"

namespace proxy::protocols::memcache {

// Split bookkeeping shared by the ASCII and binary merges: every key index in [0, total) is
// carried by exactly one fragment.
bool EachKeyInOneFragment(absl::Span<const Fragment> fragments, size_t total);

// The version string a binary `version` request gets (answered by the proxy).
inline constexpr absl::string_view kBinaryVersion = "1.6.0-shardproxy";

// Stateless; owned by the pool's MemcacheCodec (`ascii`, variant 0), shared by every binary
// client connection and the binary server connections.
//
// Errors: every error is a binary response (magic 0x81) with the request's opcode and opaque
// (Request::command_id, Request::codec_tag) and the text as its value, so a client matches it
// to its request. Status: the decoder's hint for invalid requests (0x0081 unknown command,
// 0x0004 invalid arguments), 0x0084 (internal error) for failures (EncodeErrorFor: connection
// refused, timeouts, ...), 0x0083 (not supported) for refusals (EncodeRefusal). EncodeError
// (no request known) answers opcode 0x00 (get), opaque 0, status 0x0084.
class MemcacheBinaryCodec final : public Codec {
 public:
  explicit MemcacheBinaryCodec(const Codec* ascii) : ascii_(ascii) {}

  RequestDecoderPtr NewRequestDecoder(const DecoderLimits& limits) const override;
  ReplyDecoderPtr NewReplyDecoder(const DecoderLimits& limits) const override;
  SessionPtr NewSession() const override;
  void EncodeError(absl::string_view text, std::string* out) const override;
  void EncodeErrorFor(const Request& request, absl::string_view text,
                      std::string* out) const override;
  void EncodeRefusal(const Request& request, absl::string_view text,
                     std::string* out) const override;
  absl::string_view UnsupportedReason(absl::string_view command) const override;
  // Quiet batches (binary_request_decoder.h): one fragment per server in ascending server
  // order, each that server's quiet gets (original opcodes, opaques, extras and relative order;
  // vbucket and cas 0, which memcached ignores for gets) followed by a noop. Nothing when every
  // key maps to one server and the batch ends with the client's noop (it then goes as
  // received); a batch without the client's noop is always split, also for one server, since
  // it needs the proxy's noop to end its reply. Nothing for other requests.
  std::vector<Fragment> Split(const Request& request,
                              absl::Span<const uint32_t> key_servers) const override;
  // Each fragment reply must be quiet responses (each matching, in order, one of the
  // fragment's requests by opcode and opaque) followed by one noop response. The merged reply
  // has the responses in the ORIGINAL request order, then, when the client sent a noop, a noop
  // response with its opaque. False for anything else.
  bool Merge(const Request& request, absl::Span<const Fragment> fragments,
             absl::Span<const std::string> replies, std::string* out) const override;
  // Re-encodes every keyed request (a single one or each quiet get of a batch, the client's
  // noop copied) with the key replaced by map(key) and the key and body lengths fixed. False
  // for keyless requests or a mapped key that is empty or over 250 bytes.
  bool RewriteKeys(const Request& request, const Buffer& wire,
                   absl::FunctionRef<std::string(absl::string_view)> map,
                   std::string* out) const override;
  // Responses that carry a key (getk, getkq, gatk, gatkq, hits and misses) get map(key), with
  // their lengths fixed; false when no response of the reply carries a key.
  bool RewriteReplyKeys(const Request& request, absl::string_view reply,
                        absl::FunctionRef<std::string(absl::string_view)> map,
                        std::string* out) const override;
  // 0: the pool's ASCII codec; 1: this one.
  const Codec* Variant(uint8_t id) const override;
  const Codec& ForClient(absl::string_view first_bytes) const override;

 private:
  const Codec* ascii_;
};

// Per binary client connection (Variant() == 1): noop → a noop response; version → a version
// response with kBinaryVersion; quit → a quit response, then close; quitq → close without a
// reply; refused opcodes (kUnsupported: flush, stat, verbosity, sasl, quiet mutations) → an
// error response, status 0x0083, "unsupported command '<name>': <reason>" (LocalAction::kRefused),
// before and whatever the filter chain. Everything else is forwarded.
class MemcacheBinarySession final : public Session {
 public:
  LocalAction OnRequest(const Request& request, std::string* reply) override;
  uint8_t Variant() const override { return 1; }
};

}  // namespace proxy::protocols::memcache

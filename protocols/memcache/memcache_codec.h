// The memcache Codec (error encoding, split/merge of multi-key retrievals) and the
// per-connection Session that answers mn and quit and refuses admin commands.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "api/buffer.h"
#include "api/codec.h"

namespace proxy::protocols::memcache {

// Stateless; shared by every connection and worker of a pool.
//
// EncodeError(text):
//   ""                                   appends nothing: a request that said noreply gets no
//                                        reply, not even an error (memcached stays silent too);
//   "ERROR", "CLIENT_ERROR ...",
//   "SERVER_ERROR ..."                   already a memcache reply line: appended as is + CRLF;
//   anything else                        "SERVER_ERROR <text>\r\n" (twemproxy's format for the
//                                        proxy's own errors: "SERVER_ERROR Connection refused").
//   CR and LF inside `text` become spaces, so a reply can never be broken by its text.
//
// EncodeRefusal(request, text): a valid request the proxy refuses (a filter, an unsupported
// command): "CLIENT_ERROR <text>\r\n" ("" appends nothing, "ERROR" and "CLIENT_ERROR ..." are
// kept, a leading "SERVER_ERROR " becomes "CLIENT_ERROR "): clients such as node's `memcached`
// treat any SERVER_ERROR as a dead server.
//
// Binary protocol (docs/memcache-binary.md): the pool owns a MemcacheBinaryCodec, variant 1.
// ForClient() returns it for a connection whose first byte is 0x80 (binary request magic, as
// memcached decides per connection), else this codec. Requests decoded by the binary decoder
// (IsBinaryRequest) given to this codec's Split/Merge/EncodeErrorFor/EncodeRefusal/RewriteKeys/
// RewriteReplyKeys are handed to the binary codec, so a caller that asks the pool's codec
// instead of the session's variant still answers binary clients in binary. (The core and the
// filters, through FilterCallbacks::Pool(), already use the client's codec.)
class MemcacheCodec final : public Codec {
 public:
  MemcacheCodec();
  ~MemcacheCodec() override;
  RequestDecoderPtr NewRequestDecoder(const DecoderLimits& limits) const override;
  ReplyDecoderPtr NewReplyDecoder(const DecoderLimits& limits) const override;
  SessionPtr NewSession() const override;
  void EncodeError(absl::string_view text, std::string* out) const override;
  // `version`: answered by every memcached without touching data.
  std::string HealthCheckRequest() const override { return "version\r\n"; }
  void EncodeErrorFor(const Request& request, absl::string_view text,
                      std::string* out) const override;
  void EncodeRefusal(const Request& request, absl::string_view text,
                     std::string* out) const override;
  // 0: this codec; 1: the binary codec; nullptr otherwise.
  const Codec* Variant(uint8_t id) const override;
  const Codec& ForClient(absl::string_view first_bytes) const override;
  absl::string_view UnsupportedReason(absl::string_view command) const override;
  // get/gets/gat/gats with keys on several servers: one fragment per server in ascending server
  // order, "get k1 k2\r\n" (gat/gats: "gat <exptime> k1 k2\r\n", the exptime read from
  // Request::rewritten, see request_decoder.h, or from its second token when a key-rewriting
  // filter put the whole rewritten request there, has_rewrite), keys in their original relative
  // order. Nothing when every key maps to one server or the request is not a multi-key
  // retrieval.
  std::vector<Fragment> Split(const Request& request,
                              absl::Span<const uint32_t> key_servers) const override;
  // Each fragment reply must be VALUE blocks for that fragment's keys (at most one per
  // occurrence of the key in the fragment) followed by END. The merged reply has, for each key
  // of the original request in request order, its next VALUE block when one was returned
  // (duplicated keys get one block per occurrence, as memcached answers them), then one END.
  // twemproxy instead takes the next unused block of the key's fragment, which can reorder
  // values. False (and `out` untouched) for anything else, e.g. a SERVER_ERROR fragment reply.
  bool Merge(const Request& request, absl::Span<const Fragment> fragments,
             absl::Span<const std::string> replies, std::string* out) const override;
  // Rebuilds the command line with every key token replaced by map(key) (get/gets/gat/gats: all
  // keys; storage, cas, incr/decr, touch, delete and meta commands: the key; with the meta `b`
  // flag the key is mapped base64-decoded and encoded again), tokens joined by single spaces,
  // ended by CRLF, followed by the request's data block unchanged. `version` (routed by
  // "placeholder") is appended unchanged. False for mn, quit, admin commands and bytes that are
  // not the decoded request.
  bool RewriteKeys(const Request& request, const Buffer& wire,
                   absl::FunctionRef<std::string(absl::string_view)> map,
                   std::string* out) const override;
  // get/gets/gat/gats: every `VALUE <key> ...` line gets map(key) (data blocks and END are
  // copied); false when the reply has no VALUE block (END alone, errors). Meta commands: the key
  // a reply returns (the k flag: "HD k<key>", "VA <size> k<key>", base64 when the reply has the
  // b flag; "ME <key> ..." of me) gets map(key); false when there is none.
  bool RewriteReplyKeys(const Request& request, absl::string_view reply,
                        absl::FunctionRef<std::string(absl::string_view)> map,
                        std::string* out) const override;

 private:
  std::unique_ptr<Codec> binary_;
};

// Per client connection: mn → "MN\r\n"; quit → close after earlier replies, no reply of its
// own; admin commands (kUnsupported: flush_all, stats, watch, ...) → "CLIENT_ERROR unsupported
// command '<name>': <reason>" (LocalAction::kRefused), before and whatever the filter chain;
// every other request is forwarded (memcache has no authentication).
class MemcacheSession final : public Session {
 public:
  LocalAction OnRequest(const Request& request, std::string* reply) override;
};

}  // namespace proxy::protocols::memcache

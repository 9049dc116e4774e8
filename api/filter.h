// Filter plugin interface: the per-request chain reject_unsupported → hash_tag → router → stats.
// Filters decide; only the core does I/O. See docs/writing-filters.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/codec.h"
#include "api/stats.h"
#include "google/protobuf/message.h"

namespace proxy {

namespace config::v1 {
class Pool;
}  // namespace config::v1

enum class FilterStatus { kContinue, kStop };

// Per-request scratch shared by the filters of one chain run.
struct RequestContext {
  // The bytes hashed for routing, one per key (views into the request's args); set by the
  // hash_tag filter. Empty = route by the keys as they are.
  std::vector<absl::string_view> hash_keys;
  // Set by the router: the server for an unsplit request...
  uint32_t server = 0;
  bool routed = false;
  // ...or one fragment per target server for a split one.
  std::vector<Fragment> fragments;
};

// Read-only view of the pool a request belongs to (immutable during a request).
class PoolView {
 public:
  virtual ~PoolView() = default;
  virtual absl::string_view Name() const = 0;
  virtual const config::v1::Pool& Config() const = 0;
  virtual const Codec& PoolCodec() const = 0;
  // Server index (into Config().servers()) for already tag-extracted key bytes, under the
  // current live set: hash (an empty key hashes to 0), then the distribution.
  virtual uint32_t ServerForHashKey(absl::string_view hash_key) const = 0;
  // Keys one request may carry together share a shard (api/distribution.h Distribution::
  // ShardOf: the server, or a Redis Cluster's hash slot); the server index of a shard.
  virtual uint32_t ShardForHashKey(absl::string_view hash_key) const = 0;
  virtual uint32_t ServerOfShard(uint32_t shard) const = 0;
};

// How a request ended, for OnComplete.
struct Outcome {
  enum class Kind : uint8_t { kReply, kLocalReply, kError, kNoReply };
  Kind kind = Kind::kReply;
  uint64_t request_bytes = 0;
  uint64_t reply_bytes = 0;
  uint64_t latency_us = 0;
  int32_t server = -1;  // -1 when no server or several (split) were involved
};

// Provided by the core's connection manager to every filter call.
class FilterCallbacks {
 public:
  virtual ~FilterCallbacks() = default;
  // Refuses the request with a protocol-correct error (Codec::EncodeRefusal) and stops the
  // chain; nothing is forwarded and the connection stays open. The refusal is counted and
  // logged; a request that expects no reply (memcache noreply) gets nothing.
  virtual void SendLocalError(absl::string_view text) = 0;
  // Answers the client with raw protocol bytes (e.g. "+PONG\r\n") and stops the chain. The
  // bytes are sent as they are, also for a request that expects no reply.
  virtual void SendLocalReply(absl::string_view bytes) = 0;
  virtual RequestContext& Context() = 0;
  virtual const PoolView& Pool() const = 0;
  // The current request's wire bytes: [0, Request::wire_size) of this buffer (OnRequest only).
  virtual const Buffer& RequestBytes() const = 0;
};

// One filter instance per client connection; called on the worker thread that owns it.
class Filter {
 public:
  virtual ~Filter() = default;
  // kStop after SendLocalError/SendLocalReply; kContinue to pass the request on.
  virtual FilterStatus OnRequest(Request& request, FilterCallbacks& callbacks) = 0;
  // Filters that change replies return true; the core then gives every reply (forwarded or
  // merged, not local errors) to OnReply, in reverse chain order, as one contiguous string.
  virtual bool RewritesReplies() const { return false; }
  virtual void OnReply(const Request& request, std::string* reply) {}
  // Exactly once per decoded request, on every filter of the chain: also for requests no
  // OnRequest saw (malformed, answered by the session, refused by the core) and on the filters
  // after one that stopped the chain. Runs when the reply is moved to the client's output, in
  // request order (after every earlier request's reply), also when the request failed, timed
  // out, was answered locally or expects no reply: stats, logging. Not called for requests of a
  // client that left before they were answered.
  virtual void OnComplete(const Request& request, const Outcome& outcome) {}
};
using FilterPtr = std::unique_ptr<Filter>;

// Built once per pool at config time; called once per client connection (once per worker when
// the whole chain keeps no client state: FilterFactory::KeepsClientState).
using FilterFactoryFn = std::function<FilterPtr()>;

// What a factory gets at config time. No sockets, threads or files: `proxyctl check` runs it.
// The proxy calls Create() once per pool per worker thread; the returned function (and all
// filters it makes) is only ever used from that worker's thread.
struct FactoryContext {
  const config::v1::Pool& pool;
  // True under `proxyctl check` / `--test-conf`: validate only, build nothing expensive.
  bool validate_only = false;
  // The pool's stats scope; null when validate_only.
  Scope* stats = nullptr;
};

// Registered under the filter's short snake_case name ("hash_tag").
class FilterFactory {
 public:
  static constexpr absl::string_view kCategory = "filter";
  virtual ~FilterFactory() = default;
  virtual absl::string_view Name() const = 0;
  virtual absl::string_view Description() const = 0;
  // A fresh, empty config message; the loader fills it from the entry's `config:` mapping.
  // nullptr when the filter takes no config: a `config:` for it is then an error, and Create()
  // receives an empty google.protobuf.Empty.
  virtual std::unique_ptr<google::protobuf::Message> NewConfigProto() const = 0;
  // All validation happens here (kInvalidArgument with a message naming the field). `config`
  // is always a message of NewConfigProto()'s type (or google.protobuf.Empty, see above),
  // filled from the entry's `config:` (defaults when it has none, and in the default chain).
  // The one caller is core/config/filter_chain.cc: with validate_only under `proxyctl check`
  // and before a reload, then once per pool per worker when the config is served.
  virtual absl::StatusOr<FilterFactoryFn> Create(const google::protobuf::Message& config,
                                                 FactoryContext& context) const = 0;
  // Whether the filters this factory makes hold anything about one client between calls. A
  // factory that returns false promises that its filters keep only their config, counters
  // shared by the pool and scratch used within one call, and that OnRequest, OnReply and
  // OnComplete of different clients may interleave on one instance. When every filter of a
  // pool's chain says false, each worker makes the chain once and every client of the pool
  // uses it (no filter objects per client connection); otherwise each client gets its own
  // chain, as before. The default is the safe answer.
  virtual bool KeepsClientState() const { return true; }
};

}  // namespace proxy

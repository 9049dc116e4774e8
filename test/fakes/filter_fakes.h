// Fakes for driving filters without the core: a pool view with twemproxy's real placement, a tiny
// codec that splits by server, and callbacks that record local answers and the request context.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "api/codec.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/filter.h"
#include "test/fakes/string_buffer.h"
#include "api/placement.h"
#include "api/stats.h"
#include "google/protobuf/message.h"

namespace proxy::test {

// A pool as the config loader would produce it from `servers:` entries "host:port:weight [name]"
// (node name: the name, else host alone for port 11211, else host:port).
config::v1::Pool MakeTestPool(std::initializer_list<absl::string_view> servers,
                              absl::string_view hash = "fnv1a_64",
                              absl::string_view distribution = "ketama",
                              absl::string_view hash_tag = "",
                              absl::string_view protocol = "redis");

// Builds a request the way a decoder would: `args` are Request::args (keys, or key/value pairs
// with key_step 2).
Request MakeRequest(absl::string_view command, CommandKind kind,
                    std::initializer_list<absl::string_view> args, uint8_t key_step = 1);

// Looks `name` up in Registry<FilterFactory> and runs its Create() on `pool`, with `config`
// (nullptr = the factory's empty NewConfigProto()). kNotFound when the filter is not linked.
absl::StatusOr<FilterFactoryFn> CreateRegisteredFilter(
    absl::string_view name, const config::v1::Pool& pool,
    const google::protobuf::Message* config = nullptr, Scope* stats = nullptr,
    bool validate_only = false);

// A codec with just enough behaviour for the filters: Split groups keys by server into fragments
// whose bytes are "<command> <arg> <arg>..." (command lower-cased), in server-index order, and
// returns nothing when all keys share a server; EncodeError writes "-ERR <text>\r\n". No
// decoders or sessions (nullptr).
class FakeCodec final : public Codec {
 public:
  RequestDecoderPtr NewRequestDecoder(const DecoderLimits& limits) const override;
  ReplyDecoderPtr NewReplyDecoder(const DecoderLimits& limits) const override;
  SessionPtr NewSession() const override;
  void EncodeError(absl::string_view text, std::string* out) const override;
  // A few reasons (KEYS, MULTI, SUBSCRIBE, BLPOP, INFO, SELECT, HELLO, stats, flush_all), like a
  // real codec's, so filters can be tested without one.
  absl::string_view UnsupportedReason(absl::string_view command) const override;
  std::vector<Fragment> Split(const Request& request,
                              absl::Span<const uint32_t> key_servers) const override;
  // Concatenates the replies.
  bool Merge(const Request& request, absl::Span<const Fragment> fragments,
             absl::Span<const std::string> replies, std::string* out) const override;

  // How many times Split() ran, and the key_servers it was last given.
  int split_calls() const { return split_calls_; }
  const std::vector<uint32_t>& last_key_servers() const { return last_key_servers_; }

 private:
  mutable int split_calls_ = 0;
  mutable std::vector<uint32_t> last_key_servers_;
};

// A PoolView over a pool proto with the real placement (api::KeyPlacement: the registered hash
// and distribution plugins must be linked into the test) and a FakeCodec.
class FakePoolView final : public PoolView {
 public:
  // `live` as for KeyPlacement::Create (empty = every server live).
  static absl::StatusOr<std::unique_ptr<FakePoolView>> Create(config::v1::Pool pool,
                                                              std::vector<bool> live = {});

  absl::string_view Name() const override { return pool_.name(); }
  const config::v1::Pool& Config() const override { return pool_; }
  const Codec& PoolCodec() const override { return codec_; }
  uint32_t ServerForHashKey(absl::string_view hash_key) const override;
  // Recorded in routed_hash_keys() like ServerForHashKey.
  uint32_t ShardForHashKey(absl::string_view hash_key) const override;
  uint32_t ServerOfShard(uint32_t shard) const override {
    return placement_->ServerOfShard(shard);
  }

  const FakeCodec& codec() const { return codec_; }
  // The placement used, to compute expectations (ServerFor applies the hash tag itself).
  const KeyPlacement& placement() const { return *placement_; }
  // Every hash key routing asked for, in order.
  const std::vector<std::string>& routed_hash_keys() const { return routed_hash_keys_; }

 private:
  FakePoolView(config::v1::Pool pool, KeyPlacementPtr placement)
      : pool_(std::move(pool)), placement_(std::move(placement)) {}

  config::v1::Pool pool_;
  KeyPlacementPtr placement_;
  FakeCodec codec_;
  mutable std::vector<std::string> routed_hash_keys_;
};

// FilterCallbacks that record what the filters answered and hold one request's context.
class FakeFilterCallbacks final : public FilterCallbacks {
 public:
  explicit FakeFilterCallbacks(const PoolView& pool) : pool_(pool) {}

  void SendLocalError(absl::string_view text) override { local_errors_.emplace_back(text); }
  void SendLocalReply(absl::string_view bytes) override { local_replies_.emplace_back(bytes); }
  RequestContext& Context() override { return context_; }
  const PoolView& Pool() const override { return pool_; }
  const Buffer& RequestBytes() const override { return wire_; }
  // The wire bytes RequestBytes() returns (tests set them to the request's encoding).
  StringBuffer& wire() { return wire_; }

  const std::vector<std::string>& local_errors() const { return local_errors_; }
  const std::vector<std::string>& local_replies() const { return local_replies_; }
  bool answered_locally() const { return !local_errors_.empty() || !local_replies_.empty(); }
  // The error replies as the client would receive them (the pool codec's EncodeError).
  std::string EncodedErrors() const;
  // Starts a new request: a fresh context, no recorded answers.
  void Reset();

 private:
  const PoolView& pool_;
  RequestContext context_;
  StringBuffer wire_;
  std::vector<std::string> local_errors_;
  std::vector<std::string> local_replies_;
};

}  // namespace proxy::test

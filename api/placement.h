// Key → server placement exactly as twemproxy computes it: hash-tag extraction, the pool's hash
// function and distribution (resolved by name through the registries), twemproxy's server order.
// The router filter and `proxyctl route` both use this, so they cannot disagree.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/distribution.h"
#include "api/hash.h"

namespace proxy {

// The bytes twemproxy hashes for `key` under a two-byte `tag` (twemproxy's hash_tag): the bytes strictly
// between the first tag[0] and the first tag[1] after it, if that is non-empty; else the key.
absl::string_view HashTagKey(absl::string_view key, absl::string_view tag);

// twemproxy's order for server node names and pool names: shorter first, then bytewise.
bool TwemproxyLess(absl::string_view a, absl::string_view b);

// Config indexes of the pool's servers in twemproxy's order (node name length, then bytes).
std::vector<uint32_t> SortedServerOrder(const config::v1::Pool& pool);

// An immutable placement for one pool and one set of live servers. Thread-safe.
class KeyPlacement {
 public:
  // `live` (indexed like pool.servers(); empty = all live) selects the servers in the ring.
  // kNotFound for an unknown hash/distribution name, kFailedPrecondition when no server is live.
  static absl::StatusOr<std::unique_ptr<KeyPlacement>> Create(const config::v1::Pool& pool,
                                                              absl::Span<const bool> live = {});

  // The hash value routing uses: tag extraction, then 0 for an empty key, else the function.
  uint32_t HashOf(absl::string_view key) const;
  // Index into pool.servers() (configuration order) for `key`.
  uint32_t ServerFor(absl::string_view key) const;
  // Index into pool.servers() for bytes that are already tag-extracted (no HashTagKey()).
  uint32_t ServerForHashKey(absl::string_view hashed) const;
  // The same for an already computed HashOf() value.
  uint32_t ServerForHash(uint32_t hash) const;
  // Distribution::ShardOf for tag-extracted key bytes (keys of one request must share one), and
  // the index into pool.servers() of a shard.
  uint32_t ShardForHashKey(absl::string_view hashed) const;
  uint32_t ServerOfShard(uint32_t shard) const;

 private:
  KeyPlacement() = default;

  std::string hash_tag_;
  HashFunctionPtr hash_;
  DistributionPtr distribution_;
  std::vector<uint32_t> live_config_index_;  // distribution index → config index
  bool single_server_ = false;
};
using KeyPlacementPtr = std::unique_ptr<KeyPlacement>;

}  // namespace proxy

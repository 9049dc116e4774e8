// The redis_cluster distribution plugin: a key's hash (the pool's crc16 of its hash-tagged key)
// picks one of Redis Cluster's 16384 slots, and the slot's owner is the server the cluster says
// serves it (Endpoint::slots, filled from CLUSTER SLOTS; docs/redis-cluster.md).
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "api/distribution.h"
#include "api/registry.h"

namespace proxy::hashes {
namespace {

constexpr uint32_t kSlots = 16384;
constexpr uint16_t kUnowned = 0xFFFF;

class RedisClusterDistribution final : public Distribution {
 public:
  explicit RedisClusterDistribution(std::vector<uint16_t> owners) : owners_(std::move(owners)) {}

  // CRC16 & 16383 is redis's HASH_SLOT (the crc16 hash's low 16 bits are the XMODEM CRC). A
  // slot nobody serves (a map not learned yet, or a cluster with uncovered slots) goes to the
  // first server: the cluster's MOVED answer then says where it lives.
  uint32_t Select(uint32_t hash) const override {
    const uint16_t owner = owners_[hash & (kSlots - 1)];
    return owner == kUnowned ? 0 : owner;
  }
  // A request's keys must share a slot (redis answers CROSSSLOT otherwise).
  uint32_t ShardOf(uint32_t hash) const override { return hash & (kSlots - 1); }
  uint32_t SelectShard(uint32_t shard) const override {
    const uint16_t owner = owners_[shard & (kSlots - 1)];
    return owner == kUnowned ? 0 : owner;
  }

 private:
  std::vector<uint16_t> owners_;  // slot → index into `live`
};

class RedisClusterFactory final : public DistributionFactory {
 public:
  absl::string_view Name() const override { return "redis_cluster"; }
  absl::string_view Description() const override {
    return "Redis Cluster: crc16 of the key (hash tag {...}) mod 16384 is the slot, served by "
           "the node the cluster's slot map names";
  }
  absl::StatusOr<DistributionPtr> Build(absl::Span<const Endpoint> live) const override {
    if (live.empty()) return absl::InvalidArgumentError("redis_cluster: no live server");
    if (live.size() >= kUnowned) {
      return absl::InvalidArgumentError(
          absl::StrCat("redis_cluster: ", live.size(), " servers (at most ", kUnowned - 1, ")"));
    }
    std::vector<uint16_t> owners(kSlots, kUnowned);
    for (size_t i = 0; i < live.size(); ++i) {
      for (const auto& [first, last] : live[i].slots) {
        if (first > last || last >= kSlots) {
          return absl::InvalidArgumentError(absl::StrCat("redis_cluster: server '", live[i].name,
                                                         "': bad slot range ", first, "-", last));
        }
        for (uint32_t slot = first; slot <= last; ++slot) owners[slot] = static_cast<uint16_t>(i);
      }
    }
    return DistributionPtr(new RedisClusterDistribution(std::move(owners)));
  }
};

}  // namespace

PROXY_REGISTER_FACTORY(RedisClusterFactory, ::proxy::DistributionFactory)

}  // namespace proxy::hashes

// The redis_cluster distribution: a key's slot is redis's CLUSTER KEYSLOT (crc16 of the hash
// tagged key & 16383; the expected slots below were asked of redis-server 7.0.15), and the
// slot's owner is the server whose ranges hold it.
#include <string>
#include <vector>

#include "api/config/v1/bootstrap.pb.h"
#include "api/distribution.h"
#include "api/placement.h"
#include "api/registry.h"
#include "gtest/gtest.h"

namespace proxy::hashes {
namespace {

config::v1::Pool ClusterPool() {
  config::v1::Pool pool;
  pool.set_name("cl");
  pool.set_hash("crc16");
  pool.set_distribution("redis_cluster");
  pool.set_hash_tag("{}");
  pool.set_redis_cluster(true);
  // Three masters as redis-cli --cluster create splits 16384 slots.
  const std::vector<std::pair<uint32_t, uint32_t>> ranges = {{0, 5460}, {5461, 10922},
                                                             {10923, 16383}};
  for (size_t i = 0; i < ranges.size(); ++i) {
    config::v1::Server* server = pool.add_servers();
    server->set_node_name("127.0.0.1:700" + std::to_string(i));
    server->set_weight(1);
    config::v1::SlotRange* range = server->add_slots();
    range->set_first(ranges[i].first);
    range->set_last(ranges[i].second);
  }
  return pool;
}

struct SlotCase {
  std::string key;
  uint32_t slot;
};

TEST(RedisClusterTest, ShardIsRedisKeySlotAndServerIsItsOwner) {
  absl::StatusOr<KeyPlacementPtr> placement = KeyPlacement::Create(ClusterPool());
  ASSERT_TRUE(placement.ok()) << placement.status();
  const std::vector<SlotCase> cases = {
      {"foo", 12182},          {"bar", 5061},          {"hello", 866},
      {"somekey", 11058},      {"123456789", 12739},   {"{user1000}.following", 3443},
      {"foo{}{bar}", 8363},    {"foo{{bar}}zap", 4015}, {"foo{bar}{zap}", 5061},
      {"{}foo", 9500},         {"", 0},
  };
  for (const SlotCase& c : cases) {
    const std::string hashed(HashTagKey(c.key, "{}"));
    const uint32_t shard = (*placement)->ShardForHashKey(hashed);
    EXPECT_EQ(shard, c.slot) << c.key;
    const uint32_t owner = c.slot <= 5460 ? 0 : c.slot <= 10922 ? 1 : 2;
    EXPECT_EQ((*placement)->ServerOfShard(shard), owner) << c.key;
    EXPECT_EQ((*placement)->ServerFor(c.key), owner) << c.key;
  }
}

TEST(RedisClusterTest, AnUnservedSlotGoesToTheFirstServerAndBadRangesAreRefused) {
  config::v1::Pool pool = ClusterPool();
  pool.mutable_servers(2)->clear_slots();  // 10923-16383 served by nobody (a map not learnt)
  absl::StatusOr<KeyPlacementPtr> placement = KeyPlacement::Create(pool);
  ASSERT_TRUE(placement.ok()) << placement.status();
  EXPECT_EQ((*placement)->ServerFor("foo"), 0u);  // slot 12182
  pool.mutable_servers(0)->mutable_slots(0)->set_last(16384);
  EXPECT_FALSE(KeyPlacement::Create(pool).ok());
}

}  // namespace
}  // namespace proxy::hashes

// The Redis Cluster pool key (`redis_cluster: true`, issue 13): the cluster's placement keys by
// default, and every key that would place or move keys another way refused with its exact
// file:line:col, pool, key and text.
#include <string>

#include "absl/strings/str_replace.h"
#include "api/config/v1/bootstrap.pb.h"
#include "core/config/config.h"
#include "gtest/gtest.h"
#include "test/core/config/config_test_util.h"

namespace proxy::test {
namespace {

// A cluster pool with two seed nodes; KEYS is spliced in before servers: (line 5).
std::string ClusterPool(const std::string& keys) {
  return absl::StrReplaceAll(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: true
  redis_cluster: true
KEYS  servers:
   - 127.0.0.1:7000:1
   - 127.0.0.1:7001:1
)EOF",
                             {{"KEYS", keys}});
}

TEST(ClusterConfigTest, TheClustersPlacementIsTheDefault) {
  config::LoadResult result = Load(ClusterPool("  read_from: replica\n"));
  ASSERT_TRUE(LoadsCleanly(result));
  const config::v1::Pool& pool = result.bootstrap.pools(0);
  EXPECT_TRUE(pool.redis_cluster());
  EXPECT_EQ(pool.hash(), "crc16");
  EXPECT_EQ(pool.distribution(), "redis_cluster");
  EXPECT_EQ(pool.hash_tag(), "{}");
  // The cluster reports its replicas: no warning that none is known.
  EXPECT_TRUE(result.warnings.empty());
  // Writing the cluster's own values is allowed.
  EXPECT_TRUE(LoadsCleanly(Load(ClusterPool(
      "  hash: crc16\n  distribution: redis_cluster\n  hash_tag: \"{}\"\n"))));
}

TEST(ClusterConfigTest, KeysThatPlaceOrMoveKeysOtherwiseAreRefused) {
  config::LoadResult result = Load(ClusterPool(
      "  hash: fnv1a_64\n  distribution: ketama\n  hash_tag: \"[]\"\n  auto_eject_hosts: true\n"
      "  redis_db: 2\n"));
  EXPECT_TRUE(HasError(result, 5, 9, "alpha", "hash",
                       "'fnv1a_64' cannot place keys in a Redis Cluster: the cluster hashes keys "
                       "with CRC16 (leave the key out, or write 'crc16')"));
  EXPECT_TRUE(HasError(result, 6, 17, "alpha", "distribution",
                       "'ketama' cannot place keys in a Redis Cluster: the cluster's slot map "
                       "says which node serves a key"));
  EXPECT_TRUE(HasError(result, 7, 13, "alpha", "hash_tag",
                       "'[]' cannot place keys in a Redis Cluster: the cluster's hash tags are"));
  EXPECT_TRUE(HasError(result, 8, 21, "alpha", "auto_eject_hosts",
                       "cannot be combined with redis_cluster: the cluster fails a node over "
                       "itself"));
  EXPECT_TRUE(HasError(result, 9, 13, "alpha", "redis_db", "a Redis Cluster has only database 0"));
  EXPECT_EQ(result.errors.size(), 5u);
}

TEST(ClusterConfigTest, SentinelsReplicasUnixSeedsAndMemcacheAreRefused) {
  config::LoadResult ha = Load(ClusterPool("  sentinels: [127.0.0.1:26379]\n"));
  EXPECT_TRUE(HasError(ha, 5, 14, "alpha", "sentinels",
                       "cannot be combined with redis_cluster: the cluster reports its own "
                       "masters and replicas (CLUSTER SLOTS)"));
  config::LoadResult unix_seed = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: true
  redis_cluster: true
  servers:
   - /tmp/redis.sock:1
)EOF");
  EXPECT_TRUE(HasError(unix_seed, 6, 6, "alpha", "servers",
                       "'/tmp/redis.sock:1' is a unix socket: the servers of a Redis Cluster "
                       "pool are seed nodes"));
  config::LoadResult memcache = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis_cluster: true
  servers:
   - 127.0.0.1:11211:1
)EOF");
  EXPECT_TRUE(HasError(memcache, 3, 18, "alpha", "redis_cluster",
                       "is only valid for a redis pool (this pool's protocol is 'memcache')"));
  config::LoadResult slots_without_cluster = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: true
  distribution: redis_cluster
  servers:
   - 127.0.0.1:6379:1
)EOF");
  EXPECT_TRUE(HasError(slots_without_cluster, 4, 17, "alpha", "distribution",
                       "'redis_cluster' places keys by a Redis Cluster's slot map: add "
                       "redis_cluster: true"));
}

}  // namespace
}  // namespace proxy::test

// The high-availability pool keys (shardproxy extensions, issue 12): `sentinels:`,
// `sentinel_password:`, `replicas:`, `read_from:`, `health_check_interval:`, `auto_eject_drop:`.
// Each key into its proto field, the defaults, block and flow style, and every error and warning
// with its exact file:line:col, pool, key and text.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "api/codec.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/registry.h"
#include "core/config/config.h"
#include "gtest/gtest.h"
#include "test/core/config/config_test_util.h"

namespace proxy::test {
namespace {

// A protocol with no health check (registered only in this test; never instantiated).
class NoCheckProtocolFactory : public CodecFactory {
 public:
  absl::string_view Name() const override { return "nocheck"; }
  absl::string_view Description() const override { return "config test protocol, no checks"; }
  CodecPtr Create(const config::v1::Pool&) const override { return nullptr; }
};
PROXY_REGISTER_FACTORY(NoCheckProtocolFactory, CodecFactory)

// A redis pool with two named masters; KEYS is spliced in before servers:.
std::string RedisPool(const std::string& keys) {
  return absl::StrReplaceAll(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: true
KEYS  servers:
   - 127.0.0.1:6400:1 shard-a
   - 127.0.0.1:6401:1 shard-b
)EOF",
                             {{"KEYS", keys}});
}

// True when no diagnostic of `result` contains `secret`.
bool NeverShows(const config::LoadResult& result, const std::string& secret) {
  for (const auto* list : {&result.errors, &result.warnings}) {
    for (const config::Diagnostic& d : *list) {
      if (absl::StrContains(d.ToString(), secret)) return false;
    }
  }
  return true;
}

TEST(HighAvailabilityTest, DefaultsAreOff) {
  config::LoadResult result = Load(RedisPool(""));
  ASSERT_TRUE(LoadsCleanly(result));
  const config::v1::Pool& pool = result.bootstrap.pools(0);
  EXPECT_EQ(pool.sentinels_size(), 0);
  EXPECT_EQ(pool.sentinel_password(), "");
  EXPECT_EQ(pool.replicas_size(), 0);
  EXPECT_EQ(pool.read_from(), config::v1::READ_FROM_MASTER);
  EXPECT_EQ(pool.health_check_interval_ms(), 0u);
  EXPECT_FALSE(pool.auto_eject_drop());
}

TEST(HighAvailabilityTest, ParsesEveryKeyIntoItsProtoField) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: true
  auto_eject_hosts: true
  sentinels:
   - 127.0.0.1:26379
   - 127.0.0.1:026380
  sentinel_password: s3cret
  read_from: any
  health_check_interval: 500
  auto_eject_drop: true
  replicas:
    shard-a:
      - 127.0.0.1:6410
      - 127.0.0.1:6411 shard-a-r2
    shard-b:
      - 127.0.0.1:6412
  servers:
   - 127.0.0.1:6400:1 shard-a
   - 127.0.0.1:6401:1 shard-b
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
  const config::v1::Pool& pool = result.bootstrap.pools(0);
  ASSERT_EQ(pool.sentinels_size(), 2);
  EXPECT_EQ(pool.sentinels(0).raw(), "127.0.0.1:26379");
  EXPECT_EQ(pool.sentinels(0).tcp().host(), "127.0.0.1");
  EXPECT_EQ(pool.sentinels(0).tcp().port(), 26379u);
  EXPECT_EQ(pool.sentinels(1).raw(), "127.0.0.1:026380");
  EXPECT_EQ(pool.sentinels(1).tcp().port(), 26380u);
  EXPECT_EQ(pool.sentinel_password(), "s3cret");
  EXPECT_EQ(pool.read_from(), config::v1::READ_FROM_ANY);
  EXPECT_EQ(pool.health_check_interval_ms(), 500u);
  EXPECT_TRUE(pool.auto_eject_drop());
  ASSERT_EQ(pool.replicas_size(), 2);
  EXPECT_EQ(pool.replicas(0).server(), "shard-a");
  ASSERT_EQ(pool.replicas(0).replicas_size(), 2);
  EXPECT_EQ(pool.replicas(0).replicas(0).raw(), "127.0.0.1:6410");
  EXPECT_EQ(pool.replicas(0).replicas(0).tcp().port(), 6410u);
  EXPECT_EQ(pool.replicas(0).replicas(0).node_name(), "127.0.0.1:6410");
  EXPECT_EQ(pool.replicas(0).replicas(1).name(), "shard-a-r2");
  EXPECT_EQ(pool.replicas(1).server(), "shard-b");
  ASSERT_EQ(pool.replicas(1).replicas_size(), 1);
  EXPECT_EQ(pool.replicas(1).replicas(0).tcp().port(), 6412u);
  // Source positions for later messages: each sentinel and each replica entry.
  const config::PoolSource& source = result.sources.pools[0];
  ASSERT_EQ(source.sentinels.size(), 2u);
  EXPECT_EQ(source.sentinels[1].line, 7);
  EXPECT_EQ(source.sentinels[1].column, 6);
  ASSERT_EQ(source.replicas.size(), 2u);
  EXPECT_EQ(source.replicas[1].server.line, 16);
  EXPECT_EQ(source.replicas[1].server.column, 5);
  ASSERT_EQ(source.replicas[0].replicas.size(), 2u);
  EXPECT_EQ(source.replicas[0].replicas[1].line, 15);
  EXPECT_EQ(source.replicas[0].replicas[1].column, 9);
}

TEST(HighAvailabilityTest, EveryReadFromName) {
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, config::v1::ReadFrom>>{
           {"master", config::v1::READ_FROM_MASTER},
           {"prefer_replica", config::v1::READ_FROM_PREFER_REPLICA},
           {"replica", config::v1::READ_FROM_REPLICA},
           {"any", config::v1::READ_FROM_ANY}}) {
    config::LoadResult result = Load(RedisPool(
        "  read_from: " + name + "\n  replicas:\n    shard-a:\n      - 127.0.0.1:6410\n"));
    ASSERT_TRUE(LoadsCleanly(result)) << name;
    EXPECT_EQ(result.bootstrap.pools(0).read_from(), value) << name;
  }
}

// Flow style is accepted for the new list and mapping keys (twemproxy would reject the keys
// themselves, so no twemproxy file changes meaning) and gives exactly the block style's model.
TEST(HighAvailabilityTest, FlowStyleEqualsBlockStyle) {
  config::LoadResult block = Load(RedisPool(R"EOF(  sentinels:
   - 127.0.0.1:26379
   - 127.0.0.1:26380
  replicas:
    shard-a:
      - 127.0.0.1:6410
      - 127.0.0.1:6411 shard-a-r2
    shard-b:
      - 127.0.0.1:6412
)EOF"));
  config::LoadResult flow = Load(RedisPool(
      "  sentinels: [127.0.0.1:26379, 127.0.0.1:26380]\n"
      "  replicas: {shard-a: [127.0.0.1:6410, 127.0.0.1:6411 shard-a-r2], "
      "shard-b: [127.0.0.1:6412]}\n"));
  ASSERT_TRUE(LoadsCleanly(block));
  ASSERT_TRUE(LoadsCleanly(flow));
  EXPECT_EQ(block.bootstrap.pools(0).SerializeAsString(),
            flow.bootstrap.pools(0).SerializeAsString());
  // Mixed: a block mapping of flow lists.
  config::LoadResult mixed = Load(RedisPool(
      "  sentinels: [127.0.0.1:26379, 127.0.0.1:26380]\n  replicas:\n"
      "    shard-a: [127.0.0.1:6410, 127.0.0.1:6411 shard-a-r2]\n"
      "    shard-b: [127.0.0.1:6412]\n"));
  ASSERT_TRUE(LoadsCleanly(mixed));
  EXPECT_EQ(block.bootstrap.pools(0).SerializeAsString(),
            mixed.bootstrap.pools(0).SerializeAsString());
}

TEST(HighAvailabilityTest, FlowEntriesAreReportedAtTheirOwnColumn) {
  config::LoadResult result = Load(RedisPool("  sentinels: [127.0.0.1:26379, 127.0.0.1]\n"));
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result);
  EXPECT_TRUE(HasError(result, 4, 32, "alpha", "sentinels",
                       "'127.0.0.1': expected \"host:port\" (a sentinel has no weight and no "
                       "name)"));
}

TEST(HighAvailabilityTest, TwemproxysOwnListsStillRejectFlowStyle) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers: [127.0.0.1:6400:1]
)EOF");
  EXPECT_TRUE(HasError(result, 3, 12, "alpha", "servers", "flow lists [a, b] are not supported"));
}

TEST(HighAvailabilityTest, SentinelErrorsInOneFile) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: true
  sentinels:
   - 127.0.0.1:26379
   - 127.0.0.1
   - 127.0.0.1:26379:1
   - 127.0.0.1:26379
   - 127.0.0.1:6400
  servers:
   - 127.0.0.1:6400:1 shard-a
   - 127.0.0.1:6401:1
   - /tmp/redis.sock:1 shard-c
)EOF");
  EXPECT_EQ(config::FormatDiagnostics(result.errors),
            "test.yml:6:6: pool 'alpha': sentinels: '127.0.0.1': expected \"host:port\" (a "
            "sentinel has no weight and no name)\n"
            "test.yml:7:6: pool 'alpha': sentinels: '127.0.0.1:26379:1': '127.0.0.1:26379' is "
            "not a host; expected \"host:port\" (a sentinel has no weight and no name)\n"
            "test.yml:8:6: pool 'alpha': sentinels: '127.0.0.1:26379' is listed twice (first at "
            "line 5)\n"
            "test.yml:9:6: pool 'alpha': sentinels: '127.0.0.1:6400' is the same address as "
            "server 'shard-a' (line 11)\n"
            "test.yml:12:6: pool 'alpha': servers: '127.0.0.1:6401:1' has no name: with "
            "sentinels: every server is named by its Sentinel master name (e.g. "
            "'127.0.0.1:6401:1 mymaster'); its address is only the starting guess, and keys are "
            "placed by the name, so a failover moves none\n"
            "test.yml:13:6: pool 'alpha': servers: '/tmp/redis.sock:1 shard-c' is a unix "
            "socket: with sentinels: every server is a redis master Sentinel can fail over, and "
            "Sentinel reports TCP addresses only\n");
  EXPECT_TRUE(result.warnings.empty()) << Describe(result);
}

TEST(HighAvailabilityTest, ServersNeedNamesEvenWhenNoSentinelEntryCouldBeRead) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: true
  sentinels:
   - 127.0.0.1:26379:1
  servers:
   - 127.0.0.1:6400:1
)EOF");
  ASSERT_EQ(result.errors.size(), 2u) << Describe(result);
  EXPECT_TRUE(HasError(result, 5, 6, "alpha", "sentinels", "is not a host"));
  EXPECT_TRUE(HasError(result, 7, 6, "alpha", "servers", "'127.0.0.1:6400:1' has no name"));
}

TEST(HighAvailabilityTest, SentinelsMustBeANonEmptyList) {
  config::LoadResult scalar = Load(RedisPool("  sentinels: 127.0.0.1:26379\n"));
  ASSERT_EQ(scalar.errors.size(), 1u) << Describe(scalar);
  EXPECT_TRUE(HasError(scalar, 4, 14, "alpha", "sentinels",
                       "expected a list of sentinels (one \"- host:port\" per line, or "
                       "[host:port, ...]), found a scalar"));
  config::LoadResult empty = Load(RedisPool("  sentinels: []\n"));
  ASSERT_EQ(empty.errors.size(), 1u) << Describe(empty);
  EXPECT_TRUE(HasError(empty, 4, 14, "alpha", "sentinels",
                       "the list is empty: name at least one sentinel"));
  config::LoadResult null = Load(RedisPool("  sentinels:\n"));
  ASSERT_EQ(null.errors.size(), 1u) << Describe(null);
  EXPECT_TRUE(HasError(null, 4, 3, "alpha", "sentinels", "found an empty value"));
  config::LoadResult nested = Load(RedisPool("  sentinels:\n   - - 127.0.0.1:26379\n"));
  EXPECT_TRUE(HasError(nested, 5, 6, "alpha", "sentinels",
                       "expected a single value, found a list"));
}

TEST(HighAvailabilityTest, ReplicaErrorsInOneFile) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: true
  replicas:
    shard-a:
      - 127.0.0.1:6410
      - 127.0.0.1:6400
      - 127.0.0.1:6411:1
      - 127.0.0.1:6410
      - 127.0.0.1:6413 shard-b
    shard-z:
      - 127.0.0.1:6420
    shard-b:
      - 127.0.0.1:6410
    shard-a:
      - 127.0.0.1:6430
    127.0.0.1:6402:
      - 127.0.0.1:6431 r1
      - 127.0.0.1:6432 r1
  servers:
   - 127.0.0.1:6400:1 shard-a
   - 127.0.0.1:6401:1 shard-b
   - 127.0.0.1:6402:1
)EOF");
  EXPECT_EQ(
      config::FormatDiagnostics(result.errors),
      "test.yml:7:9: pool 'alpha': replicas: '127.0.0.1:6400' is the same address as server "
      "'shard-a' (line 21), a master of this pool: a replica is another redis-server, one that "
      "replicates its master\n"
      "test.yml:8:9: pool 'alpha': replicas: '127.0.0.1:6411:1': '127.0.0.1:6411' is not a "
      "host; expected \"host:port [name]\" or \"/path/unix_socket [name]\" (a replica has no "
      "weight)\n"
      "test.yml:9:9: pool 'alpha': replicas: '127.0.0.1:6410' is listed twice (first at line 6, "
      "as replica '127.0.0.1:6410' of 'shard-a')\n"
      "test.yml:10:9: pool 'alpha': replicas: '127.0.0.1:6413 shard-b' has the same name "
      "'shard-b' as server 'shard-b' (line 22); give each replica a distinct name (it names the "
      "replica in stats and logs)\n"
      "test.yml:11:5: pool 'alpha': replicas: 'shard-z' is not a server of this pool (its "
      "servers: shard-a, shard-b, 127.0.0.1:6402); a replicas: entry is a server's name, then "
      "its replicas\n"
      "test.yml:14:9: pool 'alpha': replicas: '127.0.0.1:6410' is listed twice (first at line "
      "6, as replica '127.0.0.1:6410' of 'shard-a')\n"
      "test.yml:15:5: pool 'alpha': replicas: server 'shard-a' is listed twice (first at line "
      "5); list all its replicas under one entry\n"
      "test.yml:19:9: pool 'alpha': replicas: '127.0.0.1:6432 r1' has the same name 'r1' as "
      "replica '127.0.0.1:6431 r1' of '127.0.0.1:6402' (line 18); give each replica a distinct "
      "name (it names the replica in stats and logs)\n");
  EXPECT_TRUE(result.warnings.empty()) << Describe(result);
}

TEST(HighAvailabilityTest, ReplicasMustBeAMappingOfLists) {
  config::LoadResult list = Load(RedisPool("  replicas:\n   - 127.0.0.1:6410\n"));
  ASSERT_EQ(list.errors.size(), 1u) << Describe(list);
  EXPECT_TRUE(HasError(list, 5, 4, "alpha", "replicas",
                       "expected a mapping from server names to lists of replicas (\"shard-a:\" "
                       "then one \"- host:port [name]\" per line), found a list"));
  config::LoadResult scalar = Load(RedisPool("  replicas:\n    shard-a: 127.0.0.1:6410\n"));
  ASSERT_EQ(scalar.errors.size(), 1u) << Describe(scalar);
  EXPECT_TRUE(HasError(scalar, 5, 14, "alpha", "replicas",
                       "expected a list of replicas for server 'shard-a' (one \"- host:port "
                       "[name]\" per line), found a scalar"));
  config::LoadResult empty = Load(RedisPool("  replicas:\n    shard-a: []\n"));
  ASSERT_EQ(empty.errors.size(), 1u) << Describe(empty);
  EXPECT_TRUE(HasError(empty, 5, 14, "alpha", "replicas",
                       "server 'shard-a' has an empty list of replicas; list at least one or "
                       "remove the entry"));
  config::LoadResult null = Load(RedisPool("  replicas:\n    shard-a:\n"));
  ASSERT_EQ(null.errors.size(), 1u) << Describe(null);
  EXPECT_TRUE(HasError(null, 5, 5, "alpha", "replicas", "found an empty value"));
}

TEST(HighAvailabilityTest, ReplicasOfAnUnnamedServerUseItsNodeName) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: true
  replicas:
    127.0.0.1:6400:
      - 127.0.0.1:6410
  servers:
   - 127.0.0.1:6400:1
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
  EXPECT_EQ(result.bootstrap.pools(0).replicas(0).server(), "127.0.0.1:6400");
}

TEST(HighAvailabilityTest, RedisOnlyKeysOnAMemcachePool) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  sentinels:
   - 127.0.0.1:26379
  sentinel_password: hunter2
  replicas:
    127.0.0.1:6400:
      - 127.0.0.1:6410
  read_from: master
  health_check_interval: 1000
  servers:
   - 127.0.0.1:6400:1
)EOF");
  const std::string why = "is only valid for a redis pool (this pool's protocol is 'memcache')";
  ASSERT_EQ(result.errors.size(), 4u) << Describe(result);
  EXPECT_TRUE(HasError(result, 4, 4, "alpha", "sentinels", why));
  EXPECT_TRUE(HasError(result, 5, 22, "alpha", "sentinel_password", why));
  EXPECT_TRUE(HasError(result, 7, 5, "alpha", "replicas", why));
  EXPECT_TRUE(HasError(result, 9, 14, "alpha", "read_from", why));
  EXPECT_TRUE(result.warnings.empty()) << Describe(result);
  EXPECT_TRUE(NeverShows(result, "hunter2"));
}

TEST(HighAvailabilityTest, InvalidReadFromListsTheValidNames) {
  config::LoadResult result = Load(RedisPool("  read_from: slave\n"));
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result);
  EXPECT_TRUE(HasError(result, 4, 14, "alpha", "read_from",
                       "'slave' is not a valid read_from (valid: master, prefer_replica, "
                       "replica, any)"));
}

TEST(HighAvailabilityTest, ReadFromAReplicaWithoutAnyReplicaWarns) {
  const std::string known = "' but no replica is known: the pool has neither replicas: nor "
                            "sentinels: to discover them, so ";
  for (const char* name : {"prefer_replica", "any"}) {
    config::LoadResult result = Load(RedisPool(std::string("  read_from: ") + name + "\n"));
    ASSERT_TRUE(result.ok()) << Describe(result);
    ASSERT_EQ(result.warnings.size(), 1u) << Describe(result);
    EXPECT_TRUE(HasWarning(result, 4, 14, "alpha", "read_from",
                           std::string("'") + name + known + "every read goes to the master"));
  }
  config::LoadResult replica = Load(RedisPool("  read_from: replica\n"));
  ASSERT_TRUE(replica.ok()) << Describe(replica);
  ASSERT_EQ(replica.warnings.size(), 1u) << Describe(replica);
  EXPECT_TRUE(HasWarning(replica, 4, 14, "alpha", "read_from",
                         "'replica" + known + "every read-only command fails with an error"));
  // Replicas listed, or sentinels to discover them: nothing to say. master never warns.
  EXPECT_TRUE(LoadsCleanly(Load(
      RedisPool("  read_from: replica\n  replicas:\n    shard-b:\n      - 127.0.0.1:6411\n"))));
  EXPECT_TRUE(LoadsCleanly(
      Load(RedisPool("  read_from: replica\n  sentinels:\n   - 127.0.0.1:26379\n"))));
  EXPECT_TRUE(LoadsCleanly(Load(RedisPool("  read_from: master\n"))));
}

TEST(HighAvailabilityTest, HealthCheckIntervalBounds) {
  for (const char* ok : {"0", "10", "1000", "3600000"}) {
    config::LoadResult result = Load(RedisPool(std::string("  health_check_interval: ") + ok +
                                               "\n"));
    ASSERT_TRUE(LoadsCleanly(result)) << ok;
    EXPECT_EQ(result.bootstrap.pools(0).health_check_interval_ms(), std::stoul(ok));
  }
  config::LoadResult low = Load(RedisPool("  health_check_interval: 9\n"));
  ASSERT_EQ(low.errors.size(), 1u) << Describe(low);
  EXPECT_TRUE(HasError(low, 4, 26, "alpha", "health_check_interval",
                       "'9' is below 10 ms: every worker would send every server a check that "
                       "often, and a server merely pausing for a moment (a fork for BGSAVE, a "
                       "slow command) would count as failing; use at least 10 (1000 is typical), "
                       "or 0 to turn checks off"));
  EXPECT_EQ(low.bootstrap.pools(0).health_check_interval_ms(), 0u);
  const std::string high = "is above 3600000 ms (one hour): a failure found only by the checks "
                           "would go unnoticed that long; use 0 to turn checks off";
  for (const char* value : {"3600001", "99999999999"}) {
    config::LoadResult result =
        Load(RedisPool(std::string("  health_check_interval: ") + value + "\n"));
    ASSERT_EQ(result.errors.size(), 1u) << Describe(result);
    EXPECT_TRUE(HasError(result, 4, 26, "alpha", "health_check_interval",
                         std::string("'") + value + "' " + high));
    EXPECT_TRUE(result.warnings.empty()) << Describe(result);  // no twemproxy wrap warning
  }
  config::LoadResult unit = Load(RedisPool("  health_check_interval: 1s\n"));
  EXPECT_TRUE(HasError(unit, 4, 26, "alpha", "health_check_interval",
                       "'1s' is not a number (decimal digits only, no sign)"));
}

TEST(HighAvailabilityTest, HealthChecksNeedAProtocolWithACheck) {
  const std::string pool = R"EOF(alpha:
  listen: 127.0.0.1:22121
  protocol: PROTOCOL
  health_check_interval: INTERVAL
  servers:
   - 127.0.0.1:6400:1
)EOF";
  for (const char* protocol : {"redis", "memcache"}) {
    config::LoadResult result = Load(
        absl::StrReplaceAll(pool, {{"PROTOCOL", protocol}, {"INTERVAL", "1000"}}));
    EXPECT_TRUE(LoadsCleanly(result)) << protocol;
  }
  config::LoadResult none =
      Load(absl::StrReplaceAll(pool, {{"PROTOCOL", "nocheck"}, {"INTERVAL", "1000"}}));
  ASSERT_EQ(none.errors.size(), 1u) << Describe(none);
  EXPECT_TRUE(HasError(none, 4, 26, "alpha", "health_check_interval",
                       "protocol 'nocheck' has no health check request; active checks are only "
                       "available for redis and memcache pools"));
  // 0 = off is fine on any protocol.
  EXPECT_TRUE(LoadsCleanly(
      Load(absl::StrReplaceAll(pool, {{"PROTOCOL", "nocheck"}, {"INTERVAL", "0"}}))));
}

TEST(HighAvailabilityTest, AutoEjectDropWithoutEjectionWarns) {
  const std::string warning = "has no effect without auto_eject_hosts: true: no server is ever "
                              "ejected, so there are no keys to fail fast";
  config::LoadResult unset = Load(RedisPool("  auto_eject_drop: true\n"));
  ASSERT_TRUE(unset.ok()) << Describe(unset);
  ASSERT_EQ(unset.warnings.size(), 1u) << Describe(unset);
  EXPECT_TRUE(HasWarning(unset, 4, 20, "alpha", "auto_eject_drop", warning));
  config::LoadResult off = Load(RedisPool("  auto_eject_hosts: false\n  auto_eject_drop: true\n"));
  EXPECT_TRUE(HasWarning(off, 5, 20, "alpha", "auto_eject_drop", warning));
  config::LoadResult on = Load(RedisPool("  auto_eject_hosts: true\n  auto_eject_drop: true\n"));
  ASSERT_TRUE(LoadsCleanly(on));
  EXPECT_TRUE(on.bootstrap.pools(0).auto_eject_drop());
  // Also on memcache pools (a cache may prefer misses to keys on another server).
  config::LoadResult memcache = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  auto_eject_hosts: true
  auto_eject_drop: true
  servers:
   - 127.0.0.1:11211:1
)EOF");
  EXPECT_TRUE(LoadsCleanly(memcache));
  EXPECT_TRUE(LoadsCleanly(Load(RedisPool("  auto_eject_drop: false\n"))));
  config::LoadResult yes = Load(RedisPool("  auto_eject_drop: yes\n"));
  EXPECT_TRUE(
      HasError(yes, 4, 20, "alpha", "auto_eject_drop", "'yes' is not \"true\" or \"false\""));
}

TEST(HighAvailabilityTest, SentinelPasswordWithoutSentinelsWarnsWithoutShowingIt) {
  config::LoadResult result = Load(RedisPool("  sentinel_password: hunter2\n"));
  ASSERT_TRUE(result.ok()) << Describe(result);
  ASSERT_EQ(result.warnings.size(), 1u) << Describe(result);
  EXPECT_TRUE(HasWarning(result, 4, 22, "alpha", "sentinel_password",
                         "has no effect: the pool lists no sentinels:"));
  EXPECT_TRUE(NeverShows(result, "hunter2"));
  config::LoadResult empty = Load(RedisPool("  sentinel_password: \"\"\n"));
  EXPECT_TRUE(HasError(empty, 4, 22, "alpha", "sentinel_password", "value is empty"));
}

TEST(HighAvailabilityTest, ASentinelPoolLikeConfigsSentinelYml) {
  config::LoadResult result = Load(R"EOF(ha:
  listen: 127.0.0.1:22140
  redis: true
  sentinels:
   - 127.0.0.1:26379
   - 127.0.0.1:26380
   - 127.0.0.1:26381
  read_from: prefer_replica
  health_check_interval: 1000
  servers:
   - 127.0.0.1:6400:1 shard-a
   - 127.0.0.1:6401:1 shard-b
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
  const config::v1::Pool& pool = result.bootstrap.pools(0);
  EXPECT_EQ(pool.sentinels_size(), 3);
  EXPECT_EQ(pool.read_from(), config::v1::READ_FROM_PREFER_REPLICA);
  EXPECT_EQ(pool.servers(0).node_name(), "shard-a");
}

}  // namespace
}  // namespace proxy::test

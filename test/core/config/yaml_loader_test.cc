// Tests for the YAML → Bootstrap conversion: defaults, every key into its proto field,
// registered hash/distribution names, and the YAML shapes the loader accepts or rejects.
#include "core/config/yaml_loader.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "api/config/v1/bootstrap.pb.h"
#include "core/config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/core/config/config_test_util.h"

namespace proxy::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(YamlLoaderTest, AppliesTwemproxyDefaultsToUnsetKeys) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:11211:1
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
  ASSERT_EQ(result.bootstrap.pools_size(), 1);
  const config::v1::Pool& pool = result.bootstrap.pools(0);
  EXPECT_EQ(pool.name(), "alpha");
  EXPECT_EQ(pool.protocol(), "memcache");
  EXPECT_EQ(pool.hash(), "fnv1a_64");
  EXPECT_EQ(pool.hash_tag(), "");
  EXPECT_EQ(pool.distribution(), "ketama");
  EXPECT_EQ(pool.timeout_ms(), 0u);  // no timeout
  EXPECT_EQ(pool.backlog(), 512u);
  EXPECT_EQ(pool.client_connections(), 0u);
  EXPECT_FALSE(pool.tcpkeepalive());
  EXPECT_EQ(pool.redis_auth(), "");
  EXPECT_EQ(pool.redis_db(), 0u);
  EXPECT_FALSE(pool.preconnect());
  EXPECT_FALSE(pool.auto_eject_hosts());
  EXPECT_EQ(pool.server_connections(), 1u);
  EXPECT_EQ(pool.server_retry_timeout_ms(), 30000u);
  EXPECT_EQ(pool.server_failure_limit(), 2u);
  EXPECT_FALSE(pool.reuseport());
  EXPECT_EQ(pool.filters_size(), 0);
  // The high-availability extensions are off (test/core/config/high_availability_test.cc).
  EXPECT_EQ(pool.sentinels_size(), 0);
  EXPECT_EQ(pool.sentinel_password(), "");
  EXPECT_EQ(pool.replicas_size(), 0);
  EXPECT_EQ(pool.read_from(), config::v1::READ_FROM_MASTER);
  EXPECT_EQ(pool.health_check_interval_ms(), 0u);
  EXPECT_FALSE(pool.auto_eject_drop());
  EXPECT_EQ(result.bootstrap.source(), kTestFile);
}

TEST(YamlLoaderTest, ParsesEveryKeyIntoItsProtoField) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  hash: murmur
  hash_tag: "{}"
  distribution: modula
  timeout: 400
  backlog: 1024
  client_connections: 0
  redis: true
  tcpkeepalive: true
  redis_auth: s3cret
  redis_db: 3
  preconnect: true
  auto_eject_hosts: true
  server_connections: 4
  server_retry_timeout: 2000
  server_failure_limit: 5
  reuseport: true
  servers:
   - 127.0.0.1:6379:1 first
   - 127.0.0.1:6380:2
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
  const config::v1::Pool& pool = result.bootstrap.pools(0);
  EXPECT_EQ(pool.listen().raw(), "127.0.0.1:22121");
  EXPECT_EQ(pool.listen().tcp().host(), "127.0.0.1");
  EXPECT_EQ(pool.listen().tcp().port(), 22121u);
  EXPECT_EQ(pool.hash(), "murmur");
  EXPECT_EQ(pool.hash_tag(), "{}");
  EXPECT_EQ(pool.distribution(), "modula");
  EXPECT_EQ(pool.timeout_ms(), 400u);
  EXPECT_EQ(pool.backlog(), 1024u);
  EXPECT_EQ(pool.client_connections(), 0u);
  EXPECT_EQ(pool.protocol(), "redis");
  EXPECT_TRUE(pool.tcpkeepalive());
  EXPECT_EQ(pool.redis_auth(), "s3cret");
  EXPECT_EQ(pool.redis_db(), 3u);
  EXPECT_TRUE(pool.preconnect());
  EXPECT_TRUE(pool.auto_eject_hosts());
  EXPECT_EQ(pool.server_connections(), 4u);
  EXPECT_EQ(pool.server_retry_timeout_ms(), 2000u);
  EXPECT_EQ(pool.server_failure_limit(), 5u);
  EXPECT_TRUE(pool.reuseport());
  ASSERT_EQ(pool.servers_size(), 2);
  EXPECT_EQ(pool.servers(0).raw(), "127.0.0.1:6379:1 first");
  EXPECT_EQ(pool.servers(0).node_name(), "first");
  EXPECT_EQ(pool.servers(1).weight(), 2u);
  EXPECT_EQ(pool.servers(1).node_name(), "127.0.0.1:6380");
}

TEST(YamlLoaderTest, ExplicitFalseAndZeroValuesAreKept) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: false
  tcpkeepalive: false
  preconnect: false
  auto_eject_hosts: false
  timeout: 0
  backlog: 0
  server_retry_timeout: 0
  server_failure_limit: 0
  servers:
   - 127.0.0.1:11211:1
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
  const config::v1::Pool& pool = result.bootstrap.pools(0);
  EXPECT_EQ(pool.protocol(), "memcache");
  EXPECT_FALSE(pool.tcpkeepalive());
  EXPECT_EQ(pool.timeout_ms(), 0u);
  EXPECT_EQ(pool.backlog(), 0u);
  EXPECT_EQ(pool.server_retry_timeout_ms(), 0u);
  EXPECT_EQ(pool.server_failure_limit(), 0u);
}

TEST(YamlLoaderTest, AcceptsEveryTwemproxyHashName) {
  for (const char* hash : {"one_at_a_time", "md5", "crc16", "crc32", "crc32a", "fnv1_64",
                           "fnv1a_64", "fnv1_32", "fnv1a_32", "hsieh", "murmur", "jenkins"}) {
    config::LoadResult result = Load(absl::StrReplaceAll(R"EOF(alpha:
  listen: 127.0.0.1:22121
  hash: HASH
  servers:
   - 127.0.0.1:6379:1
)EOF",
                                                         {{"HASH", hash}}));
    ASSERT_TRUE(LoadsCleanly(result)) << hash;
    EXPECT_EQ(result.bootstrap.pools(0).hash(), hash);
  }
}

TEST(YamlLoaderTest, AcceptsEveryTwemproxyDistributionName) {
  for (const char* distribution : {"ketama", "modula", "random"}) {
    config::LoadResult result = Load(absl::StrReplaceAll(R"EOF(alpha:
  listen: 127.0.0.1:22121
  distribution: DIST
  servers:
   - 127.0.0.1:6379:1
)EOF",
                                                         {{"DIST", distribution}}));
    ASSERT_TRUE(LoadsCleanly(result)) << distribution;
    EXPECT_EQ(result.bootstrap.pools(0).distribution(), distribution);
  }
}

TEST(YamlLoaderTest, RejectsDistributionNameWithWrongCase) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  distribution: Ketama
  servers:
   - 127.0.0.1:6379:1
)EOF");
  EXPECT_TRUE(HasError(result, 3, 17, "alpha", "distribution",
                       "'Ketama' is not a valid distribution (valid: ketama, modula, random, redis_cluster)"));
}

TEST(YamlLoaderTest, KeepsPoolsInFileOrder) {
  config::LoadResult result = Load(R"EOF(zz:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
aaa:
  listen: 127.0.0.1:22122
  servers:
   - 127.0.0.1:6379:1
b:
  listen: 127.0.0.1:22123
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
  ASSERT_EQ(result.bootstrap.pools_size(), 3);
  EXPECT_EQ(result.bootstrap.pools(0).name(), "zz");
  EXPECT_EQ(result.bootstrap.pools(1).name(), "aaa");
  EXPECT_EQ(result.bootstrap.pools(2).name(), "b");
  ASSERT_EQ(result.sources.pools.size(), 3u);
  EXPECT_EQ(result.sources.pools[1].name.line, 5);
  EXPECT_EQ(result.sources.file, kTestFile);
}

TEST(YamlLoaderTest, RecordsWhereEveryValueWasWritten) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  hash: md5
  servers:
   - 127.0.0.1:6379:1
   - 127.0.0.1:6380:1
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
  ASSERT_EQ(result.sources.pools.size(), 1u);
  const config::PoolSource& source = result.sources.pools[0];
  EXPECT_EQ(source.name.line, 1);
  EXPECT_EQ(source.name.column, 1);
  EXPECT_EQ(source.KeyOrPool("listen").line, 2);
  EXPECT_EQ(source.KeyOrPool("listen").column, 11);
  EXPECT_EQ(source.KeyOrPool("hash").line, 3);
  EXPECT_EQ(source.KeyOrPool("hash").column, 9);
  EXPECT_EQ(source.KeyOrPool("timeout").line, 1);  // not written: the pool's name
  ASSERT_EQ(source.servers.size(), 2u);
  EXPECT_EQ(source.servers[1].line, 6);
  EXPECT_EQ(source.servers[1].column, 6);
}

TEST(YamlLoaderTest, RedisTrueSelectsTheRedisProtocol) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: true
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
  EXPECT_EQ(result.bootstrap.pools(0).protocol(), "redis");
}

TEST(YamlLoaderTest, NullSpellingsAreKeptAsText) {
  // libyaml has no null: `redis_auth: null` is the password "null" in twemproxy.
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: true
  redis_auth: null
  servers:
   - 127.0.0.1:6379:1
beta:
  listen: 127.0.0.1:22122
  redis: true
  redis_auth: ~
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
  EXPECT_EQ(result.bootstrap.pools(0).redis_auth(), "null");
  EXPECT_EQ(result.bootstrap.pools(1).redis_auth(), "~");
}

TEST(YamlLoaderTest, NullSpellingIsValidatedAsText) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  hash: null
  redis: ~
  servers:
   - 127.0.0.1:6379:1
)EOF");
  EXPECT_TRUE(HasError(result, 3, 9, "alpha", "hash", "'null' is not a valid hash (valid: "));
  EXPECT_TRUE(HasError(result, 4, 10, "alpha", "redis", "'~' is not \"true\" or \"false\""));
}

TEST(YamlLoaderTest, EmptyValueAtTheEndOfThePoolIsReportedAtItsKey) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
  timeout:
beta:
  listen: 127.0.0.1:22122
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result);
  EXPECT_TRUE(HasError(result, 5, 3, "alpha", "timeout", "value is empty"));
}

TEST(YamlLoaderTest, EmptyServerEntryIsReportedAtItsDash) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
   -
   - 127.0.0.1:6380:1
)EOF");
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result);
  EXPECT_TRUE(HasError(result, 5, 4, "alpha", "servers", "value is empty"));
  // The good entries are still loaded.
  EXPECT_EQ(result.bootstrap.pools(0).servers_size(), 2);
}

TEST(YamlLoaderTest, EmptyServersListIsReportedOnce) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
)EOF");
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result);
  EXPECT_TRUE(HasError(result, 3, 3, "alpha", "servers",
                       "expected a list (one \"- host:port:weight [name]\" per line), found an "
                       "empty value"));
}

TEST(YamlLoaderTest, ServerEntryMustBeAScalar) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - host: 127.0.0.1
     port: 6379
)EOF");
  EXPECT_TRUE(
      HasError(result, 4, 6, "alpha", "servers", "expected a single value, found a mapping"));
}

TEST(YamlLoaderTest, EmptyPoolNameIsRejected) {
  config::LoadResult result = Load(R"EOF("":
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
)EOF");
  EXPECT_TRUE(HasError(result, 1, 1, "", "", "a pool name must be a non-empty string"));
}

TEST(YamlLoaderTest, PoolNamesAreArbitraryStrings) {
  config::LoadResult result = Load(R"EOF("my pool/1":
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
  EXPECT_EQ(result.bootstrap.pools(0).name(), "my pool/1");
}

TEST(YamlLoaderTest, PoolWithoutValueIsReportedOnceAndNotValidated) {
  config::LoadResult result = Load("alpha:\n");
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result);
  EXPECT_TRUE(HasError(result, 1, 1, "alpha", "", "found an empty value"));
  EXPECT_EQ(result.bootstrap.pools_size(), 0);
}

TEST(YamlLoaderTest, AnchoredPoolIsReportedOnceWithoutMissingKeyNoise) {
  config::LoadResult result = Load(R"EOF(alpha: &base
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
beta: *base
)EOF");
  ASSERT_EQ(result.errors.size(), 2u) << Describe(result);
  EXPECT_TRUE(HasError(result, 1, 8, "alpha", "", "YAML anchors (&name) are not supported"));
  EXPECT_TRUE(HasError(result, 5, 7, "beta", "", "YAML aliases (*name) are not supported"));
}

TEST(YamlLoaderTest, AnchorAndAliasOnServersAreRejected) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers: &s
   - 127.0.0.1:6379:1
beta:
  listen: 127.0.0.1:22122
  servers: *s
)EOF");
  EXPECT_TRUE(
      HasError(result, 3, 12, "alpha", "servers", "YAML anchors (&name) are not supported"));
  EXPECT_TRUE(HasError(result, 7, 12, "beta", "servers", "YAML aliases (*name) are not supported"));
}

TEST(YamlLoaderTest, TagOnAServerEntryIsRejected) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - !!str 127.0.0.1:6379:1
)EOF");
  EXPECT_TRUE(HasError(result, 4, 6, "alpha", "servers", "YAML tags (!!str) are not supported"));
}

TEST(YamlLoaderTest, TagOnThePoolNameIsRejected) {
  config::LoadResult result = Load(R"EOF(!!str alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
)EOF");
  EXPECT_TRUE(HasError(result, 1, 1, "", "", "YAML tags (!!str) are not supported"));
}

TEST(YamlLoaderTest, FlowMappingForAPoolIsRejected) {
  config::LoadResult result = Load("alpha: {listen: 127.0.0.1:22121}\n");
  EXPECT_TRUE(HasError(result, 1, 8, "alpha", "", "flow mappings {a: b} are not supported"));
}

TEST(YamlLoaderTest, FlowListAtTopLevelIsRejected) {
  config::LoadResult result = Load("[alpha, beta]\n");
  EXPECT_TRUE(HasError(result, 1, 1, "", "", "flow lists [a, b] are not supported"));
}

TEST(YamlLoaderTest, BracketedListenUnquotedIsAYamlError) {
  // Unquoted, [::1] starts a flow list, so this is not even valid YAML.
  config::LoadResult result = Load(R"EOF(alpha:
  listen: [::1]:22121
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(HasError(result, 2, 16, "", "", "YAML syntax error: "));
}

TEST(YamlLoaderTest, SyntaxErrorStopsLoading) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
    servers: oops
)EOF");
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result);
  EXPECT_TRUE(HasError(result, 3, 12, "", "", "YAML syntax error: "));
  EXPECT_EQ(result.bootstrap.pools_size(), 0);
}

TEST(YamlLoaderTest, UnclosedQuoteIsASyntaxError) {
  // yaml-cpp would let the quoted value swallow the rest of the file; libyaml rejects it.
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: true
  redis_auth: "secret
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result);
  EXPECT_TRUE(
      HasError(result, 4, 15, "", "", "YAML syntax error: quoted value has no closing quote"));
}

TEST(YamlLoaderTest, UnknownKeyListsEveryValidKey) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  hashtag: "{}"
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result);
  for (const std::string& key : config::KnownPoolKeys()) {
    EXPECT_THAT(result.errors[0].message, HasSubstr(key));
  }
  EXPECT_TRUE(HasError(result, 3, 3, "alpha", "hashtag", "unknown key (valid: listen, hash, "));
}

TEST(YamlLoaderTest, KnownKeysAreTwemproxysPlusOurs) {
  EXPECT_THAT(
      config::KnownPoolKeys(),
      ElementsAre("listen", "hash", "hash_tag", "distribution", "timeout", "backlog",
                  "client_connections", "redis", "tcpkeepalive", "redis_auth", "redis_db",
                  "preconnect", "auto_eject_hosts", "server_connections", "server_retry_timeout",
                  "server_failure_limit", "servers", "reuseport", "filters",
                  "protocol", "sentinels", "sentinel_password", "replicas", "read_from",
                  "health_check_interval", "auto_eject_drop", "redis_cluster", "client_auth",
                  "server_auth", "tls", "server_tls", "max_server_connections"));
}

TEST(YamlLoaderTest, KeysAreCaseSensitive) {
  config::LoadResult result = Load(R"EOF(alpha:
  Listen: 127.0.0.1:22121
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
)EOF");
  EXPECT_TRUE(HasError(result, 2, 3, "alpha", "Listen", "unknown key"));
}

TEST(YamlLoaderTest, NonScalarSettingNameIsRejected) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  ? - a
  : b
  servers:
   - 127.0.0.1:6379:1
)EOF");
  EXPECT_TRUE(HasError(result, 3, 5, "alpha", "", "a setting name must be a plain string"));
}

TEST(YamlLoaderTest, DuplicateKeyKeepsTheFirstValue) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  hash: md5
  hash: crc32
  servers:
   - 127.0.0.1:6379:1
)EOF");
  EXPECT_TRUE(HasError(result, 4, 3, "alpha", "hash", "set twice (first at line 3)"));
  EXPECT_EQ(result.bootstrap.pools(0).hash(), "md5");
}

TEST(YamlLoaderTest, EveryKeyReportsItsDuplicate) {
  for (const std::string& key : config::KnownPoolKeys()) {
    if (key == "listen" || key == "servers") {
      continue;  // written below anyway
    }
    config::LoadResult result = Load(absl::StrReplaceAll(R"EOF(alpha:
  listen: 127.0.0.1:22121
  KEY: x
  KEY: x
  servers:
   - 127.0.0.1:6379:1
)EOF",
                                                         {{"KEY", key}}));
    EXPECT_TRUE(HasError(result, 4, 3, "alpha", key, "set twice (first at line 3)")) << key;
  }
}

TEST(YamlLoaderTest, EveryNumberKeyRejectsNonDigits) {
  for (const char* key : {"timeout", "backlog", "client_connections", "redis_db",
                          "server_connections", "server_retry_timeout", "server_failure_limit",
                          "health_check_interval", "max_server_connections"}) {
    config::LoadResult result = Load(absl::StrReplaceAll(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: true
  KEY: 12ms
  servers:
   - 127.0.0.1:6379:1
)EOF",
                                                         {{"KEY", key}}));
    const int column = 2 + static_cast<int>(std::string(key).size()) + 3;
    EXPECT_TRUE(HasError(result, 4, column, "alpha", key, "'12ms' is not a number")) << key;
  }
}

TEST(YamlLoaderTest, EveryBoolKeyRejectsOtherSpellings) {
  for (const char* key : {"redis", "tcpkeepalive", "preconnect", "auto_eject_hosts", "reuseport",
                          "auto_eject_drop"}) {
    config::LoadResult result = Load(absl::StrReplaceAll(R"EOF(alpha:
  listen: 127.0.0.1:22121
  KEY: on
  servers:
   - 127.0.0.1:6379:1
)EOF",
                                                         {{"KEY", key}}));
    const int column = 2 + static_cast<int>(std::string(key).size()) + 3;
    EXPECT_TRUE(HasError(result, 3, column, "alpha", key, "'on' is not \"true\" or \"false\""))
        << key;
  }
}

TEST(YamlLoaderTest, UnixListenPathMustFitSunPath) {
  const std::string too_long = "/tmp/" + std::string(103, 'p');  // 108 bytes
  config::LoadResult result = Load(absl::StrReplaceAll(R"EOF(alpha:
  listen: PATH 0600
  servers:
   - 127.0.0.1:6379:1
)EOF",
                                                       {{"PATH", too_long}}));
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result);
  EXPECT_TRUE(HasError(result, 2, 11, "alpha", "listen",
                       "unix socket path is 108 bytes; the limit is 107"));
}

TEST(YamlLoaderTest, ScalarKeysRejectLists) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen:
   - 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
)EOF");
  EXPECT_TRUE(HasError(result, 3, 4, "alpha", "listen", "expected a single value, found a list"));
}

}  // namespace
}  // namespace proxy::test

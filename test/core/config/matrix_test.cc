// The twemproxy validation matrix, row by row: every invalid row is rejected with the
// file:line:col of the offending value and a message naming the problem; every valid edge case
// (and each of our deliberate deviations) loads with the values twemproxy would use.
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "api/config/v1/bootstrap.pb.h"
#include "core/config/config.h"
#include "gtest/gtest.h"
#include "test/core/config/config_test_util.h"

namespace proxy::test {
namespace {

// One invalid row: the YAML and the error it must produce.
struct InvalidCase {
  const char* name;  // the gtest name suffix
  const char* yaml;
  int line;
  int column;
  const char* pool;
  const char* key;
  const char* message;  // a substring of the error message
};

// The valid hash names, as listed by every `hash:` error.
#define PROXY_TEST_VALID_HASHES                                                               \
  "(valid: crc16, crc32, crc32a, fnv1_32, fnv1_64, fnv1a_32, fnv1a_64, hsieh, jenkins, md5, " \
  "murmur, one_at_a_time)"

const InvalidCase kInvalidCases[] = {
    {"DuplicatePoolNames", R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
alpha:
  listen: 127.0.0.1:22122
  servers:
   - 127.0.0.1:6379:1
)EOF",
     5, 1, "alpha", "", "duplicate pool name (first defined at line 1)"},

    {"DuplicateListen", R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
beta:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
)EOF",
     6, 11, "beta", "listen", "'127.0.0.1:22121' is also the listen address of pool 'alpha'"},

    {"ListenKeyTwice", R"EOF(alpha:
  listen: 127.0.0.1:22121
  listen: 127.0.0.1:22122
  servers:
   - 127.0.0.1:6379:1
)EOF",
     3, 3, "alpha", "listen", "set twice (first at line 2)"},

    {"TimeoutKeyTwice", R"EOF(alpha:
  listen: 127.0.0.1:22121
  timeout: 100
  servers:
   - 127.0.0.1:6379:1
  timeout: 200
)EOF",
     6, 3, "alpha", "timeout", "set twice (first at line 3)"},

    {"HashUnknown", R"EOF(alpha:
  listen: 127.0.0.1:22121
  hash: sha1
  servers:
   - 127.0.0.1:6379:1
)EOF",
     3, 9, "alpha", "hash", "'sha1' is not a valid hash " PROXY_TEST_VALID_HASHES},

    {"HashIsCaseSensitive", R"EOF(alpha:
  listen: 127.0.0.1:22121
  hash: FNV1A_64
  servers:
   - 127.0.0.1:6379:1
)EOF",
     3, 9, "alpha", "hash", "'FNV1A_64' is not a valid hash " PROXY_TEST_VALID_HASHES},

    {"DistributionUnknown", R"EOF(alpha:
  listen: 127.0.0.1:22121
  distribution: consistent
  servers:
   - 127.0.0.1:6379:1
)EOF",
     3, 17, "alpha", "distribution",
     "'consistent' is not a valid distribution (valid: ketama, modula, random, redis_cluster)"},

    {"ServerWeightZero", R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:0
)EOF",
     4, 6, "alpha", "servers", "'127.0.0.1:6379:0': weight is zero (it must be at least 1)"},

    {"ServerWeightNegative", R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
   - 127.0.0.1:6380:-1
)EOF",
     5, 6, "alpha", "servers",
     "'127.0.0.1:6380:-1': invalid weight '-1' (a positive whole number)"},

    {"ServerWeightNotANumber", R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:x
)EOF",
     4, 6, "alpha", "servers", "invalid weight 'x'"},

    {"ServerWithoutWeight", R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379
)EOF",
     4, 6, "alpha", "servers",
     "'127.0.0.1:6379': expected \"host:port:weight [name]\" or "
     "\"/path/unix_socket:weight [name]\""},

    {"UnixServerWithoutWeight", R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - /tmp/redis.sock
)EOF",
     4, 6, "alpha", "servers",
     "'/tmp/redis.sock': expected \"host:port:weight [name]\" or "
     "\"/path/unix_socket:weight [name]\""},

    {"ServerPortZero", R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:0:1
)EOF",
     4, 6, "alpha", "servers", "'127.0.0.1:0:1': invalid port '0' (1..65535)"},

    {"ServerPortTooLarge", R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:99999:1
)EOF",
     4, 6, "alpha", "servers", "invalid port '99999' (1..65535)"},

    {"ServerPortNotANumber", R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:abc:1
)EOF",
     4, 6, "alpha", "servers", "invalid port 'abc' (1..65535)"},

    {"DuplicateServerAddressWithOtherWeight", R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
   - 127.0.0.1:6380:1
   - 127.0.0.1:6379:2
)EOF",
     6, 6, "alpha", "servers",
     "'127.0.0.1:6379:2' has the same node name '127.0.0.1:6379' as '127.0.0.1:6379:1' (line 4)"},

    {"DuplicateServerName", R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1 s1
   - 127.0.0.1:6380:1 s1
)EOF",
     5, 6, "alpha", "servers", "has the same node name 's1' as '127.0.0.1:6379:1 s1' (line 4)"},

    {"MissingServers", R"EOF(alpha:
  listen: 127.0.0.1:22121
  hash: fnv1a_64
)EOF",
     1, 1, "alpha", "servers", "missing: the pool has no servers"},

    {"ServersAsScalar", R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers: 127.0.0.1:6379:1
)EOF",
     3, 12, "alpha", "servers", "expected a list (one \"- host:port:weight [name]\" per line)"},

    {"ListNotNamedServers", R"EOF(alpha:
  listen: 127.0.0.1:22121
  hash:
   - fnv1a_64
)EOF",
     4, 4, "alpha", "hash", "expected a single value, found a list"},

    {"ListNotNamedServersLeavesNoServers", R"EOF(alpha:
  listen: 127.0.0.1:22121
  hash:
   - fnv1a_64
)EOF",
     1, 1, "alpha", "servers", "missing: the pool has no servers"},

    {"MissingListen", R"EOF(alpha:
  hash: fnv1a_64
  servers:
   - 127.0.0.1:6379:1
)EOF",
     1, 1, "alpha", "listen", "missing: every pool needs listen: host:port"},

    {"ListenPortZero", R"EOF(alpha:
  listen: 127.0.0.1:0
  servers:
   - 127.0.0.1:6379:1
)EOF",
     2, 11, "alpha", "listen", "invalid port '0' (1..65535)"},

    {"ListenPortTooLarge", R"EOF(alpha:
  listen: 127.0.0.1:70000
  servers:
   - 127.0.0.1:6379:1
)EOF",
     2, 11, "alpha", "listen", "invalid port '70000' (1..65535)"},

    {"ListenWithoutPort", R"EOF(alpha:
  listen: 127.0.0.1
  servers:
   - 127.0.0.1:6379:1
)EOF",
     2, 11, "alpha", "listen",
     "'127.0.0.1' is not \"host:port\" or \"/path/to/socket [permission]\""},

    {"ListenUnresolvable", R"EOF(alpha:
  listen: no.such.host.invalid:22121
  servers:
   - 127.0.0.1:6379:1
)EOF",
     2, 11, "alpha", "listen", "cannot resolve host 'no.such.host.invalid': "},

    {"ListenBracketedIpv6", R"EOF(alpha:
  listen: "[::1]:22121"
  servers:
   - 127.0.0.1:6379:1
)EOF",
     2, 11, "alpha", "listen", "write IPv6 addresses without brackets, e.g. ::1:22121"},

    {"UnixListenPermissionAbove0777", R"EOF(alpha:
  listen: /tmp/p.sock 1777
  servers:
   - 127.0.0.1:6379:1
)EOF",
     2, 11, "alpha", "listen", "invalid file permission '1777' (octal, at most 0777)"},

    {"UnknownKey", R"EOF(alpha:
  listen: 127.0.0.1:22121
  foo: bar
  servers:
   - 127.0.0.1:6379:1
)EOF",
     3, 3, "alpha", "foo",
     "unknown key (valid: listen, hash, hash_tag, distribution, timeout, backlog, "
     "client_connections, redis, tcpkeepalive, redis_auth, redis_db, preconnect, "
     "auto_eject_hosts, server_connections, server_retry_timeout, server_failure_limit, servers, "
     "reuseport, filters, protocol, sentinels, sentinel_password, replicas, read_from, "
     "health_check_interval, auto_eject_drop, redis_cluster, client_auth, server_auth, tls, "
     "server_tls, max_server_connections)"},

    {"BoolYes", R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: yes
  servers:
   - 127.0.0.1:6379:1
)EOF",
     3, 10, "alpha", "redis", "'yes' is not \"true\" or \"false\""},

    {"BoolCapitalized", R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: True
  servers:
   - 127.0.0.1:6379:1
)EOF",
     3, 10, "alpha", "redis", "'True' is not \"true\" or \"false\""},

    {"NumberNotDigits", R"EOF(alpha:
  listen: 127.0.0.1:22121
  timeout: abc
  servers:
   - 127.0.0.1:6379:1
)EOF",
     3, 12, "alpha", "timeout", "'abc' is not a number (decimal digits only, no sign)"},

    {"NumberNegative", R"EOF(alpha:
  listen: 127.0.0.1:22121
  timeout: -5
  servers:
   - 127.0.0.1:6379:1
)EOF",
     3, 12, "alpha", "timeout", "'-5' is not a number"},

    {"NumberWithPlusSign", R"EOF(alpha:
  listen: 127.0.0.1:22121
  timeout: +5
  servers:
   - 127.0.0.1:6379:1
)EOF",
     3, 12, "alpha", "timeout", "'+5' is not a number"},

    {"RedisDbNegative", R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: true
  redis_db: -1
  servers:
   - 127.0.0.1:6379:1
)EOF",
     4, 13, "alpha", "redis_db", "'-1' is not a number"},

    {"HashTagOneCharacter", R"EOF(alpha:
  listen: 127.0.0.1:22121
  hash_tag: "{"
  servers:
   - 127.0.0.1:6379:1
)EOF",
     3, 13, "alpha", "hash_tag", "'{' is 1 bytes; a hash tag is exactly two characters"},

    {"HashTagThreeCharacters", R"EOF(alpha:
  listen: 127.0.0.1:22121
  hash_tag: "{}}"
  servers:
   - 127.0.0.1:6379:1
)EOF",
     3, 13, "alpha", "hash_tag", "'{}}' is 3 bytes; a hash tag is exactly two characters"},

    {"HashTagEmpty", R"EOF(alpha:
  listen: 127.0.0.1:22121
  hash_tag: ""
  servers:
   - 127.0.0.1:6379:1
)EOF",
     3, 13, "alpha", "hash_tag", "value is empty"},

    {"EmptyValue", R"EOF(alpha:
  listen: 127.0.0.1:22121
  hash:
  servers:
   - 127.0.0.1:6379:1
)EOF",
     3, 3, "alpha", "hash", "value is empty"},

    {"UnquotedHashTag", R"EOF(alpha:
  listen: 127.0.0.1:22121
  hash_tag: {}
  servers:
   - 127.0.0.1:6379:1
)EOF",
     3, 13, "alpha", "hash_tag",
     "an unquoted {} is an empty YAML mapping; quote it: hash_tag: \"{}\""},

    {"RedisAuthOnMemcachePool", R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis_auth: secret
  servers:
   - 127.0.0.1:11211:1
)EOF",
     3, 15, "alpha", "redis_auth", "is only valid for a redis pool (add redis: true)"},

    {"ServerConnectionsZero", R"EOF(alpha:
  listen: 127.0.0.1:22121
  server_connections: 0
  servers:
   - 127.0.0.1:6379:1
)EOF",
     3, 23, "alpha", "server_connections", "cannot be 0 (at least 1 connection per server)"},

    {"EmptyFile", "", 1, 1, "", "", "the file must contain exactly one YAML document; found 0"},

    {"CommentsOnly", "# nothing but a comment\n", 1, 1, "", "",
     "the file must contain exactly one YAML document; found 0"},

    {"TwoDocuments", R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
---
beta:
  listen: 127.0.0.1:22122
  servers:
   - 127.0.0.1:6379:1
)EOF",
     1, 1, "", "", "the file must contain exactly one YAML document; found 2"},

    {"FlowList", R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers: [127.0.0.1:6379:1]
)EOF",
     3, 12, "alpha", "servers", "flow lists [a, b] are not supported"},

    {"FlowMapping", R"EOF(alpha:
  listen: 127.0.0.1:22121
  hash: {fnv1a_64: x}
  servers:
   - 127.0.0.1:6379:1
)EOF",
     3, 9, "alpha", "hash", "flow mappings {a: b} are not supported"},

    {"AnchorOnPool", R"EOF(alpha: &a
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
)EOF",
     1, 8, "alpha", "", "YAML anchors (&name) are not supported"},

    {"AnchorOnValue", R"EOF(alpha:
  listen: &l 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
)EOF",
     2, 11, "alpha", "listen", "YAML anchors (&name) are not supported"},

    {"Alias", R"EOF(alpha:
  listen: 127.0.0.1:22121
  hash: &h fnv1a_64
  servers:
   - 127.0.0.1:6379:1
beta:
  listen: 127.0.0.1:22122
  hash: *h
  servers:
   - 127.0.0.1:6379:1
)EOF",
     8, 9, "beta", "hash", "YAML aliases (*name) are not supported; write the value out"},

    {"Tag", R"EOF(alpha:
  listen: !!str 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
)EOF",
     2, 11, "alpha", "listen", "YAML tags (!!str) are not supported; remove the tag"},

    {"NestedMappingUnderUnknownKey", R"EOF(alpha:
  listen: 127.0.0.1:22121
  nested:
    x: 1
  servers:
   - 127.0.0.1:6379:1
)EOF",
     3, 3, "alpha", "nested", "unknown key (valid: listen, "},

    {"NestedMappingUnderKnownKey", R"EOF(alpha:
  listen: 127.0.0.1:22121
  timeout:
    x: 1
  servers:
   - 127.0.0.1:6379:1
)EOF",
     4, 5, "alpha", "timeout", "expected a single value, found a mapping"},

    {"PoolWithoutValue", R"EOF(alpha:
beta:
  listen: 127.0.0.1:22122
  servers:
   - 127.0.0.1:6379:1
)EOF",
     1, 1, "alpha", "",
     "expected a mapping of pool settings (listen:, servers:, ...), found an "
     "empty value"},

    {"PoolValueIsAList", R"EOF(alpha:
  - 127.0.0.1:6379:1
)EOF",
     2, 3, "alpha", "",
     "expected a mapping of pool settings (listen:, servers:, ...), found a "
     "list"},

    {"TopLevelScalar", "alpha\n", 1, 1, "", "",
     "the top level must be a mapping of pool names to pool settings, found a scalar"},

    {"TopLevelList", "- alpha\n- beta\n", 1, 1, "", "",
     "the top level must be a mapping of pool names to pool settings, found a list"},

    {"TwoListsInAPool", R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
  servers:
   - 127.0.0.1:6380:1
)EOF",
     5, 3, "alpha", "servers", "set twice (first at line 3)"},

    {"TabIndentation", "alpha:\n  listen: 127.0.0.1:22121\n\tservers:\n   - 127.0.0.1:6379:1\n", 3,
     1, "", "", "YAML syntax error: "},

    {"TabBeforeListItem", "alpha:\n  listen: 127.0.0.1:22121\n  servers:\n\t- 127.0.0.1:6379:1\n",
     4, 2, "", "", "YAML syntax error: "},
};

// Names the row in gtest's output instead of dumping its bytes.
void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.name; }

class InvalidConfigTest : public testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidConfigTest, IsRejectedAtTheOffendingValue) {
  const InvalidCase& c = GetParam();
  config::LoadResult result = Load(c.yaml);
  EXPECT_FALSE(result.ok());
  EXPECT_GE(result.errors.size(), 1u);
  EXPECT_FALSE(result.unreadable);
  EXPECT_TRUE(HasError(result, c.line, c.column, c.pool, c.key, c.message));
}

INSTANTIATE_TEST_SUITE_P(Invalid, InvalidConfigTest, testing::ValuesIn(kInvalidCases),
                         [](const testing::TestParamInfo<InvalidCase>& info) {
                           return std::string(info.param.name);
                         });

// --- valid rows -----------------------------------------------------------------------------

TEST(ValidEdgeCaseTest, ClientConnectionsIsKeptAndWarnsThatWeEnforceIt) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  client_connections: 5
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_TRUE(result.ok()) << Describe(result);
  EXPECT_EQ(result.bootstrap.pools(0).client_connections(), 5u);
  ASSERT_EQ(result.warnings.size(), 1u);
  EXPECT_TRUE(HasWarning(result, 3, 23, "alpha", "client_connections",
                         "shardproxy enforces this limit (twemproxy ignores it): at most 5"));
}

TEST(ValidEdgeCaseTest, Ipv6ListenWithoutBrackets) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: ::1:22121
  servers:
   - ::1:6379:1
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
  const config::v1::Pool& pool = result.bootstrap.pools(0);
  EXPECT_EQ(pool.listen().tcp().host(), "::1");
  EXPECT_EQ(pool.listen().tcp().port(), 22121u);
  EXPECT_EQ(pool.servers(0).tcp().host(), "::1");
  EXPECT_EQ(pool.servers(0).node_name(), "::1:6379");
}

TEST(ValidEdgeCaseTest, UnixListenWithAndWithoutPermission) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: /tmp/shardproxy-alpha.sock
  servers:
   - 127.0.0.1:6379:1
beta:
  listen: /tmp/shardproxy-beta.sock 0600
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
  EXPECT_EQ(result.bootstrap.pools(0).listen().unix_socket().path(), "/tmp/shardproxy-alpha.sock");
  EXPECT_EQ(result.bootstrap.pools(0).listen().unix_socket().permissions(), 0u);
  EXPECT_EQ(result.bootstrap.pools(1).listen().unix_socket().path(), "/tmp/shardproxy-beta.sock");
  EXPECT_EQ(result.bootstrap.pools(1).listen().unix_socket().permissions(), 0600u);
}

TEST(ValidEdgeCaseTest, NonOctalUnixPermissionIsAcceptedAsZeroWithAWarning) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: /tmp/shardproxy-alpha.sock 0999
  servers:
   - 127.0.0.1:6379:1
beta:
  listen: /tmp/shardproxy-beta.sock abc
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_TRUE(result.ok()) << Describe(result);
  EXPECT_EQ(result.bootstrap.pools(0).listen().unix_socket().permissions(), 0u);
  EXPECT_EQ(result.bootstrap.pools(1).listen().unix_socket().permissions(), 0u);
  EXPECT_TRUE(HasWarning(result, 2, 11, "alpha", "listen",
                         "permission '0999' is not an octal number; read as 0"));
  EXPECT_TRUE(HasWarning(result, 6, 11, "beta", "listen",
                         "permission 'abc' is not an octal number; read as 0"));
}

TEST(ValidEdgeCaseTest, UnixServer) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - /tmp/p.sock:1
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
  const config::v1::Server& server = result.bootstrap.pools(0).servers(0);
  EXPECT_EQ(server.unix_path(), "/tmp/p.sock");
  EXPECT_EQ(server.weight(), 1u);
  EXPECT_EQ(server.node_name(), "/tmp/p.sock:");
}

TEST(ValidEdgeCaseTest, UnresolvableServerHostIsNotResolvedAtLoad) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - no.such.host.invalid:6379:1
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
  EXPECT_EQ(result.bootstrap.pools(0).servers(0).tcp().host(), "no.such.host.invalid");
}

TEST(ValidEdgeCaseTest, HugeWeightWrapsLikeTwemproxyWithAWarning) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:99999999999
)EOF");
  ASSERT_TRUE(result.ok()) << Describe(result);
  EXPECT_EQ(result.bootstrap.pools(0).servers(0).weight(), 1215752191u);
  ASSERT_EQ(result.warnings.size(), 1u);
  EXPECT_TRUE(
      HasWarning(result, 4, 6, "alpha", "servers",
                 "weight 99999999999 exceeds 2147483647; twemproxy wraps it to 1215752191"));
}

TEST(ValidEdgeCaseTest, HugeNumberWrapsLikeTwemproxyWithAWarning) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  timeout: 99999999999
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_TRUE(result.ok()) << Describe(result);
  EXPECT_EQ(result.bootstrap.pools(0).timeout_ms(), 1215752191u);
  EXPECT_TRUE(HasWarning(result, 3, 12, "alpha", "timeout",
                         "99999999999 exceeds 2147483647; twemproxy wraps it to 1215752191"));
}

TEST(ValidEdgeCaseTest, NumberThatWrapsNegativeIsRejected) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  backlog: 4294967295
  servers:
   - 127.0.0.1:6379:1
)EOF");
  EXPECT_TRUE(HasError(result, 3, 12, "alpha", "backlog",
                       "'4294967295' is out of range (at most 2147483647)"));
}

TEST(ValidEdgeCaseTest, CommentsAndQuotedKeysAndValues) {
  config::LoadResult result = Load(R"EOF(# a comment before everything
"alpha":  # the pool
  'listen': "127.0.0.1:22121"   # quoted value
  "hash": 'md5'
  # a comment between keys
  hash_tag: "{}"
  "servers":
   - "127.0.0.1:6379:1"   # quoted server
   - '127.0.0.1:6380:1 second'
# trailing comment
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
  const config::v1::Pool& pool = result.bootstrap.pools(0);
  EXPECT_EQ(pool.name(), "alpha");
  EXPECT_EQ(pool.listen().raw(), "127.0.0.1:22121");
  EXPECT_EQ(pool.hash(), "md5");
  EXPECT_EQ(pool.hash_tag(), "{}");
  ASSERT_EQ(pool.servers_size(), 2);
  EXPECT_EQ(pool.servers(1).node_name(), "second");
}

TEST(ValidEdgeCaseTest, HashTagIsTwoBytesEvenAsOneUtf8Character) {
  // "é" is two bytes in UTF-8: twemproxy counts bytes.
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  hash_tag: "é"
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
  EXPECT_EQ(result.bootstrap.pools(0).hash_tag(), "\xc3\xa9");
}

TEST(ValidEdgeCaseTest, KeysAfterServersAreFine) {
  config::LoadResult result = Load(R"EOF(alpha:
  servers:
   - 127.0.0.1:6379:1
  listen: 127.0.0.1:22121
  hash: murmur
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
  EXPECT_EQ(result.bootstrap.pools(0).hash(), "murmur");
}

TEST(ValidEdgeCaseTest, SameAddressWithDistinctNamesIsAllowed) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1 one
   - 127.0.0.1:6379:1 two
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
  EXPECT_EQ(result.bootstrap.pools(0).servers_size(), 2);
}

// --- deliberate deviations: accepted where twemproxy 0.5.0 rejects ------------------------

TEST(DeviationTest, DocumentStartEndAndVersionDirectiveAreAccepted) {
  config::LoadResult result = Load(R"EOF(%YAML 1.1
---
alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
...
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
  EXPECT_EQ(result.bootstrap.pools(0).name(), "alpha");
}

TEST(DeviationTest, LeadingDocumentStartAloneIsAccepted) {
  config::LoadResult result = Load(R"EOF(---
alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
}

TEST(DeviationTest, ReuseportIsAccepted) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  reuseport: true
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
  EXPECT_TRUE(result.bootstrap.pools(0).reuseport());
}

TEST(DeviationTest, ReuseportMustBeABool) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  reuseport: 1
  servers:
   - 127.0.0.1:6379:1
)EOF");
  EXPECT_TRUE(HasError(result, 3, 14, "alpha", "reuseport", "'1' is not \"true\" or \"false\""));
}

}  // namespace
}  // namespace proxy::test

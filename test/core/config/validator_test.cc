// Tests for the post-parse checks: required keys, cross-field rules, duplicate node
// names and listen addresses, listen resolution, and that every error in a file is reported.
#include "core/config/validator.h"

#include <netdb.h>
#include <sys/socket.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "api/codec.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/registry.h"
#include "core/config/config.h"
#include "gtest/gtest.h"
#include "test/core/config/config_test_util.h"

namespace proxy::test {
namespace {

// The first address getaddrinfo gives for "localhost" (what the loader compares), or "".
std::string FirstLocalhostAddress() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (getaddrinfo("localhost", "1", &hints, &result) != 0 || result == nullptr) {
    return "";
  }
  char host[NI_MAXHOST];
  std::string address;
  if (getnameinfo(result->ai_addr, result->ai_addrlen, host, sizeof(host), nullptr, 0,
                  NI_NUMERICHOST) == 0) {
    address = host;
  }
  freeaddrinfo(result);
  return address;
}

TEST(ValidatorTest, ReportsEveryErrorOfEveryPool) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  hash: sha1
  servers:
   - 127.0.0.1:6379:1
beta:
  listen: 127.0.0.1:22122
  servers:
   - 127.0.0.1:6379:0
gamma:
  listen: 127.0.0.1:22123
  timeout: soon
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_EQ(result.errors.size(), 3u) << Describe(result);
  EXPECT_TRUE(HasError(result, 3, 9, "alpha", "hash", "'sha1' is not a valid hash"));
  EXPECT_TRUE(HasError(result, 9, 6, "beta", "servers", "weight is zero"));
  EXPECT_TRUE(HasError(result, 12, 12, "gamma", "timeout", "'soon' is not a number"));
  std::set<int> lines;
  for (const config::Diagnostic& d : result.errors) {
    lines.insert(d.pos.line);
  }
  EXPECT_EQ(lines.size(), 3u);
}

TEST(ValidatorTest, ReportsEveryErrorOfOnePool) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:0
  hash: sha1
  distribution: consistent
  redis: yes
  timeout: -1
  server_connections: 0
  redis_auth: secret
  hash_tag: "{"
  servers:
   - 127.0.0.1:6379
   - 127.0.0.1:99999:1
   - 127.0.0.1:6380:1
   - 127.0.0.1:6380:2
)EOF");
  EXPECT_EQ(result.errors.size(), 11u) << Describe(result);
  EXPECT_TRUE(HasError(result, 2, 11, "alpha", "listen", "invalid port '0'"));
  EXPECT_TRUE(HasError(result, 3, 9, "alpha", "hash", "not a valid hash"));
  EXPECT_TRUE(HasError(result, 4, 17, "alpha", "distribution", "not a valid distribution"));
  EXPECT_TRUE(HasError(result, 5, 10, "alpha", "redis", "is not \"true\" or \"false\""));
  EXPECT_TRUE(HasError(result, 6, 12, "alpha", "timeout", "is not a number"));
  EXPECT_TRUE(HasError(result, 7, 23, "alpha", "server_connections", "cannot be 0"));
  EXPECT_TRUE(HasError(result, 8, 15, "alpha", "redis_auth", "only valid for a redis pool"));
  EXPECT_TRUE(HasError(result, 9, 13, "alpha", "hash_tag", "exactly two characters"));
  EXPECT_TRUE(HasError(result, 11, 6, "alpha", "servers", "expected \"host:port:weight"));
  EXPECT_TRUE(HasError(result, 12, 6, "alpha", "servers", "invalid port '99999'"));
  EXPECT_TRUE(HasError(result, 14, 6, "alpha", "servers", "same node name '127.0.0.1:6380'"));
}

TEST(ValidatorTest, FormatsAllErrorsInSourceOrder) {
  config::LoadResult result = Load(R"EOF(alpha:
  hash: sha1
  servers:
   - 127.0.0.1:6379:1
beta:
  listen: 127.0.0.1:22122
  timeout: x
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_EQ(result.errors.size(), 3u) << Describe(result);
  EXPECT_EQ(config::FormatDiagnostics(result.errors),
            "test.yml:1:1: pool 'alpha': listen: missing: every pool needs listen: host:port or "
            "/path/to/socket [permission]\n"
            "test.yml:2:9: pool 'alpha': hash: 'sha1' is not a valid hash (valid: crc16, crc32, "
            "crc32a, fnv1_32, fnv1_64, fnv1a_32, fnv1a_64, hsieh, jenkins, md5, murmur, "
            "one_at_a_time)\n"
            "test.yml:7:12: pool 'beta': timeout: 'x' is not a number (decimal digits only, no "
            "sign)\n");
}

TEST(ValidatorTest, MissingListenAndServersAreReportedAtThePoolName) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
beta:
  hash: md5
)EOF");
  ASSERT_EQ(result.errors.size(), 2u) << Describe(result);
  EXPECT_TRUE(HasError(result, 5, 1, "beta", "listen", "missing"));
  EXPECT_TRUE(HasError(result, 5, 1, "beta", "servers", "missing"));
}

TEST(ValidatorTest, InvalidListenIsNotAlsoReportedMissing) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: nowhere
  servers:
   - 127.0.0.1:6379
)EOF");
  ASSERT_EQ(result.errors.size(), 2u) << Describe(result);
  EXPECT_TRUE(HasError(result, 2, 11, "alpha", "listen", "'nowhere' is not \"host:port\""));
  EXPECT_TRUE(HasError(result, 4, 6, "alpha", "servers", "expected \"host:port:weight"));
}

TEST(ValidatorTest, RedisAuthIsValidOnARedisPool) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: true
  redis_auth: secret
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
  EXPECT_EQ(result.bootstrap.pools(0).redis_auth(), "secret");
}

TEST(ValidatorTest, RedisAuthOnAnExplicitMemcachePoolIsRejected) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis_auth: secret
  redis: false
  servers:
   - 127.0.0.1:11211:1
)EOF");
  EXPECT_TRUE(HasError(result, 3, 15, "alpha", "redis_auth", "is only valid for a redis pool"));
}

TEST(ValidatorTest, RedisDbOnAMemcachePoolWarns) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis_db: 2
  servers:
   - 127.0.0.1:11211:1
)EOF");
  ASSERT_TRUE(result.ok()) << Describe(result);
  EXPECT_TRUE(HasWarning(result, 3, 13, "alpha", "redis_db", "has no effect on a memcache pool"));
}

// A protocol with checks of its own (registered only in this test; never instantiated): a
// warning on `hash`, and client_auth refused as a key it does not take.
class PickyProtocolFactory : public CodecFactory {
 public:
  absl::string_view Name() const override { return "picky"; }
  absl::string_view Description() const override { return "validator test protocol"; }
  std::vector<PoolConfigIssue> ValidatePool(const config::v1::Pool& pool,
                                            const PoolSourceView& source) const override {
    std::vector<PoolConfigIssue> issues;
    if (source.Written("hash")) {
      issues.push_back(PoolConfigIssue::Warning(
          "hash", absl::StrCat("'", pool.hash(), "' is slow on picky pools")));
    }
    if (source.Written("client_auth")) {
      issues.push_back(PoolConfigIssue::Error("client_auth", "picky pools authenticate no one"));
    }
    if (pool.servers_size() > 0 && source.Line("servers", 0) > 0) {
      issues.push_back(PoolConfigIssue::Warning(
          "servers", absl::StrCat("the first server is on line ", source.Line("servers", 0)))
                           .AtEntry("servers", 0));
    }
    return issues;
  }
  CodecPtr Create(const config::v1::Pool&) const override { return nullptr; }
};
PROXY_REGISTER_FACTORY(PickyProtocolFactory, CodecFactory)

TEST(ValidatorTest, EveryPoolsProtocolChecksItsOwnKeysAtTheirPositions) {
  const std::string yaml = R"EOF(alpha:
  listen: 127.0.0.1:22121
  protocol: picky
  hash: md5
  redis_auth: pool-password
  client_auth:
   - client-password
  servers:
   - 127.0.0.1:6379:1
beta:
  listen: 127.0.0.1:22122
  protocol: picky
  servers:
   - 127.0.0.1:6380:1
)EOF";
  config::LoadResult result = Load(yaml);
  // The protocol's errors and warnings, each with its severity, at its key or entry; the rules
  // of client_auth are redis's, so a picky pool is not told that it replaces redis_auth.
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result);
  EXPECT_TRUE(HasError(result, 7, 4, "alpha", "client_auth", "picky pools authenticate no one"))
      << Describe(result);
  ASSERT_EQ(result.warnings.size(), 3u) << Describe(result);
  EXPECT_TRUE(HasWarning(result, 4, 9, "alpha", "hash", "'md5' is slow on picky pools"))
      << Describe(result);
  EXPECT_TRUE(HasWarning(result, 9, 6, "alpha", "servers", "the first server is on line 9"))
      << Describe(result);
  EXPECT_TRUE(HasWarning(result, 14, 6, "beta", "servers", "the first server is on line 14"))
      << Describe(result);
  // The same pool as redis: client_auth's rules are the redis protocol's.
  config::LoadResult redis =
      Load(absl::StrReplaceAll(yaml, {{"protocol: picky", "protocol: redis"}}));
  EXPECT_TRUE(redis.ok()) << Describe(redis);
  EXPECT_TRUE(HasWarning(redis, 7, 4, "alpha", "client_auth", "replaces redis_auth for clients"))
      << Describe(redis);
}

TEST(ValidatorTest, ServerConnectionsZeroByWrapIsRejected) {
  // 2^32 wraps to 0 (with a warning) and is then rejected like a written 0.
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  server_connections: 4294967296
  servers:
   - 127.0.0.1:6379:1
)EOF");
  EXPECT_TRUE(HasError(result, 3, 23, "alpha", "server_connections", "cannot be 0"));
  EXPECT_TRUE(HasWarning(result, 3, 23, "alpha", "server_connections", "wraps it to 0"));
}

TEST(ValidatorTest, DuplicateNodeNamesAcrossFormsAreRejected) {
  // Port 11211 names the node by its host, which can collide with an explicit name.
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 10.0.0.1:11211:1
   - 10.0.0.2:11211:1 10.0.0.1
   - /tmp/a.sock:1
   - "/tmp/b.sock:1 /tmp/a.sock:"
)EOF");
  ASSERT_EQ(result.errors.size(), 2u) << Describe(result);
  EXPECT_TRUE(HasError(result, 5, 6, "alpha", "servers",
                       "'10.0.0.2:11211:1 10.0.0.1' has the same node name '10.0.0.1' as "
                       "'10.0.0.1:11211:1' (line 4); give each server a distinct name"));
  EXPECT_TRUE(HasError(result, 7, 6, "alpha", "servers", "same node name '/tmp/a.sock:'"));
}

TEST(ValidatorTest, DuplicateNodeNamesInDifferentPoolsAreFine) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
beta:
  listen: 127.0.0.1:22122
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
}

TEST(ValidatorTest, DuplicateNodeNameAfterABrokenEntryPointsAtTheRightLine) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - broken
   - 127.0.0.1:6379:1
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_EQ(result.errors.size(), 2u) << Describe(result);
  EXPECT_TRUE(HasError(result, 4, 6, "alpha", "servers", "'broken': expected"));
  EXPECT_TRUE(HasError(result, 6, 6, "alpha", "servers", "(line 5)"));
}

TEST(ValidatorTest, DuplicateListenIsReportedOnTheLaterPool) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
beta:
  listen: 127.0.0.1:22122
  servers:
   - 127.0.0.1:6379:1
gamma:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result);
  EXPECT_TRUE(HasError(result, 10, 11, "gamma", "listen",
                       "'127.0.0.1:22121' is also the listen address of pool 'alpha'"));
}

TEST(ValidatorTest, DuplicateListenIsDetectedAfterResolution) {
  const std::string address = FirstLocalhostAddress();
  ASSERT_FALSE(address.empty()) << "localhost must resolve (it is in /etc/hosts on Debian)";
  config::LoadResult result = Load(absl::StrReplaceAll(R"EOF(alpha:
  listen: localhost:22121
  servers:
   - 127.0.0.1:6379:1
beta:
  listen: ADDRESS:22121
  servers:
   - 127.0.0.1:6379:1
)EOF",
                                                       {{"ADDRESS", address}}));
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result);
  EXPECT_TRUE(HasError(result, 6, 11, "beta", "listen",
                       "is the same address as 'localhost:22121' of pool 'alpha'"));
}

TEST(ValidatorTest, SameHostOnDifferentPortsIsFine) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: localhost:22121
  servers:
   - 127.0.0.1:6379:1
beta:
  listen: localhost:22122
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
}

TEST(ValidatorTest, DuplicateUnixListenIsDetectedWhateverThePermission) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: /tmp/shardproxy-dup.sock
  servers:
   - 127.0.0.1:6379:1
beta:
  listen: /tmp/shardproxy-dup.sock 0600
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result);
  EXPECT_TRUE(HasError(result, 6, 11, "beta", "listen",
                       "'/tmp/shardproxy-dup.sock 0600' is the same address as "
                       "'/tmp/shardproxy-dup.sock' of pool 'alpha'"));
}

TEST(ValidatorTest, UnresolvableListenNamesTheHostAndTheResolverError) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: no.such.host.invalid:22121
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result);
  EXPECT_TRUE(
      HasError(result, 2, 11, "alpha", "listen", "cannot resolve host 'no.such.host.invalid': "));
  // The resolver's reason follows the colon.
  const std::string& message = result.errors[0].message;
  EXPECT_GT(message.size(), std::string("cannot resolve host 'no.such.host.invalid': ").size());
}

TEST(ValidatorTest, ValidatesWithoutOpeningSockets) {
  // A listen address that is certainly in use elsewhere would still validate: nothing binds.
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 0.0.0.0:1
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_TRUE(LoadsCleanly(result));
}

}  // namespace
}  // namespace proxy::test

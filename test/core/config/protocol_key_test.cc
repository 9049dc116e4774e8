// The `protocol:` pool key (a shardproxy extension): any registered CodecFactory name selects the
// pool's protocol plugin; twemproxy's `redis: true|false` keeps working and may be combined with
// it when both agree. The core builds the pool's codec from Pool.protocol
// (core/proxy/shared_pool.cc), so a protocol plugin linked into the binary is usable from YAML
// without any change in core/.
#include <memory>
#include <string>

#include "absl/strings/str_replace.h"
#include "api/codec.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/registry.h"
#include "core/config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/core/config/config_test_util.h"

namespace proxy::test {
namespace {

using ::testing::HasSubstr;

// A protocol plugin that exists only in this test: registered like the real ones, never
// instantiated (loading a config only checks the name).
class LineProtocolFactory : public CodecFactory {
 public:
  absl::string_view Name() const override { return "lineproto"; }
  absl::string_view Description() const override { return "config loader test protocol"; }
  CodecPtr Create(const config::v1::Pool& pool) const override { return nullptr; }
};
PROXY_REGISTER_FACTORY(LineProtocolFactory, CodecFactory)

std::string Pool(const std::string& keys) {
  return absl::StrReplaceAll(R"EOF(alpha:
  listen: 127.0.0.1:22121
KEYS  servers:
   - 127.0.0.1:6379:1
)EOF",
                             {{"KEYS", keys}});
}

TEST(ProtocolKeyTest, DefaultIsMemcache) {
  config::LoadResult result = Load(Pool(""));
  ASSERT_TRUE(LoadsCleanly(result)) << Describe(result);
  EXPECT_EQ(result.bootstrap.pools(0).protocol(), "memcache");
}

TEST(ProtocolKeyTest, RedisKeyStillSelectsTheProtocol) {
  config::LoadResult on = Load(Pool("  redis: true\n"));
  ASSERT_TRUE(LoadsCleanly(on)) << Describe(on);
  EXPECT_EQ(on.bootstrap.pools(0).protocol(), "redis");
  config::LoadResult off = Load(Pool("  redis: false\n"));
  ASSERT_TRUE(LoadsCleanly(off)) << Describe(off);
  EXPECT_EQ(off.bootstrap.pools(0).protocol(), "memcache");
}

TEST(ProtocolKeyTest, ProtocolKeySelectsEachRegisteredName) {
  for (const char* name : {"redis", "memcache", "lineproto"}) {
    config::LoadResult result = Load(Pool(std::string("  protocol: ") + name + "\n"));
    ASSERT_TRUE(LoadsCleanly(result)) << name << "\n" << Describe(result);
    EXPECT_EQ(result.bootstrap.pools(0).protocol(), name);
  }
}

TEST(ProtocolKeyTest, BothKeysAgreeing) {
  for (const char* keys : {"  redis: true\n  protocol: redis\n",
                           "  protocol: redis\n  redis: true\n",
                           "  redis: false\n  protocol: memcache\n"}) {
    config::LoadResult result = Load(Pool(keys));
    ASSERT_TRUE(LoadsCleanly(result)) << keys << Describe(result);
    EXPECT_EQ(result.bootstrap.pools(0).protocol(),
              std::string(keys).find("redis: true") != std::string::npos ? "redis" : "memcache");
  }
}

TEST(ProtocolKeyTest, BothKeysDisagreeingIsAnErrorAtTheProtocolKey) {
  config::LoadResult result = Load(Pool("  redis: true\n  protocol: memcache\n"));
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result);
  EXPECT_TRUE(HasError(result, 4, 13, "alpha", "protocol",
                       "'memcache' disagrees with 'redis: true' (line 3, which means 'redis'); "
                       "remove one of the two keys"))
      << Describe(result);
  EXPECT_THAT(result.errors[0].ToString(), HasSubstr("test.yml:4:13:"));

  config::LoadResult custom = Load(Pool("  protocol: lineproto\n  redis: false\n"));
  EXPECT_TRUE(HasError(custom, 3, 13, "alpha", "protocol",
                       "'lineproto' disagrees with 'redis: false' (line 4, which means "
                       "'memcache')"))
      << Describe(custom);
}

TEST(ProtocolKeyTest, UnknownNameListsTheRegisteredOnes) {
  config::LoadResult result = Load(Pool("  protocol: mysql\n"));
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result);
  EXPECT_TRUE(HasError(result, 3, 13, "alpha", "protocol",
                       "'mysql' is not a valid protocol (valid: lineproto, memcache, redis)"))
      << Describe(result);
}

TEST(ProtocolKeyTest, UnknownNameWithRedisKeyKeepsTheRedisProtocol) {
  config::LoadResult result = Load(Pool("  redis: true\n  protocol: resp9\n"));
  EXPECT_TRUE(HasError(result, 4, 13, "alpha", "protocol", "'resp9' is not a valid protocol"));
  EXPECT_EQ(result.bootstrap.pools(0).protocol(), "redis");
}

TEST(ProtocolKeyTest, RedisOnlyKeysFollowTheProtocolKey) {
  // redis_auth on a pool that `protocol:` makes memcache is the same mistake as with redis: false.
  config::LoadResult result = Load(Pool("  protocol: memcache\n  redis_auth: secret\n"));
  EXPECT_TRUE(HasError(result, 4, 15, "alpha", "redis_auth", "")) << Describe(result);
  config::LoadResult ok = Load(Pool("  protocol: redis\n  redis_auth: secret\n"));
  EXPECT_TRUE(LoadsCleanly(ok)) << Describe(ok);
}

TEST(ProtocolKeyTest, EmptyOrListValueIsRejected) {
  EXPECT_TRUE(HasError(Load(Pool("  protocol:\n")), 3, 3, "alpha", "protocol", "value is empty"))
      << Describe(Load(Pool("  protocol:\n")));
  config::LoadResult list = Load(Pool("  protocol:\n   - redis\n"));
  EXPECT_FALSE(list.errors.empty());
}

}  // namespace
}  // namespace proxy::test

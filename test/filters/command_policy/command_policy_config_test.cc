// The command_policy filter's config through the real config loader (core/config): a pool's
// `filters:` list in YAML becomes the filter's proto, and Create() validation errors come back
// with file:line:col, pool and filter name, exactly as `proxyctl check` and `proxy -t` print them.
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "api/config/filters/v1/command_policy.pb.h"
#include "api/config/v1/bootstrap.pb.h"
#include "core/config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace proxy::test {
namespace {

using config::filters::v1::CommandPolicyConfig;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Every error as "file:line:col: pool 'p': key: message".
std::vector<std::string> Errors(const config::LoadResult& result) {
  std::vector<std::string> out;
  for (const config::Diagnostic& d : result.errors) out.push_back(d.ToString());
  return out;
}

TEST(CommandPolicyConfigTest, YamlFillsTheConfigProto) {
  config::LoadResult result = config::LoadConfigText(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: true
  servers:
   - 127.0.0.1:6379:1
  filters:
   - name: command_policy
     config:
       deny_commands:
        - FLUSHALL
        - del
       read_only: true
       rate_limits:
        - command: GET
          per_second: 5
          burst: 10
        - command: mget
          per_second: 100
   - reject_unsupported
   - hash_tag
   - router
   - stats
)EOF",
                                                     "policy.yml");
  ASSERT_TRUE(result.ok()) << absl::StrJoin(Errors(result), "\n");
  EXPECT_THAT(result.warnings, IsEmpty());
  const config::v1::Pool& pool = result.bootstrap.pools(0);
  ASSERT_EQ(pool.filters_size(), 5);
  EXPECT_EQ(pool.filters(0).name(), "command_policy");
  EXPECT_EQ(pool.filters(0).config_type(), "proxy.config.filters.v1.CommandPolicyConfig");
  CommandPolicyConfig config;
  ASSERT_TRUE(config.ParseFromString(pool.filters(0).typed_config()));
  EXPECT_THAT(config.deny_commands(), ElementsAre("FLUSHALL", "del"));
  EXPECT_TRUE(config.read_only());
  EXPECT_THAT(config.allow_commands(), IsEmpty());
  ASSERT_EQ(config.rate_limits_size(), 2);
  EXPECT_EQ(config.rate_limits(0).command(), "GET");
  EXPECT_EQ(config.rate_limits(0).per_second(), 5u);
  EXPECT_EQ(config.rate_limits(0).burst(), 10u);
  EXPECT_EQ(config.rate_limits(1).command(), "mget");
  EXPECT_EQ(config.rate_limits(1).burst(), 0u);
}

TEST(CommandPolicyConfigTest, ABareNameIsAnEmptyPolicy) {
  config::LoadResult result = config::LoadConfigText(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:11211:1
  filters:
   - command_policy
   - hash_tag
   - router
)EOF",
                                                     "bare.yml");
  ASSERT_TRUE(result.ok()) << absl::StrJoin(Errors(result), "\n");
  EXPECT_EQ(result.bootstrap.pools(0).filters(0).typed_config(), "");
}

TEST(CommandPolicyConfigTest, FactoryErrorsCarryTheConfigPosition) {
  config::LoadResult result = config::LoadConfigText(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: true
  servers:
   - 127.0.0.1:6379:1
  filters:
   - name: command_policy
     config:
       allow_commands:
        - GET
       deny_commands:
        - get
   - router
beta:
  listen: 127.0.0.1:22122
  redis: true
  servers:
   - 127.0.0.1:6380:1
  filters:
   - name: command_policy
     config:
       rate_limits:
        - command: GET
          per_second: 0
   - router
)EOF",
                                                     "bad.yml");
  EXPECT_THAT(
      Errors(result),
      ElementsAre("bad.yml:9:8: pool 'alpha': filters: command_policy: deny_commands[0]: 'get' "
                  "is also allowed by allow_commands[0]; a command cannot be both allowed and "
                  "denied",
                  "bad.yml:22:8: pool 'beta': filters: command_policy: "
                  "rate_limits[0].per_second: must be at least 1 (to refuse a command "
                  "altogether, list it in deny_commands)"));
}

TEST(CommandPolicyConfigTest, LoaderErrorsPointAtTheBadValue) {
  config::LoadResult result = config::LoadConfigText(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: true
  servers:
   - 127.0.0.1:6379:1
  filters:
   - name: command_policy
     config:
       read_only: yes please
       rate_limits:
        - command: GET
          per_second: -5
       deny: [DEL]
   - router
)EOF",
                                                     "typo.yml");
  EXPECT_THAT(
      Errors(result),
      ElementsAre(
          "typo.yml:9:19: pool 'alpha': filters: command_policy: read_only: 'yes please' is not "
          "\"true\" or \"false\"",
          "typo.yml:12:23: pool 'alpha': filters: command_policy: per_second: '-5' is not a "
          "non-negative 32-bit integer",
          "typo.yml:13:8: pool 'alpha': filters: command_policy: unknown setting 'deny' (valid: "
          "allow_commands, deny_commands, read_only, rate_limits)",
          // The rate limit whose per_second could not be read is then 0: the factory says so too.
          "typo.yml:9:8: pool 'alpha': filters: command_policy: rate_limits[0].per_second: must "
          "be at least 1 (to refuse a command altogether, list it in deny_commands)"));
}

TEST(CommandPolicyConfigTest, UnknownNamesAreAccepted) {
  config::LoadResult result = config::LoadConfigText(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: true
  servers:
   - 127.0.0.1:6379:1
  filters:
   - name: command_policy
     config:
       allow_commands:
        - GET
        - MYMODULE.QUERY
   - router
)EOF",
                                                     "ok.yml");
  EXPECT_TRUE(result.ok()) << absl::StrJoin(Errors(result), "\n");
}

}  // namespace
}  // namespace proxy::test

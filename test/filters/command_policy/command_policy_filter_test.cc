// Tests of the command_policy filter: allow/deny lists, read-only pools and token-bucket rate
// limits (driven by an injected clock), refusal texts and counters, and config validation
// through the registered factory.
#include "filters/command_policy/command_policy_filter.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "api/codec.h"
#include "api/config/filters/v1/command_policy.pb.h"
#include "api/config/filters/v1/hash_tag.pb.h"
#include "api/filter.h"
#include "api/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/fakes/filter_fakes.h"
#include "test/fakes/in_memory_stats.h"

namespace proxy::filters::command_policy {
namespace {

using config::filters::v1::CommandPolicyConfig;
using ::proxy::test::CreateRegisteredFilter;
using ::proxy::test::FakeFilterCallbacks;
using ::proxy::test::FakePoolView;
using ::proxy::test::InMemoryStats;
using ::proxy::test::MakeRequest;
using ::proxy::test::MakeTestPool;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr uint64_t kMs = 1000000;  // nanoseconds

// A request as a decoder makes it, with its write flag.
Request Make(absl::string_view command, std::initializer_list<absl::string_view> args,
             bool is_write = false, CommandKind kind = CommandKind::kRead,
             uint8_t key_step = 1) {
  Request request = MakeRequest(command, kind, args, key_step);
  request.is_write = is_write;
  return request;
}

Request Get(absl::string_view key = "k") { return Make("GET", {key}); }
Request Set() { return Make("SET", {"k"}, /*is_write=*/true, CommandKind::kWrite); }

CommandPolicyConfig::RateLimit* AddLimit(CommandPolicyConfig* config, absl::string_view command,
                                         uint32_t per_second, uint32_t burst = 0) {
  CommandPolicyConfig::RateLimit* limit = config->add_rate_limits();
  limit->set_command(std::string(command));
  limit->set_per_second(per_second);
  limit->set_burst(burst);
  return limit;
}

class CommandPolicyFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config::v1::Pool pool = MakeTestPool({"127.0.0.1:32011:1", "127.0.0.1:32012:1"}, "md5");
    pool.set_name("alpha");
    auto view = FakePoolView::Create(std::move(pool));
    ASSERT_TRUE(view.ok()) << view.status();
    pool_ = *std::move(view);
    callbacks_ = std::make_unique<FakeFilterCallbacks>(*pool_);
  }

  // Builds the filter the way the factory does, but on the fake clock, counting into stats_.
  void MakeFilter(const CommandPolicyConfig& config) {
    absl::StatusOr<std::shared_ptr<const CommandPolicy>> policy = CommandPolicy::Create(config);
    ASSERT_TRUE(policy.ok()) << policy.status();
    auto limiter = std::make_shared<RateLimiter>((*policy)->limits(), [this] { return now_; });
    auto counters = std::make_shared<const PolicyCounters>(stats_);
    filter_ = std::make_unique<CommandPolicyFilter>(*policy, limiter, counters);
  }

  // Runs one request through the filter.
  FilterStatus Run(Request request) {
    callbacks_->Reset();
    return filter_->OnRequest(request, *callbacks_);
  }

  // The single local error the last request got ("" when none or several).
  std::string OnlyError() const {
    return callbacks_->local_errors().size() == 1 ? callbacks_->local_errors()[0] : "";
  }

  // How many of `n` GETs in a row pass at the current fake time.
  int PassingGets(int n) {
    int passed = 0;
    for (int i = 0; i < n; ++i) {
      if (Run(Get()) == FilterStatus::kContinue) ++passed;
    }
    return passed;
  }

  uint64_t now_ = 5000 * kMs;
  InMemoryStats stats_;
  std::unique_ptr<FakePoolView> pool_;
  std::unique_ptr<FakeFilterCallbacks> callbacks_;
  FilterPtr filter_;
};

TEST_F(CommandPolicyFilterTest, EmptyConfigPassesEverything) {
  MakeFilter(CommandPolicyConfig());
  EXPECT_EQ(Run(Get()), FilterStatus::kContinue);
  EXPECT_EQ(Run(Set()), FilterStatus::kContinue);
  EXPECT_EQ(Run(Make("FLUSHALL", {}, false, CommandKind::kUnsupported)), FilterStatus::kContinue);
  EXPECT_FALSE(callbacks_->answered_locally());
  EXPECT_TRUE(stats_.Counters().count("command_policy.denied"));
  EXPECT_EQ(stats_.CounterValue("command_policy.denied"), 0u);
}

TEST_F(CommandPolicyFilterTest, DeniesListedCommandsCaseInsensitively) {
  CommandPolicyConfig config;
  config.add_deny_commands("del");
  config.add_deny_commands("FLUSHDB");
  MakeFilter(config);
  EXPECT_EQ(Run(Make("DEL", {"a", "b"}, true, CommandKind::kMultiKey)), FilterStatus::kStop);
  EXPECT_EQ(OnlyError(), "command 'DEL' is refused: pool 'alpha' denies it");
  EXPECT_EQ(callbacks_->EncodedErrors(),
            "-ERR command 'DEL' is refused: pool 'alpha' denies it\r\n");
  EXPECT_THAT(callbacks_->local_replies(), IsEmpty());
  EXPECT_EQ(Run(Make("FLUSHDB", {}, false, CommandKind::kUnsupported)), FilterStatus::kStop);
  EXPECT_EQ(OnlyError(), "command 'FLUSHDB' is refused: pool 'alpha' denies it");
  EXPECT_EQ(Run(Get()), FilterStatus::kContinue);
  EXPECT_EQ(Run(Set()), FilterStatus::kContinue);
  EXPECT_EQ(stats_.CounterValue("command_policy.denied"), 2u);
}

TEST_F(CommandPolicyFilterTest, NamesMemcacheCommandsAsTheClientSentThem) {
  CommandPolicyConfig config;
  config.add_deny_commands("DELETE");
  config.set_read_only(true);
  MakeFilter(config);
  EXPECT_EQ(Run(Make("delete", {"k"}, true, CommandKind::kWrite)), FilterStatus::kStop);
  EXPECT_EQ(OnlyError(), "command 'delete' is refused: pool 'alpha' denies it");
  EXPECT_EQ(Run(Make("set", {"k"}, true, CommandKind::kWrite)), FilterStatus::kStop);
  EXPECT_EQ(OnlyError(), "command 'set' is refused: pool 'alpha' is read-only");
  EXPECT_EQ(Run(Make("get", {"k"})), FilterStatus::kContinue);
}

TEST_F(CommandPolicyFilterTest, NamesUnknownCommandsByTheDecodersName) {
  CommandPolicyConfig config;
  config.add_deny_commands("FOO");
  MakeFilter(config);
  EXPECT_EQ(Run(Make("", {"FOO", "x"}, false, CommandKind::kUnsupported)), FilterStatus::kStop);
  EXPECT_EQ(OnlyError(), "command 'FOO' is refused: pool 'alpha' denies it");
  // A name the policy does not know passes on (reject_unsupported answers it).
  EXPECT_EQ(Run(Make("", {"BAR"}, false, CommandKind::kUnsupported)), FilterStatus::kContinue);
}

TEST_F(CommandPolicyFilterTest, AllowListRefusesEveryOtherCommand) {
  CommandPolicyConfig config;
  config.add_allow_commands("GET");
  config.add_allow_commands("mget");
  MakeFilter(config);
  EXPECT_EQ(Run(Get()), FilterStatus::kContinue);
  EXPECT_EQ(Run(Make("MGET", {"a", "b"}, false, CommandKind::kMultiKey)), FilterStatus::kContinue);
  EXPECT_EQ(Run(Make("get", {"a"})), FilterStatus::kContinue);
  EXPECT_EQ(Run(Set()), FilterStatus::kStop);
  EXPECT_EQ(OnlyError(), "command 'SET' is refused: pool 'alpha' allows only GET, mget");
  EXPECT_EQ(Run(Make("HGET", {"h", "f"})), FilterStatus::kStop);
  EXPECT_EQ(Run(Make("", {"NOPE"}, false, CommandKind::kUnsupported)), FilterStatus::kStop);
  EXPECT_EQ(OnlyError(), "command 'NOPE' is refused: pool 'alpha' allows only GET, mget");
  EXPECT_EQ(Run(Make("", {}, false, CommandKind::kUnsupported)), FilterStatus::kStop);
  EXPECT_EQ(stats_.CounterValue("command_policy.not_allowed"), 4u);
}

TEST_F(CommandPolicyFilterTest, AllowListMessageIsBounded) {
  CommandPolicyConfig config;
  for (int i = 0; i < 12; ++i) config.add_allow_commands(absl::StrCat("C", i));
  config.add_allow_commands("c0");  // the same name again is listed once
  MakeFilter(config);
  Run(Set());
  EXPECT_EQ(OnlyError(),
            "command 'SET' is refused: pool 'alpha' allows only C0, C1, C2, C3, C4, C5, C6, C7, "
            "C8, C9, ... (12 in all)");
}

TEST_F(CommandPolicyFilterTest, ReadOnlyRefusesWritesAndServesReads) {
  CommandPolicyConfig config;
  config.set_read_only(true);
  MakeFilter(config);
  EXPECT_EQ(Run(Set()), FilterStatus::kStop);
  EXPECT_EQ(OnlyError(), "command 'SET' is refused: pool 'alpha' is read-only");
  EXPECT_EQ(Run(Make("DEL", {"a", "b"}, true, CommandKind::kMultiKey)), FilterStatus::kStop);
  EXPECT_EQ(OnlyError(), "command 'DEL' is refused: pool 'alpha' is read-only");
  EXPECT_EQ(Run(Make("MSET", {"a", "1", "b", "2"}, true, CommandKind::kMultiKey, 2)),
            FilterStatus::kStop);
  EXPECT_EQ(OnlyError(), "command 'MSET' is refused: pool 'alpha' is read-only");
  EXPECT_EQ(Run(Get()), FilterStatus::kContinue);
  EXPECT_EQ(Run(Make("MGET", {"a", "b"}, false, CommandKind::kMultiKey)), FilterStatus::kContinue);
  EXPECT_EQ(stats_.CounterValue("command_policy.read_only"), 3u);
}

TEST_F(CommandPolicyFilterTest, DenyIsCheckedBeforeReadOnly) {
  CommandPolicyConfig config;
  config.set_read_only(true);
  config.add_deny_commands("SET");
  MakeFilter(config);
  Run(Set());
  EXPECT_EQ(OnlyError(), "command 'SET' is refused: pool 'alpha' denies it");
}

TEST_F(CommandPolicyFilterTest, RateLimitPassesTheBurstThenRefuses) {
  CommandPolicyConfig config;
  AddLimit(&config, "GET", 5, 5);
  MakeFilter(config);
  EXPECT_EQ(PassingGets(5), 5);
  EXPECT_EQ(Run(Get()), FilterStatus::kStop);
  EXPECT_EQ(OnlyError(), "command 'GET' is over its rate limit of 5 per second");
  EXPECT_EQ(callbacks_->EncodedErrors(),
            "-ERR command 'GET' is over its rate limit of 5 per second\r\n");
  EXPECT_EQ(stats_.CounterValue("command_policy.rate_limited"), 1u);
}

TEST_F(CommandPolicyFilterTest, RateLimitRefillsAtTheConfiguredRate) {
  CommandPolicyConfig config;
  AddLimit(&config, "get", 5, 5);
  MakeFilter(config);
  ASSERT_EQ(PassingGets(10), 5);
  now_ += 199 * kMs;  // 0.995 of a token
  EXPECT_EQ(PassingGets(1), 0);
  now_ += 1 * kMs;  // now exactly one token
  EXPECT_EQ(PassingGets(3), 1);
  now_ += 600 * kMs;  // three tokens
  EXPECT_EQ(PassingGets(10), 3);
  now_ += 60000 * kMs;  // a long idle time fills the bucket only up to the burst
  EXPECT_EQ(PassingGets(10), 5);
  EXPECT_EQ(stats_.CounterValue("command_policy.rate_limited"), 5u + 1 + 2 + 7 + 5);
}

TEST_F(CommandPolicyFilterTest, BurstDefaultsToOneSecondsWorth) {
  CommandPolicyConfig config;
  AddLimit(&config, "GET", 3);
  MakeFilter(config);
  EXPECT_EQ(PassingGets(10), 3);
}

TEST_F(CommandPolicyFilterTest, BurstMayExceedTheRate) {
  CommandPolicyConfig config;
  AddLimit(&config, "GET", 1, 10);
  MakeFilter(config);
  EXPECT_EQ(PassingGets(20), 10);
  now_ += 1000 * kMs;
  EXPECT_EQ(PassingGets(5), 1);
  now_ += 3500 * kMs;
  EXPECT_EQ(PassingGets(5), 3);
}

TEST_F(CommandPolicyFilterTest, HighRatesDoNotOverflow) {
  CommandPolicyConfig config;
  AddLimit(&config, "GET", 4294967295u, 4294967295u);
  MakeFilter(config);
  EXPECT_EQ(PassingGets(1000), 1000);
  now_ += 3600000 * kMs;  // an hour
  EXPECT_EQ(PassingGets(1000), 1000);
}

TEST_F(CommandPolicyFilterTest, RateLimitsArePerCommand) {
  CommandPolicyConfig config;
  AddLimit(&config, "GET", 1, 1);
  AddLimit(&config, "MGET", 2, 2);
  MakeFilter(config);
  EXPECT_EQ(PassingGets(3), 1);
  int mgets = 0;
  for (int i = 0; i < 4; ++i) {
    if (Run(Make("MGET", {"a", "b"}, false, CommandKind::kMultiKey)) == FilterStatus::kContinue) {
      ++mgets;
    }
  }
  EXPECT_EQ(mgets, 2);
  EXPECT_THAT(OnlyError(), HasSubstr("'MGET' is over its rate limit of 2 per second"));
  // Commands without a limit are never limited.
  for (int i = 0; i < 100; ++i) ASSERT_EQ(Run(Set()), FilterStatus::kContinue);
}

TEST_F(CommandPolicyFilterTest, RefusedRequestsTakeNoToken) {
  CommandPolicyConfig config;
  config.set_read_only(true);
  AddLimit(&config, "SET", 1, 1);
  MakeFilter(config);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Run(Set()), FilterStatus::kStop);
    EXPECT_EQ(OnlyError(), "command 'SET' is refused: pool 'alpha' is read-only");
  }
  EXPECT_EQ(stats_.CounterValue("command_policy.rate_limited"), 0u);
}

TEST_F(CommandPolicyFilterTest, QuotesClientChosenNamesSafely) {
  CommandPolicyConfig config;
  config.add_allow_commands("GET");
  MakeFilter(config);
  Run(Make("", {"FO\r\nO"}, false, CommandKind::kUnsupported));
  EXPECT_EQ(OnlyError(), "command 'FO??O' is refused: pool 'alpha' allows only GET");
  Run(Make("", {std::string(100, 'X')}, false, CommandKind::kUnsupported));
  EXPECT_THAT(OnlyError(), HasSubstr(absl::StrCat("'", std::string(64, 'X'), "...'")));
}

// --- The registered factory --------------------------------------------------------------------

class CommandPolicyFactoryTest : public CommandPolicyFilterTest {
 protected:
  // What the registered factory does (its Create() adds only the config's type check), on
  // the fixture's fake clock.
  absl::StatusOr<FilterFactoryFn> Create(const CommandPolicyConfig& config,
                                         bool validate_only = false) {
    FactoryContext context{pool_->Config(), validate_only, validate_only ? nullptr : &stats_};
    return CreateFilterFactory(config, context, [this] { return now_; });
  }

  // The error Create() reports for `config` ("" when it succeeds).
  std::string CreateError(const CommandPolicyConfig& config) {
    absl::StatusOr<FilterFactoryFn> made = Create(config, /*validate_only=*/true);
    if (made.ok()) return "";
    EXPECT_EQ(made.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(made.status().message());
  }
};

// Name, config type and the factory contract: test/filters/factory_test.cc.
TEST_F(CommandPolicyFactoryTest, DescriptionNamesRateLimits) {
  const FilterFactory* factory = Registry<FilterFactory>::Find("command_policy");
  ASSERT_NE(factory, nullptr);
  EXPECT_THAT(std::string(factory->Description()), HasSubstr("rate limits"));
}

TEST_F(CommandPolicyFactoryTest, BuildsWorkingFiltersAndCountsInThePoolScope) {
  CommandPolicyConfig config;
  config.add_deny_commands("DEL");
  config.set_read_only(true);
  absl::StatusOr<FilterFactoryFn> factory = Create(config);
  ASSERT_TRUE(factory.ok()) << factory.status();
  filter_ = (*factory)();
  EXPECT_EQ(Run(Make("DEL", {"a"}, true, CommandKind::kMultiKey)), FilterStatus::kStop);
  EXPECT_EQ(Run(Set()), FilterStatus::kStop);
  EXPECT_EQ(Run(Get()), FilterStatus::kContinue);
  EXPECT_EQ(stats_.CounterValue("command_policy.denied"), 1u);
  EXPECT_EQ(stats_.CounterValue("command_policy.read_only"), 1u);
}

TEST_F(CommandPolicyFactoryTest, FiltersOfOneCreateShareTheirBuckets) {
  // One Create() = one pool on one worker: its connections draw from the same buckets.
  CommandPolicyConfig config;
  AddLimit(&config, "GET", 1, 2);
  absl::StatusOr<FilterFactoryFn> factory = Create(config);
  ASSERT_TRUE(factory.ok()) << factory.status();
  FilterPtr first = (*factory)();
  FilterPtr second = (*factory)();
  filter_ = std::move(first);
  EXPECT_EQ(PassingGets(1), 1);
  filter_ = std::move(second);
  EXPECT_EQ(PassingGets(1), 1);
  EXPECT_EQ(PassingGets(1), 0);  // the fake clock has not moved: no token came back
  now_ += 1000 * kMs;  // one token back, on the clock the factory was given
  EXPECT_EQ(PassingGets(2), 1);
  // Another Create() (another worker) has its own buckets.
  absl::StatusOr<FilterFactoryFn> other_worker = Create(config);
  ASSERT_TRUE(other_worker.ok()) << other_worker.status();
  filter_ = (*other_worker)();
  EXPECT_EQ(PassingGets(2), 2);
}

TEST_F(CommandPolicyFactoryTest, ValidateOnlyNeedsNoStatsScope) {
  CommandPolicyConfig config;
  config.add_deny_commands("DEL");
  AddLimit(&config, "GET", 10);
  absl::StatusOr<FilterFactoryFn> factory = Create(config, /*validate_only=*/true);
  ASSERT_TRUE(factory.ok()) << factory.status();
  filter_ = (*factory)();
  EXPECT_EQ(Run(Make("DEL", {"a"}, true, CommandKind::kMultiKey)), FilterStatus::kStop);
  EXPECT_EQ(stats_.Lookups(), 0u);
}

TEST_F(CommandPolicyFactoryTest, AcceptsUnknownCommandNames) {
  CommandPolicyConfig config;
  config.add_allow_commands("MY.MODULE.CMD");
  config.add_deny_commands("NOT_A_COMMAND");
  AddLimit(&config, "my.module.cmd", 1);
  EXPECT_EQ(CreateError(config), "");
}

TEST_F(CommandPolicyFactoryTest, RejectsEmptyNames) {
  CommandPolicyConfig config;
  config.add_allow_commands("GET");
  config.add_allow_commands("");
  EXPECT_EQ(CreateError(config), "allow_commands[1]: must not be empty; give a command name");
  config = CommandPolicyConfig();
  config.add_deny_commands("");
  EXPECT_EQ(CreateError(config), "deny_commands[0]: must not be empty; give a command name");
  config = CommandPolicyConfig();
  AddLimit(&config, "", 5);
  EXPECT_EQ(CreateError(config),
            "rate_limits[0].command: must not be empty; give a command name");
}

TEST_F(CommandPolicyFactoryTest, RejectsNamesThatAreNotOneWord) {
  CommandPolicyConfig config;
  config.add_deny_commands("FLUSH ALL");
  EXPECT_EQ(CreateError(config),
            "deny_commands[0]: 'FLUSH ALL' is not a single command name (no spaces or control "
            "characters)");
  config = CommandPolicyConfig();
  config.add_allow_commands("GET\r\n");
  EXPECT_THAT(CreateError(config), HasSubstr("allow_commands[0]: 'GET?\?' is not a single"));
}

TEST_F(CommandPolicyFactoryTest, RejectsANameBothAllowedAndDenied) {
  CommandPolicyConfig config;
  config.add_allow_commands("GET");
  config.add_allow_commands("SET");
  config.add_deny_commands("set");
  EXPECT_EQ(CreateError(config),
            "deny_commands[0]: 'set' is also allowed by allow_commands[1]; a command cannot be "
            "both allowed and denied");
}

TEST_F(CommandPolicyFactoryTest, RejectsAZeroRate) {
  CommandPolicyConfig config;
  AddLimit(&config, "GET", 0, 5);
  EXPECT_EQ(CreateError(config),
            "rate_limits[0].per_second: must be at least 1 (to refuse a command altogether, "
            "list it in deny_commands)");
}

TEST_F(CommandPolicyFactoryTest, RejectsTwoLimitsForOneCommand) {
  CommandPolicyConfig config;
  AddLimit(&config, "GET", 5);
  AddLimit(&config, "get", 50);
  EXPECT_EQ(CreateError(config),
            "rate_limits[1].command: 'get' already has a rate limit in rate_limits[0] (one limit "
            "per command)");
}

TEST_F(CommandPolicyFactoryTest, RejectsLimitsThatCouldNeverApply) {
  CommandPolicyConfig config;
  config.add_deny_commands("DEL");
  AddLimit(&config, "del", 5);
  EXPECT_EQ(CreateError(config),
            "rate_limits[0].command: 'del' is denied by deny_commands[0]; its rate limit would "
            "never apply");
  config = CommandPolicyConfig();
  config.add_allow_commands("GET");
  AddLimit(&config, "GET", 5);
  AddLimit(&config, "SET", 5);
  EXPECT_EQ(CreateError(config),
            "rate_limits[1].command: 'SET' is not in allow_commands; its rate limit would never "
            "apply");
}

TEST_F(CommandPolicyFactoryTest, ReportsEveryProblemAtOnce) {
  CommandPolicyConfig config;
  config.add_allow_commands("");
  config.add_deny_commands("a b");
  AddLimit(&config, "GET", 0);
  EXPECT_EQ(CreateError(config),
            "allow_commands[0]: must not be empty; give a command name; deny_commands[0]: 'a b' "
            "is not a single command name (no spaces or control characters); "
            "rate_limits[0].command: 'GET' is not in allow_commands; its rate limit would never "
            "apply; rate_limits[0].per_second: must be at least 1 (to refuse a command "
            "altogether, list it in deny_commands)");
}

}  // namespace
}  // namespace proxy::filters::command_policy

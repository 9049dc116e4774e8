// Tests of the reject_unsupported filter: clear error replies for commands that cannot be proxied,
// the per-pool deny list, and config validation through the registered factory.
#include "filters/reject_unsupported/reject_unsupported_filter.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "api/codec.h"
#include "api/config/filters/v1/hash_tag.pb.h"
#include "api/config/filters/v1/reject_unsupported.pb.h"
#include "api/filter.h"
#include "api/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/fakes/filter_fakes.h"

namespace proxy::filters::reject_unsupported {
namespace {

using ::proxy::test::CreateRegisteredFilter;
using ::proxy::test::FakeFilterCallbacks;
using ::proxy::test::FakePoolView;
using ::proxy::test::MakeRequest;
using ::proxy::test::MakeTestPool;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class RejectUnsupportedFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pool = FakePoolView::Create(
        MakeTestPool({"127.0.0.1:32011:1", "127.0.0.1:32012:1"}, "md5", "ketama"));
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
    callbacks_ = std::make_unique<FakeFilterCallbacks>(*pool_);
    MakeFilter(config::filters::v1::RejectUnsupportedConfig());
  }

  void MakeFilter(const config::filters::v1::RejectUnsupportedConfig& config) {
    absl::StatusOr<FilterFactoryFn> factory =
        CreateRegisteredFilter("reject_unsupported", pool_->Config(), &config);
    ASSERT_TRUE(factory.ok()) << factory.status();
    filter_ = (*factory)();
    ASSERT_NE(filter_, nullptr);
  }

  // Runs one request through the filter and returns its status.
  FilterStatus Run(Request request) {
    callbacks_->Reset();
    return filter_->OnRequest(request, *callbacks_);
  }

  // The single local error the last request got ("" when none or several).
  std::string OnlyError() const {
    return callbacks_->local_errors().size() == 1 ? callbacks_->local_errors()[0] : "";
  }

  std::unique_ptr<FakePoolView> pool_;
  std::unique_ptr<FakeFilterCallbacks> callbacks_;
  FilterPtr filter_;
};

TEST_F(RejectUnsupportedFilterTest, RejectsKeysExplainingThatKeysAreSpread) {
  EXPECT_EQ(Run(MakeRequest("KEYS", CommandKind::kUnsupported, {"*"})), FilterStatus::kStop);
  EXPECT_EQ(OnlyError(),
            "unsupported command 'KEYS': keys are spread over several servers; run it on each "
            "server directly");
  EXPECT_THAT(callbacks_->local_replies(), IsEmpty());
  EXPECT_EQ(callbacks_->EncodedErrors(),
            "-ERR unsupported command 'KEYS': keys are spread over several servers; run it on "
            "each server directly\r\n");
}

TEST_F(RejectUnsupportedFilterTest, RejectsTransactionCommands) {
  for (absl::string_view command : {"MULTI", "EXEC", "WATCH", "DISCARD", "UNWATCH"}) {
    EXPECT_EQ(Run(MakeRequest(command, CommandKind::kUnsupported, {})), FilterStatus::kStop);
    EXPECT_EQ(OnlyError(), absl::StrCat("unsupported command '", command,
                                        "': transactions cannot span a sharding proxy"));
  }
}

TEST_F(RejectUnsupportedFilterTest, RejectsPubSubCommands) {
  for (absl::string_view command : {"SUBSCRIBE", "PSUBSCRIBE", "UNSUBSCRIBE", "PUBLISH"}) {
    EXPECT_EQ(Run(MakeRequest(command, CommandKind::kUnsupported, {"news"})), FilterStatus::kStop);
    EXPECT_EQ(OnlyError(),
              absl::StrCat("unsupported command '", command, "': pub/sub is not proxied"));
  }
}

TEST_F(RejectUnsupportedFilterTest, RejectsBlockingCommands) {
  for (absl::string_view command : {"BLPOP", "BRPOP", "BLMOVE", "BZPOPMIN"}) {
    EXPECT_EQ(Run(MakeRequest(command, CommandKind::kUnsupported, {"q", "0"})),
              FilterStatus::kStop);
    EXPECT_EQ(OnlyError(), absl::StrCat("unsupported command '", command,
                                        "': blocking commands are not proxied"));
  }
}

TEST_F(RejectUnsupportedFilterTest, RejectsOtherFamiliesWithTheirReason) {
  Run(MakeRequest("SELECT", CommandKind::kUnsupported, {"1"}));
  EXPECT_THAT(OnlyError(), HasSubstr("redis_db"));
  Run(MakeRequest("INFO", CommandKind::kUnsupported, {}));
  EXPECT_THAT(OnlyError(), HasSubstr("run it on each server directly"));
  Run(MakeRequest("RENAME", CommandKind::kUnsupported, {"a", "b"}));
  EXPECT_THAT(OnlyError(), HasSubstr("different servers"));
}

TEST_F(RejectUnsupportedFilterTest, RejectsKnownCommandWithoutSpecificReason) {
  Run(MakeRequest("ECHO", CommandKind::kUnsupported, {"hi"}));
  EXPECT_EQ(OnlyError(), "unsupported command 'ECHO': it is not proxied");
}

TEST_F(RejectUnsupportedFilterTest, NamesUnknownCommandFromFirstArgument) {
  EXPECT_EQ(Run(MakeRequest("", CommandKind::kUnsupported, {"FOO", "bar"})), FilterStatus::kStop);
  EXPECT_EQ(OnlyError(), "unknown or unsupported command 'FOO'");
}

TEST_F(RejectUnsupportedFilterTest, ExplainsKnownNameEvenWhenCodecLeftCommandEmpty) {
  Run(MakeRequest("", CommandKind::kUnsupported, {"KEYS", "*"}));
  EXPECT_THAT(OnlyError(), HasSubstr("unsupported command 'KEYS': keys are spread"));
}

TEST_F(RejectUnsupportedFilterTest, QuotesOnlyPrintableBoundedNames) {
  Run(MakeRequest("", CommandKind::kUnsupported, {"FO\r\nO"}));
  EXPECT_EQ(OnlyError(), "unknown or unsupported command 'FO??O'");
  Run(MakeRequest("", CommandKind::kUnsupported, {std::string(100, 'X')}));
  EXPECT_EQ(OnlyError(),
            absl::StrCat("unknown or unsupported command '", std::string(64, 'X'), "...'"));
}

TEST_F(RejectUnsupportedFilterTest, RejectsUnsupportedWithoutAnyName) {
  Run(MakeRequest("", CommandKind::kUnsupported, {}));
  EXPECT_EQ(OnlyError(), "unknown or unsupported command");
}

TEST_F(RejectUnsupportedFilterTest, ExplainsMemcacheCommandsInTheirOwnCase) {
  Run(MakeRequest("flush_all", CommandKind::kUnsupported, {}));
  EXPECT_EQ(OnlyError(),
            "unsupported command 'flush_all': keys are spread over several servers; run it on "
            "each server directly");
  Run(MakeRequest("stats", CommandKind::kUnsupported, {}));
  EXPECT_THAT(OnlyError(), HasSubstr("unsupported command 'stats': it addresses one server"));
}

TEST_F(RejectUnsupportedFilterTest, PassesSupportedRequestsUntouched) {
  EXPECT_EQ(Run(MakeRequest("GET", CommandKind::kRead, {"k"})), FilterStatus::kContinue);
  EXPECT_EQ(Run(MakeRequest("SET", CommandKind::kWrite, {"k"})), FilterStatus::kContinue);
  EXPECT_EQ(Run(MakeRequest("MGET", CommandKind::kMultiKey, {"a", "b"})), FilterStatus::kContinue);
  EXPECT_EQ(Run(MakeRequest("PING", CommandKind::kLocal, {})), FilterStatus::kContinue);
  EXPECT_FALSE(callbacks_->answered_locally());
  EXPECT_FALSE(callbacks_->Context().routed);
}

TEST_F(RejectUnsupportedFilterTest, DenyListRefusesCommandsCaseInsensitively) {
  config::filters::v1::RejectUnsupportedConfig config;
  config.add_deny_commands("flushall");
  config.add_deny_commands("Get");
  MakeFilter(config);

  EXPECT_EQ(Run(MakeRequest("GET", CommandKind::kRead, {"k"})), FilterStatus::kStop);
  EXPECT_EQ(OnlyError(), "command 'GET' is disabled on this pool");
  // Memcache names are lower case; the list matches them too.
  EXPECT_EQ(Run(MakeRequest("get", CommandKind::kRead, {"k"})), FilterStatus::kStop);
  EXPECT_EQ(OnlyError(), "command 'get' is disabled on this pool");
  // A denied command that is also unsupported gets the pool's answer.
  EXPECT_EQ(Run(MakeRequest("FLUSHALL", CommandKind::kUnsupported, {})), FilterStatus::kStop);
  EXPECT_EQ(OnlyError(), "command 'FLUSHALL' is disabled on this pool");
  // Others are unaffected.
  EXPECT_EQ(Run(MakeRequest("SET", CommandKind::kWrite, {"k"})), FilterStatus::kContinue);
  EXPECT_FALSE(callbacks_->answered_locally());
  EXPECT_EQ(Run(MakeRequest("KEYS", CommandKind::kUnsupported, {"*"})), FilterStatus::kStop);
  EXPECT_THAT(OnlyError(), HasSubstr("keys are spread"));
}

TEST_F(RejectUnsupportedFilterTest, DenyListAlsoMatchesUnknownCommandNames) {
  config::filters::v1::RejectUnsupportedConfig config;
  config.add_deny_commands("foo");
  MakeFilter(config);
  EXPECT_EQ(Run(MakeRequest("", CommandKind::kUnsupported, {"FOO"})), FilterStatus::kStop);
  EXPECT_EQ(OnlyError(), "command 'FOO' is disabled on this pool");
}

TEST_F(RejectUnsupportedFilterTest, FilterInstancesShareTheFactorysDenyList) {
  config::filters::v1::RejectUnsupportedConfig config;
  config.add_deny_commands("DEL");
  absl::StatusOr<FilterFactoryFn> factory =
      CreateRegisteredFilter("reject_unsupported", pool_->Config(), &config);
  ASSERT_TRUE(factory.ok()) << factory.status();
  FilterPtr first = (*factory)();
  FilterPtr second = (*factory)();
  Request request = MakeRequest("DEL", CommandKind::kMultiKey, {"a"});
  EXPECT_EQ(first->OnRequest(request, *callbacks_), FilterStatus::kStop);
  EXPECT_EQ(second->OnRequest(request, *callbacks_), FilterStatus::kStop);
  EXPECT_THAT(callbacks_->local_errors(), ElementsAre("command 'DEL' is disabled on this pool",
                                                      "command 'DEL' is disabled on this pool"));
}

TEST(RejectUnsupportedFactoryTest, RejectsEmptyDenyEntryNamingTheField) {
  config::filters::v1::RejectUnsupportedConfig config;
  config.add_deny_commands("KEYS");
  config.add_deny_commands("");
  absl::StatusOr<FilterFactoryFn> made =
      CreateRegisteredFilter("reject_unsupported", test::MakeTestPool({"a:1:1"}), &config);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(made.status().message(), HasSubstr("deny_commands[1]"));
}

TEST(RejectUnsupportedFactoryTest, RejectsDenyEntryWithSpaces) {
  config::filters::v1::RejectUnsupportedConfig config;
  config.add_deny_commands("FLUSH ALL");
  absl::StatusOr<FilterFactoryFn> made =
      CreateRegisteredFilter("reject_unsupported", test::MakeTestPool({"a:1:1"}), &config);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(made.status().message(), HasSubstr("deny_commands[0]: 'FLUSH ALL'"));
  EXPECT_THAT(made.status().message(), HasSubstr("single command name"));
}

TEST(RejectUnsupportedFactoryTest, ValidatesWithoutStatsScope) {
  config::filters::v1::RejectUnsupportedConfig config;
  config.add_deny_commands("flushdb");
  absl::StatusOr<FilterFactoryFn> made =
      CreateRegisteredFilter("reject_unsupported", test::MakeTestPool({"a:1:1"}), &config,
                             /*stats=*/nullptr, /*validate_only=*/true);
  EXPECT_TRUE(made.ok()) << made.status();
}

}  // namespace
}  // namespace proxy::filters::reject_unsupported

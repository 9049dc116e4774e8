// Unit tests of the test-only `hello` filter with the project's fakes: the local answer per
// protocol, pass-through of everything else, its counter, and config validation.
#include "test/custom_filter/hello_filter.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "api/filter.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/custom_filter/hello_filter.pb.h"
#include "test/fakes/filter_fakes.h"
#include "test/fakes/in_memory_stats.h"

namespace proxy::test::custom_filter {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class HelloFilterTest : public ::testing::Test {
 protected:
  void MakePool(absl::string_view protocol) {
    config::v1::Pool pool =
        MakeTestPool({"127.0.0.1:32011:1"}, "md5", "ketama", "", protocol);
    pool.set_name("alpha");
    auto view = FakePoolView::Create(std::move(pool));
    ASSERT_TRUE(view.ok()) << view.status();
    pool_ = *std::move(view);
    callbacks_ = std::make_unique<FakeFilterCallbacks>(*pool_);
  }

  absl::StatusOr<FilterFactoryFn> Create(const v1::HelloConfig& config) {
    return CreateRegisteredFilter("hello", pool_->Config(), &config, &stats_);
  }

  FilterStatus Run(Filter& filter, Request request) {
    callbacks_->Reset();
    return filter.OnRequest(request, *callbacks_);
  }

  InMemoryStats stats_;
  std::unique_ptr<FakePoolView> pool_;
  std::unique_ptr<FakeFilterCallbacks> callbacks_;
};

TEST_F(HelloFilterTest, AnswersTheMagicKeyWithARedisBulkString) {
  MakePool("redis");
  absl::StatusOr<FilterFactoryFn> factory = Create(v1::HelloConfig());
  ASSERT_TRUE(factory.ok()) << factory.status();
  FilterPtr filter = (*factory)();
  EXPECT_EQ(Run(*filter, MakeRequest("GET", CommandKind::kRead, {"__proxy_hello__"})),
            FilterStatus::kStop);
  EXPECT_THAT(callbacks_->local_replies(), ElementsAre("$21\r\nhello from pool alpha\r\n"));
  EXPECT_THAT(callbacks_->local_errors(), IsEmpty());
  EXPECT_EQ(stats_.CounterValue("hello.answered"), 1u);
}

TEST_F(HelloFilterTest, AnswersWithAMemcacheValueOnMemcachePools) {
  MakePool("memcache");
  v1::HelloConfig config;
  config.set_magic_key("whoami");
  config.set_greeting("hi from");
  absl::StatusOr<FilterFactoryFn> factory = Create(config);
  ASSERT_TRUE(factory.ok()) << factory.status();
  FilterPtr filter = (*factory)();
  EXPECT_EQ(Run(*filter, MakeRequest("get", CommandKind::kRead, {"whoami"})), FilterStatus::kStop);
  EXPECT_THAT(callbacks_->local_replies(),
              ElementsAre("VALUE whoami 0 13\r\nhi from alpha\r\nEND\r\n"));
}

TEST_F(HelloFilterTest, PassesEverythingElseOn) {
  MakePool("redis");
  absl::StatusOr<FilterFactoryFn> factory = Create(v1::HelloConfig());
  ASSERT_TRUE(factory.ok()) << factory.status();
  FilterPtr filter = (*factory)();
  EXPECT_EQ(Run(*filter, MakeRequest("GET", CommandKind::kRead, {"other"})),
            FilterStatus::kContinue);
  EXPECT_EQ(Run(*filter, MakeRequest("SET", CommandKind::kWrite, {"__proxy_hello__"})),
            FilterStatus::kContinue);
  EXPECT_EQ(Run(*filter,
                MakeRequest("MGET", CommandKind::kMultiKey, {"__proxy_hello__", "x"})),
            FilterStatus::kContinue);
  EXPECT_FALSE(callbacks_->answered_locally());
  EXPECT_EQ(stats_.CounterValue("hello.answered"), 0u);
}

TEST_F(HelloFilterTest, RejectsAKeyThatIsNotOneWord) {
  MakePool("redis");
  v1::HelloConfig config;
  config.set_magic_key("two words");
  absl::StatusOr<FilterFactoryFn> factory = Create(config);
  ASSERT_FALSE(factory.ok());
  EXPECT_EQ(factory.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(factory.status().message()), HasSubstr("magic_key: 'two words'"));
  config.set_magic_key("ok");
  config.set_greeting("line\r\nbreak");
  factory = Create(config);
  ASSERT_FALSE(factory.ok());
  EXPECT_EQ(factory.status().message(), "greeting: must be printable ASCII on one line");
}

}  // namespace
}  // namespace proxy::test::custom_filter

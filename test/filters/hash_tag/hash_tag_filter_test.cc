// Tests of the hash_tag filter: per-key tag extraction into RequestContext::hash_keys,
// the no-tag fast path, and config validation through the registered factory.
#include "filters/hash_tag/hash_tag_filter.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "api/codec.h"
#include "api/config/filters/v1/hash_tag.pb.h"
#include "api/config/filters/v1/router.pb.h"
#include "api/filter.h"
#include "api/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/fakes/filter_fakes.h"

namespace proxy::filters::hash_tag {
namespace {

using ::proxy::test::CreateRegisteredFilter;
using ::proxy::test::FakeFilterCallbacks;
using ::proxy::test::FakePoolView;
using ::proxy::test::MakeRequest;
using ::proxy::test::MakeTestPool;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class HashTagFilterTest : public ::testing::Test {
 protected:
  // Builds the pool (with `tag` as its hash_tag) and the filter from the registry.
  void UsePool(absl::string_view tag) {
    auto pool = FakePoolView::Create(MakeTestPool(
        {"127.0.0.1:32011:1", "127.0.0.1:32012:1", "127.0.0.1:32013:1"}, "md5", "ketama", tag));
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
    callbacks_ = std::make_unique<FakeFilterCallbacks>(*pool_);
    absl::StatusOr<FilterFactoryFn> factory = CreateRegisteredFilter("hash_tag", pool_->Config());
    ASSERT_TRUE(factory.ok()) << factory.status();
    filter_ = (*factory)();
  }

  FilterStatus Run(Request& request) {
    callbacks_->Reset();
    return filter_->OnRequest(request, *callbacks_);
  }

  const std::vector<absl::string_view>& HashKeys() { return callbacks_->Context().hash_keys; }

  std::unique_ptr<FakePoolView> pool_;
  std::unique_ptr<FakeFilterCallbacks> callbacks_;
  FilterPtr filter_;
};

TEST_F(HashTagFilterTest, LeavesHashKeysEmptyWhenPoolHasNoTag) {
  UsePool("");
  Request request = MakeRequest("MGET", CommandKind::kMultiKey, {"user:{1}:a", "user:{1}:b"});
  EXPECT_EQ(Run(request), FilterStatus::kContinue);
  EXPECT_THAT(HashKeys(), IsEmpty());
  EXPECT_FALSE(callbacks_->answered_locally());
}

TEST_F(HashTagFilterTest, ExtractsTheTagOfEveryKey) {
  UsePool("{}");
  Request request =
      MakeRequest("MGET", CommandKind::kMultiKey,
                  {"user:{1000}:name", "plain", "{a}{b}", "{{x}}", "user:{}:a", "{abc", "a}b{c}"});
  EXPECT_EQ(Run(request), FilterStatus::kContinue);
  EXPECT_THAT(HashKeys(), ElementsAre("1000", "plain", "a", "{x", "user:{}:a", "{abc", "c"));
  EXPECT_FALSE(callbacks_->answered_locally());
}

TEST_F(HashTagFilterTest, HashKeysAreViewsIntoTheRequestArgs) {
  UsePool("{}");
  Request request = MakeRequest("GET", CommandKind::kRead, {"user:{42}:name"});
  Run(request);
  ASSERT_EQ(HashKeys().size(), 1u);
  EXPECT_EQ(HashKeys()[0].data(), request.Key(0).data() + 6);
  EXPECT_EQ(HashKeys()[0], "42");
}

TEST_F(HashTagFilterTest, SkipsValuesOfKeyValueCommands) {
  UsePool("{}");
  Request request =
      MakeRequest("MSET", CommandKind::kMultiKey, {"a{1}", "v{9}", "b{2}", "w{8}"}, /*key_step=*/2);
  Run(request);
  EXPECT_THAT(HashKeys(), ElementsAre("1", "2"));
}

TEST_F(HashTagFilterTest, UsesOtherTwoByteTags) {
  UsePool("$$");
  Request request = MakeRequest("GET", CommandKind::kRead, {"pre$mid$post"});
  Run(request);
  EXPECT_THAT(HashKeys(), ElementsAre("mid"));
}

TEST_F(HashTagFilterTest, TreatsSyntheticPlaceholderLikeAnyKey) {
  UsePool("{}");
  Request request = MakeRequest("COMMAND", CommandKind::kRead, {"placeholder"});
  request.synthetic_key = true;
  Run(request);
  EXPECT_THAT(HashKeys(), ElementsAre("placeholder"));
}

TEST_F(HashTagFilterTest, IgnoresLocalRequests) {
  UsePool("{}");
  Request request = MakeRequest("PING", CommandKind::kLocal, {"{x}"});
  EXPECT_EQ(Run(request), FilterStatus::kContinue);
  EXPECT_THAT(HashKeys(), IsEmpty());
}

TEST_F(HashTagFilterTest, ReplacesHashKeysOfThePreviousRunOfTheContext) {
  UsePool("{}");
  Request first = MakeRequest("MGET", CommandKind::kMultiKey, {"{a}1", "{b}2", "{c}3"});
  Request second = MakeRequest("GET", CommandKind::kRead, {"{d}4"});
  callbacks_->Reset();
  filter_->OnRequest(first, *callbacks_);
  filter_->OnRequest(second, *callbacks_);
  EXPECT_THAT(HashKeys(), ElementsAre("d"));
}

TEST(HashTagFactoryTest, RejectsATagThatIsNotTwoBytes) {
  absl::StatusOr<FilterFactoryFn> made =
      CreateRegisteredFilter("hash_tag", MakeTestPool({"a:1:1"}, "md5", "ketama", "{"));
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(made.status().message(), HasSubstr("hash_tag: '{' is 1 bytes"));
}

}  // namespace
}  // namespace proxy::filters::hash_tag

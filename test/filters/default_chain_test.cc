// The four default filters together, built through the registry for one pool and run in chain
// order per request, with OnComplete for every filter the request reached (api/filter.h).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "api/codec.h"
#include "api/filter.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/fakes/filter_fakes.h"
#include "test/fakes/in_memory_stats.h"

namespace proxy::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class DefaultChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Golden set s3_equal, ketama + md5, hash_tag "{}": key:0 → 1, key:6 → 0, key:1 → 2,
    // user:{1}:* → 2.
    auto view = FakePoolView::Create(MakeTestPool(
        {"127.0.0.1:32011:1", "127.0.0.1:32012:1", "127.0.0.1:32013:1"}, "md5", "ketama", "{}"));
    ASSERT_TRUE(view.ok()) << view.status();
    pool_ = *std::move(view);
    callbacks_ = std::make_unique<FakeFilterCallbacks>(*pool_);
    for (absl::string_view name : {"reject_unsupported", "hash_tag", "router", "stats"}) {
      absl::StatusOr<FilterFactoryFn> factory =
          CreateRegisteredFilter(name, pool_->Config(), /*config=*/nullptr, &stats_);
      ASSERT_TRUE(factory.ok()) << name << ": " << factory.status();
      chain_.push_back((*factory)());
    }
  }

  // Runs the chain, then completes the request for every filter it reached.
  FilterStatus Run(Request& request, const Outcome& outcome) {
    callbacks_->Reset();
    FilterStatus status = FilterStatus::kContinue;
    size_t reached = 0;
    while (reached < chain_.size() && status == FilterStatus::kContinue) {
      status = chain_[reached++]->OnRequest(request, *callbacks_);
    }
    for (size_t i = 0; i < reached; ++i) {
      chain_[i]->OnComplete(request, outcome);
    }
    return status;
  }

  std::unique_ptr<FakePoolView> pool_;
  std::unique_ptr<FakeFilterCallbacks> callbacks_;
  InMemoryStats stats_;
  std::vector<FilterPtr> chain_;
};

Outcome Replied(uint64_t latency_us) {
  Outcome outcome;
  outcome.latency_us = latency_us;
  return outcome;
}

TEST_F(DefaultChainTest, RoutesCountsAndRejectsLikeTheProxyWould) {
  Request get = MakeRequest("GET", CommandKind::kRead, {"user:{1}:email"});
  EXPECT_EQ(Run(get, Replied(40)), FilterStatus::kContinue);
  EXPECT_TRUE(callbacks_->Context().routed);
  EXPECT_EQ(callbacks_->Context().server, 2u);

  Request mget = MakeRequest("MGET", CommandKind::kMultiKey, {"key:0", "key:6", "user:{1}:a"});
  EXPECT_EQ(Run(mget, Replied(60)), FilterStatus::kContinue);
  ASSERT_EQ(callbacks_->Context().fragments.size(), 3u);
  EXPECT_EQ(callbacks_->Context().fragments[0].bytes, "mget key:6");
  EXPECT_THAT(callbacks_->Context().fragments[2].keys, ElementsAre(2));

  Request keys = MakeRequest("KEYS", CommandKind::kUnsupported, {"*"});
  EXPECT_EQ(Run(keys, Replied(0)), FilterStatus::kStop);
  EXPECT_THAT(callbacks_->local_errors(), ElementsAre(HasSubstr("unsupported command 'KEYS'")));
  EXPECT_FALSE(callbacks_->Context().routed);

  EXPECT_EQ(stats_.CounterValue("cmd.GET.requests"), 1u);
  EXPECT_EQ(stats_.CounterValue("cmd.GET.latency_us"), 40u);
  EXPECT_EQ(stats_.CounterValue("cmd.MGET.requests"), 1u);
  EXPECT_EQ(stats_.CounterValue("cmd.MGET.latency_us"), 60u);
}

TEST_F(DefaultChainTest, RefusesSplitColocatedKeysBeforeForwarding) {
  Request sinter = MakeRequest("SINTER", CommandKind::kRead, {"key:0", "key:6"});
  sinter.colocated_keys = true;
  EXPECT_EQ(Run(sinter, Replied(0)), FilterStatus::kStop);
  EXPECT_THAT(callbacks_->local_errors(),
              ElementsAre("keys of 'SINTER' map to different servers; keep them together with a "
                          "hash tag (keys like {user1}:a)"));
  EXPECT_THAT(callbacks_->Context().fragments, IsEmpty());
}

}  // namespace
}  // namespace proxy::test

// Tests of the stats filter: per-command requests/errors/latency counters in the pool scope's
// "cmd" child, aggregated over connections, with names resolved once per command.
#include "filters/stats/stats_filter.h"

#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "api/codec.h"
#include "api/config/filters/v1/hash_tag.pb.h"
#include "api/filter.h"
#include "api/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/fakes/filter_fakes.h"
#include "test/fakes/in_memory_stats.h"

namespace proxy::filters::stats {
namespace {

using ::proxy::test::CreateRegisteredFilter;
using ::proxy::test::FakeFilterCallbacks;
using ::proxy::test::FakePoolView;
using ::proxy::test::InMemoryStats;
using ::proxy::test::MakeRequest;
using ::proxy::test::MakeTestPool;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

Outcome Reply(uint64_t latency_us) {
  Outcome outcome;
  outcome.kind = Outcome::Kind::kReply;
  outcome.latency_us = latency_us;
  return outcome;
}

Outcome Failure(uint64_t latency_us) {
  Outcome outcome = Reply(latency_us);
  outcome.kind = Outcome::Kind::kError;
  return outcome;
}

class StatsFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<FilterFactoryFn> factory =
        CreateRegisteredFilter("stats", pool_, /*config=*/nullptr, &scope_);
    ASSERT_TRUE(factory.ok()) << factory.status();
    factory_ = *std::move(factory);
  }

  config::v1::Pool pool_ = MakeTestPool({"127.0.0.1:32011:1", "127.0.0.1:32012:1"}, "md5");
  InMemoryStats scope_;
  FilterFactoryFn factory_;
};

TEST_F(StatsFilterTest, CountsRequestsErrorsAndLatencyPerCommand) {
  FilterPtr filter = factory_();
  const Request get = MakeRequest("GET", CommandKind::kRead, {"k"});
  const Request set = MakeRequest("SET", CommandKind::kWrite, {"k"});
  filter->OnComplete(get, Reply(100));
  filter->OnComplete(get, Failure(5000));
  filter->OnComplete(get, Reply(20));
  filter->OnComplete(set, Reply(7));
  filter->OnComplete(set, Reply(3));

  EXPECT_THAT(scope_.Counters(),
              UnorderedElementsAre(Pair("cmd.GET.requests", 3), Pair("cmd.GET.errors", 1),
                                   Pair("cmd.GET.latency_us", 5120), Pair("cmd.SET.requests", 2),
                                   Pair("cmd.SET.errors", 0), Pair("cmd.SET.latency_us", 10)));
}

TEST_F(StatsFilterTest, LocalAndNoReplyOutcomesAreNotErrors) {
  FilterPtr filter = factory_();
  const Request set = MakeRequest("set", CommandKind::kWrite, {"k"});
  Outcome local = Reply(1);
  local.kind = Outcome::Kind::kLocalReply;
  Outcome no_reply = Reply(2);
  no_reply.kind = Outcome::Kind::kNoReply;
  filter->OnComplete(set, local);
  filter->OnComplete(set, no_reply);
  EXPECT_EQ(scope_.CounterValue("cmd.set.requests"), 2u);
  EXPECT_EQ(scope_.CounterValue("cmd.set.errors"), 0u);
  EXPECT_EQ(scope_.CounterValue("cmd.set.latency_us"), 3u);
}

TEST_F(StatsFilterTest, AggregatesOverConnectionsOfThePool) {
  FilterPtr first = factory_();
  FilterPtr second = factory_();
  const Request mget = MakeRequest("MGET", CommandKind::kMultiKey, {"a", "b"});
  first->OnComplete(mget, Reply(10));
  second->OnComplete(mget, Reply(30));
  second->OnComplete(mget, Failure(60));
  EXPECT_EQ(scope_.CounterValue("cmd.MGET.requests"), 3u);
  EXPECT_EQ(scope_.CounterValue("cmd.MGET.errors"), 1u);
  EXPECT_EQ(scope_.CounterValue("cmd.MGET.latency_us"), 100u);
}

TEST_F(StatsFilterTest, ResolvesCounterNamesOncePerCommand) {
  const uint64_t at_start = scope_.Lookups();
  FilterPtr first = factory_();
  FilterPtr second = factory_();
  const Request get = MakeRequest("GET", CommandKind::kRead, {"k"});
  first->OnComplete(get, Reply(1));
  const uint64_t after_first = scope_.Lookups();
  EXPECT_EQ(after_first - at_start, 4u);  // requests, errors, latency_us, latency histogram
  for (int i = 0; i < 10; ++i) {
    first->OnComplete(get, Reply(1));
    second->OnComplete(get, Failure(1));
  }
  EXPECT_EQ(scope_.Lookups(), after_first);
  EXPECT_EQ(scope_.CounterValue("cmd.GET.requests"), 21u);
  // Every completed GET's latency is in its histogram.
  const InMemoryStats* cmd = scope_.FindChild("cmd");
  ASSERT_NE(cmd, nullptr);
  ASSERT_NE(cmd->FindHistogram("GET.latency"), nullptr);
  EXPECT_EQ(cmd->FindHistogram("GET.latency")->values().size(), 21u);
}

TEST_F(StatsFilterTest, PutsUnknownCommandsInOneBucket) {
  FilterPtr filter = factory_();
  filter->OnComplete(MakeRequest("", CommandKind::kUnsupported, {"FOO"}), Reply(1));
  filter->OnComplete(MakeRequest("", CommandKind::kUnsupported, {"BAR"}), Reply(1));
  EXPECT_EQ(scope_.CounterValue("cmd.unknown.requests"), 2u);
  EXPECT_FALSE(scope_.HasCounter("cmd.FOO.requests"));
  EXPECT_FALSE(scope_.HasCounter("cmd.BAR.requests"));
}

TEST_F(StatsFilterTest, OnRequestPassesEverythingOn) {
  auto view = FakePoolView::Create(pool_);
  ASSERT_TRUE(view.ok()) << view.status();
  FakeFilterCallbacks callbacks(**view);
  FilterPtr filter = factory_();
  Request request = MakeRequest("GET", CommandKind::kRead, {"k"});
  EXPECT_EQ(filter->OnRequest(request, callbacks), FilterStatus::kContinue);
  EXPECT_FALSE(callbacks.answered_locally());
  EXPECT_FALSE(callbacks.Context().routed);
  EXPECT_TRUE(scope_.Counters().empty());  // nothing counted before completion
}

TEST(StatsFactoryTest, EachCreateCountsIntoItsOwnScope) {
  // One Create() per pool and worker: two workers' scopes never share counters.
  const config::v1::Pool pool = MakeTestPool({"a:1:1"});
  InMemoryStats worker1;
  InMemoryStats worker2;
  absl::StatusOr<FilterFactoryFn> made1 =
      CreateRegisteredFilter("stats", pool, /*config=*/nullptr, &worker1);
  absl::StatusOr<FilterFactoryFn> made2 =
      CreateRegisteredFilter("stats", pool, /*config=*/nullptr, &worker2);
  ASSERT_TRUE(made1.ok() && made2.ok());
  (*made1)()->OnComplete(MakeRequest("GET", CommandKind::kRead, {"k"}), Reply(1));
  EXPECT_EQ(worker1.CounterValue("cmd.GET.requests"), 1u);
  EXPECT_EQ(worker2.CounterValue("cmd.GET.requests"), 0u);
}

}  // namespace
}  // namespace proxy::filters::stats

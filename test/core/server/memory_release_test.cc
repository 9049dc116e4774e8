// TrimPolicy and MemoryReleaser (core/server/memory_release.h): a trim after a real drop in
// client connections, none in steady state or under churn at a stable count.
#include "core/server/memory_release.h"

#include <atomic>
#include <chrono>

#include "gtest/gtest.h"
#include "test/integration/harness.h"

namespace proxy {
namespace {

TEST(TrimPolicyTest, TrimsOnceAfterMostClientsLeave) {
  TrimPolicy policy;
  EXPECT_FALSE(policy.Check({0, 0}));
  EXPECT_FALSE(policy.Check({10000, 10000}));
  EXPECT_FALSE(policy.Check({9000, 10000})) << "still more than half";
  EXPECT_TRUE(policy.Check({100, 9000}));
  EXPECT_FALSE(policy.Check({100, 100})) << "once per drop";
  EXPECT_FALSE(policy.Check({0, 100})) << "a drop of 100 is not worth a trim";
}

TEST(TrimPolicyTest, ABurstBetweenTwoChecksCounts) {
  TrimPolicy policy;
  EXPECT_FALSE(policy.Check({5, 5}));
  // 2,000 clients came and went between two checks: only the peak saw them.
  EXPECT_TRUE(policy.Check({5, 2005}));
}

TEST(TrimPolicyTest, ChurnAtAStableCountNeverTrims) {
  TrimPolicy policy;
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(policy.Check({900, 1000})) << i;
  // A small pool of clients: even all of them leaving is below the minimum drop.
  EXPECT_FALSE(policy.Check({0, 1000}));
}

TEST(MemoryReleaserTest, TrimsFromItsThreadAfterADrop) {
  std::atomic<int64_t> live{5000};
  std::atomic<int> checks{0};
  std::atomic<int> trims{0};
  MemoryReleaser releaser(
      [&] {
        checks.fetch_add(1);
        return ClientCounts{live.load(), live.load()};
      },
      [&] { trims.fetch_add(1); }, /*period_ms=*/5);
  // A few checks at 5,000 clients: no trim.
  ASSERT_TRUE(test::WaitUntil([&] { return checks.load() >= 3; }));
  EXPECT_EQ(trims.load(), 0);
  live = 10;
  EXPECT_TRUE(test::WaitUntil([&] { return trims.load() == 1; }));
  // More checks without a new drop: no second trim.
  const int seen = checks.load();
  ASSERT_TRUE(test::WaitUntil([&] { return checks.load() >= seen + 3; }));
  EXPECT_EQ(trims.load(), 1);
}

}  // namespace
}  // namespace proxy

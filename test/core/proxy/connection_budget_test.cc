// core/proxy/connection_budget.h: the per-worker share of a pool's max_server_connections over
// many (workers N, cap M, server_connections S): the process never exceeds M (nor N x S), every
// serving worker has at least one connection, and M = 0 is twemproxy's N x S.
#include "core/proxy/connection_budget.h"

#include <algorithm>
#include <cstdint>

#include "gtest/gtest.h"

namespace proxy {
namespace {

TEST(ConnectionBudgetTest, ServingWorkersIsTheSmallerOfWorkersAndTheCap) {
  EXPECT_EQ(ServingWorkers(4, 0), 4u);
  EXPECT_EQ(ServingWorkers(4, 3), 3u);
  EXPECT_EQ(ServingWorkers(4, 4), 4u);
  EXPECT_EQ(ServingWorkers(4, 100), 4u);
  EXPECT_EQ(ServingWorkers(1, 1), 1u);
  EXPECT_EQ(ServingWorkers(0, 0), 1u) << "0 workers counts as 1, as OpenListener does";
  EXPECT_EQ(ServingWorkers(0, 5), 1u);
}

TEST(ConnectionBudgetTest, TheIssueExampleSplitsThreeOverThreeWorkers) {
  // --workers 4, server_connections: 2, max_server_connections: 3: workers 0-2 serve, one
  // connection each; worker 3 takes no client.
  const uint32_t serving = ServingWorkers(4, 3);
  ASSERT_EQ(serving, 3u);
  EXPECT_EQ(WorkerConnectionQuota(0, serving, 2, 3), 1u);
  EXPECT_EQ(WorkerConnectionQuota(1, serving, 2, 3), 1u);
  EXPECT_EQ(WorkerConnectionQuota(2, serving, 2, 3), 1u);
  EXPECT_EQ(WorkerConnectionQuota(3, serving, 2, 3), 0u);
  // M = 7 over 4 workers with S = 2: 2, 2, 2, 1.
  EXPECT_EQ(WorkerConnectionQuota(0, 4, 2, 7), 2u);
  EXPECT_EQ(WorkerConnectionQuota(2, 4, 2, 7), 2u);
  EXPECT_EQ(WorkerConnectionQuota(3, 4, 2, 7), 1u);
  // M = 9 over 4 workers: 3, 2, 2, 2, capped by S = 2 at 2 each (8 <= 9).
  EXPECT_EQ(WorkerConnectionQuota(0, 4, 2, 9), 2u);
}

TEST(ConnectionBudgetTest, EveryCombinationStaysWithinTheCapAndGivesEveryServingWorkerOne) {
  for (uint32_t n = 0; n <= 24; ++n) {
    for (uint32_t m = 0; m <= 60; ++m) {
      for (uint32_t s = 0; s <= 8; ++s) {
        const uint32_t serving = ServingWorkers(n, m);
        const uint32_t workers = n == 0 ? 1 : n;
        const uint32_t per_worker = s == 0 ? 1 : s;
        SCOPED_TRACE(testing::Message() << "N=" << n << " M=" << m << " S=" << s);
        ASSERT_GE(serving, 1u);
        ASSERT_LE(serving, workers);
        uint64_t sum = 0;
        for (uint32_t w = 0; w < workers + 2; ++w) {  // ids past N too: they never serve
          const uint32_t quota = WorkerConnectionQuota(w, serving, s, m);
          if (w < serving) {
            ASSERT_GE(quota, 1u) << "worker " << w;
            ASSERT_LE(quota, per_worker) << "worker " << w;
          } else {
            ASSERT_EQ(quota, 0u) << "worker " << w;
          }
          sum += quota;
        }
        ASSERT_LE(sum, uint64_t{workers} * per_worker);
        if (m == 0) {
          ASSERT_EQ(serving, workers);
          ASSERT_EQ(sum, uint64_t{workers} * per_worker) << "no cap: N x server_connections";
        } else {
          ASSERT_LE(sum, m);
          // The cap is used up to what the workers may hold: nothing is left unused below it.
          ASSERT_EQ(sum, std::min<uint64_t>(m, uint64_t{serving} * per_worker));
        }
      }
    }
  }
}

TEST(ConnectionBudgetTest, SharesDifferByAtMostOneBeforeTheServerConnectionsCap) {
  for (uint32_t serving = 1; serving <= 16; ++serving) {
    for (uint32_t m = serving; m <= 64; ++m) {
      uint32_t low = UINT32_MAX;
      uint32_t high = 0;
      for (uint32_t w = 0; w < serving; ++w) {
        const uint32_t quota = WorkerConnectionQuota(w, serving, 1000, m);
        low = std::min(low, quota);
        high = std::max(high, quota);
      }
      EXPECT_LE(high - low, 1u) << "serving=" << serving << " M=" << m;
    }
  }
}

TEST(ConnectionBudgetTest, AServingSetKeptFromAnEarlierCapStillGivesEachWorkerOne) {
  // A reload lowered M from 4 to 2 while the listener (4 serving workers) is kept: each serving
  // worker keeps one connection (4 in all, above the new M) until the next restart.
  for (uint32_t w = 0; w < 4; ++w) EXPECT_EQ(WorkerConnectionQuota(w, 4, 3, 2), 1u) << w;
  // A reload that sets M = 2 on a pool whose 4 workers all serve: the same.
  EXPECT_EQ(WorkerConnectionQuota(3, 4, 1, 2), 1u);
}

}  // namespace
}  // namespace proxy

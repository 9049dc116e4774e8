// Behaviour tests for the random distribution: input checks, key independence, uniformity.
#include <cstdint>
#include <thread>
#include <vector>

#include "api/distribution.h"
#include "api/registry.h"
#include "gtest/gtest.h"

namespace proxy::hashes {
namespace {

DistributionPtr BuildRandom(const std::vector<Endpoint>& servers) {
  const DistributionFactory* factory = Registry<DistributionFactory>::Find("random");
  EXPECT_NE(factory, nullptr);
  if (factory == nullptr) {
    return nullptr;
  }
  absl::StatusOr<DistributionPtr> built = factory->Build(servers);
  EXPECT_TRUE(built.ok()) << built.status();
  return built.ok() ? *std::move(built) : nullptr;
}

TEST(RandomTest, IsRegisteredAsRandom) {
  const DistributionFactory* factory = Registry<DistributionFactory>::Find("random");
  ASSERT_NE(factory, nullptr);
  EXPECT_EQ(factory->Name(), "random");
  EXPECT_FALSE(factory->Description().empty());
}

TEST(RandomTest, BuildRejectsEmptySetAndZeroWeight) {
  const DistributionFactory* factory = Registry<DistributionFactory>::Find("random");
  ASSERT_NE(factory, nullptr);
  EXPECT_EQ(factory->Build({}).status().code(), absl::StatusCode::kInvalidArgument);
  const std::vector<Endpoint> zero = {{"a:1", 1}, {"b:1", 0}};
  EXPECT_EQ(factory->Build(zero).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RandomTest, IgnoresTheKeyAndSpreadsUniformly) {
  // Weights are ignored too: one slot per server.
  DistributionPtr random = BuildRandom({{"a:1", 1}, {"b:1", 1}, {"c:1", 10}});
  ASSERT_NE(random, nullptr);
  constexpr int kDraws = 30000;
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < kDraws; ++i) {
    const uint32_t server = random->Select(12345);  // the same key every time
    ASSERT_LT(server, 3u);
    ++counts[server];
  }
  for (int server = 0; server < 3; ++server) {
    EXPECT_GE(counts[server], kDraws / 3 * 9 / 10) << "server " << server;
    EXPECT_LE(counts[server], kDraws / 3 * 11 / 10) << "server " << server;
  }
}

TEST(RandomTest, SingleServerAlwaysWins) {
  DistributionPtr random = BuildRandom({{"a:1", 5}});
  ASSERT_NE(random, nullptr);
  for (uint32_t hash = 0; hash < 100; ++hash) {
    EXPECT_EQ(random->Select(hash), 0u);
  }
}

TEST(RandomTest, SelectIsSafeFromManyThreads) {
  DistributionPtr random = BuildRandom({{"a:1", 1}, {"b:1", 1}, {"c:1", 1}, {"d:1", 1}});
  ASSERT_NE(random, nullptr);
  std::vector<std::thread> threads;
  std::vector<std::vector<int>> counts(4, std::vector<int>(4, 0));
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&random, &counts, t] {
      for (int i = 0; i < 10000; ++i) {
        const uint32_t server = random->Select(static_cast<uint32_t>(i));
        if (server < 4) {
          ++counts[t][server];
        }
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  for (int t = 0; t < 4; ++t) {
    int total = 0;
    for (int server = 0; server < 4; ++server) {
      EXPECT_GT(counts[t][server], 0) << "thread " << t << " server " << server;
      total += counts[t][server];
    }
    EXPECT_EQ(total, 10000) << "thread " << t;
  }
}

}  // namespace
}  // namespace proxy::hashes

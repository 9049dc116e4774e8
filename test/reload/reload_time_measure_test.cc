// The figure for issue 11's closing note: how long a reload of a large config takes, measured
// as the POST /reload round trip (the reply comes once the new config is validated and applied).
// 10 pools x 100 servers, every server a distinct 127.0.0.1 address; the servers need not be
// up for a reload (preconnect: false, and no request is sent to them). A measurement, not a
// timed assertion: the test asserts only that every reload succeeds and prints the times.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"
#include "test/reload/reload_util.h"

namespace proxy::test {
namespace {

constexpr int kPools = 10;
constexpr int kServersPerPool = 100;
constexpr int kRepetitions = 7;

// Even pools redis, odd pools memcache; `weight` for every server.
std::string BigConfig(const std::vector<int>& listen_ports, int weight) {
  std::vector<PoolSpec> pools;
  for (int p = 0; p < kPools; ++p) {
    PoolSpec pool{absl::StrCat("pool", p), listen_ports[p], p % 2 == 0, {},
                  "  preconnect: false\n  distribution: ketama\n"};
    for (int s = 0; s < kServersPerPool; ++s) {
      // Ports 10000-10999, below the ephemeral range FreePort() draws the listen ports from.
      pool.servers.push_back(
          ServerLine(10000 + p * kServersPerPool + s, weight, absl::StrCat("p", p, "s", s)));
    }
    pools.push_back(pool);
  }
  return ConfigYaml(pools);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

TEST(ReloadTimeMeasure, TenPoolsOfHundredServers) {
  std::vector<int> ports;
  for (int p = 0; p < kPools; ++p) ports.push_back(FreePort());
  const std::string weight1 = BigConfig(ports, 1);
  const std::string weight2 = BigConfig(ports, 2);
  ReloadableProxy proxy("measure", weight1, ports);
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  // A client on every pool, so that the reload has connections to keep.
  std::vector<std::unique_ptr<Client>> clients;
  for (int port : ports) {
    clients.push_back(std::make_unique<Client>(port));
    ASSERT_TRUE(clients.back()->connected());
  }

  // The proxy's own figure too, when its reply says "... applied in X ms".
  std::vector<double> applied;
  // And how long the workers were switching (traffic waits only for that part).
  std::vector<double> switched;
  auto timed_reload = [&]() -> double {
    const auto start = std::chrono::steady_clock::now();
    const auto [code, body] = proxy.PostReload();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count();
    EXPECT_EQ(code, 200) << body;
    const size_t at = body.find("applied in ");
    double own = 0;
    if (at != std::string::npos &&
        absl::SimpleAtod(body.substr(at + 11, body.find(" ms", at) - at - 11), &own)) {
      applied.push_back(own);
    }
    const size_t sw = body.find("workers switched in ");
    double switch_ms = 0;
    if (sw != std::string::npos &&
        absl::SimpleAtod(body.substr(sw + 20, body.find(" ms", sw) - sw - 20), &switch_ms)) {
      switched.push_back(switch_ms);
    }
    return ms;
  };
  // The same file: validation and the comparison, nothing to change.
  std::vector<double> unchanged;
  for (int i = 0; i < kRepetitions; ++i) unchanged.push_back(timed_reload());
  // Every server of every pool changes weight: all 10 pools are rebuilt.
  std::vector<double> changed;
  for (int i = 0; i < kRepetitions; ++i) {
    proxy.WriteConfig(i % 2 == 0 ? weight2 : weight1);
    changed.push_back(timed_reload());
  }
  EXPECT_EQ(proxy.Generation(), 1 + 2 * kRepetitions);
  // Answered by the proxy itself (the servers are not up): PING (redis), mn (memcache).
  for (int p = 0; p < kPools; ++p) {
    if (p % 2 == 0) {
      EXPECT_EQ(clients[p]->Command({"PING"}), "+PONG\r\n") << "pool" << p;
    } else {
      EXPECT_TRUE(clients[p]->Send("mn\r\n"));
      EXPECT_EQ(clients[p]->ReadMemcacheReply(), "MN\r\n") << "pool" << p;
    }
  }
  std::printf(
      "RELOAD TIME (POST /reload round trip, %d pools x %d servers, 1 worker): unchanged file "
      "median %.1f ms (min %.1f, max %.1f); every pool changed median %.1f ms (min %.1f, max "
      "%.1f); %d repetitions each\n",
      kPools, kServersPerPool, Median(unchanged),
      *std::min_element(unchanged.begin(), unchanged.end()),
      *std::max_element(unchanged.begin(), unchanged.end()), Median(changed),
      *std::min_element(changed.begin(), changed.end()),
      *std::max_element(changed.begin(), changed.end()), kRepetitions);
  if (!applied.empty()) {
    std::printf("RELOAD TIME as the proxy reports it (\"applied in\"), all %zu reloads: median %.1f ms\n",
                applied.size(), Median(applied));
  }
  EXPECT_EQ(switched.size(), 2u * kRepetitions) << "the reply names the workers' switch time";
  if (!switched.empty()) {
    std::printf("RELOAD TIME of the workers' switch (traffic waits only for this), all %zu "
                "reloads: median %.2f ms, max %.2f ms\n",
                switched.size(), Median(switched),
                *std::max_element(switched.begin(), switched.end()));
  }
}

}  // namespace
}  // namespace proxy::test

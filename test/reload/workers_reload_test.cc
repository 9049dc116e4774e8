// Live reload with --workers 2 (issue 11, item 1: "applied at request boundaries on every
// worker"). 32 connections per pool, each served once before the reload so that it belongs to
// a worker; the redis pool uses reuseport (one listener per worker, balanced by the kernel's
// hash of the 4-tuple, so 32 connections all on one worker has probability 2^-31), the memcache
// pool the shared listener. After a reload that adds a server, every connection writes keys
// `proxyctl route` places on the added server (and some others), read back on the backends;
// after the reload that removes it again, every connection's keys avoid it.
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"
#include "test/reload/reload_util.h"

namespace proxy::test {
namespace {

constexpr int kConnections = 32;
constexpr int kKeysPerConnection = 8;

TEST(WorkersReloadTest, EveryConnectionOnBothWorkersRoutesPerTheNewFile) {
  RedisServer r1, r2, r3;
  MemcachedServer m1, m2, m3;
  ASSERT_TRUE(r1.ok() && r2.ok() && r3.ok() && m1.ok() && m2.ok() && m3.ok());
  const int redis_port = FreePort();
  const int memcache_port = FreePort();
  auto config = [&](bool grown) {
    PoolSpec redis{"rpool", redis_port, true,
                   {ServerLine(r1.port(), 1, "r1"), ServerLine(r2.port(), 1, "r2")},
                   "  reuseport: true\n"};
    PoolSpec memcache{"mpool", memcache_port, false,
                      {ServerLine(m1.port(), 1), ServerLine(m2.port(), 1)},
                      "  hash: md5\n"};
    if (grown) {
      redis.servers.push_back(ServerLine(r3.port(), 1, "r3"));
      memcache.servers.push_back(ServerLine(m3.port(), 1));
    }
    return ConfigYaml({redis, memcache});
  };
  ReloadableProxy proxy("workers", config(false), {redis_port, memcache_port},
                        {"--workers", "2"});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();

  std::vector<std::unique_ptr<Client>> redis_clients, memcache_clients;
  for (int c = 0; c < kConnections; ++c) {
    redis_clients.push_back(std::make_unique<Client>(redis_port));
    memcache_clients.push_back(std::make_unique<Client>(memcache_port));
    ASSERT_EQ(WriteKeys(*redis_clients.back(), true, {absl::StrCat("warm", c)}, "w"), "");
    ASSERT_EQ(WriteKeys(*memcache_clients.back(), false, {absl::StrCat("warm", c)}, "w"), "");
  }
  EXPECT_EQ(MetricValue(proxy.Metrics(), "shardproxy_client_connections{pool=\"rpool\"}"),
            kConnections);
  Backend b_r1(r1.port(), true), b_r2(r2.port(), true), b_r3(r3.port(), true);
  Backend b_m1(m1.port(), false), b_m2(m2.port(), false), b_m3(m3.port(), false);

  // Candidate keys and where the grown file puts them.
  const std::string grown_file = TempPath("workers-grown.yml");
  std::ofstream(grown_file) << config(true);
  for (int step = 0; step < 2; ++step) {
    const bool grown = step == 0;
    SCOPED_TRACE(grown ? "server added" : "server removed");
    if (grown) {
      const auto [code, body] = proxy.Apply(config(true));
      ASSERT_EQ(code, 200) << body << proxy.Log();
    } else {
      proxy.WriteConfig(config(false));
      ASSERT_EQ(proxy.ReloadBySignal(), ReloadableProxy::SignalOutcome::kApplied) << proxy.Log();
    }
    for (const bool redis : {true, false}) {
      SCOPED_TRACE(redis ? "rpool" : "mpool");
      const std::string pool = redis ? "rpool" : "mpool";
      const std::string added = Address(redis ? r3.port() : m3.port());
      std::string error;
      // Keys the grown file puts on the added server: after the first reload they must go
      // there, after the second they must not. Fresh names in each step.
      std::vector<std::string> candidates;
      for (int i = 0; i < 4000; ++i) candidates.push_back(absl::StrCat("w", step, ":", i));
      const auto grown_route = RouteKeys(grown_file, pool, candidates, &error);
      ASSERT_EQ(grown_route.size(), candidates.size()) << error;
      std::vector<std::string> on_added, elsewhere;
      for (const std::string& key : candidates) {
        (grown_route.at(key) == added ? on_added : elsewhere).push_back(key);
      }
      constexpr int kHalf = kKeysPerConnection / 2;
      ASSERT_GE(on_added.size(), static_cast<size_t>(kConnections * kHalf));
      std::vector<std::vector<std::string>> keys(kConnections);
      std::vector<std::string> all_keys;
      for (int c = 0; c < kConnections; ++c) {
        for (int k = 0; k < kHalf; ++k) {
          keys[c].push_back(on_added[c * kHalf + k]);
          keys[c].push_back(elsewhere[c * kHalf + k]);
        }
        all_keys.insert(all_keys.end(), keys[c].begin(), keys[c].end());
      }
      // Where the file on disk now puts them.
      const auto route = RouteKeys(proxy.conf_path(), pool, all_keys, &error);
      ASSERT_EQ(route.size(), all_keys.size()) << error;
      auto& clients = redis ? redis_clients : memcache_clients;
      std::vector<Backend*> backends =
          redis ? std::vector<Backend*>{&b_r1, &b_r2, &b_r3}
                : std::vector<Backend*>{&b_m1, &b_m2, &b_m3};
      for (int c = 0; c < kConnections; ++c) {
        std::map<std::string, std::string> mine;
        int on_new_server = 0;
        for (const std::string& key : keys[c]) {
          mine[key] = route.at(key);
          on_new_server += route.at(key) == added;
        }
        EXPECT_EQ(on_new_server, grown ? kHalf : 0) << "connection " << c;
        const std::string tag = absl::StrCat("conn", c, "-step", step);
        ASSERT_EQ(WriteKeys(*clients[c], redis, keys[c], tag), "") << "connection " << c;
        EXPECT_EQ(CheckPlacement(mine, backends, tag), "") << "connection " << c;
      }
    }
  }
  // The added server was really used by every worker: its keys are there (checked above), and
  // after the removal no connection wrote to it (checked above); all connections still open.
  const std::string metrics = proxy.Metrics();
  EXPECT_EQ(MetricValue(metrics, "shardproxy_client_connections{pool=\"rpool\"}"), kConnections);
  EXPECT_EQ(MetricValue(metrics, "shardproxy_client_connections{pool=\"mpool\"}"), kConnections);
  EXPECT_EQ(MetricValue(metrics, "shardproxy_config_generation"), 3);
}

}  // namespace
}  // namespace proxy::test

// Sentinel failover through the proxy (docs/high-availability.md): two shards, each a master
// with one replica, watched by three sentinels; a pool names its servers by the Sentinel master
// names. Traffic with a reply checker runs on both shards while shard-a's master is killed:
// after Sentinel's failover the pool serves shard-a again from the promoted replica (the time
// from the kill and from Sentinel's switch to the first success is printed), keys written
// before are read back (placement is by name, unchanged), shard-b never sees an error, and the
// old master, back as a replica, never gets a client request.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"
#include "test/sentinel/sentinel_cluster.h"

namespace proxy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

std::string Bulk(const std::string& value) {
  return absl::StrCat("$", value.size(), "\r\n", value, "\r\n");
}

// The port in a `SENTINEL get-master-addr-by-name` reply ("*2\r\n$9\r\n127.0.0.1\r\n$5\r\nPORT").
int MasterPort(const std::string& reply) {
  const size_t last = reply.rfind("\r\n", reply.size() - 3);
  if (last == std::string::npos) return 0;
  return std::atoi(reply.substr(last + 2).c_str());
}

TEST(SentinelFailoverTest, AKilledMasterFailsOverAndTheOtherShardNeverNotices) {
  SentinelCluster cluster(SentinelClusterOptions{});
  ASSERT_TRUE(cluster.error().empty()) << cluster.error();
  const int port = FreePort();
  const int admin = FreePort();
  std::string yaml = absl::StrCat("ha:\n  listen: 127.0.0.1:", port,
                                  "\n  redis: true\n  timeout: 2000\n  sentinels:\n");
  for (size_t j = 0; j < cluster.sentinel_count(); ++j) {
    absl::StrAppend(&yaml, "   - 127.0.0.1:", cluster.sentinel_port(j), "\n");
  }
  // The configured addresses are only the starting guess: shard-a's is deliberately wrong.
  absl::StrAppend(&yaml, "  servers:\n   - 127.0.0.1:1:1 shard-a\n   - 127.0.0.1:",
                  cluster.master_port(1), ":1 shard-b\n");
  ProxyProcess proxy(yaml, {port}, {"--admin-port", std::to_string(admin)});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();

  // Keys of each shard (found on the masters), written through the proxy.
  std::vector<std::string> keys_a, keys_b;
  {
    Client client(port);
    Client a(cluster.master_port(0)), b(cluster.master_port(1));
    for (int i = 0; i < 400 && (keys_a.size() < 20 || keys_b.size() < 20); ++i) {
      const std::string key = absl::StrCat(i, ":ha");
      ASSERT_EQ(client.Command({"SET", key, absl::StrCat("v", i)}), "+OK\r\n") << proxy.Log();
      if (a.Command({"EXISTS", key}) == ":1\r\n") keys_a.push_back(key);
      if (b.Command({"EXISTS", key}) == ":1\r\n") keys_b.push_back(key);
    }
    ASSERT_GE(keys_a.size(), 20u);
    ASSERT_GE(keys_b.size(), 20u);
    // Replicated before the kill (replication is asynchronous).
    Client replica(cluster.replica_port(0));
    const auto deadline = steady_clock::now() + milliseconds(5000);
    while (replica.Command({"EXISTS", keys_a.back()}) != ":1\r\n" &&
           steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(20));
    }
    ASSERT_EQ(replica.Command({"EXISTS", keys_a.back()}), ":1\r\n");
  }

  // Traffic: SET then GET of a unique value on one key per shard, each checked.
  std::atomic<bool> stop{false};
  std::atomic<int> errors_b{0}, wrong_b{0}, wrong_a{0}, rounds{0};
  std::mutex mu;
  steady_clock::time_point last_error_a{}, first_success_after{};
  std::atomic<bool> killed{false};
  std::thread traffic([&] {
    Client client(port, milliseconds(5000));
    for (int i = 0; !stop; ++i) {
      const std::string value = absl::StrCat("r", i);
      const std::string set_b = client.Command({"SET", keys_b[0], value});
      const std::string get_b = client.Command({"GET", keys_b[0]});
      if (!absl::StartsWith(set_b, "+OK") || get_b != Bulk(value)) {
        if (absl::StartsWith(set_b, "-") || absl::StartsWith(get_b, "-")) {
          ++errors_b;
        } else {
          ++wrong_b;
        }
      }
      const std::string set_a = client.Command({"SET", keys_a[0], value});
      const std::string get_a = client.Command({"GET", keys_a[0]});
      const bool ok_a = absl::StartsWith(set_a, "+OK") && get_a == Bulk(value);
      if (!ok_a && !absl::StartsWith(set_a, "-") && !absl::StartsWith(get_a, "-") &&
          !get_a.empty()) {
        ++wrong_a;  // an answer that is neither the value nor an error
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!ok_a) last_error_a = steady_clock::now();
        if (ok_a && killed && first_success_after == steady_clock::time_point{} &&
            last_error_a != steady_clock::time_point{}) {
          first_success_after = steady_clock::now();
        }
      }
      if (!client.connected()) break;
      ++rounds;
      std::this_thread::sleep_for(milliseconds(5));
    }
  });
  std::this_thread::sleep_for(milliseconds(500));
  const int old_master = cluster.master_port(0);
  const auto killed_at = steady_clock::now();
  cluster.master(0).Kill();
  killed = true;
  // Sentinel's own view: when it names a new master for shard-a.
  steady_clock::time_point switched_at{};
  while (steady_clock::now() - killed_at < milliseconds(30000)) {
    const int now = MasterPort(cluster.SentinelCommand(0, {"SENTINEL", "get-master-addr-by-name",
                                                           "shard-a"}));
    if (now != 0 && now != old_master) {
      switched_at = steady_clock::now();
      break;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_NE(switched_at, steady_clock::time_point{}) << "Sentinel did not fail over";
  // The proxy serves shard-a again.
  const auto serve_deadline = switched_at + milliseconds(10000);
  steady_clock::time_point served{};
  while (steady_clock::now() < serve_deadline) {
    {
      std::lock_guard<std::mutex> lock(mu);
      served = first_success_after;
    }
    if (served != steady_clock::time_point{} && served > switched_at) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_NE(served, steady_clock::time_point{}) << proxy.Log();
  const auto from_kill = std::chrono::duration_cast<milliseconds>(served - killed_at);
  const auto after_switch = std::chrono::duration_cast<milliseconds>(served - switched_at);
  std::printf("failover: Sentinel switched %lld ms after the kill; the proxy served shard-a "
              "again %lld ms after the kill (%lld ms after Sentinel's switch)\n",
              static_cast<long long>(
                  std::chrono::duration_cast<milliseconds>(switched_at - killed_at).count()),
              static_cast<long long>(from_kill.count()),
              static_cast<long long>(after_switch.count()));
  EXPECT_LT(after_switch.count(), 1500) << "Sentinel's failover time plus about a second";

  // The old master comes back: Sentinel makes it a replica; no client request may reach it.
  ASSERT_TRUE(cluster.master(0).Restart());
  std::this_thread::sleep_for(milliseconds(2000));
  stop = true;
  traffic.join();
  EXPECT_EQ(errors_b.load(), 0) << "the other shard saw errors";
  EXPECT_EQ(wrong_b.load(), 0);
  EXPECT_EQ(wrong_a.load(), 0) << "a wrong (not error) reply on the failed-over shard";
  EXPECT_GT(rounds.load(), 50);
  {
    Client demoted(old_master);
    const std::string clients = demoted.Command({"CLIENT", "LIST"});
    EXPECT_FALSE(absl::StrContains(clients, "cmd=get") || absl::StrContains(clients, "cmd=set"))
        << clients;
  }
  // Placement is by name: the keys written before are read back from the promoted replica.
  Client client(port);
  for (size_t i = 1; i < keys_a.size(); ++i) {
    const std::string key = keys_a[i];
    const std::string expected = Bulk(absl::StrCat("v", key.substr(0, key.find(':'))));
    EXPECT_EQ(client.Command({"GET", key}), expected) << key;
  }
  for (size_t i = 1; i < keys_b.size(); ++i) {
    const std::string key = keys_b[i];
    EXPECT_EQ(client.Command({"GET", key}), Bulk(absl::StrCat("v", key.substr(0, key.find(':')))));
  }
  const auto [code, metrics] = HttpGet(admin, "/metrics");
  EXPECT_TRUE(absl::StrContains(metrics, "shardproxy_failovers_total 1")) << metrics;
  EXPECT_TRUE(absl::StrContains(proxy.Log(), "moved from")) << proxy.Log();
}

// With no sentinel reachable the configured address is used; when it is a replica (say, a
// demoted master), ROLE says so and no request is sent to it: the client gets an error, the
// replica's data is never read through the proxy.
TEST(SentinelFailoverTest, AServerThatIsNotAMasterGetsNoRequest) {
  RedisServer master;
  ASSERT_TRUE(master.ok());
  RedisServer replica({"--replicaof", "127.0.0.1", std::to_string(master.port())});
  ASSERT_TRUE(replica.ok());
  {
    Client direct(master.port());
    ASSERT_EQ(direct.Command({"SET", "k", "from-master"}), "+OK\r\n");
  }
  const int port = FreePort();
  const int nobody = FreePort();  // no sentinel answers there
  ProxyProcess proxy(absl::StrCat("ha:\n  listen: 127.0.0.1:", port,
                                  "\n  redis: true\n  sentinels:\n   - 127.0.0.1:", nobody,
                                  "\n  servers:\n   - 127.0.0.1:", replica.port(), ":1 shard-a\n"),
                     {port});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Client client(port);
  const std::string reply = client.Command({"GET", "k"});
  EXPECT_TRUE(absl::StartsWith(reply, "-ERR")) << reply;
  EXPECT_TRUE(absl::StrContains(proxy.Log(), "it is not a master (ROLE says 'slave')"))
      << proxy.Log();
  Client direct(replica.port());
  const std::string clients = direct.Command({"CLIENT", "LIST"});
  EXPECT_FALSE(absl::StrContains(clients, "cmd=get")) << clients;
  // Pointed at the master, the same pool serves.
  const int port2 = FreePort();
  ProxyProcess good(absl::StrCat("ha:\n  listen: 127.0.0.1:", port2,
                                 "\n  redis: true\n  sentinels:\n   - 127.0.0.1:", nobody,
                                 "\n  servers:\n   - 127.0.0.1:", master.port(), ":1 shard-a\n"),
                    {port2});
  ASSERT_TRUE(good.ok()) << good.Log();
  Client client2(port2);
  EXPECT_EQ(client2.Command({"GET", "k"}), "$11\r\nfrom-master\r\n");
  EXPECT_EQ(client2.Command({"SET", "k", "again"}), "+OK\r\n");
}

}  // namespace
}  // namespace proxy::test

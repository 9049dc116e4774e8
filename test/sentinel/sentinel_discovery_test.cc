// The redis_sentinel discovery plugin against real sentinels (test/sentinel/sentinel_cluster.h):
// resolution of masters and replicas, unknown masters, password-protected sentinels, failover by
// SENTINEL FAILOVER and by a killed master (detection time measured and printed), sentinels
// that are dead or paused, a sentinel that answers garbage, and a prompt Stop().
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/discovery.h"
#include "api/registry.h"
#include "gtest/gtest.h"
#include "protocols/redis/sentinel/sentinel_discovery.h"
#include "test/integration/harness.h"
#include "test/sentinel/sentinel_cluster.h"

namespace proxy::test {
namespace {

using protocols::redis::sentinel::Address;
using protocols::redis::sentinel::OptionsFromPool;
using protocols::redis::sentinel::SentinelDiscovery;
using protocols::redis::sentinel::SentinelOptions;

// True once each sentinel but those in `dead` has a client subscribed to it (CLIENT LIST shows
// sub= or psub= above 0): the watcher's subscriptions are up and no event can be missed.
bool SubscriptionsUp(SentinelCluster& cluster, const std::vector<size_t>& dead = {}) {
  for (size_t j = 0; j < cluster.sentinel_count(); ++j) {
    if (std::find(dead.begin(), dead.end(), j) != dead.end()) continue;
    const std::string clients = cluster.SentinelCommand(j, {"CLIENT", "LIST"});
    bool subscribed = false;
    for (absl::string_view line : absl::StrSplit(clients, '\n')) {
      subscribed = subscribed || (!absl::StrContains(line, " sub=0 ") &&
                                  absl::StrContains(line, " sub=")) ||
                   (!absl::StrContains(line, " psub=0 ") && absl::StrContains(line, " psub="));
    }
    if (!subscribed) return false;
  }
  return true;
}

// A pool whose servers are the masters by name, starting at deliberately wrong addresses
// (port 1), so that every resolved address provably came from the sentinels.
config::v1::Pool PoolFor(SentinelCluster& cluster, const std::vector<std::string>& names,
                         const std::string& password = "") {
  config::v1::Pool pool;
  pool.set_name("ha");
  pool.set_protocol("redis");
  for (const std::string& name : names) {
    config::v1::Server* server = pool.add_servers();
    server->mutable_tcp()->set_host("127.0.0.1");
    server->mutable_tcp()->set_port(1);
    server->set_name(name);
    server->set_node_name(name);
    server->set_weight(1);
  }
  for (size_t j = 0; j < cluster.sentinel_count(); ++j) {
    config::v1::Sentinel* s = pool.add_sentinels();
    s->mutable_tcp()->set_host("127.0.0.1");
    s->mutable_tcp()->set_port(cluster.sentinel_port(j));
    s->set_raw(absl::StrCat("127.0.0.1:", cluster.sentinel_port(j)));
  }
  pool.set_sentinel_password(password);
  return pool;
}

// Options with a log that the test can read, and a short re-query interval where wanted.
SentinelOptions Options(const config::v1::Pool& pool, std::vector<std::string>* log,
                        std::mutex* log_mu) {
  SentinelOptions options = OptionsFromPool(pool);
  options.log = [log, log_mu](absl::string_view line) {
    std::lock_guard<std::mutex> lock(*log_mu);
    log->emplace_back(line);
    std::fprintf(stderr, "  [sentinel log] %.*s\n", static_cast<int>(line.size()), line.data());
  };
  return options;
}

const DiscoveredServer* Find(const std::vector<DiscoveredServer>& servers,
                             const std::string& name) {
  for (const DiscoveredServer& s : servers) {
    if (s.server == name) return &s;
  }
  return nullptr;
}

// Records every `changed` call with its time.
class Recorder {
 public:
  std::function<void(const DiscoveredServer&)> Callback() {
    return [this](const DiscoveredServer& server) {
      std::lock_guard<std::mutex> lock(mu_);
      calls_.push_back({absl::Now(), server});
      std::fprintf(stderr, "  changed: %s -> %s:%u (%zu replicas)\n", server.server.c_str(),
                   server.host.c_str(), server.port, server.replicas.size());
      cv_.notify_all();
    };
  }
  // The time of the first call for `name` at `port`, or InfiniteFuture after `timeout`.
  absl::Time WaitFor(const std::string& name, uint32_t port, absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout));
    for (;;) {
      for (const auto& call : calls_) {
        if (call.second.server == name && call.second.port == port) return call.first;
      }
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
        for (const auto& call : calls_) {
          if (call.second.server == name && call.second.port == port) return call.first;
        }
        return absl::InfiniteFuture();
      }
    }
  }
  // The time of the first call for `name` with `replicas` replicas, InfiniteFuture after
  // `timeout`.
  absl::Time WaitForReplicas(const std::string& name, size_t replicas, absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout));
    for (;;) {
      for (const auto& call : calls_) {
        if (call.second.server == name && call.second.replicas.size() == replicas) {
          return call.first;
        }
      }
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout &&
          std::chrono::steady_clock::now() >= deadline) {
        return absl::InfiniteFuture();
      }
    }
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.clear();
  }
  std::vector<DiscoveredServer> CallsFor(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<DiscoveredServer> out;
    for (const auto& call : calls_) {
      if (call.second.server == name) out.push_back(call.second);
    }
    return out;
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<absl::Time, DiscoveredServer>> calls_;
};

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

TEST(SentinelDiscoveryTest, RegisteredUnderItsName) {
  const ServerDiscoveryFactory* factory = Registry<ServerDiscoveryFactory>::Find("redis_sentinel");
  ASSERT_NE(factory, nullptr) << Registry<ServerDiscoveryFactory>::NamesForMessage();
  EXPECT_FALSE(factory->Description().empty());
}

// Masters and replicas resolved; an unknown master named clearly; a dead first sentinel and a
// paused second one cost at most one io_timeout; Stop() prompt while a sentinel is paused.
TEST(SentinelDiscoveryTest, ResolvesMastersAndReplicasThroughAnyLiveSentinel) {
  SentinelCluster cluster({});
  ASSERT_EQ(cluster.error(), "");

  const config::v1::Pool pool = PoolFor(cluster, {"shard-a", "shard-b"});
  ServerDiscoveryPtr discovery =
      Registry<ServerDiscoveryFactory>::Find("redis_sentinel")->Create(pool);
  std::vector<DiscoveredServer> servers = discovery->ResolveAll(absl::Seconds(5));
  ASSERT_EQ(servers.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const DiscoveredServer* s = Find(servers, i == 0 ? "shard-a" : "shard-b");
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->host, "127.0.0.1");
    EXPECT_EQ(s->port, static_cast<uint32_t>(cluster.master_port(i)));
    ASSERT_EQ(s->replicas.size(), 1u);
    EXPECT_EQ(s->replicas[0], Address("127.0.0.1", cluster.replica_port(i)));
  }

  // An unknown master: the known ones resolve, the unknown one is reported with every
  // sentinel's answer.
  std::vector<std::string> log;
  std::mutex log_mu;
  SentinelDiscovery with_unknown(
      Options(PoolFor(cluster, {"shard-a", "no-such-master"}), &log, &log_mu));
  auto report = with_unknown.Resolve(absl::Seconds(5));
  ASSERT_EQ(report.servers.size(), 1u);
  EXPECT_EQ(report.servers[0].server, "shard-a");
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_TRUE(absl::StrContains(report.errors[0], "master 'no-such-master' not resolved"))
      << report.errors[0];
  EXPECT_TRUE(absl::StrContains(report.errors[0], "does not monitor a master named"))
      << report.errors[0];
  EXPECT_TRUE(absl::StrContains(report.errors[0],
                                absl::StrCat("127.0.0.1:", cluster.sentinel_port(2))))
      << report.errors[0];  // every sentinel was asked
  EXPECT_EQ(with_unknown.ResolveAll(absl::Seconds(5)).size(), 1u);
  {
    std::lock_guard<std::mutex> lock(log_mu);
    ASSERT_FALSE(log.empty());
    EXPECT_TRUE(absl::StrContains(log.back(), "no-such-master"));
  }

  // The first sentinel dead (refused at once), the second paused (accepts, never answers): the
  // third answers, after one io_timeout (1 s) spent on the paused one.
  cluster.sentinel(0).Kill(SIGKILL);
  cluster.sentinel(1).Kill(SIGSTOP);
  absl::Time start = absl::Now();
  servers = discovery->ResolveAll(absl::Seconds(5));
  const absl::Duration took = absl::Now() - start;
  std::printf("ResolveAll with sentinel 0 dead and sentinel 1 paused: %.0f ms\n", Ms(took));
  ASSERT_EQ(servers.size(), 2u);
  EXPECT_EQ(Find(servers, "shard-a")->port, static_cast<uint32_t>(cluster.master_port(0)));
  EXPECT_LT(took, absl::Milliseconds(2500));

  // The timeout bounds ResolveAll even when no sentinel can answer in time.
  SentinelOptions only_paused = OptionsFromPool(pool);
  only_paused.sentinels = {{"127.0.0.1", static_cast<uint32_t>(cluster.sentinel_port(1))}};
  only_paused.log = [](absl::string_view) {};
  SentinelDiscovery stuck(only_paused);
  start = absl::Now();
  auto stuck_report = stuck.Resolve(absl::Milliseconds(300));
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(800));
  EXPECT_TRUE(stuck_report.servers.empty());
  ASSERT_EQ(stuck_report.errors.size(), 2u);
  EXPECT_TRUE(absl::StrContains(stuck_report.errors[0], "timed out")) << stuck_report.errors[0];

  // The watcher with one sentinel dead and one paused: no spurious report (the addresses did
  // not change), and Stop() returns at once although a connection to the paused sentinel waits.
  Recorder recorder;
  ASSERT_TRUE(discovery->Start(recorder.Callback()).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  start = absl::Now();
  discovery->Stop();
  const absl::Duration stop_took = absl::Now() - start;
  std::printf("Stop() with sentinel 0 dead and sentinel 1 paused: %.1f ms\n", Ms(stop_took));
  EXPECT_LT(stop_took, absl::Milliseconds(200));
  EXPECT_EQ(recorder.size(), 0u);
  cluster.sentinel(1).Kill(SIGCONT);
}

TEST(SentinelDiscoveryTest, PasswordProtectedSentinels) {
  SentinelCluster cluster({.masters = {"shard-a"}, .replicas = true, .sentinels = 1,
                           .quorum = 1, .password = "s3ntinel-secret"});
  ASSERT_EQ(cluster.error(), "");
  std::vector<std::string> log;
  std::mutex log_mu;

  SentinelDiscovery with(Options(PoolFor(cluster, {"shard-a"}, "s3ntinel-secret"), &log, &log_mu));
  auto report = with.Resolve(absl::Seconds(5));
  ASSERT_EQ(report.servers.size(), 1u) << absl::StrJoin(report.errors, "\n");
  EXPECT_EQ(report.servers[0].port, static_cast<uint32_t>(cluster.master_port(0)));
  EXPECT_EQ(report.servers[0].replicas.size(), 1u);

  SentinelDiscovery without(Options(PoolFor(cluster, {"shard-a"}), &log, &log_mu));
  report = without.Resolve(absl::Seconds(5));
  EXPECT_TRUE(report.servers.empty());
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_TRUE(absl::StrContains(report.errors[0], "NOAUTH")) << report.errors[0];
  EXPECT_TRUE(absl::StrContains(report.errors[0], "sentinel_password")) << report.errors[0];

  SentinelDiscovery wrong(Options(PoolFor(cluster, {"shard-a"}, "not-it"), &log, &log_mu));
  report = wrong.Resolve(absl::Seconds(5));
  EXPECT_TRUE(report.servers.empty());
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_TRUE(absl::StrContains(report.errors[0], "AUTH refused")) << report.errors[0];

  // The watcher subscribes with the password too: it reports nothing (nothing changed), and
  // logs no failure.
  Recorder recorder;
  {
    std::lock_guard<std::mutex> lock(log_mu);
    log.clear();
  }
  ASSERT_TRUE(with.Start(recorder.Callback()).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  with.Stop();
  EXPECT_EQ(recorder.size(), 0u);
  {
    std::lock_guard<std::mutex> lock(log_mu);
    EXPECT_TRUE(log.empty()) << absl::StrJoin(log, "\n");
  }

  // Without ResolveAll, the watcher's own query finds that the configured guess (port 1) is
  // wrong and reports where the master is: the path that also catches a switch published while
  // no subscription was up.
  SentinelDiscovery fresh(Options(PoolFor(cluster, {"shard-a"}, "s3ntinel-secret"), &log, &log_mu));
  Recorder fresh_recorder;
  const absl::Time start = absl::Now();
  ASSERT_TRUE(fresh.Start(fresh_recorder.Callback()).ok());
  const absl::Time seen = fresh_recorder.WaitFor("shard-a", cluster.master_port(0), absl::Seconds(5));
  fresh.Stop();
  ASSERT_NE(seen, absl::InfiniteFuture());
  std::printf("Start() without ResolveAll -> changed(shard-a at its master): %.0f ms\n",
              Ms(seen - start));
  const auto calls = fresh_recorder.CallsFor("shard-a");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].replicas.size(), 1u);
}

// SENTINEL FAILOVER on the last sentinel: `changed` reports shard-a at its replica's address;
// shard-b is never reported.
TEST(SentinelDiscoveryTest, ForcedFailoverIsReported) {
  SentinelCluster cluster({});
  ASSERT_EQ(cluster.error(), "");
  std::vector<std::string> log;
  std::mutex log_mu;
  SentinelDiscovery discovery(Options(PoolFor(cluster, {"shard-a", "shard-b"}), &log, &log_mu));
  ASSERT_EQ(discovery.ResolveAll(absl::Seconds(5)).size(), 2u);
  Recorder recorder;
  ASSERT_TRUE(discovery.Start(recorder.Callback()).ok());
  ASSERT_TRUE(WaitUntil([&] { return SubscriptionsUp(cluster); }));

  const absl::Time start = absl::Now();
  std::string reply;
  // NOGOODSLAVE until the sentinel refreshed the replica's INFO: retry briefly.
  ASSERT_TRUE(WaitUntil(
      [&] {
        reply = cluster.SentinelCommand(2, {"SENTINEL", "FAILOVER", "shard-a"});
        return reply == "+OK\r\n";
      },
      std::chrono::milliseconds(10000), std::chrono::milliseconds(200)))
      << reply;
  const absl::Time seen = recorder.WaitFor("shard-a", cluster.replica_port(0), absl::Seconds(30));
  ASSERT_NE(seen, absl::InfiniteFuture()) << "no switch reported";
  std::printf("SENTINEL FAILOVER -> changed(shard-a at its replica): %.0f ms\n",
              Ms(seen - start));
  EXPECT_LT(seen - start, absl::Seconds(15));
  // Give a duplicate (from the other sentinels) and the follow-up query time to arrive.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  discovery.Stop();
  const auto a_calls = recorder.CallsFor("shard-a");
  // The address moved once: every report names the new master (no flip back to the demoted one).
  for (const DiscoveredServer& call : a_calls) {
    EXPECT_EQ(call.port, static_cast<uint32_t>(cluster.replica_port(0)));
  }
  EXPECT_TRUE(recorder.CallsFor("shard-b").empty());
}

// A killed master (with the first sentinel killed too: two of three sentinels still make the
// quorum): Sentinel's own failover is reported; shard-b is never reported; Stop() is prompt.
TEST(SentinelDiscoveryTest, KilledMasterIsReplacedWithOneSentinelDown) {
  SentinelCluster cluster({});
  ASSERT_EQ(cluster.error(), "");
  std::vector<std::string> log;
  std::mutex log_mu;
  SentinelOptions options = Options(PoolFor(cluster, {"shard-a", "shard-b"}), &log, &log_mu);
  SentinelDiscovery discovery(options);
  ASSERT_EQ(discovery.ResolveAll(absl::Seconds(5)).size(), 2u);
  cluster.sentinel(0).Kill(SIGKILL);
  Recorder recorder;
  ASSERT_TRUE(discovery.Start(recorder.Callback()).ok());
  ASSERT_TRUE(WaitUntil([&] { return SubscriptionsUp(cluster, /*dead=*/{0}); }));

  const absl::Time killed = absl::Now();
  cluster.master(0).Kill();
  const absl::Time seen =
      recorder.WaitFor("shard-a", cluster.replica_port(0), absl::Seconds(40));
  ASSERT_NE(seen, absl::InfiniteFuture()) << "no switch reported";
  std::printf("master killed -> changed(shard-a at its replica): %.0f ms "
              "(down-after-milliseconds 1000, then Sentinel's election and promotion)\n",
              Ms(seen - killed));
  EXPECT_LT(seen - killed, absl::Seconds(30));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));

  const absl::Time start = absl::Now();
  discovery.Stop();
  std::printf("Stop() with sentinel 0 dead: %.1f ms\n", Ms(absl::Now() - start));
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(200));
  for (const DiscoveredServer& call : recorder.CallsFor("shard-a")) {
    EXPECT_EQ(call.port, static_cast<uint32_t>(cluster.replica_port(0)));
  }
  EXPECT_TRUE(recorder.CallsFor("shard-b").empty());
}

// A replica that dies leaves the healthy set (+sdown on the replica), and comes back after it
// restarts (-sdown, then the sentinels' next INFO of it); the master's address is unchanged.
TEST(SentinelDiscoveryTest, ReplicaChangesAreReported) {
  SentinelCluster cluster({});
  ASSERT_EQ(cluster.error(), "");
  std::vector<std::string> log;
  std::mutex log_mu;
  SentinelDiscovery discovery(Options(PoolFor(cluster, {"shard-a", "shard-b"}), &log, &log_mu));
  ASSERT_EQ(discovery.ResolveAll(absl::Seconds(5)).size(), 2u);
  Recorder recorder;
  ASSERT_TRUE(discovery.Start(recorder.Callback()).ok());
  ASSERT_TRUE(WaitUntil([&] { return SubscriptionsUp(cluster); }));

  absl::Time start = absl::Now();
  cluster.replica(0).Kill();
  absl::Time seen = recorder.WaitForReplicas("shard-a", 0, absl::Seconds(15));
  ASSERT_NE(seen, absl::InfiniteFuture()) << "the dead replica was never dropped";
  std::printf("replica killed -> changed(shard-a, 0 replicas): %.0f ms\n", Ms(seen - start));
  for (const DiscoveredServer& call : recorder.CallsFor("shard-a")) {
    EXPECT_EQ(call.port, static_cast<uint32_t>(cluster.master_port(0)));
  }

  start = absl::Now();
  ASSERT_TRUE(cluster.replica(0).Restart());
  seen = recorder.WaitForReplicas("shard-a", 1, absl::Seconds(30));
  ASSERT_NE(seen, absl::InfiniteFuture()) << "the restarted replica never came back";
  std::printf("replica restarted -> changed(shard-a, 1 replica): %.0f ms\n", Ms(seen - start));
  discovery.Stop();
  const auto calls = recorder.CallsFor("shard-a");
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back().replicas,
            (std::vector<Address>{{"127.0.0.1", static_cast<uint32_t>(cluster.replica_port(0))}}));
  EXPECT_TRUE(recorder.CallsFor("shard-b").empty());
}

// A "sentinel" that answers garbage (a real one cannot): its connection is closed with a clear
// message and the next sentinel answers; the watcher keeps working.
TEST(SentinelDiscoveryTest, MalformedRepliesCloseThatSentinelOnly) {
  SentinelCluster cluster({.masters = {"shard-a"}, .replicas = false, .sentinels = 1,
                           .quorum = 1, .password = ""});
  ASSERT_EQ(cluster.error(), "");
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener, 16), 0);
  socklen_t length = sizeof(addr);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &length);
  const int bad_port = ntohs(addr.sin_port);
  std::atomic<int> served{0};
  std::thread bad([&] {
    for (;;) {
      const int fd = ::accept(listener, nullptr, nullptr);
      if (fd < 0) return;
      char buffer[512];
      if (::recv(fd, buffer, sizeof(buffer), 0) > 0) {
        // An absurd bulk length: over every bound.
        const char garbage[] = "$99999999999\r\nxx";
        (void)!::send(fd, garbage, sizeof(garbage) - 1, MSG_NOSIGNAL);
        ++served;
      }
      ::close(fd);
    }
  });

  std::vector<std::string> log;
  std::mutex log_mu;
  config::v1::Pool pool = PoolFor(cluster, {"shard-a"});
  SentinelOptions options = Options(pool, &log, &log_mu);
  options.sentinels.insert(options.sentinels.begin(),
                           Address("127.0.0.1", static_cast<uint32_t>(bad_port)));
  options.requery_interval = absl::Milliseconds(300);
  SentinelDiscovery discovery(options);
  auto report = discovery.Resolve(absl::Seconds(5));
  ASSERT_EQ(report.servers.size(), 1u) << absl::StrJoin(report.errors, "\n");
  EXPECT_EQ(report.servers[0].port, static_cast<uint32_t>(cluster.master_port(0)));

  Recorder recorder;
  ASSERT_TRUE(discovery.Start(recorder.Callback()).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  discovery.Stop();
  ::shutdown(listener, SHUT_RDWR);
  ::close(listener);
  bad.join();
  EXPECT_GE(served.load(), 2);
  EXPECT_EQ(recorder.size(), 0u);
  std::lock_guard<std::mutex> lock(log_mu);
  bool malformed_logged = false;
  for (const std::string& line : log) {
    malformed_logged = malformed_logged || (absl::StrContains(line, "malformed reply") &&
                                            absl::StrContains(line, std::to_string(bad_port)));
  }
  EXPECT_TRUE(malformed_logged) << absl::StrJoin(log, "\n");
}

}  // namespace
}  // namespace proxy::test

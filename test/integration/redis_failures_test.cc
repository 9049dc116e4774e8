// End-to-end placement and failure handling of redis pools (twemproxy's semantics) with real
// redis-server backends and the real //:proxy binary, all on free 127.0.0.1 ports:
//   * every key of the golden distribution vectors lands on the backend the vectors name;
//   * a backend killed under traffic fails only its own keys, and serves again after a restart;
//   * auto_eject_hosts: ejection after server_failure_limit failures, return after
//     server_retry_timeout;
//   * timeout: a black-holed backend fails the whole connection, replies stay in order;
//   * a restart with a pipeline in flight fails the queued requests without hanging;
//   * server_connections bounds the backend connections under 2,000 short-lived clients;
//   * preconnect opens exactly one connection per backend at startup;
//   * MGET / DEL / MSET split across servers with one backend dead give one error reply.
// Timing only matters where the behaviour is about elapsed time (timeouts, retry); everything
// else polls with deadlines.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "test/integration/backend_pools.h"
#include "test/integration/harness.h"
#include "test/integration/proxied_redis.h"
#include "test/integration/traffic_loop.h"

namespace proxy::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr absl::string_view kOk = "+OK\r\n";
constexpr absl::string_view kPong = "+PONG\r\n";
constexpr absl::string_view kNil = "$-1\r\n";
constexpr absl::string_view kRefused = "-ERR Connection refused\r\n";
constexpr absl::string_view kTimedOut = "-ERR Connection timed out\r\n";
constexpr absl::string_view kReset = "-ERR Connection reset by peer\r\n";
constexpr absl::string_view kUnknown = "-ERR unknown\r\n";

// ---------------------------------------------------------------------------------------------
// Small helpers

std::string Bulk(absl::string_view value) {
  return absl::StrCat("$", value.size(), "\r\n", value, "\r\n");
}

// Replies are short except for bulk values; keep failure messages readable.
std::string Shown(absl::string_view reply) {
  std::string out(reply.substr(0, 80));
  if (reply.size() > 80) absl::StrAppend(&out, "...(", reply.size(), " bytes)");
  return out;
}

// Sends every command in one write, then reads one reply per command ("" for a missing one).
std::vector<std::string> Pipeline(Client& client,
                                  const std::vector<std::vector<std::string>>& cmds) {
  std::string bytes;
  for (const auto& cmd : cmds) bytes += Resp(cmd);
  std::vector<std::string> replies;
  if (!client.Send(bytes)) return std::vector<std::string>(cmds.size());
  for (size_t i = 0; i < cmds.size(); ++i) {
    replies.push_back(client.ReadReply());
    if (replies.back().empty()) {
      replies.resize(cmds.size());
      break;
    }
  }
  return replies;
}

// Connections a redis-server has besides `direct` itself, i.e. the proxy's when nothing else
// talks to that server.
int64_t OtherConnections(Client& direct) {
  const int64_t n = RedisInfoField(direct, "clients", "connected_clients");
  return n < 0 ? -1 : n - 1;
}

// A listening socket nobody ever accepts on or reads from: connects succeed (the kernel
// completes the handshake into the backlog) but requests are never answered.
class BlackHole {
 public:
  BlackHole() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        listen(fd_, 64) != 0) {
      return;
    }
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~BlackHole() {
    if (fd_ >= 0) close(fd_);
  }
  BlackHole(const BlackHole&) = delete;
  BlackHole& operator=(const BlackHole&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Backends, pools and the golden distribution vectors (test/integration/backend_pools.h)

std::string Yaml(const std::vector<TestPool>& pools) { return PoolsYaml(pools, /*redis=*/true); }

// ---------------------------------------------------------------------------------------------
// 1. Placement end to end

TEST(RedisPlacement, EveryGoldenKeyIsStoredOnTheBackendTheVectorsName) {
  ASSERT_TRUE(HaveRedisTool("redis-server"));
  auto redis = StartServers<RedisServer>(3);
  ASSERT_TRUE(AllOk(redis));
  const std::vector<int> ports = Ports(redis);

  // Every s3_named combination: ketama and modula x 4 hashes x hash_tag none / "{}".
  const std::vector<Combination>& combos = Named3();
  ASSERT_EQ(combos.size(), 16u) << "expected 2 distributions x 4 hashes x 2 hash tags";
  std::vector<TestPool> pools;
  for (size_t i = 0; i < combos.size(); ++i) {
    const Combination& c = combos[i];
    TestPool pool{absl::StrCat("p", i), FreePort(), {}, NamedServers(c, ports)};
    pool.options = {{"distribution", c.distribution}, {"hash", c.hash}};
    if (!c.hash_tag.empty())
      pool.options.emplace_back("hash_tag", absl::StrCat("\"", c.hash_tag, "\""));
    pools.push_back(std::move(pool));
  }
  std::vector<int> listen_ports;
  for (const TestPool& p : pools) listen_ports.push_back(p.port);
  ProxyProcess proxy(Yaml(pools), listen_ports);
  ASSERT_TRUE(proxy.ok()) << proxy.Log();

  std::vector<std::unique_ptr<Client>> direct;
  for (int port : ports) direct.push_back(std::make_unique<Client>(port));

  bool saw_empty_key = false;
  bool saw_long_key = false;
  for (size_t ci = 0; ci < combos.size(); ++ci) {
    const Combination& c = combos[ci];
    const std::string label =
        absl::StrCat(c.distribution, "/", c.hash, "/hash_tag=\"", c.hash_tag, "\"");
    SCOPED_TRACE(label);
    for (auto& d : direct) ASSERT_EQ(d->Command({"FLUSHALL"}), kOk);
    ASSERT_EQ(c.rows.size(), 200u) << "every vector key, the empty one and the long ones too";

    // Write every key through the proxy.
    Client client(pools[ci].port);
    ASSERT_TRUE(client.connected());
    std::vector<std::vector<std::string>> sets;
    for (size_t r = 0; r < c.rows.size(); ++r) {
      sets.push_back({"SET", c.rows[r].first, absl::StrCat("value-", ci, "-", r)});
    }
    const std::vector<std::string> set_replies = Pipeline(client, sets);
    for (size_t r = 0; r < c.rows.size(); ++r) {
      ASSERT_EQ(set_replies[r], kOk) << "SET of key '" << Shown(c.rows[r].first) << "'";
    }

    // Read every key back from each backend directly.
    std::vector<std::vector<std::string>> gets;
    for (const auto& row : c.rows) gets.push_back({"GET", row.first});
    std::vector<std::vector<std::string>> found(direct.size());
    for (size_t b = 0; b < direct.size(); ++b) found[b] = Pipeline(*direct[b], gets);

    for (size_t r = 0; r < c.rows.size(); ++r) {
      const auto& [key, owner] = c.rows[r];
      const std::string value = absl::StrCat("value-", ci, "-", r);
      std::vector<int> holders;
      for (size_t b = 0; b < direct.size(); ++b) {
        if (found[b][r] != kNil) holders.push_back(static_cast<int>(b));
      }
      ASSERT_EQ(holders, std::vector<int>{owner})
          << "key '" << Shown(key) << "' (length " << key.size() << ") should be only on "
          << c.servers[static_cast<size_t>(owner)];
      EXPECT_EQ(found[static_cast<size_t>(owner)][r], Bulk(value)) << "key '" << Shown(key) << "'";
      saw_empty_key = saw_empty_key || key.empty();
      saw_long_key = saw_long_key || key.size() > 250;
    }

    // Nothing else was written anywhere, and reads through the proxy find every value.
    int64_t stored = 0;
    for (auto& d : direct) {
      int64_t n = 0;
      const std::string reply = d->Command({"DBSIZE"});
      ASSERT_TRUE(absl::SimpleAtoi(absl::StripSuffix(absl::StripPrefix(reply, ":"), "\r\n"), &n))
          << reply;
      stored += n;
    }
    EXPECT_EQ(stored, static_cast<int64_t>(c.rows.size()));
    const std::vector<std::string> via_proxy = Pipeline(client, gets);
    for (size_t r = 0; r < c.rows.size(); ++r) {
      ASSERT_EQ(via_proxy[r], Bulk(absl::StrCat("value-", ci, "-", r)))
          << "GET through the proxy of '" << Shown(c.rows[r].first) << "'";
    }
  }
  EXPECT_TRUE(saw_empty_key);
  EXPECT_TRUE(saw_long_key);
}

// ---------------------------------------------------------------------------------------------
// 2. A backend killed under traffic

// SET then GET on each key, round and round.
bool RedisSetGet(TrafficLoop::Turn& t) {
  int sent = t.phase();
  std::string reply = t.client.Command({"SET", t.key, t.value});
  const bool set_ok = reply == kOk;
  if (!t.record(sent, "SET", reply, set_ok)) return false;
  sent = t.phase();
  reply = t.client.Command({"GET", t.key});
  // After a failed SET the value may be older (or gone after a restart).
  const bool get_ok = set_ok ? reply == Bulk(t.value) : (!reply.empty() && reply[0] == '$');
  return t.record(sent, "GET", reply, get_ok);
}

TEST(RedisBackendFailure, KilledBackendFailsOnlyItsOwnKeysUntilItIsRestarted) {
  ASSERT_TRUE(HaveRedisTool("redis-server"));
  auto redis = StartServers<RedisServer>(3);
  ASSERT_TRUE(AllOk(redis));
  const Combination* combo = FindNamed3("ketama", "md5", "");
  ASSERT_NE(combo, nullptr);
  constexpr int kVictim = 1;  // cache-b

  // Client A: keys of all three servers. Client B: disjoint keys of the two others only.
  const DrillKeys keys = PickDrillKeys(*combo, kVictim);
  ASSERT_TRUE(keys.Complete());

  const int listen = FreePort();
  ProxyProcess proxy(Yaml({{"alpha",
                            listen,
                            {{"hash", "md5"}, {"auto_eject_hosts", "false"}},
                            NamedServers(*combo, Ports(redis))}}),
                     {listen});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();

  KillDrill drill(listen, keys, &RedisSetGet, {kRefused, kReset, kUnknown});
  // Everything works before the kill.
  ASSERT_TRUE(drill.StartAndWaitWorking());

  drill.Killing();
  redis[kVictim]->Kill();
  // Its keys fail with "Connection refused" while the other keys keep working.
  EXPECT_TRUE(drill.WaitFailedOver())
      << "refused victim requests: " << drill.mixed().Count(true, kKilled, false, kRefused);

  ASSERT_TRUE(redis[kVictim]->Restart());
  drill.Restarted();
  // The next request makes a new connection: its keys succeed again.
  EXPECT_TRUE(drill.WaitRecovered());
  drill.StopAndCheck();
}

// ---------------------------------------------------------------------------------------------
// 3. Ejection and return

TEST(RedisEjection, DeadServerIsEjectedAfterFailureLimitAndTriedAgainAfterRetryTimeout) {
  ASSERT_TRUE(HaveRedisTool("redis-server"));
  RedisServer live_server;
  ASSERT_TRUE(live_server.ok());
  const int dead_port = FreePort();  // nothing listens there
  const std::vector<std::string> servers = {
      absl::StrCat("127.0.0.1:", live_server.port(), ":1 node-live"),
      absl::StrCat("127.0.0.1:", dead_port, ":1 node-dead")};

  // Find a key owned by each server with a probe proxy that never ejects.
  std::string dead_key;
  std::string live_key;
  {
    const int listen = FreePort();
    ProxyProcess probe(Yaml({{"probe", listen, {{"auto_eject_hosts", "false"}}, servers}}),
                       {listen});
    ASSERT_TRUE(probe.ok()) << probe.Log();
    Client client(listen);
    std::vector<std::string> candidates = {"alpha"};
    for (const auto& row : Named3().front().rows) candidates.push_back(row.first);
    for (const std::string& key : candidates) {
      if (key.empty()) continue;
      const std::string reply = client.Command({"GET", key});
      if (reply == kRefused && dead_key.empty()) dead_key = key;
      if (reply == kNil && live_key.empty()) live_key = key;
      ASSERT_TRUE(reply == kRefused || reply == kNil) << Shown(reply);
      if (!dead_key.empty() && !live_key.empty()) break;
    }
  }
  ASSERT_FALSE(dead_key.empty());
  ASSERT_FALSE(live_key.empty());

  const int listen = FreePort();
  ProxyProcess proxy(Yaml({{"alpha",
                            listen,
                            {{"auto_eject_hosts", "true"},
                             {"server_failure_limit", "2"},
                             {"server_retry_timeout", "1500"}},
                            servers}}),
                     {listen});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Client client(listen, milliseconds(5000));
  Client direct(live_server.port());
  ASSERT_TRUE(client.connected());

  // twemproxy's ejection (docs/compatibility.md): the first server_failure_limit failures are
  // returned to the client, never retried elsewhere; then the server is ejected.
  EXPECT_EQ(client.Command({"GET", dead_key}), kRefused) << "request 1";
  EXPECT_EQ(client.Command({"GET", dead_key}), kRefused) << "request 2";
  const auto ejected_at = Clock::now();
  EXPECT_EQ(client.Command({"SET", dead_key, "moved"}), kOk) << "request 3 (ejected)";
  EXPECT_EQ(client.Command({"GET", dead_key}), Bulk("moved"));
  EXPECT_EQ(direct.Command({"GET", dead_key}), Bulk("moved")) << "served by the live server";
  EXPECT_EQ(client.Command({"SET", live_key, "here"}), kOk);

  // Still ejected shortly before the retry timeout.
  std::this_thread::sleep_until(ejected_at + milliseconds(1000));
  EXPECT_EQ(client.Command({"GET", dead_key}), Bulk("moved")) << "1.0 s after the ejection";
  EXPECT_EQ(client.Command({"GET", live_key}), Bulk("here"));

  // After server_retry_timeout it is back on probation: two more failures, then ejected again.
  std::this_thread::sleep_until(ejected_at + milliseconds(1500 + 300));
  EXPECT_EQ(client.Command({"GET", dead_key}), kRefused)
      << "first request after the retry: twemproxy re-adds the server before routing it";
  EXPECT_EQ(client.Command({"GET", dead_key}), kRefused) << "second request after the retry";
  EXPECT_EQ(client.Command({"GET", dead_key}), Bulk("moved")) << "ejected again";
  EXPECT_EQ(client.Command({"GET", live_key}), Bulk("here"));
  EXPECT_EQ(client.Command({"PING"}), kPong);
}

// ---------------------------------------------------------------------------------------------
// 4. Request timeout

TEST(RedisTimeout, BlackHoledBackendTimesOutInOrderAndLiveServersAreUnaffected) {
  ASSERT_TRUE(HaveRedisTool("redis-server"));
  // Default hash fnv1a_64 + ketama: "a" and "b" share a server; that one is the black hole.
  const Combination* combo = FindNamed3("ketama", "fnv1a_64", "");
  ASSERT_NE(combo, nullptr);
  const int hole_index = OwnerOf(*combo, "a");
  ASSERT_GE(hole_index, 0);
  ASSERT_EQ(OwnerOf(*combo, "b"), hole_index);
  const std::vector<std::string> live_keys = KeysOf(*combo, hole_index, /*others=*/true);
  ASSERT_FALSE(live_keys.empty());
  const std::string live_key = live_keys.front();

  BlackHole hole;
  ASSERT_GT(hole.port(), 0);
  auto redis = StartServers<RedisServer>(3);
  ASSERT_TRUE(AllOk(redis));
  std::vector<int> ports = Ports(redis);
  ports[static_cast<size_t>(hole_index)] = hole.port();

  const int listen = FreePort();
  ProxyProcess proxy(Yaml({{"alpha", listen, {{"timeout", "300"}}, NamedServers(*combo, ports)}}),
                     {listen});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Client client(listen, milliseconds(3000));
  Client other(listen, milliseconds(3000));
  EXPECT_EQ(other.Command({"SET", live_key, "fine"}), kOk);

  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const auto start = Clock::now();
    ASSERT_TRUE(client.Send(Resp({"GET", "a"}) + Resp({"GET", "b"}) + Resp({"PING"})));
    // Meanwhile a live server answers at once.
    EXPECT_EQ(other.Command({"GET", live_key}), Bulk("fine"));
    EXPECT_LT(Clock::now() - start, milliseconds(250)) << "the live server waited for the timeout";

    EXPECT_EQ(client.ReadReply(), kTimedOut);
    const auto elapsed = Clock::now() - start;
    EXPECT_EQ(client.ReadReply(), kTimedOut);
    EXPECT_EQ(client.ReadReply(), kPong);
    EXPECT_GE(elapsed, milliseconds(250)) << "timed out before `timeout: 300`";
    EXPECT_LE(elapsed, milliseconds(1000));
    // The client connection and the live server are fine afterwards; the next request to the
    // black hole uses a new backend connection (round 1).
    EXPECT_EQ(client.Command({"GET", live_key}), Bulk("fine"));
  }
}

// ---------------------------------------------------------------------------------------------
// 5. Restart with a pipeline in flight

TEST(RedisBackendFailure, RestartWithPipelineInFlightFailsQueuedRequestsAndClientStaysUsable) {
  ASSERT_TRUE(HaveRedisTool("redis-server"));
  const Combination* combo = FindNamed3("ketama", "md5", "");
  ASSERT_NE(combo, nullptr);
  constexpr int kVictim = 0;  // cache-a
  const std::vector<std::string> victim_keys = KeysOf(*combo, kVictim);
  const std::vector<std::string> live_keys = KeysOf(*combo, kVictim, /*others=*/true);
  ASSERT_GE(victim_keys.size(), 20u);
  ASSERT_GE(live_keys.size(), 20u);

  auto redis = StartServers<RedisServer>(3);
  ASSERT_TRUE(AllOk(redis));
  const int listen = FreePort();
  ProxyProcess proxy(
      Yaml({{"alpha", listen, {{"hash", "md5"}}, NamedServers(*combo, Ports(redis))}}), {listen});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Client client(listen, milliseconds(5000));
  ASSERT_EQ(client.Command({"SET", victim_keys[0], "before"}), kOk);  // connection established

  // Hold every write on the victim: the proxy's requests reach it but are not answered.
  {
    Client direct(redis[kVictim]->port());
    ASSERT_EQ(direct.Command({"CLIENT", "PAUSE", "20000", "WRITE"}), kOk);
  }
  std::vector<std::vector<std::string>> cmds;
  std::vector<bool> is_victim;
  for (size_t i = 0; i < 20; ++i) {
    cmds.push_back({"SET", victim_keys[i], "queued"});
    is_victim.push_back(true);
    cmds.push_back({"GET", live_keys[i]});
    is_victim.push_back(false);
  }
  std::string bytes;
  for (const auto& c : cmds) bytes += Resp(c);
  ASSERT_TRUE(client.Send(bytes));
  {
    Client direct(redis[kVictim]->port());
    ASSERT_TRUE(WaitUntil([&] { return RedisInfoField(direct, "clients", "blocked_clients") >= 1; },
                          milliseconds(5000)))
        << "the proxy's first SET never reached the paused backend";
  }
  ASSERT_TRUE(redis[kVictim]->Restart());

  // Every reply arrives, in order: errors for the victim, values for the others.
  for (size_t i = 0; i < cmds.size(); ++i) {
    const std::string reply = client.ReadReply();
    ASSERT_FALSE(reply.empty()) << "reply " << i << " never came (" << cmds[i][0] << " "
                                << cmds[i][1] << ")";
    if (is_victim[i]) {
      EXPECT_TRUE(reply == kUnknown || reply == kReset)
          << "reply " << i << " to a request queued on the restarted backend: " << Shown(reply);
    } else {
      EXPECT_EQ(reply, kNil) << "reply " << i << " from a live backend";
    }
  }
  // The same client connection keeps working, including against the restarted backend.
  EXPECT_EQ(client.Command({"PING"}), kPong);
  EXPECT_EQ(client.Command({"SET", victim_keys[0], "after"}), kOk);
  EXPECT_EQ(client.Command({"GET", victim_keys[0]}), Bulk("after"));
  EXPECT_EQ(client.Command({"GET", live_keys[0]}), kNil);
}

// ---------------------------------------------------------------------------------------------
// 6. Backend connection counts

// Direct connections to each backend, to read its connection counts.
std::vector<std::unique_ptr<Client>> DirectClients(const std::vector<int>& ports) {
  std::vector<std::unique_ptr<Client>> direct;
  for (int port : ports) direct.push_back(std::make_unique<Client>(port, milliseconds(3000)));
  return direct;
}

// Connections a redis-server has accepted since it started (INFO stats
// total_connections_received). Every connection counts, however short-lived, so two readings
// show whether any was opened in between: sampling connected_clients could miss one.
int64_t ConnectionsReceived(Client& direct) {
  return RedisInfoField(direct, "stats", "total_connections_received");
}

// Waits until every backend has exactly `n` connections besides `direct`'s; then the
// ConnectionsReceived of each, or nothing when one never got there (or cannot be read).
std::vector<int64_t> SettledConnections(std::vector<std::unique_ptr<Client>>& direct, int64_t n) {
  std::vector<int64_t> received;
  for (auto& d : direct) {
    if (!WaitUntil([&] { return OtherConnections(*d) == n; }, milliseconds(5000))) return {};
    received.push_back(ConnectionsReceived(*d));
    if (received.back() <= 0) return {};  // the INFO field is missing
  }
  return received;
}

TEST(RedisConnectionPooling, TwoThousandShortLivedClientsShareOneConnectionPerBackend) {
  ASSERT_TRUE(HaveRedisTool("redis-server"));
  const Combination* combo = FindNamed3("ketama", "md5", "");
  ASSERT_NE(combo, nullptr);
  auto redis = StartServers<RedisServer>(3);
  ASSERT_TRUE(AllOk(redis));
  const int listen = FreePort();
  ProxyProcess proxy(Yaml({{"alpha",
                            listen,
                            {{"hash", "md5"}, {"server_connections", "1"}},
                            NamedServers(*combo, Ports(redis))}}),
                     {listen});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();

  auto direct = DirectClients(Ports(redis));
  // Lazy connections: nothing until a request is routed to the server.
  for (size_t b = 0; b < 3; ++b) {
    EXPECT_TRUE(WaitUntil([&] { return OtherConnections(*direct[b]) == 0; }, milliseconds(2000)))
        << "backend " << b << " has connections before any request";
  }
  {
    Client client(listen);
    for (int b = 0; b < 3; ++b) ASSERT_EQ(client.Command({"SET", KeysOf(*combo, b)[0], "x"}), kOk);
  }
  const std::vector<int64_t> received_before = SettledConnections(direct, 1);
  ASSERT_EQ(received_before.size(), 3u) << "a backend never saw the proxy's connection";

  constexpr int kThreads = 4;
  constexpr int kClientsPerThread = 500;
  std::atomic<int> failures{0};
  std::mutex mu;
  std::string first_failure;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread owns the keys with index % kThreads == t, so values are its own.
      std::vector<std::string> keys;
      for (size_t r = 0; r < combo->rows.size(); ++r) {
        if (static_cast<int>(r % kThreads) == t) keys.push_back(combo->rows[r].first);
      }
      for (int i = 0; i < kClientsPerThread; ++i) {
        Client client(listen, milliseconds(5000));
        std::string problem;
        if (!client.connected()) problem = "connect failed";
        for (int j = 0; j < 2 && problem.empty(); ++j) {
          const std::string& key = keys[(static_cast<size_t>(i) * 2 + j) % keys.size()];
          const std::string value = absl::StrCat("t", t, "c", i, "j", j);
          std::string reply = client.Command({"SET", key, value});
          if (reply != kOk) {
            problem = absl::StrCat("SET '", key, "' -> ", Shown(reply));
            break;
          }
          reply = client.Command({"GET", key});
          if (reply != Bulk(value)) problem = absl::StrCat("GET '", key, "' -> ", Shown(reply));
        }
        if (!problem.empty()) {
          ++failures;
          std::lock_guard<std::mutex> lock(mu);
          if (first_failure.empty()) first_failure = absl::StrCat("client ", i, ": ", problem);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(failures.load(), 0) << first_failure;
  // No connection was accepted during the storm and the proxy's one is still there: it was the
  // only one all along, never closed and reopened.
  for (size_t b = 0; b < 3; ++b) {
    EXPECT_EQ(ConnectionsReceived(*direct[b]), received_before[b])
        << "backend " << b << " accepted connections during the client storm";
    EXPECT_EQ(OtherConnections(*direct[b]), 1) << "backend " << b << " afterwards";
  }
}

TEST(RedisConnectionPooling, PipelinedClientOpensAtMostServerConnectionsPerBackend) {
  ASSERT_TRUE(HaveRedisTool("redis-server"));
  const Combination* combo = FindNamed3("ketama", "md5", "");
  ASSERT_NE(combo, nullptr);
  auto redis = StartServers<RedisServer>(3);
  ASSERT_TRUE(AllOk(redis));
  const int listen = FreePort();
  ProxyProcess proxy(Yaml({{"alpha",
                            listen,
                            {{"hash", "md5"}, {"server_connections", "3"}},
                            NamedServers(*combo, Ports(redis))}}),
                     {listen});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();

  auto direct = DirectClients(Ports(redis));
  const std::vector<int64_t> received_before = SettledConnections(direct, 0);
  ASSERT_EQ(received_before.size(), 3u) << "a backend has connections before any request";
  Client client(listen);
  // Writes then reads: with several backend connections a pipelined SET and GET of one key may
  // run out of order on the backend, so they are separate pipelines.
  for (int round = 0; round < 3; ++round) {
    std::vector<std::vector<std::string>> sets;
    std::vector<std::vector<std::string>> gets;
    for (const auto& row : combo->rows) {
      sets.push_back({"SET", row.first, absl::StrCat("round", round)});
      gets.push_back({"GET", row.first});
    }
    for (const std::string& reply : Pipeline(client, sets)) ASSERT_EQ(reply, kOk);
    for (const std::string& reply : Pipeline(client, gets)) {
      ASSERT_EQ(reply, Bulk(absl::StrCat("round", round)));
    }
  }
  for (size_t b = 0; b < 3; ++b) {
    // Starting from none, the proxy opened exactly 3 connections in all, so never more than 3
    // at once: each backend got far more than 3 requests and the pool filled up to
    // server_connections, without closing and reopening any.
    EXPECT_EQ(ConnectionsReceived(*direct[b]) - received_before[b], 3)
        << "backend " << b << " while pipelining";
    EXPECT_EQ(OtherConnections(*direct[b]), 3) << "backend " << b << " afterwards";
  }
}

// ---------------------------------------------------------------------------------------------
// 7. preconnect

TEST(RedisPreconnect, EachBackendGetsExactlyOneConnectionAtStartup) {
  ASSERT_TRUE(HaveRedisTool("redis-server"));
  const Combination* combo = FindNamed3("ketama", "fnv1a_64", "");
  ASSERT_NE(combo, nullptr);
  auto redis = StartServers<RedisServer>(3);
  ASSERT_TRUE(AllOk(redis));
  std::vector<std::string> servers = NamedServers(*combo, Ports(redis));
  servers.push_back(absl::StrCat("127.0.0.1:", FreePort(), ":1 cache-dead"));  // refused
  std::vector<std::unique_ptr<Client>> direct;
  for (const auto& r : redis) direct.push_back(std::make_unique<Client>(r->port()));
  for (size_t b = 0; b < 3; ++b) {
    ASSERT_TRUE(WaitUntil([&] { return OtherConnections(*direct[b]) == 0; }, milliseconds(2000)));
  }

  // Only one connection per server even with server_connections: 3; a dead server
  // does not stop the proxy.
  const int listen = FreePort();
  ProxyProcess proxy(
      Yaml({{"alpha", listen, {{"preconnect", "true"}, {"server_connections", "3"}}, servers}}),
      {listen});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  for (size_t b = 0; b < 3; ++b) {
    EXPECT_TRUE(WaitUntil([&] { return OtherConnections(*direct[b]) >= 1; }, milliseconds(5000)))
        << "backend " << b << " was not preconnected";
  }
  // Elapsed time is the point here: nothing more shows up without client requests.
  std::this_thread::sleep_for(milliseconds(300));
  for (size_t b = 0; b < 3; ++b) {
    EXPECT_EQ(OtherConnections(*direct[b]), 1) << "backend " << b;
  }
  Client client(listen);
  EXPECT_EQ(client.Command({"PING"}), kPong);
}

// ---------------------------------------------------------------------------------------------
// 8. Fragmented commands with a dead backend

TEST(RedisFragmentedFailure, MultiKeyCommandsAcrossADeadBackendGiveOneErrorReply) {
  ASSERT_TRUE(HaveRedisTool("redis-server"));
  const Combination* combo = FindNamed3("ketama", "md5", "");
  ASSERT_NE(combo, nullptr);
  const std::string k0 = KeysOf(*combo, 0)[0];
  const std::string k1 = KeysOf(*combo, 1)[0];
  const std::string k2 = KeysOf(*combo, 2)[0];
  auto redis = StartServers<RedisServer>(3);
  ASSERT_TRUE(AllOk(redis));
  const int listen = FreePort();
  ProxyProcess proxy(
      Yaml({{"alpha", listen, {{"hash", "md5"}}, NamedServers(*combo, Ports(redis))}}), {listen});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  {
    Client client(listen);
    EXPECT_EQ(client.Command({"MSET", k0, "v0", k1, "v1", k2, "v2"}), kOk);
    EXPECT_EQ(client.Command({"MGET", k0, k1, k2}),
              absl::StrCat("*3\r\n", Bulk("v0"), Bulk("v1"), Bulk("v2")));
  }
  redis[1]->Kill();
  ASSERT_TRUE(WaitUntil([&] { return PortRefuses(redis[1]->port()); }, milliseconds(5000)));
  auto is_failure = [](const std::string& reply) {
    return reply == kRefused || reply == kUnknown || reply == kReset;
  };

  // MGET: exactly one error for the whole command; the connection then closes (twemproxy) or
  // stays usable, but never hangs.
  {
    Client client(listen, milliseconds(3000));
    const std::string reply = client.Command({"MGET", k0, k1, k2});
    EXPECT_TRUE(is_failure(reply)) << Shown(reply);
    client.Send(Resp({"PING"}));  // may fail if the proxy already closed the connection
    const std::string next = client.ReadReply();
    if (!next.empty()) {
      EXPECT_EQ(next, kPong) << "more than one reply to the failed MGET";
    } else {
      EXPECT_TRUE(client.WaitForClose()) << "the connection neither answered nor closed";
    }
  }
  // DEL and MSET: one error each, and the connection stays open.
  Client client(listen, milliseconds(3000));
  EXPECT_EQ(client.Command({"DEL", k0, k1, k2}), kRefused);
  EXPECT_EQ(client.Command({"PING"}), kPong);
  // The fragments for live servers were executed.
  {
    Client direct0(redis[0]->port());
    Client direct2(redis[2]->port());
    EXPECT_EQ(direct0.Command({"EXISTS", k0}), ":0\r\n");
    EXPECT_EQ(direct2.Command({"EXISTS", k2}), ":0\r\n");
  }
  EXPECT_EQ(client.Command({"MSET", k0, "w0", k1, "w1", k2, "w2"}), kRefused);
  EXPECT_EQ(client.Command({"PING"}), kPong);
  // Keys of live servers still work, alone and together.
  EXPECT_EQ(client.Command({"MGET", k0, k2}), absl::StrCat("*2\r\n", Bulk("w0"), Bulk("w2")));
  EXPECT_EQ(client.Command({"GET", k1}), kRefused);
  EXPECT_EQ(client.Command({"GET", k0}), Bulk("w0"));
}

}  // namespace
}  // namespace proxy::test

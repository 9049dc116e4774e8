// Live reload under traffic (issue 11, item 1): a redis pool and a memcache pool, each with four
// long-lived client connections doing pipelined SET/GET (memcache: set/get) with unique values,
// while the test alternates the config file between A and B and reloads 20 times (POST /reload,
// every third time SIGUSR1). B adds a server to each kept pool, changes weights, hash_tag,
// distribution and timeouts, and adds a third pool; A takes all of that back.
//
// Asserted: every reply on the long-lived connections is the expected one, in order, and none
// of them is closed (the same sockets live through all 20 reloads); after each reload a batch
// of new keys written through a connection opened before the first reload lands on exactly the
// backend `proxyctl route` names for the file now on disk (read on the backends themselves); the
// added pool answers after B and its port refuses connections right after A, answering what its
// client had already sent before closing it; servers that stay keep their backend connections
// (the same redis client ids) and counters; the stats JSON and /metrics follow the pools; the
// config metrics count every reload.
//
// The long-lived connections use keys that both A and B place on the same server (chosen with
// `proxyctl route` on both files), so that a SET and the GET after it stay correct whichever
// side of a reload each lands on; the moving keys are the per-reload batches.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"
#include "test/reload/reload_util.h"

namespace proxy::test {
namespace {

using std::chrono::milliseconds;

constexpr int kClientsPerPool = 4;
constexpr int kKeysPerClient = 25;
constexpr int kPipelineDepth = 8;  // SET+GET pairs per round
constexpr int kReloads = 20;
constexpr int kBatchKeys = 60;

// One long-lived connection: rounds of kPipelineDepth (SET k v, GET k) pairs on its own keys,
// every reply checked in order.
class TrafficClient {
 public:
  TrafficClient(int port, bool redis, int id, std::vector<std::string> keys)
      : redis_(redis), id_(id), keys_(std::move(keys)), client_(port) {}
  ~TrafficClient() { Stop(); }

  bool connected() const { return client_.connected(); }
  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int64_t rounds() const { return rounds_; }
  int64_t errors() const { return errors_; }
  bool dropped() const { return dropped_; }
  const std::string& first_error() const { return first_error_; }

 private:
  void Fail(const std::string& what) {
    if (errors_++ == 0) first_error_ = what;
  }

  void Run() {
    std::mt19937 rng(static_cast<uint32_t>(id_));
    int64_t seq = 0;
    while (!stop_ && !dropped_) {
      std::vector<std::pair<std::string, std::string>> sent;
      std::string pipeline;
      for (int i = 0; i < kPipelineDepth; ++i) {
        const std::string& key = keys_[rng() % keys_.size()];
        // Unique per connection and round; the length varies so that framing is exercised.
        std::string value = absl::StrCat("c", id_, "-", seq++, "-");
        value.append(rng() % 200, static_cast<char>('a' + rng() % 26));
        absl::StrAppend(&pipeline, redis_ ? RedisSet(key, value) : MemcacheSet(key, value),
                        redis_ ? RedisGet(key) : MemcacheGet(key));
        sent.emplace_back(key, std::move(value));
      }
      if (!client_.Send(pipeline)) {
        dropped_ = true;
        Fail(absl::StrCat("client ", id_, ": send failed"));
        break;
      }
      for (const auto& [key, value] : sent) {
        const std::string set_reply = redis_ ? client_.ReadReply() : client_.ReadMemcacheReply();
        const std::string get_reply = redis_ ? client_.ReadReply() : client_.ReadMemcacheReply();
        if (set_reply.empty() || get_reply.empty()) {
          dropped_ = true;
          Fail(absl::StrCat("client ", id_, ": connection closed or timed out on ", key));
          break;
        }
        const std::string want_set = redis_ ? "+OK\r\n" : "STORED\r\n";
        const std::string want_get = redis_ ? RedisBulk(value) : MemcacheValue(key, value);
        if (set_reply != want_set) {
          Fail(absl::StrCat("client ", id_, ": SET ", key, " answered '", set_reply, "'"));
        }
        if (get_reply != want_get) {
          Fail(absl::StrCat("client ", id_, ": GET ", key, " answered '", get_reply.substr(0, 80),
                            "', expected '", want_get.substr(0, 80), "'"));
        }
      }
      ++rounds_;
    }
  }

  const bool redis_;
  const int id_;
  const std::vector<std::string> keys_;
  Client client_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> dropped_{false};
  std::atomic<int64_t> rounds_{0};
  std::atomic<int64_t> errors_{0};
  std::string first_error_;
  std::thread thread_;
};

struct Backends {
  RedisServer r1, r2, r3;
  MemcachedServer m1, m2, m3;
  int redis_port = FreePort();
  int memcache_port = FreePort();
  int extra_port = FreePort();

  bool ok() const {
    return r1.ok() && r2.ok() && r3.ok() && m1.ok() && m2.ok() && m3.ok();
  }

  // A: two servers per pool, equal weights, ketama, no hash_tag, no extra pool.
  std::string ConfigA() const {
    return ConfigYaml({
        {"rpool", redis_port, true,
         {ServerLine(r1.port(), 1, "r1"), ServerLine(r2.port(), 1, "r2")},
         "  hash: fnv1a_64\n  distribution: ketama\n  timeout: 5000\n"},
        {"mpool", memcache_port, false,
         {ServerLine(m1.port(), 1), ServerLine(m2.port(), 1)},
         "  hash: murmur\n  distribution: ketama\n  timeout: 5000\n"},
    });
  }
  // B: a third server in each kept pool, other weights, a hash_tag, modula for memcache, other
  // timeouts, and the extra pool.
  std::string ConfigB() const {
    return ConfigYaml({
        {"rpool", redis_port, true,
         {ServerLine(r1.port(), 1, "r1"), ServerLine(r2.port(), 2, "r2"),
          ServerLine(r3.port(), 1, "r3")},
         "  hash: fnv1a_64\n  distribution: ketama\n  hash_tag: \"{}\"\n  timeout: 4000\n"},
        {"mpool", memcache_port, false,
         {ServerLine(m1.port(), 1), ServerLine(m2.port(), 2), ServerLine(m3.port(), 1)},
         "  hash: murmur\n  distribution: modula\n  timeout: 4000\n"},
        {"xpool", extra_port, true,
         {ServerLine(r2.port(), 1, "x2"), ServerLine(r3.port(), 1, "x3")},
         "  hash: crc32a\n  distribution: modula\n"},
    });
  }
};

// Keys that A and B place on the same server of `pool`, taken from every server in turn.
// (The varying part leads the key: fnv1a and friends place keys that differ only in their last
// bytes close together on the ring, so "t:0".."t:99" can all land on one server.)
std::vector<std::string> StableKeys(const std::string& conf_a, const std::string& conf_b,
                                    const std::string& pool, size_t want, std::string* error) {
  std::vector<std::string> candidates;
  for (int i = 0; i < 2000; ++i) candidates.push_back(absl::StrCat(i, ":t:", pool));
  const auto a = RouteKeys(conf_a, pool, candidates, error);
  if (a.empty()) return {};
  const auto b = RouteKeys(conf_b, pool, candidates, error);
  if (b.empty()) return {};
  std::map<std::string, std::vector<std::string>> by_server;
  for (const std::string& key : candidates) {
    if (a.at(key) == b.at(key)) by_server[a.at(key)].push_back(key);
  }
  std::vector<std::string> stable;
  for (size_t i = 0; stable.size() < want; ++i) {
    bool any = false;
    for (auto& [server, keys] : by_server) {
      if (i < keys.size() && stable.size() < want) {
        stable.push_back(keys[i]);
        any = true;
      }
    }
    if (!any) break;
  }
  return stable;
}

std::string ServerRequests(const std::string& pool, const std::string& server) {
  return absl::StrCat("shardproxy_server_requests_total{pool=\"", pool, "\",server=\"", server,
                      "\"}");
}

class TrafficReloadTest : public ::testing::TestWithParam<int> {};

TEST_P(TrafficReloadTest, TwentyReloadsUnderPipelinedTrafficOnBothProtocols) {
  const int workers = GetParam();
  Backends s;
  ASSERT_TRUE(s.ok()) << "redis-server and memcached must be installed (tools/setup.sh)";
  const std::string conf_a = TempPath(absl::StrCat("traffic-a-", workers, ".yml"));
  const std::string conf_b = TempPath(absl::StrCat("traffic-b-", workers, ".yml"));
  {
    std::ofstream(conf_a) << s.ConfigA();
    std::ofstream(conf_b) << s.ConfigB();
  }
  ReloadableProxy proxy(absl::StrCat("traffic-w", workers), s.ConfigA(),
                        {s.redis_port, s.memcache_port}, {"--workers", std::to_string(workers)});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  ASSERT_EQ(proxy.Generation(), 1) << "shardproxy_config_generation must start at 1\n"
                                   << proxy.Metrics();
  ASSERT_EQ(proxy.Reloads(true), 0);
  ASSERT_EQ(proxy.Reloads(false), 0);

  std::string error;
  const size_t want = kClientsPerPool * kKeysPerClient;
  const auto redis_keys = StableKeys(conf_a, conf_b, "rpool", want, &error);
  ASSERT_EQ(redis_keys.size(), want) << error;
  const auto memcache_keys = StableKeys(conf_a, conf_b, "mpool", want, &error);
  ASSERT_EQ(memcache_keys.size(), want) << error;

  std::vector<std::unique_ptr<TrafficClient>> clients;
  for (int pool = 0; pool < 2; ++pool) {
    const auto& keys = pool == 0 ? redis_keys : memcache_keys;
    for (int c = 0; c < kClientsPerPool; ++c) {
      const int id = pool * kClientsPerPool + c;
      clients.push_back(std::make_unique<TrafficClient>(
          pool == 0 ? s.redis_port : s.memcache_port, pool == 0, id,
          std::vector<std::string>(keys.begin() + c * kKeysPerClient,
                                   keys.begin() + (c + 1) * kKeysPerClient)));
      ASSERT_TRUE(clients.back()->connected());
    }
  }
  // The connections that write each reload's batch, opened before the first reload.
  Client redis_writer(s.redis_port);
  Client memcache_writer(s.memcache_port);
  ASSERT_TRUE(redis_writer.connected() && memcache_writer.connected());
  Backend b_r1(s.r1.port(), true), b_r2(s.r2.port(), true), b_r3(s.r3.port(), true);
  Backend b_m1(s.m1.port(), false), b_m2(s.m2.port(), false), b_m3(s.m3.port(), false);
  const std::vector<Backend*> redis_backends = {&b_r1, &b_r2, &b_r3};
  const std::vector<Backend*> memcache_backends = {&b_m1, &b_m2, &b_m3};

  for (auto& c : clients) c->Start();
  // Warm up: every client has done some rounds, so the proxy holds its backend connections.
  ASSERT_TRUE(WaitUntil([&] {
    for (auto& c : clients) {
      if (c->rounds() < 5 && !c->dropped()) return false;
    }
    return true;
  }));
  // The proxy's connections to the servers that stay in every config.
  const std::vector<int64_t> r1_ids = b_r1.OtherClientIds();
  const std::vector<int64_t> r2_ids = b_r2.OtherClientIds();
  EXPECT_FALSE(r1_ids.empty());
  EXPECT_FALSE(r2_ids.empty());

  std::map<std::string, double> last_counter;
  const std::vector<std::string> kept_series = {
      ServerRequests("rpool", "r1"), ServerRequests("rpool", "r2"),
      ServerRequests("mpool", Address(s.m1.port())), ServerRequests("mpool", Address(s.m2.port()))};
  {
    const std::string metrics = proxy.Metrics();
    for (const std::string& series : kept_series) {
      const auto v = MetricValue(metrics, series);
      ASSERT_TRUE(v.has_value()) << series << " missing from /metrics";
      last_counter[series] = *v;
    }
  }

  double last_timestamp = 0;
  std::unique_ptr<Client> extra_client;
  for (int i = 0; i < kReloads; ++i) {
    SCOPED_TRACE(absl::StrCat("reload ", i + 1));
    const bool to_b = i % 2 == 0;
    const bool by_signal = i % 3 == 2;  // both to A and to B
    std::string in_flight_key;
    if (!to_b) {
      // The extra pool is going away: leave a GET in flight on its client.
      ASSERT_TRUE(extra_client != nullptr);
      in_flight_key = absl::StrCat("x:", i);
      ASSERT_EQ(extra_client->Command({"SET", in_flight_key, "before-removal"}), "+OK\r\n");
      ASSERT_TRUE(extra_client->Send(RedisGet(in_flight_key)));
      std::this_thread::sleep_for(milliseconds(50));
    }
    proxy.WriteConfig(to_b ? s.ConfigB() : s.ConfigA());
    if (by_signal) {
      ASSERT_EQ(proxy.ReloadBySignal(), ReloadableProxy::SignalOutcome::kApplied) << proxy.Log();
    } else {
      const auto [code, body] = proxy.PostReload();
      ASSERT_EQ(code, 200) << body << proxy.Log();
      EXPECT_TRUE(absl::StartsWith(body, "reloaded")) << body;
    }
    if (to_b) {
      // The added pool listens as soon as the reload is applied.
      extra_client = std::make_unique<Client>(s.extra_port);
      ASSERT_TRUE(extra_client->connected()) << "xpool does not listen after reload B";
      EXPECT_EQ(extra_client->Command({"SET", absl::StrCat("x:", i), "v"}), "+OK\r\n");
      EXPECT_EQ(extra_client->Command({"GET", absl::StrCat("x:", i)}), "$1\r\nv\r\n");
    } else {
      EXPECT_TRUE(PortRefuses(s.extra_port)) << "xpool still accepts after reload A";
      // What it had already sent is answered, then the connection is closed.
      EXPECT_EQ(extra_client->ReadReply(), RedisBulk("before-removal"));
      EXPECT_TRUE(extra_client->WaitForClose()) << "xpool client not closed after reload A";
      extra_client.reset();
      // r3 is in no pool of A: the proxy's connections to it close once idle.
      EXPECT_TRUE(WaitUntil([&] { return b_r3.OtherClientIds().empty(); }, milliseconds(5000)))
          << b_r3.OtherClientIds().size() << " connections left on the removed server r3";
    }

    // The config metrics.
    const std::string metrics = proxy.Metrics();
    EXPECT_EQ(MetricValue(metrics, "shardproxy_config_generation"), i + 2);
    EXPECT_EQ(MetricValue(metrics, "shardproxy_config_reloads_total{result=\"success\"}"), i + 1);
    EXPECT_EQ(MetricValue(metrics, "shardproxy_config_reloads_total{result=\"failure\"}"), 0);
    EXPECT_EQ(MetricValue(metrics, "shardproxy_config_last_reload_success"), 1);
    const auto timestamp = MetricValue(metrics, "shardproxy_config_last_reload_timestamp_seconds");
    ASSERT_TRUE(timestamp.has_value());
    EXPECT_GE(*timestamp, last_timestamp);
    // Unix seconds: the value printed must keep its units digit (a %g with 6 significant
    // digits rounds it to the nearest 10,000 s).
    EXPECT_NEAR(*timestamp, static_cast<double>(time(nullptr)), 60)
        << metrics.substr(metrics.find("shardproxy_config_last_reload_timestamp_seconds "), 64);
    last_timestamp = *timestamp;
    // Servers that stay keep their counters.
    for (const std::string& series : kept_series) {
      const auto v = MetricValue(metrics, series);
      ASSERT_TRUE(v.has_value()) << series;
      EXPECT_GE(*v, last_counter[series]) << series << " went back: counters were reset";
      last_counter[series] = *v;
    }
    // /metrics and the stats JSON follow the pools and servers.
    const std::string json = proxy.StatsJson();
    EXPECT_EQ(absl::StrContains(metrics, "pool=\"xpool\""), to_b);
    EXPECT_EQ(absl::StrContains(metrics, "server=\"r3\""), to_b);
    EXPECT_EQ(absl::StrContains(metrics, Address(s.m3.port())), to_b);
    EXPECT_EQ(absl::StrContains(json, "\"xpool\""), to_b) << json;
    EXPECT_EQ(absl::StrContains(json, "\"r3\""), to_b) << json;
    EXPECT_TRUE(absl::StrContains(json, "\"rpool\"") && absl::StrContains(json, "\"mpool\""));

    // New keys, half with a {tag} (hash_tag only in B), through the connections opened before
    // the first reload, land where the file on disk says.
    std::vector<std::string> batch;
    for (int k = 0; k < kBatchKeys; ++k) {
      batch.push_back(k % 2 == 0 ? absl::StrCat(k, ":b", i)
                                 : absl::StrCat(k, ":b", i, ":{t", k % 7, "}"));
    }
    const std::string tag = absl::StrCat("gen", i + 2);
    for (const bool redis : {true, false}) {
      SCOPED_TRACE(redis ? "rpool" : "mpool");
      const auto route =
          RouteKeys(proxy.conf_path(), redis ? "rpool" : "mpool", batch, &error);
      ASSERT_EQ(route.size(), batch.size()) << error;
      // Every server of the current file gets some of the batch (else the check proves little).
      std::set<std::string> used;
      for (const auto& [key, address] : route) used.insert(address);
      EXPECT_EQ(used.size(), to_b ? 3u : 2u);
      ASSERT_EQ(WriteKeys(redis ? redis_writer : memcache_writer, redis, batch, tag), "");
      EXPECT_EQ(CheckPlacement(route, redis ? redis_backends : memcache_backends, tag), "");
    }
    if (to_b) {
      // xpool shares r2 and r3 with rpool: keys of its own.
      std::vector<std::string> xbatch;
      for (const std::string& key : batch) xbatch.push_back("x" + key);
      const auto route = RouteKeys(proxy.conf_path(), "xpool", xbatch, &error);
      ASSERT_EQ(route.size(), xbatch.size()) << error;
      ASSERT_EQ(WriteKeys(*extra_client, true, xbatch, tag), "");
      EXPECT_EQ(CheckPlacement(route, {&b_r2, &b_r3}, tag), "");
    }
    // Let the traffic run across the new config for a while.
    std::this_thread::sleep_for(milliseconds(150));
  }

  std::vector<int64_t> rounds_before;
  for (auto& c : clients) rounds_before.push_back(c->rounds());
  for (size_t c = 0; c < clients.size(); ++c) {
    EXPECT_TRUE(WaitUntil([&] { return clients[c]->rounds() > rounds_before[c]; }))
        << "client " << c << " stalled";
  }
  for (auto& c : clients) c->Stop();
  int64_t total_rounds = 0;
  for (size_t c = 0; c < clients.size(); ++c) {
    EXPECT_EQ(clients[c]->errors(), 0) << clients[c]->first_error();
    EXPECT_FALSE(clients[c]->dropped()) << "client " << c << ": " << clients[c]->first_error();
    total_rounds += clients[c]->rounds();
  }
  EXPECT_GT(total_rounds, kReloads * 8) << "too little traffic to say anything";
  std::printf("traffic (--workers %d): %lld rounds of %d SET+GET pairs over %d reloads\n",
              workers, static_cast<long long>(total_rounds), kPipelineDepth, kReloads);

  // The kept pools kept their clients (4 traffic + 1 writer each) and the kept servers their
  // backend connections.
  const std::string metrics = proxy.Metrics();
  EXPECT_EQ(MetricValue(metrics, "shardproxy_client_connections{pool=\"rpool\"}"),
            kClientsPerPool + 1);
  EXPECT_EQ(MetricValue(metrics, "shardproxy_client_connections{pool=\"mpool\"}"),
            kClientsPerPool + 1);
  EXPECT_EQ(MetricValue(metrics, "shardproxy_client_err_total{pool=\"rpool\"}"), 0);
  EXPECT_EQ(MetricValue(metrics, "shardproxy_client_err_total{pool=\"mpool\"}"), 0);
  const std::vector<int64_t> r1_after = b_r1.OtherClientIds();
  const std::vector<int64_t> r2_after = b_r2.OtherClientIds();
  for (int64_t id : r1_ids) {
    EXPECT_NE(std::find(r1_after.begin(), r1_after.end(), id), r1_after.end())
        << "the proxy's connection " << id << " to r1 did not survive the reloads";
  }
  for (int64_t id : r2_ids) {
    EXPECT_NE(std::find(r2_after.begin(), r2_after.end(), id), r2_after.end())
        << "the proxy's connection " << id << " to r2 did not survive the reloads";
  }
  // One summary line per changed pool.
  const std::string log = proxy.Log();
  EXPECT_TRUE(absl::StrContains(log, "pool rpool:")) << log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
  EXPECT_TRUE(absl::StrContains(log, "pool mpool:"));
  EXPECT_TRUE(absl::StrContains(log, "pool xpool:"));
  EXPECT_TRUE(proxy.Running());
}

// Reloads back to back (no pause, no checks in between) under the same traffic: 200 of them,
// alternating A and B, so that reloads land while workers are still applying the previous one.
TEST_P(TrafficReloadTest, TwoHundredBackToBackReloadsUnderTraffic) {
  const int workers = GetParam();
  Backends s;
  ASSERT_TRUE(s.ok());
  const std::string conf_a = TempPath(absl::StrCat("storm-a-", workers, ".yml"));
  const std::string conf_b = TempPath(absl::StrCat("storm-b-", workers, ".yml"));
  {
    std::ofstream(conf_a) << s.ConfigA();
    std::ofstream(conf_b) << s.ConfigB();
  }
  ReloadableProxy proxy(absl::StrCat("storm-w", workers), s.ConfigA(),
                        {s.redis_port, s.memcache_port}, {"--workers", std::to_string(workers)});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  std::string error;
  const size_t want = kClientsPerPool * kKeysPerClient;
  const auto redis_keys = StableKeys(conf_a, conf_b, "rpool", want, &error);
  ASSERT_EQ(redis_keys.size(), want) << error;
  const auto memcache_keys = StableKeys(conf_a, conf_b, "mpool", want, &error);
  ASSERT_EQ(memcache_keys.size(), want) << error;
  std::vector<std::unique_ptr<TrafficClient>> clients;
  for (int pool = 0; pool < 2; ++pool) {
    const auto& keys = pool == 0 ? redis_keys : memcache_keys;
    for (int c = 0; c < kClientsPerPool; ++c) {
      clients.push_back(std::make_unique<TrafficClient>(
          pool == 0 ? s.redis_port : s.memcache_port, pool == 0, pool * kClientsPerPool + c,
          std::vector<std::string>(keys.begin() + c * kKeysPerClient,
                                   keys.begin() + (c + 1) * kKeysPerClient)));
      ASSERT_TRUE(clients.back()->connected());
    }
  }
  for (auto& c : clients) c->Start();
  constexpr int kStorm = 200;
  for (int i = 0; i < kStorm; ++i) {
    const auto [code, body] = proxy.Apply(i % 2 == 0 ? s.ConfigB() : s.ConfigA());
    ASSERT_EQ(code, 200) << "reload " << i + 1 << ": " << body;
  }
  EXPECT_EQ(proxy.Generation(), kStorm + 1);
  std::vector<int64_t> rounds_before;
  for (auto& c : clients) rounds_before.push_back(c->rounds());
  for (size_t c = 0; c < clients.size(); ++c) {
    EXPECT_TRUE(WaitUntil([&] { return clients[c]->rounds() > rounds_before[c]; }))
        << "client " << c << " stalled";
  }
  for (auto& c : clients) c->Stop();
  for (size_t c = 0; c < clients.size(); ++c) {
    EXPECT_EQ(clients[c]->errors(), 0) << clients[c]->first_error();
    EXPECT_FALSE(clients[c]->dropped()) << "client " << c << ": " << clients[c]->first_error();
  }
  EXPECT_TRUE(PortRefuses(s.extra_port));
  EXPECT_TRUE(proxy.Running());
}

// One worker, and two (the reload is applied by each worker at its own request boundaries).
INSTANTIATE_TEST_SUITE_P(Workers, TrafficReloadTest, ::testing::Values(1, 2),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return absl::StrCat("workers", info.param);
                         });

}  // namespace
}  // namespace proxy::test

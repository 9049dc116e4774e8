// Resharding under traffic (issue 13, part 1): 100 slots move from one master to another the
// way `redis-cli --cluster reshard` moves them (SETSLOT IMPORTING / MIGRATING, MIGRATE of the
// keys in two halves with traffic in between, SETSLOT NODE on every master) while client
// threads keep writing and reading known values through the proxy, on keys of the moving slots
// and others. Both redirections must be followed without the client seeing them: -ASK while a
// slot is half moved (counted on the target: cmdstat_asking) and -MOVED once it is (which also
// makes the proxy ask for a new slot map). Zero wrong replies, zero errors.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "test/cluster/redis_cluster.h"
#include "test/integration/harness.h"

namespace proxy::test {
namespace {

using std::chrono::milliseconds;

constexpr int kMovedSlots = 100;
constexpr int kKeysPerSlot = 3;
constexpr int kThreads = 4;

std::string Bulk(const std::string& value) {
  return absl::StrCat("$", value.size(), "\r\n", value, "\r\n");
}

// How many -TRYAGAIN replies the node on `port` has given (INFO errorstats), 0 before the first.
long long TryAgains(int port) {
  const std::string info = RedisCluster::Ask(port, {"INFO", "errorstats"});
  const std::string tag = "errorstat_TRYAGAIN:count=";
  const size_t at = info.find(tag);
  return at == std::string::npos ? 0 : std::atoll(info.c_str() + at + tag.size());
}

// One client thread: SET then GET each of its keys with a value unique to the round, and after
// every 8 keys an MGET of those 8 (a split request), checking every reply.
class Writer {
 public:
  Writer(int port, int id, std::vector<std::string> keys)
      : port_(port), id_(id), keys_(std::move(keys)) {}

  void Start() { thread_ = std::thread([this] { Run(); }); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  int ops() const { return ops_; }
  int errors() const { return errors_; }
  int wrong() const { return wrong_; }
  const std::vector<std::string>& samples() const { return samples_; }
  // The value last written (and confirmed) under each key.
  const std::map<std::string, std::string>& last() const { return last_; }

 private:
  void Note(const std::string& what, const std::string& reply, bool error) {
    (error ? errors_ : wrong_) += 1;
    if (samples_.size() < 10) samples_.push_back(absl::StrCat(what, " -> ", reply));
  }

  void Run() {
    Client client(port_, milliseconds(10000));
    if (!client.connected()) {
      Note("connect", "", true);
      return;
    }
    for (int round = 0; !stop_; ++round) {
      for (size_t k = 0; k < keys_.size() && !stop_; ++k) {
        const std::string& key = keys_[k];
        const std::string value = absl::StrCat("w", id_, "-r", round, "-", key);
        std::string reply = client.Command({"SET", key, value});
        ++ops_;
        if (reply != "+OK\r\n") {
          Note(absl::StrCat("SET ", key), reply, reply.empty() || reply[0] == '-');
          if (reply.empty()) return;  // the connection is gone
          continue;
        }
        last_[key] = value;
        reply = client.Command({"GET", key});
        ++ops_;
        if (reply != Bulk(value)) {
          Note(absl::StrCat("GET ", key), reply, reply.empty() || reply[0] == '-');
          if (reply.empty()) return;
        }
        // Every 8 keys, a split read of the last 8 (keys of one moving slot are neighbours:
        // some fragments hold several keys of a slot being moved).
        if (k % 8 == 7 && !MgetLast(client, k + 1)) return;
      }
    }
  }

  // MGET of keys_[end - 8, end), checked against the values last written; false when the
  // connection is gone.
  bool MgetLast(Client& client, size_t end) {
    std::vector<std::string> mget = {"MGET"};
    std::string expected;
    for (size_t i = end - 8; i < end; ++i) {
      mget.push_back(keys_[i]);
      const auto known = last_.find(keys_[i]);
      expected += known == last_.end() ? "$-1\r\n" : Bulk(known->second);
    }
    const std::string reply = client.Command(mget);
    ++ops_;
    if (reply != absl::StrCat("*8\r\n", expected)) {
      Note("MGET", reply, reply.empty() || reply[0] == '-');
      return !reply.empty();
    }
    return true;
  }

  const int port_;
  const int id_;
  const std::vector<std::string> keys_;
  std::atomic<bool> stop_{false};
  int ops_ = 0;
  int errors_ = 0;
  int wrong_ = 0;
  std::vector<std::string> samples_;
  std::map<std::string, std::string> last_;
  std::thread thread_;
};

TEST(ClusterReshardTest, SlotsMoveUnderTrafficWithoutErrors) {
  RedisCluster cluster(3, 1);
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  const std::vector<int> masters = cluster.MasterPorts();
  ASSERT_EQ(masters.size(), 3u);
  const int source = masters[0];
  const int target = masters[1];
  const std::string source_id = cluster.IdOf(source);
  const std::string target_id = cluster.IdOf(target);
  ASSERT_FALSE(source_id.empty());
  ASSERT_FALSE(target_id.empty());

  // The first 100 slots of the source.
  std::vector<int> moving;
  for (const RedisCluster::Node& node : cluster.Nodes()) {
    if (node.port != source) continue;
    for (const auto& [from, to] : node.slots) {
      for (int slot = from; slot <= to && moving.size() < kMovedSlots; ++slot) {
        moving.push_back(slot);
      }
    }
  }
  ASSERT_EQ(moving.size(), static_cast<size_t>(kMovedSlots));
  const std::set<int> moving_set(moving.begin(), moving.end());

  // Keys: kKeysPerSlot in each moving slot, and as many elsewhere.
  std::map<int, int> per_slot;
  std::vector<std::string> moving_keys;
  std::vector<std::string> other_keys;
  for (int n = 0; moving_keys.size() < kMovedSlots * kKeysPerSlot; ++n) {
    const std::string key = absl::StrCat("rk:", n);
    const int slot = KeySlot(key);
    if (moving_set.count(slot) == 0) {
      if (other_keys.size() < kMovedSlots * kKeysPerSlot) other_keys.push_back(key);
      continue;
    }
    if (per_slot[slot] >= kKeysPerSlot) continue;
    ++per_slot[slot];
    moving_keys.push_back(key);
  }

  ClusterProxy proxy({masters[0], masters[1]});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  ASSERT_TRUE(WaitUntil([&] { return proxy.Knows(masters); }, milliseconds(10000)))
      << proxy.Servers() << "\n" << proxy.Log();
  {
    Client client(proxy.port);
    for (const auto* keys : {&moving_keys, &other_keys}) {
      for (const std::string& key : *keys) {
        ASSERT_EQ(client.Command({"SET", key, "initial"}), "+OK\r\n") << key;
      }
    }
  }
  ASSERT_EQ(proxy.Redirects(), 0);
  const double changes_before = proxy.TopologyChanges();
  ASSERT_GE(changes_before, 0) << HttpGet(proxy.admin, "/metrics").second;
  ASSERT_TRUE(ResetStats(target));

  // Each writer: whole moving slots (their keys next to each other) and as many other keys,
  // interleaved.
  std::vector<std::string> by_slot = moving_keys;
  std::stable_sort(by_slot.begin(), by_slot.end(), [](const std::string& a, const std::string& b) {
    return KeySlot(a) < KeySlot(b);
  });
  std::vector<std::unique_ptr<Writer>> writers;
  for (int w = 0; w < kThreads; ++w) {
    std::vector<std::string> keys;
    for (size_t i = 0; i < by_slot.size(); ++i) {
      if ((i / kKeysPerSlot) % kThreads != static_cast<size_t>(w)) continue;
      keys.push_back(by_slot[i]);
      keys.push_back(other_keys[i]);
    }
    writers.push_back(std::make_unique<Writer>(proxy.port, w, std::move(keys)));
  }
  for (auto& writer : writers) writer->Start();
  std::this_thread::sleep_for(milliseconds(500));

  // Move the slots, one at a time, as redis-cli --cluster reshard does.
  auto must = [](int port, const std::vector<std::string>& args) {
    const std::string reply = RedisCluster::Ask(port, args);
    EXPECT_EQ(reply, "+OK\r\n") << port << " " << absl::StrJoin(args, " ");
  };
  const auto started = std::chrono::steady_clock::now();
  for (int slot : moving) {
    const std::string s = std::to_string(slot);
    must(target, {"CLUSTER", "SETSLOT", s, "IMPORTING", source_id});
    must(source, {"CLUSTER", "SETSLOT", s, "MIGRATING", target_id});
    bool first_half = true;
    for (;;) {
      std::vector<std::string> keys =
          BulkArray(RedisCluster::Ask(source, {"CLUSTER", "GETKEYSINSLOT", s, "100"}));
      if (keys.empty()) break;
      // Half of the keys first: meanwhile the slot is split between the two nodes (ASK).
      if (first_half && keys.size() > 1) keys.resize(keys.size() / 2);
      std::vector<std::string> migrate = {"MIGRATE", "127.0.0.1", std::to_string(target),
                                          "", "0", "5000", "KEYS"};
      migrate.insert(migrate.end(), keys.begin(), keys.end());
      must(source, migrate);
      if (first_half) std::this_thread::sleep_for(milliseconds(25));
      first_half = false;
    }
    for (int port : {target, source, masters[2]}) {
      must(port, {"CLUSTER", "SETSLOT", s, "NODE", target_id});
    }
  }
  const double moved_in_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_TRUE(WaitUntil([&] { return cluster.Healthy(); }, milliseconds(20000)));
  std::this_thread::sleep_for(milliseconds(1500));  // traffic on the settled map
  for (auto& writer : writers) writer->Stop();

  int ops = 0;
  for (auto& writer : writers) {
    ops += writer->ops();
    EXPECT_EQ(writer->errors(), 0) << absl::StrJoin(writer->samples(), "\n");
    EXPECT_EQ(writer->wrong(), 0) << absl::StrJoin(writer->samples(), "\n");
    EXPECT_GT(writer->ops(), 100);
  }
  const double redirects = proxy.Redirects();
  const long long asking = Calls(target, "asking");
  std::printf("resharding: %d slots moved in %.2f s under %d requests; %.0f redirections "
              "followed (%lld ASK), topology changes %.0f -> %.0f\n",
              kMovedSlots, moved_in_s, ops, redirects, asking, changes_before,
              proxy.TopologyChanges());
  EXPECT_GT(asking, 0) << "no -ASK was followed";
  EXPECT_GT(redirects, static_cast<double>(asking)) << "no -MOVED was followed";
  EXPECT_GT(proxy.TopologyChanges(), changes_before);

  // The slots now live on the target, with the last values written.
  for (int slot : moving) {
    EXPECT_EQ(RedisCluster::Ask(source, {"CLUSTER", "COUNTKEYSINSLOT", std::to_string(slot)}),
              ":0\r\n");
    EXPECT_EQ(cluster.OwnerOf(slot), target) << slot;
  }
  std::map<std::string, std::string> last;
  for (auto& writer : writers) last.insert(writer->last().begin(), writer->last().end());
  for (const std::string& key : moving_keys) {
    const auto known = last.find(key);
    const std::string value = known == last.end() ? "initial" : known->second;
    EXPECT_EQ(RedisCluster::Ask(target, {"GET", key}), Bulk(value)) << key;
  }

  // And the proxy sends them there by its map: a pass with no redirection (after the map has
  // settled), every GET counted on the target, none on the source.
  Client client(proxy.port);
  auto pass = [&] {
    for (const std::string& key : moving_keys) client.Command({"GET", key});
  };
  ASSERT_TRUE(WaitUntil(
      [&] {
        const double before = proxy.Redirects();
        pass();
        return proxy.Redirects() == before;
      },
      milliseconds(15000)));
  ASSERT_TRUE(ResetStats(target));
  ASSERT_TRUE(ResetStats(source));
  const double redirects_before = proxy.Redirects();
  int wrong = 0;
  for (const std::string& key : moving_keys) {
    const auto known = last.find(key);
    const std::string value = known == last.end() ? "initial" : known->second;
    wrong += client.Command({"GET", key}) != Bulk(value) ? 1 : 0;
  }
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(Calls(target, "get"), static_cast<long long>(moving_keys.size()));
  EXPECT_EQ(Calls(source, "get"), 0);
  EXPECT_EQ(proxy.Redirects(), redirects_before);
}

// The same moves one step at a time, each redirection checked on its own: a slot whose keys are
// half on the source and half on the target, then all on the target, then owned by it.
TEST(ClusterReshardTest, AskAndMovedFollowedForSingleAndSplitRequests) {
  RedisCluster cluster(3, 0);
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  const std::vector<int> masters = cluster.MasterPorts();
  ASSERT_EQ(masters.size(), 3u);
  const int slot = KeySlot("{t}");
  const int source = cluster.OwnerOf(slot);
  const int target = source == masters[0] ? masters[1] : masters[0];
  const std::string source_id = cluster.IdOf(source);
  const std::string target_id = cluster.IdOf(target);
  std::string other = "other";
  for (int n = 0; cluster.OwnerOf(KeySlot(other)) == source; ++n) other = absl::StrCat("o", n);

  ClusterProxy proxy({masters[0]});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  ASSERT_TRUE(WaitUntil([&] { return proxy.Knows(masters); }, milliseconds(10000)))
      << proxy.Servers() << "\n" << proxy.Log();
  Client client(proxy.port);
  ASSERT_EQ(client.Command({"SET", "{t}1", "one"}), "+OK\r\n");
  ASSERT_EQ(client.Command({"SET", "{t}2", "two"}), "+OK\r\n");
  ASSERT_EQ(client.Command({"SET", other, "x"}), "+OK\r\n");
  ASSERT_EQ(proxy.Redirects(), 0);
  ASSERT_TRUE(ResetStats(target));

  // Half moved: {t}1 on the target, {t}2 still on the source.
  const std::string s = std::to_string(slot);
  ASSERT_EQ(RedisCluster::Ask(target, {"CLUSTER", "SETSLOT", s, "IMPORTING", source_id}),
            "+OK\r\n");
  ASSERT_EQ(RedisCluster::Ask(source, {"CLUSTER", "SETSLOT", s, "MIGRATING", target_id}),
            "+OK\r\n");
  ASSERT_EQ(RedisCluster::Ask(source, {"MIGRATE", "127.0.0.1", std::to_string(target), "{t}1",
                                      "0", "5000"}),
            "+OK\r\n");
  EXPECT_EQ(client.Command({"GET", "{t}1"}), Bulk("one"));  // -ASK, followed
  EXPECT_EQ(proxy.Redirects(), 1);
  EXPECT_EQ(Calls(target, "asking"), 1);
  EXPECT_EQ(client.Command({"GET", "{t}2"}), Bulk("two"));  // served by the source
  EXPECT_EQ(proxy.Redirects(), 1);
  // A new key of the slot goes to the target (-ASK).
  EXPECT_EQ(client.Command({"SET", "{t}3", "three"}), "+OK\r\n");
  EXPECT_EQ(RedisCluster::Ask(target, {"CLUSTER", "COUNTKEYSINSLOT", s}), ":2\r\n");
  EXPECT_EQ(RedisCluster::Ask(source, {"CLUSTER", "COUNTKEYSINSLOT", s}), ":1\r\n");
  // A split request whose fragment is redirected (-ASK).
  EXPECT_EQ(client.Command({"MGET", "{t}1", other}),
            absl::StrCat("*2\r\n", Bulk("one"), Bulk("x")));
  // Keys of the half-moved slot in one request: the nodes answer -TRYAGAIN (neither holds all
  // of them), and the proxy sends the request again after a pause (10 ms doubling, 8 times,
  // about 2.5 s). A migration that stays half done for longer ends with redis's own error,
  // as a cluster client would get it...
  const auto stuck_start = std::chrono::steady_clock::now();
  EXPECT_EQ(client.Command({"MGET", "{t}1", "{t}2"}),
            "-TRYAGAIN Multiple keys request during rehashing of slot\r\n");
  const auto stuck_ms = std::chrono::duration_cast<milliseconds>(
                            std::chrono::steady_clock::now() - stuck_start)
                            .count();
  EXPECT_GE(stuck_ms, 2000);
  EXPECT_LT(stuck_ms, 5000);
  EXPECT_EQ(client.Command({"MGET", "{t}1", "{t}2", other}),
            "-ERR a server answered part of this request with an error: -TRYAGAIN Multiple keys "
            "request during rehashing of slot\r\n");
  // ...and one that moves on while the proxy waits is invisible to the client: the request is
  // sent while half moved, the rest of the slot's keys move, and the retry is served (-ASK).
  const long long tryagains = TryAgains(source) + TryAgains(target);
  ASSERT_TRUE(client.Send(absl::StrCat("*4\r\n$4\r\nMGET\r\n", Bulk("{t}1"), Bulk("{t}2"),
                                       Bulk(other))));
  // The proxy waits to send it again once a node said -TRYAGAIN.
  ASSERT_TRUE(WaitUntil([&] { return TryAgains(source) + TryAgains(target) > tryagains; },
                        milliseconds(2000), milliseconds(1)));
  ASSERT_EQ(RedisCluster::Ask(source, {"MIGRATE", "127.0.0.1", std::to_string(target), "{t}2",
                                      "0", "5000"}),
            "+OK\r\n");
  EXPECT_EQ(client.ReadReply(), absl::StrCat("*3\r\n", Bulk("one"), Bulk("two"), Bulk("x")));

  // All moved, the slot still migrating: -ASK for the whole slot.
  EXPECT_EQ(client.Command({"MGET", "{t}1", "{t}2"}),
            absl::StrCat("*2\r\n", Bulk("one"), Bulk("two")));
  EXPECT_EQ(client.Command({"MGET", "{t}1", "{t}2", "{t}3"}),
            absl::StrCat("*3\r\n", Bulk("one"), Bulk("two"), Bulk("three")));
  EXPECT_EQ(client.Command({"MGET", "{t}2", other, "{t}3"}),
            absl::StrCat("*3\r\n", Bulk("two"), Bulk("x"), Bulk("three")));

  // Owned by the target: -MOVED, and the proxy asks for the new map.
  const double changes_before = proxy.TopologyChanges();
  for (int port : {target, source}) {
    ASSERT_EQ(RedisCluster::Ask(port, {"CLUSTER", "SETSLOT", s, "NODE", target_id}), "+OK\r\n");
  }
  for (int port : masters) {
    if (port != target && port != source) {
      ASSERT_EQ(RedisCluster::Ask(port, {"CLUSTER", "SETSLOT", s, "NODE", target_id}),
                "+OK\r\n");
    }
  }
  const double redirects_before_moved = proxy.Redirects();
  EXPECT_EQ(client.Command({"GET", "{t}2"}), Bulk("two"));
  EXPECT_EQ(client.Command({"MGET", "{t}1", other, "{t}3"}),
            absl::StrCat("*3\r\n", Bulk("one"), Bulk("x"), Bulk("three")));
  EXPECT_GT(proxy.Redirects(), redirects_before_moved);
  EXPECT_TRUE(WaitUntil([&] { return proxy.TopologyChanges() > changes_before; },
                        milliseconds(5000)));
  // Then routed by the new map: no redirection, the GET runs on the target.
  ASSERT_TRUE(ResetStats(target));
  ASSERT_TRUE(ResetStats(source));
  const double redirects_after = proxy.Redirects();
  EXPECT_EQ(client.Command({"GET", "{t}1"}), Bulk("one"));
  EXPECT_EQ(proxy.Redirects(), redirects_after);
  EXPECT_EQ(Calls(target, "get"), 1);
  EXPECT_EQ(Calls(source, "get"), 0);
}

}  // namespace
}  // namespace proxy::test

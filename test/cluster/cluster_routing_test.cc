// Redis Cluster pools end to end (issue 13, part 1; docs/configuration.md `redis_cluster:`):
// 3 masters + 3 replicas formed by `redis-cli --cluster create`, the proxy given one seed node.
// Where a key went is checked on the nodes themselves (GET on the owner per CLUSTER NODES,
// DBSIZE, INFO commandstats), not taken from the proxy's word; and the proxy must route by its
// slot map, not by the nodes' redirections (shardproxy_redirects_total stays 0).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/cluster/redis_cluster.h"
#include "test/integration/harness.h"

namespace proxy::test {
namespace {

using std::chrono::milliseconds;

std::string Bulk(const std::string& value) {
  return absl::StrCat("$", value.size(), "\r\n", value, "\r\n");
}

// Sends every command on `client` in batches (pipelined) and returns the replies in order;
// a missing reply is "".
std::vector<std::string> Pipeline(Client& client,
                                  const std::vector<std::vector<std::string>>& commands) {
  std::vector<std::string> replies;
  constexpr size_t kBatch = 200;
  for (size_t start = 0; start < commands.size(); start += kBatch) {
    const size_t end = std::min(commands.size(), start + kBatch);
    std::string bytes;
    for (size_t i = start; i < end; ++i) bytes += Resp(commands[i]);
    if (!client.Send(bytes)) break;
    for (size_t i = start; i < end; ++i) replies.push_back(client.ReadReply());
  }
  replies.resize(commands.size());
  return replies;
}

// The master port owning each slot, from CLUSTER NODES.
std::vector<int> SlotOwners(const RedisCluster& cluster) {
  std::vector<int> owners(kClusterSlots, 0);
  for (const RedisCluster::Node& node : cluster.Nodes()) {
    if (!node.master) continue;
    for (const auto& [from, to] : node.slots) {
      for (int slot = from; slot <= to; ++slot) owners[static_cast<size_t>(slot)] = node.port;
    }
  }
  return owners;
}

// 10,000 keys of every shape the slot rule cares about: plain, with a {tag}, with an empty tag
// ("{}x": the whole key is hashed), unclosed or repeated braces, and binary bytes.
std::vector<std::string> GoldenKeys() {
  std::vector<std::string> keys;
  for (int i = 0; i < 10000; ++i) {
    const std::string n = std::to_string(i);
    switch (i % 10) {
      case 0:
      case 1:
        keys.push_back(absl::StrCat("key:", n));
        break;
      case 2:
        keys.push_back(absl::StrCat("{user", i % 97, "}:following:", n));
        break;
      case 3:
        keys.push_back(absl::StrCat("{}x", n));
        break;
      case 4:
        keys.push_back(absl::StrCat("a{}{b}", n));  // first tag empty: whole key
        break;
      case 5:
        keys.push_back(absl::StrCat("{", n));  // never closed: whole key
        break;
      case 6:
        keys.push_back(absl::StrCat("x}{", n, "}y{z}"));  // tag = n
        break;
      case 7:
        keys.push_back(absl::StrCat("{{", n, "}}"));  // tag = "{n"
        break;
      case 8: {
        std::string key("bin\0", 4);
        key += "\r\n";
        key.push_back(static_cast<char>(i & 0xff));
        key.push_back(static_cast<char>(0xff));
        key += n;
        keys.push_back(key);
        break;
      }
      default:
        keys.push_back(absl::StrCat("with space {tag ", i % 13, "} ", n));
        break;
    }
  }
  return keys;
}

class ClusterRoutingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<RedisCluster>(3, 1);
    ASSERT_TRUE(cluster_->ok()) << cluster_->error();
    masters_ = cluster_->MasterPorts();
    replicas_ = cluster_->ReplicaPorts();
    ASSERT_EQ(masters_.size(), 3u);
    ASSERT_EQ(replicas_.size(), 3u);
  }

  // A proxy seeded with one master; waits until /servers lists the three masters.
  void StartProxy(const std::string& read_from = "") {
    proxy_ = std::make_unique<ClusterProxy>(std::vector<int>{masters_[0]}, read_from);
    ASSERT_TRUE(proxy_->ok()) << proxy_->Log();
    ASSERT_TRUE(WaitUntil([&] { return proxy_->Knows(masters_); }, milliseconds(10000)))
        << proxy_->Servers() << "\n" << proxy_->Log();
  }

  std::unique_ptr<RedisCluster> cluster_;
  std::vector<int> masters_;
  std::vector<int> replicas_;
  std::unique_ptr<ClusterProxy> proxy_;
};

TEST_F(ClusterRoutingTest, GoldenSlotRoutingWithoutRedirections) {
  ASSERT_NO_FATAL_FAILURE(StartProxy());
  EXPECT_EQ(proxy_->Redirects(), 0);
  const std::vector<std::string> keys = GoldenKeys();
  auto value_of = [](size_t i) { return absl::StrCat("value-", i); };

  // Every key written through the proxy.
  {
    Client client(proxy_->port);
    ASSERT_TRUE(client.connected());
    std::vector<std::vector<std::string>> sets;
    for (size_t i = 0; i < keys.size(); ++i) sets.push_back({"SET", keys[i], value_of(i)});
    const std::vector<std::string> replies = Pipeline(client, sets);
    int wrong = 0;
    for (size_t i = 0; i < replies.size(); ++i) {
      if (replies[i] != "+OK\r\n" && ++wrong <= 5) {
        ADD_FAILURE() << "SET " << absl::CEscape(keys[i]) << ": " << absl::CEscape(replies[i]);
      }
    }
    ASSERT_EQ(wrong, 0);
  }

  // The slot of every key as the cluster says (CLUSTER KEYSLOT), and its owner (CLUSTER NODES).
  std::vector<int> slots;
  {
    Client node(masters_[1]);
    std::vector<std::vector<std::string>> asks;
    for (const std::string& key : keys) asks.push_back({"CLUSTER", "KEYSLOT", key});
    const std::vector<std::string> replies = Pipeline(node, asks);
    for (size_t i = 0; i < keys.size(); ++i) {
      ASSERT_TRUE(absl::StartsWith(replies[i], ":")) << absl::CEscape(replies[i]);
      slots.push_back(std::atoi(replies[i].c_str() + 1));
      // The fixture's CRC16 (used by the other tests to find keys of given slots) agrees.
      ASSERT_EQ(slots.back(), KeySlot(keys[i])) << absl::CEscape(keys[i]);
    }
  }
  const std::vector<int> owners = SlotOwners(*cluster_);
  std::map<int, std::vector<size_t>> by_owner;
  for (size_t i = 0; i < keys.size(); ++i) {
    const int owner = owners[static_cast<size_t>(slots[i])];
    ASSERT_NE(owner, 0) << "slot " << slots[i] << " has no owner";
    by_owner[owner].push_back(i);
  }
  ASSERT_EQ(by_owner.size(), 3u);

  // Each key is on its slot's owner with its value (a node answers only keys of its slots).
  long long total = 0;
  for (const auto& [port, indexes] : by_owner) {
    Client node(port);
    std::vector<std::vector<std::string>> gets;
    for (size_t i : indexes) gets.push_back({"GET", keys[i]});
    const std::vector<std::string> replies = Pipeline(node, gets);
    int wrong = 0;
    for (size_t j = 0; j < indexes.size(); ++j) {
      if (replies[j] != Bulk(value_of(indexes[j])) && ++wrong <= 5) {
        ADD_FAILURE() << "GET " << absl::CEscape(keys[indexes[j]]) << " on the owner "
                      << port << ": " << absl::CEscape(replies[j]);
      }
    }
    EXPECT_EQ(wrong, 0) << "node " << port;
    const std::string dbsize = node.Command({"DBSIZE"});
    EXPECT_EQ(dbsize, absl::StrCat(":", indexes.size(), "\r\n")) << "node " << port;
    total += static_cast<long long>(indexes.size());
  }
  EXPECT_EQ(total, 10000);

  // Read back through the proxy, in order.
  {
    Client client(proxy_->port);
    std::vector<std::vector<std::string>> gets;
    for (const std::string& key : keys) gets.push_back({"GET", key});
    const std::vector<std::string> replies = Pipeline(client, gets);
    int wrong = 0;
    for (size_t i = 0; i < keys.size(); ++i) wrong += replies[i] != Bulk(value_of(i)) ? 1 : 0;
    EXPECT_EQ(wrong, 0);
  }
  // Routed by the map: not a single MOVED/ASK was needed.
  EXPECT_EQ(proxy_->Redirects(), 0) << proxy_->Log();
}

TEST_F(ClusterRoutingTest, MultiKeyCommandsAcrossSlots) {
  ASSERT_NO_FATAL_FAILURE(StartProxy());
  std::vector<std::string> keys;
  std::set<int> slots;
  std::set<int> owners;
  for (int i = 0; i < 50; ++i) {
    keys.push_back(absl::StrCat("mk:", i));
    slots.insert(KeySlot(keys.back()));
    owners.insert(cluster_->OwnerOf(KeySlot(keys.back())));
  }
  ASSERT_GE(slots.size(), 45u);
  ASSERT_EQ(owners.size(), 3u);  // and every master has several of them
  auto value_of = [](const std::string& key) { return absl::StrCat("v(", key, ")"); };

  Client client(proxy_->port);
  ASSERT_TRUE(client.connected());
  std::vector<std::string> mset = {"MSET"};
  for (const std::string& key : keys) mset.insert(mset.end(), {key, value_of(key)});
  ASSERT_EQ(client.Command(mset), "+OK\r\n");
  for (const std::string& key : keys) {
    EXPECT_EQ(RedisCluster::Ask(cluster_->OwnerOf(KeySlot(key)), {"GET", key}),
              Bulk(value_of(key)))
        << key;
  }

  // MGET in order, a missing key (nil) after every second key.
  std::vector<std::string> mget = {"MGET"};
  std::string expected;
  int count = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    mget.push_back(keys[i]);
    expected += Bulk(value_of(keys[i]));
    ++count;
    if (i % 2 == 1) {
      mget.push_back(absl::StrCat("missing:", i));
      expected += "$-1\r\n";
      ++count;
    }
  }
  EXPECT_EQ(client.Command(mget), absl::StrCat("*", count, "\r\n", expected));

  // EXISTS counts every key named (a repeated key twice, as redis does); 10 missing keys.
  std::vector<std::string> exists = {"EXISTS"};
  exists.insert(exists.end(), keys.begin(), keys.end());
  exists.push_back(keys[7]);
  for (int i = 0; i < 10; ++i) exists.push_back(absl::StrCat("absent:", i));
  EXPECT_EQ(client.Command(exists), ":51\r\n");

  std::vector<std::string> del = {"DEL"};
  del.insert(del.end(), keys.begin(), keys.end());
  for (int i = 0; i < 10; ++i) del.push_back(absl::StrCat("absent:", i));
  EXPECT_EQ(client.Command(del), ":50\r\n");
  exists.resize(1 + keys.size());
  EXPECT_EQ(client.Command(exists), ":0\r\n");
  for (int port : masters_) EXPECT_EQ(RedisCluster::Ask(port, {"DBSIZE"}), ":0\r\n") << port;

  // Keys of several slots in a command that cannot be split: the proxy's own error.
  ASSERT_NE(KeySlot("set:a"), KeySlot("set:b"));
  EXPECT_EQ(client.Command({"SADD", "set:a", "x", "y"}), ":2\r\n");
  EXPECT_EQ(client.Command({"SADD", "set:b", "y", "z"}), ":2\r\n");
  const std::string cross = client.Command({"SINTER", "set:a", "set:b"});
  EXPECT_TRUE(absl::StartsWith(cross, "-")) << cross;
  EXPECT_TRUE(absl::StrContains(cross, "map to different hash slots")) << cross;
  // Kept together with a hash tag, it runs.
  EXPECT_EQ(client.Command({"SADD", "{s}a", "x", "y"}), ":2\r\n");
  EXPECT_EQ(client.Command({"SADD", "{s}b", "y", "z"}), ":2\r\n");
  EXPECT_EQ(client.Command({"SINTER", "{s}a", "{s}b"}), "*1\r\n$1\r\ny\r\n");
  // And the connection still works.
  EXPECT_EQ(client.Command({"GET", "mk:1"}), "$-1\r\n");

  EXPECT_EQ(proxy_->Redirects(), 0) << proxy_->Log();
}

TEST_F(ClusterRoutingTest, ReadFromReplicaReadsOnClusterReplicas) {
  ASSERT_NO_FATAL_FAILURE(StartProxy("replica"));
  // The cluster's replicas (CLUSTER SLOTS) are listed, and in sync before reads go to them.
  ASSERT_TRUE(WaitUntil(
      [&] {
        const std::string servers = proxy_->Servers();
        size_t in_sync = 0;
        for (size_t at = servers.find("\"state\": \"in_sync\""); at != std::string::npos;
             at = servers.find("\"state\": \"in_sync\"", at + 1)) {
          ++in_sync;
        }
        if (in_sync != 3) return false;
        for (int port : replicas_) {
          if (!absl::StrContains(servers, absl::StrCat("127.0.0.1:", port))) return false;
        }
        return true;
      },
      milliseconds(15000)))
      << proxy_->Servers() << "\n" << proxy_->Log();

  // Keys on every master, written through the proxy, replicated before the reads.
  std::vector<std::string> keys;
  for (int i = 0; i < 300; ++i) keys.push_back(absl::StrCat("r:", i));
  Client client(proxy_->port);
  for (const std::string& key : keys) {
    ASSERT_EQ(client.Command({"SET", key, absl::StrCat("v", key)}), "+OK\r\n") << key;
  }
  ASSERT_TRUE(WaitUntil([&] { return cluster_->ReplicasCaughtUp(); }, milliseconds(10000)));

  for (int port : cluster_->ports()) ASSERT_TRUE(ResetStats(port));
  int wrong = 0;
  for (const std::string& key : keys) {
    const std::string reply = client.Command({"GET", key});
    if (reply != Bulk(absl::StrCat("v", key)) && ++wrong <= 5) {
      ADD_FAILURE() << "GET " << key << ": " << reply;
    }
  }
  EXPECT_EQ(wrong, 0);
  // A split read goes to the replicas too.
  std::vector<std::string> mget = {"MGET"};
  mget.insert(mget.end(), keys.begin(), keys.begin() + 30);
  const std::string mget_reply = client.Command(mget);
  EXPECT_TRUE(absl::StartsWith(mget_reply, "*30\r\n")) << mget_reply;
  EXPECT_TRUE(absl::StrContains(mget_reply, Bulk("vr:29"))) << mget_reply;

  long long replica_gets = 0;
  for (int port : replicas_) {
    const long long gets = Calls(port, "get");
    EXPECT_GT(gets, 0) << "replica " << port;
    replica_gets += gets;
  }
  EXPECT_EQ(replica_gets, static_cast<long long>(keys.size()));
  for (int port : masters_) {
    EXPECT_EQ(Calls(port, "get"), 0) << "master " << port;
    EXPECT_EQ(Calls(port, "mget"), 0) << "master " << port;
  }
  long long replica_mgets = 0;
  for (int port : replicas_) replica_mgets += Calls(port, "mget");
  EXPECT_GT(replica_mgets, 0);
  // Writes still go to the masters.
  ASSERT_EQ(client.Command({"SET", "r:0", "again"}), "+OK\r\n");
  EXPECT_EQ(RedisCluster::Ask(cluster_->OwnerOf(KeySlot("r:0")), {"GET", "r:0"}), Bulk("again"));
  // No replica answered with MOVED (the proxy sends READONLY on replica connections).
  EXPECT_EQ(proxy_->Redirects(), 0) << proxy_->Log();
}

// SIGTERM: the proxy drains and exits with status 0 (the cluster pool's topology watcher is
// stopped like a Sentinel pool's).
TEST_F(ClusterRoutingTest, ExitsCleanlyOnSigterm) {
  ASSERT_NO_FATAL_FAILURE(StartProxy());
  Client client(proxy_->port);
  ASSERT_EQ(client.Command({"SET", "k", "v"}), "+OK\r\n");
  ASSERT_EQ(client.Command({"GET", "k"}), "$1\r\nv\r\n");
  const int status = proxy_->process->Stop();
  EXPECT_EQ(status, 0) << proxy_->Log();
  EXPECT_FALSE(absl::StrContains(proxy_->Log(), "SEGV")) << proxy_->Log();
  EXPECT_TRUE(absl::StrContains(proxy_->Log(), "done, rabbit done")) << proxy_->Log();
}

}  // namespace
}  // namespace proxy::test

// A failover inside the cluster (issue 13, part 1): a master (one of the proxy's two seed
// nodes) is killed with SIGKILL; the cluster promotes its replica by itself
// (cluster-node-timeout 1000 ms), and the proxy, which learns the new map from CLUSTER SLOTS,
// serves every key of the dead master's slots again, with the values written before the kill.
// The time from the kill to the first good reply is measured and printed.
#include <chrono>
#include <cstdio>
#include <set>
#include <memory>
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
using std::chrono::steady_clock;

std::string Bulk(const std::string& value) {
  return absl::StrCat("$", value.size(), "\r\n", value, "\r\n");
}

double SecondsSince(steady_clock::time_point start) {
  return std::chrono::duration<double>(steady_clock::now() - start).count();
}

TEST(ClusterFailoverTest, KilledMasterReplicaPromotedAndItsSlotsServedAgain) {
  RedisCluster cluster(3, 1);
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  const std::vector<int> masters = cluster.MasterPorts();
  ASSERT_EQ(masters.size(), 3u);
  const int victim = masters[0];
  const std::vector<int> victim_replicas = cluster.ReplicasOf(victim);
  ASSERT_EQ(victim_replicas.size(), 1u);
  const int heir = victim_replicas[0];

  ClusterProxy proxy({masters[0], masters[1]});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  ASSERT_TRUE(WaitUntil([&] { return proxy.Knows(masters); }, milliseconds(10000)))
      << proxy.Servers() << "\n" << proxy.Log();

  // Keys everywhere, written through the proxy; the victim's are noted.
  std::vector<std::string> victim_keys;
  std::vector<std::string> other_keys;
  {
    Client client(proxy.port);
    for (int i = 0; i < 600; ++i) {
      const std::string key = absl::StrCat("fk:", i);
      ASSERT_EQ(client.Command({"SET", key, absl::StrCat("before-", i)}), "+OK\r\n") << key;
      (cluster.OwnerOf(KeySlot(key)) == victim ? victim_keys : other_keys).push_back(key);
    }
  }
  ASSERT_GT(victim_keys.size(), 50u);
  auto value_of = [](const std::string& key) { return absl::StrCat("before-", key.substr(3)); };
  // Replicated before the kill (else the promoted replica would rightly miss some).
  ASSERT_TRUE(WaitUntil([&] { return cluster.ReplicasCaughtUp(); }, milliseconds(10000)));
  const double changes_before = proxy.TopologyChanges();

  const auto killed = steady_clock::now();
  cluster.server(victim).Kill();

  // The first good reply for a key of the victim's slots.
  const std::string& probe = victim_keys[0];
  std::unique_ptr<Client> client = std::make_unique<Client>(proxy.port, milliseconds(3000));
  std::string last_reply;
  int failed_replies = 0;
  std::set<std::string> kinds;  // the error replies seen meanwhile
  const bool served = WaitUntil(
      [&] {
        if (!client->connected()) client = std::make_unique<Client>(proxy.port, milliseconds(3000));
        last_reply = client->Command({"GET", probe});
        if (last_reply.empty()) {
          client.reset(new Client(proxy.port, milliseconds(3000)));
          return false;
        }
        if (last_reply == Bulk(value_of(probe))) return true;
        ++failed_replies;
        if (kinds.size() < 4) kinds.insert(last_reply.substr(0, last_reply.find("\r\n")));
        return false;
      },
      milliseconds(30000));
  const double first_success_s = SecondsSince(killed);
  ASSERT_TRUE(served) << "last reply: " << last_reply << "\n" << cluster.error() << proxy.Log();

  // Every key of its slots (and the others) read back with the value written before the kill.
  auto all_served = [&](const std::vector<std::string>& keys, std::string* first_wrong) {
    Client reader(proxy.port, milliseconds(3000));
    for (const std::string& key : keys) {
      const std::string reply = reader.Command({"GET", key});
      if (reply != Bulk(value_of(key))) {
        *first_wrong = absl::StrCat(key, " -> ", reply);
        return false;
      }
    }
    return true;
  };
  std::string wrong;
  ASSERT_TRUE(WaitUntil([&] { return all_served(victim_keys, &wrong); }, milliseconds(30000)))
      << wrong << "\n" << proxy.Log();
  const double all_served_s = SecondsSince(killed);
  EXPECT_TRUE(all_served(other_keys, &wrong)) << wrong;
  std::printf("failover: master %d killed; first good reply through the proxy after %.3f s "
              "(%d error replies before it: %s), all %zu keys of its slots after %.3f s\n",
              victim, first_success_s, failed_replies, absl::StrJoin(kinds, " | ").c_str(),
              victim_keys.size(), all_served_s);

  // The cluster promoted the replica, and the proxy knows it as the master of those slots.
  ASSERT_TRUE(WaitUntil([&] { return cluster.Healthy(); }, milliseconds(20000)));
  EXPECT_EQ(cluster.OwnerOf(KeySlot(probe)), heir);
  EXPECT_TRUE(WaitUntil([&] { return proxy.Knows({heir}); }, milliseconds(10000)))
      << proxy.Servers();
  EXPECT_GT(proxy.TopologyChanges(), changes_before);

  // New writes to those slots land on the promoted node.
  Client writer(proxy.port);
  for (size_t i = 0; i < 20; ++i) {
    const std::string& key = victim_keys[i];
    ASSERT_EQ(writer.Command({"SET", key, "after"}), "+OK\r\n") << key;
    EXPECT_EQ(RedisCluster::Ask(heir, {"GET", key}), Bulk("after")) << key;
  }
}

}  // namespace
}  // namespace proxy::test

// A real Redis Cluster for the tests: N masters with R replicas each, every node a redis-server
// on 127.0.0.1 (client port and cluster bus port both picked at run time), formed with
// `redis-cli --cluster create`, plus the small helpers the cluster tests share (CRC16 slots,
// CLUSTER NODES parsing, INFO commandstats counts, /metrics numbers). Every process started here
// is stopped by the destructor.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "test/integration/harness.h"

namespace proxy::test {

constexpr int kClusterSlots = 16384;

// Redis Cluster's slot of a key: CRC16 (XMODEM) of the key, or of the first non-empty {tag}.
// The tests check it against CLUSTER KEYSLOT; it is used to find keys of given slots.
int KeySlot(absl::string_view key);

// The payload of a bulk-string reply ("$N\r\n...\r\n"), "" for anything else.
std::string BulkPayload(const std::string& reply);

// The payloads of an array of bulk strings ("*N\r\n$len\r\n...").
std::vector<std::string> BulkArray(const std::string& reply);

// `name:N` in an INFO section, -1 when absent.
long long InfoNumber(const std::string& info, const std::string& name);

// How many times the node on `port` ran `command` since its last CONFIG RESETSTAT (0 when the
// command never ran), -1 when it cannot be asked.
long long Calls(int port, const std::string& command);
bool ResetStats(int port);

// The value of the metric line that starts with `series` (e.g.
// `shardproxy_redirects_total{pool="c"}`), -1 when absent.
double MetricValue(const std::string& metrics, const std::string& series);
// The same, read from the proxy's admin endpoint.
double Metric(int admin_port, const std::string& series);

class RedisCluster {
 public:
  // One node as CLUSTER NODES reports it.
  struct Node {
    std::string id;
    int port = 0;
    bool master = false;
    bool failed = false;     // flags fail or fail?
    std::string master_id;   // a replica's master; "" for a master
    std::vector<std::pair<int, int>> slots;  // inclusive ranges (masters)
  };

  // Starts masters * (1 + replicas_per_master) nodes and forms the cluster. ok() says whether
  // it worked; error() why not.
  RedisCluster(int masters, int replicas_per_master);
  ~RedisCluster();
  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

  // Client ports of every node, in start order.
  std::vector<int> ports() const;
  RedisServer& server(int port);

  // The cluster as the node on `port` sees it (CLUSTER NODES); empty when it cannot be asked.
  std::vector<Node> Nodes(int port) const;
  // Same, asked of the first running node.
  std::vector<Node> Nodes() const;

  // Ports of the masters / replicas (live ones: flags without fail), per the first running node.
  std::vector<int> MasterPorts() const;
  std::vector<int> ReplicaPorts() const;
  // Port of the master that owns `slot` per CLUSTER NODES of the first running node, 0 if none.
  int OwnerOf(int slot) const;
  std::string IdOf(int port) const;
  // Replicas of the master on `port`.
  std::vector<int> ReplicasOf(int master_port) const;

  // True when every running node says cluster_state:ok and every running node agrees on who
  // owns each slot.
  bool Healthy() const;
  // Every replica's link to its master is up and its offset equals its master's.
  bool ReplicasCaughtUp() const;

  // Sends a command to the node on `port` (fresh connection), returns the raw reply.
  static std::string Ask(int port, const std::vector<std::string>& args,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

 private:
  bool Form(int replicas_per_master);
  bool Running(int port) const;

  std::vector<std::unique_ptr<RedisServer>> servers_;
  bool ok_ = false;
  std::string error_;
};

// //:proxy with one pool "c" (redis_cluster: true) on the seed nodes, client port `port`, admin
// endpoint on `admin`.
struct ClusterProxy {
  explicit ClusterProxy(const std::vector<int>& seeds, const std::string& read_from = "");
  bool ok() const { return process != nullptr && process->ok(); }
  std::string Log() const { return process->Log(); }
  std::string Servers() const;  // GET /servers
  double Redirects() const;      // shardproxy_redirects_total{pool="c"}
  double TopologyChanges() const;  // shardproxy_cluster_topology_changes_total
  // /servers names every one of these nodes (127.0.0.1:port).
  bool Knows(const std::vector<int>& masters) const;

  int port = 0;
  int admin = 0;
  std::unique_ptr<ProxyProcess> process;
};

}  // namespace proxy::test

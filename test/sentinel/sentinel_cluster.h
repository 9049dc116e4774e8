// Real Redis Sentinel deployments for the discovery plugin's tests: masters (each with one
// replica) and sentinels, all `redis-server` processes on free 127.0.0.1 ports (a sentinel is
// `redis-server <conf> --sentinel`; its conf file lives in TEST_TMPDIR since sentinels rewrite
// it). Everything is stopped by the destructor.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "test/integration/harness.h"

namespace proxy::test {

struct SentinelClusterOptions {
  std::vector<std::string> masters = {"shard-a", "shard-b"};
  bool replicas = true;
  int sentinels = 3;
  int quorum = 2;
  std::string password;  // requirepass of the sentinels (and their sentinel-pass)
};

class SentinelCluster {
 public:
  explicit SentinelCluster(SentinelClusterOptions options);
  ~SentinelCluster();

  // Empty when everything started and every sentinel knows every master's replica (link ok)
  // and the other sentinels; otherwise what is missing.
  const std::string& error() const { return error_; }

  int master_port(size_t i) const { return masters_[i]->port(); }
  int replica_port(size_t i) const { return replicas_[i]->port(); }
  RedisServer& master(size_t i) { return *masters_[i]; }
  RedisServer& replica(size_t i) { return *replicas_[i]; }
  int sentinel_port(size_t j) const { return sentinel_ports_[j]; }
  Process& sentinel(size_t j) { return *sentinels_[j]; }
  size_t sentinel_count() const { return sentinels_.size(); }

  // A command to sentinel j (AUTH first when the cluster has a password): the raw RESP reply.
  std::string SentinelCommand(size_t j, const std::vector<std::string>& args);

 private:
  bool WaitReady(absl::Duration timeout);

  SentinelClusterOptions options_;
  std::vector<std::unique_ptr<RedisServer>> masters_;
  std::vector<std::unique_ptr<RedisServer>> replicas_;
  std::vector<int> sentinel_ports_;
  std::vector<std::unique_ptr<Process>> sentinels_;
  std::string error_;
};

}  // namespace proxy::test

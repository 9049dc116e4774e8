// TopologyDiscovery for Redis Cluster (registered as "redis_cluster"; docs/redis-cluster.md).
//
// Asks CLUSTER SLOTS of one node at a time (the masters it knows first, then the pool's seed
// nodes) and reports the masters with their slot ranges and replicas. Start runs one thread
// that looks again every 5 s, and at once (at most every 100 ms) when Refresh() is called (the
// core saw -MOVED: its map is stale). Every connect and command is bounded (1 s) and Stop()
// interrupts it at once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/discovery.h"
#include "protocols/redis/sentinel/resp_reader.h"

namespace proxy::protocols::redis::cluster {

using Address = std::pair<std::string, uint32_t>;

struct ClusterOptions {
  std::vector<Address> seeds;  // the pool's servers:
  // AUTH to the nodes: the pool's server side credential (server_auth, else redis_auth);
  // empty password = none, empty username = the default user.
  std::string username;
  std::string password;
  absl::Duration io_timeout = absl::Seconds(1);
  absl::Duration requery_interval = absl::Seconds(5);
  absl::Duration min_refresh_interval = absl::Milliseconds(100);
  std::function<void(absl::string_view)> log;  // default: stderr lines prefixed "cluster: "
};

ClusterOptions OptionsFromPool(const config::v1::Pool& pool);

// The topology in a CLUSTER SLOTS reply; `asked` is the node that answered (an empty IP in the
// reply means that node). Masters sorted by address, their slot ranges sorted and merged,
// replicas sorted and unique. InvalidArgument when the reply is not CLUSTER SLOTS' shape.
absl::StatusOr<DiscoveredTopology> ParseClusterSlots(const sentinel::RespValue& reply,
                                                     const Address& asked);

class ClusterDiscovery final : public TopologyDiscovery {
 public:
  explicit ClusterDiscovery(ClusterOptions options);
  ~ClusterDiscovery() override;

  absl::StatusOr<DiscoveredTopology> Resolve(absl::Duration timeout) override;
  absl::Status Start(std::function<void(const DiscoveredTopology&)> changed) override;
  void Refresh() override;
  void Stop() override;
  void SetLogSink(std::function<void(absl::string_view)> sink) override;

 private:
  // One look: the known masters, then the seeds, until one answers; `cancel_fd` < 0 for none.
  absl::StatusOr<DiscoveredTopology> Query(absl::Time deadline, int cancel_fd);
  void Run();
  void Log(absl::string_view message) const;

  ClusterOptions options_;
  int cancel_fd_ = -1;
  std::thread thread_;
  std::function<void(const DiscoveredTopology&)> changed_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool refresh_ = false;  // under mu_
  bool stop_ = false;     // under mu_
  std::vector<Address> known_;  // masters of the last topology (the thread's, and Resolve's)
  DiscoveredTopology last_;
  bool failing_ = false;  // the last look failed (logged once per streak)
};

}  // namespace proxy::protocols::redis::cluster

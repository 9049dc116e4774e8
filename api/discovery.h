// Server discovery plugin interface: tells the core where a pool's servers are now, for pools
// whose servers move (Redis Sentinel: a failover promotes a replica at another address). The
// placement never changes: servers keep their names; only the address behind a name does.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "api/config/v1/bootstrap.pb.h"

namespace proxy {

// Where one server (by its node name) is now, and its replicas when the source knows them.
struct DiscoveredServer {
  std::string server;  // the node name (for Sentinel: the master name)
  std::string host;
  uint32_t port = 0;
  // Replicas reported by the source (host, port); empty when it reports none.
  std::vector<std::pair<std::string, uint32_t>> replicas;
};

// Watches one pool's servers. Start() runs on a thread of the implementation's own; the core
// applies what it reports at request boundaries on every worker.
class ServerDiscovery {
 public:
  virtual ~ServerDiscovery() = default;
  // Resolves every server of the pool once (blocking, bounded by `timeout`): a server it cannot
  // resolve keeps its configured address (the result lists only those it resolved).
  virtual std::vector<DiscoveredServer> ResolveAll(absl::Duration timeout) = 0;
  // Starts watching; `changed` is called (from the implementation's thread) with a server's new
  // address whenever it changes, e.g. after a failover. Reconnects to its sources by itself.
  virtual absl::Status Start(std::function<void(const DiscoveredServer&)> changed) = 0;
  // Stops watching and joins its thread; no call of `changed` after it returns.
  virtual void Stop() = 0;
  // Where problems and state changes are reported (called from any of its threads; the core
  // passes its log). Set before ResolveAll/Start; without it the plugin writes to stderr.
  virtual void SetLogSink(std::function<void(absl::string_view)> sink) = 0;
};
using ServerDiscoveryPtr = std::unique_ptr<ServerDiscovery>;

// Registered under its name ("redis_sentinel"); the core uses it for pools with `sentinels:`.
class ServerDiscoveryFactory {
 public:
  static constexpr absl::string_view kCategory = "discovery";
  virtual ~ServerDiscoveryFactory() = default;
  virtual absl::string_view Name() const = 0;
  virtual absl::string_view Description() const = 0;
  // A watcher for `pool` (its servers' node names, its sentinels and their password).
  virtual ServerDiscoveryPtr Create(const config::v1::Pool& pool) const = 0;
};

// A pool whose source decides its whole server list (Redis Cluster): its masters, each with the
// hash slots it serves (inclusive ranges) and its replicas, in a stable order (by address).
struct DiscoveredNode {
  std::string host;
  uint32_t port = 0;
  std::vector<std::pair<uint32_t, uint32_t>> slots;
  std::vector<std::pair<std::string, uint32_t>> replicas;
  bool operator==(const DiscoveredNode& other) const {
    return host == other.host && port == other.port && slots == other.slots &&
           replicas == other.replicas;
  }
};
struct DiscoveredTopology {
  std::vector<DiscoveredNode> masters;
  bool operator==(const DiscoveredTopology& other) const { return masters == other.masters; }
};

// Watches one pool's topology. Like ServerDiscovery: Start() runs a thread of its own, the core
// applies what it reports at request boundaries.
class TopologyDiscovery {
 public:
  virtual ~TopologyDiscovery() = default;
  // The topology now (blocking, bounded by `timeout`), asked of the pool's seed nodes.
  virtual absl::StatusOr<DiscoveredTopology> Resolve(absl::Duration timeout) = 0;
  // Starts watching: `changed` is called (from the implementation's thread) with the whole
  // topology whenever it differs from the last one reported (or resolved).
  virtual absl::Status Start(std::function<void(const DiscoveredTopology&)> changed) = 0;
  // Asks for a new look soon (the core saw a redirection: the map is stale). Thread-safe, cheap,
  // callable from the workers' threads; requests close together are coalesced.
  virtual void Refresh() = 0;
  // Stops watching and joins its thread; no call of `changed` after it returns.
  virtual void Stop() = 0;
  virtual void SetLogSink(std::function<void(absl::string_view)> sink) = 0;
};
using TopologyDiscoveryPtr = std::unique_ptr<TopologyDiscovery>;

// Registered under its name ("redis_cluster"); the core uses it for pools with redis_cluster.
class TopologyDiscoveryFactory {
 public:
  static constexpr absl::string_view kCategory = "topology";
  virtual ~TopologyDiscoveryFactory() = default;
  virtual absl::string_view Name() const = 0;
  virtual absl::string_view Description() const = 0;
  // A watcher for `pool` (its servers: are the seed nodes; redis_auth is sent with AUTH).
  virtual TopologyDiscoveryPtr Create(const config::v1::Pool& pool) const = 0;
};

}  // namespace proxy

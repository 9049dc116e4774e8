// Process lifecycle: pools → workers → signal loop (reloads) → graceful drain → shutdown.
#include "core/server/server.h"

#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "api/discovery.h"
#include "api/registry.h"
#include "core/admin/admin_server.h"
#include "core/common/log.h"
#include "core/config/config.h"
#include "core/config/diff.h"
#include "core/proxy/client_connection.h"
#include "core/proxy/clock.h"
#include "core/proxy/connection_budget.h"
#include "core/proxy/shared_pool.h"
#include "core/proxy/stats.h"
#include "core/proxy/worker.h"
#include "core/server/memory_release.h"
#include "core/stats/stats_server.h"

namespace proxy {
namespace {

ProxyLimits LimitsFrom(const Options& options) {
  ProxyLimits limits;
  limits.read_chunk = options.mbuf_size;
  limits.decoder.max_message_bytes = options.max_request_bytes;
  limits.client_output_limit = options.client_output_limit;
  limits.slowlog_us = options.slowlog_us;
  // twemproxy bounds keys by its buffer size: -m minus its mbuf header minus 1.
  constexpr size_t kMbufHeaderBytes = 48;
  limits.decoder.max_key_bytes = options.mbuf_size - kMbufHeaderBytes - 1;
  return limits;
}

// Runs `task(worker)` on every worker's loop and returns once all have run it.
void OnEveryWorker(const std::vector<std::unique_ptr<Worker>>& workers,
                   const std::function<void(Worker&)>& task) {
  std::mutex mu;
  std::condition_variable done;
  size_t left = workers.size();
  for (const std::unique_ptr<Worker>& worker : workers) {
    Worker* w = worker.get();
    w->Post([w, &task, &mu, &done, &left] {
      task(*w);
      std::lock_guard<std::mutex> lock(mu);
      if (--left == 0) done.notify_one();
    });
  }
  std::unique_lock<std::mutex> lock(mu);
  done.wait(lock, [&] { return left == 0; });
}

// Discovered replicas of `server` as a `replicas:` entry of `pool` (none: nothing added).
void AddReplicas(const std::string& server,
                 const std::vector<std::pair<std::string, uint32_t>>& replicas,
                 config::v1::Pool* pool) {
  if (replicas.empty()) return;
  config::v1::ReplicaSet* set = pool->add_replicas();
  set->set_server(server);
  for (const auto& [host, port] : replicas) {
    config::v1::Server* replica = set->add_replicas();
    replica->mutable_tcp()->set_host(host);
    replica->mutable_tcp()->set_port(port);
    replica->set_raw(absl::StrCat(host, ":", port));
    replica->set_node_name(replica->raw());
  }
}

// A discovered server's replicas for a log line: "127.0.0.1:6380, ..." or "none".
std::string ReplicasText(const DiscoveredServer& server) {
  if (server.replicas.empty()) return "none";
  std::vector<std::string> out;
  for (const auto& [host, port] : server.replicas) out.push_back(absl::StrCat(host, ":", port));
  return absl::StrJoin(out, ", ");
}

// The TCP port a listening socket is bound to (0 if unknown).
int BoundPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (fd < 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return 0;
}

double MillisSince(uint64_t start_us) {
  return static_cast<double>(MonotonicMicros() - start_us) / 1000.0;
}

// The serving process: its config generation, workers and endpoints.
class Server {
 public:
  Server(const Options& options, PidFile& pid_file)
      : options_(options),
        pid_file_(pid_file),
        limits_(LimitsFrom(options)),
        worker_count_(options.workers != 0 ? options.workers
                                           : std::max(1u, std::thread::hardware_concurrency())) {}

  int Run(const config::v1::Bootstrap& bootstrap, std::unique_ptr<UpgradeClient> predecessor);
  // Re-reads and validates the config file (the code of `check`) and, if it is valid, applies
  // it on every worker. Returns the HTTP status and text for POST /reload.
  std::pair<int, std::string> Reload(const char* trigger);

 private:
  // Graceful shutdown: stop accepting, answer what was received, bounded by --drain-timeout.
  void Drain(const sigset_t& signals);
  std::pair<int, std::string> ReloadFailed(const std::string& text);
  // Binary upgrade, old side (on the upgrade thread): what to hand over, and the commit.
  std::vector<InheritedSocket> SocketsToHandOver();
  void HandOver();

  const Options& options_;
  PidFile& pid_file_;
  const ProxyLimits limits_;
  const unsigned worker_count_;
  std::mutex reload_mu_;  // one reload at a time (SIGUSR1 and POST /reload)
  bool stopping_ = false;  // under reload_mu_
  config::v1::Bootstrap bootstrap_;  // in force
  std::vector<SharedPoolPtr> pools_;  // in force, in config order
  std::vector<std::unique_ptr<Worker>> workers_;
  ConfigStats config_stats_;
  StatsServer* stats_ = nullptr;
  AdminServer* admin_ = nullptr;
  UpgradeServer upgrade_;
  std::atomic<bool> handed_over_{false};

  // Server discovery (Redis Sentinel, api/discovery.h) for pools with `sentinels:`.
  // Watchers run threads of their own; what they report is queued and applied by the main
  // thread (woken with SIGUSR2), so that a watcher never waits for a reload.
  struct Watched {
    std::string pool;
    std::string key;  // what the watcher was made from (sentinels, password, server names)
    ServerDiscoveryPtr watcher;
    // Redis Cluster pools (instead of `watcher`): shared with the pool's refresh hook
    // (SharedPool::refresh_topology), which may outlive a reload that replaces it.
    std::shared_ptr<TopologyDiscovery> topology;
    bool started = false;
  };
  // Makes (or keeps, when unchanged) the watchers for `bootstrap`'s pools and resolves the new
  // ones' servers; false with the reason logged when a plugin is missing. Under reload_mu_.
  bool WatchPools(const config::v1::Bootstrap& bootstrap, std::string* error);
  void StartWatchers();
  // The pool as configured, with the servers' discovered addresses (and, for a Redis Cluster
  // pool, the cluster's masters, slots and replicas instead of the seed nodes).
  config::v1::Pool WithDiscovered(const config::v1::Pool& config) const;
  // BuildSharedPool of WithDiscovered(config), with a cluster pool's refresh hook.
  absl::StatusOr<SharedPoolPtr> BuildPool(const config::v1::Pool& config) const;
  // Applies what the watchers reported (main thread).
  void ApplyDiscovered();
  // Rebuilds pool `pool_name` from the file with what was discovered and switches every worker
  // to it (PoolRuntime::Update's `moved`). Under reload_mu_; false when the pool is gone or
  // cannot be built (logged).
  bool ApplyPoolChange(const std::string& pool_name, bool moved);
  std::vector<Watched> watched_;
  // pool name → server node name → where it is and its healthy replicas, as last reported.
  // Under reload_mu_.
  std::map<std::string, std::map<std::string, DiscoveredServer>> discovered_;
  // Redis Cluster pools: pool name → the topology last reported (absent until one is).
  std::map<std::string, DiscoveredTopology> topologies_;
  std::mutex reports_mu_;
  std::vector<std::pair<std::string, DiscoveredServer>> reports_;  // under reports_mu_
  std::vector<std::pair<std::string, DiscoveredTopology>> topology_reports_;  // the same
};

// What a discovery watcher depends on: changing any of it makes a new one.
std::string WatchKey(const config::v1::Pool& pool) {
  if (pool.redis_cluster()) {
    std::string key = absl::StrCat("cluster|", pool.redis_auth(), "|",
                                   pool.server_auth().credential().username(), "|",
                                   pool.server_auth().credential().password().value());
    for (const config::v1::Server& server : pool.servers()) absl::StrAppend(&key, "|", server.raw());
    return key;
  }
  std::string key = pool.sentinel_password();
  for (const config::v1::Sentinel& sentinel : pool.sentinels()) absl::StrAppend(&key, "|", sentinel.raw());
  for (const config::v1::Server& server : pool.servers()) absl::StrAppend(&key, "|", server.node_name());
  return key;
}

bool Server::WatchPools(const config::v1::Bootstrap& bootstrap, std::string* error) {
  std::vector<Watched> next;
  for (const config::v1::Pool& pool : bootstrap.pools()) {
    if (pool.sentinels().empty() && !pool.redis_cluster()) continue;
    const std::string key = WatchKey(pool);
    bool kept = false;
    for (Watched& current : watched_) {
      if ((current.watcher != nullptr || current.topology != nullptr) &&
          current.pool == pool.name() && current.key == key) {
        next.push_back(std::move(current));
        kept = true;
        break;
      }
    }
    if (kept) continue;
    if (pool.redis_cluster()) {
      const TopologyDiscoveryFactory* factory =
          Registry<TopologyDiscoveryFactory>::Find("redis_cluster");
      if (factory == nullptr) {
        *error = absl::StrCat("pool '", pool.name(),
                              "': redis_cluster: the redis_cluster topology plugin is not linked "
                              "into this binary");
        return false;
      }
      Watched watched{pool.name(), key, nullptr, factory->Create(pool)};
      watched.topology->SetLogSink([name = pool.name()](absl::string_view message) {
        PROXY_LOG(log::kWarn, "pool %s: cluster: %s", name, message);
      });
      // The slot map now (bounded: without one, keys go to the first seed node, whose MOVED
      // answers say where they live, and the watcher keeps asking).
      absl::StatusOr<DiscoveredTopology> topology = watched.topology->Resolve(absl::Seconds(2));
      topologies_.erase(pool.name());
      if (topology.ok()) {
        topologies_[pool.name()] = *topology;
        PROXY_LOG(log::kNotice, "pool %s: cluster of %zu master%s (CLUSTER SLOTS)", pool.name(),
                  topology->masters.size(), topology->masters.size() == 1 ? "" : "s");
      } else {
        PROXY_LOG(log::kWarn, "pool %s: cluster: %s; routing by the seed nodes until one answers",
                  pool.name(), topology.status().message());
      }
      next.push_back(std::move(watched));
      continue;
    }
    const ServerDiscoveryFactory* factory = Registry<ServerDiscoveryFactory>::Find("redis_sentinel");
    if (factory == nullptr) {
      *error = absl::StrCat("pool '", pool.name(),
                            "': sentinels: the redis_sentinel discovery plugin is not linked into "
                            "this binary");
      return false;
    }
    Watched watched{pool.name(), key, factory->Create(pool), nullptr};
    watched.watcher->SetLogSink([name = pool.name()](absl::string_view message) {
      PROXY_LOG(log::kWarn, "pool %s: sentinel: %s", name, message);
    });
    // Where the masters are now (bounded: a server no sentinel knows keeps its configured
    // address until one reports it).
    std::map<std::string, DiscoveredServer>& known = discovered_[pool.name()];
    known.clear();
    for (const DiscoveredServer& server : watched.watcher->ResolveAll(absl::Seconds(2))) {
      known[server.server] = server;
      PROXY_LOG(log::kNotice, "pool %s: server %s is at %s:%u (Sentinel), replicas: %s",
                pool.name(), server.server, server.host, server.port,
                ReplicasText(server));
    }
    next.push_back(std::move(watched));
  }
  // Watchers of pools that are gone or changed stop (outside any lock their thread could
  // wait for: a watcher only ever takes reports_mu_).
  for (Watched& old : watched_) {
    if (old.watcher != nullptr) {
      old.watcher->Stop();
      discovered_.erase(old.pool);
    }
    if (old.topology != nullptr) {
      old.topology->Stop();
      bool still = false;
      for (const Watched& kept : next) still = still || kept.pool == old.pool;
      if (!still) topologies_.erase(old.pool);
    }
  }
  watched_ = std::move(next);
  for (const Watched& watched : watched_) discovered_[watched.pool];  // keep the entries
  return true;
}

void Server::StartWatchers() {
  for (Watched& watched : watched_) {
    if (watched.started) continue;
    watched.started = true;
    const std::string pool = watched.pool;
    if (watched.topology != nullptr) {
      const absl::Status status =
          watched.topology->Start([this, pool](const DiscoveredTopology& topology) {
            {
              std::lock_guard<std::mutex> lock(reports_mu_);
              topology_reports_.emplace_back(pool, topology);
            }
            kill(getpid(), SIGUSR2);  // the main thread applies it
          });
      if (!status.ok()) {
        PROXY_LOG(log::kError, "pool %s: cluster watcher: %s", pool, status.message());
      }
      continue;
    }
    const absl::Status status = watched.watcher->Start([this, pool](const DiscoveredServer& s) {
      {
        std::lock_guard<std::mutex> lock(reports_mu_);
        reports_.emplace_back(pool, s);
      }
      kill(getpid(), SIGUSR2);  // the main thread applies it
    });
    if (!status.ok()) {
      PROXY_LOG(log::kError, "pool %s: Sentinel watcher: %s", pool, status.message());
    }
  }
}

config::v1::Pool Server::WithDiscovered(const config::v1::Pool& config) const {
  if (config.redis_cluster()) {
    auto known = topologies_.find(config.name());
    if (known == topologies_.end()) return config;
    config::v1::Pool pool = config;
    pool.clear_servers();
    pool.clear_replicas();
    for (const DiscoveredNode& node : known->second.masters) {
      config::v1::Server* server = pool.add_servers();
      server->mutable_tcp()->set_host(node.host);
      server->mutable_tcp()->set_port(node.port);
      server->set_weight(1);
      server->set_raw(absl::StrCat(node.host, ":", node.port, ":1"));
      server->set_node_name(absl::StrCat(node.host, ":", node.port));
      for (const auto& [first, last] : node.slots) {
        config::v1::SlotRange* range = server->add_slots();
        range->set_first(first);
        range->set_last(last);
      }
      AddReplicas(server->node_name(), node.replicas, &pool);
    }
    return pool;
  }
  auto it = discovered_.find(config.name());
  if (it == discovered_.end() || config.sentinels().empty()) return config;
  config::v1::Pool pool = config;
  for (config::v1::Server& server : *pool.mutable_servers()) {
    auto at = it->second.find(server.node_name());
    if (at == it->second.end()) continue;
    const DiscoveredServer& found = at->second;
    server.mutable_tcp()->set_host(found.host);
    server.mutable_tcp()->set_port(found.port);
    server.set_raw(absl::StrCat(found.host, ":", found.port, ":", server.weight(), " ",
                                server.name()));
    // Sentinel's healthy replicas replace the configured ones (a starting guess, like the
    // address) for this server.
    auto sets = pool.mutable_replicas();
    sets->erase(std::remove_if(sets->begin(), sets->end(),
                               [&](const config::v1::ReplicaSet& set) {
                                 return set.server() == server.node_name();
                               }),
                sets->end());
    AddReplicas(server.node_name(), found.replicas, &pool);
  }
  return pool;
}

absl::StatusOr<SharedPoolPtr> Server::BuildPool(const config::v1::Pool& config) const {
  const config::v1::Pool effective = WithDiscovered(config);
  absl::StatusOr<SharedPoolPtr> pool = BuildSharedPool(effective, limits_);
  if (!pool.ok() || !config.redis_cluster()) return pool;
  for (const Watched& watched : watched_) {
    if (watched.pool != config.name() || watched.topology == nullptr) continue;
    std::weak_ptr<TopologyDiscovery> topology = watched.topology;
    (*pool)->refresh_topology = [topology] {
      if (std::shared_ptr<TopologyDiscovery> live = topology.lock()) live->Refresh();
    };
  }
  return pool;
}

bool Server::ApplyPoolChange(const std::string& pool_name, bool moved) {
  size_t index = 0;
  while (index < pools_.size() && pools_[index]->config.name() != pool_name) ++index;
  const config::v1::Pool* file = nullptr;
  for (const config::v1::Pool& pool : bootstrap_.pools()) {
    if (pool.name() == pool_name) file = &pool;
  }
  if (index == pools_.size() || file == nullptr) return false;
  absl::StatusOr<SharedPoolPtr> next = BuildPool(*file);
  if (!next.ok()) {
    PROXY_LOG(log::kError, "pool %s: %s", pool_name, next.status().message());
    return false;
  }
  (*next)->listener = pools_[index]->listener;
  {
    std::unique_lock<std::shared_mutex> topology(TopologyMutex());
    std::shared_ptr<const SharedPool> shared = *next;
    OnEveryWorker(workers_, [index, shared, moved](Worker& worker) {
      worker.MovePoolServers(index, shared, moved);
    });
  }
  pools_[index] = *std::move(next);
  return true;
}

void Server::ApplyDiscovered() {
  std::vector<std::pair<std::string, DiscoveredServer>> reports;
  std::vector<std::pair<std::string, DiscoveredTopology>> topology_reports;
  {
    std::lock_guard<std::mutex> lock(reports_mu_);
    reports.swap(reports_);
    topology_reports.swap(topology_reports_);
  }
  if (reports.empty() && topology_reports.empty()) return;
  std::lock_guard<std::mutex> lock(reload_mu_);
  if (stopping_) return;
  for (const auto& [pool_name, topology] : topology_reports) {
    if (std::none_of(watched_.begin(), watched_.end(), [&](const Watched& w) {
          return w.pool == pool_name && w.topology != nullptr;
        })) {
      continue;  // the pool left the config meanwhile
    }
    auto known = topologies_.find(pool_name);
    if (known != topologies_.end() && known->second == topology) continue;
    topologies_[pool_name] = topology;
    // Requests already sent finish where they went (a node that gave its slots away answers
    // them with MOVED, which is followed).
    if (!ApplyPoolChange(pool_name, /*moved=*/false)) continue;
    config_stats_.topology_changes.fetch_add(1);
    PROXY_LOG(log::kNotice, "pool %s: cluster slot map changed: %zu master%s now", pool_name,
              topology.masters.size(), topology.masters.size() == 1 ? "" : "s");
  }
  for (const auto& [pool_name, server] : reports) {
    auto known = discovered_.find(pool_name);
    if (known == discovered_.end()) continue;  // the pool left the config meanwhile
    DiscoveredServer& last = known->second[server.server];
    const bool moved = last.host != server.host || last.port != server.port;
    if (!moved && last.replicas == server.replicas) continue;
    const std::string before = last.host.empty()
                                   ? "its configured address"
                                   : absl::StrCat(last.host, ":", last.port);
    last = server;
    if (!ApplyPoolChange(pool_name, /*moved=*/true)) continue;
    if (!moved) {
      PROXY_LOG(log::kNotice, "pool %s: server %s's replicas (Sentinel): %s", pool_name,
                server.server, ReplicasText(server));
      continue;
    }
    config_stats_.failovers.fetch_add(1);
    PROXY_LOG(log::kNotice,
              "pool %s: server %s moved from %s to %s:%u (Sentinel): requests in flight to the "
              "old address fail, new ones go to the new one; replicas: %s",
              pool_name, server.server, before, server.host, server.port, ReplicasText(server));
  }
}

int Server::Run(const config::v1::Bootstrap& bootstrap,
                std::unique_ptr<UpgradeClient> predecessor) {
  bootstrap_ = bootstrap;
  {
    std::string error;
    if (!WatchPools(bootstrap, &error)) {
      PROXY_LOG(log::kError, "%s", error);
      return 1;
    }
  }
  // A binary upgrade: the predecessor's listening sockets, by name (ListenerKey, "stats",
  // "admin"). Those not used here are closed with `predecessor`.
  std::map<std::string, int> inherited;
  if (predecessor != nullptr) {
    for (const InheritedSocket& socket : predecessor->sockets()) {
      const std::string key = socket.key;
      const int fd = predecessor->Take(key);
      if (fd >= 0) inherited[key] = fd;
    }
    PROXY_LOG(log::kNotice, "upgrade: received %zu listening socket%s from pid %d",
              inherited.size(), inherited.size() == 1 ? "" : "s",
              static_cast<int>(predecessor->peer_pid()));
  }
  auto take_inherited = [&inherited](const std::string& key, int port) {
    auto it = inherited.find(key);
    if (it == inherited.end()) return -1;
    const int fd = it->second;
    inherited.erase(it);
    if (BoundPort(fd) == port) return fd;
    close(fd);  // the port changed: bind the new one
    return -1;
  };
  for (const config::v1::Pool& config : bootstrap.pools()) {
    absl::StatusOr<SharedPoolPtr> pool = BuildPool(config);
    if (!pool.ok()) {
      PROXY_LOG(log::kError, "%s", pool.status().message());
      return 1;
    }
    absl::StatusOr<std::shared_ptr<ListenSockets>> listener =
        OpenListener(config, worker_count_, &inherited);
    if (!listener.ok()) {
      PROXY_LOG(log::kError, "%s", listener.status().message());
      return 1;
    }
    (*pool)->listener = *std::move(listener);
    pools_.push_back(*std::move(pool));
  }

  // Workers never see process signals: the main thread takes them with sigtimedwait().
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2}) {
    sigaddset(&signals, s);
  }
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::vector<std::shared_ptr<const SharedPool>> initial(pools_.begin(), pools_.end());
  for (unsigned i = 0; i < worker_count_; ++i) {
    auto worker = std::make_unique<Worker>(static_cast<int>(i), initial, worker_count_);
    absl::Status status = worker->Init();
    if (!status.ok()) {
      PROXY_LOG(log::kError, "%s", status.message());
      return 1;
    }
    workers_.push_back(std::move(worker));
  }
  // The stats port (twemproxy starts it before the pools; a bind failure is fatal either way).
  std::vector<Worker*> worker_ptrs;
  for (auto& worker : workers_) worker_ptrs.push_back(worker.get());
  StatsServer stats(worker_ptrs);
  stats_ = &stats;
  absl::Status stats_status = stats.Start(options_.stats_addr, options_.stats_port,
                                          take_inherited("stats", options_.stats_port));
  if (!stats_status.ok()) {
    PROXY_LOG(log::kError, "%s", stats_status.message());
    return 1;
  }
  AdminServer admin(worker_ptrs, WallMicros());
  admin_ = &admin;
  admin.SetConfigStats(&config_stats_);
  admin.SetReloadHandler([this] { return Reload("POST /reload"); });
  if (options_.admin_port != 0) {
    absl::Status admin_status = admin.Start(options_.admin_addr, options_.admin_port,
                                            take_inherited("admin", options_.admin_port));
    if (!admin_status.ok()) {
      PROXY_LOG(log::kError, "%s", admin_status.message());
      return 1;
    }
  }
  for (const auto& [key, fd] : inherited) close(fd);  // handed over, but not configured here
  inherited.clear();
  for (auto& worker : workers_) worker->Start();
  StartWatchers();
  PROXY_LOG(log::kNotice, "shardproxy serving %d pool%s with %u worker%s", bootstrap.pools_size(),
            bootstrap.pools_size() == 1 ? "" : "s", worker_count_,
            worker_count_ == 1 ? "" : "s");
  for (const SharedPoolPtr& pool : pools_) {
    // max_server_connections below --workers: say which workers take the pool's clients, so
    // that the backend connection count is never a surprise (docs/configuration.md).
    if (pool->listener->serving_workers < worker_count_) {
      PROXY_LOG(log::kNotice,
                "pool %s: %u of the %u workers accept its clients (max_server_connections %u: "
                "at most that many shared connections to each server)",
                pool->config.name(), pool->listener->serving_workers, worker_count_,
                pool->config.max_server_connections());
    }
  }

  bool drain = false;
  bool stop_now = false;
  if (predecessor != nullptr) {
    // Both processes accept on the same sockets now; the predecessor stops accepting, lets go
    // of its pid file and drains.
    const pid_t old_pid = predecessor->peer_pid();
    // Bounded so that a predecessor that hangs cannot keep this one from serving for long.
    constexpr absl::Duration kHandOverTimeout = absl::Seconds(30);
    const absl::Status committed = predecessor->Commit(kHandOverTimeout);
    predecessor.reset();
    if (!committed.ok()) {
      PROXY_LOG(log::kError,
                "upgrade: pid %d did not hand over (%s); draining and exiting, it keeps serving",
                static_cast<int>(old_pid), committed.message());
      drain = true;
      stop_now = true;
    } else {
      PROXY_LOG(log::kNotice, "upgrade: took over from pid %d", static_cast<int>(old_pid));
      if (!options_.pid_file.empty() && !pid_file_.Create(options_.pid_file, old_pid)) {
        PROXY_LOG(log::kError, "upgrade: serving, but without the pid file '%s'",
                  options_.pid_file);
      }
    }
  }
  if (!stop_now && !options_.upgrade_socket.empty()) {
    const absl::Status status = upgrade_.Start(
        options_.upgrade_socket, [this] { return SocketsToHandOver(); }, [this] { HandOver(); });
    if (!status.ok()) {
      PROXY_LOG(log::kError, "upgrade socket: %s (binary upgrades are not possible)",
                status.message());
    }
  }

  while (!stop_now) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGUSR2) {
      // Raised by the process itself: a successor took over, or a discovery watcher reported.
      if (handed_over_) {
        PROXY_LOG(log::kNotice, "upgrade: a successor serves now; draining");
        drain = true;
        break;
      }
      ApplyDiscovered();
      continue;
    }
    if (sig == SIGINT || sig == SIGTERM) {
      PROXY_LOG(log::kNotice, "signal %d (%s) received, exiting", sig,
                sig == SIGINT ? "SIGINT" : "SIGTERM");
      drain = options_.drain_timeout_ms > 0;
      break;
    }
    if (sig == SIGQUIT) {
      PROXY_LOG(log::kNotice, "signal %d (SIGQUIT) received, exiting at once", sig);
      break;
    }
    if (sig == SIGUSR1) {
      PROXY_LOG(log::kNotice, "signal %d (SIGUSR1) received, reloading '%s'", sig,
                options_.conf_file);
      Reload("SIGUSR1");
    } else if (sig == SIGHUP) {
      PROXY_LOG(log::kNotice, "signal %d (SIGHUP) received, reopening log file", sig);
      if (!log::Reopen()) {
        PROXY_LOG(log::kError, "reopening the log file failed: %s", std::strerror(errno));
      }
    } else if (sig == SIGTTIN) {
      log::SetLevel(log::GetLevel() + 1);
      PROXY_LOG(log::kNotice, "signal %d (SIGTTIN) received, up logging level", sig);
      PROXY_LOG(log::kNotice, "up log level to %d", log::GetLevel());
    } else if (sig == SIGTTOU) {
      log::SetLevel(log::GetLevel() - 1);
      PROXY_LOG(log::kNotice, "signal %d (SIGTTOU) received, down logging level", sig);
      PROXY_LOG(log::kNotice, "down log level to %d", log::GetLevel());
    } else {
      PROXY_LOG(log::kNotice, "signal %d (SIGUSR2) received", sig);
    }
  }
  {
    std::lock_guard<std::mutex> lock(reload_mu_);
    stopping_ = true;  // a POST /reload from now on is refused
  }
  for (Watched& watched : watched_) {
    if (watched.watcher != nullptr) watched.watcher->Stop();
    if (watched.topology != nullptr) watched.topology->Stop();
  }
  if (drain) Drain(signals);
  upgrade_.Stop();
  for (auto& worker : workers_) worker->Stop();
  for (auto& worker : workers_) worker->Join();
  stats.Stop();
  admin.Stop();
  workers_.clear();
  pools_.clear();  // closes the listeners (unix socket files are unlinked)
  PROXY_LOG(log::kNotice, "done, rabbit done");
  return stop_now ? 1 : 0;
}

std::vector<InheritedSocket> Server::SocketsToHandOver() {
  std::lock_guard<std::mutex> lock(reload_mu_);  // the pools in force
  std::vector<InheritedSocket> sockets;
  for (const SharedPoolPtr& pool : pools_) {
    for (size_t i = 0; i < pool->listener->fds.size(); ++i) {
      sockets.push_back({ListenerKey(pool->config, i), pool->listener->fds[i]});
    }
  }
  if (stats_->listen_fd() >= 0) sockets.push_back({"stats", stats_->listen_fd()});
  if (admin_->listen_fd() >= 0) sockets.push_back({"admin", admin_->listen_fd()});
  return sockets;
}

void Server::HandOver() {
  {
    std::lock_guard<std::mutex> lock(reload_mu_);
    stopping_ = true;
    // Stop accepting; the sockets stay open in the successor (unix socket files are its now).
    OnEveryWorker(workers_, [](Worker& worker) { worker.BeginDrain(); });
    for (const SharedPoolPtr& pool : pools_) {
      pool->listener->handed_over = true;
      pool->listener->Close();
    }
  }
  // Outside reload_mu_: a POST /reload waiting for it is answered (503) before the admin
  // thread is joined.
  stats_->Stop();
  admin_->Stop();
  pid_file_.Release();
  handed_over_ = true;
  kill(getpid(), SIGUSR2);  // the main thread drains and exits
}

void Server::Drain(const sigset_t& signals) {
  const uint64_t start = MonotonicMicros();
  // Workers stop watching the listeners before they are closed; from the close on, a new
  // connection attempt is refused by the kernel.
  OnEveryWorker(workers_, [](Worker& worker) { worker.BeginDrain(); });
  for (const SharedPoolPtr& pool : pools_) pool->listener->Close();
  auto live = [this] {
    int64_t clients = 0;
    for (const std::unique_ptr<Worker>& worker : workers_) clients += worker->live_clients();
    return clients;
  };
  PROXY_LOG(log::kNotice,
            "draining: not accepting; answering the requests of %lld client%s (at most %u ms)",
            static_cast<long long>(live()), live() == 1 ? "" : "s", options_.drain_timeout_ms);
  const uint64_t deadline = start + uint64_t{options_.drain_timeout_ms} * 1000u;
  while (live() > 0 && MonotonicMicros() < deadline) {
    // A second SIGINT/SIGTERM, or SIGQUIT, ends the wait at once.
    // How often the drain loop looks at its clients and the deadline (a signal ends it early).
    const timespec tick{0, 10 * 1000 * 1000};
    const int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM || sig == SIGQUIT) {
      PROXY_LOG(log::kNotice, "signal %d received while draining, exiting at once", sig);
      break;
    }
  }
  const int64_t left = live();
  if (left == 0) {
    PROXY_LOG(log::kNotice, "drained in %.1f ms", MillisSince(start));
  } else {
    PROXY_LOG(log::kWarn, "drain ended after %.1f ms with %lld client%s still waiting: closed",
              MillisSince(start), static_cast<long long>(left), left == 1 ? "" : "s");
  }
}

std::pair<int, std::string> Server::ReloadFailed(const std::string& text) {
  config_stats_.reloads_failed.fetch_add(1);
  config_stats_.last_reload_ok = false;
  return {409, text};
}

std::pair<int, std::string> Server::Reload(const char* trigger) {
  std::lock_guard<std::mutex> lock(reload_mu_);
  if (stopping_) return {503, "the proxy is shutting down\n"};
  const uint64_t start = MonotonicMicros();
  config_stats_.last_reload_wall_us = WallMicros();
  const uint64_t generation = config_stats_.generation.load();
  config::LoadResult result = config::LoadConfigFile(options_.conf_file);
  if (!result.ok()) {
    for (const config::Diagnostic& error : result.errors) {
      PROXY_LOG(log::kError, "reload: %s", error.ToString());
    }
    PROXY_LOG(log::kError,
              "reload (%s) failed: %zu error%s in '%s'; still serving generation %llu", trigger,
              result.errors.size(), result.errors.size() == 1 ? "" : "s", options_.conf_file,
              static_cast<unsigned long long>(generation));
    return ReloadFailed(absl::StrCat("reload failed: configuration file '", options_.conf_file,
                                     "' is invalid; still serving generation ", generation,
                                     "\n", config::FormatDiagnostics(result.errors)));
  }
  for (const config::Diagnostic& warning : result.warnings) {
    PROXY_LOG(log::kWarn, "reload: %s", warning.ToString());
  }

  {
    std::string error;
    if (!WatchPools(result.bootstrap, &error)) {
      PROXY_LOG(log::kError, "reload (%s) failed: %s", trigger, error);
      return ReloadFailed(absl::StrCat("reload failed: ", error, "\n"));
    }
  }
  // The new pools. A pool listening where a current one listens takes over its sockets (they
  // are never closed, so no connection attempt is refused); with the same protocol it is the
  // same pool, updated in place with its clients. The others bind now: a bind failure fails
  // the whole reload, before anything changed.
  std::vector<SharedPoolPtr> next;
  std::vector<Worker::PoolPlan> plan;
  std::vector<bool> claimed(pools_.size(), false);
  std::vector<int> matched;  // per new pool: the current pool on its listen address, or -1
  for (const config::v1::Pool& config : result.bootstrap.pools()) {
    absl::StatusOr<SharedPoolPtr> pool = BuildPool(config);
    if (!pool.ok()) {
      PROXY_LOG(log::kError, "reload (%s) failed: %s", trigger, pool.status().message());
      return ReloadFailed(absl::StrCat("reload failed: ", pool.status().message(), "\n"));
    }
    int match = -1;
    for (size_t i = 0; i < pools_.size(); ++i) {
      if (!claimed[i] && pools_[i]->config.listen().raw() == config.listen().raw()) {
        match = static_cast<int>(i);
        break;
      }
    }
    int keep = -1;
    if (match >= 0) {
      const SharedPool& current = *pools_[static_cast<size_t>(match)];
      claimed[static_cast<size_t>(match)] = true;
      (*pool)->listener = current.listener;
      if (current.config.reuseport() != config.reuseport()) {
        PROXY_LOG(log::kWarn,
                  "reload: pool %s: a change of reuseport applies at the next restart (the "
                  "listening socket%s kept)",
                  config.name(), current.listener->fds.size() == 1 ? " is" : "s are");
      }
      // The workers that accept the pool's clients are the kept listener's; the new per-worker
      // quota of max_server_connections applies to new server connections now.
      const uint32_t serving = ServingWorkers(worker_count_, config.max_server_connections());
      if (serving != current.listener->serving_workers) {
        PROXY_LOG(log::kWarn,
                  "reload: pool %s: max_server_connections %u means %u of the %u workers accept "
                  "clients; the change applies at the next restart (%u accept%s until then)",
                  config.name(), config.max_server_connections(), serving, worker_count_,
                  current.listener->serving_workers,
                  current.listener->serving_workers == 1 ? "s" : "");
      }
      if (current.config.protocol() == config.protocol()) keep = match;
    } else {
      absl::StatusOr<std::shared_ptr<ListenSockets>> listener =
          OpenListener(config, worker_count_);
      if (!listener.ok()) {
        PROXY_LOG(log::kError, "reload (%s) failed: %s", trigger, listener.status().message());
        return ReloadFailed(absl::StrCat("reload failed: ", listener.status().message(), "\n"));
      }
      (*pool)->listener = *std::move(listener);
    }
    plan.push_back(Worker::PoolPlan{*pool, keep});
    matched.push_back(match);
    next.push_back(*std::move(pool));
  }

  // Every worker switches while readers of the stats wait, so that they never see two
  // generations at once.
  const uint64_t switch_start = MonotonicMicros();
  {
    std::unique_lock<std::shared_mutex> topology(TopologyMutex());
    OnEveryWorker(workers_, [&plan](Worker& worker) { worker.ApplyPlan(plan); });
  }
  const double switch_ms = MillisSince(switch_start);
  // A kept listener with a new backlog: listen() again on a listening socket only changes it.
  for (size_t i = 0; i < next.size(); ++i) {
    if (matched[i] < 0) continue;
    const SharedPool& before = *pools_[static_cast<size_t>(matched[i])];
    if (before.config.backlog() == next[i]->config.backlog()) continue;
    for (int fd : next[i]->listener->fds) listen(fd, static_cast<int>(next[i]->config.backlog()));
  }
  // Pools that are gone stop listening now (their workers no longer watch the sockets).
  for (size_t i = 0; i < pools_.size(); ++i) {
    if (!claimed[i]) pools_[i]->listener->Close();
  }

  // One line per pool that changed (pools paired as the proxy pairs them: by listen address),
  // with the share of the hash space that moved (core/config/diff.h, as `proxyctl diff`).
  std::string summary;
  auto report = [&summary](const config::v1::Pool* before, const config::v1::Pool* after) {
    const config::PoolDiff diff = config::DiffPool(before, after);
    if (diff.kind == config::PoolChange::kUnchanged) return;
    const std::string line = config::SummaryLine(diff);
    PROXY_LOG(log::kNotice, "reload: %s", line);
    absl::StrAppend(&summary, line, "\n");
  };
  for (size_t i = 0; i < next.size(); ++i) {
    report(matched[i] >= 0 ? &pools_[static_cast<size_t>(matched[i])]->config : nullptr,
           &next[i]->config);
  }
  for (size_t i = 0; i < pools_.size(); ++i) {
    if (!claimed[i]) report(&pools_[i]->config, nullptr);
  }
  bootstrap_ = std::move(result.bootstrap);
  pools_ = std::move(next);
  StartWatchers();  // those made for this file
  const uint64_t applied = config_stats_.generation.fetch_add(1) + 1;
  config_stats_.reloads_succeeded.fetch_add(1);
  config_stats_.last_reload_ok = true;
  const double ms = MillisSince(start);
  PROXY_LOG(log::kNotice,
            "reload (%s): generation %llu applied in %.1f ms (%d pool%s; the workers switched "
            "in %.2f ms)",
            trigger, static_cast<unsigned long long>(applied), ms, bootstrap_.pools_size(),
            bootstrap_.pools_size() == 1 ? "" : "s", switch_ms);
  return {200, absl::StrCat(absl::StrFormat("reloaded: generation %llu applied in %.1f ms (the "
                                            "workers switched in %.2f ms)\n",
                                            static_cast<unsigned long long>(applied), ms,
                                            switch_ms),
                            summary.empty() ? "no pool changed\n" : summary)};
}

}  // namespace

int RunServer(const Options& options, const config::v1::Bootstrap& bootstrap, PidFile& pid_file,
              std::unique_ptr<UpgradeClient> predecessor) {
  signal(SIGPIPE, SIG_IGN);
  // Connection buffers come and go with every request; glibc would hand freed heap tops back
  // to the kernel at 128 KiB and fault them in again on the next request (a page fault every
  // few requests, measured). Keep up to 64 MiB of free heap; more is still returned, so memory
  // still shrinks after a burst.
  constexpr int kTrimThresholdBytes = 64 << 20;
  constexpr int kTopPadBytes = 1 << 20;  // each heap growth asks for 1 MiB more than needed
  mallopt(M_TRIM_THRESHOLD, kTrimThresholdBytes);
  mallopt(M_TOP_PAD, kTopPadBytes);
  // What the threshold keeps after a burst of connections closes is returned by this instead
  // (memory_release.h): a trim after a real drop in client connections, never per request.
  MemoryReleaser memory_releaser([] {
    const int64_t peak = ClientConnection::TakePeakCount();
    return ClientCounts{ClientConnection::LiveCount(), peak};
  });
  Server server(options, pid_file);
  return server.Run(bootstrap, std::move(predecessor));
}

}  // namespace proxy

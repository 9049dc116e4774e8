// One event-loop thread: its listeners, client connections, server connections and stats
// shard. Workers share nothing mutable on the hot path.
#pragma once

#include <event2/dns.h>
#include <event2/event.h>
#include <sys/socket.h>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "api/filter.h"
#include "api/placement.h"
#include "core/proxy/pending_request.h"
#include "core/proxy/shared_pool.h"
#include "core/proxy/stats.h"

namespace proxy {

class ClientConnection;
class HealthProbe;
class ServerConnection;
class Worker;

// A backend address. Numeric hosts and unix paths are resolved once; host names are looked up
// asynchronously (evdns) on every new connection, like twemproxy's per-connect resolution.
struct ServerAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
  bool resolved = false;
  bool is_unix = false;
  std::string host;  // set when `host` is a name to look up
  std::string port;
};

// One backend server as seen by one worker: its connections, failures and ejection state.
// Connection classes a pool's codec may have (api/codec.h Codec::Variant): 0 = the pool's
// protocol as configured, 1 = redis RESP3 / memcache binary.
inline constexpr uint8_t kMaxVariants = 2;

struct ServerState {
  uint32_t index = 0;  // into the pool config's servers (meaningless once retired)
  ServerAddress address;
  std::string name;  // node name (explicit name, else host:port), for messages
  std::string raw;   // the server line as configured, for log lines
  std::string where;  // host:port or the unix socket path, for the admin endpoint
  // Address and connection setup (the codec's handshake): a reload keeps a server state, with
  // its connections, ejection state and counters, when the new config has one that is equal.
  std::string identity;
  // Removed from the pool by a reload: no new request goes to it; its connections close once
  // idle and it is freed when none is left.
  bool retired = false;
  // Shared connections (up to the worker's quota per variant: server_connections, or its share
  // of max_server_connections; PoolRuntime::connection_quota), picked round robin.
  std::vector<ServerConnection*> connections[kMaxVariants];
  uint32_t next_connection[kMaxVariants] = {};
  // Dedicated connections for pinned clients (transactions): the free ones, and how many
  // exist (free or pinned), bounded by ProxyLimits::max_pinned_connections per variant.
  std::vector<ServerConnection*> free_dedicated[kMaxVariants];
  uint32_t dedicated_count[kMaxVariants] = {};
  // Every dedicated connection, free or pinned (to fail them all when the server moves).
  std::vector<ServerConnection*> dedicated[kMaxVariants];
  // Written by the owning worker only; read by the admin endpoint.
  Shared<uint32_t> failures;  // consecutive
  Shared<bool> ejected;
  Shared<uint64_t> retry_at_us;  // monotonic
  ServerStats stats;
  // Active health checks (health_check_interval): the probe, consecutive failed checks, and
  // whether the server counts as down (then, with auto_eject_hosts, it is ejected until a check
  // passes; the retry timer alone never brings it back).
  std::unique_ptr<HealthProbe> probe;
  uint32_t check_failures = 0;
  Shared<bool> health_down;
  Shared<bool> checked;  // at least one check has completed
  StatValue checks_passed;
  StatValue checks_failed;
  // Replica reads (`replicas:` / Sentinel, `read_from:`; docs/high-availability.md). A replica
  // is a ServerState of its own, of the server `index` (its master), owned by the pool
  // (PoolRuntime::replicas_) and never in the placement; it gets read-only requests while
  // `in_sync`: its last check (Codec::ReplicaCheckRequest) passed and no request to it has
  // failed since. A server lists its replicas in config order and turns over them (and itself,
  // with read_from: any) round robin.
  bool replica = false;
  Shared<bool> in_sync;
  std::vector<ServerState*> replicas;
  uint32_t next_replica = 0;

  ServerState();
  ~ServerState();

  bool HasConnections() const {
    for (uint8_t v = 0; v < kMaxVariants; ++v) {
      if (!connections[v].empty() || dedicated_count[v] > 0) return true;
    }
    return false;
  }
};

// Held shared by readers of the workers' pools and servers from other threads (the stats and
// admin endpoints), exclusively by a reload while the workers switch to a new configuration:
// readers then always see every worker on the same generation, with the same pool and server
// positions. The workers' event loops never take it.
std::shared_mutex& TopologyMutex();

// A pool inside one worker: implements the filters' PoolView.
class PoolRuntime : public PoolView {
 public:
  PoolRuntime(Worker& worker, std::shared_ptr<const SharedPool> shared);
  ~PoolRuntime() override;

  // Starts accepting on the pool's listening socket (SharedPool::listener: one shared by every
  // serving worker, or this worker's own with `reuseport: true`); a worker that does not serve
  // the pool (max_server_connections) does not watch it.
  void Listen();
  // Stops accepting (the socket itself is closed by its owner, ListenSockets).
  void StopAccepting();
  // Opens one connection per server (twemproxy's preconnect); none in a worker that does not
  // serve the pool.
  void Preconnect();
  // Whether this worker accepts the pool's clients: its id is below the listener's
  // serving_workers (every worker unless max_server_connections is set).
  bool serving() const { return serving_; }
  // The shared connections this worker may open to each server of the pool, per connection
  // class (core/proxy/connection_budget.h); 0 when it does not serve the pool.
  uint32_t connection_quota() const { return connection_quota_; }

  absl::string_view Name() const override { return shared_->config.name(); }
  const config::v1::Pool& Config() const override { return shared_->config; }
  const Codec& PoolCodec() const override { return *shared_->codec; }
  uint32_t ServerForHashKey(absl::string_view hash_key) const override {
    return placement_->ServerForHashKey(hash_key);
  }
  uint32_t ShardForHashKey(absl::string_view hash_key) const override {
    return placement_->ShardForHashKey(hash_key);
  }
  uint32_t ServerOfShard(uint32_t shard) const override {
    return placement_->ServerOfShard(shard);
  }

  // auto_eject_drop: an ejected server keeps its keys (they fail) instead of passing them on.
  bool DropsEjectedKeys() const { return drop_ejected_; }
  // Requests for `server`'s keys fail now (auto_eject_drop and it is ejected).
  bool DropsKeysOf(uint32_t server) const {
    return drop_ejected_ && server < servers_.size() && servers_[server]->ejected;
  }
  // An active health check of `server` completed (HealthProbe); for a replica, its check.
  void OnHealthCheck(ServerState& server, bool ok, absl::string_view why);

  // Redis Cluster: requests keep their bytes to follow redirections (Codec::FollowsRedirects,
  // cached: asked on every forwarded request).
  bool FollowsRedirects() const { return follows_redirects_; }
  // Replica reads: true when the pool's read_from: sends read-only requests to replicas.
  bool ReadsFromReplicas() const { return read_from_ != config::v1::READ_FROM_MASTER; }
  // Where a read-only request for server `index`'s keys goes, by read_from: the server itself
  // or one of its replicas in sync (round robin); nullptr when it must fail (read_from:
  // replica, or `master_ok` false, and no replica is in sync). `master_ok`: the server itself
  // may serve it (false while auto_eject_drop fails its keys: its replicas still have them).
  ServerState* ReadTarget(uint32_t index, bool master_ok);
  // A replica failed a request or its connection: no reads until a check passes.
  void ReplicaFailed(ServerState& replica, absl::string_view why);
  // Redis Cluster: the server at host:port a redirection names (a server of the pool, or one
  // the slot map does not list yet, made on demand and kept until the next map; at most
  // kMaxRedirectTargets); nullptr when none can be made.
  ServerState* RedirectTarget(const std::string& host, uint32_t port);

  // Re-adds ejected servers whose retry time has passed (called before routing).
  void RestoreEjected(uint64_t now_us) {
    if (ejected_count_ > 0 && now_us >= next_retry_us_) DoRestoreEjected(now_us);
  }
  // True while every server is ejected: requests fail with "Connection refused".
  bool AllEjected() const { return all_ejected_; }
  bool AllEjectedShared() const { return all_ejected_shared_; }

  // A connection to server `index` for one more request (opening one if fewer than the
  // worker's quota exist); nullptr when it cannot be created (errno set).
  ServerConnection* PickConnection(uint32_t index, uint8_t variant = 0) {
    return PickConnection(*servers_[index], variant);
  }
  // The same for any server state of the pool (a replica).
  ServerConnection* PickConnection(ServerState& server, uint8_t variant);
  // A dedicated connection to server `index` for a pinned client: a free one, or a new one
  // while fewer than ProxyLimits::max_pinned_connections exist; nullptr otherwise (errno set:
  // EBUSY when the bound is reached).
  ServerConnection* AcquireDedicated(uint32_t index, uint8_t variant);
  // A pinned client is done with `connection` (already reset if it had to be): free again.
  void ReleaseDedicated(ServerConnection* connection);
  void RecordServerFailure(ServerState& server);
  void RecordServerSuccess(ServerState& server) { server.failures = 0; }
  void ConnectionClosed(ServerConnection* connection);

  // Client connections: the pool owns the open ones (see live_clients_). ClientOpened takes a
  // new one; ClientClosed gives a closing one back, for Worker::DeferDelete.
  ClientConnection* ClientOpened(std::unique_ptr<ClientConnection> client);
  std::unique_ptr<ClientConnection> ClientClosed(ClientConnection* client, bool eof);

  // Live reconfiguration (a reload; docs/live-changes.md), on the worker's thread.
  // The same pool (same listen address and protocol) under a new config: servers that stay
  // (same ServerState::identity) keep their state, connections and counters; removed ones are
  // retired; the placement and filter factories are rebuilt, and every client switches to the
  // new filter chain at its next request (generation()).
  // `moved`: the servers that leave moved elsewhere (a Sentinel failover): what was sent to them
  // fails now instead of being awaited.
  void Update(std::shared_ptr<const SharedPool> next, bool moved = false);
  // The pool is gone from the config (or now listens elsewhere): stop accepting; clients get
  // the replies to what they sent, then are closed. Freed by the worker once no client is left.
  void Retire();
  // Graceful shutdown: stop accepting, close idle clients, the others after their replies.
  void Drain();
  bool retired() const { return retired_; }
  size_t live_clients() const { return live_clients_.size(); }
  // Bumped by Update(): clients compare it to rebuild their filter chain.
  uint64_t generation() const { return generation_; }
  // Frees retired servers that have no connection left.
  void CollectRetiredServers();

  Worker& worker() { return worker_; }
  const SharedPool& shared() const { return *shared_; }
  PoolStats& stats() { return stats_; }
  ServerState& server(uint32_t index) { return *servers_[index]; }
  size_t server_count() const { return servers_.size(); }
  // Server `index`'s replicas, in the order of the config's `replicas:` (the same in every
  // worker for one config).
  const std::vector<ServerState*>& replicas_of(uint32_t index) const {
    return servers_[index]->replicas;
  }
  ScopeImpl& scope() { return scope_; }
  const std::vector<FilterFactoryFn>& filter_factories() const { return filter_factories_; }
  // The chain every client of this pool on this worker uses when no filter of it keeps client
  // state (FilterFactory::KeepsClientState); null when each client makes its own. Rebuilt with
  // the filters (start, reload).
  const std::shared_ptr<const FilterChain>& shared_chain() const { return shared_chain_; }
  absl::Status BuildFilters();

 private:
  static void OnAccept(evutil_socket_t fd, short what, void* arg);
  static void OnAcceptResume(evutil_socket_t fd, short what, void* arg);
  void Accept();
  // Out of descriptors (or memory): stop accepting for a backoff that doubles up to 1 s.
  void PauseAccepting(int error);
  void DoRestoreEjected(uint64_t now_us);
  void RebuildPlacement();
  // serving_, connection_quota_ and pick_limit_ from the config and the listener.
  void ComputeConnectionQuota();
  // Takes `server` out of the distribution (or, with auto_eject_drop, marks its keys failing).
  void Eject(ServerState& server, uint64_t retry_at_us);
  // Health checks: (re)arms the interval timer and gives every server a probe, or removes them
  // when the pool has no health_check_interval.
  void SetUpHealthChecks();
  static void OnHealthTimer(evutil_socket_t fd, short what, void* arg);
  std::unique_ptr<ServerState> NewServerState(uint32_t index) const;
  // Every server's replicas from the config's `replicas:` (Sentinel's, once discovered): the
  // states in `old` with the same identity are kept (connections, counters, sync state), the
  // others are made; what is left of `old` is retired (its reads in flight are answered).
  void BuildReplicas(std::vector<std::unique_ptr<ServerState>> old);
  void RetireServer(std::unique_ptr<ServerState> server, bool moved);

  Worker& worker_;
  std::shared_ptr<const SharedPool> shared_;
  std::vector<std::unique_ptr<ServerState>> servers_;
  std::vector<std::unique_ptr<ServerState>> retired_servers_;
  std::vector<std::unique_ptr<ServerState>> replicas_;  // every server's, in config order
  std::vector<std::unique_ptr<ServerState>> redirect_targets_;  // RedirectTarget's
  config::v1::ReadFrom read_from_ = config::v1::READ_FROM_MASTER;  // the config's, cached
  bool follows_redirects_ = false;  // the codec's, cached
  // The connection budget (ComputeConnectionQuota), computed when the pool is built or updated.
  // pick_limit_ is what PickConnection compares with: the quota, at least 1 (a worker that does
  // not serve has no client, so never picks; it must not divide by zero if it did).
  bool serving_ = true;
  uint32_t connection_quota_ = 1;
  uint32_t pick_limit_ = 1;
  uint64_t generation_ = 0;
  bool retired_ = false;
  bool drop_ejected_ = false;  // auto_eject_drop with auto_eject_hosts (the config's, cached)
  // SharedPool::placement while every server is live; a ring of its own while some are ejected.
  std::shared_ptr<const KeyPlacement> placement_;
  uint32_t ejected_count_ = 0;
  uint64_t next_retry_us_ = 0;
  bool all_ejected_ = false;
  Shared<bool> all_ejected_shared_;  // the same, for the admin thread
  int listen_fd_ = -1;
  event* accept_event_ = nullptr;
  event* accept_timer_ = nullptr;  // made on the first EMFILE
  event* health_timer_ = nullptr;  // with health_check_interval
  uint32_t accept_backoff_ms_ = 0;  // 0 = accepting normally
  uint64_t accept_refused_logged_ = 0;  // accept_refused when last logged
  uint64_t clients_ = 0;
  // The open client connections, owned here. Ownership rule: a client that closes
  // (ClientConnection::Close) hands itself to the worker, which deletes it after the current
  // callback (Worker::DeferDelete: its own callbacks, or a server's delivering a reply, may
  // still be on the stack). The pool's destructor closes the clients still open and frees them
  // (a pool is never destroyed from inside a client's callback).
  // A set of owned raw pointers rather than a map to unique_ptrs: 8-byte slots, about 14 bytes
  // per client instead of 28 at 10,000 clients (issue 15's memory per connection).
  absl::flat_hash_set<ClientConnection*> live_clients_;
  PoolStats stats_;
  ScopeImpl scope_;
  std::vector<FilterFactoryFn> filter_factories_;
  std::shared_ptr<const FilterChain> shared_chain_;
};

class Worker {
 public:
  // `workers`: how many workers the process runs (for INFO's proxy_workers).
  Worker(int id, std::vector<std::shared_ptr<const SharedPool>> pools, uint32_t workers = 1);
  ~Worker();

  // Builds the pools' runtime state and starts accepting on their listeners (made by the
  // caller: SharedPool::listener); fails when a filter cannot be built.
  absl::Status Init();
  void Start();          // runs the loop on a new thread
  void Stop();           // thread-safe: ends the loop
  void Join();
  // Thread-safe: runs `task` on the worker's loop (soon; in posting order).
  void Post(std::function<void()> task);

  // A reload, on the worker's thread: the new pools in order, each either an existing pool
  // (index into pools()) updated in place, or new (-1: created, accepting). Pools not named
  // are retired. The caller holds TopologyMutex() exclusively.
  struct PoolPlan {
    std::shared_ptr<const SharedPool> pool;
    int keep = -1;
  };
  void ApplyPlan(const std::vector<PoolPlan>& plan);
  // Graceful shutdown, on the worker's thread: every pool drains (PoolRuntime::Drain).
  void BeginDrain();
  // One pool under a new config whose only change is where servers are (discovery): see
  // PoolRuntime::Update's `moved`. The caller holds TopologyMutex() exclusively.
  void MovePoolServers(size_t index, std::shared_ptr<const SharedPool> next, bool moved);
  // Client connections open on this worker, retired pools included (any thread).
  int64_t live_clients() const { return live_clients_.load(std::memory_order_relaxed); }
  void ClientCountChanged(int delta) { live_clients_.fetch_add(delta, std::memory_order_relaxed); }

  event_base* base() { return base_; }
  // The worker's asynchronous resolver, created on first use.
  evdns_base* dns();
  int id() const { return id_; }
  uint32_t workers() const { return workers_; }
  uint64_t now_us() const { return now_us_; }
  void UpdateClock();

  // Request objects are recycled per worker (see PendingRequest for their lifetime).
  RequestPool& requests() { return requests_; }
  // Scratch text for a client's decode error or local reply, used and copied within one
  // ProcessInput step (never held across events): one string per worker instead of one per
  // client connection.
  std::string& client_scratch() { return client_scratch_; }
  // Request decoders at rest (RequestDecoder::AtRest) that idle clients gave back, for the next
  // client of the same codec with bytes to decode: a read burst costs no allocation. Each
  // entry keeps its codec alive (a decoder may point into it); a reload drops them all.
  RequestDecoderPtr TakeIdleDecoder(const Codec* codec);
  void KeepIdleDecoder(const std::shared_ptr<const Codec>& owner, const Codec* codec,
                       RequestDecoderPtr decoder);

  // Queues a connection's Flush() for the end of the current batch of events, so that the
  // writes of every request decoded in this batch go out together (one event for all).
  void ScheduleFlush(ClientConnection* connection) {
    flush_clients_.push_back(connection);
    ActivateFlush();
  }
  void ScheduleFlush(ServerConnection* connection) {
    flush_servers_.push_back(connection);
    ActivateFlush();
  }

  // Deletes connections after the current callback returns: a connection closes from inside
  // its own callbacks (or another connection's), which must not find it freed when they return.
  void DeferDelete(std::unique_ptr<ClientConnection> connection);
  void DeferDelete(ServerConnection* connection);
  // Frees the closed client connections now (never from inside a connection's callback).
  void FreeClosedClients();

  std::vector<std::unique_ptr<PoolRuntime>>& pools() { return pools_; }

  // Slow-log rate limit: at most 10 lines per second per worker.
  bool AllowSlowLog() {
    const uint64_t second = now_us_ / 1000000u;
    if (second != slowlog_second_) {
      slowlog_second_ = second;
      slowlog_lines_ = 0;
    }
    return ++slowlog_lines_ <= 10;
  }

  // Refusal log lines (-v 6): at most 10 per second per worker.
  bool AllowRefusalLog() {
    const uint64_t second = now_us_ / 1000000u;
    if (second != refusal_log_second_) {
      refusal_log_second_ = second;
      refusal_log_lines_ = 0;
    }
    return ++refusal_log_lines_ <= 10;
  }

  // twemproxy's connection counters (listeners, clients and server connections).
  void ConnectionOpened() {
    total_connections_.Add(1);
    curr_connections_.Add(1);
  }
  void ConnectionClosed() { curr_connections_.Add(-1); }
  int64_t total_connections() const { return total_connections_.Get(); }
  int64_t curr_connections() const { return curr_connections_.Get(); }

 private:
  static void OnGarbage(evutil_socket_t, short, void* arg);
  static void OnTasks(evutil_socket_t, short, void* arg);
  // Frees retired pools whose last client has gone, and retired servers without connections.
  void CollectRetired();
  static void OnFlushAll(evutil_socket_t, short, void* arg);
  void ActivateFlush() {
    if (!flush_active_) {
      flush_active_ = true;
      event_active(flush_event_, EV_WRITE, 1);
    }
  }
  void FlushAll();

  int id_;
  uint32_t workers_ = 1;
  std::vector<std::shared_ptr<const SharedPool>> shared_pools_;
  event_base* base_ = nullptr;
  evdns_base* dns_ = nullptr;
  // Declared before the pools and connections: destroyed after them (they release requests).
  RequestPool requests_;
  std::string client_scratch_;
  struct IdleDecoder {
    std::shared_ptr<const Codec> owner;
    const Codec* codec;
    RequestDecoderPtr decoder;
  };
  std::vector<IdleDecoder> idle_decoders_;
  std::vector<std::unique_ptr<PoolRuntime>> pools_;
  std::vector<std::unique_ptr<PoolRuntime>> retired_pools_;
  std::atomic<int64_t> live_clients_{0};
  std::mutex tasks_mu_;
  std::vector<std::function<void()>> tasks_;
  int tasks_fd_ = -1;
  event* tasks_event_ = nullptr;
  std::thread thread_;
  uint64_t now_us_ = 0;
  std::vector<std::unique_ptr<ClientConnection>> dead_clients_;
  std::vector<ServerConnection*> dead_servers_;
  event* garbage_event_ = nullptr;
  event* flush_event_ = nullptr;
  bool flush_active_ = false;
  std::vector<ServerConnection*> flush_servers_;
  std::vector<ClientConnection*> flush_clients_;
  event* stop_event_ = nullptr;
  int stop_fd_ = -1;
  uint64_t slowlog_second_ = 0;
  uint32_t slowlog_lines_ = 0;
  uint64_t refusal_log_second_ = 0;
  uint32_t refusal_log_lines_ = 0;
  StatValue total_connections_;
  StatValue curr_connections_;
};

}  // namespace proxy

// One event-loop thread: its listeners, client connections, server connections and stats
// shard. Workers share nothing mutable on the hot path.
#pragma once

#include <event2/dns.h>
#include <event2/event.h>
#include <sys/socket.h>

#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "api/filter.h"
#include "api/placement.h"
#include "core/proxy/pending_request.h"
#include "core/proxy/shared_pool.h"
#include "core/proxy/stats.h"

namespace proxy {

class ClientConnection;
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
  uint32_t index = 0;  // into the pool config's servers
  ServerAddress address;
  // Shared connections (up to server_connections per variant), picked round robin.
  std::vector<ServerConnection*> connections[kMaxVariants];
  uint32_t next_connection[kMaxVariants] = {};
  // Dedicated connections for pinned clients (transactions): the free ones, and how many
  // exist (free or pinned), bounded by ProxyLimits::max_pinned_connections per variant.
  std::vector<ServerConnection*> free_dedicated[kMaxVariants];
  uint32_t dedicated_count[kMaxVariants] = {};
  // Written by the owning worker only; read by the admin endpoint.
  Shared<uint32_t> failures;  // consecutive
  Shared<bool> ejected;
  Shared<uint64_t> retry_at_us;  // monotonic
  ServerStats stats;
};

// A pool inside one worker: implements the filters' PoolView.
class PoolRuntime : public PoolView {
 public:
  PoolRuntime(Worker& worker, const SharedPool& shared);
  ~PoolRuntime() override;

  // Listener: with `reuseport: true` one SO_REUSEPORT socket per worker (the kernel spreads
  // clients); otherwise one socket shared by every worker (a second instance on the same
  // address then fails to bind). Unix sockets: the fd made by the server, shared.
  absl::Status Listen(int shared_unix_fd);
  // Opens one connection per server (twemproxy's preconnect).
  void Preconnect();

  absl::string_view Name() const override { return shared_.config.name(); }
  const config::v1::Pool& Config() const override { return shared_.config; }
  const Codec& PoolCodec() const override { return *shared_.codec; }
  uint32_t ServerForHashKey(absl::string_view hash_key) const override {
    return placement_->ServerForHashKey(hash_key);
  }

  // Re-adds ejected servers whose retry time has passed (called before routing).
  void RestoreEjected(uint64_t now_us) {
    if (ejected_count_ > 0 && now_us >= next_retry_us_) DoRestoreEjected(now_us);
  }
  // True while every server is ejected: requests fail with "Connection refused".
  bool AllEjected() const { return all_ejected_; }
  bool AllEjectedShared() const { return all_ejected_shared_; }

  // A connection to server `index` for one more request (opening one if fewer than
  // server_connections exist); nullptr when it cannot be created (errno set).
  ServerConnection* PickConnection(uint32_t index, uint8_t variant = 0);
  // A dedicated connection to server `index` for a pinned client: a free one, or a new one
  // while fewer than ProxyLimits::max_pinned_connections exist; nullptr otherwise (errno set:
  // EBUSY when the bound is reached).
  ServerConnection* AcquireDedicated(uint32_t index, uint8_t variant);
  // A pinned client is done with `connection` (already reset if it had to be): free again.
  void ReleaseDedicated(ServerConnection* connection);
  void RecordServerFailure(uint32_t index);
  void RecordServerSuccess(uint32_t index) { servers_[index]->failures = 0; }
  void ConnectionClosed(ServerConnection* connection);

  void ClientOpened(ClientConnection* client) {
    stats_.client_connections.Add(1);
    ++clients_;
    live_clients_.insert(client);
  }
  void ClientClosed(ClientConnection* client, bool eof);

  Worker& worker() { return worker_; }
  const SharedPool& shared() const { return shared_; }
  PoolStats& stats() { return stats_; }
  ServerState& server(uint32_t index) { return *servers_[index]; }
  size_t server_count() const { return servers_.size(); }
  ScopeImpl& scope() { return scope_; }
  const std::vector<FilterFactoryFn>& filter_factories() const { return filter_factories_; }
  absl::Status BuildFilters();

 private:
  static void OnAccept(evutil_socket_t fd, short what, void* arg);
  static void OnAcceptResume(evutil_socket_t fd, short what, void* arg);
  void Accept();
  // Out of descriptors (or memory): stop accepting for a backoff that doubles up to 1 s.
  void PauseAccepting(int error);
  absl::Status OpenTcpListener(bool reuseport, int* fd);
  void DoRestoreEjected(uint64_t now_us);
  void RebuildPlacement();

  Worker& worker_;
  const SharedPool& shared_;
  std::vector<std::unique_ptr<ServerState>> servers_;
  KeyPlacementPtr placement_;
  uint32_t ejected_count_ = 0;
  uint64_t next_retry_us_ = 0;
  bool all_ejected_ = false;
  Shared<bool> all_ejected_shared_;  // the same, for the admin thread
  int listen_fd_ = -1;
  bool owns_listen_fd_ = false;
  event* accept_event_ = nullptr;
  event* accept_timer_ = nullptr;  // made on the first EMFILE
  uint32_t accept_backoff_ms_ = 0;  // 0 = accepting normally
  uint64_t accept_refused_logged_ = 0;  // accept_refused when last logged
  uint64_t clients_ = 0;
  // Open client connections, closed (and so freed) when the pool is destroyed at shutdown.
  absl::flat_hash_set<ClientConnection*> live_clients_;
  PoolStats stats_;
  ScopeImpl scope_;
  std::vector<FilterFactoryFn> filter_factories_;
};

class Worker {
 public:
  Worker(int id, const std::vector<SharedPool*>& pools);
  ~Worker();

  // Builds the pools' runtime state and listeners; fails on bind errors.
  absl::Status Init(const std::vector<int>& shared_unix_fds);
  void Start();          // runs the loop on a new thread
  void Stop();           // thread-safe: ends the loop
  void Join();

  event_base* base() { return base_; }
  // The worker's asynchronous resolver, created on first use.
  evdns_base* dns();
  int id() const { return id_; }
  uint64_t now_us() const { return now_us_; }
  void UpdateClock();

  // Request objects are recycled per worker.
  PendingRequest* AllocRequest();
  void Release(PendingRequest* request);

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

  // Deletes connections after the current callback returns.
  void DeferDelete(ClientConnection* connection);
  void DeferDelete(ServerConnection* connection);

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
  static void OnFlushAll(evutil_socket_t, short, void* arg);
  void ActivateFlush() {
    if (!flush_active_) {
      flush_active_ = true;
      event_active(flush_event_, EV_WRITE, 1);
    }
  }
  void FlushAll();

  int id_;
  std::vector<SharedPool*> shared_pools_;
  event_base* base_ = nullptr;
  evdns_base* dns_ = nullptr;
  std::vector<std::unique_ptr<PoolRuntime>> pools_;
  std::thread thread_;
  uint64_t now_us_ = 0;
  std::vector<std::unique_ptr<PendingRequest>> free_requests_;
  std::vector<ClientConnection*> dead_clients_;
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

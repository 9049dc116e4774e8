// Worker and PoolRuntime: per-thread pool state, listeners, server selection and ejection.
#include "core/proxy/worker.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/common/log.h"
#include "core/config/values.h"
#include "core/net/accept_failures.h"
#include "core/proxy/client_connection.h"
#include "core/proxy/clock.h"
#include "core/proxy/connection_budget.h"
#include "core/proxy/health_check.h"
#include "core/proxy/server_connection.h"
#include "core/proxy/tuning.h"

namespace proxy {
namespace {

// Numeric hosts and unix paths resolve without a lookup; names are looked up (once, at
// startup, like twemproxy's first connect; a failed lookup gives "Host is down").
ServerAddress ResolveServer(const config::v1::Server& server) {
  ServerAddress out;
  if (!server.unix_path().empty()) {
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::strncpy(un.sun_path, server.unix_path().c_str(), sizeof(un.sun_path) - 1);
    std::memcpy(&out.addr, &un, sizeof(un));
    out.len = sizeof(un);
    out.is_unix = true;
    out.resolved = true;
    return out;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;  // never blocks
  addrinfo* result = nullptr;
  const std::string port = std::to_string(server.tcp().port());
  if (getaddrinfo(server.tcp().host().c_str(), port.c_str(), &hints, &result) == 0 &&
      result != nullptr) {
    std::memcpy(&out.addr, result->ai_addr, result->ai_addrlen);
    out.len = result->ai_addrlen;
    out.resolved = true;
  } else {
    out.host = server.tcp().host();  // a name: looked up when connecting
    out.port = port;
  }
  if (result != nullptr) freeaddrinfo(result);
  return out;
}

// What makes two configs' servers the same server for a reload: the address and everything
// the codec sends when it opens a connection (AUTH/SELECT/...).
std::string Where(const config::v1::Server& server) {
  return server.unix_path().empty() ? absl::StrCat(server.tcp().host(), ":", server.tcp().port())
                                    : server.unix_path();
}

// A replica's identity is marked as one: a server that becomes a replica (or the reverse)
// is a new state, with connections checked for its new role. `master`: a replica's master's
// node name (a replica authenticates like its master).
std::string ServerIdentity(const SharedPool& shared, const config::v1::Server& server,
                           bool replica = false, const std::string& master = "") {
  std::string identity = Where(server);
  if (replica) identity.insert(0, "replica ");
  for (const std::string& request :
       shared.codec->ServerHandshakeFor(replica ? master : server.node_name())) {
    absl::StrAppend(&identity, "\n", request);
  }
  if (replica) {
    for (const std::string& request : shared.codec->ReplicaHandshake()) {
      absl::StrAppend(&identity, "\n", request);
    }
  }
  // Connections made with other TLS settings (or without TLS) are not kept (docs/tls.md).
  if (shared.config.server_tls().enabled()) {
    absl::StrAppend(&identity, "\ntls ", shared.config.server_tls().SerializeAsString());
  }
  return identity;
}

std::string ServerIdentity(const SharedPool& shared, int index) {
  return ServerIdentity(shared, shared.config.servers(index));
}

}  // namespace

ServerState::ServerState() = default;
ServerState::~ServerState() = default;

std::shared_mutex& TopologyMutex() {
  static auto* mutex = new std::shared_mutex();
  return *mutex;
}

// ---------------------------------------------------------------------------------------------
// PoolRuntime

PoolRuntime::PoolRuntime(Worker& worker, std::shared_ptr<const SharedPool> shared)
    : worker_(worker), shared_(std::move(shared)) {
  drop_ejected_ = shared_->config.auto_eject_drop() && shared_->config.auto_eject_hosts();
  read_from_ = shared_->config.read_from();
  follows_redirects_ = shared_->codec->FollowsRedirects();
  ComputeConnectionQuota();
  for (int i = 0; i < shared_->config.servers_size(); ++i) {
    servers_.push_back(NewServerState(static_cast<uint32_t>(i)));
  }
  BuildReplicas({});
  RebuildPlacement();
  SetUpHealthChecks();
}

void PoolRuntime::ComputeConnectionQuota() {
  const config::v1::Pool& config = shared_->config;
  // The serving workers are the listener's (fixed when it was opened, kept by a reload); a pool
  // built without one (tests) computes them from the config.
  const uint32_t serving_workers =
      shared_->listener != nullptr
          ? shared_->listener->serving_workers
          : ServingWorkers(worker_.workers(), config.max_server_connections());
  const auto id = static_cast<uint32_t>(worker_.id());
  serving_ = id < serving_workers;
  connection_quota_ = WorkerConnectionQuota(id, serving_workers, config.server_connections(),
                                            config.max_server_connections());
  pick_limit_ = std::max<uint32_t>(1, connection_quota_);
}

std::unique_ptr<ServerState> PoolRuntime::NewServerState(uint32_t index) const {
  auto server = std::make_unique<ServerState>();
  const config::v1::Server& config = shared_->config.servers(static_cast<int>(index));
  server->index = index;
  server->address = ResolveServer(config);
  server->name = config.node_name();
  server->raw = config.raw();
  server->where = Where(config);
  server->identity = ServerIdentity(*shared_, static_cast<int>(index));
  return server;
}

void PoolRuntime::BuildReplicas(std::vector<std::unique_ptr<ServerState>> old) {
  for (std::unique_ptr<ServerState>& server : servers_) server->replicas.clear();
  std::vector<std::unique_ptr<ServerState>> next;
  for (const config::v1::ReplicaSet& set : shared_->config.replicas()) {
    uint32_t master = 0;
    while (master < servers_.size() && servers_[master]->name != set.server()) ++master;
    if (master == servers_.size()) continue;  // not a server of the pool (refused by check)
    for (const config::v1::Server& config : set.replicas()) {
      const std::string identity =
          ServerIdentity(*shared_, config, /*replica=*/true, set.server());
      std::unique_ptr<ServerState> state;
      for (std::unique_ptr<ServerState>& candidate : old) {
        if (candidate != nullptr && candidate->identity == identity) {
          state = std::move(candidate);
          break;
        }
      }
      if (state == nullptr) {
        state = std::make_unique<ServerState>();
        state->address = ResolveServer(config);
        state->where = Where(config);
        state->identity = identity;
        state->replica = true;
      }
      state->index = master;
      state->name = config.node_name();
      state->raw = absl::StrCat(config.raw(), " (replica of ", set.server(), ")");
      servers_[master]->replicas.push_back(state.get());
      next.push_back(std::move(state));
    }
  }
  for (std::unique_ptr<ServerState>& replica : old) {
    // Gone from the config (or from Sentinel's healthy replicas): reads already sent to it are
    // answered; it gets no new one.
    if (replica != nullptr) RetireServer(std::move(replica), /*moved=*/false);
  }
  replicas_ = std::move(next);
}

PoolRuntime::~PoolRuntime() {
  if (accept_event_ != nullptr) event_free(accept_event_);
  if (accept_timer_ != nullptr) event_free(accept_timer_);
  if (health_timer_ != nullptr) event_free(health_timer_);
  // Shutdown: clients still connected are closed first (they drop their references to the
  // requests in flight) and freed while the pool they use is still here, then the server
  // connections release the requests they still hold.
  std::vector<ClientConnection*> clients;
  clients.reserve(live_clients_.size());
  for (ClientConnection* client : live_clients_) clients.push_back(client);
  for (ClientConnection* client : clients) client->CloseForShutdown();
  worker_.FreeClosedClients();
  for (auto* list : {&servers_, &replicas_, &redirect_targets_, &retired_servers_}) {
   for (auto& server : *list) {
    for (uint8_t v = 0; v < kMaxVariants; ++v) {
      for (ServerConnection* connection : server->connections[v]) {
        connection->ReleaseRequests();
        delete connection;
      }
      // Every client is closed: every dedicated connection is free again.
      for (ServerConnection* connection : server->free_dedicated[v]) {
        connection->ReleaseRequests();
        delete connection;
      }
    }
   }
  }
  // Every client closed above has left the set (ClientClosed); whatever did not is freed here.
  for (ClientConnection* client : live_clients_) delete client;
}

ClientConnection* PoolRuntime::ClientOpened(std::unique_ptr<ClientConnection> client) {
  stats_.client_connections.Add(1);
  ++clients_;
  ClientConnection* raw = client.release();  // owned by live_clients_ until ClientClosed
  live_clients_.insert(raw);
  worker_.ClientCountChanged(1);
  return raw;
}

absl::Status PoolRuntime::BuildFilters() {
  std::vector<config::FilterChainIssue> issues;
  filter_factories_ = config::CreateFilterChain(shared_->config, shared_->filters,
                                                /*validate_only=*/false, &scope_, &issues);
  shared_chain_.reset();
  if (!issues.empty()) return issues.front().ToStatus(Name());
  // Filters that keep nothing about one client are made once per worker and shared by every
  // client of the pool: the default chain then costs a client connection no memory at all.
  bool shareable = true;
  for (const config::ResolvedFilter& filter : shared_->filters) {
    shareable = shareable && !filter.factory->KeepsClientState();
  }
  if (shareable) shared_chain_ = MakeFilterChain(filter_factories_);
  return absl::OkStatus();
}

void PoolRuntime::Listen() {
  // max_server_connections: workers past the serving ones take no client of this pool, so they
  // open no connection to its servers (with reuseport their socket was never opened).
  if (!serving_) return;
  listen_fd_ = shared_->listener->FdFor(worker_.id());
  accept_event_ = event_new(worker_.base(), listen_fd_, EV_READ | EV_PERSIST, &OnAccept, this);
  event_add(accept_event_, nullptr);
  worker_.ConnectionOpened();  // the listener counts as a connection, as in twemproxy
}

void PoolRuntime::StopAccepting() {
  if (accept_event_ == nullptr) return;
  event_free(accept_event_);
  accept_event_ = nullptr;
  if (accept_timer_ != nullptr) {
    event_free(accept_timer_);
    accept_timer_ = nullptr;
  }
  listen_fd_ = -1;
  worker_.ConnectionClosed();
}

void PoolRuntime::Preconnect() {
  if (!serving_) return;  // it would hold a connection no client of this worker ever uses
  for (auto& server : servers_) {
    if (server->connections[0].empty()) {
      if (PickConnection(server->index) == nullptr) {
        PROXY_LOG(log::kWarn, "pool %s: preconnect to %s failed: %s", Name(),
                  server->raw, std::strerror(errno));
      }
    }
  }
}

void PoolRuntime::OnAccept(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<PoolRuntime*>(arg);
  self->worker_.UpdateClock();
  self->Accept();
}

void PoolRuntime::OnAcceptResume(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<PoolRuntime*>(arg);
  self->worker_.UpdateClock();
  if (self->accept_event_ == nullptr) return;  // stopped accepting meanwhile
  event_add(self->accept_event_, nullptr);
  self->Accept();
}

void PoolRuntime::PauseAccepting(int error) {
  // The pending connection stays in the kernel's backlog; accepting again at once would fail
  // again at once (a busy loop). Pause, doubling the pause while it keeps failing.
  stats_.accept_refused.Add(1);
  accept_backoff_ms_ = accept_backoff_ms_ == 0
                           ? kAcceptBackoffFirstMs
                           : std::min<uint32_t>(accept_backoff_ms_ * 2, kAcceptBackoffMaxMs);
  event_del(accept_event_);
  if (accept_timer_ == nullptr) accept_timer_ = evtimer_new(worker_.base(), &OnAcceptResume, this);
  const timeval tv{static_cast<time_t>(accept_backoff_ms_ / 1000),
                   static_cast<suseconds_t>(accept_backoff_ms_ % 1000) * 1000};
  evtimer_add(accept_timer_, &tv);
  // One line per pause (at most 10 a second, 1 a second once the backoff is at its cap).
  const uint64_t refused = static_cast<uint64_t>(stats_.accept_refused.Get());
  PROXY_LOG(log::kWarn,
            "pool %s: accept failed: %s (%llu refused since the last such line); not accepting for %u ms", Name(),
            std::strerror(error), static_cast<unsigned long long>(refused - accept_refused_logged_),
            accept_backoff_ms_);
  accept_refused_logged_ = refused;
}

void PoolRuntime::Accept() {
  const config::v1::Pool& config = shared_->config;
  for (int i = 0; i < kMaxAcceptsPerEvent && accept_event_ != nullptr; ++i) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      const int error = errno;
      if (IsLocalResourceError(error)) PauseAccepting(error);
      return;  // EAGAIN (another worker took it), or retried on the next event
    }
    accept_backoff_ms_ = 0;
    if (!config.listen().has_unix_socket()) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      if (config.tcpkeepalive()) setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    }
    ClientConnection* client = ClientOpened(std::make_unique<ClientConnection>(*this, fd));
    client->Start();
    if (config.client_connections() > 0 && clients_ > config.client_connections()) {
      client->RefuseAndClose("max number of clients reached");
    }
  }
}

void PoolRuntime::Update(std::shared_ptr<const SharedPool> next, bool moved) {
  shared_ = std::move(next);
  drop_ejected_ = shared_->config.auto_eject_drop() && shared_->config.auto_eject_hosts();
  read_from_ = shared_->config.read_from();
  follows_redirects_ = shared_->codec->FollowsRedirects();
  // A new server_connections or max_server_connections applies to new connections from now on
  // (the ones open are kept); the serving workers stay the listener's.
  ComputeConnectionQuota();
  std::vector<std::unique_ptr<ServerState>> old;
  old.swap(servers_);
  for (int i = 0; i < shared_->config.servers_size(); ++i) {
    const std::string identity = ServerIdentity(*shared_, i);
    std::unique_ptr<ServerState> kept;
    for (std::unique_ptr<ServerState>& candidate : old) {
      if (candidate != nullptr && candidate->identity == identity) {
        kept = std::move(candidate);
        break;
      }
    }
    if (kept == nullptr) {
      servers_.push_back(NewServerState(static_cast<uint32_t>(i)));
      continue;
    }
    const config::v1::Server& config = shared_->config.servers(i);
    kept->index = static_cast<uint32_t>(i);
    kept->name = config.node_name();
    kept->raw = config.raw();
    servers_.push_back(std::move(kept));
  }
  for (std::unique_ptr<ServerState>& server : old) {
    if (server != nullptr) RetireServer(std::move(server), moved);
  }
  BuildReplicas(std::move(replicas_));
  // A new slot map names the nodes redirections pointed at: those states are done.
  for (std::unique_ptr<ServerState>& target : redirect_targets_) {
    RetireServer(std::move(target), /*moved=*/false);
  }
  redirect_targets_.clear();
  // The kept servers' ejection state under the new failure settings.
  ejected_count_ = 0;
  next_retry_us_ = UINT64_MAX;
  for (std::unique_ptr<ServerState>& server : servers_) {
    if (!server->ejected) continue;
    if (!shared_->config.auto_eject_hosts()) {
      server->ejected = false;
      server->failures = 0;
      continue;
    }
    ++ejected_count_;
    if (!server->health_down) {
      next_retry_us_ = std::min<uint64_t>(next_retry_us_, server->retry_at_us);
    }
  }
  SetUpHealthChecks();
  all_ejected_ = false;
  all_ejected_shared_ = false;
  RebuildPlacement();
  filter_factories_.clear();
  const absl::Status status = BuildFilters();
  if (!status.ok()) {
    // The reload validated the config with the same factories: only a filter that fails at
    // run time but not under validation gets here. Its pool keeps routing without that filter.
    PROXY_LOG(log::kError, "%s", status.message());
  }
  ++generation_;
  if (shared_->config.preconnect()) Preconnect();  // the servers that are new
}

void PoolRuntime::RetireServer(std::unique_ptr<ServerState> server, bool moved) {
  ServerState& state = *server;
  state.retired = true;
  state.probe.reset();
  state.replicas.clear();  // they belong to the pool (BuildReplicas)
  state.in_sync = false;
  state.index = UINT32_MAX;  // never equal to a routed server
  retired_servers_.push_back(std::move(server));
  if (moved) {
    // The server is elsewhere now (a failover): whatever was sent here fails at once (a
    // demoted master must not answer), pinned transactions included.
    for (uint8_t v = 0; v < kMaxVariants; ++v) {
      const std::vector<ServerConnection*> shared = state.connections[v];
      for (ServerConnection* connection : shared) connection->Abort(ECONNRESET);
      const std::vector<ServerConnection*> dedicated = state.dedicated[v];
      for (ServerConnection* connection : dedicated) connection->Abort(ECONNRESET);
    }
    return;
  }
  for (uint8_t v = 0; v < kMaxVariants; ++v) {
    // Closing removes a connection from these lists: walk copies.
    const std::vector<ServerConnection*> shared = state.connections[v];
    for (ServerConnection* connection : shared) connection->CloseWhenIdle();
    const std::vector<ServerConnection*> free = state.free_dedicated[v];
    for (ServerConnection* connection : free) connection->CloseWhenIdle();
    // Pinned ones close when their client releases them (ReleaseDedicated).
  }
}

void PoolRuntime::CollectRetiredServers() {
  retired_servers_.erase(
      std::remove_if(retired_servers_.begin(), retired_servers_.end(),
                     [](const std::unique_ptr<ServerState>& s) { return !s->HasConnections(); }),
      retired_servers_.end());
}

void PoolRuntime::Retire() {
  retired_ = true;
  if (health_timer_ != nullptr) {
    event_free(health_timer_);
    health_timer_ = nullptr;
  }
  Drain();
}

void PoolRuntime::Drain() {
  StopAccepting();
  std::vector<ClientConnection*> clients;
  clients.reserve(live_clients_.size());
  for (ClientConnection* client : live_clients_) clients.push_back(client);
  for (ClientConnection* client : clients) client->Drain();
}

std::unique_ptr<ClientConnection> PoolRuntime::ClientClosed(ClientConnection* client, bool eof) {
  std::unique_ptr<ClientConnection> owned;
  if (live_clients_.erase(client) == 1) owned.reset(client);
  worker_.ClientCountChanged(-1);
  --clients_;
  stats_.client_connections.Add(-1);
  if (eof) {
    stats_.client_eof.Add(1);
  } else {
    stats_.client_err.Add(1);
  }
  return owned;
}

namespace {

// A new connection to `server`; nullptr with errno set when it cannot be made.
ServerConnection* OpenConnection(PoolRuntime& pool, ServerState& server, uint8_t variant,
                                 bool dedicated) {
  auto* connection = new ServerConnection(pool, server, variant, dedicated);
  if (!connection->Connect()) {
    const int error = errno;
    delete connection;
    server.stats.server_err.Add(1);
    // The proxy's own lack of descriptors or memory (e.g. a flood of clients) says nothing
    // about the server: not counted toward its failures.
    if (!IsLocalResourceError(error)) pool.RecordServerFailure(server);
    errno = error;
    return nullptr;
  }
  if (connection->closed()) {
    // Failed during a synchronous connect or lookup; it deletes itself (deferred).
    errno = connection->error() != 0 ? connection->error() : ECONNREFUSED;
    return nullptr;
  }
  return connection;
}

}  // namespace

ServerConnection* PoolRuntime::PickConnection(ServerState& server, uint8_t variant) {
  if (variant >= kMaxVariants) variant = 0;
  std::vector<ServerConnection*>& connections = server.connections[variant];
  if (connections.size() < pick_limit_) {
    ServerConnection* connection = OpenConnection(*this, server, variant, false);
    if (connection != nullptr) connections.push_back(connection);
    return connection;
  }
  const uint32_t count = static_cast<uint32_t>(connections.size());
  uint32_t& next = server.next_connection[variant];
  ServerConnection* connection = connections[next % count];
  next = (next + 1) % count;
  return connection;
}

ServerConnection* PoolRuntime::AcquireDedicated(uint32_t index, uint8_t variant) {
  ServerState& server = *servers_[index];
  if (variant >= kMaxVariants) variant = 0;
  std::vector<ServerConnection*>& free = server.free_dedicated[variant];
  if (!free.empty()) {
    ServerConnection* connection = free.back();
    free.pop_back();
    return connection;
  }
  if (server.dedicated_count[variant] >= shared_->limits.max_pinned_connections) {
    errno = EBUSY;
    return nullptr;
  }
  ServerConnection* connection = OpenConnection(*this, server, variant, true);
  if (connection != nullptr) {
    ++server.dedicated_count[variant];
    server.dedicated[variant].push_back(connection);
  }
  return connection;
}

void PoolRuntime::ReleaseDedicated(ServerConnection* connection) {
  connection->SetPinnedClient(nullptr);
  if (connection->closed()) return;  // already counted out by ConnectionClosed
  if (connection->server().retired) {
    connection->CloseWhenIdle();  // its server left the config while it was pinned
    return;
  }
  connection->server().free_dedicated[connection->variant()].push_back(connection);
}

void PoolRuntime::ConnectionClosed(ServerConnection* connection) {
  ServerState& server = connection->server();
  const uint8_t variant = connection->variant();
  if (connection->dedicated()) {
    auto& free = server.free_dedicated[variant];
    free.erase(std::remove(free.begin(), free.end(), connection), free.end());
    auto& all = server.dedicated[variant];
    all.erase(std::remove(all.begin(), all.end(), connection), all.end());
    --server.dedicated_count[variant];
    return;
  }
  auto& list = server.connections[variant];
  list.erase(std::remove(list.begin(), list.end(), connection), list.end());
}

void PoolRuntime::RecordServerFailure(ServerState& server) {
  // Redis Cluster: a node that fails may have been failed over; look at the slot map again.
  if (shared_->refresh_topology) shared_->refresh_topology();
  if (server.replica) {
    ReplicaFailed(server, "a request or connection to it failed");
    return;
  }
  const config::v1::Pool& config = shared_->config;
  if (!config.auto_eject_hosts() || server.retired) return;
  if (server.ejected) return;
  const uint32_t limit = std::max<uint32_t>(1, config.server_failure_limit());
  if (++server.failures < limit) return;
  PROXY_LOG(log::kWarn, "pool %s: server %s ejected for %u ms%s", Name(), server.raw,
            config.server_retry_timeout_ms(),
            DropsEjectedKeys() ? " (auto_eject_drop: its keys fail meanwhile)" : "");
  Eject(server, worker_.now_us() + uint64_t{config.server_retry_timeout_ms()} * 1000u);
}

void PoolRuntime::Eject(ServerState& server, uint64_t retry_at_us) {
  server.failures = 0;
  server.ejected = true;
  server.retry_at_us = retry_at_us;
  server.stats.server_ejected_at.Set(static_cast<int64_t>(WallMicros()));
  stats_.server_ejects.Add(1);
  if (ejected_count_ == 0 || retry_at_us < next_retry_us_) next_retry_us_ = retry_at_us;
  ++ejected_count_;
  RebuildPlacement();
}

void PoolRuntime::DoRestoreEjected(uint64_t now_us) {
  // UINT64_MAX: nothing is due on a timer (servers down by health check wait for a passing
  // check, OnHealthCheck).
  uint64_t next = UINT64_MAX;
  bool restored = false;
  for (auto& server : servers_) {
    if (!server->ejected || server->health_down) continue;
    if (server->retry_at_us <= now_us) {
      server->ejected = false;
      server->failures = 0;
      --ejected_count_;
      restored = true;
    } else {
      next = std::min<uint64_t>(next, server->retry_at_us);
    }
  }
  next_retry_us_ = next;
  if (restored) RebuildPlacement();
}

ServerState* PoolRuntime::ReadTarget(uint32_t index, bool master_ok) {
  ServerState& master = *servers_[index];
  const bool fallback = master_ok && read_from_ != config::v1::READ_FROM_REPLICA;
  const uint32_t count = static_cast<uint32_t>(master.replicas.size());
  // read_from: any takes the master as one more turn.
  const uint32_t turns = count + (master_ok && read_from_ == config::v1::READ_FROM_ANY ? 1 : 0);
  for (uint32_t tried = 0; tried < turns; ++tried) {
    const uint32_t turn = master.next_replica++ % turns;
    if (turn == count) return &master;
    ServerState* replica = master.replicas[turn];
    if (replica->in_sync) return replica;
  }
  return fallback ? &master : nullptr;
}

ServerState* PoolRuntime::RedirectTarget(const std::string& host, uint32_t port) {
  const std::string where = absl::StrCat(host, ":", port);
  for (std::unique_ptr<ServerState>& server : servers_) {
    if (server->where == where) return server.get();
  }
  for (std::unique_ptr<ServerState>& target : redirect_targets_) {
    if (target->where == where) return target.get();
  }
  if (redirect_targets_.size() >= kMaxRedirectTargets) return nullptr;
  config::v1::Server config;
  config.mutable_tcp()->set_host(host);
  config.mutable_tcp()->set_port(port);
  config.set_raw(absl::StrCat(where, " (a redirection's target)"));
  config.set_node_name(where);
  auto state = std::make_unique<ServerState>();
  state->index = UINT32_MAX;  // not a routed server
  state->address = ResolveServer(config);
  state->name = where;
  state->raw = config.raw();
  state->where = where;
  state->identity = ServerIdentity(*shared_, config);
  redirect_targets_.push_back(std::move(state));
  return redirect_targets_.back().get();
}

void PoolRuntime::ReplicaFailed(ServerState& replica, absl::string_view why) {
  if (replica.retired || !replica.in_sync) return;
  replica.in_sync = false;
  PROXY_LOG(log::kWarn, "pool %s: replica %s: %s: no reads until a check passes", Name(),
            replica.raw, why);
}

void PoolRuntime::OnHealthCheck(ServerState& server, bool ok, absl::string_view why) {
  if (server.retired) return;
  server.checked = true;
  if (server.replica) {
    if (!ok) {
      server.checks_failed.Add(1);
      ReplicaFailed(server, why);
      return;
    }
    server.checks_passed.Add(1);
    if (!server.in_sync) {
      server.in_sync = true;
      PROXY_LOG(log::kNotice, "pool %s: replica %s is in sync: it serves reads (read_from: %s)",
                Name(), server.raw, config::ReadFromName(read_from_));
    }
    return;
  }
  const config::v1::Pool& config = shared_->config;
  if (ok) {
    server.checks_passed.Add(1);
    server.check_failures = 0;
    if (!server.health_down) return;
    server.health_down = false;
    PROXY_LOG(log::kNotice, "pool %s: server %s passed its health check: up again", Name(),
              server.raw);
    if (server.ejected) {
      server.ejected = false;
      server.failures = 0;
      --ejected_count_;
      RebuildPlacement();
    }
    return;
  }
  server.checks_failed.Add(1);
  if (server.health_down) return;
  const uint32_t limit = std::max<uint32_t>(1, config.server_failure_limit());
  if (++server.check_failures < limit) return;
  server.health_down = true;
  PROXY_LOG(log::kWarn, "pool %s: server %s failed %u health check%s in a row (last: %s): down%s",
            Name(), server.raw, server.check_failures, server.check_failures == 1 ? "" : "s",
            why,
            !config.auto_eject_hosts() ? " (not ejected: auto_eject_hosts is off)"
            : DropsEjectedKeys()       ? ", ejected until a check passes; its keys fail"
                                       : ", ejected until a check passes");
  if (!config.auto_eject_hosts()) return;
  if (server.ejected) {
    server.retry_at_us = UINT64_MAX;  // already out: now it waits for a passing check
    return;
  }
  Eject(server, UINT64_MAX);
}

void PoolRuntime::SetUpHealthChecks() {
  const uint32_t interval_ms = shared_->config.health_check_interval_ms();
  const bool enabled = interval_ms > 0 && !shared_->codec->HealthCheckRequest().empty();
  // Replicas are always checked while they may get reads: their sync state is what lets them.
  const bool check_replicas = ReadsFromReplicas() && !replicas_.empty() &&
                              !shared_->codec->ReplicaCheckRequest().empty();
  if (health_timer_ != nullptr) {
    event_free(health_timer_);
    health_timer_ = nullptr;
  }
  for (std::unique_ptr<ServerState>& replica : replicas_) {
    if (!check_replicas) {
      replica->probe.reset();
      replica->in_sync = false;
      continue;
    }
    if (replica->probe == nullptr) {
      replica->probe = std::make_unique<HealthProbe>(*this, *replica);
      replica->probe->Tick();  // the first check now: a replica serves once one has passed
    }
  }
  for (std::unique_ptr<ServerState>& server : servers_) {
    if (!enabled) {
      server->probe.reset();
      if (server->health_down) {  // checks are off: nothing would ever bring it back
        server->health_down = false;
        server->check_failures = 0;
        if (server->ejected) server->retry_at_us = worker_.now_us();
      }
      continue;
    }
    if (server->probe == nullptr) server->probe = std::make_unique<HealthProbe>(*this, *server);
  }
  if (!enabled) next_retry_us_ = 0;  // servers waiting for a check come back at the next request
  if (!enabled && !check_replicas) return;
  const uint32_t every_ms = interval_ms > 0 ? interval_ms : kDefaultReplicaCheckMs;
  health_timer_ = event_new(worker_.base(), -1, EV_PERSIST, &OnHealthTimer, this);
  const timeval tv{static_cast<time_t>(every_ms / 1000),
                   static_cast<suseconds_t>((every_ms % 1000) * 1000)};
  event_add(health_timer_, &tv);
}

void PoolRuntime::OnHealthTimer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<PoolRuntime*>(arg);
  self->worker_.UpdateClock();
  for (auto* list : {&self->servers_, &self->replicas_}) {
    for (std::unique_ptr<ServerState>& server : *list) {
      if (server->probe != nullptr) server->probe->Tick();
    }
  }
}

void PoolRuntime::RebuildPlacement() {
  std::unique_ptr<bool[]> live(new bool[servers_.size()]);
  bool any = false;
  bool all = true;
  for (size_t i = 0; i < servers_.size(); ++i) {
    live[i] = !servers_[i]->ejected;
    any = any || live[i];
    all = all && live[i];
  }
  if ((all || DropsEjectedKeys()) && shared_->placement != nullptr) {
    // Every server live, or auto_eject_drop (keys never move; an ejected server's keys fail in
    // ClientConnection::Forward): the ring built once for every worker (and off the workers'
    // threads in a reload).
    placement_ = shared_->placement;
    all_ejected_ = !any;
    all_ejected_shared_ = !any;
    return;
  }
  if (!any) {
    all_ejected_ = true;  // keep the old ring; requests fail until a retry time passes
    all_ejected_shared_ = true;
    return;
  }
  absl::StatusOr<KeyPlacementPtr> placement =
      KeyPlacement::Create(shared_->config, absl::MakeConstSpan(live.get(), servers_.size()));
  if (!placement.ok()) {
    PROXY_LOG(log::kError, "pool %s: %s", Name(), placement.status().message());
    return;
  }
  placement_ = *std::move(placement);
  all_ejected_ = false;
  all_ejected_shared_ = false;
}

// ---------------------------------------------------------------------------------------------
// Worker

Worker::Worker(int id, std::vector<std::shared_ptr<const SharedPool>> pools, uint32_t workers)
    : id_(id), workers_(workers), shared_pools_(std::move(pools)) {}

Worker::~Worker() {
  pools_.clear();
  retired_pools_.clear();
  dead_clients_.clear();
  for (ServerConnection* s : dead_servers_) delete s;
  if (garbage_event_ != nullptr) event_free(garbage_event_);
  if (flush_event_ != nullptr) event_free(flush_event_);
  if (dns_ != nullptr) evdns_base_free(dns_, /*fail_requests=*/1);
  if (stop_event_ != nullptr) event_free(stop_event_);
  if (stop_fd_ >= 0) close(stop_fd_);
  if (tasks_event_ != nullptr) event_free(tasks_event_);
  if (tasks_fd_ >= 0) close(tasks_fd_);
  if (base_ != nullptr) event_base_free(base_);
}

absl::Status Worker::Init() {
  base_ = event_base_new();
  if (base_ == nullptr) return absl::InternalError("event_base_new failed");
  UpdateClock();
  garbage_event_ = event_new(base_, -1, 0, &OnGarbage, this);
  flush_event_ = event_new(base_, -1, 0, &OnFlushAll, this);
  // Stop() may come from another thread: an eventfd wakes the loop without making libevent
  // take locks on every operation (no evthread_use_pthreads on the hot path).
  stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (stop_fd_ < 0) return absl::InternalError("eventfd failed");
  stop_event_ = event_new(base_, stop_fd_, EV_READ | EV_PERSIST, [](evutil_socket_t, short, void* arg) {
    event_base_loopbreak(static_cast<Worker*>(arg)->base_);
  }, this);
  event_add(stop_event_, nullptr);
  tasks_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (tasks_fd_ < 0) return absl::InternalError("eventfd failed");
  tasks_event_ = event_new(base_, tasks_fd_, EV_READ | EV_PERSIST, &OnTasks, this);
  event_add(tasks_event_, nullptr);
  for (const std::shared_ptr<const SharedPool>& shared : shared_pools_) {
    auto pool = std::make_unique<PoolRuntime>(*this, shared);
    absl::Status status = pool->BuildFilters();
    if (!status.ok()) return status;
    pool->Listen();
    pools_.push_back(std::move(pool));
  }
  shared_pools_.clear();  // the pools hold them from now on
  for (auto& pool : pools_) {
    if (pool->Config().preconnect()) pool->Preconnect();
  }
  return absl::OkStatus();
}

void Worker::Start() {
  thread_ = std::thread([this] { event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY); });
}

void Worker::Stop() {
  const uint64_t one = 1;
  ssize_t ignored = write(stop_fd_, &one, sizeof(one));
  (void)ignored;
}

void Worker::Join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::UpdateClock() { now_us_ = MonotonicMicros(); }

void Worker::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(tasks_mu_);
    tasks_.push_back(std::move(task));
  }
  const uint64_t one = 1;
  ssize_t ignored = write(tasks_fd_, &one, sizeof(one));
  (void)ignored;
}

void Worker::OnTasks(evutil_socket_t fd, short, void* arg) {
  auto* self = static_cast<Worker*>(arg);
  uint64_t count = 0;
  ssize_t ignored = read(fd, &count, sizeof(count));
  (void)ignored;
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(self->tasks_mu_);
    tasks.swap(self->tasks_);
  }
  self->UpdateClock();
  for (std::function<void()>& task : tasks) task();
}

RequestDecoderPtr Worker::TakeIdleDecoder(const Codec* codec) {
  // From the back: with one pool, the last entry is the one.
  for (size_t i = idle_decoders_.size(); i-- > 0;) {
    if (idle_decoders_[i].codec != codec) continue;
    RequestDecoderPtr decoder = std::move(idle_decoders_[i].decoder);
    if (i + 1 != idle_decoders_.size()) idle_decoders_[i] = std::move(idle_decoders_.back());
    idle_decoders_.pop_back();
    return decoder;
  }
  return nullptr;
}

void Worker::KeepIdleDecoder(const std::shared_ptr<const Codec>& owner, const Codec* codec,
                             RequestDecoderPtr decoder) {
  // As many as clients go idle at once in a busy loop iteration; beyond that they are freed.
  constexpr size_t kMaxIdleDecoders = 64;
  if (idle_decoders_.size() >= kMaxIdleDecoders) return;
  idle_decoders_.push_back(IdleDecoder{owner, codec, std::move(decoder)});
}

void Worker::ApplyPlan(const std::vector<PoolPlan>& plan) {
  UpdateClock();
  idle_decoders_.clear();  // made under the old configuration
  std::vector<std::unique_ptr<PoolRuntime>> old;
  old.swap(pools_);
  std::vector<bool> kept(old.size(), false);
  for (const PoolPlan& entry : plan) {
    if (entry.keep >= 0 && static_cast<size_t>(entry.keep) < old.size()) {
      kept[static_cast<size_t>(entry.keep)] = true;
    }
  }
  // Pools that leave stop accepting first: a replacement may listen on the same socket.
  for (size_t i = 0; i < old.size(); ++i) {
    if (kept[i] || old[i] == nullptr) continue;
    old[i]->Retire();
    retired_pools_.push_back(std::move(old[i]));
  }
  for (const PoolPlan& entry : plan) {
    if (entry.keep >= 0 && static_cast<size_t>(entry.keep) < old.size() &&
        old[static_cast<size_t>(entry.keep)] != nullptr) {
      std::unique_ptr<PoolRuntime> pool = std::move(old[static_cast<size_t>(entry.keep)]);
      pool->Update(entry.pool);
      pools_.push_back(std::move(pool));
      continue;
    }
    auto pool = std::make_unique<PoolRuntime>(*this, entry.pool);
    const absl::Status status = pool->BuildFilters();
    if (!status.ok()) PROXY_LOG(log::kError, "%s", status.message());
    pool->Listen();
    if (pool->Config().preconnect()) pool->Preconnect();
    pools_.push_back(std::move(pool));
  }
  event_active(garbage_event_, EV_READ, 1);
}

void Worker::MovePoolServers(size_t index, std::shared_ptr<const SharedPool> next, bool moved) {
  UpdateClock();
  if (index < pools_.size()) pools_[index]->Update(std::move(next), moved);
  event_active(garbage_event_, EV_READ, 1);
}

void Worker::BeginDrain() {
  UpdateClock();
  for (std::unique_ptr<PoolRuntime>& pool : pools_) pool->Drain();
  event_active(garbage_event_, EV_READ, 1);
}

void Worker::CollectRetired() {
  for (std::unique_ptr<PoolRuntime>& pool : pools_) pool->CollectRetiredServers();
  for (std::unique_ptr<PoolRuntime>& pool : retired_pools_) pool->CollectRetiredServers();
  retired_pools_.erase(std::remove_if(retired_pools_.begin(), retired_pools_.end(),
                                      [](const std::unique_ptr<PoolRuntime>& pool) {
                                        return pool->live_clients() == 0;
                                      }),
                       retired_pools_.end());
}

evdns_base* Worker::dns() {
  if (dns_ == nullptr) {
    dns_ = evdns_base_new(base_, EVDNS_BASE_INITIALIZE_NAMESERVERS |
                                     EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (dns_ == nullptr) {
      // No usable resolv.conf: an empty resolver still answers from /etc/hosts.
      dns_ = evdns_base_new(base_, 0);
      if (dns_ != nullptr) evdns_base_load_hosts(dns_, nullptr);
    }
  }
  return dns_;
}

void Worker::DeferDelete(std::unique_ptr<ClientConnection> connection) {
  dead_clients_.push_back(std::move(connection));
  event_active(garbage_event_, EV_READ, 1);
}

void Worker::FreeClosedClients() {
  if (dead_clients_.empty()) return;
  // Their pending flushes (no-ops once closed) must not run on freed memory.
  flush_clients_.erase(std::remove_if(flush_clients_.begin(), flush_clients_.end(),
                                      [](ClientConnection* c) { return c->closed(); }),
                       flush_clients_.end());
  dead_clients_.clear();
}

void Worker::DeferDelete(ServerConnection* connection) {
  dead_servers_.push_back(connection);
  event_active(garbage_event_, EV_READ, 1);
}

void Worker::OnFlushAll(evutil_socket_t, short, void* arg) {
  static_cast<Worker*>(arg)->FlushAll();
}

void Worker::FlushAll() {
  flush_active_ = false;
  // Flushes may schedule more (a client write that resumes reading forwards new requests).
  while (!flush_servers_.empty() || !flush_clients_.empty()) {
    std::vector<ServerConnection*> servers;
    servers.swap(flush_servers_);
    for (ServerConnection* s : servers) s->Flush();
    std::vector<ClientConnection*> clients;
    clients.swap(flush_clients_);
    for (ClientConnection* c : clients) c->Flush();
  }
}

void Worker::OnGarbage(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Worker*>(arg);
  // Pending flushes may name connections about to be deleted: run them first (closed
  // connections ignore them).
  self->FlushAll();
  std::vector<std::unique_ptr<ClientConnection>> clients;
  clients.swap(self->dead_clients_);
  std::vector<ServerConnection*> servers;
  servers.swap(self->dead_servers_);
  clients.clear();
  for (ServerConnection* s : servers) delete s;
  self->CollectRetired();
}

}  // namespace proxy

// The process-wide, immutable part of a pool, built once from the config and shared by every
// worker: the config, its codec, the filter factories and the limits.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "api/codec.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/filter.h"
#include "api/placement.h"
#include "core/config/filter_chain.h"
#include "core/tls/tls_context.h"

namespace proxy {

// Limits that keep memory bounded (command-line flags).
struct ProxyLimits {
  DecoderLimits decoder;
  size_t read_chunk = 16384;  // bytes per read(2) (twemproxy's -m mbuf size)
  // A client whose unanswered requests or unsent reply bytes exceed these is not read from
  // until they drain (pipelining backpressure).
  size_t max_pending_requests = 65536;
  size_t max_client_output_bytes = 64u << 20;
  // Hard limit: a client with more reply bytes waiting (in its socket buffer queue and in
  // replies held for ordering) is disconnected, like redis's client-output-buffer-limit.
  size_t client_output_limit = 1u << 30;
  // Requests slower than this are counted and logged (rate-limited); 0 = off.
  uint64_t slowlog_us = 0;
  // Bytes queued on one server connection but not yet written to the server (a backend that
  // stops reading). Past this, clients whose requests go to that connection are not read from
  // until it drains below half of it (backpressure); one request is always accepted, so a
  // request larger than the bound still goes through.
  size_t max_server_unsent_bytes = 8u << 20;
  // After a client's EOF with requests still pending, its replies are still written (TCP
  // half-close, as twemproxy does) until the queue drains or this grace period passes; then
  // the connection is closed (a client that hung up must not linger in CLOSE_WAIT).
  uint32_t client_eof_grace_ms = 5000;
  // Dedicated server connections for pinned clients (transactions: api/codec.h PinAction), per
  // server, per worker and per connection variant; a client that would need one more is
  // refused with an error. Idle ones are kept for reuse.
  uint32_t max_pinned_connections = 64;
};

// A pool's listening sockets, made by the main thread before any worker uses them: one socket
// shared by every worker, or (`reuseport: true`) one per worker. Shared by every config
// generation whose pool listens on the same address (a reload keeps them open, so that no
// connection attempt is refused), and by a successor process during a binary upgrade.
// With `max_server_connections: M` only the first min(--workers, M) workers accept the pool's
// clients (serving_workers): with `reuseport: true` only that many sockets exist, since the
// kernel would hand connections to a bound socket no worker watches.
struct ListenSockets {
  std::string key;  // the listen address as configured (config.listen().raw())
  std::vector<int> fds;
  // Workers 0 .. serving_workers-1 watch these sockets (core/proxy/connection_budget.h). Fixed
  // when the sockets are opened: a reload that keeps them keeps it (core/server/server.cc).
  uint32_t serving_workers = 1;
  std::string unix_path;  // unlinked by Close() unless handed over
  bool handed_over = false;

  ListenSockets() = default;
  ListenSockets(const ListenSockets&) = delete;
  ListenSockets& operator=(const ListenSockets&) = delete;
  ~ListenSockets() { Close(); }
  // The socket worker `worker` (< serving_workers) accepts on: the shared one, or its own (one
  // per serving worker with reuseport).
  int FdFor(int worker) const { return fds.size() == 1 ? fds[0] : fds[static_cast<size_t>(worker) % fds.size()]; }
  // Stops listening at once (new connection attempts are refused from now on); idempotent.
  // Workers must have stopped watching the sockets first.
  void Close();
};

// Binds the pool's listen address: one socket, or one per serving worker (ServingWorkers of
// `workers` and the pool's max_server_connections) with `reuseport: true`; a
// unix socket gets its permissions before listen(). Sockets found in `inherited` (handed over
// by the process this one upgrades, keyed by ListenerKey) are taken out of it and used instead
// of binding.
absl::StatusOr<std::shared_ptr<ListenSockets>> OpenListener(
    const config::v1::Pool& config, unsigned workers,
    std::map<std::string, int>* inherited = nullptr);
// The name of a pool's listening socket `index` in a binary upgrade's handover.
std::string ListenerKey(const config::v1::Pool& config, size_t index);

struct SharedPool {
  config::v1::Pool config;
  // Shared with the connections made under this config (a client's session and decoder, a
  // server connection's reply decoder), which may outlive it after a reload.
  std::shared_ptr<const Codec> codec;
  // The filter chain, resolved: factory + parsed config per entry (default chain when the
  // config has no `filters:`); each worker instantiates it (core/config/filter_chain.h).
  std::vector<config::ResolvedFilter> filters;
  ProxyLimits limits;
  std::shared_ptr<ListenSockets> listener;
  // The key placement with every server live (immutable, shared by the workers); null when it
  // cannot be built (the workers then report why).
  std::shared_ptr<const KeyPlacement> placement;
  // Redis Cluster pools: asks the topology watcher for a new look (a -MOVED reply says the slot
  // map is stale). Thread-safe; empty for other pools.
  std::function<void()> refresh_topology;
  // `tls:` (accepted clients) and `server_tls:` (server connections and health checks); null
  // without the key, so a plaintext pool's only cost is a null check per connection and per
  // I/O call. Built from the PEM files by BuildSharedPool (each reload reads them again).
  tls::TlsContextPtr tls;
  tls::TlsContextPtr server_tls;

  SharedPool() = default;
  SharedPool(const SharedPool&) = delete;
  SharedPool& operator=(const SharedPool&) = delete;
};
using SharedPoolPtr = std::shared_ptr<SharedPool>;

// Resolves the pool's protocol, codec and filters through the registries and loads its TLS
// contexts (no socket: the listener is OpenListener's).
absl::StatusOr<SharedPoolPtr> BuildSharedPool(const config::v1::Pool& config,
                                              const ProxyLimits& limits);

}  // namespace proxy

// The admin HTTP endpoint (off unless --admin-port is given): /metrics (Prometheus text format),
// /stats (the stats-port JSON), /healthz and /servers. Served by its own thread with libevent's
// evhttp; reads the workers' single-writer metrics without stopping them.
#pragma once

#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "core/net/accept_failures.h"
#include "core/proxy/worker.h"

namespace proxy {

// Prometheus text exposition (version 0.0.4) of every metric.
// `config` (may be null) adds the reload metrics.
std::string PrometheusText(const std::vector<Worker*>& workers, uint64_t start_wall_us,
                           const ConfigStats* config = nullptr);
// 200 "ok" when every pool has a live server in some worker, else 503 naming the pools.
std::string HealthText(const std::vector<Worker*>& workers, bool* healthy);
// Per server: pool, name, address, state, failures, ejection and next retry.
std::string ServersJson(const std::vector<Worker*>& workers);

class AdminServer {
 public:
  AdminServer(std::vector<Worker*> workers, uint64_t start_wall_us);
  ~AdminServer();

  // `inherited`: a listening socket handed over by the process this one upgrades, or -1.
  absl::Status Start(const std::string& addr, uint16_t port, int inherited = -1);
  // The listening socket (for a binary upgrade's handover), -1 when not started.
  int listen_fd() const { return listener_ != nullptr ? evconnlistener_get_fd(listener_) : -1; }
  // POST /reload: runs `reload` (on the endpoint's thread) and answers with its HTTP status and
  // text. Without a handler POST /reload answers 404. Set before Start().
  using ReloadHandler = std::function<std::pair<int, std::string>()>;
  void SetReloadHandler(ReloadHandler reload) { reload_ = std::move(reload); }
  void SetConfigStats(const ConfigStats* config) { config_ = config; }
  void Stop();
  // Accepts that failed (out of descriptors...): each one paused accepting.
  uint64_t refused_accepts() const { return refused_accepts_.load(std::memory_order_relaxed); }

  // Limits of one request: the endpoint serves small GETs only, so a larger header block or any
  // body beyond kMaxBodyBytes is refused as it arrives (never buffered), and a connection whose
  // request (or reply) is not done in kRequestTimeoutSeconds is closed.
  static constexpr size_t kMaxHeadersBytes = 8 * 1024;
  static constexpr size_t kMaxBodyBytes = 4 * 1024;
  static constexpr int kRequestTimeoutSeconds = 10;
  // A failed accept (EMFILE...) pauses accepting instead of failing again at once, logged at
  // most once per interval: core/net's AcceptFailureLog, shared with the stats port.

 private:
  static void Handle(evhttp_request* request, void* arg);
  static void OnAcceptError(evconnlistener* listener, void* arg);
  static void OnResume(evutil_socket_t fd, short what, void* arg);
  void PauseAccepting(int error);

  std::vector<Worker*> workers_;
  uint64_t start_wall_us_;
  ReloadHandler reload_;
  const ConfigStats* config_ = nullptr;
  event_base* base_ = nullptr;
  evhttp* http_ = nullptr;
  int stop_fd_ = -1;
  event* stop_event_ = nullptr;
  evconnlistener* listener_ = nullptr;  // owned by http_
  event* resume_event_ = nullptr;       // re-enables listener_ after a pause
  std::atomic<uint64_t> refused_accepts_{0};
  AcceptFailureLog accept_failures_;    // admin thread only
  std::thread thread_;
};

}  // namespace proxy

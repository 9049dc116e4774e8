// twemproxy's stats port: every connection receives one JSON document of all pool and server
// metrics, summed over the workers, and is closed. Served by its own thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "core/proxy/worker.h"

namespace proxy {

// The JSON document, from live values (never stale, unlike twemproxy's interval copies).
std::string StatsJson(const std::vector<Worker*>& workers, uint64_t start_wall_us);

class StatsServer {
 public:
  explicit StatsServer(std::vector<Worker*> workers);
  ~StatsServer();

  // Binds addr:port (SO_REUSEADDR) and starts serving; kUnavailable on bind failure.
  // `inherited`: a listening socket handed over by the process this one upgrades (used
  // instead of binding), or -1.
  absl::Status Start(const std::string& addr, uint16_t port, int inherited = -1);
  // The listening socket (for a binary upgrade's handover), -1 when not started.
  int listen_fd() const { return listen_fd_; }
  void Stop();
  // Accepts that failed for want of descriptors or memory (each one paused accepting).
  uint64_t refused_accepts() const { return refused_accepts_.load(std::memory_order_relaxed); }

  // After an accept fails with EMFILE/ENFILE/ENOBUFS/ENOMEM, accepting pauses (the connection
  // waits in the backlog) instead of failing again at once in a busy loop: core/net's
  // AcceptFailureLog, shared with the admin endpoint.
  // Longest time one client may take to receive its document (a client that never reads).
  static constexpr uint64_t kClientDeadlineMs = 2000;

 private:
  void Serve();
  void ServeClient(int client);

  std::vector<Worker*> workers_;
  uint64_t start_wall_us_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;
  std::atomic<uint64_t> refused_accepts_{0};
  std::thread thread_;
};

}  // namespace proxy

// twemproxy's stats port: every connection receives one JSON document of all pool and server
// metrics (spec section 3), summed over the workers, and is closed. Served by its own thread.
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
  absl::Status Start(const std::string& addr, uint16_t port);
  void Stop();

 private:
  void Serve();

  std::vector<Worker*> workers_;
  uint64_t start_wall_us_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;
  std::thread thread_;
};

}  // namespace proxy

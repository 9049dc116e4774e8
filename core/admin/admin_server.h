// The admin HTTP endpoint (off unless --admin-port is given): /metrics (Prometheus text format),
// /stats (the stats-port JSON), /healthz and /servers. Served by its own thread with libevent's
// evhttp; reads the workers' single-writer metrics without stopping them.
#pragma once

#include <event2/event.h>
#include <event2/http.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "core/proxy/worker.h"

namespace proxy {

// Prometheus text exposition (version 0.0.4) of every metric.
std::string PrometheusText(const std::vector<Worker*>& workers, uint64_t start_wall_us);
// 200 "ok" when every pool has a live server in some worker, else 503 naming the pools.
std::string HealthText(const std::vector<Worker*>& workers, bool* healthy);
// Per server: pool, name, address, state, failures, ejection and next retry.
std::string ServersJson(const std::vector<Worker*>& workers);

class AdminServer {
 public:
  AdminServer(std::vector<Worker*> workers, uint64_t start_wall_us);
  ~AdminServer();

  absl::Status Start(const std::string& addr, uint16_t port);
  void Stop();

 private:
  static void Handle(evhttp_request* request, void* arg);

  std::vector<Worker*> workers_;
  uint64_t start_wall_us_;
  event_base* base_ = nullptr;
  evhttp* http_ = nullptr;
  int stop_fd_ = -1;
  event* stop_event_ = nullptr;
  std::thread thread_;
};

}  // namespace proxy

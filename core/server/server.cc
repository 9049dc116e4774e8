// Process lifecycle: pools → workers → signal loop (reloads) → graceful drain → shutdown.
#include "core/server/server.h"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

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
#include "core/admin/admin_server.h"
#include "core/common/log.h"
#include "core/config/config.h"
#include "core/proxy/clock.h"
#include "core/proxy/shared_pool.h"
#include "core/proxy/stats.h"
#include "core/proxy/worker.h"
#include "core/stats/stats_server.h"

namespace proxy {
namespace {

ProxyLimits LimitsFrom(const Options& options) {
  ProxyLimits limits;
  limits.read_chunk = options.mbuf_size;
  limits.decoder.max_message_bytes = options.max_request_bytes;
  limits.client_output_limit = options.client_output_limit;
  limits.slowlog_us = options.slowlog_us;
  // twemproxy bounds keys by its buffer size: -m minus the 48-byte header minus 1.
  limits.decoder.max_key_bytes = options.mbuf_size - 49;
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

// "pool NAME: added" / "removed" / "changed", by name.
std::vector<std::string> ChangedPools(const config::v1::Bootstrap& before,
                                      const config::v1::Bootstrap& after) {
  std::vector<std::string> lines;
  auto find = [](const config::v1::Bootstrap& b, const std::string& name) {
    for (const config::v1::Pool& pool : b.pools()) {
      if (pool.name() == name) return &pool;
    }
    return static_cast<const config::v1::Pool*>(nullptr);
  };
  for (const config::v1::Pool& pool : after.pools()) {
    const config::v1::Pool* old = find(before, pool.name());
    if (old == nullptr) {
      lines.push_back(absl::StrCat("pool ", pool.name(), ": added"));
    } else if (old->SerializeAsString() != pool.SerializeAsString()) {
      lines.push_back(absl::StrCat("pool ", pool.name(), ": changed"));
    }
  }
  for (const config::v1::Pool& pool : before.pools()) {
    if (find(after, pool.name()) == nullptr) {
      lines.push_back(absl::StrCat("pool ", pool.name(), ": removed"));
    }
  }
  return lines;
}

double MillisSince(uint64_t start_us) {
  return static_cast<double>(MonotonicMicros() - start_us) / 1000.0;
}

// The serving process: its config generation, workers and endpoints.
class Server {
 public:
  explicit Server(const Options& options)
      : options_(options),
        limits_(LimitsFrom(options)),
        worker_count_(options.workers != 0 ? options.workers
                                           : std::max(1u, std::thread::hardware_concurrency())) {}

  int Run(const config::v1::Bootstrap& bootstrap);
  // Re-reads and validates the config file (the code of `check`) and, if it is valid, applies
  // it on every worker. Returns the HTTP status and text for POST /reload.
  std::pair<int, std::string> Reload(const char* trigger);

 private:
  // Graceful shutdown: stop accepting, answer what was received, bounded by --drain-timeout.
  void Drain(const sigset_t& signals);
  std::pair<int, std::string> ReloadFailed(const std::string& text);

  const Options& options_;
  const ProxyLimits limits_;
  const unsigned worker_count_;
  std::mutex reload_mu_;  // one reload at a time (SIGUSR1 and POST /reload)
  bool stopping_ = false;  // under reload_mu_
  config::v1::Bootstrap bootstrap_;  // in force
  std::vector<SharedPoolPtr> pools_;  // in force, in config order
  std::vector<std::unique_ptr<Worker>> workers_;
  ConfigStats config_stats_;
};

int Server::Run(const config::v1::Bootstrap& bootstrap) {
  bootstrap_ = bootstrap;
  for (const config::v1::Pool& config : bootstrap.pools()) {
    absl::StatusOr<SharedPoolPtr> pool = BuildSharedPool(config, limits_);
    if (!pool.ok()) {
      PROXY_LOG(log::kError, "%s", pool.status().message());
      return 1;
    }
    absl::StatusOr<std::shared_ptr<ListenSockets>> listener = OpenListener(config, worker_count_);
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
    auto worker = std::make_unique<Worker>(static_cast<int>(i), initial);
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
  absl::Status stats_status = stats.Start(options_.stats_addr, options_.stats_port);
  if (!stats_status.ok()) {
    PROXY_LOG(log::kError, "%s", stats_status.message());
    return 1;
  }
  AdminServer admin(worker_ptrs, WallMicros());
  admin.SetConfigStats(&config_stats_);
  admin.SetReloadHandler([this] { return Reload("POST /reload"); });
  if (options_.admin_port != 0) {
    absl::Status admin_status = admin.Start(options_.admin_addr, options_.admin_port);
    if (!admin_status.ok()) {
      PROXY_LOG(log::kError, "%s", admin_status.message());
      return 1;
    }
  }
  for (auto& worker : workers_) worker->Start();
  PROXY_LOG(log::kNotice, "shardproxy serving %d pool%s with %u worker%s", bootstrap.pools_size(),
            bootstrap.pools_size() == 1 ? "" : "s", worker_count_,
            worker_count_ == 1 ? "" : "s");

  bool drain = false;
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
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
  if (drain) Drain(signals);
  for (auto& worker : workers_) worker->Stop();
  for (auto& worker : workers_) worker->Join();
  stats.Stop();
  admin.Stop();
  workers_.clear();
  pools_.clear();  // closes the listeners (unix socket files are unlinked)
  PROXY_LOG(log::kNotice, "done, rabbit done");
  return 0;
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

  // The new pools. A pool listening where a current one listens takes over its sockets (they
  // are never closed, so no connection attempt is refused); with the same protocol it is the
  // same pool, updated in place with its clients. The others bind now: a bind failure fails
  // the whole reload, before anything changed.
  std::vector<SharedPoolPtr> next;
  std::vector<Worker::PoolPlan> plan;
  std::vector<bool> claimed(pools_.size(), false);
  for (const config::v1::Pool& config : result.bootstrap.pools()) {
    absl::StatusOr<SharedPoolPtr> pool = BuildSharedPool(config, limits_);
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
    next.push_back(*std::move(pool));
  }

  // Every worker switches while readers of the stats wait, so that they never see two
  // generations at once.
  {
    std::unique_lock<std::shared_mutex> topology(TopologyMutex());
    OnEveryWorker(workers_, [&plan](Worker& worker) { worker.ApplyPlan(plan); });
  }
  // Pools that are gone stop listening now (their workers no longer watch the sockets).
  for (size_t i = 0; i < pools_.size(); ++i) {
    if (!claimed[i]) pools_[i]->listener->Close();
  }

  // One line per pool that changed.
  std::string summary;
  for (const std::string& line : ChangedPools(bootstrap_, result.bootstrap)) {
    PROXY_LOG(log::kNotice, "reload: %s", line);
    absl::StrAppend(&summary, line, "\n");
  }
  bootstrap_ = std::move(result.bootstrap);
  pools_ = std::move(next);
  const uint64_t applied = config_stats_.generation.fetch_add(1) + 1;
  config_stats_.reloads_succeeded.fetch_add(1);
  config_stats_.last_reload_ok = true;
  const double ms = MillisSince(start);
  PROXY_LOG(log::kNotice, "reload (%s): generation %llu applied in %.1f ms (%d pool%s)", trigger,
            static_cast<unsigned long long>(applied), ms, bootstrap_.pools_size(),
            bootstrap_.pools_size() == 1 ? "" : "s");
  return {200, absl::StrCat(absl::StrFormat("reloaded: generation %llu applied in %.1f ms\n",
                                            static_cast<unsigned long long>(applied), ms),
                            summary.empty() ? "no pool changed\n" : summary)};
}

}  // namespace

int RunServer(const Options& options, const config::v1::Bootstrap& bootstrap) {
  signal(SIGPIPE, SIG_IGN);
  // Connection buffers come and go with every request; glibc would hand freed heap tops back
  // to the kernel at 128 KiB and fault them in again on the next request (a page fault every
  // few requests, measured). Keep up to 64 MiB of free heap; more is still returned, so memory
  // still shrinks after a burst.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_TOP_PAD, 1 << 20);
  Server server(options);
  return server.Run(bootstrap);
}

}  // namespace proxy

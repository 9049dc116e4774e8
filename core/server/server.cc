// Process lifecycle: pools → workers → signal loop → orderly shutdown.
#include "core/server/server.h"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "core/common/log.h"
#include "core/proxy/shared_pool.h"
#include "core/proxy/worker.h"
#include "core/admin/admin_server.h"
#include "core/proxy/clock.h"
#include "core/stats/stats_server.h"

namespace proxy {
namespace {

// Binds a unix-domain listener once for all workers: unlinks a stale file, and sets the asked
// permissions before listen(): until then a connect() to the path is refused, so no client can
// get in under the default mode.
int ListenUnix(const config::v1::Pool& pool) {
  const config::v1::UnixSocket& unix_socket = pool.listen().unix_socket();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, unix_socket.path().c_str(), sizeof(addr.sun_path) - 1);
  unlink(unix_socket.path().c_str());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      (unix_socket.permissions() != 0 &&
       chmod(unix_socket.path().c_str(), unix_socket.permissions()) != 0) ||
      listen(fd, static_cast<int>(pool.backlog())) != 0) {
    const int error = errno;
    close(fd);
    errno = error;
    return -1;
  }
  return fd;
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

  ProxyLimits limits;
  limits.read_chunk = options.mbuf_size;
  limits.decoder.max_message_bytes = options.max_request_bytes;
  limits.client_output_limit = options.client_output_limit;
  limits.slowlog_us = options.slowlog_us;
  // twemproxy bounds keys by its buffer size: -m minus the 48-byte header minus 1.
  limits.decoder.max_key_bytes = options.mbuf_size - 49;
  std::vector<SharedPoolPtr> pools;
  std::vector<SharedPool*> pool_ptrs;
  std::vector<int> unix_fds;
  for (const config::v1::Pool& config : bootstrap.pools()) {
    absl::StatusOr<SharedPoolPtr> pool = BuildSharedPool(config, limits);
    if (!pool.ok()) {
      PROXY_LOG(log::kError, "%s", pool.status().message());
      return 1;
    }
    int unix_fd = -1;
    if (config.listen().has_unix_socket()) {
      unix_fd = ListenUnix(config);
      if (unix_fd < 0) {
        PROXY_LOG(log::kError, "bind on p to addr '%s' failed: %s", config.listen().raw(),
                  std::strerror(errno));
        return 1;
      }
    }
    unix_fds.push_back(unix_fd);
    pool_ptrs.push_back(pool->get());
    pools.push_back(*std::move(pool));
  }

  // Workers never see process signals: the main thread takes them with sigwait().
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2}) {
    sigaddset(&signals, s);
  }
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  unsigned count = options.workers;
  if (count == 0) count = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned i = 0; i < count; ++i) {
    auto worker = std::make_unique<Worker>(static_cast<int>(i), pool_ptrs);
    absl::Status status = worker->Init(unix_fds);
    if (!status.ok()) {
      PROXY_LOG(log::kError, "%s", status.message());
      return 1;
    }
    workers.push_back(std::move(worker));
  }
  // The stats port (twemproxy starts it before the pools; a bind failure is fatal either way).
  std::vector<Worker*> worker_ptrs;
  for (auto& worker : workers) worker_ptrs.push_back(worker.get());
  StatsServer stats(worker_ptrs);
  absl::Status stats_status = stats.Start(options.stats_addr, options.stats_port);
  if (!stats_status.ok()) {
    PROXY_LOG(log::kError, "%s", stats_status.message());
    return 1;
  }
  AdminServer admin(worker_ptrs, WallMicros());
  if (options.admin_port != 0) {
    absl::Status admin_status = admin.Start(options.admin_addr, options.admin_port);
    if (!admin_status.ok()) {
      PROXY_LOG(log::kError, "%s", admin_status.message());
      return 1;
    }
  }
  for (auto& worker : workers) worker->Start();
  PROXY_LOG(log::kNotice, "shardproxy serving %d pool%s with %u worker%s", bootstrap.pools_size(),
            bootstrap.pools_size() == 1 ? "" : "s", count, count == 1 ? "" : "s");

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGINT || sig == SIGTERM) {
      PROXY_LOG(log::kNotice, "signal %d (%s) received, exiting", sig,
                sig == SIGINT ? "SIGINT" : "SIGTERM");
      break;
    }
    if (sig == SIGHUP) {
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
      PROXY_LOG(log::kNotice, "signal %d (%s) received", sig,
                sig == SIGUSR1 ? "SIGUSR1" : "SIGUSR2");
    }
  }
  for (auto& worker : workers) worker->Stop();
  for (auto& worker : workers) worker->Join();
  stats.Stop();
  admin.Stop();
  workers.clear();
  for (size_t i = 0; i < pools.size(); ++i) {
    if (unix_fds[i] >= 0) {
      close(unix_fds[i]);
      unlink(pools[i]->config.listen().unix_socket().path().c_str());
    }
  }
  PROXY_LOG(log::kNotice, "done, rabbit done");
  return 0;
}

}  // namespace proxy

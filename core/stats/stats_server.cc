// The stats JSON, byte-compatible with twemproxy 0.5.0's layout (spacing included).
#include "core/stats/stats_server.h"

#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>

#include "absl/strings/str_cat.h"
#include "core/common/log.h"
#include "core/common/version.h"
#include <shared_mutex>

#include "core/proxy/clock.h"

namespace proxy {
namespace {

// Appends `"key":value, ` like twemproxy's stats_add_num.
void AddNum(std::string* out, absl::string_view key, int64_t value) {
  absl::StrAppend(out, "\"", key, "\":", value, ", ");
}

// Closes the innermost object: the trailing ", " becomes "},", or a trailing "," (an object
// that just closed) becomes "}," — so nested closes give "}},".
void EndNesting(std::string* out) {
  if (out->size() >= 2 && out->compare(out->size() - 2, 2, ", ") == 0) {
    out->resize(out->size() - 2);
    out->append("},");
  } else if (!out->empty() && out->back() == ',') {
    out->back() = '}';
    out->push_back(',');
  }
}

std::string Hostname() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "unknown";
  return name;
}

}  // namespace

std::string StatsJson(const std::vector<Worker*>& workers, uint64_t start_wall_us) {
  std::shared_lock<std::shared_mutex> topology(TopologyMutex());
  int64_t total = 0;
  int64_t current = 0;
  for (Worker* w : workers) {
    total += w->total_connections();
    current += w->curr_connections();
  }
  const uint64_t now = WallMicros();
  std::string out = "{";
  absl::StrAppend(&out, "\"service\":\"", kCompatName, "\", \"source\":\"", Hostname(),
                  "\", \"version\":\"", kCompatVersion, "\", ");
  AddNum(&out, "uptime", static_cast<int64_t>((now - start_wall_us) / 1000000u));
  AddNum(&out, "timestamp", static_cast<int64_t>(now / 1000000u));
  AddNum(&out, "total_connections", total);
  AddNum(&out, "curr_connections", current);
  if (workers.empty()) {
    out.resize(out.size() - 2);
    out += "}\n";
    return out;
  }
  auto& pools = workers[0]->pools();
  std::vector<size_t> pool_order(pools.size());
  for (size_t i = 0; i < pool_order.size(); ++i) pool_order[i] = i;
  std::stable_sort(pool_order.begin(), pool_order.end(), [&](size_t a, size_t b) {
    return TwemproxyLess(pools[a]->Name(), pools[b]->Name());
  });
  for (size_t p : pool_order) {
    const config::v1::Pool& config = pools[p]->Config();
    absl::StrAppend(&out, "\"", config.name(), "\": {");
#define PROXY_SUM_POOL_(name, description)                          \
  {                                                                 \
    int64_t sum = 0;                                                \
    for (Worker* w : workers) sum += w->pools()[p]->stats().name.Get(); \
    AddNum(&out, #name, sum);                                       \
  }
    PROXY_POOL_STATS(PROXY_SUM_POOL_, PROXY_SUM_POOL_)
#undef PROXY_SUM_POOL_
    // One object per server; then (replica reads) one per replica, named by its node name,
    // with the same counters.
    auto server_object = [&](const std::string& name,
                             const std::function<const ServerState&(Worker*)>& state) {
      absl::StrAppend(&out, "\"", name, "\": {");
#define PROXY_SUM_SERVER_(name, description)                     \
  {                                                              \
    int64_t sum = 0;                                             \
    for (Worker* w : workers) sum += state(w).stats.name.Get();  \
    AddNum(&out, #name, sum);                                    \
  }
#define PROXY_MAX_SERVER_(name, description)                                    \
  {                                                                             \
    int64_t latest = 0;                                                         \
    for (Worker* w : workers) latest = std::max(latest, state(w).stats.name.Get()); \
    AddNum(&out, #name, latest);                                                \
  }
      PROXY_SERVER_STATS(PROXY_SUM_SERVER_, PROXY_SUM_SERVER_, PROXY_MAX_SERVER_)
#undef PROXY_SUM_SERVER_
#undef PROXY_MAX_SERVER_
      EndNesting(&out);
    };
    const std::vector<uint32_t> order = SortedServerOrder(config);
    for (uint32_t s : order) {
      server_object(config.servers(s).node_name(),
                    [&](Worker* w) -> const ServerState& { return w->pools()[p]->server(s); });
    }
    for (uint32_t s : order) {
      const std::vector<ServerState*>& replicas = pools[p]->replicas_of(s);
      for (size_t r = 0; r < replicas.size(); ++r) {
        server_object(replicas[r]->name, [&](Worker* w) -> const ServerState& {
          return *w->pools()[p]->replicas_of(s)[r];
        });
      }
    }
    EndNesting(&out);
  }
  // The document's last "," becomes "}".
  if (!out.empty() && out.back() == ',') out.back() = '}';
  out += "\n";
  return out;
}

StatsServer::StatsServer(std::vector<Worker*> workers)
    : workers_(std::move(workers)), start_wall_us_(WallMicros()) {}

StatsServer::~StatsServer() { Stop(); }

absl::Status StatsServer::Start(const std::string& addr, uint16_t port, int inherited) {
  if (inherited >= 0) {
    listen_fd_ = inherited;
    stop_fd_ = eventfd(0, EFD_CLOEXEC);
    thread_ = std::thread([this] { Serve(); });
    return absl::OkStatus();
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* result = nullptr;
  const std::string service = std::to_string(port);
  const int rc = getaddrinfo(addr.c_str(), service.c_str(), &hints, &result);
  if (rc != 0 || result == nullptr) {
    return absl::UnavailableError(absl::StrCat("stats address '", addr, "' does not resolve: ",
                                               gai_strerror(rc)));
  }
  int fd = socket(result->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (fd < 0 || bind(fd, result->ai_addr, result->ai_addrlen) != 0 ||
      listen(fd, SOMAXCONN) != 0) {
    const int error = errno;
    if (fd >= 0) close(fd);
    freeaddrinfo(result);
    return absl::UnavailableError(absl::StrCat("bind on m to stats server addr '", addr, ":", port,
                                               "' failed: ", std::strerror(error)));
  }
  freeaddrinfo(result);
  listen_fd_ = fd;
  stop_fd_ = eventfd(0, EFD_CLOEXEC);
  thread_ = std::thread([this] { Serve(); });
  return absl::OkStatus();
}

void StatsServer::Stop() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    ssize_t ignored = write(stop_fd_, &one, sizeof(one));
    (void)ignored;
    thread_.join();
  }
  if (listen_fd_ >= 0) close(listen_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
  listen_fd_ = stop_fd_ = -1;
}

namespace {

// Out of descriptors (or kernel memory): accepting again at once would fail the same way.
bool IsResourceError(int error) {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

}  // namespace

void StatsServer::Serve() {
  int backoff_ms = 0;         // > 0 while accepting is paused after a resource error
  uint64_t last_log_us = 0;   // the last "accept failed" line
  uint64_t failures = 0;      // failed accepts since that line
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    // While paused only the stop event is watched: the pending connection stays queued.
    const int rc = backoff_ms > 0 ? poll(&fds[1], 1, backoff_ms) : poll(fds, 2, -1);
    if (rc < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if (backoff_ms > 0) {
      backoff_ms = 0;  // the pause is over: try again
      continue;
    }
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (client < 0) {
      const int error = errno;
      if (!IsResourceError(error)) continue;  // the peer left first (ECONNABORTED...)
      refused_accepts_.fetch_add(1, std::memory_order_relaxed);
      ++failures;
      const uint64_t now = WallMicros();
      if (last_log_us == 0 || now - last_log_us >= kAcceptErrorLogIntervalUs) {
        PROXY_LOG(log::kError,
                  "stats: accept failed: %s (%d time%s in the last interval); pausing accepts",
                  std::strerror(error), static_cast<long long>(failures),
                  failures == 1 ? "" : "s");
        last_log_us = now;
        failures = 0;
      }
      backoff_ms = kAcceptBackoffMs;
      continue;
    }
    ServeClient(client);
  }
}

void StatsServer::ServeClient(int client) {
  // One document, then close; whatever the client sent is ignored (twemproxy's protocol). A
  // client that does not read gets at most kClientDeadlineMs, in total, of this thread.
  const std::string json = StatsJson(workers_, start_wall_us_);
  const uint64_t deadline = WallMicros() + kClientDeadlineMs * 1000u;
  size_t sent = 0;
  while (sent < json.size()) {
    const ssize_t n = send(client, json.data() + sent, json.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const uint64_t now = WallMicros();
      if (now >= deadline) break;
      pollfd out = {client, POLLOUT, 0};
      pollfd fds[2] = {out, {stop_fd_, POLLIN, 0}};
      const int wait_ms = static_cast<int>((deadline - now + 999) / 1000);
      if (poll(fds, 2, wait_ms) <= 0 || fds[1].revents != 0) break;
      continue;
    }
    break;
  }
  close(client);
}

}  // namespace proxy

// The stats JSON, byte-compatible with twemproxy 0.5.0's layout (spacing included).
#include "core/stats/stats_server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <functional>
#include <shared_mutex>

#include "absl/strings/str_cat.h"
#include "core/common/log.h"
#include "core/common/version.h"
#include "core/net/accept_failures.h"
#include "core/net/tcp_listener.h"
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
  char name[HOST_NAME_MAX + 1] = {};
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
  TcpListenerSpec spec;
  spec.host = addr;
  spec.port = port;
  spec.backlog = SOMAXCONN;  // one short JSON document per connection: never a reason to refuse
  spec.nonblocking = false;  // Serve() polls, then accepts
  TcpListenerFailure failure;
  const int fd = OpenTcpListenerSocket(spec, &failure);
  if (fd < 0) {
    if (failure.step == TcpListenerFailure::Step::kResolve) {
      return absl::UnavailableError(
          absl::StrCat("stats address '", addr, "' does not resolve: ", failure.reason));
    }
    // twemproxy's wording.
    return absl::UnavailableError(absl::StrCat("bind on m to stats server addr '", addr, ":",
                                               port, "' failed: ", failure.reason));
  }
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

void StatsServer::Serve() {
  int backoff_ms = 0;  // > 0 while accepting is paused after a resource error
  AcceptFailureLog failures;
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
      if (!IsLocalResourceError(error)) continue;  // the peer left first (ECONNABORTED...)
      refused_accepts_.fetch_add(1, std::memory_order_relaxed);
      failures.Record("stats", error, WallMicros());
      backoff_ms = AcceptFailureLog::kPauseMs;
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

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

#include "absl/strings/str_cat.h"
#include "core/common/version.h"
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
    for (uint32_t s : SortedServerOrder(config)) {
      absl::StrAppend(&out, "\"", config.servers(s).node_name(), "\": {");
#define PROXY_SUM_SERVER_(name, description)                                   \
  {                                                                            \
    int64_t sum = 0;                                                           \
    for (Worker* w : workers) sum += w->pools()[p]->server(s).stats.name.Get(); \
    AddNum(&out, #name, sum);                                                  \
  }
#define PROXY_MAX_SERVER_(name, description)                                   \
  {                                                                            \
    int64_t latest = 0;                                                        \
    for (Worker* w : workers) {                                                \
      latest = std::max(latest, w->pools()[p]->server(s).stats.name.Get());    \
    }                                                                          \
    AddNum(&out, #name, latest);                                               \
  }
      PROXY_SERVER_STATS(PROXY_SUM_SERVER_, PROXY_SUM_SERVER_, PROXY_MAX_SERVER_)
#undef PROXY_SUM_SERVER_
#undef PROXY_MAX_SERVER_
      EndNesting(&out);
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

absl::Status StatsServer::Start(const std::string& addr, uint16_t port) {
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

void StatsServer::Serve() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    // One document, then close; whatever the client sent is ignored (twemproxy's protocol).
    timeval tv{2, 0};
    setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    const std::string json = StatsJson(workers_, start_wall_us_);
    size_t sent = 0;
    while (sent < json.size()) {
      const ssize_t n = send(client, json.data() + sent, json.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    close(client);
  }
}

}  // namespace proxy

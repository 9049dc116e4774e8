// Resolution of a pool's plugins by name.
#include "core/proxy/shared_pool.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "api/registry.h"
#include "core/config/filter_chain.h"
#include "core/net/tcp_listener.h"
#include "core/proxy/connection_budget.h"

namespace proxy {
namespace {

// A TCP listener on the pool's address (core/net/tcp_listener.h: SO_REUSEPORT only when the
// pool asks for it, since it would let a second instance silently take half the clients).
absl::StatusOr<int> OpenTcpListener(const config::v1::Pool& config, bool reuseport) {
  const config::v1::TcpAddress& tcp = config.listen().tcp();
  TcpListenerSpec spec;
  spec.host = tcp.host();
  spec.port = static_cast<uint16_t>(tcp.port());
  spec.backlog = static_cast<int>(config.backlog());
  spec.reuseport = reuseport;
  TcpListenerFailure failure;
  const int fd = OpenTcpListenerSocket(spec, &failure);
  if (fd >= 0) return fd;
  const std::string where = absl::StrCat("pool '", config.name(), "': ");
  switch (failure.step) {
    case TcpListenerFailure::Step::kResolve:
      return absl::UnavailableError(
          absl::StrCat(where, "cannot resolve '", config.listen().raw(), "': ", failure.reason));
    case TcpListenerFailure::Step::kSocket:
      return absl::UnavailableError(absl::StrCat(where, "socket for '", config.listen().raw(),
                                                 "' failed: ", failure.reason));
    case TcpListenerFailure::Step::kBindOrListen:
      break;
  }
  return absl::UnavailableError(absl::StrCat(
      where, "bind to '", config.listen().raw(), "' failed: ", failure.reason,
      failure.error == EADDRINUSE
          ? (reuseport ? " (another process listens there with SO_REUSEPORT under a "
                         "different user, or without it)"
                       : " (is another instance running? `reuseport: true` is needed to "
                         "share the address on purpose)")
          : ""));
}

// A unix-domain listener: unlinks a stale file, and sets the asked permissions before
// listen(): until then a connect() to the path is refused, so no client can get in under the
// default mode.
absl::StatusOr<int> OpenUnixListener(const config::v1::Pool& config) {
  const config::v1::UnixSocket& unix_socket = config.listen().unix_socket();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, unix_socket.path().c_str(), sizeof(addr.sun_path) - 1);
  unlink(unix_socket.path().c_str());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      (unix_socket.permissions() == 0 ||
       chmod(unix_socket.path().c_str(), unix_socket.permissions()) == 0) &&
      listen(fd, static_cast<int>(config.backlog())) == 0) {
    return fd;
  }
  const int error = errno;
  if (fd >= 0) close(fd);
  // twemproxy's wording.
  return absl::UnavailableError(absl::StrCat("bind on p to addr '", config.listen().raw(),
                                             "' failed: ", std::strerror(error)));
}

}  // namespace

void ListenSockets::Close() {
  for (int fd : fds) {
    if (fd >= 0) close(fd);
  }
  fds.clear();
  if (!unix_path.empty() && !handed_over) unlink(unix_path.c_str());
  unix_path.clear();
}

std::string ListenerKey(const config::v1::Pool& config, size_t index) {
  return absl::StrCat("pool ", config.listen().raw(), " ", index);
}

absl::StatusOr<std::shared_ptr<ListenSockets>> OpenListener(const config::v1::Pool& config,
                                                          unsigned workers,
                                                          std::map<std::string, int>* inherited) {
  auto sockets = std::make_shared<ListenSockets>();
  sockets->key = config.listen().raw();
  const bool per_worker = !config.listen().has_unix_socket() && config.reuseport();
  sockets->serving_workers = ServingWorkers(workers, config.max_server_connections());
  const size_t count = per_worker ? sockets->serving_workers : 1;
  for (size_t i = 0; i < count; ++i) {
    if (inherited != nullptr) {
      auto it = inherited->find(ListenerKey(config, i));
      if (it != inherited->end()) {
        sockets->fds.push_back(it->second);
        inherited->erase(it);
        continue;
      }
    }
    absl::StatusOr<int> fd = config.listen().has_unix_socket()
                                 ? OpenUnixListener(config)
                                 : OpenTcpListener(config, per_worker);
    if (!fd.ok()) return fd.status();
    sockets->fds.push_back(*fd);
  }
  // Unlinked when it stops listening (also when it was inherited: it is ours now).
  if (config.listen().has_unix_socket()) sockets->unix_path = config.listen().unix_socket().path();
  return sockets;
}

absl::StatusOr<SharedPoolPtr> BuildSharedPool(const config::v1::Pool& config,
                                              const ProxyLimits& limits) {
  auto pool = std::make_shared<SharedPool>();
  pool->config = config;
  pool->limits = limits;
  const CodecFactory* codec = Registry<CodecFactory>::Find(config.protocol());
  if (codec == nullptr) {
    return absl::NotFoundError(absl::StrCat("pool '", config.name(), "': protocol '",
                                            config.protocol(),
                                            "' is not linked into this binary (linked: ",
                                            Registry<CodecFactory>::NamesForMessage(), ")"));
  }
  pool->codec = std::shared_ptr<const Codec>(codec->Create(config));
  absl::StatusOr<KeyPlacementPtr> placement = KeyPlacement::Create(config);
  if (placement.ok()) pool->placement = std::shared_ptr<const KeyPlacement>(*std::move(placement));
  // TLS: a file that cannot be loaded fails the pool (the start or the reload), saying why.
  for (const auto& [tls, side, out] :
       {std::tuple<const config::v1::Tls&, tls::Side, tls::TlsContextPtr*>{
            config.tls(), tls::Side::kAccept, &pool->tls},
        {config.server_tls(), tls::Side::kConnect, &pool->server_tls}}) {
    if (!tls.enabled()) continue;
    absl::StatusOr<tls::TlsContextPtr> context = tls::TlsContext::Create(tls, side);
    if (!context.ok()) {
      return absl::Status(context.status().code(),
                          absl::StrCat("pool '", config.name(), "': ", context.status().message()));
    }
    *out = *std::move(context);
  }
  // Each worker instantiates the chain (PoolRuntime::BuildFilters); here it is only resolved.
  std::vector<config::FilterChainIssue> issues;
  pool->filters = config::ResolveFilterChain(config, &issues);
  if (!issues.empty()) return issues.front().ToStatus(config.name());
  return pool;
}

}  // namespace proxy

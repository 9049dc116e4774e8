// The connect steps shared by ServerConnection and HealthProbe (server_connect.h).
#include "core/proxy/server_connect.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cerrno>

#include "core/proxy/worker.h"

namespace proxy {

bool LookUpServer(Worker& worker, const ServerAddress& address, evdns_getaddrinfo_cb done,
                  void* arg, evdns_getaddrinfo_request** lookup) {
  evdns_base* dns = worker.dns();
  if (dns == nullptr) return false;
  evutil_addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = EVUTIL_AI_NUMERICSERV;
  // A synchronous answer has already run `done` (which clears *lookup): the result is null.
  *lookup = evdns_getaddrinfo(dns, address.host.c_str(), address.port.c_str(), &hints, done, arg);
  return true;
}

int OpenServerSocket(int family) {
  const int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0 && family != AF_UNIX) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  return fd;
}

int ConnectSocket(int fd, const sockaddr* addr, socklen_t len) {
  return connect(fd, addr, len) == 0 ? 0 : errno;
}

std::vector<std::string> ServerHandshake(PoolRuntime& pool, const ServerState& server,
                                         const Codec& codec) {
  const std::string& node = server.replica && server.index < pool.server_count()
                                ? pool.server(server.index).name
                                : server.name;
  return codec.ServerHandshakeFor(node);
}

std::unique_ptr<tls::TlsSession> ConnectTls(PoolRuntime& pool, const ServerState& server,
                                            int fd) {
  return tls::TlsSession::Connect(pool.shared().server_tls, fd,
                                  server.address.is_unix ? "" : tls::HostOf(server.where));
}

}  // namespace proxy

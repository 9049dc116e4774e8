// getaddrinfo (the first result), socket, SO_REUSEADDR (+ SO_REUSEPORT), bind, listen.
#include "core/net/tcp_listener.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace proxy {

int OpenTcpListenerSocket(const TcpListenerSpec& spec, TcpListenerFailure* failure) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* result = nullptr;
  const std::string service = std::to_string(spec.port);
  const int rc = getaddrinfo(spec.host.c_str(), service.c_str(), &hints, &result);
  if (rc != 0 || result == nullptr) {
    if (result != nullptr) freeaddrinfo(result);
    *failure = {TcpListenerFailure::Step::kResolve, 0, gai_strerror(rc)};
    return -1;
  }
  const int flags = SOCK_STREAM | SOCK_CLOEXEC | (spec.nonblocking ? SOCK_NONBLOCK : 0);
  int fd = socket(result->ai_family, flags, 0);
  if (fd < 0) {
    const int error = errno;
    freeaddrinfo(result);
    *failure = {TcpListenerFailure::Step::kSocket, error, std::strerror(error)};
    return -1;
  }
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (spec.reuseport) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (bind(fd, result->ai_addr, result->ai_addrlen) != 0 || listen(fd, spec.backlog) != 0) {
    const int error = errno;
    close(fd);
    freeaddrinfo(result);
    *failure = {TcpListenerFailure::Step::kBindOrListen, error, std::strerror(error)};
    return -1;
  }
  freeaddrinfo(result);
  return fd;
}

}  // namespace proxy

// A listening TCP socket on host:port: the resolve/socket/bind/listen sequence shared by the
// pools' listeners (core/proxy/shared_pool.cc) and the stats port (core/stats/stats_server.cc).
// Each caller words its own errors (twemproxy's for the stats port), so a failure is returned
// as the step that failed and its reason rather than as a message.
#pragma once

#include <cstdint>
#include <string>

namespace proxy {

struct TcpListenerSpec {
  std::string host;  // a numeric address or a name; "0.0.0.0"/"::" for every interface
  uint16_t port = 0;
  int backlog = 0;  // listen()'s queue of connections not yet accepted
  // Non-blocking accepts (a libevent loop); the stats port's thread polls, then accepts.
  bool nonblocking = true;
  // SO_REUSEPORT: lets other sockets (other processes of the same user) share the address. Only
  // when asked for: otherwise a second instance would silently take half the clients.
  bool reuseport = false;
};

struct TcpListenerFailure {
  enum class Step { kResolve, kSocket, kBindOrListen };
  Step step = Step::kResolve;
  int error = 0;       // errno of kSocket and kBindOrListen (EADDRINUSE...), 0 for kResolve
  std::string reason;  // gai_strerror() or strerror()
};

// The listening socket (close-on-exec, SO_REUSEADDR), or -1 with `*failure` filled.
// SO_REUSEADDR only lets a restart bind over TIME_WAIT sockets; on Linux it never lets two
// listening sockets share an address.
int OpenTcpListenerSocket(const TcpListenerSpec& spec, TcpListenerFailure* failure);

}  // namespace proxy

// Connecting to a backend server: the steps ServerConnection (client traffic) and HealthProbe
// (health checks, a connection of their own) share before their own protocol starts.
#pragma once

#include <event2/dns.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "api/codec.h"
#include "core/tls/tls_session.h"

namespace proxy {

class PoolRuntime;
class Worker;
struct ServerAddress;
struct ServerState;

// Starts looking up `address`'s host name without blocking the loop (evdns): `done(arg)` gets
// the answer, possibly before this returns (from /etc/hosts). `*lookup` is the lookup still
// pending (to cancel), null once answered. False when the worker has no resolver.
bool LookUpServer(Worker& worker, const ServerAddress& address, evdns_getaddrinfo_cb done,
                  void* arg, evdns_getaddrinfo_request** lookup);

// A non-blocking socket to connect to a server of `family`; TCP_NODELAY on TCP (the proxy
// batches its own writes: Nagle would only delay them). -1 with errno set.
int OpenServerSocket(int family);

// connect() on a non-blocking socket: 0 when connected at once (unix sockets), EINPROGRESS
// when it completes later (the socket becomes writable), else the errno of the failure.
int ConnectSocket(int fd, const sockaddr* addr, socklen_t len);

// The requests that open a connection to `server` (the codec's AUTH/SELECT/HELLO). A replica
// authenticates like its master (server_auth's per-server credentials).
std::vector<std::string> ServerHandshake(PoolRuntime& pool, const ServerState& server,
                                         const Codec& codec);

// `server_tls:` pools: the client side of a TLS session on the connected `fd` (the name
// checked and sent as SNI: the server's host). Null when none could be made.
std::unique_ptr<tls::TlsSession> ConnectTls(PoolRuntime& pool, const ServerState& server, int fd);

}  // namespace proxy

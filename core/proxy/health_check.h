// Active health checks (`health_check_interval`, docs/high-availability.md): one probe per
// server and worker sends the codec's check request (redis PING, memcache `version`; a
// replica's sync check, INFO replication, for pools that read from replicas) on a
// connection of its own, after the codec's handshake (AUTH/SELECT), once per interval. A check
// not answered by the next tick, a failed connect or an error reply fails it; the pool decides
// what failures mean (PoolRuntime::OnHealthCheck).
#pragma once

#include <event2/dns.h>
#include <event2/event.h>

#include <cstdint>
#include <memory>
#include <string>

#include "api/codec.h"
#include "core/buffer/evbuffer_buffer.h"
#include "core/tls/tls_session.h"

namespace proxy {

class PoolRuntime;
struct ServerState;

class HealthProbe {
 public:
  HealthProbe(PoolRuntime& pool, ServerState& server);
  ~HealthProbe();
  HealthProbe(const HealthProbe&) = delete;
  HealthProbe& operator=(const HealthProbe&) = delete;

  // One interval has passed: a check still unanswered fails (and its connection is dropped);
  // then the next check is sent, connecting first when needed.
  void Tick();

 private:
  enum class State { kIdle, kResolving, kConnecting, kHandshaking, kConnected };

  static void OnEvent(evutil_socket_t fd, short what, void* arg);
  static void OnResolved(int result, evutil_addrinfo* addresses, void* arg);
  void StartConnect(const sockaddr* addr, socklen_t len);
  // The TCP connect completed: the TLS handshake first on `server_tls:` pools, then the
  // queued requests go out.
  void Connected();
  void ContinueTls();
  // Watches the socket for reads, plus writes when `write`.
  void Watch(bool write);
  void Send();
  void Flush();
  void HandleReadable();
  // Reports the outcome (once per check) and, on failure, drops the connection.
  void Done(bool ok, absl::string_view why);
  void CloseSocket();

  PoolRuntime& pool_;
  ServerState& server_;
  std::shared_ptr<const Codec> codec_;
  // The check: Codec::HealthCheckRequest, or ReplicaCheckRequest for a replica (whose reply
  // then decides, Codec::CheckReplicaReply).
  const std::string request_;
  ReplyDecoderPtr decoder_;
  State state_ = State::kIdle;
  int fd_ = -1;
  event* event_ = nullptr;
  evdns_getaddrinfo_request* lookup_ = nullptr;
  EvBuffer in_;
  EvBuffer out_;
  std::unique_ptr<tls::TlsSession> tls_;  // server_tls: pools
  Reply reply_;
  bool outstanding_ = false;  // a check was sent (or is being connected for) and not answered
  size_t replies_left_ = 0;   // handshake replies, then the check's
};

}  // namespace proxy

// One connection to a backend server: requests from many clients are pipelined over it with
// batched writes; replies come back in order and are matched to the head of its queue.
#pragma once

#include <event2/dns.h>
#include <event2/event.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "api/codec.h"
#include "core/buffer/evbuffer_buffer.h"
#include "core/proxy/pending_request.h"
#include "core/proxy/server_queue.h"
#include "core/tls/tls_session.h"

namespace proxy {

class ClientConnection;
class PoolRuntime;
struct ServerState;

class ServerConnection {
 public:
  // `variant`: the connection class (api/codec.h Codec::Variant: RESP3, memcache binary);
  // `dedicated`: reserved for pinned clients (transactions), never picked for shared traffic.
  ServerConnection(PoolRuntime& pool, ServerState& server, uint8_t variant = 0,
                   bool dedicated = false);
  ~ServerConnection();
  // Shutdown only (every client is already closed): drops this connection's references to the
  // requests still queued on it, freeing those no one else holds.
  void ReleaseRequests();

  // Starts a non-blocking connect (and queues the AUTH/SELECT handshake). False with errno set
  // when no socket could be created.
  bool Connect();

  // Queues the request's bytes (already appended to output()) for `request` (fragment index or
  // -1). Requests that expect no reply are not tracked.
  void Enqueue(PendingRequest* request, int32_t fragment, size_t bytes, bool expects_reply);
  EvBuffer& output() { return out_; }
  // Queues one request of the proxy's own (a pinned connection's prelude or reset); its reply
  // is read and dropped, whatever it is.
  void SendInternal(absl::string_view bytes);

  uint8_t variant() const { return variant_; }
  const Codec& codec() const { return codec_; }
  bool dedicated() const { return dedicated_; }
  // The client pinned to this dedicated connection (null = free); told when it closes.
  void SetPinnedClient(ClientConnection* client) { pinned_client_ = client; }
  ClientConnection* pinned_client() const { return pinned_client_; }
  // Asks for a write at the end of the current batch of events.
  void ScheduleFlush();

  bool closed() const { return state_ == State::kClosed; }
  // Its server left the configuration (a reload): closes now if nothing is outstanding, else
  // as soon as the last reply has been read. Not counted as a failure.
  void CloseWhenIdle();
  // Closes now: every request queued on it fails with `error` (not counted as the server's
  // failure: it moved).
  void Abort(int error) { Fail(error, false, /*counts=*/false); }
  // Writes what is queued (called by the worker at the end of a batch of events).
  void Flush();
  // errno of the failure that closed it (0 for EOF).
  int error() const { return error_; }
  ServerState& server() { return server_; }

  // Backpressure: more than ProxyLimits::max_server_unsent_bytes are waiting to be written
  // (the server stops reading). Clients that fed it wait (AddWaiter) until it drains below
  // half of the bound, or closes.
  bool OverUnsentLimit() const { return out_.Length() >= unsent_limit_; }
  void AddWaiter(ClientConnection* client) { waiters_.push_back(client); }
  void RemoveWaiter(ClientConnection* client);

 private:
  enum class State { kResolving, kConnecting, kConnected, kClosed };

  using Entry = ServerQueue::Entry;

  static void OnResolved(int result, evutil_addrinfo* addresses, void* arg);
  // Opens the socket and starts connecting to `addr`; false with errno on immediate failure.
  bool StartConnect(const sockaddr* addr, socklen_t len);
  static void OnEvent(evutil_socket_t fd, short what, void* arg);
  static void OnTimeout(evutil_socket_t fd, short what, void* arg);
  void HandleConnected();
  // `server_tls:` pools: advances the TLS handshake (docs/tls.md); false while it waits or
  // when it failed (the connection is then failed, counted like a failed connect).
  bool ContinueTlsHandshake();
  // One read and the replies it completes; false when nothing was read or it closed.
  bool HandleReadable();
  void ArmTimer();
  // Closes the connection: every queued request fails with `error` (errno). `counts` says
  // whether this counts toward the server's failures (see the rule in server_connection.cc).
  void Fail(int error, bool eof, bool counts = true);
  // Closes a connection with nothing outstanding (CloseWhenIdle): no error, no failure.
  void CloseQuietly();
  // The socket, its events and a pending lookup go; the pool forgets the connection.
  void ReleaseSocket();
  // Nothing is outstanding: every request written and no reply awaited.
  bool Idle() const;
  void WakeWaiters();
  void Deliver(Entry& entry, size_t wire_size);
  // The request of an entry of a closed connection fails (its reference is dropped).
  void FailEntry(Entry& entry, int error);

  PoolRuntime& pool_;
  ServerState& server_;
  // The codec of the config this connection was opened under (a reload may replace the pool's;
  // this one stays alive for the connection's life), and its variant this connection speaks.
  std::shared_ptr<const Codec> codec_owner_;
  const Codec& codec_;
  uint8_t variant_;
  bool dedicated_;
  ClientConnection* pinned_client_ = nullptr;
  int fd_ = -1;
  State state_ = State::kConnecting;
  event* io_event_ = nullptr;     // EV_READ|EV_PERSIST, plus EV_WRITE while output is blocked
  event* write_event_ = nullptr;  // EV_WRITE one-shot while connecting or blocked
  // `server_tls:`: made when the TCP connect completes; the connection is kConnecting until
  // its handshake is done, so nothing (not even AUTH/SELECT) is written before.
  std::unique_ptr<tls::TlsSession> tls_;
  bool flush_scheduled_ = false;
  event* timer_ = nullptr;
  bool timer_armed_ = false;
  EvBuffer in_;
  EvBuffer out_;
  ReplyDecoderPtr decoder_;
  Reply reply_;
  ServerQueue queue_;  // the requests written or being written, in wire order
  bool counted_connected_ = false;
  bool close_when_idle_ = false;
  // The handshake's replies: how many were checked (Codec::CheckHandshakeReply's index), how
  // many there are, and, while the codec gates requests behind them, how many bytes (the
  // handshake's own) may still be written.
  size_t setup_checked_ = 0;
  size_t setup_total_ = 0;
  bool gated_ = false;
  size_t gate_bytes_ = 0;
  // The last reply read was an error: a close right after it was caused by that request.
  bool last_reply_error_ = false;
  int error_ = 0;
  size_t unsent_limit_;
  std::vector<ClientConnection*> waiters_;  // clients not read from until out_ drains
  evdns_getaddrinfo_request* lookup_ = nullptr;
};

}  // namespace proxy

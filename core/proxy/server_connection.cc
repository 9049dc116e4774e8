// ServerConnection: connect, handshake, batched writes, in-order reply matching, timeouts and
// failure handling (twemproxy's timeouts and ejection; the counting rule is below).
//
// What counts toward a server's failures (server_failure_limit, auto_eject_hosts). The rule:
// only what the server or the network does on its own, never what one client's input alone
// can cause, because every client shares this connection and an ejection remaps everyone's
// keys.
//   Counted:     a connect that fails (refused, unreachable, lookup failure); the connection
//                reset, closed by the server or failing a write while no error reply has just
//                been read; a request that gets no reply within the pool's `timeout`; an
//                -OOM/-BUSY/-LOADING reply to the proxy's own connection setup (AUTH/SELECT).
//   Not counted: any reply to a client's request, error replies included, even -OOM, -BUSY,
//                -LOADING (a client picks the text of an error, e.g. a script's error_reply);
//                a reply the proxy cannot decode or did not expect (too large for
//                --max-request-bytes, or framed differently: both follow from what a client
//                sent; the connection is still closed, since the stream cannot be resynchronised);
//                a close right after an error reply (the server dropped the connection because
//                of that request, e.g. redis's "Protocol error"); the proxy's own lack of
//                descriptors or memory when opening a connection (see PoolRuntime::PickConnection).
// Limit: a command whose running time the client controls (a long script, a huge SORT) can
// still hold a server past the pool's timeout, which is counted as the server not answering;
// refuse such commands with command_policy on pools shared by untrusted clients.
#include "core/proxy/server_connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/common/log.h"
#include "core/net/accept_failures.h"
#include "core/proxy/client_connection.h"
#include "core/proxy/server_connect.h"
#include "core/proxy/tuning.h"
#include "core/proxy/worker.h"

namespace proxy {

namespace {

const Codec& VariantCodec(const SharedPool& shared, uint8_t variant) {
  const Codec* codec = shared.codec->Variant(variant);
  return codec != nullptr ? *codec : *shared.codec;
}

}  // namespace

ServerConnection::ServerConnection(PoolRuntime& pool, ServerState& server, uint8_t variant,
                                   bool dedicated)
    : pool_(pool), server_(server), codec_owner_(pool.shared().codec),
      codec_(VariantCodec(pool.shared(), variant)),
      variant_(variant), dedicated_(dedicated),
      unsent_limit_(std::max<size_t>(pool.shared().limits.max_server_unsent_bytes, 1)) {
  decoder_ = codec_.NewReplyDecoder(pool.shared().limits.decoder);
}

ServerConnection::~ServerConnection() {
  if (lookup_ != nullptr) evdns_getaddrinfo_cancel(lookup_);
  if (io_event_ != nullptr) event_free(io_event_);
  if (write_event_ != nullptr) event_free(write_event_);
  if (timer_ != nullptr) event_free(timer_);
  if (fd_ >= 0) close(fd_);
}

bool ServerConnection::Connect() {
  const ServerAddress& address = server_.address;
  event_base* base = pool_.worker().base();
  timer_ = evtimer_new(base, &OnTimeout, this);
  // The proxy's own AUTH / SELECT go first (and a replica's READONLY); their replies are
  // consumed here.
  std::vector<std::string> handshake = ServerHandshake(pool_, server_, codec_);
  if (server_.replica) {
    for (std::string& request : codec_.ReplicaHandshake()) handshake.push_back(std::move(request));
  }
  for (const std::string& request : handshake) {
    ++setup_total_;
    gate_bytes_ += request.size();
    out_.Append(request);
    queue_.Push(nullptr, -1, request.size(), 0, true, pool_.worker().now_us(), /*setup=*/true);
    // Counted like every queued request: Flush() moves each written entry out of in_queue.
    server_.stats.in_queue.Add(1);
    server_.stats.in_queue_bytes.Add(static_cast<int64_t>(request.size()));
  }
  gated_ = setup_total_ > 0 && codec_.HandshakeGatesRequests();
  if (address.resolved) {
    return StartConnect(reinterpret_cast<const sockaddr*>(&address.addr), address.len);
  }
  // A host name: look it up without blocking the loop; requests queue meanwhile.
  state_ = State::kResolving;
  if (!LookUpServer(pool_.worker(), address, &OnResolved, this, &lookup_)) {
    errno = EHOSTDOWN;
    return false;
  }
  return true;
}

void ServerConnection::OnResolved(int result, evutil_addrinfo* addresses, void* arg) {
  auto* self = static_cast<ServerConnection*>(arg);
  self->lookup_ = nullptr;
  if (result == EVUTIL_EAI_CANCEL) {
    if (addresses != nullptr) evutil_freeaddrinfo(addresses);
    return;  // the connection is being destroyed
  }
  self->pool_.worker().UpdateClock();
  if (result != 0 || addresses == nullptr) {
    PROXY_LOG(log::kWarn, "pool %s: cannot resolve server %s: %s", self->pool_.Name(),
              self->server_.raw,
              evutil_gai_strerror(result));
    if (addresses != nullptr) evutil_freeaddrinfo(addresses);
    self->Fail(EHOSTDOWN, false);  // twemproxy's "Host is down"
    return;
  }
  const bool ok =
      self->StartConnect(addresses->ai_addr, static_cast<socklen_t>(addresses->ai_addrlen));
  const int error = errno;
  evutil_freeaddrinfo(addresses);
  // The proxy's own lack of descriptors or memory is not the server's failure.
  if (!ok) {
    self->Fail(error, false, !IsLocalResourceError(error));
  }
}

bool ServerConnection::StartConnect(const sockaddr* addr, socklen_t len) {
  state_ = State::kConnecting;
  fd_ = OpenServerSocket(addr->sa_family);
  if (fd_ < 0) return false;
  pool_.worker().ConnectionOpened();
  event_base* base = pool_.worker().base();
  io_event_ = event_new(base, fd_, EV_READ | EV_PERSIST, &OnEvent, this);
  write_event_ = event_new(base, fd_, EV_WRITE, &OnEvent, this);
  const int rc = ConnectSocket(fd_, addr, len);
  if (rc == 0) {
    // Unix-domain sockets connect synchronously; they are counted too (twemproxy misses them).
    event_add(io_event_, nullptr);
    HandleConnected();
    return true;
  }
  if (rc != EINPROGRESS) {
    close(fd_);
    fd_ = -1;
    pool_.worker().ConnectionClosed();
    errno = rc;
    return false;
  }
  event_add(io_event_, nullptr);
  event_add(write_event_, nullptr);
  return true;
}

void ServerConnection::OnEvent(evutil_socket_t, short what, void* arg) {
  auto* self = static_cast<ServerConnection*>(arg);
  self->pool_.worker().UpdateClock();
  if (self->state_ == State::kConnecting) {
    self->HandleConnected();
    if (self->state_ != State::kConnected) return;
  } else if ((what & EV_WRITE) != 0) {
    self->Flush();
  }
  if ((what & EV_READ) != 0 && self->state_ == State::kConnected) self->HandleReadable();
}


void ServerConnection::OnTimeout(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<ServerConnection*>(arg);
  self->pool_.worker().UpdateClock();
  self->timer_armed_ = false;
  for (const Entry& entry : self->queue_.entries()) {
    if (entry.deadline_us == 0) continue;
    if (entry.deadline_us <= self->pool_.worker().now_us()) {
      self->Fail(ETIMEDOUT, false);
      return;
    }
    break;
  }
  self->ArmTimer();
}

void ServerConnection::HandleConnected() {
  if (tls_ == nullptr) {
    int error = 0;
    socklen_t len = sizeof(error);
    if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
    if (error != 0) {
      Fail(error, false);
      return;
    }
    if (pool_.shared().server_tls != nullptr) {
      tls_ = ConnectTls(pool_, server_, fd_);
      if (tls_ == nullptr) {
        Fail(ENOMEM, false, /*counts=*/false);
        return;
      }
    }
  }
  if (tls_ != nullptr && !tls_->established() && !ContinueTlsHandshake()) return;
  state_ = State::kConnected;
  counted_connected_ = true;
  server_.stats.server_connections.Add(1);
  Flush();
}

bool ServerConnection::ContinueTlsHandshake() {
  switch (tls_->Handshake()) {
    case tls::TlsSession::Step::kDone:
      return true;
    case tls::TlsSession::Step::kWantRead:
      return false;  // io_event_ is on
    case tls::TlsSession::Step::kWantWrite:
      event_add(write_event_, nullptr);
      return false;
    case tls::TlsSession::Step::kFailed:
    case tls::TlsSession::Step::kClosed:  // a server that closes at once: failed all the same
      break;
  }
  if (tls_->error().empty()) {
    Fail(0, true);  // an EOF, counted like one
    return false;
  }
  tls::LogServerHandshakeFailure(pool_.Name(), server_.raw, tls_->error(), pool_.worker().now_us());
  Fail(tls::kTlsHandshakeFailed, false);
  return false;
}

void ServerConnection::Enqueue(PendingRequest* request, int32_t fragment, size_t bytes,
                               bool expects_reply) {
  uint64_t deadline = 0;
  const uint32_t timeout_ms = pool_.Config().timeout_ms();
  if (expects_reply && timeout_ms > 0) {
    deadline = pool_.worker().now_us() + static_cast<uint64_t>(timeout_ms) * 1000u;
  }
  // Requests that expect no reply are not held: their client completes them now.
  queue_.Push(expects_reply ? request : nullptr, fragment, bytes, deadline, expects_reply,
              pool_.worker().now_us(), /*setup=*/false);
  ServerStats& stats = server_.stats;
  stats.requests.Add(1);
  stats.request_bytes.Add(static_cast<int64_t>(bytes));
  stats.in_queue.Add(1);
  stats.in_queue_bytes.Add(static_cast<int64_t>(bytes));
  if (deadline != 0 && !timer_armed_) ArmTimer();
  ScheduleFlush();
}

void ServerConnection::SendInternal(absl::string_view bytes) {
  out_.Append(bytes);
  queue_.Push(nullptr, -1, bytes.size(), 0, true, pool_.worker().now_us(), /*setup=*/false);
  server_.stats.in_queue.Add(1);
  server_.stats.in_queue_bytes.Add(static_cast<int64_t>(bytes.size()));
  ScheduleFlush();
}

void ServerConnection::ScheduleFlush() {
  if (state_ != State::kConnected) return;  // flushed when the connect completes
  if (!flush_scheduled_) {
    flush_scheduled_ = true;
    pool_.worker().ScheduleFlush(this);
  }
}

void ServerConnection::Flush() {
  flush_scheduled_ = false;
  if (state_ != State::kConnected) return;
  while (out_.Length() > 0) {
    // Gated: only the handshake goes out until its replies have been checked.
    if (gated_ && gate_bytes_ == 0) break;
    const ssize_t n = tls_ != nullptr ? tls::WriteFrom(*tls_, out_, gated_ ? gate_bytes_ : SIZE_MAX)
                      : gated_    ? out_.WriteTo(fd_, gate_bytes_)
                                  : out_.WriteTo(fd_);
    if (n > 0) {
      if (gated_) gate_bytes_ -= static_cast<size_t>(n);
      // Entries whose bytes are now fully written move from in_queue to out_queue.
      ServerStats& stats = server_.stats;
      queue_.Written(static_cast<size_t>(n), [&stats](const Entry& entry) {
        stats.in_queue.Add(-1);
        stats.in_queue_bytes.Add(-static_cast<int64_t>(entry.bytes));
        if (entry.expects_reply) {
          stats.out_queue.Add(1);
          stats.out_queue_bytes.Add(static_cast<int64_t>(entry.bytes));
        }
      });
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      event_add(write_event_, nullptr);
      if (!waiters_.empty() && out_.Length() <= unsent_limit_ / 2) WakeWaiters();
      return;
    }
    const int error = n < 0 ? errno : EPIPE;
    // The server may have answered (with an error) before it closed: read what it sent first,
    // so that a close caused by a client's request is recognised as such (see the rule above).
    for (int i = 0; i < kMaxReadsBeforeFailing && state_ == State::kConnected; ++i) {
      if (!HandleReadable()) break;
    }
    Fail(error, false, !last_reply_error_);
    return;
  }
  if (!waiters_.empty()) WakeWaiters();
  if (close_when_idle_ && Idle()) CloseQuietly();
}

void ServerConnection::RemoveWaiter(ClientConnection* client) {
  waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), client), waiters_.end());
}

void ServerConnection::WakeWaiters() {
  std::vector<ClientConnection*> waiters;
  waiters.swap(waiters_);
  for (ClientConnection* client : waiters) client->OnServerDrained();
}

bool ServerConnection::HandleReadable() {
  size_t chunk = pool_.shared().limits.read_chunk;
  if (in_.Length() > chunk) chunk = std::min<size_t>(in_.Length(), kMaxReadChunk);
  const ssize_t n = tls_ == nullptr ? in_.ReadFrom(fd_, chunk) : tls::ReadInto(*tls_, in_, chunk);
  if (n == 0) {
    Fail(0, true, !last_reply_error_);  // EOF with requests pending: twemproxy's "unknown"
    return false;
  }
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return false;
    Fail(errno, false, !last_reply_error_);
    return false;
  }
  std::string error;
  for (;;) {
    reply_.Reset();
    const DecodeResult result = decoder_->Decode(in_, &reply_, &error);
    if (result == DecodeResult::kNeedMoreData) break;
    if (result != DecodeResult::kMessage) {
      PROXY_LOG(log::kWarn, "pool %s: bad reply from server %s: %s", pool_.Name(),
                server_.raw, error);
      Fail(EINVAL, false, /*counts=*/false);
      return false;
    }
    // The reply's request (a partly written one's too: see ServerQueue::Head).
    const ServerQueue::Head head = queue_.HeadForReply();
    if (head == ServerQueue::Head::kNone) {
      PROXY_LOG(log::kWarn, "pool %s: stray reply from server %s", pool_.Name(),
                server_.raw);
      Fail(EINVAL, false, /*counts=*/false);
      return false;
    }
    Entry entry = queue_.PopForReply(head);
    if (head == ServerQueue::Head::kWritten) {
      server_.stats.out_queue.Add(-1);
      server_.stats.out_queue_bytes.Add(-static_cast<int64_t>(entry.bytes));
    } else {
      server_.stats.in_queue.Add(-1);
      server_.stats.in_queue_bytes.Add(-static_cast<int64_t>(entry.bytes));
    }
    // Any reply shows the server alive; only the proxy's own setup requests can count a
    // -OOM/-BUSY/-LOADING (a client's request may choose its error text).
    last_reply_error_ = reply_.is_error;
    if (reply_.server_failure && entry.setup) {
      pool_.RecordServerFailure(server_);
    } else {
      pool_.RecordServerSuccess(server_);
    }
    Deliver(entry, reply_.wire_size);
    if (state_ == State::kClosed) return false;
  }
  if (close_when_idle_ && Idle()) {
    CloseQuietly();
    return false;
  }
  ArmTimer();
  return true;
}

void ServerConnection::Deliver(Entry& entry, size_t wire_size) {
  // The entry keeps its reference to the request until the caller drops it, after this.
  PendingRequest* p = entry.request.get();
  if (p == nullptr) {
    if (entry.setup) {
      std::string text(std::min<size_t>(wire_size, kMaxHandshakeReplyBytes), '\0');
      in_.CopyOut(0, text.size(), text.data());
      const absl::Status status = codec_.CheckHandshakeReply(
          setup_checked_++, text, server_.replica ? ServerRole::kReplica : ServerRole::kMaster);
      if (!status.ok()) {
        PROXY_LOG(log::kWarn, "pool %s: server %s: %s", pool_.Name(), server_.raw,
                  status.message());
        in_.Drain(wire_size);
        // Nothing but the handshake was written (gated): the queued requests fail, and the
        // server counts a failure (it is not what the config or Sentinel says it is).
        Fail(EAGAIN, false, /*counts=*/true);
        return;
      }
      if (gated_ && setup_checked_ == setup_total_) {
        gated_ = false;  // every check passed: the requests go out
        ScheduleFlush();
      }
    }
    // The reply to our own AUTH/SELECT/HELLO, or to a pinned connection's prelude or reset
    // (an error there is expected: DISCARD without MULTI).
    if (reply_.is_error && entry.setup) {
      std::string text(std::min<size_t>(wire_size, kMaxQuotedText), '\0');
      in_.CopyOut(0, text.size(), text.data());
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
      PROXY_LOG(log::kWarn, "pool %s: server %s refused the connection setup: %s",
                pool_.Name(), server_.raw, text);
    }
    in_.Drain(wire_size);
    return;
  }
  server_.stats.responses.Add(1);
  server_.stats.response_bytes.Add(static_cast<int64_t>(wire_size));
  server_.stats.latency.Record(pool_.worker().now_us() - entry.queued_us);
  ClientConnection* client = p->client;
  if (reply_.is_error && client != nullptr && !dedicated_ && codec_.FollowsRedirects()) {
    // Redis Cluster: a redirection is followed, not answered (never on a transaction's
    // connection: its commands must stay on its node).
    std::string text(std::min<size_t>(wire_size, kMaxRedirectReplyBytes), '\0');
    in_.CopyOut(0, text.size(), text.data());
    const Codec::Redirect where = codec_.ParseRedirect(text);
    if (where.kind != Codec::Redirect::Kind::kNone &&
        client->FollowRedirect(p, entry.fragment, where, server_)) {
      in_.Drain(wire_size);
      return;
    }
  }
  if (client == nullptr) {
    in_.Drain(wire_size);  // the client left; its reply is read and dropped
  } else if (entry.fragment < 0) {
    client->OnServerReply(p, in_, wire_size);
  } else {
    client->OnFragmentReply(p, entry.fragment, reply_.is_error, in_, wire_size);
  }
}

void ServerConnection::ReleaseRequests() { queue_.Clear(); }

void ServerConnection::FailEntry(Entry& entry, int error) {
  PendingRequest* p = entry.request.get();
  if (p == nullptr) return;
  ClientConnection* client = p->client;
  if (client != nullptr) {
    if (entry.fragment < 0) {
      client->FailRequest(p, error);
    } else {
      client->FailFragment(p, error == 0 ? -1 : error);  // -1: EOF, "unknown"
    }
  }
  entry.request.reset();
}

void ServerConnection::ArmTimer() {
  // Without a pool timeout no entry has a deadline: skip the scan (it runs after every read).
  if (timer_ == nullptr || pool_.Config().timeout_ms() == 0) return;
  for (const Entry& entry : queue_.entries()) {
    if (entry.deadline_us == 0) continue;
    const uint64_t now = pool_.worker().now_us();
    const uint64_t wait = entry.deadline_us > now ? entry.deadline_us - now : 0;
    timeval tv{static_cast<time_t>(wait / 1000000u), static_cast<suseconds_t>(wait % 1000000u)};
    evtimer_add(timer_, &tv);
    timer_armed_ = true;
    return;
  }
  if (timer_armed_) {
    evtimer_del(timer_);
    timer_armed_ = false;
  }
}

void ServerConnection::Fail(int error, bool eof, bool counts) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  error_ = error;
  ServerStats& stats = server_.stats;
  if (eof) {
    stats.server_eof.Add(1);
  } else if (error == ETIMEDOUT) {
    stats.server_timedout.Add(1);
  } else {
    stats.server_err.Add(1);
  }
  if (counted_connected_) stats.server_connections.Add(-1);
  if (error != 0 && !eof) {
    PROXY_LOG(log::kWarn, "pool %s: server %s failed: %s", pool_.Name(), server_.raw,
              error == tls::kTlsHandshakeFailed ? "TLS handshake failed" : std::strerror(error));
  }
  std::deque<Entry> entries = queue_.TakeAll([&stats](const Entry& entry, bool unsent) {
    if (unsent) {
      stats.in_queue.Add(-1);
      stats.in_queue_bytes.Add(-static_cast<int64_t>(entry.bytes));
    } else if (entry.expects_reply) {
      stats.out_queue.Add(-1);
      stats.out_queue_bytes.Add(-static_cast<int64_t>(entry.bytes));
    }
  });
  ReleaseSocket();
  if (counts) pool_.RecordServerFailure(server_);
  // A pinned client loses its transaction's connection (its requests fail below).
  if (pinned_client_ != nullptr) {
    ClientConnection* client = pinned_client_;
    pinned_client_ = nullptr;
    client->OnPinLost(this);
  }
  // Clients held back by this connection's backlog go on (their next requests open another).
  WakeWaiters();
  for (Entry& entry : entries) FailEntry(entry, eof ? 0 : error);
  pool_.worker().DeferDelete(this);
}

void ServerConnection::ReleaseSocket() {
  if (io_event_ != nullptr) event_del(io_event_);
  if (write_event_ != nullptr) event_del(write_event_);
  if (timer_ != nullptr) evtimer_del(timer_);
  if (fd_ >= 0) {
    if (tls_ != nullptr) tls_->Shutdown();  // close_notify, before the socket goes
    close(fd_);
    pool_.worker().ConnectionClosed();
  }
  fd_ = -1;
  if (lookup_ != nullptr) {
    evdns_getaddrinfo_cancel(lookup_);
    lookup_ = nullptr;
  }
  pool_.ConnectionClosed(this);
}

bool ServerConnection::Idle() const { return pinned_client_ == nullptr && queue_.Idle(); }

void ServerConnection::CloseWhenIdle() {
  close_when_idle_ = true;
  if (state_ != State::kClosed && Idle()) CloseQuietly();
}

void ServerConnection::CloseQuietly() {
  if (state_ == State::kClosed) return;
  // Requests that expected no reply and are written are done; nothing else is outstanding.
  queue_.Clear();
  state_ = State::kClosed;
  if (counted_connected_) server_.stats.server_connections.Add(-1);
  ReleaseSocket();
  WakeWaiters();
  pool_.worker().DeferDelete(this);
}

}  // namespace proxy

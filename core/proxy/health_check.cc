// HealthProbe: a small connection of its own per server (never shared with client traffic, so
// a check can neither delay nor be delayed by client requests).
#include "core/proxy/health_check.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/proxy/server_connect.h"
#include "core/proxy/tuning.h"
#include "core/proxy/worker.h"

namespace proxy {

HealthProbe::HealthProbe(PoolRuntime& pool, ServerState& server)
    : pool_(pool),
      server_(server),
      codec_(pool.shared().codec),
      request_(server.replica ? codec_->ReplicaCheckRequest() : codec_->HealthCheckRequest()) {}

HealthProbe::~HealthProbe() { CloseSocket(); }

void HealthProbe::CloseSocket() {
  if (lookup_ != nullptr) {
    evdns_getaddrinfo_cancel(lookup_);
    lookup_ = nullptr;
  }
  if (event_ != nullptr) {
    event_free(event_);
    event_ = nullptr;
  }
  if (tls_ != nullptr) {
    tls_->Shutdown();
    tls_.reset();
  }
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  state_ = State::kIdle;
  decoder_.reset();
  in_.Drain(in_.Length());
  out_.Drain(out_.Length());
}

void HealthProbe::Tick() {
  if (outstanding_) Done(false, "no answer within the health check interval");
  outstanding_ = true;
  if (state_ == State::kConnected) {
    Send();
    return;
  }
  const ServerAddress& address = server_.address;
  if (address.resolved) {
    StartConnect(reinterpret_cast<const sockaddr*>(&address.addr), address.len);
    return;
  }
  state_ = State::kResolving;
  if (!LookUpServer(pool_.worker(), address, &OnResolved, this, &lookup_)) {
    Done(false, "no resolver for the server's host name");  // back to kIdle
  }
}

void HealthProbe::OnResolved(int result, evutil_addrinfo* addresses, void* arg) {
  auto* self = static_cast<HealthProbe*>(arg);
  self->lookup_ = nullptr;
  if (result == EVUTIL_EAI_CANCEL) {
    if (addresses != nullptr) evutil_freeaddrinfo(addresses);
    return;  // being destroyed
  }
  self->pool_.worker().UpdateClock();
  if (result != 0 || addresses == nullptr) {
    if (addresses != nullptr) evutil_freeaddrinfo(addresses);
    self->Done(false, "cannot resolve the server's host name");
    return;
  }
  self->StartConnect(addresses->ai_addr, static_cast<socklen_t>(addresses->ai_addrlen));
  evutil_freeaddrinfo(addresses);
}

void HealthProbe::StartConnect(const sockaddr* addr, socklen_t len) {
  fd_ = OpenServerSocket(addr->sa_family);
  if (fd_ < 0) {
    Done(false, std::strerror(errno));
    return;
  }
  decoder_ = codec_->NewReplyDecoder(pool_.shared().limits.decoder);
  // The handshake first (AUTH/SELECT: a server that refuses it fails the check), then the check.
  replies_left_ = 0;
  for (const std::string& request : ServerHandshake(pool_, server_, *codec_)) {
    out_.Append(request);
    ++replies_left_;
  }
  out_.Append(request_);
  ++replies_left_;
  const int rc = ConnectSocket(fd_, addr, len);
  if (rc != 0 && rc != EINPROGRESS) {
    Done(false, std::strerror(rc));
    return;
  }
  state_ = State::kConnecting;
  event_ = event_new(pool_.worker().base(), fd_,
                     static_cast<short>(EV_READ | EV_PERSIST | (rc != 0 ? EV_WRITE : 0)),
                     &OnEvent, this);
  event_add(event_, nullptr);
  if (rc == 0) Connected();
}

void HealthProbe::Watch(bool write) {
  event_del(event_);
  event_assign(event_, pool_.worker().base(), fd_,
               static_cast<short>(EV_READ | EV_PERSIST | (write ? EV_WRITE : 0)), &OnEvent, this);
  event_add(event_, nullptr);
}

void HealthProbe::Connected() {
  if (pool_.shared().server_tls != nullptr) {
    tls_ = ConnectTls(pool_, server_, fd_);
    if (tls_ == nullptr) {
      Done(false, "out of memory for a TLS session");
      return;
    }
    state_ = State::kHandshaking;
    ContinueTls();
    return;
  }
  state_ = State::kConnected;
  Watch(false);  // from now on only reads are watched
  Flush();
}

void HealthProbe::ContinueTls() {
  switch (tls_->Handshake()) {
    case tls::TlsSession::Step::kDone:
      state_ = State::kConnected;
      Watch(false);
      Flush();
      return;
    case tls::TlsSession::Step::kWantRead:
      Watch(false);
      return;
    case tls::TlsSession::Step::kWantWrite:
      Watch(true);
      return;
    case tls::TlsSession::Step::kFailed:
      Done(false, absl::StrCat("TLS handshake failed: ", tls_->error()));
      return;
    case tls::TlsSession::Step::kClosed:
      Done(false, "connection closed by the server during the TLS handshake");
      return;
  }
}

void HealthProbe::Send() {
  out_.Append(request_);
  replies_left_ = 1;
  Flush();
}

void HealthProbe::Flush() {
  while (out_.Length() > 0) {
    const ssize_t n = tls_ == nullptr ? out_.WriteTo(fd_) : tls::WriteFrom(*tls_, out_);
    if (n > 0) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    Done(false, n < 0 ? std::strerror(errno) : "write failed");
    return;
  }
}

void HealthProbe::OnEvent(evutil_socket_t, short what, void* arg) {
  auto* self = static_cast<HealthProbe*>(arg);
  self->pool_.worker().UpdateClock();
  if (self->state_ == State::kConnecting && (what & EV_WRITE) != 0) {
    int error = 0;
    socklen_t len = sizeof(error);
    if (getsockopt(self->fd_, SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
    if (error != 0) {
      self->Done(false, std::strerror(error));
      return;
    }
    self->Connected();
    if (self->state_ != State::kConnected) return;
  } else if (self->state_ == State::kHandshaking) {
    self->ContinueTls();
    return;
  }
  if ((what & EV_READ) != 0 && self->state_ == State::kConnected) self->HandleReadable();
}

void HealthProbe::HandleReadable() {
  const ssize_t n = tls_ == nullptr ? in_.ReadFrom(fd_, kHealthCheckReadChunk)
                                    : tls::ReadInto(*tls_, in_, kHealthCheckReadChunk);
  if (n == 0) {
    Done(false, "connection closed by the server");
    CloseSocket();  // also when no check was outstanding
    return;
  }
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    Done(false, std::strerror(errno));
    CloseSocket();
    return;
  }
  std::string error;
  while (in_.Length() > 0) {
    reply_.Reset();
    const DecodeResult result = decoder_->Decode(in_, &reply_, &error);
    if (result == DecodeResult::kNeedMoreData) return;
    if (result != DecodeResult::kMessage || replies_left_ == 0) {
      Done(false, "unexpected reply");
      CloseSocket();
      return;
    }
    if (reply_.is_error) {
      in_.Drain(reply_.wire_size);
      Done(false, "error reply");
      return;
    }
    if (--replies_left_ > 0) {
      in_.Drain(reply_.wire_size);
      continue;
    }
    if (!server_.replica) {
      in_.Drain(reply_.wire_size);
      Done(true, "");
      continue;
    }
    // A replica: is it in sync (Codec::CheckReplicaReply)?
    std::string text(std::min(reply_.wire_size, Codec::kMaxReplicaCheckReply), '\0');
    in_.CopyOut(0, text.size(), text.data());
    in_.Drain(reply_.wire_size);
    const absl::Status status = codec_->CheckReplicaReply(text);
    Done(status.ok(), status.message());
  }
}

void HealthProbe::Done(bool ok, absl::string_view why) {
  if (!ok) CloseSocket();
  if (!outstanding_) return;
  outstanding_ = false;
  pool_.OnHealthCheck(server_, ok, why);
}

}  // namespace proxy

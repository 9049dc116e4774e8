// TlsSession: OpenSSL's SSL object driven by the event loop (no blocking call anywhere).
#include "core/tls/tls_session.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/common/log.h"

namespace proxy::tls {
namespace {

bool IsIpAddress(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

std::unique_ptr<TlsSession> TlsSession::Accept(const TlsContextPtr& context, int fd) {
  SSL* ssl = SSL_new(context->raw());
  if (ssl == nullptr) return nullptr;
  SSL_set_fd(ssl, fd);
  SSL_set_accept_state(ssl);
  return std::unique_ptr<TlsSession>(new TlsSession(context, ssl));
}

std::unique_ptr<TlsSession> TlsSession::Connect(const TlsContextPtr& context, int fd,
                                                absl::string_view host) {
  SSL* ssl = SSL_new(context->raw());
  if (ssl == nullptr) return nullptr;
  SSL_set_fd(ssl, fd);
  SSL_set_connect_state(ssl);
  const std::string name = context->sni().empty() ? std::string(host) : context->sni();
  const bool ip = IsIpAddress(name);
  // SNI carries host names only (RFC 6066).
  if (!name.empty() && !ip) SSL_set_tlsext_host_name(ssl, name.c_str());
  if (context->verify() && !name.empty()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
    } else {
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      SSL_set1_host(ssl, name.c_str());
    }
  }
  return std::unique_ptr<TlsSession>(new TlsSession(context, ssl));
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

TlsSession::Step TlsSession::Handshake() {
  if (established_) return Step::kDone;
  if (broken_) return Step::kFailed;
  ERR_clear_error();
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    established_ = true;
    want_write_ = false;
    return Step::kDone;
  }
  const int error = SSL_get_error(ssl_, rc);
  if (error == SSL_ERROR_WANT_READ) return Step::kWantRead;
  if (error == SSL_ERROR_WANT_WRITE) return Step::kWantWrite;
  broken_ = true;
  if (error == SSL_ERROR_SSL) {
    error_ = TakeErrors("TLS error");
    const long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) {
      absl::StrAppend(&error_, " (", X509_verify_cert_error_string(verify), ")");
    }
  } else if (error == SSL_ERROR_SYSCALL && errno != 0) {
    error_ = absl::StrCat("connection error during the handshake: ", std::strerror(errno));
    ERR_clear_error();
  } else {
    ERR_clear_error();
    if (BIO_number_read(SSL_get_rbio(ssl_)) == 0) return Step::kClosed;
    error_ = "connection closed by the peer during the handshake";
  }
  return Step::kFailed;
}

ssize_t TlsSession::Fail(int rc) {
  const int error = SSL_get_error(ssl_, rc);
  switch (error) {
    case SSL_ERROR_WANT_READ:
      want_write_ = false;
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_WANT_WRITE:
      want_write_ = true;
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_ZERO_RETURN:  // close_notify, or a plain EOF (SSL_OP_IGNORE_UNEXPECTED_EOF)
      eof_ = true;
      return 0;
    case SSL_ERROR_SYSCALL: {
      const int saved = errno != 0 ? errno : ECONNRESET;
      ERR_clear_error();
      broken_ = true;
      broken_errno_ = saved;
      error_ = std::strerror(saved);
      errno = saved;
      return -1;
    }
    default:
      broken_ = true;
      broken_errno_ = EPROTO;
      error_ = TakeErrors("TLS error");
      errno = EPROTO;
      return -1;
  }
}

ssize_t TlsSession::Read(void* data, size_t len) {
  if (eof_) return 0;
  if (broken_) {
    errno = broken_errno_ != 0 ? broken_errno_ : EPROTO;
    return -1;
  }
  ERR_clear_error();
  size_t got = 0;
  const int rc = SSL_read_ex(ssl_, data, len, &got);
  if (rc == 1) return static_cast<ssize_t>(got);
  return Fail(rc);
}

ssize_t TlsSession::Write(const void* data, size_t len) {
  if (broken_ || eof_) {
    errno = broken_errno_ != 0 ? broken_errno_ : EPIPE;
    return -1;
  }
  if (len == 0) return 0;
  ERR_clear_error();
  size_t written = 0;
  const int rc = SSL_write_ex(ssl_, data, len, &written);
  if (rc == 1) {
    want_write_ = false;
    return static_cast<ssize_t>(written);
  }
  return Fail(rc);
}

size_t TlsSession::Pending() const { return static_cast<size_t>(SSL_pending(ssl_)); }

void TlsSession::Shutdown() {
  if (!established_ || broken_) return;
  broken_ = true;  // once
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

std::string TlsSession::Describe() const {
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_);
  return absl::StrCat(SSL_get_version(ssl_), " ",
                      cipher != nullptr ? SSL_CIPHER_get_name(cipher) : "(none)");
}

absl::string_view HostOf(absl::string_view host_port) {
  const size_t colon = host_port.rfind(':');
  return colon == absl::string_view::npos ? host_port : host_port.substr(0, colon);
}

ssize_t ReadInto(TlsSession& session, EvBuffer& buffer, size_t max) {
  size_t total = 0;
  for (;;) {
    size_t want = max > total ? max - total : 0;
    if (want == 0) {
      // The bound is reached; bytes OpenSSL already decrypted are taken too (the socket
      // would not say they are there).
      want = session.Pending();
      if (want == 0) break;
    }
    evbuffer_iovec vec;
    if (evbuffer_reserve_space(buffer.raw(), static_cast<ev_ssize_t>(want), &vec, 1) != 1) {
      if (total > 0) break;
      errno = ENOMEM;
      return -1;
    }
    const size_t room = vec.iov_len < want ? vec.iov_len : want;
    const ssize_t n = session.Read(vec.iov_base, room);
    if (n <= 0) {
      evbuffer_commit_space(buffer.raw(), &vec, 0);
      // What was read is reported first; EOF or the error come with the next call.
      return total > 0 ? static_cast<ssize_t>(total) : n;
    }
    vec.iov_len = static_cast<size_t>(n);
    evbuffer_commit_space(buffer.raw(), &vec, 1);
    total += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(total);
}

ssize_t WriteFrom(TlsSession& session, EvBuffer& buffer, size_t max) {
  // One record's worth at a time: made contiguous (a copy, which encryption makes anyway).
  constexpr size_t kRecord = 16384;
  size_t total = 0;
  while (total < max && buffer.Length() > 0) {
    size_t chunk = buffer.Length();
    if (chunk > max - total) chunk = max - total;
    if (chunk > kRecord) chunk = kRecord;
    const unsigned char* data = evbuffer_pullup(buffer.raw(), static_cast<ev_ssize_t>(chunk));
    const ssize_t n = session.Write(data, chunk);
    if (n <= 0) return total > 0 ? static_cast<ssize_t>(total) : n;
    buffer.Drain(static_cast<size_t>(n));
    total += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(total);
}

bool LogAllowed(uint64_t now_us, uint64_t* suppressed) {
  thread_local uint64_t second = 0;
  thread_local uint32_t lines = 0;
  thread_local uint64_t dropped = 0;
  const uint64_t this_second = now_us / 1000000u;
  if (this_second != second) {
    second = this_second;
    lines = 0;
  }
  if (lines >= 10) {
    ++dropped;
    return false;
  }
  ++lines;
  *suppressed = dropped;
  dropped = 0;
  return true;
}

namespace {

std::string PeerAddress(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "(unknown)";
  char host[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    return absl::StrCat(host, ":", ntohs(in->sin_port));
  }
  if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    return absl::StrCat("[", host, "]:", ntohs(in6->sin6_port));
  }
  return "(unix socket)";
}

std::string Suppressed(uint64_t suppressed) {
  return suppressed == 0 ? std::string()
                         : absl::StrCat(" (", suppressed, " such lines suppressed before this)");
}

}  // namespace

void LogClientHandshakeFailure(absl::string_view pool, int fd, absl::string_view error,
                               uint64_t now_us) {
  uint64_t suppressed = 0;
  if (!log::Enabled(log::kWarn) || !LogAllowed(now_us, &suppressed)) return;
  PROXY_LOG(log::kWarn, "pool %s: TLS handshake with client %s failed: %s; closed%s", pool,
            PeerAddress(fd), error, Suppressed(suppressed));
}

void LogServerHandshakeFailure(absl::string_view pool, absl::string_view server,
                               absl::string_view error, uint64_t now_us) {
  uint64_t suppressed = 0;
  if (!log::Enabled(log::kWarn) || !LogAllowed(now_us, &suppressed)) return;
  PROXY_LOG(log::kWarn, "pool %s: TLS handshake with server %s failed: %s", pool, server, error,
            Suppressed(suppressed));
}

}  // namespace proxy::tls

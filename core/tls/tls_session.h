// One non-blocking TLS connection over a socket the caller owns (docs/tls.md), and the EvBuffer
// I/O of the connections through it.
//
// Readiness: OpenSSL is used without read-ahead, so it only takes from the socket the record it
// is decrypting, and ReadInto() always takes every byte already decrypted. What is left to read
// is therefore in the socket, where the event loop's level-triggered read event sees it, and a
// TLS connection needs no other wake-up than a plaintext one. Renegotiation is off, so after
// the handshake a read only waits for reads and a write only for writes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "core/buffer/evbuffer_buffer.h"
#include "core/tls/tls_context.h"

typedef struct ssl_st SSL;

namespace proxy::tls {

// FailRequest's error code for requests failed by a server TLS handshake (not an errno).
constexpr int kTlsHandshakeFailed = 1 << 21;

class TlsSession {
 public:
  // A client accepted on `fd` (context side kAccept).
  static std::unique_ptr<TlsSession> Accept(const TlsContextPtr& context, int fd);
  // A server connected on `fd` (context side kConnect). `host` is the server's host as
  // configured: the name sent in SNI and verified when the context has no `sni` (an IP
  // address is verified against the certificate's IP addresses and not sent in SNI).
  static std::unique_ptr<TlsSession> Connect(const TlsContextPtr& context, int fd,
                                             absl::string_view host);
  // Frees the session without a word to the peer (see Shutdown). The fd stays open.
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  enum class Step { kDone, kWantRead, kWantWrite, kFailed, kClosed };
  // Advances the handshake; kFailed with error() set (OpenSSL's reason, and the certificate
  // check's result when that is what failed). kClosed: the peer closed the connection before
  // sending a byte (a port probe, a load balancer's TCP check): not a TLS failure.
  Step Handshake();
  bool established() const { return established_; }

  // read(2)/write(2) semantics: bytes moved, 0 at the peer's end of stream (Read), -1 with
  // errno (EAGAIN/EWOULDBLOCK: try again when the socket is readable, or writable if
  // want_write(); EPROTO with error() for a TLS error).
  ssize_t Read(void* data, size_t len);
  ssize_t Write(const void* data, size_t len);
  bool want_write() const { return want_write_; }
  // Decrypted bytes not read yet.
  size_t Pending() const;

  // Sends close_notify once, without waiting for the peer's (best effort, never blocks): call
  // before closing the socket of a connection that ends normally.
  void Shutdown();

  const std::string& error() const { return error_; }
  // "TLSv1.3 TLS_AES_256_GCM_SHA384", for log lines.
  std::string Describe() const;

 private:
  TlsSession(TlsContextPtr context, SSL* ssl) : context_(std::move(context)), ssl_(ssl) {}
  // Maps SSL_get_error after a call that returned `rc`: -1 with errno, or 0 at EOF.
  ssize_t Fail(int rc);

  TlsContextPtr context_;
  SSL* ssl_;
  bool established_ = false;
  bool want_write_ = false;
  bool eof_ = false;
  bool broken_ = false;  // a fatal error: no more I/O, no close_notify
  int broken_errno_ = 0;
  std::string error_;
};

// The host of a "host:port" (IPv6 without brackets: split at the last colon).
absl::string_view HostOf(absl::string_view host_port);

// EvBuffer I/O through a session, the TLS forms of EvBuffer::ReadFrom / WriteTo: read(2) and
// write(2) results and errno. ReadInto reads up to `max` bytes, plus what is already decrypted
// (at most one record more), so that nothing readable stays hidden inside OpenSSL.
ssize_t ReadInto(TlsSession& session, EvBuffer& buffer, size_t max);
ssize_t WriteFrom(TlsSession& session, EvBuffer& buffer, size_t max = SIZE_MAX);

// Rate limit for the log lines of failed handshakes: at most 10 a second per thread (each
// worker is one). True when a line may be written; `*suppressed` is the number of lines
// dropped since the last one allowed.
bool LogAllowed(uint64_t now_us, uint64_t* suppressed);

// The warning lines of a failed handshake (rate-limited by LogAllowed), with OpenSSL's reason:
// a client (named by its address, from `fd`), or a server (its servers: entry).
void LogClientHandshakeFailure(absl::string_view pool, int fd, absl::string_view error,
                               uint64_t now_us);
void LogServerHandshakeFailure(absl::string_view pool, absl::string_view server,
                               absl::string_view error, uint64_t now_us);

}  // namespace proxy::tls

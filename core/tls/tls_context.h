// A pool's TLS configuration made into an OpenSSL context (docs/tls.md). Built with the pool
// (core/proxy/shared_pool.cc BuildSharedPool), so that every reload reads the PEM files again;
// sessions keep a reference to the SSL_CTX they were made with, so a reload never pulls one
// out from under a connection.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/config/v1/bootstrap.pb.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace proxy::tls {

// Which end of the handshake the proxy is.
enum class Side {
  kAccept,   // a pool's `tls:`: the proxy is the TLS server for its clients
  kConnect,  // a pool's `server_tls:`: the proxy is the TLS client of its servers
};

class TlsContext {
 public:
  // Loads the certificate chain, key and CA bundle named by `config`. Errors name the key and
  // the file and carry OpenSSL's reason, e.g. "tls: key '/x.key' does not match cert
  // '/x.crt': key values mismatch".
  static absl::StatusOr<std::shared_ptr<const TlsContext>> Create(const config::v1::Tls& config,
                                                                  Side side);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* raw() const { return ctx_; }
  Side side() const { return side_; }
  // kConnect: verify the server's certificate (and its name: sni, else the server's host).
  bool verify() const { return verify_; }
  // kConnect: the name sent in SNI and checked (empty = the server's host).
  const std::string& sni() const { return sni_; }

 private:
  TlsContext(SSL_CTX* ctx, Side side, bool verify, std::string sni)
      : ctx_(ctx), side_(side), verify_(verify), sni_(std::move(sni)) {}

  SSL_CTX* ctx_;
  Side side_;
  bool verify_;
  std::string sni_;
};
using TlsContextPtr = std::shared_ptr<const TlsContext>;

// OpenSSL's thread-local error queue as one line ("reason; reason"), emptied; `fallback` when
// the queue is empty.
std::string TakeErrors(absl::string_view fallback);

}  // namespace proxy::tls

// TlsContext: the SSL_CTX of one side of a pool, loaded from PEM files.
#include "core/tls/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "absl/strings/str_cat.h"

namespace proxy::tls {

std::string TakeErrors(absl::string_view fallback) {
  std::string out;
  unsigned long code;
  while ((code = ERR_get_error()) != 0) {
    const char* reason = ERR_reason_error_string(code);
    std::string text = reason != nullptr ? reason : absl::StrCat("OpenSSL error ", code);
    // The same reason twice in a row says nothing more.
    if (out.size() >= text.size() &&
        out.compare(out.size() - text.size(), text.size(), text) == 0) {
      continue;
    }
    if (!out.empty()) out.append("; ");
    out.append(text);
  }
  if (out.empty()) out = std::string(fallback);
  return out;
}

absl::StatusOr<std::shared_ptr<const TlsContext>> TlsContext::Create(const config::v1::Tls& config,
                                                                     Side side) {
  const char* key_name = side == Side::kAccept ? "tls" : "server_tls";
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(side == Side::kAccept ? TLS_server_method() : TLS_client_method());
  if (ctx == nullptr) {
    return absl::InternalError(
        absl::StrCat(key_name, ": cannot create an OpenSSL context: ", TakeErrors("unknown")));
  }
  auto fail = [&](std::string what) {
    std::string reason = TakeErrors("unknown error");
    SSL_CTX_free(ctx);
    return absl::InvalidArgumentError(absl::StrCat(key_name, ": ", what, ": ", reason));
  };
  // TLS 1.2 and 1.3 only (what redis and memcached accept by default). Renegotiation is off:
  // a read never has to wait for a write (and the reverse) after the handshake.
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Partial writes: a write returns what fit, like write(2); the buffer may move between
  // retries (evbuffer chains). Idle connections give their 34 KiB of record buffers back.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  // No read-ahead (the default): OpenSSL reads one record at a time, so bytes it has not
  // decrypted stay in the socket, where the event loop sees them (core/tls/tls_session.h).
  SSL_CTX_set_read_ahead(ctx, 0);

  if (!config.cert().empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, config.cert().c_str()) != 1) {
      return fail(absl::StrCat("cannot load cert '", config.cert(), "'"));
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, config.key().c_str(), SSL_FILETYPE_PEM) != 1) {
      if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
        return fail(
            absl::StrCat("key '", config.key(), "' does not match cert '", config.cert(), "'"));
      }
      return fail(absl::StrCat("cannot load key '", config.key(), "'"));
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      return fail(
          absl::StrCat("key '", config.key(), "' does not match cert '", config.cert(), "'"));
    }
  }
  if (!config.ca().empty()) {
    if (SSL_CTX_load_verify_locations(ctx, config.ca().c_str(), nullptr) != 1) {
      return fail(absl::StrCat("cannot load ca '", config.ca(), "'"));
    }
  }
  bool verify = false;
  if (side == Side::kAccept) {
    if (!config.ca().empty()) {
      // Clients are told which CAs are accepted; a certificate a client presents is verified,
      // and with require_client_cert a client without one is refused.
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.ca().c_str());
      if (names != nullptr) SSL_CTX_set_client_CA_list(ctx, names);
      SSL_CTX_set_verify(
          ctx,
          SSL_VERIFY_PEER | (config.require_client_cert() ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
          nullptr);
    }
    // Resumed sessions need a context id when client certificates are verified.
    static const unsigned char kSessionContext[] = "shardproxy";
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);
  } else {
    verify = config.verify();
    if (verify) {
      // Without `ca`, the system's CA store (managed services sign with public CAs).
      if (config.ca().empty() && SSL_CTX_set_default_verify_paths(ctx) != 1) {
        return fail("cannot load the system's CA certificates");
      }
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    } else {
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    }
  }
  ERR_clear_error();
  return std::shared_ptr<const TlsContext>(new TlsContext(ctx, side, verify, config.sni()));
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

}  // namespace proxy::tls

// Helpers for the TLS tests: certificates made at test time with the openssl CLI (a CA, a
// server certificate for 127.0.0.1/localhost, a client certificate, an expired one and an
// untrusted self-signed one), and a small blocking TLS client.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace proxy::test {

struct TestCerts {
  std::string dir;
  std::string ca_crt, ca_key;            // the test CA
  std::string server_crt, server_key;    // CA-signed, CN localhost, SAN IP:127.0.0.1 DNS:localhost
  std::string client_crt, client_key;    // CA-signed, CN client
  std::string expired_crt, expired_key;  // CA-signed, SAN like the server's, expired in 2020
  std::string rogue_crt, rogue_key;      // self-signed, SAN like the server's: untrusted
};

// Makes every certificate under `dir` (created). Returns "" on success, else what failed with
// openssl's output.
std::string MakeTestCerts(const std::string& dir, TestCerts* certs);

// Issues another CA-signed server certificate with common name `cn` (SAN 127.0.0.1, localhost)
// into `crt` and `key`. "" on success.
std::string IssueServerCert(const TestCerts& certs, const std::string& cn, const std::string& crt,
                            const std::string& key);

// A blocking TLS client of 127.0.0.1:port: verifies the peer against `ca` for 127.0.0.1 and
// presents `cert`/`key` when given. Reads time out after `timeout`.
class TlsClient {
 public:
  TlsClient(int port, const std::string& ca, const std::string& cert = "",
            const std::string& key = "",
            std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  // The handshake completed (a TLS 1.3 server may still refuse a client certificate after it:
  // the refusal then arrives with the first read).
  bool ok() const { return ssl_ != nullptr && error_.empty(); }
  // Why the connection or the handshake failed, or the last read failed (OpenSSL's reason).
  const std::string& error() const { return error_; }
  // The common name of the certificate the peer presented.
  std::string PeerCommonName() const;

  bool Send(absl::string_view bytes);
  // One complete RESP reply, or "" on close/timeout/error.
  std::string ReadReply();
  std::string Command(const std::vector<std::string>& args);
  // Reads until the received bytes end with `suffix` (memcache replies); what was received.
  std::string ReadUntil(absl::string_view suffix);
  // True when the peer closes or the connection fails within the timeout.
  bool WaitForClose();

 private:
  bool Fill();
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string error_;
  std::string buffer_;
};

// The value of the first /metrics line that starts with `series` ("name{labels}" or "name"),
// -1 when absent.
double MetricValue(const std::string& metrics, const std::string& series);

}  // namespace proxy::test

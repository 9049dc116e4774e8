// Certificates from the openssl CLI and a blocking OpenSSL client for the TLS tests.
#include "test/tls/tls_test_util.h"

#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "test/integration/harness.h"

namespace proxy::test {
namespace {

constexpr auto kOpensslTimeout = std::chrono::milliseconds(30000);

// Runs openssl with `args`; "" on success, else the command line and its output.
std::string Openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  const CommandResult result = RunCommand(args, kOpensslTimeout);
  if (result.exit_code == 0) return "";
  std::string line;
  for (const std::string& a : args) absl::StrAppend(&line, a, " ");
  return absl::StrCat(line, "failed (", result.exit_code, "): ", result.output);
}

const std::vector<std::string> kEcKey = {"-newkey", "ec", "-pkeyopt",
                                         "ec_paramgen_curve:prime256v1", "-nodes"};

std::vector<std::string> Join(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A key and CSR for `cn`.
std::string MakeRequest(const std::string& cn, const std::string& key, const std::string& csr) {
  return Openssl(Join(
      {"req"}, Join(kEcKey, {"-keyout", key, "-out", csr, "-subj", absl::StrCat("/CN=", cn)})));
}

std::string Sign(const TestCerts& certs, const std::string& csr, const std::string& crt,
                 const std::string& extfile) {
  std::vector<std::string> args = {
      "x509", "-req", "-in",   csr, "-CA", certs.ca_crt, "-CAkey", certs.ca_key, "-CAcreateserial",
      "-out", crt,    "-days", "30"};
  if (!extfile.empty()) args.insert(args.end(), {"-extfile", extfile});
  return Openssl(args);
}

}  // namespace

std::string MakeTestCerts(const std::string& dir, TestCerts* certs) {
  mkdir(dir.c_str(), 0700);
  certs->dir = dir;
  auto path = [&dir](const char* name) { return absl::StrCat(dir, "/", name); };
  certs->ca_crt = path("ca.crt");
  certs->ca_key = path("ca.key");
  certs->server_crt = path("server.crt");
  certs->server_key = path("server.key");
  certs->client_crt = path("client.crt");
  certs->client_key = path("client.key");
  certs->expired_crt = path("expired.crt");
  certs->expired_key = path("expired.key");
  certs->rogue_crt = path("rogue.crt");
  certs->rogue_key = path("rogue.key");
  const std::string san = path("san.ext");
  std::ofstream(san) << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  std::string error = Openssl(
      Join({"req", "-x509"}, Join(kEcKey, {"-keyout", certs->ca_key, "-out", certs->ca_crt, "-days",
                                           "30", "-subj", "/CN=shardproxy test CA"})));
  if (!error.empty()) return error;
  error = IssueServerCert(*certs, "localhost", certs->server_crt, certs->server_key);
  if (!error.empty()) return error;
  const std::string csr = path("req.csr");
  if (!(error = MakeRequest("client", certs->client_key, csr)).empty()) return error;
  if (!(error = Sign(*certs, csr, certs->client_crt, "")).empty()) return error;
  // Expired: `openssl ca` sets explicit dates (x509 -req cannot in OpenSSL 3.0).
  const std::string db = path("cadb");
  mkdir(db.c_str(), 0700);
  std::ofstream(db + "/index.txt").close();
  std::ofstream(db + "/serial") << "1000\n";
  const std::string cnf = path("ca.cnf");
  std::ofstream(cnf) << "[ca]\ndefault_ca = test\n[test]\ndatabase = " << db
                     << "/index.txt\nserial = " << db << "/serial\nnew_certs_dir = " << db
                     << "\ndefault_md = sha256\npolicy = any\ncopy_extensions = copy\n"
                        "unique_subject = no\n[any]\ncommonName = supplied\n";
  error = Openssl(Join(
      {"req"}, Join(kEcKey, {"-keyout", certs->expired_key, "-out", csr, "-subj", "/CN=localhost",
                             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"})));
  if (!error.empty()) return error;
  error = Openssl({"ca", "-batch", "-config", cnf, "-cert", certs->ca_crt, "-keyfile",
                   certs->ca_key, "-in", csr, "-out", certs->expired_crt, "-startdate",
                   "20200101000000Z", "-enddate", "20200102000000Z", "-notext"});
  if (!error.empty()) return error;
  // Untrusted: self-signed, otherwise a perfect server certificate.
  return Openssl(Join(
      {"req", "-x509"},
      Join(kEcKey, {"-keyout", certs->rogue_key, "-out", certs->rogue_crt, "-days", "30", "-subj",
                    "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"})));
}

std::string IssueServerCert(const TestCerts& certs, const std::string& cn, const std::string& crt,
                            const std::string& key) {
  const std::string csr = absl::StrCat(certs.dir, "/", cn, ".csr");
  std::string error = MakeRequest(cn, key, csr);
  if (!error.empty()) return error;
  return Sign(certs, csr, crt, absl::StrCat(certs.dir, "/san.ext"));
}

TlsClient::TlsClient(int port, const std::string& ca, const std::string& cert,
                     const std::string& key, std::chrono::milliseconds timeout) {
  fd_ = ConnectTo(port);
  if (fd_ < 0) {
    error_ = "connect failed";
    return;
  }
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  ERR_clear_error();
  ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_options(ctx_, SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (SSL_CTX_load_verify_locations(ctx_, ca.c_str(), nullptr) != 1 ||
      (!cert.empty() && (SSL_CTX_use_certificate_chain_file(ctx_, cert.c_str()) != 1 ||
                         SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) != 1))) {
    error_ = absl::StrCat("client setup: ", ERR_reason_error_string(ERR_get_error()));
    return;
  }
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
  if (SSL_connect(ssl_) != 1) {
    const unsigned long code = ERR_get_error();
    error_ = code != 0 ? ERR_reason_error_string(code) : "handshake failed (connection closed)";
  }
}

TlsClient::~TlsClient() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  if (fd_ >= 0) close(fd_);
}

std::string TlsClient::PeerCommonName() const {
  if (ssl_ == nullptr) return "";
  X509* peer = SSL_get1_peer_certificate(ssl_);
  if (peer == nullptr) return "";
  char cn[256] = "";
  X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof(cn));
  X509_free(peer);
  return cn;
}

bool TlsClient::Send(absl::string_view bytes) {
  if (!ok()) return false;
  while (!bytes.empty()) {
    size_t written = 0;
    if (SSL_write_ex(ssl_, bytes.data(), bytes.size(), &written) != 1) {
      const unsigned long code = ERR_get_error();
      error_ = code != 0 ? ERR_reason_error_string(code) : "write failed";
      return false;
    }
    bytes.remove_prefix(written);
  }
  return true;
}

bool TlsClient::Fill() {
  if (ssl_ == nullptr || !error_.empty()) return false;
  char chunk[16384];
  size_t got = 0;
  ERR_clear_error();
  if (SSL_read_ex(ssl_, chunk, sizeof(chunk), &got) != 1) {
    const int saved_errno = errno;
    const int error = SSL_get_error(ssl_, 0);
    const unsigned long code = ERR_get_error();
    if (code != 0) {
      error_ = ERR_reason_error_string(code);
    } else if (error == SSL_ERROR_ZERO_RETURN) {
      error_ = "closed";
    } else if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK) {
      error_ = "timed out";
    } else {
      error_ = absl::StrCat("read failed: ", std::strerror(saved_errno));
    }
    return false;
  }
  buffer_.append(chunk, got);
  return true;
}

std::string TlsClient::ReadReply() {
  for (;;) {
    const size_t n = RespLength(buffer_);
    if (n > 0) {
      std::string reply = buffer_.substr(0, n);
      buffer_.erase(0, n);
      return reply;
    }
    if (!Fill()) return "";
  }
}

std::string TlsClient::Command(const std::vector<std::string>& args) {
  if (!Send(Resp(args))) return "";
  return ReadReply();
}

std::string TlsClient::ReadUntil(absl::string_view suffix) {
  while (!absl::EndsWith(buffer_, suffix)) {
    if (!Fill()) break;
  }
  std::string out;
  out.swap(buffer_);
  return out;
}

bool TlsClient::WaitForClose() {
  if (ssl_ == nullptr || !error_.empty()) return true;
  while (Fill()) {
  }
  return error_ != "timed out";
}

double MetricValue(const std::string& metrics, const std::string& series) {
  std::istringstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, series + " ")) return std::atof(line.c_str() + series.size() + 1);
  }
  return -1;
}

}  // namespace proxy::test

// tls: and server_tls: from the YAML to OpenSSL: every error with file:line:col (files that do
// not exist, keys that do not match, what each side requires), relative paths, proxyctl diff's
// key names, and TlsSession handshakes and I/O between the two sides over a socket pair.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/buffer/evbuffer_buffer.h"
#include "core/config/config.h"
#include "core/config/diff.h"
#include "core/tls/tls_context.h"
#include "core/tls/tls_session.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"
#include "test/tls/tls_test_util.h"

namespace proxy::test {
namespace {

class TlsConfigTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new TestCerts();
    const std::string error = MakeTestCerts(TempPath("tls-config-certs"), certs_);
    ASSERT_EQ(error, "");
  }
  static void TearDownTestSuite() { delete certs_; }

  // The YAML with CERT, KEY, CA, CLIENT_CERT, CLIENT_KEY, EXPIRED_CERT replaced by the files.
  static std::string Fill(std::string yaml) {
    for (const auto& [name, path] :
         std::vector<std::pair<std::string, std::string>>{{"CLIENT_CERT", certs_->client_crt},
                                                          {"CLIENT_KEY", certs_->client_key},
                                                          {"EXPIRED_CERT", certs_->expired_crt},
                                                          {"CERT", certs_->server_crt},
                                                          {"KEY", certs_->server_key},
                                                          {"CA", certs_->ca_crt}}) {
      size_t at;
      while ((at = yaml.find(name)) != std::string::npos) yaml.replace(at, name.size(), path);
    }
    return yaml;
  }

  static config::LoadResult Load(const std::string& yaml, const std::string& file = "test.yml") {
    return config::LoadConfigText(Fill(yaml), file);
  }

  // Every diagnostic, one per line.
  static std::string All(const config::LoadResult& result) {
    std::string out;
    for (const auto& d : result.errors) absl::StrAppend(&out, "error: ", d.ToString(), "\n");
    for (const auto& d : result.warnings) absl::StrAppend(&out, "warning: ", d.ToString(), "\n");
    return out;
  }

  // The error that starts with `prefix` ("test.yml:5:11: pool 'a': tls: cert: ") and contains
  // `text`.
  static testing::AssertionResult HasError(const config::LoadResult& result,
                                           const std::string& prefix, const std::string& text) {
    for (const auto& d : result.errors) {
      const std::string line = d.ToString();
      if (absl::StartsWith(line, prefix) && absl::StrContains(line, text)) {
        return testing::AssertionSuccess();
      }
    }
    return testing::AssertionFailure()
           << "no error '" << prefix << "...' containing '" << text << "' in:\n"
           << All(result);
  }

  static TestCerts* certs_;
};

TestCerts* TlsConfigTest::certs_ = nullptr;

TEST_F(TlsConfigTest, BothKeysBlockAndFlowWithDefaults) {
  const config::LoadResult result = Load(R"(a:
  listen: 127.0.0.1:22121
  redis: true
  tls:
    cert: CERT
    key: KEY
    ca: CA
    require_client_cert: true
  server_tls: {ca: CA, cert: CLIENT_CERT, key: CLIENT_KEY, sni: redis.internal}
  servers:
   - 127.0.0.1:6379:1
m:
  listen: 127.0.0.1:22122
  server_tls: {verify: false}
  servers:
   - 127.0.0.1:11211:1
)");
  ASSERT_TRUE(result.ok()) << All(result);
  const config::v1::Pool& a = result.bootstrap.pools(0);
  EXPECT_TRUE(a.tls().enabled());
  EXPECT_EQ(a.tls().cert(), certs_->server_crt);
  EXPECT_EQ(a.tls().key(), certs_->server_key);
  EXPECT_EQ(a.tls().ca(), certs_->ca_crt);
  EXPECT_TRUE(a.tls().require_client_cert());
  EXPECT_TRUE(a.server_tls().enabled());
  EXPECT_TRUE(a.server_tls().verify());  // the default
  EXPECT_EQ(a.server_tls().sni(), "redis.internal");
  EXPECT_EQ(a.server_tls().cert(), certs_->client_crt);
  const config::v1::Pool& m = result.bootstrap.pools(1);
  EXPECT_FALSE(m.tls().enabled());
  EXPECT_TRUE(m.server_tls().enabled());
  EXPECT_FALSE(m.server_tls().verify());
  // Not verifying is allowed, and said.
  ASSERT_EQ(result.warnings.size(), 1u) << All(result);
  EXPECT_TRUE(absl::StartsWith(result.warnings[0].ToString(),
                               "test.yml:14:24: pool 'm': server_tls: verify: "))
      << All(result);
  EXPECT_TRUE(absl::StrContains(result.warnings[0].message, "not verified"));
}

TEST_F(TlsConfigTest, EveryErrorWithItsPosition) {
  const config::LoadResult result = Load(R"(a:
  listen: 127.0.0.1:22121
  redis: true
  tls:
    cert: /nonexistent/proxy.crt
    require_client_cert: true
    bogus: 1
  server_tls: {cert: CERT, verify: maybe}
  servers:
   - 127.0.0.1:6379:1
b:
  listen: 127.0.0.1:22122
  tls: [CERT, KEY]
  servers:
   - 127.0.0.1:11211:1
)");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(HasError(result, "test.yml:5:11: pool 'a': tls: cert: ",
                       "'/nonexistent/proxy.crt': No such file or directory"));
  EXPECT_TRUE(HasError(result, "test.yml:5:5: pool 'a': tls: key: ", "missing"));
  EXPECT_TRUE(HasError(result, "test.yml:6:26: pool 'a': tls: require_client_cert: ", "needs ca"));
  EXPECT_TRUE(HasError(result, "test.yml:7:5: pool 'a': tls: ",
                       "unknown key 'bogus' (valid: cert, key, ca, require_client_cert)"));
  EXPECT_TRUE(HasError(result, "test.yml:8:", "server_tls: verify: "));
  EXPECT_TRUE(HasError(result, "test.yml:8:", "server_tls: key: cert and key go together"));
  EXPECT_TRUE(HasError(result, "test.yml:13:8: pool 'b': tls: ", "expected a mapping"));
}

TEST_F(TlsConfigTest, FilesAreLoadedLikeTheProxyLoadsThem) {
  // A key of another certificate, and a file that is not PEM at all.
  const std::string garbage = TempPath("tls-config-garbage.crt");
  std::ofstream(garbage) << "not a certificate\n";
  const config::LoadResult result = Load(absl::StrCat(R"(a:
  listen: 127.0.0.1:22121
  tls:
    cert: CERT
    key: CLIENT_KEY
  servers:
   - 127.0.0.1:11211:1
b:
  listen: 127.0.0.1:22122
  tls:
    cert: )",
                                                      garbage, R"(
    key: KEY
  servers:
   - 127.0.0.1:11211:1
c:
  listen: 127.0.0.1:22123
  server_tls:
    ca: )",
                                                      garbage, R"(
  servers:
   - 127.0.0.1:11211:1
)"));
  EXPECT_TRUE(HasError(result, "test.yml:5:10: pool 'a': tls: ",
                       absl::StrCat("key '", certs_->client_key, "' does not match cert '",
                                    certs_->server_crt, "': key values mismatch")));
  EXPECT_TRUE(HasError(result, "test.yml:11:11: pool 'b': tls: ",
                       absl::StrCat("cannot load cert '", garbage, "': ")));
  EXPECT_TRUE(HasError(result, "test.yml:18:9: pool 'c': server_tls: ",
                       absl::StrCat("cannot load ca '", garbage, "': ")));
}

TEST_F(TlsConfigTest, RelativePathsAreRelativeToTheConfigFile) {
  const config::LoadResult result = config::LoadConfigText(R"(a:
  listen: 127.0.0.1:22121
  tls: {cert: server.crt, key: server.key, ca: ./ca.crt}
  servers:
   - 127.0.0.1:11211:1
)",
                                                           certs_->dir + "/proxy.yml");
  ASSERT_TRUE(result.ok()) << All(result);
  EXPECT_EQ(result.bootstrap.pools(0).tls().cert(), certs_->server_crt);
  EXPECT_EQ(result.bootstrap.pools(0).tls().ca(), certs_->dir + "/./ca.crt");
}

TEST_F(TlsConfigTest, DiffNamesTheTlsKeys) {
  const std::string before = R"(a:
  listen: 127.0.0.1:22121
  tls: {cert: CERT, key: KEY}
  server_tls: {ca: CA}
  servers:
   - 127.0.0.1:11211:1
)";
  const config::LoadResult a = Load(before);
  const config::LoadResult same = Load(before);
  const config::LoadResult b = Load(R"(a:
  listen: 127.0.0.1:22121
  tls: {cert: CERT, key: KEY, ca: CA, require_client_cert: true}
  server_tls: {ca: CA, sni: localhost}
  servers:
   - 127.0.0.1:11211:1
)");
  ASSERT_TRUE(a.ok() && b.ok()) << All(a) << All(b);
  const config::PoolDiff diff = config::DiffPool(&a.bootstrap.pools(0), &b.bootstrap.pools(0));
  EXPECT_EQ(diff.changed_keys, (std::vector<std::string>{"tls", "server_tls"}));
  EXPECT_TRUE(
      config::DiffPool(&a.bootstrap.pools(0), &same.bootstrap.pools(0)).changed_keys.empty());
}

// Both ends of a connection over a non-blocking socket pair, driven like the event loop does.
class SessionPair {
 public:
  SessionPair(const config::v1::Tls& server_side, const config::v1::Tls& client_side) {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    server_fd_ = fds[0];
    client_fd_ = fds[1];
    auto server_ctx = tls::TlsContext::Create(server_side, tls::Side::kAccept);
    auto client_ctx = tls::TlsContext::Create(client_side, tls::Side::kConnect);
    EXPECT_TRUE(server_ctx.ok()) << server_ctx.status();
    EXPECT_TRUE(client_ctx.ok()) << client_ctx.status();
    server = tls::TlsSession::Accept(*server_ctx, server_fd_);
    client = tls::TlsSession::Connect(*client_ctx, client_fd_, "");
  }
  ~SessionPair() {
    server.reset();
    client.reset();
    close(server_fd_);
    close(client_fd_);
  }
  // Runs both handshakes until each is done or failed (never blocking: each step is retried
  // after a poll, as the worker's events would).
  void Handshake() {
    for (int i = 0; i < 1000; ++i) {
      const auto s = server->Handshake();
      const auto c = client->Handshake();
      server_step = s;
      client_step = c;
      const bool s_over = s == tls::TlsSession::Step::kDone || s == tls::TlsSession::Step::kFailed;
      const bool c_over = c == tls::TlsSession::Step::kDone || c == tls::TlsSession::Step::kFailed;
      if ((s_over && c_over) || s == tls::TlsSession::Step::kFailed ||
          c == tls::TlsSession::Step::kFailed) {
        return;
      }
      pollfd p[2] = {{server_fd_, POLLIN, 0}, {client_fd_, POLLIN, 0}};
      poll(p, 2, 10);
    }
  }

  std::unique_ptr<tls::TlsSession> server;
  std::unique_ptr<tls::TlsSession> client;
  tls::TlsSession::Step server_step = tls::TlsSession::Step::kWantRead;
  tls::TlsSession::Step client_step = tls::TlsSession::Step::kWantRead;

 private:
  int server_fd_ = -1;
  int client_fd_ = -1;
};

config::v1::Tls Side(const std::string& cert, const std::string& key, const std::string& ca,
                     bool require = false, const std::string& sni = "", bool verify = true) {
  config::v1::Tls tls;
  tls.set_enabled(true);
  tls.set_cert(cert);
  tls.set_key(key);
  tls.set_ca(ca);
  tls.set_require_client_cert(require);
  tls.set_sni(sni);
  tls.set_verify(verify);
  return tls;
}

TEST_F(TlsConfigTest, SessionsMoveBytesBothWaysWithoutBlocking) {
  SessionPair pair(
      Side(certs_->server_crt, certs_->server_key, certs_->ca_crt, true),
      Side(certs_->client_crt, certs_->client_key, certs_->ca_crt, false, "localhost"));
  pair.Handshake();
  ASSERT_EQ(pair.client_step, tls::TlsSession::Step::kDone) << pair.client->error();
  ASSERT_EQ(pair.server_step, tls::TlsSession::Step::kDone) << pair.server->error();
  EXPECT_TRUE(absl::StartsWith(pair.client->Describe(), "TLSv1.3 ")) << pair.client->Describe();
  // 3 MiB each way: many records, partial writes (the socket buffer fills) and reads bounded
  // by `max` (what OpenSSL already decrypted is taken as well).
  std::string payload(3u << 20, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7 + i / 4096);
  for (auto [from, to] :
       {std::pair<tls::TlsSession*, tls::TlsSession*>{pair.client.get(), pair.server.get()},
        {pair.server.get(), pair.client.get()}}) {
    EvBuffer out;
    EvBuffer in;
    out.Append(payload);
    for (int i = 0; i < 100000 && in.Length() < payload.size(); ++i) {
      if (out.Length() > 0) {
        const ssize_t n = tls::WriteFrom(*from, out);
        ASSERT_TRUE(n > 0 || errno == EAGAIN) << from->error();
      }
      const ssize_t n = tls::ReadInto(*to, in, 16384);
      ASSERT_TRUE(n > 0 || (n < 0 && errno == EAGAIN)) << n << " " << to->error();
      EXPECT_EQ(to->Pending(), 0u);  // nothing left hidden inside OpenSSL
    }
    ASSERT_EQ(in.Length(), payload.size());
    std::string got(payload.size(), '\0');
    in.CopyOut(0, got.size(), got.data());
    EXPECT_TRUE(got == payload);
  }
  // A clean close: close_notify reads as EOF.
  pair.client->Shutdown();
  EvBuffer in;
  EXPECT_EQ(tls::ReadInto(*pair.server, in, 16384), 0);
}

TEST_F(TlsConfigTest, HandshakeFailuresSayWhy) {
  {
    SCOPED_TRACE("expired server certificate");
    SessionPair pair(Side(certs_->expired_crt, certs_->expired_key, ""),
                     Side("", "", certs_->ca_crt, false, "localhost"));
    pair.Handshake();
    ASSERT_EQ(pair.client_step, tls::TlsSession::Step::kFailed);
    EXPECT_EQ(pair.client->error(), "certificate verify failed (certificate has expired)");
  }
  {
    SCOPED_TRACE("untrusted server certificate");
    SessionPair pair(Side(certs_->rogue_crt, certs_->rogue_key, ""),
                     Side("", "", certs_->ca_crt, false, "localhost"));
    pair.Handshake();
    ASSERT_EQ(pair.client_step, tls::TlsSession::Step::kFailed);
    EXPECT_EQ(pair.client->error(), "certificate verify failed (self-signed certificate)");
  }
  {
    SCOPED_TRACE("verify: false accepts it");
    SessionPair pair(Side(certs_->rogue_crt, certs_->rogue_key, ""),
                     Side("", "", "", false, "localhost", /*verify=*/false));
    pair.Handshake();
    EXPECT_EQ(pair.client_step, tls::TlsSession::Step::kDone) << pair.client->error();
  }
  {
    SCOPED_TRACE("another name than the certificate's");
    SessionPair pair(Side(certs_->server_crt, certs_->server_key, ""),
                     Side("", "", certs_->ca_crt, false, "redis.example"));
    pair.Handshake();
    ASSERT_EQ(pair.client_step, tls::TlsSession::Step::kFailed);
    EXPECT_EQ(pair.client->error(), "certificate verify failed (hostname mismatch)");
  }
  {
    SCOPED_TRACE("a client without a certificate where one is required");
    SessionPair pair(Side(certs_->server_crt, certs_->server_key, certs_->ca_crt, true),
                     Side("", "", certs_->ca_crt, false, "localhost"));
    pair.Handshake();
    ASSERT_EQ(pair.server_step, tls::TlsSession::Step::kFailed);
    EXPECT_EQ(pair.server->error(), "peer did not return a certificate");
  }
}

TEST_F(TlsConfigTest, ContextErrorsNameTheFile) {
  auto made =
      tls::TlsContext::Create(Side(certs_->server_crt, "/nonexistent.key", ""), tls::Side::kAccept);
  ASSERT_FALSE(made.ok());
  EXPECT_TRUE(
      absl::StartsWith(made.status().message(), "tls: cannot load key '/nonexistent.key': "))
      << made.status();
  made = tls::TlsContext::Create(Side("", "", "/nonexistent-ca.crt"), tls::Side::kConnect);
  ASSERT_FALSE(made.ok());
  EXPECT_TRUE(absl::StartsWith(made.status().message(),
                               "server_tls: cannot load ca '/nonexistent-ca.crt': "))
      << made.status();
}

TEST(TlsLogTest, AtMostTenLinesASecondThenSaysHowManyWereDropped) {
  uint64_t suppressed = 99;
  const uint64_t second = 5000000000u;  // any time; the limiter counts per second
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(tls::LogAllowed(second + i, &suppressed)) << i;
    EXPECT_EQ(suppressed, 0u);
  }
  EXPECT_FALSE(tls::LogAllowed(second + 10, &suppressed));
  EXPECT_FALSE(tls::LogAllowed(second + 999999, &suppressed));
  EXPECT_TRUE(tls::LogAllowed(second + 1000000, &suppressed));
  EXPECT_EQ(suppressed, 2u);
}

}  // namespace
}  // namespace proxy::test

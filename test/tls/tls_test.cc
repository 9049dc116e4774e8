// TLS end to end (docs/tls.md): redis-server and memcached started with TLS only, clients
// through the proxy with TLS next to plaintext pools, mutual TLS, servers whose certificates
// are expired or untrusted, and a reload that applies new certificate files. Certificates are
// made by the openssl CLI in the test's temp dir.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"
#include "test/tls/tls_test_util.h"

namespace proxy::test {
namespace {

using std::chrono::milliseconds;

// redis-server with TLS only (--port 0) on a free port.
class TlsRedis {
 public:
  TlsRedis(const std::string& cert, const std::string& key, const std::string& ca)
      : port_(FreePort()) {
    const std::vector<std::string> argv = {FindExecutable("redis-server"),
                                           "--port",
                                           "0",
                                           "--tls-port",
                                           std::to_string(port_),
                                           "--bind",
                                           "127.0.0.1",
                                           "--save",
                                           "",
                                           "--appendonly",
                                           "no",
                                           "--daemonize",
                                           "no",
                                           "--protected-mode",
                                           "no",
                                           "--tls-cert-file",
                                           cert,
                                           "--tls-key-file",
                                           key,
                                           "--tls-ca-cert-file",
                                           ca,
                                           "--tls-auth-clients",
                                           "no"};
    ok_ = process_.Start(argv, TempPath(absl::StrCat("redis-tls-", port_, ".log"))) &&
          WaitForPortWhileRunning(process_, port_, milliseconds(10000));
  }
  int port() const { return port_; }
  bool ok() const { return ok_; }

 private:
  int port_;
  bool ok_ = false;
  Process process_;
};

// memcached with TLS on its only listener.
class TlsMemcached {
 public:
  TlsMemcached(const std::string& cert, const std::string& key) : port_(FreePort()) {
    std::vector<std::string> argv = {FindExecutable("memcached"),
                                     "-p",
                                     std::to_string(port_),
                                     "-l",
                                     "127.0.0.1",
                                     "-U",
                                     "0",
                                     "-t",
                                     "1",
                                     "-m",
                                     "64",
                                     "-Z",
                                     "-o",
                                     absl::StrCat("ssl_chain_cert=", cert, ",ssl_key=", key)};
    if (geteuid() == 0) argv.insert(argv.end(), {"-u", "root"});
    ok_ = process_.Start(argv, TempPath(absl::StrCat("memcached-tls-", port_, ".log"))) &&
          WaitForPortWhileRunning(process_, port_, milliseconds(10000));
  }
  int port() const { return port_; }
  bool ok() const { return ok_; }

 private:
  int port_;
  bool ok_ = false;
  Process process_;
};

class TlsTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    signal(SIGPIPE, SIG_IGN);
    certs_ = new TestCerts();
    const std::string error = MakeTestCerts(TempPath("tls-certs"), certs_);
    ASSERT_EQ(error, "");
  }
  static void TearDownTestSuite() { delete certs_; }

  // The YAML with CERT, KEY, CA replaced by the test's files.
  static std::string Fill(const std::string& yaml) {
    return absl::StrReplaceAll(
        yaml, {{"CERT", certs_->server_crt}, {"KEY", certs_->server_key}, {"CA", certs_->ca_crt}});
  }

  static TestCerts* certs_;
};

TestCerts* TlsTest::certs_ = nullptr;

// Bytes that wrap a value in RESP.
std::string Bulk(const std::string& value) {
  return absl::StrCat("$", value.size(), "\r\n", value, "\r\n");
}

TEST_F(TlsTest, BothSidesForRedisAndMemcacheNextToPlaintextPools) {
  TlsRedis redis(certs_->server_crt, certs_->server_key, certs_->ca_crt);
  TlsMemcached memcached(certs_->server_crt, certs_->server_key);
  RedisServer plain_redis;
  ASSERT_TRUE(redis.ok() && memcached.ok() && plain_redis.ok());
  const int rtls = FreePort(), mtls = FreePort(), plain = FreePort(), bridge = FreePort();
  const int admin = FreePort();
  ProxyProcess proxy(Fill(absl::StrCat(R"(rtls:
  listen: 127.0.0.1:)",
                                       rtls, R"(
  redis: true
  tls: {cert: CERT, key: KEY}
  server_tls: {ca: CA}
  health_check_interval: 100
  servers:
   - 127.0.0.1:)",
                                       redis.port(), R"(:1
mtls:
  listen: 127.0.0.1:)",
                                       mtls, R"(
  tls: {cert: CERT, key: KEY}
  server_tls: {ca: CA, sni: localhost}
  servers:
   - 127.0.0.1:)",
                                       memcached.port(), R"(:1
plain:
  listen: 127.0.0.1:)",
                                       plain, R"(
  redis: true
  servers:
   - 127.0.0.1:)",
                                       plain_redis.port(), R"(:1
bridge:
  listen: 127.0.0.1:)",
                                       bridge, R"(
  redis: true
  server_tls: {ca: CA}
  servers:
   - 127.0.0.1:)",
                                       redis.port(), R"(:1
)")),
                     {rtls, mtls, plain, bridge}, {"--admin-port", std::to_string(admin)});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();

  // Redis over TLS on both sides: single commands, a pipeline, a value of many records.
  TlsClient client(rtls, certs_->ca_crt);
  ASSERT_TRUE(client.ok()) << client.error();
  EXPECT_EQ(client.Command({"SET", "k", "v"}), "+OK\r\n") << client.error() << proxy.Log();
  EXPECT_EQ(client.Command({"GET", "k"}), "$1\r\nv\r\n");
  std::string pipeline;
  for (int i = 0; i < 200; ++i) {
    absl::StrAppend(&pipeline, Resp({"SET", absl::StrCat("p", i), absl::StrCat("v", i)}),
                    Resp({"GET", absl::StrCat("p", i)}));
  }
  ASSERT_TRUE(client.Send(pipeline));
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(client.ReadReply(), "+OK\r\n") << i << " " << client.error();
    ASSERT_EQ(client.ReadReply(), Bulk(absl::StrCat("v", i))) << i;
  }
  std::string big(1u << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4099) big[i] = static_cast<char>('a' + i % 26);
  EXPECT_EQ(client.Command({"SET", "big", big}), "+OK\r\n");
  EXPECT_TRUE(client.Command({"GET", "big"}) == Bulk(big));

  // The same TLS-only redis from a plaintext pool (server_tls only), and a plaintext pool
  // beside them.
  Client bridged(bridge);
  EXPECT_EQ(bridged.Command({"GET", "k"}), "$1\r\nv\r\n");
  EXPECT_TRUE(bridged.Command({"GET", "big"}) == Bulk(big));
  Client plaintext(plain);
  EXPECT_EQ(plaintext.Command({"SET", "k", "plain"}), "+OK\r\n");
  EXPECT_EQ(plaintext.Command({"GET", "k"}), "$5\r\nplain\r\n");
  EXPECT_EQ(client.Command({"GET", "k"}), "$1\r\nv\r\n");  // another server

  // memcache over TLS on both sides.
  TlsClient mc(mtls, certs_->ca_crt);
  ASSERT_TRUE(mc.ok()) << mc.error();
  ASSERT_TRUE(mc.Send("set mk 0 0 5\r\nhello\r\n"));
  EXPECT_EQ(mc.ReadUntil("\r\n"), "STORED\r\n") << mc.error() << proxy.Log();
  ASSERT_TRUE(mc.Send("get mk\r\n"));
  EXPECT_EQ(mc.ReadUntil("END\r\n"), "VALUE mk 0 5\r\nhello\r\nEND\r\n");

  // A plaintext client on the TLS port is closed, counted and logged with OpenSSL's reason.
  Client wrong(rtls, milliseconds(5000));
  ASSERT_TRUE(wrong.Send(Resp({"PING"})));
  EXPECT_TRUE(wrong.WaitForClose());
  EXPECT_TRUE(WaitUntil([&] {
    return MetricValue(HttpGet(admin, "/metrics").second,
                       "shardproxy_tls_handshake_failed_total{pool=\"rtls\"}") == 1;
  })) << HttpGet(admin, "/metrics").second;
  const std::string metrics = HttpGet(admin, "/metrics").second;
  EXPECT_EQ(MetricValue(metrics, "shardproxy_tls_handshake_failed_total{pool=\"plain\"}"), 0);
  EXPECT_TRUE(absl::StrContains(proxy.Log(), "pool rtls: TLS handshake with client 127.0.0.1:"))
      << proxy.Log();
  // The TLS client is unaffected.
  EXPECT_EQ(client.Command({"PING"}), "+PONG\r\n");

  // Health checks go over TLS too (they would all fail in plaintext).
  const std::string checks = absl::StrCat(
      "shardproxy_server_health_checks_total{pool=\"rtls\","
      "server=\"127.0.0.1:",
      redis.port(), "\",result=");
  EXPECT_TRUE(WaitUntil([&] {
    return MetricValue(HttpGet(admin, "/metrics").second, checks + "\"pass\"}") >= 3;
  })) << HttpGet(admin, "/metrics").second;
  EXPECT_EQ(MetricValue(HttpGet(admin, "/metrics").second, checks + "\"fail\"}"), 0);
}

TEST_F(TlsTest, MutualTlsRefusesClientsWithoutAGoodCertificate) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  const int port = FreePort();
  const int admin = FreePort();
  ProxyProcess proxy(Fill(absl::StrCat(R"(mutual:
  listen: 127.0.0.1:)",
                                       port, R"(
  redis: true
  tls: {cert: CERT, key: KEY, ca: CA, require_client_cert: true}
  servers:
   - 127.0.0.1:)",
                                       redis.port(), R"(:1
)")),
                     {port}, {"--admin-port", std::to_string(admin)});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  // Closed while connecting, before a first request is written, or at the first request
  // (under TLS 1.3 the client learns of the refusal at its first read).
  {
    SCOPED_TRACE("no client certificate");
    TlsClient none(port, certs_->ca_crt);
    EXPECT_EQ(none.Command({"PING"}), "");
    EXPECT_FALSE(none.error().empty());
  }
  {
    SCOPED_TRACE("a certificate the proxy's ca did not sign");
    TlsClient rogue(port, certs_->ca_crt, certs_->rogue_crt, certs_->rogue_key);
    EXPECT_EQ(rogue.Command({"PING"}), "");
    EXPECT_FALSE(rogue.error().empty());
  }
  TlsClient good(port, certs_->ca_crt, certs_->client_crt, certs_->client_key);
  ASSERT_TRUE(good.ok()) << good.error();
  EXPECT_EQ(good.Command({"SET", "m", "1"}), "+OK\r\n") << good.error();
  EXPECT_EQ(good.Command({"GET", "m"}), "$1\r\n1\r\n");
  EXPECT_TRUE(WaitUntil([&] {
    return MetricValue(HttpGet(admin, "/metrics").second,
                       "shardproxy_tls_handshake_failed_total{pool=\"mutual\"}") == 2;
  })) << HttpGet(admin, "/metrics").second;
  const std::string log = proxy.Log();
  EXPECT_TRUE(absl::StrContains(log, "failed: peer did not return a certificate; closed")) << log;
  EXPECT_TRUE(absl::StrContains(log, "failed: certificate verify failed (self-signed certificate)"))
      << log;
}

TEST_F(TlsTest, ExpiredOrUntrustedServerCertificatesFailRequestsClearly) {
  TlsRedis expired(certs_->expired_crt, certs_->expired_key, certs_->ca_crt);
  TlsRedis rogue(certs_->rogue_crt, certs_->rogue_key, certs_->ca_crt);
  TlsMemcached rogue_memcached(certs_->rogue_crt, certs_->rogue_key);
  ASSERT_TRUE(expired.ok() && rogue.ok() && rogue_memcached.ok());
  const int a = FreePort(), b = FreePort(), c = FreePort(), d = FreePort();
  ProxyProcess proxy(Fill(absl::StrCat(R"(expired:
  listen: 127.0.0.1:)",
                                       a, R"(
  redis: true
  server_tls: {ca: CA}
  servers:
   - 127.0.0.1:)",
                                       expired.port(), R"(:1
untrusted:
  listen: 127.0.0.1:)",
                                       b, R"(
  redis: true
  server_tls: {ca: CA}
  servers:
   - 127.0.0.1:)",
                                       rogue.port(), R"(:1
untrusted_memcache:
  listen: 127.0.0.1:)",
                                       c, R"(
  server_tls: {ca: CA}
  servers:
   - 127.0.0.1:)",
                                       rogue_memcached.port(), R"(:1
unverified:
  listen: 127.0.0.1:)",
                                       d, R"(
  redis: true
  server_tls: {verify: false}
  servers:
   - 127.0.0.1:)",
                                       rogue.port(), R"(:1
)")),
                     {a, b, c, d});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  const std::string failed =
      "-ERR TLS handshake with the server failed (the proxy's log says why)\r\n";
  Client to_expired(a);
  EXPECT_EQ(to_expired.Command({"GET", "x"}), failed);
  Client to_rogue(b);
  EXPECT_EQ(to_rogue.Command({"GET", "x"}), failed);
  Client to_rogue_memcached(c);
  ASSERT_TRUE(to_rogue_memcached.Send("get x\r\n"));
  EXPECT_EQ(to_rogue_memcached.ReadMemcacheReply(),
            "SERVER_ERROR TLS handshake with the server failed (the proxy's log says why)\r\n");
  // verify: false takes any certificate.
  Client to_unverified(d);
  EXPECT_EQ(to_unverified.Command({"SET", "x", "1"}), "+OK\r\n");
  EXPECT_EQ(to_unverified.Command({"GET", "x"}), "$1\r\n1\r\n");
  const std::string log = proxy.Log();
  EXPECT_TRUE(absl::StrContains(
      log, absl::StrCat("pool expired: TLS handshake with server 127.0.0.1:", expired.port(),
                        ":1 failed: certificate verify failed (certificate has expired)")))
      << log;
  EXPECT_TRUE(absl::StrContains(
      log, absl::StrCat("pool untrusted: TLS handshake with server 127.0.0.1:", rogue.port(),
                        ":1 failed: certificate verify failed (self-signed certificate)")))
      << log;
  EXPECT_TRUE(absl::StrContains(log, "pool untrusted_memcache: TLS handshake with server"));
}

TEST_F(TlsTest, ReloadAppliesNewCertificateFiles) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  // The proxy's certificate and key, at paths of their own (replaced below).
  const std::string crt = TempPath("tls-reload-proxy.crt");
  const std::string key = TempPath("tls-reload-proxy.key");
  ASSERT_EQ(IssueServerCert(*certs_, "proxy-gen1", crt, key), "");
  const int port = FreePort();
  const int admin = FreePort();
  ProxyProcess proxy(absl::StrCat(R"(r:
  listen: 127.0.0.1:)",
                                  port, R"(
  redis: true
  tls: {cert: )",
                                  crt, ", key: ", key, R"(}
  servers:
   - 127.0.0.1:)",
                                  redis.port(), R"(:1
)"),
                     {port}, {"--admin-port", std::to_string(admin)});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  TlsClient first(port, certs_->ca_crt);
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_EQ(first.PeerCommonName(), "proxy-gen1");
  EXPECT_EQ(first.Command({"PING"}), "+PONG\r\n");

  // New files in place: read at the next reload, not before.
  ASSERT_EQ(IssueServerCert(*certs_, "proxy-gen2", crt, key), "");
  EXPECT_EQ(TlsClient(port, certs_->ca_crt).PeerCommonName(), "proxy-gen1");
  auto metric = [&](const std::string& series) {
    return MetricValue(HttpGet(admin, "/metrics").second, series);
  };
  proxy.process().Kill(SIGUSR1);
  ASSERT_TRUE(WaitUntil([&] { return metric("shardproxy_config_generation") == 2; }))
      << proxy.Log();
  TlsClient second(port, certs_->ca_crt);
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_EQ(second.PeerCommonName(), "proxy-gen2");
  EXPECT_EQ(second.Command({"PING"}), "+PONG\r\n");
  EXPECT_EQ(first.Command({"PING"}), "+PONG\r\n");  // kept, on its own session

  // A broken certificate fails the reload, with the reason; the proxy keeps the last good one.
  std::ofstream(crt, std::ios::trunc) << "-----BEGIN CERTIFICATE-----\ngarbage\n";
  proxy.process().Kill(SIGUSR1);
  ASSERT_TRUE(WaitUntil([&] {
    return metric("shardproxy_config_reloads_total{result=\"failure\"}") == 1;
  })) << proxy.Log();
  EXPECT_TRUE(absl::StrContains(proxy.Log(), absl::StrCat("cannot load cert '", crt, "'")))
      << proxy.Log();
  EXPECT_EQ(metric("shardproxy_config_generation"), 2);
  TlsClient third(port, certs_->ca_crt);
  EXPECT_EQ(third.PeerCommonName(), "proxy-gen2");
  EXPECT_EQ(third.Command({"PING"}), "+PONG\r\n");

  // The same file at start: the proxy does not start, and says why.
  const std::string conf = TempPath("tls-reload-broken.yml");
  std::ofstream(conf) << absl::StrCat("r:\n  listen: 127.0.0.1:", FreePort(),
                                      "\n  redis: true\n  tls: {cert: ", crt, ", key: ", key,
                                      "}\n  servers:\n   - 127.0.0.1:", redis.port(), ":1\n");
  const CommandResult start = RunCommand({Runfile("proxy"), "-c", conf}, milliseconds(10000));
  EXPECT_NE(start.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(start.output, absl::StrCat("cannot load cert '", crt, "'")))
      << start.output;
}

}  // namespace
}  // namespace proxy::test

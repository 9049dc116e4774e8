// Observability end to end: /metrics checked by promtool, latency histograms and `proxyctl
// stats` against a backend made slow on purpose, /healthz and /servers through an ejection,
// the slow log, and twemproxy's logging controls (-o, SIGHUP reopen, SIGTTIN/SIGTTOU).
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"

namespace proxy::test {
namespace {

// GET http://127.0.0.1:port/path → (status code, body).
std::string Pool(int listen, const std::vector<int>& servers, const std::string& extra = "") {
  std::string yaml = absl::StrCat("cache:\n  listen: 127.0.0.1:", listen, "\n  redis: true\n",
                                  extra, "  servers:\n");
  for (int port : servers) absl::StrAppend(&yaml, "   - 127.0.0.1:", port, ":1\n");
  return yaml;
}

TEST(ObservabilityTest, MetricsPassPromtoolAndHistogramsSeeInjectedLatency) {
  const std::string promtool = FindExecutable("promtool");
  ASSERT_FALSE(promtool.empty()) << "promtool (Debian package prometheus) must be installed";
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  const int port = FreePort(), admin = FreePort();
  ProxyProcess proxy(Pool(port, {redis.port()}), {port, admin},
                     {"--admin-port", std::to_string(admin), "--slowlog-us", "200000"});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Client client(port);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(client.Command({"SET", "k", "v"}), "+OK\r\n");
  // One slow GET, slow whatever the machine's load: the backend is stopped before the GET is
  // sent and resumed 300 ms after the GET has reached it (its bytes wait unread there), so the
  // proxy sees it take at least 300 ms.
  redis.process().Kill(SIGSTOP);
  ASSERT_TRUE(client.Send(Resp({"GET", "k"})));
  const bool forwarded = WaitUntil([&] { return UnreadBytesAt(redis.port()) > 0; });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the latency injected
  redis.process().Kill(SIGCONT);
  ASSERT_TRUE(forwarded) << "the GET never reached the stopped backend";
  ASSERT_EQ(client.ReadReply(), "$1\r\nv\r\n");

  const auto [code, metrics] = HttpGet(admin, "/metrics");
  ASSERT_EQ(code, 200);
  const CommandResult check = RunCommand({promtool, "check", "metrics"},
                                         std::chrono::seconds(20), metrics);
  EXPECT_EQ(check.exit_code, 0) << check.output << "\n" << metrics;
  // The GET took >= 300 ms: it is in no bucket below 0.25 s.
  const std::string below = "shardproxy_request_duration_seconds_bucket{pool=\"cache\","
                            "command=\"GET\",le=\"0.1\"} 0";
  const std::string total = "shardproxy_request_duration_seconds_bucket{pool=\"cache\","
                            "command=\"GET\",le=\"+Inf\"} 1";
  EXPECT_NE(metrics.find(below), std::string::npos) << metrics;
  EXPECT_NE(metrics.find(total), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("shardproxy_requests_total{pool=\"cache\",command=\"SET\"} 20"),
            std::string::npos);
  EXPECT_NE(metrics.find("shardproxy_slow_requests_total{pool=\"cache\"} 1"), std::string::npos);
  // The safety counters are exported (nothing was refused or overflowed here).
  for (const char* family : {"accept_refused", "unsupported_refused", "client_output_overflow",
                             "client_eof_pending", "server_backpressure"}) {
    EXPECT_NE(metrics.find(absl::StrCat("shardproxy_", family, "_total{pool=\"cache\"} 0")),
              std::string::npos)
        << family;
  }
  EXPECT_NE(proxy.Log().find("slow request: pool cache"), std::string::npos) << proxy.Log();

  // proxyctl stats reads the same and prints the percentiles (p99 of GET in 250..1000 ms).
  const CommandResult stats = RunCommand(
      {Runfile("proxyctl"), "stats", "--admin", absl::StrCat("127.0.0.1:", admin)},
      std::chrono::seconds(20));
  ASSERT_EQ(stats.exit_code, 0) << stats.output;
  const size_t row = stats.output.find("cache            GET");
  ASSERT_NE(row, std::string::npos) << stats.output;
  std::vector<std::string> fields;
  std::string line = stats.output.substr(row, stats.output.find('\n', row) - row);
  for (size_t pos = 0; pos < line.size();) {
    const size_t start = line.find_first_not_of(' ', pos);
    if (start == std::string::npos) break;
    const size_t end = line.find(' ', start);
    fields.push_back(line.substr(start, end - start));
    pos = end == std::string::npos ? line.size() : end;
  }
  ASSERT_EQ(fields.size(), 8u) << line;
  double p99 = 0;
  ASSERT_TRUE(absl::SimpleAtod(fields[6], &p99)) << line;
  EXPECT_GE(p99, 250.0) << line;
  EXPECT_LE(p99, 1000.0) << line;
}

TEST(ObservabilityTest, HealthAndServersFollowEjection) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  const int port = FreePort(), admin = FreePort();
  ProxyProcess proxy(
      Pool(port, {redis.port()},
           "  auto_eject_hosts: true\n  server_failure_limit: 1\n  server_retry_timeout: 60000\n"),
      {port, admin}, {"--admin-port", std::to_string(admin)});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  EXPECT_EQ(HttpGet(admin, "/healthz"), std::make_pair(200, std::string("ok\n")));
  auto [code, servers] = HttpGet(admin, "/servers");
  EXPECT_NE(servers.find("\"state\": \"live\""), std::string::npos) << servers;
  EXPECT_EQ(HttpGet(admin, "/stats").second.rfind("{\"service\":\"nutcracker\"", 0), 0u);
  EXPECT_EQ(HttpGet(admin, "/nope").first, 404);
  redis.Kill();
  Client client(port);
  EXPECT_EQ(client.Command({"GET", "k"}).rfind("-ERR", 0), 0u);
  EXPECT_TRUE(WaitUntil([&] { return HttpGet(admin, "/healthz").first == 503; }));
  EXPECT_NE(HttpGet(admin, "/healthz").second.find("cache"), std::string::npos);
  servers = HttpGet(admin, "/servers").second;
  EXPECT_NE(servers.find("\"state\": \"ejected\""), std::string::npos) << servers;
  // The ejection is counted in the twemproxy JSON too, with its time.
  const std::string stats = HttpGet(admin, "/stats").second;
  EXPECT_NE(stats.find("\"server_ejects\":1, "), std::string::npos) << stats;
  EXPECT_EQ(stats.find("\"server_ejected_at\":0, "), std::string::npos) << stats;
  EXPECT_NE(stats.find("\"forward_error\":1, "), std::string::npos) << stats;
  EXPECT_NE(servers.find("\"retry_in_ms\": 5"), std::string::npos) << servers;
}

TEST(ObservabilityTest, LogFileIsReopenedOnSighupAndLevelFollowsSignals) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  const int port = FreePort();
  const std::string log = TempPath("proxy-own.log");
  ProxyProcess proxy(Pool(port, {redis.port()}), {port}, {"-o", log});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  auto read = [](const std::string& path) {
    std::string out;
    FILE* f = fopen(path.c_str(), "r");
    if (f == nullptr) return out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
    fclose(f);
    return out;
  };
  EXPECT_NE(read(log).find("started on pid"), std::string::npos);
  // logrotate: move the file away, SIGHUP, the proxy writes to a new file at the old path.
  ASSERT_EQ(rename(log.c_str(), (log + ".1").c_str()), 0);
  proxy.process().Kill(SIGHUP);
  EXPECT_TRUE(WaitUntil([&] {
    return read(log).find("reopening log file") != std::string::npos ||
           read(log + ".1").find("reopening") != std::string::npos;
  }));
  // The harness starts the proxy with -v 6.
  proxy.process().Kill(SIGTTIN);
  EXPECT_TRUE(WaitUntil([&] { return read(log).find("up log level to 7") != std::string::npos; }))
      << read(log);
  proxy.process().Kill(SIGTTOU);
  EXPECT_TRUE(WaitUntil([&] { return read(log).find("down log level to 6") != std::string::npos; }))
      << read(log);
}

}  // namespace
}  // namespace proxy::test

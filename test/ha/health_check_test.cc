// Active health checks (`health_check_interval`) and `auto_eject_drop` against
// real servers (docs/high-availability.md): a server that accepts connections
// but never answers (SIGSTOP) is found by the checks and ejected within
// interval x server_failure_limit, stays out past its retry timeout, and comes
// back only after a passing check; with auto_eject_drop an ejected server's
// keys fail fast while the other keys are served, instead of moving.
#include <signal.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"

namespace proxy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// The /servers entry of `server` (one JSON object per line).
std::string ServerLine(int admin_port, const std::string& server) {
  const auto [code, body] = HttpGet(admin_port, "/servers");
  if (code != 200) return "";
  const size_t at = body.find(absl::StrCat("\"server\": \"", server, "\""));
  if (at == std::string::npos) return "";
  const size_t start = body.rfind('{', at);
  return body.substr(start, body.find('}', at) - start + 1);
}

std::string RedisPool(int listen, int s1, int s2, const std::string& extra) {
  return absl::StrCat("alpha:\n  listen: 127.0.0.1:", listen,
                      "\n  redis: true\n  hash: fnv1a_64\n  auto_eject_hosts: true\n", extra,
                      "  servers:\n   - 127.0.0.1:", s1, ":1 one\n   - 127.0.0.1:", s2, ":1 two\n");
}

// A key the proxy sends to server "two" (found by asking the backends where it
// landed).
std::string KeyOnSecond(int proxy_port, int second_port) {
  Client client(proxy_port);
  Client direct(second_port);
  for (int i = 0; i < 200; ++i) {
    const std::string key = absl::StrCat(i, ":where");
    if (client.Command({"SET", key, "x"}) != "+OK\r\n") return "";
    if (direct.Command({"EXISTS", key}) == ":1\r\n") return key;
  }
  return "";
}

TEST(HealthCheckTest, AStoppedServerIsEjectedByChecksAndReturnsOnlyAfterAPassingCheck) {
  RedisServer one, two;
  ASSERT_TRUE(one.ok() && two.ok()) << "redis-server must be installed (tools/setup.sh)";
  const int port = FreePort();
  const int admin = FreePort();
  // A long request timeout: only the checks can notice the stopped server here.
  ProxyProcess proxy(RedisPool(port, one.port(), two.port(),
                               "  timeout: 30000\n  server_failure_limit: 2\n"
                               "  server_retry_timeout: 300\n  health_check_interval: 200\n"),
                     {port}, {"--admin-port", std::to_string(admin)});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  const std::string key = KeyOnSecond(port, two.port());
  ASSERT_FALSE(key.empty());
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(ServerLine(admin, "two"), "\"up\""); },
                        milliseconds(3000)))
      << ServerLine(admin, "two");

  two.process().Kill(SIGSTOP);
  const auto stopped = steady_clock::now();
  ASSERT_TRUE(WaitUntil(
      [&] { return absl::StrContains(ServerLine(admin, "two"), "\"state\": \"ejected\""); },
      milliseconds(5000)))
      << ServerLine(admin, "two") << "\n"
      << proxy.Log();
  const auto detected = std::chrono::duration_cast<milliseconds>(steady_clock::now() - stopped);
  // 2 failed checks at 200 ms: the second failure is seen at the third tick at
  // the latest.
  EXPECT_LE(detected.count(), 1000) << "interval x limit plus one interval";
  std::printf(
      "health check: stopped server ejected after %lld ms (interval "
      "200 ms, limit 2)\n",
      static_cast<long long>(detected.count()));
  EXPECT_TRUE(absl::StrContains(ServerLine(admin, "two"), "\"health\": \"down\""));
  // Its keys are served by the other server meanwhile (twemproxy's ejection).
  Client client(port);
  EXPECT_EQ(client.Command({"SET", key, "moved"}), "+OK\r\n");
  Client direct_one(one.port());
  EXPECT_EQ(direct_one.Command({"GET", key}), "$5\r\nmoved\r\n");
  // Past server_retry_timeout (300 ms) it stays out: only a passing check
  // brings it back.
  std::this_thread::sleep_for(milliseconds(800));
  EXPECT_EQ(client.Command({"GET", key}), "$5\r\nmoved\r\n");
  EXPECT_TRUE(absl::StrContains(ServerLine(admin, "two"), "\"state\": \"ejected\""));

  two.process().Kill(SIGCONT);
  ASSERT_TRUE(
      WaitUntil([&] { return absl::StrContains(ServerLine(admin, "two"), "\"state\": \"live\""); },
                milliseconds(3000)))
      << ServerLine(admin, "two") << "\n"
      << proxy.Log();
  EXPECT_TRUE(absl::StrContains(ServerLine(admin, "two"), "\"health\": \"up\""));
  EXPECT_EQ(client.Command({"GET", key}), "$1\r\nx\r\n") << "the key is back on its server";
  const auto [code, metrics] = HttpGet(admin, "/metrics");
  EXPECT_TRUE(absl::StrContains(metrics,
                                "shardproxy_server_health_checks_total{pool="
                                "\"alpha\",server=\"two\",result=\"fail\"}"))
      << metrics;
  EXPECT_TRUE(absl::StrContains(proxy.Log(), "passed its health check: up again")) << proxy.Log();
}

TEST(HealthCheckTest, MemcachedIsCheckedWithVersion) {
  MemcachedServer one, two;
  ASSERT_TRUE(one.ok() && two.ok()) << "memcached must be installed (tools/setup.sh)";
  const int port = FreePort();
  const int admin = FreePort();
  ProxyProcess proxy(absl::StrCat("beta:\n  listen: 127.0.0.1:", port,
                                  "\n  auto_eject_hosts: true\n  timeout: 30000\n  "
                                  "server_failure_limit: 1\n"
                                  "  health_check_interval: 100\n  servers:\n   - 127.0.0.1:",
                                  one.port(), ":1 one\n   - 127.0.0.1:", two.port(), ":1 two\n"),
                     {port}, {"--admin-port", std::to_string(admin)});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(ServerLine(admin, "two"), "\"up\""); },
                        milliseconds(3000)));
  two.process().Kill(SIGSTOP);
  EXPECT_TRUE(WaitUntil(
      [&] { return absl::StrContains(ServerLine(admin, "two"), "\"state\": \"ejected\""); },
      milliseconds(3000)))
      << ServerLine(admin, "two");
  two.process().Kill(SIGCONT);
  EXPECT_TRUE(
      WaitUntil([&] { return absl::StrContains(ServerLine(admin, "two"), "\"state\": \"live\""); },
                milliseconds(3000)))
      << ServerLine(admin, "two");
}

TEST(HealthCheckTest, AutoEjectDropFailsTheEjectedServersKeysAndServesTheOthers) {
  RedisServer one, two;
  ASSERT_TRUE(one.ok() && two.ok());
  const int port = FreePort();
  const int admin = FreePort();
  ProxyProcess proxy(RedisPool(port, one.port(), two.port(),
                               "  auto_eject_drop: true\n  server_failure_limit: 1\n"
                               "  server_retry_timeout: 60000\n"),
                     {port}, {"--admin-port", std::to_string(admin)});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  const std::string key = KeyOnSecond(port, two.port());
  ASSERT_FALSE(key.empty());
  Client client(port);
  // A key of server one, for the other side of the check.
  std::string other;
  {
    Client direct(one.port());
    for (int i = 0; i < 200 && other.empty(); ++i) {
      const std::string k = absl::StrCat(i, ":other");
      ASSERT_EQ(client.Command({"SET", k, "v"}), "+OK\r\n");
      if (direct.Command({"EXISTS", k}) == ":1\r\n") other = k;
    }
  }
  ASSERT_FALSE(other.empty());
  two.Kill();
  // The first request finds the server gone (and ejects it: failure limit 1).
  const std::string first = client.Command({"GET", key});
  EXPECT_TRUE(absl::StartsWith(first, "-ERR")) << first;
  ASSERT_TRUE(WaitUntil(
      [&] { return absl::StrContains(ServerLine(admin, "two"), "\"state\": \"ejected\""); },
      milliseconds(3000)));
  // From now on its keys fail fast with a clear error; they do not move to
  // server one.
  const std::string dropped = client.Command({"SET", key, "elsewhere"});
  EXPECT_TRUE(absl::StrContains(dropped, "is ejected") &&
              absl::StrContains(dropped, "auto_eject_drop"))
      << dropped;
  Client direct_one(one.port());
  EXPECT_EQ(direct_one.Command({"EXISTS", key}), ":0\r\n") << "the key moved to server one";
  // The other server's keys are served.
  EXPECT_EQ(client.Command({"GET", other}), "$1\r\nv\r\n");
  EXPECT_EQ(client.Command({"SET", other, "w"}), "+OK\r\n");
  // A multi-key request touching the ejected server fails as a whole.
  const std::string mget = client.Command({"MGET", other, key});
  EXPECT_TRUE(absl::StartsWith(mget, "-ERR")) << mget;
  EXPECT_EQ(client.Command({"GET", other}), "$1\r\nw\r\n");
}

}  // namespace
}  // namespace proxy::test

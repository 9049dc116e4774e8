// Every refusal of a valid request is counted per pool and command (/metrics
// shardproxy_refused_total, not in twemproxy's stats JSON), logged at -v 6 and above at most
// 10 lines a second per worker, and answered with a reply the client's library understands:
// redis `-ERR ...`, memcache `CLIENT_ERROR ...` (node's `memcached` marks a server dead on any
// SERVER_ERROR, which stays for backend failures).
#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"

namespace proxy::test {
namespace {

int CountLines(const std::string& text, absl::string_view needle) {
  int n = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) n += absl::StrContains(line, needle);
  return n;
}

TEST(RefusalTest, CountedPerCommandLoggedAndRateLimited) {
  RedisServer redis;
  MemcachedServer memcached;
  ASSERT_TRUE(redis.ok());
  ASSERT_TRUE(memcached.ok());
  const int rport = FreePort(), mport = FreePort(), admin = FreePort();
  const std::string yaml = absl::StrCat(
      "r:\n  listen: 127.0.0.1:", rport, "\n  redis: true\n  servers:\n   - 127.0.0.1:",
      redis.port(), ":1\nm:\n  listen: 127.0.0.1:", mport, "\n  servers:\n   - 127.0.0.1:",
      memcached.port(), ":1\n");
  ProxyProcess proxy(yaml, {rport, mport, admin},
                     {"--admin-port", std::to_string(admin), "-v", "6"});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();

  Client r(rport);
  for (int i = 0; i < 50; ++i) {
    const std::string reply = r.Command({"KEYS", "*"});
    ASSERT_EQ(reply.rfind("-ERR", 0), 0u) << reply;
  }
  EXPECT_EQ(r.Command({"FLUSHALL"}).rfind("-ERR", 0), 0u);
  EXPECT_EQ(r.Command({"SET", "a", "b"}), "+OK\r\n");  // served as usual

  // The log allows 10 refusal lines per second and worker: the KEYS above used this second's.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  Client m(mport);
  ASSERT_TRUE(m.Send("flush_all\r\n"));
  const std::string flush = m.ReadMemcacheReply();
  EXPECT_EQ(flush.rfind("CLIENT_ERROR ", 0), 0u) << flush;
  ASSERT_TRUE(m.Send("set k 0 0 1\r\nv\r\n"));
  EXPECT_EQ(m.ReadMemcacheReply(), "STORED\r\n");

  const auto [code, metrics] = HttpGet(admin, "/metrics");
  ASSERT_EQ(code, 200);
  EXPECT_TRUE(absl::StrContains(metrics, "shardproxy_refused_total{pool=\"r\",command=\"KEYS\"} 50"))
      << metrics;
  EXPECT_TRUE(
      absl::StrContains(metrics, "shardproxy_refused_total{pool=\"r\",command=\"FLUSHALL\"} 1"));
  EXPECT_TRUE(
      absl::StrContains(metrics, "shardproxy_refused_total{pool=\"m\",command=\"flush_all\"} 1"))
      << metrics;
  EXPECT_FALSE(absl::StrContains(metrics, "command=\"SET\"} 1\nshardproxy_refused"));
  // twemproxy's stats JSON keeps its field set.
  EXPECT_FALSE(absl::StrContains(HttpGet(admin, "/stats").second, "refused"));

  // Logged with the pool and command, at most 10 lines in any one second per worker.
  const std::string log = proxy.Log();
  const int lines = CountLines(log, "pool r: refused KEYS");
  EXPECT_GE(lines, 1) << log;
  EXPECT_LE(lines, 20) << log;  // 50 refusals within at most two clock seconds
  EXPECT_EQ(CountLines(log, "pool m: refused flush_all"), 1) << log;
}

TEST(RefusalTest, NotLoggedBelowVerbosity6) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  const int port = FreePort();
  ProxyProcess proxy(absl::StrCat("r:\n  listen: 127.0.0.1:", port,
                                  "\n  redis: true\n  servers:\n   - 127.0.0.1:", redis.port(),
                                  ":1\n"),
                     {port}, {"-v", "5"});
  ASSERT_TRUE(proxy.ok());
  Client r(port);
  EXPECT_EQ(r.Command({"KEYS", "*"}).rfind("-ERR", 0), 0u);
  EXPECT_EQ(r.Command({"PING"}), "+PONG\r\n");
  EXPECT_FALSE(absl::StrContains(proxy.Log(), "refused KEYS")) << proxy.Log();
}

}  // namespace
}  // namespace proxy::test

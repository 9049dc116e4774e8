// Graceful shutdown (docs/live-changes.md): on SIGTERM/SIGINT the proxy stops accepting at
// once, closes idle clients, answers every request it has already received (here: requests
// held up by a stopped backend), then exits 0; bounded by --drain-timeout. SIGQUIT and
// --drain-timeout 0 exit at once, like twemproxy.
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"

namespace proxy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

std::string Pool(int listen, int backend) {
  return absl::StrCat("alpha:\n  listen: 127.0.0.1:", listen,
                      "\n  redis: true\n  timeout: 10000\n  servers:\n   - 127.0.0.1:", backend,
                      ":1\n");
}

TEST(DrainTest, InFlightRequestsAreAnsweredBeforeExitAndNewConnectionsAreRefused) {
  for (int sig : {SIGTERM, SIGINT}) {
    RedisServer redis;
    ASSERT_TRUE(redis.ok()) << "redis-server must be installed (tools/setup.sh)";
    const int port = FreePort();
    ProxyProcess proxy(Pool(port, redis.port()), {port}, {"--drain-timeout", "20"});
    ASSERT_TRUE(proxy.ok()) << proxy.Log();
    Client idle(port);
    Client busy(port);
    ASSERT_EQ(busy.Command({"SET", "k", "v1"}), "+OK\r\n");
    ASSERT_EQ(idle.Command({"PING"}), "+PONG\r\n");
    // The backend stops: the next requests wait in the proxy.
    redis.process().Kill(SIGSTOP);
    const std::string requests = Resp({"SET", "k", "v2"}) + Resp({"GET", "k"});
    ASSERT_TRUE(busy.Send(requests));
    // Both were forwarded: their bytes wait, unread, at the stopped backend.
    ASSERT_TRUE(WaitUntil([&] {
      return UnreadBytesAt(redis.port()) >= static_cast<long>(requests.size());
    })) << "the requests never reached the stopped backend";
    proxy.process().Kill(sig);
    // The idle client is closed at once; new connections are refused.
    EXPECT_TRUE(idle.WaitForClose()) << proxy.Log();
    EXPECT_TRUE(WaitUntil([&] { return PortRefuses(port); }))
        << "the listener must be closed while draining";
    EXPECT_TRUE(proxy.process().Running()) << "exited with requests in flight\n" << proxy.Log();
    // The backend comes back: the waiting client gets both replies, in order, then the exit.
    redis.process().Kill(SIGCONT);
    EXPECT_EQ(busy.ReadReply(), "+OK\r\n");
    EXPECT_EQ(busy.ReadReply(), "$2\r\nv2\r\n");
    EXPECT_TRUE(busy.WaitForClose());
    EXPECT_EQ(WaitExit(proxy.process(), milliseconds(10000)), 0) << proxy.Log();
    EXPECT_NE(proxy.Log().find("drained in"), std::string::npos) << proxy.Log();
  }
}

TEST(DrainTest, TheDrainTimeoutBoundsTheWait) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  const int port = FreePort();
  ProxyProcess proxy(Pool(port, redis.port()), {port}, {"--drain-timeout", "0.5"});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Client busy(port);
  ASSERT_EQ(busy.Command({"PING"}), "+PONG\r\n");
  redis.process().Kill(SIGSTOP);
  ASSERT_TRUE(busy.Send(Resp({"GET", "k"})));
  ASSERT_TRUE(WaitUntil([&] { return UnreadBytesAt(redis.port()) > 0; }));
  const auto start = steady_clock::now();
  proxy.process().Kill(SIGTERM);
  EXPECT_EQ(WaitExit(proxy.process(), milliseconds(5000)), 0) << proxy.Log();
  const auto took = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  EXPECT_GE(took.count(), 400) << "exited before the drain timeout";
  EXPECT_TRUE(busy.WaitForClose());
  EXPECT_NE(proxy.Log().find("still waiting: closed"), std::string::npos) << proxy.Log();
  redis.process().Kill(SIGCONT);
}

TEST(DrainTest, SigquitAndDrainTimeoutZeroExitAtOnce) {
  for (bool quit : {true, false}) {
    RedisServer redis;
    ASSERT_TRUE(redis.ok());
    const int port = FreePort();
    std::vector<std::string> args;
    if (!quit) args = {"--drain-timeout", "0"};
    ProxyProcess proxy(Pool(port, redis.port()), {port}, args);
    ASSERT_TRUE(proxy.ok()) << proxy.Log();
    Client busy(port);
    ASSERT_EQ(busy.Command({"PING"}), "+PONG\r\n");
    redis.process().Kill(SIGSTOP);
    ASSERT_TRUE(busy.Send(Resp({"GET", "k"})));
    ASSERT_TRUE(WaitUntil([&] { return UnreadBytesAt(redis.port()) > 0; }));
    const auto start = steady_clock::now();
    proxy.process().Kill(quit ? SIGQUIT : SIGTERM);
    EXPECT_EQ(WaitExit(proxy.process(), milliseconds(5000)), 0) << proxy.Log();
    const auto took = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
    EXPECT_LT(took.count(), 1000) << (quit ? "SIGQUIT" : "--drain-timeout 0");
    EXPECT_TRUE(busy.WaitForClose());
    redis.process().Kill(SIGCONT);
  }
}

}  // namespace
}  // namespace proxy::test

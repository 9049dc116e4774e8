// Issue 9, connection handling of the core, against real redis-servers and //:proxy:
//   * finding 10: clients that hang up with requests pending at a stopped backend are closed
//     (client_connections drops, no socket left in CLOSE_WAIT), while a client that only
//     half-closes still gets the replies that do arrive;
//   * finding 9: out of file descriptors (RLIMIT_NOFILE lowered with prlimit), the listener
//     pauses instead of spinning (CPU time stays low, the log stays short) and serves again
//     once connections close;
//   * finding 12: without `reuseport: true` a second instance on the same address fails to
//     start, naming the address; with it, both start on purpose.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "test/safety/core/safety_util.h"

namespace proxy::safety_test {
namespace {

TEST(HungUpClientTest, ClosedWhenRequestsArePendingAtAStoppedBackend) {
  Redis redis;
  ASSERT_TRUE(redis.ok());
  const int listen = FreePort();
  // No pool timeout: the requests would wait forever.
  Proxy proxy(RedisPoolYaml("alpha", listen, {redis.port()}), {listen});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  {
    Conn warm(listen);
    ASSERT_EQ(warm.Command({"SET", "k", "v"}), "+OK\r\n");
  }
  ASSERT_TRUE(WaitUntil([&] { return StatsField(proxy.Stats(), "alpha", "client_connections") == 0; },
                        milliseconds(30000)));
  redis.Pause();
  for (int i = 0; i < 5; ++i) {
    Conn client(listen);
    ASSERT_TRUE(client.Send(Resp({"GET", "k"}) + Resp({"SET", "k", "w"})));
    // Closed with both requests pending.
  }
  ASSERT_TRUE(WaitUntil([&] { return StatsField(proxy.Stats(), "alpha", "client_connections") == 5; },
                        milliseconds(30000)))
      << proxy.Stats();
  const bool dropped = WaitUntil(
      [&] { return StatsField(proxy.Stats(), "alpha", "client_connections") == 0; },
      milliseconds(60000));
  EXPECT_TRUE(dropped) << proxy.Stats();
  EXPECT_TRUE(WaitUntil([&] { return CloseWaitCount(listen) == 0; }, milliseconds(30000)))
      << CloseWaitCount(listen) << " sockets of port " << listen << " left in CLOSE_WAIT";
  redis.Resume();

  // Half-close keeps working: requests sent before shutdown(SHUT_WR) are answered, then the
  // proxy closes.
  Conn half(listen);
  ASSERT_TRUE(half.Send(Resp({"SET", "h", "1"}) + Resp({"GET", "h"})));
  shutdown(half.fd(), SHUT_WR);
  bool closed = false;
  EXPECT_EQ(half.ReadAll(&closed), "+OK\r\n$1\r\n1\r\n");
  EXPECT_TRUE(closed);
}

TEST(HungUpClientTest, ClosedWhileNotReadFromBecauseOfBackpressure) {
  Redis redis;
  ASSERT_TRUE(redis.ok());
  const int listen = FreePort();
  Proxy proxy(RedisPoolYaml("alpha", listen, {redis.port()}), {listen});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  redis.Pause();
  {
    // 64 KiB SETs toward a stopped server, one at a time, until the proxy stops forwarding
    // them (backpressure: it no longer reads this client). The client then hangs up; its
    // EOF is not read (reading is paused), yet the proxy must notice it.
    Conn client(listen, milliseconds(3000));
    const std::string value(64u << 10, 'v');
    bool paused = false;
    for (int i = 0; i < 2000 && !paused; ++i) {
      ASSERT_TRUE(client.Send(Resp({"SET", absl::StrCat("k", i), value})));
      paused = !WaitUntil(
          [&] { return StatsField(proxy.Stats(), "s0", "requests") == i + 1; },
          milliseconds(1000));
    }
    ASSERT_TRUE(paused) << "the proxy forwarded 125 MiB to a stopped server";
    EXPECT_EQ(StatsField(proxy.Stats(), "alpha", "client_connections"), 1);
  }
  const bool dropped = WaitUntil(
      [&] { return StatsField(proxy.Stats(), "alpha", "client_connections") == 0; },
      milliseconds(60000));
  EXPECT_TRUE(dropped) << proxy.Stats();
  EXPECT_TRUE(WaitUntil([&] { return CloseWaitCount(listen) == 0; }, milliseconds(30000)))
      << CloseWaitCount(listen) << " sockets of port " << listen << " left in CLOSE_WAIT";
  redis.Resume();
  Conn after(listen);
  EXPECT_EQ(after.Command({"SET", "after", "1"}), "+OK\r\n");
}

TEST(DescriptorExhaustionTest, ListenerBacksOffAndServesAgain) {
  const std::string prlimit = FindExecutable("prlimit");
  ASSERT_FALSE(prlimit.empty()) << "prlimit (util-linux) is needed to lower the proxy's fd limit";
  Redis redis;
  ASSERT_TRUE(redis.ok());
  const int listen = FreePort();
  Proxy proxy(RedisPoolYaml("alpha", listen, {redis.port()}, {"backlog: 512"}), {listen}, {},
              {prlimit, "--nofile=40:40"});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  {
    Conn warm(listen);
    ASSERT_EQ(warm.Command({"SET", "k", "v"}), "+OK\r\n");
  }
  // More connections than descriptors: the rest wait in the listen backlog.
  std::vector<std::unique_ptr<Conn>> flood;
  for (int i = 0; i < 60; ++i) flood.push_back(std::make_unique<Conn>(listen));
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(proxy.Log(), "accept failed"); },
                        milliseconds(20000)))
      << proxy.Log();
  // While out of descriptors, the proxy mostly sleeps: < 25% of one core over 3 s (a listener
  // that retries at once uses 100%).
  const long long ticks_per_second = sysconf(_SC_CLK_TCK);
  const long long cpu_before = CpuTicks(proxy.pid());
  const size_t log_before = proxy.Log().size();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const long long cpu_used = CpuTicks(proxy.pid()) - cpu_before;
  const size_t log_growth = proxy.Log().size() - log_before;
  std::printf("out of descriptors for 3 s: %lld CPU ticks (%lld per second), log +%zu bytes\n",
              cpu_used, ticks_per_second, log_growth);
  EXPECT_LT(cpu_used, ticks_per_second * 3 / 4)
      << cpu_used << " ticks of CPU in 3 s while out of descriptors";
  // At most ~10 lines a second (100 ms first pause, doubling to 1 s).
  EXPECT_LT(log_growth, 40u * 200u) << "log grew by " << log_growth << " bytes in 3 s";

  // Descriptors come back: the proxy accepts again and serves.
  flood.clear();
  bool served = WaitUntil(
      [&] {
        Conn client(listen, milliseconds(2000));
        return client.Command({"GET", "k"}) == "$1\r\nv\r\n";
      },
      milliseconds(30000));
  EXPECT_TRUE(served) << proxy.Log().substr(0, 4000);
  EXPECT_TRUE(proxy.process().Running());
}

// Starts //:proxy on `yaml` without waiting for it; the caller watches it.
void StartRaw(Process* process, const std::string& yaml, const std::string& log) {
  static int counter = 0;
  const std::string conf = TempPath(absl::StrCat("raw-", getpid(), "-", ++counter, ".yml"));
  std::ofstream(conf) << yaml;
  ASSERT_TRUE(process->Start({Runfile("proxy"), "-c", conf, "-s", std::to_string(FreePort()),
                              "-a", "127.0.0.1"},
                             log));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(ReusePortTest, SecondInstanceFailsWithoutReusePort) {
  Redis redis;
  ASSERT_TRUE(redis.ok());
  const int listen = FreePort();
  const std::string yaml = RedisPoolYaml("alpha", listen, {redis.port()});
  Proxy first(yaml, {listen}, {"--workers=2"});
  ASSERT_TRUE(first.ok()) << first.Log();
  Process second;
  const std::string log = TempPath(absl::StrCat("second-", listen, ".log"));
  StartRaw(&second, yaml, log);
  const int status = WaitExit(second, milliseconds(20000));
  EXPECT_NE(status, -2) << "the second instance is still running: it shares the port";
  EXPECT_NE(status, 0);
  const std::string text = ReadFile(log);
  EXPECT_TRUE(absl::StrContains(text, absl::StrCat("127.0.0.1:", listen))) << text;
  EXPECT_TRUE(absl::StrContains(text, "Address already in use")) << text;
  // The first one still serves, with its two workers on one socket.
  for (int i = 0; i < 10; ++i) {
    Conn client(listen);
    EXPECT_EQ(client.Command({"SET", absl::StrCat("k", i), "v"}), "+OK\r\n");
  }
}

TEST(ReusePortTest, SharedOnPurposeWithReusePort) {
  Redis redis;
  ASSERT_TRUE(redis.ok());
  const int listen = FreePort();
  const std::string yaml = RedisPoolYaml("alpha", listen, {redis.port()}, {"reuseport: true"});
  Proxy first(yaml, {listen});
  ASSERT_TRUE(first.ok()) << first.Log();
  Proxy second(yaml, {listen});
  ASSERT_TRUE(second.ok()) << second.Log();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(second.process().Running()) << second.Log();
  Conn client(listen);
  EXPECT_EQ(client.Command({"SET", "k", "v"}), "+OK\r\n");
}

}  // namespace
}  // namespace proxy::safety_test

// Issue 9, finding 8 (core part): every buffer has an owner and a bound, measured on the proxy's
// RSS (/proc/PID/status) with real redis-servers:
//   * merged split replies (MGET across servers) held behind a slow request count against
//     --client-output-limit: a client that pipelines many of them and reads nothing is
//     disconnected at the limit instead of growing the proxy without bound, while a client
//     under the limit gets its merged replies intact;
//   * so do replies rewritten by a filter (memcache behind key_prefix);
//   * a backend that stops reading (SIGSTOP) makes the proxy stop reading the clients that send
//     to it, so its memory stays bounded; a client of another server is served meanwhile, and
//     after SIGCONT every reply arrives, in order.
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/safety/core/safety_util.h"

namespace proxy::safety_test {
namespace {

constexpr long long kMiB = 1024;  // in kB, the unit of /proc/PID/status

// `count` keys (named prefix + n) that the proxy places on `servers[index]`, found by writing
// them through the proxy and asking every backend directly.
std::vector<std::string> KeysOn(Conn& proxy, const std::vector<Redis*>& servers, size_t index,
                                size_t count, const std::string& prefix) {
  std::vector<std::string> keys;
  for (int n = 0; keys.size() < count && n < 10000; ++n) {
    const std::string key = absl::StrCat(prefix, n);
    if (proxy.Command({"SET", key, "probe"}) != "+OK\r\n") break;
    if (servers[index]->Direct({"EXISTS", key}) == ":1\r\n") keys.push_back(key);
  }
  return keys;
}

TEST(ClientOutputLimitTest, HeldMergedRepliesCountAndAreBounded) {
  Redis slow, a, b;
  ASSERT_TRUE(slow.ok() && a.ok() && b.ok());
  const int listen = FreePort();
  Proxy proxy(RedisPoolYaml("alpha", listen, {slow.port(), a.port(), b.port()}), {listen},
              {"--client-output-limit=16777216"});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  const std::vector<Redis*> servers = {&slow, &a, &b};

  // 8 keys on each of two servers: an MGET of all 16 is split in two and merged (4 MiB).
  Conn setup(listen, milliseconds(60000));
  std::vector<std::string> keys = KeysOn(setup, servers, 1, 8, "a:");
  const std::vector<std::string> on_b = KeysOn(setup, servers, 2, 8, "b:");
  const std::vector<std::string> on_slow = KeysOn(setup, servers, 0, 1, "s:");
  ASSERT_EQ(keys.size(), 8u);
  ASSERT_EQ(on_b.size(), 8u);
  ASSERT_EQ(on_slow.size(), 1u);
  keys.insert(keys.end(), on_b.begin(), on_b.end());
  std::string expected = absl::StrCat("*", keys.size(), "\r\n");
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string value(256u << 10, static_cast<char>('a' + i));
    ASSERT_EQ(setup.Command({"SET", keys[i], value}), "+OK\r\n");
    absl::StrAppend(&expected, "$", value.size(), "\r\n", value, "\r\n");
  }
  std::vector<std::string> mget = {"MGET"};
  mget.insert(mget.end(), keys.begin(), keys.end());
  // Under the limit, a client gets its merged reply intact.
  ASSERT_EQ(setup.Command(mget), expected);
  setup.Close();
  ASSERT_TRUE(WaitUntil([&] { return StatsField(proxy.Stats(), "alpha", "client_connections") == 0; },
                        milliseconds(30000)));

  const long long baseline = ProcStatusKb(proxy.pid(), "VmRSS");
  ASSERT_GT(baseline, 0);
  // The head request waits on a stopped server; 40 merged replies (160 MiB) complete behind it.
  slow.Pause();
  Conn greedy(listen, milliseconds(60000));
  std::string pipeline = Resp({"GET", on_slow[0]});
  for (int i = 0; i < 40; ++i) pipeline += Resp(mget);
  ASSERT_TRUE(greedy.Send(pipeline));
  const bool dropped = WaitUntil(
      [&] { return StatsField(proxy.Stats(), "alpha", "client_connections") == 0; },
      milliseconds(60000));
  const long long peak = ProcStatusKb(proxy.pid(), "VmHWM");
  slow.Resume();
  std::printf("held merged replies: VmHWM %lld kB over a VmRSS baseline of %lld kB\n",
              peak - baseline, baseline);
  EXPECT_TRUE(dropped) << proxy.Stats() << "a client holding 160 MiB of merged replies over a 16 MiB limit is "
                          "still connected";
  // 16 MiB of replies plus what is in flight; without the bound the proxy holds > 160 MiB.
  EXPECT_LT(peak - baseline, 64 * kMiB) << "VmHWM " << peak << " kB, baseline " << baseline;
  EXPECT_TRUE(WaitUntil([&] { return absl::StrContains(proxy.Log(), "over the client output limit"); },
                        milliseconds(20000)))
      << proxy.Log();

  // Everyone else is unaffected.
  Conn after(listen, milliseconds(60000));
  EXPECT_EQ(after.Command(mget), expected);
}

TEST(ClientOutputLimitTest, HeldRewrittenRepliesCountAndAreBounded) {
  // key_prefix rewrites every memcache reply (VALUE lines carry keys): those texts are held
  // behind a request waiting on a stopped server and must count against the limit too.
  Memcached slow, fast;
  ASSERT_TRUE(slow.ok() && fast.ok());
  const int listen = FreePort();
  const std::string yaml = absl::StrCat(
      "alpha:\n  listen: 127.0.0.1:", listen,
      "\n  redis: false\n  filters:\n    - name: key_prefix\n      config:\n"
      "        prefix: \"t:\"\n    - router\n  servers:\n   - 127.0.0.1:",
      slow.port(), ":1 s0\n   - 127.0.0.1:", fast.port(), ":1 s1\n");
  Proxy proxy(yaml, {listen}, {"--client-output-limit=16777216"});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Conn setup(listen, milliseconds(60000));
  std::string slow_key, fast_key;
  for (int n = 0; n < 1000 && (slow_key.empty() || fast_key.empty()); ++n) {
    const std::string key = absl::StrCat("key", n);
    ASSERT_TRUE(setup.Send(absl::StrCat("set ", key, " 0 0 1\r\nx\r\n")));
    ASSERT_EQ(setup.ReadMemcacheReply(), "STORED\r\n");
    const bool on_slow =
        absl::StartsWith(slow.Direct(absl::StrCat("get t:", key, "\r\n")), "VALUE ");
    std::string& slot = on_slow ? slow_key : fast_key;
    if (slot.empty()) slot = key;
  }
  ASSERT_FALSE(slow_key.empty() || fast_key.empty());
  const std::string value(512u << 10, 'm');
  ASSERT_TRUE(setup.Send(absl::StrCat("set ", fast_key, " 0 0 ", value.size(), "\r\n", value,
                                      "\r\n")));
  ASSERT_EQ(setup.ReadMemcacheReply(), "STORED\r\n");
  const std::string expected =
      absl::StrCat("VALUE ", fast_key, " 0 ", value.size(), "\r\n", value, "\r\nEND\r\n");
  ASSERT_TRUE(setup.Send(absl::StrCat("get ", fast_key, "\r\n")));
  ASSERT_EQ(setup.ReadMemcacheReply(), expected);
  setup.Close();
  ASSERT_TRUE(WaitUntil([&] { return StatsField(proxy.Stats(), "alpha", "client_connections") == 0; },
                        milliseconds(30000)));

  const long long baseline = ProcStatusKb(proxy.pid(), "VmRSS");
  slow.Pause();
  // 160 rewritten replies of 512 KiB (80 MiB) held behind a get on the stopped server.
  Conn greedy(listen, milliseconds(60000));
  std::string pipeline = absl::StrCat("get ", slow_key, "\r\n");
  for (int i = 0; i < 160; ++i) absl::StrAppend(&pipeline, "get ", fast_key, "\r\n");
  ASSERT_TRUE(greedy.Send(pipeline));
  const bool dropped = WaitUntil(
      [&] { return StatsField(proxy.Stats(), "alpha", "client_connections") == 0; },
      milliseconds(60000));
  const long long peak = ProcStatusKb(proxy.pid(), "VmHWM");
  slow.Resume();
  std::printf("held rewritten replies: VmHWM %lld kB over a VmRSS baseline of %lld kB\n",
              peak - baseline, baseline);
  EXPECT_TRUE(dropped) << proxy.Stats();
  EXPECT_LT(peak - baseline, 64 * kMiB) << "VmHWM " << peak << " kB, baseline " << baseline;
  Conn after(listen, milliseconds(60000));
  ASSERT_TRUE(after.Send(absl::StrCat("get ", fast_key, "\r\n")));
  EXPECT_EQ(after.ReadMemcacheReply(), expected);
}

TEST(ServerBackpressureTest, StoppedBackendBoundsMemoryAndRepliesStayInOrder) {
  Redis stopped, other;
  ASSERT_TRUE(stopped.ok() && other.ok());
  const int listen = FreePort();
  Proxy proxy(RedisPoolYaml("alpha", listen, {stopped.port(), other.port()}), {listen});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  const std::vector<Redis*> servers = {&stopped, &other};
  Conn setup(listen);
  constexpr int kRequests = 200;
  const std::vector<std::string> keys = KeysOn(setup, servers, 0, kRequests + 1, "s:");
  const std::vector<std::string> bystander_keys = KeysOn(setup, servers, 1, 1, "o:");
  ASSERT_EQ(keys.size(), static_cast<size_t>(kRequests + 1));
  ASSERT_EQ(bystander_keys.size(), 1u);
  const std::string counter = keys.back();
  ASSERT_EQ(setup.Command({"SET", counter, "0"}), "+OK\r\n");
  setup.Close();

  const long long baseline = ProcStatusKb(proxy.pid(), "VmRSS");
  ASSERT_GT(baseline, 0);
  stopped.Pause();
  // 200 x (SET of 1 MiB, INCR): 200 MiB toward a server that reads nothing.
  Conn writer(listen, milliseconds(300000));
  std::atomic<size_t> sent{0};
  std::atomic<bool> send_ok{true};
  std::thread sender([&] {
    for (int i = 0; i < kRequests; ++i) {
      const std::string value(1u << 20, static_cast<char>('A' + i % 26));
      const std::string bytes =
          Resp({"SET", keys[i], value}) + Resp({"INCR", counter});
      if (!writer.Send(bytes)) {
        send_ok = false;
        return;
      }
      sent += bytes.size();
    }
  });
  // Wait until the proxy stops taking bytes (no progress for 2 s), or everything was taken.
  size_t last = 0;
  auto last_change = std::chrono::steady_clock::now();
  const bool stalled = WaitUntil(
      [&] {
        const size_t now = sent.load();
        if (now != last) {
          last = now;
          last_change = std::chrono::steady_clock::now();
        }
        return std::chrono::steady_clock::now() - last_change > std::chrono::seconds(2) ||
               now >= static_cast<size_t>(kRequests) * (1u << 20);
      },
      milliseconds(120000));
  EXPECT_TRUE(stalled);
  EXPECT_LT(sent.load(), static_cast<size_t>(kRequests) * (1u << 20))
      << "the proxy took every byte for a stopped server";
  const long long peak = ProcStatusKb(proxy.pid(), "VmHWM");
  std::printf("stopped backend: VmHWM %lld kB over a VmRSS baseline of %lld kB, %zu bytes taken\n",
              peak - baseline, baseline, sent.load());
  // The bound is 8 MiB of unsent bytes per server connection, plus the request being read.
  EXPECT_LT(peak - baseline, 48 * kMiB) << "VmHWM " << peak << " kB, baseline " << baseline
                                        << " kB, sent " << sent.load();

  // A client of the other server is not held back.
  {
    Conn bystander(listen, milliseconds(20000));
    EXPECT_EQ(bystander.Command({"SET", bystander_keys[0], "served"}), "+OK\r\n");
    EXPECT_EQ(bystander.Command({"GET", bystander_keys[0]}), "$6\r\nserved\r\n");
  }

  stopped.Resume();
  sender.join();
  EXPECT_TRUE(send_ok.load());
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_EQ(writer.ReadReply(), "+OK\r\n") << "SET " << i;
    ASSERT_EQ(writer.ReadReply(), absl::StrCat(":", i + 1, "\r\n")) << "INCR " << i;
  }
  EXPECT_EQ(stopped.Direct({"STRLEN", keys[kRequests - 1]}), ":1048576\r\n");
  EXPECT_EQ(stopped.Direct({"GET", counter}), absl::StrCat("$3\r\n", kRequests, "\r\n"));
}

}  // namespace
}  // namespace proxy::safety_test

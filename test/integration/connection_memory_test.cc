// Memory per client connection (issue 15): what a client costs once it has served a request,
// that memory comes back after the clients close, and that the memory given back between
// requests (core/proxy/client_connection.cc ReleaseIdleMemory) never loses a partial request
// or a session's state across idle periods.
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"

namespace proxy::test {
namespace {

constexpr char kPing[] = "*1\r\n$4\r\nPING\r\n";

#if defined(__SANITIZE_ADDRESS__)
// Under AddressSanitizer (the CI's second suite) every allocation carries redzones and freed
// memory is never returned to the kernel (malloc_trim does not reach its allocator): measured
// 8,552 bytes per client after a PING, and RSS after the close stays at the figure after the
// PINGs (+0.9 MiB measured). The bounds: 1.5 times that per client, and no growth at the
// close beyond 4 MiB instead of "back to the idle figure" (it still catches the close burst's
// 16 KiB read reservations: 2,000 x 16 KiB before).
constexpr double kMaxBytesPerClient = 12800;
constexpr bool kHeapReturnsToKernel = false;
#else
// Measured (fastbuild and opt alike: the same heap): 502 bytes per connection after one PING
// (RssAnon the same); 946 with the idle release alone, 2,144 before it (issue 15,
// docs/bench/2026-12-07-issue15-connection-memory.md). Bound: the 512 bytes plus 20%
// for the heap's layout at 2,000 clients.
constexpr double kMaxBytesPerClient = 615;
constexpr bool kHeapReturnsToKernel = true;
#endif

std::string RedisPool(int port, int redis_port) {
  return absl::StrCat("p:\n  listen: 127.0.0.1:", port,
                      "\n  redis: true\n  hash: fnv1a_64\n  distribution: ketama\n"
                      "  server_connections: 1\n  preconnect: true\n  servers:\n"
                      "   - 127.0.0.1:",
                      redis_port, ":1 s1\n");
}

long AnonKb(pid_t pid) { return ProcStatusKb(pid, "RssAnon"); }

// client_connections of pool "p" from the stats port (twemproxy's JSON); -1 when unreadable.
long long ClientConnections(int stats_port) {
  Client stats(stats_port);
  if (!stats.connected()) return -1;
  const std::string json = stats.ReadAll();
  size_t at = json.find("\"p\": {");
  if (at == std::string::npos) return -1;
  at = json.find("\"client_connections\":", at);
  if (at == std::string::npos) return -1;
  return std::atoll(json.c_str() + at + sizeof("\"client_connections\":") - 1);
}

// A connection closed with a reset (SO_LINGER 0), as a crowd of clients going away at once.
void CloseWithReset(int fd) {
  linger off{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &off, sizeof(off));
  close(fd);
}

// Reads exactly `n` bytes (blocking); false on close or timeout (the fd has SO_RCVTIMEO).
bool ReadN(int fd, size_t n, std::string* out) {
  out->clear();
  char buf[256];
  while (out->size() < n) {
    const ssize_t got = read(fd, buf, std::min(sizeof(buf), n - out->size()));
    if (got <= 0) return false;
    out->append(buf, static_cast<size_t>(got));
  }
  return true;
}

TEST(ConnectionMemoryTest, ClientsCostLittleAfterARequestAndTheirMemoryReturnsAfterClose) {
  // 2,000 clients here and as many sockets in the proxy.
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  constexpr int kClients = 2000;
  ASSERT_GE(limit.rlim_max, static_cast<rlim_t>(kClients + 100)) << "open-files hard limit";
  limit.rlim_cur = limit.rlim_max;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);

  RedisServer redis;
  ASSERT_TRUE(redis.ok()) << "redis-server must be installed (tools/setup.sh)";
  const int port = FreePort();
  const int stats_port = FreePort();
  ProxyProcess proxy(RedisPool(port, redis.port()), {port},
                     {"-s", std::to_string(stats_port), "-a", "127.0.0.1"});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  const pid_t pid = proxy.process().pid();
  // One client first, so that the decoder, session and filter code and their first heap are in
  // place before the baseline.
  Client warm(port);
  ASSERT_EQ(warm.Command({"PING"}), "+PONG\r\n");
  const long before_kb = RssKb(pid);
  const long anon_before_kb = AnonKb(pid);

  std::vector<int> fds;
  fds.reserve(kClients);
  for (int i = 0; i < kClients; ++i) {
    const int fd = ConnectTo(port);
    ASSERT_GE(fd, 0) << "client " << i;
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    fds.push_back(fd);
  }
  // Every client accepted: the idle figure.
  ASSERT_TRUE(WaitUntil([&] { return ClientConnections(stats_port) == kClients + 1; }))
      << ClientConnections(stats_port);
  const long idle_kb = RssKb(pid);
  std::string reply;
  for (int i = 0; i < kClients; ++i) {
    ASSERT_EQ(write(fds[i], kPing, sizeof(kPing) - 1), static_cast<ssize_t>(sizeof(kPing) - 1));
    ASSERT_TRUE(ReadN(fds[i], 7, &reply)) << "client " << i;
    ASSERT_EQ(reply, "+PONG\r\n");
  }
  // One worker: once this reply is back, every earlier client's write (and what it gives back
  // after it) is done.
  ASSERT_EQ(warm.Command({"PING"}), "+PONG\r\n");
  const long after_ping_kb = RssKb(pid);
  const double per_connection = (after_ping_kb - before_kb) * 1024.0 / kClients;
  const double anon_per_connection = (AnonKb(pid) - anon_before_kb) * 1024.0 / kClients;
  EXPECT_LT(per_connection, kMaxBytesPerClient)
      << "RSS " << before_kb << " -> " << after_ping_kb << " KiB";
  EXPECT_LT(anon_per_connection, kMaxBytesPerClient);

  for (const int fd : fds) CloseWithReset(fd);
  ASSERT_TRUE(WaitUntil([&] { return ClientConnections(stats_port) == 1; }))
      << ClientConnections(stats_port);
  // Then, within a few of the releaser's checks (once a second), the heap is trimmed back to
  // the idle figure. Before: every closing client's last read reserved 16 KiB that stayed until
  // the deferred delete, the 64 MiB trim threshold kept all of it, and RSS after the close was
  // above the figure after the PINGs (10,000 clients: 32 -> 43 MB). Measured now: within
  // ~20 KiB of the idle figure (what stays is mostly the worker's recycled request objects).
  long after_close_kb = -1;
  const long bound_kb = kHeapReturnsToKernel ? idle_kb + 512 : after_ping_kb + 4096;
  const bool returned = WaitUntil(
      [&] {
        after_close_kb = RssKb(pid);
        return after_close_kb <= bound_kb;
      },
      std::chrono::seconds(15), std::chrono::milliseconds(100));
  std::fprintf(stderr,
               "RSS before the clients %ld KiB, idle %ld KiB, after one PING each %ld KiB "
               "(%.0f B per client, RssAnon %.0f), after close %ld KiB\n",
               before_kb, idle_kb, after_ping_kb, per_connection, anon_per_connection,
               after_close_kb);
  EXPECT_TRUE(returned) << "bound " << bound_kb << " KiB; RSS idle " << idle_kb
                        << " KiB, after ping " << after_ping_kb << " KiB, after close "
                        << after_close_kb << " KiB";
  EXPECT_EQ(warm.Command({"PING"}), "+PONG\r\n") << "still serving";
}

class IdleReleaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.ok()) << "redis-server must be installed (tools/setup.sh)";
    port_ = FreePort();
    proxy_ = std::make_unique<ProxyProcess>(RedisPool(port_, redis_.port()),
                                            std::vector<int>{port_});
    ASSERT_TRUE(proxy_->ok()) << proxy_->Log();
  }

  RedisServer redis_;
  int port_ = 0;
  std::unique_ptr<ProxyProcess> proxy_;
};

TEST_F(IdleReleaseTest, APartialRequestSurvivesTheIdlePointAndCompletesLater) {
  Client c(port_);
  // A complete PING and the first half of a SET in one write: the PONG proves the proxy has
  // read and handled the whole burst, with the SET's bytes left incomplete in its input.
  const std::string set = Resp({"SET", "partial", "value-of-the-partial-request"});
  const size_t half = set.size() / 2;
  ASSERT_TRUE(c.Send(absl::StrCat(kPing, set.substr(0, half))));
  EXPECT_EQ(c.ReadReply(), "+PONG\r\n");
  // The PONG was written and nothing is in flight: the connection is idle but for the bytes.
  EXPECT_EQ(Client(port_).Command({"PING"}), "+PONG\r\n");  // another client's turn meanwhile
  ASSERT_TRUE(c.Send(set.substr(half)));
  EXPECT_EQ(c.ReadReply(), "+OK\r\n");
  EXPECT_EQ(c.Command({"GET", "partial"}), "$28\r\nvalue-of-the-partial-request\r\n");
}

TEST(IdleReleaseMemcacheTest, AStorageCommandWaitingForItsDataSurvivesTheIdlePoint) {
  // memcache's decoder fills the request from the command line, then waits for the data block:
  // that request must be kept while the connection is otherwise idle.
  MemcachedServer memcached;
  ASSERT_TRUE(memcached.ok()) << "memcached must be installed (tools/setup.sh)";
  const int port = FreePort();
  ProxyProcess proxy(absl::StrCat("m:\n  listen: 127.0.0.1:", port,
                                  "\n  hash: fnv1a_64\n  distribution: ketama\n  servers:\n"
                                  "   - 127.0.0.1:",
                                  memcached.port(), ":1\n"),
                     {port});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Client c(port);
  ASSERT_TRUE(c.Send("get none\r\nset idle 0 0 11\r\nhello"));
  EXPECT_EQ(c.ReadMemcacheReply(), "END\r\n");
  ASSERT_TRUE(c.Send(" world\r\n"));
  EXPECT_EQ(c.ReadMemcacheReply(), "STORED\r\n");
  ASSERT_TRUE(c.Send("get idle\r\n"));
  EXPECT_EQ(c.ReadMemcacheReply(), "VALUE idle 0 11\r\nhello world\r\nEND\r\n");
}

TEST_F(IdleReleaseTest, PipelinedRequestsSplitAcrossReadsAnswerInOrder) {
  Client c(port_);
  std::string pipeline;
  std::vector<size_t> ends;  // where each request ends in `pipeline`
  std::vector<std::string> expected;
  constexpr int kPairs = 150;
  for (int i = 0; i < kPairs; ++i) {
    const std::string key = absl::StrCat("split:", i);
    const std::string value = absl::StrCat("v", i);
    pipeline += Resp({"SET", key, value});
    ends.push_back(pipeline.size());
    expected.push_back("+OK\r\n");
    pipeline += Resp({"GET", key});
    ends.push_back(pipeline.size());
    expected.push_back(absl::StrCat("$", value.size(), "\r\n", value, "\r\n"));
  }
  // Pieces of odd sizes; after each, the replies of the requests it completed are read, so the
  // proxy has handled them (and gone idle) with the rest of a cut request in its input.
  size_t sent = 0;
  size_t answered = 0;
  for (size_t piece = 7; sent < pipeline.size(); piece = piece * 3 % 97 + 5) {
    const size_t n = std::min(piece, pipeline.size() - sent);
    ASSERT_TRUE(c.Send(pipeline.substr(sent, n)));
    sent += n;
    while (answered < ends.size() && ends[answered] <= sent) {
      ASSERT_EQ(c.ReadReply(), expected[answered]) << "request " << answered;
      ++answered;
    }
  }
  EXPECT_EQ(answered, ends.size());
}

TEST_F(IdleReleaseTest, AClientServesAgainAfterGoingIdleManyTimes) {
  Client c(port_);
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(c.Command({"SET", "again", std::to_string(i)}), "+OK\r\n");
    ASSERT_EQ(c.Command({"GET", "again"}), absl::StrCat("$", std::to_string(i).size(), "\r\n", i,
                                                        "\r\n"));
  }
  // A reply larger than a read chunk, then small ones again.
  const std::string big(100000, 'b');
  ASSERT_EQ(c.Command({"SET", "big", big}), "+OK\r\n");
  EXPECT_EQ(c.Command({"GET", "big"}), absl::StrCat("$", big.size(), "\r\n", big, "\r\n"));
  EXPECT_EQ(c.Command({"PING"}), "+PONG\r\n");
}

TEST_F(IdleReleaseTest, ATransactionAndRespThreeStayAcrossIdlePeriods) {
  Client c(port_);
  // RESP3 (a session state kept by the proxy): a missing key answers `_`.
  const std::string hello = c.Command({"HELLO", "3"});
  ASSERT_EQ(hello.substr(0, 1), "%") << ShowBytes(hello);
  EXPECT_EQ(c.Command({"GET", "missing-resp3"}), "_\r\n");
  // A transaction across idle periods: every step's reply is written before the next is sent,
  // so the connection gives back its idle memory between them.
  ASSERT_EQ(c.Command({"MULTI"}), "+OK\r\n");
  EXPECT_EQ(c.Command({"SET", "{t}:a", "1"}), "+QUEUED\r\n");
  EXPECT_EQ(c.Command({"INCRBY", "{t}:a", "41"}), "+QUEUED\r\n");
  EXPECT_EQ(c.Command({"GET", "{t}:a"}), "+QUEUED\r\n");
  EXPECT_EQ(c.Command({"EXEC"}), "*3\r\n+OK\r\n:42\r\n$2\r\n42\r\n");
  EXPECT_EQ(c.Command({"GET", "missing-resp3"}), "_\r\n") << "still RESP3";
  // SELECT of the pool's own db (0) is accepted, any other refused, across idle periods too.
  EXPECT_EQ(c.Command({"SELECT", "0"}), "+OK\r\n");
  EXPECT_EQ(c.Command({"GET", "{t}:a"}), "$2\r\n42\r\n");
  // A transaction discarded after an idle period leaves nothing behind.
  ASSERT_EQ(c.Command({"MULTI"}), "+OK\r\n");
  EXPECT_EQ(c.Command({"SET", "{t}:a", "discarded"}), "+QUEUED\r\n");
  EXPECT_EQ(c.Command({"DISCARD"}), "+OK\r\n");
  EXPECT_EQ(c.Command({"GET", "{t}:a"}), "$2\r\n42\r\n");
}

}  // namespace
}  // namespace proxy::test

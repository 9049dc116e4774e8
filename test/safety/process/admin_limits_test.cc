// Bounds of the admin endpoint and the stats port (issue 9, finding 8): a 100 MB POST is
// refused as soon as its headers announce it, without the proxy's memory growing; a connection
// that never completes a request is closed after the request timeout; a stats client gets its
// document and is closed whether or not it sends or reads anything.
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"
#include "test/safety/process/launcher.h"

namespace proxy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

class AdminLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    redis_ = std::make_unique<RedisServer>();
    ASSERT_TRUE(redis_->ok());
    port_ = FreePort();
    admin_port_ = FreePort();
    stats_port_ = FreePort();
    const std::string yaml = absl::StrCat("pool:\n  listen: 127.0.0.1:", port_,
                                          "\n  redis: true\n  servers:\n   - 127.0.0.1:",
                                          redis_->port(), ":1 r1\n");
    proxy_ = std::make_unique<ProxyProcess>(
        yaml, std::vector<int>{port_},
        std::vector<std::string>{"--admin-port", std::to_string(admin_port_), "-s",
                                 std::to_string(stats_port_)});
    ASSERT_TRUE(proxy_->ok()) << proxy_->Log();
    ASSERT_TRUE(WaitForPort(admin_port_, milliseconds(20000)));
  }

  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ProxyProcess> proxy_;
  int port_ = 0;
  int admin_port_ = 0;
  int stats_port_ = 0;
};

TEST_F(AdminLimitsTest, HugePostIsRefusedQuicklyWithoutGrowingMemory) {
  const pid_t pid = proxy_->process().pid();
  const long rss_before = RssKb(pid);
  ASSERT_GT(rss_before, 0);
  Client client(admin_port_, milliseconds(30000));
  ASSERT_TRUE(client.connected());
  const auto start = steady_clock::now();
  ASSERT_TRUE(client.Send(
      "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n"));
  // Up to 100 MB of body follow, 1 MiB at a time, until the proxy closes on us.
  const std::string chunk(1 << 20, 'x');
  size_t sent = 0;
  while (sent < (100u << 20) && client.Send(chunk)) sent += chunk.size();
  const std::string reply = client.ReadAll();
  const double seconds = std::chrono::duration<double>(steady_clock::now() - start).count();
  EXPECT_TRUE(absl::StartsWith(reply, "HTTP/1.1 413")) << reply.substr(0, 200);
  EXPECT_LT(seconds, 20.0);
  // The peak (VmHWM), not a reading afterwards: a body buffered and freed again must show too.
  const long peak = ProcStatusKb(pid, "VmHWM");
  EXPECT_LT(peak - rss_before, 16 * 1024)
      << "RSS " << rss_before << " KiB, peak " << peak << " KiB after " << sent << " bytes";
  // Still serving.
  Client again(admin_port_);
  ASSERT_TRUE(again.Send("GET /healthz HTTP/1.0\r\n\r\n"));
  const std::string health = again.ReadAll();
  EXPECT_TRUE(absl::StrContains(health, " 200 ")) << health;
}

TEST_F(AdminLimitsTest, ChunkedBodyOverTheLimitIsRefused) {
  Client client(admin_port_, milliseconds(30000));
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(
      client.Send("POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = absl::StrCat("10000\r\n", std::string(0x10000, 'y'), "\r\n");
  for (int i = 0; i < 64 && client.Send(chunk); ++i) {
  }
  const std::string reply = client.ReadAll();
  EXPECT_TRUE(reply.empty() || absl::StartsWith(reply, "HTTP/1.1 413")) << reply.substr(0, 200);
  EXPECT_FALSE(absl::StartsWith(reply, "HTTP/1.1 405")) << "the body was buffered";
}

TEST_F(AdminLimitsTest, OversizedHeadersAreRefused) {
  Client client(admin_port_, milliseconds(30000));
  ASSERT_TRUE(client.connected());
  std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 200; ++i) {
    absl::StrAppend(&request, "X-Pad-", i, ": ", std::string(100, 'p'), "\r\n");
  }
  request += "\r\n";
  client.Send(request);
  const std::string reply = client.ReadAll();
  EXPECT_FALSE(absl::StartsWith(reply, "HTTP/1.1 200")) << reply.substr(0, 200);
}

TEST_F(AdminLimitsTest, IdleAndUnfinishedRequestsAreClosed) {
  Client idle(admin_port_, milliseconds(60000));
  Client partial(admin_port_, milliseconds(60000));
  ASSERT_TRUE(idle.connected() && partial.connected());
  ASSERT_TRUE(partial.Send("GET /metrics HTTP/1.1\r\nHost: x\r\n"));  // never finished
  const auto start = steady_clock::now();
  EXPECT_TRUE(idle.WaitForClose());
  EXPECT_TRUE(partial.WaitForClose());
  const double seconds = std::chrono::duration<double>(steady_clock::now() - start).count();
  EXPECT_LT(seconds, 45.0);
  // A normal request still works.
  Client ok(admin_port_);
  ASSERT_TRUE(ok.Send("GET /healthz HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(absl::StrContains(ok.ReadAll(), " 200 ")) << "healthz failed";
}

TEST_F(AdminLimitsTest, StatsClientsAreServedAndClosedWhateverTheyDo) {
  // Sends nothing, reads later.
  Client silent(stats_port_, milliseconds(30000));
  ASSERT_TRUE(silent.connected());
  // Sends a lot and never reads until the end.
  Client chatty(stats_port_, milliseconds(30000));
  ASSERT_TRUE(chatty.connected());
  chatty.Send(std::string(64 * 1024, 'z'));
  const std::string a = silent.ReadAll();
  EXPECT_TRUE(absl::StartsWith(a, "{\"service\":")) << a.substr(0, 100);
  EXPECT_TRUE(absl::EndsWith(a, "}\n")) << "incomplete document";
  Client after(stats_port_, milliseconds(30000));
  EXPECT_TRUE(absl::StartsWith(after.ReadAll(), "{\"service\":"));
}

}  // namespace
}  // namespace proxy::test

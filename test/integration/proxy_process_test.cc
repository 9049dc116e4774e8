// The proxy as a process: signals and pid file, unix-socket listeners, several workers, backend
// host names resolved without blocking, request-size limits and backpressure on a client that
// does not read.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"

namespace proxy::test {
namespace {

std::string RedisPool(const std::string& name, const std::string& listen,
                      const std::vector<std::string>& servers, const std::string& extra = "") {
  std::string yaml = absl::StrCat(name, ":\n  listen: ", listen, "\n  redis: true\n", extra,
                                  "  servers:\n");
  for (const std::string& s : servers) absl::StrAppend(&yaml, "   - ", s, "\n");
  return yaml;
}

// connected_clients of a redis-server, minus the connection asking.
int BackendClients(int port) {
  Client direct(port);
  const int64_t n = RedisInfoField(direct, "clients", "connected_clients");
  return n < 0 ? -1 : static_cast<int>(n - 1);
}

TEST(ProxyProcessTest, SigtermAndSigintExitZeroAndRemoveThePidFile) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok()) << "redis-server must be installed (tools/setup.sh)";
  for (int sig : {SIGTERM, SIGINT}) {
    const int port = FreePort();
    const std::string pid_file = TempPath(absl::StrCat("proxy-", sig, ".pid"));
    ProxyProcess proxy(
        RedisPool("p", absl::StrCat("127.0.0.1:", port), {absl::StrCat("127.0.0.1:", redis.port(), ":1")}),
        {port}, {"-p", pid_file});
    ASSERT_TRUE(proxy.ok()) << proxy.Log();
    std::ifstream in(pid_file);
    std::string pid_text;
    in >> pid_text;
    EXPECT_EQ(pid_text, std::to_string(proxy.process().pid()));
    Client client(port);
    EXPECT_EQ(client.Command({"SET", "k", "v"}), "+OK\r\n");
    proxy.process().Kill(sig);
    // Stop() waits for the exit and returns the status.
    EXPECT_EQ(proxy.Stop(), 0) << "signal " << sig << "\n" << proxy.Log();
    EXPECT_NE(access(pid_file.c_str(), F_OK), 0) << "pid file left behind";
    EXPECT_NE(proxy.Log().find("exiting"), std::string::npos);
  }
}

TEST(ProxyProcessTest, UnixSocketListenerHonoursThePermissionAndIsRemovedAtExit) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  // TEST_TMPDIR is too long for sun_path (108 bytes): use a short, unique /tmp path.
  const std::string path = absl::StrCat("/tmp/shardproxy-test-", getpid(), ".sock");
  const int port = FreePort();  // a TCP pool too, so ProxyProcess can wait for startup
  const std::string yaml =
      RedisPool("unixpool", path + " 0600", {absl::StrCat("127.0.0.1:", redis.port(), ":1")}) +
      RedisPool("tcppool", absl::StrCat("127.0.0.1:", port),
                {absl::StrCat("127.0.0.1:", redis.port(), ":1")});
  ProxyProcess proxy(yaml, {port});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Talk RESP over the unix socket.
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string request = Resp({"PING"});
  ASSERT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  char reply[16] = {};
  ASSERT_EQ(read(fd, reply, 7), 7);
  EXPECT_EQ(std::string(reply, 7), "+PONG\r\n");
  close(fd);
  EXPECT_EQ(proxy.Stop(), 0);
  EXPECT_NE(access(path.c_str(), F_OK), 0) << "socket file left behind";
}

TEST(ProxyProcessTest, TwoWorkersServeAndKeepServerConnectionsPerWorker) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  const int port = FreePort();
  ProxyProcess proxy(
      RedisPool("p", absl::StrCat("127.0.0.1:", port), {absl::StrCat("127.0.0.1:", redis.port(), ":1")}),
      {port}, {"--workers", "2"});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  for (int i = 0; i < 200; ++i) {
    Client client(port);
    ASSERT_EQ(client.Command({"SET", absl::StrCat("k", i), "v"}), "+OK\r\n");
    ASSERT_EQ(client.Command({"GET", absl::StrCat("k", i)}), "$1\r\nv\r\n");
  }
  const int backend = BackendClients(redis.port());
  EXPECT_GE(backend, 1);
  EXPECT_LE(backend, 2) << "server_connections: 1 per worker, 2 workers";
  // INFO tells how many workers the process runs, whichever worker answers.
  Client client(port);
  const std::string info = client.Command({"INFO", "server"});
  EXPECT_NE(info.find("proxy_workers:2\r\n"), std::string::npos) << info;
}

TEST(ProxyProcessTest, BackendHostNamesResolveAndUnknownHostsAreHostDown) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  const int good = FreePort();
  const int bad = FreePort();
  const std::string yaml =
      RedisPool("named", absl::StrCat("127.0.0.1:", good),
                {absl::StrCat("localhost:", redis.port(), ":1")}) +
      RedisPool("unknown", absl::StrCat("127.0.0.1:", bad), {"no.such.host.invalid:6379:1"});
  ProxyProcess proxy(yaml, {good, bad});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Client named(good);
  EXPECT_EQ(named.Command({"SET", "resolved", "yes"}), "+OK\r\n");
  Client direct(redis.port());
  EXPECT_EQ(direct.Command({"GET", "resolved"}), "$3\r\nyes\r\n");
  Client unknown(bad);
  EXPECT_EQ(unknown.Command({"GET", "x"}), "-ERR Host is down\r\n");
  EXPECT_EQ(unknown.Command({"PING"}), "+PONG\r\n") << "the client connection stays open";
}

TEST(ProxyProcessTest, OversizedRequestIsRefusedAndOtherClientsAreUnaffected) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  const int port = FreePort();
  ProxyProcess proxy(
      RedisPool("p", absl::StrCat("127.0.0.1:", port), {absl::StrCat("127.0.0.1:", redis.port(), ":1")}),
      {port}, {"--max-request-bytes", "1048576"});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Client other(port);
  ASSERT_EQ(other.Command({"SET", "small", "ok"}), "+OK\r\n");
  Client big(port);
  // Only the header is needed: the proxy refuses before buffering the value.
  ASSERT_TRUE(big.Send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2097152\r\n"));
  const std::string reply = big.ReadReply();
  EXPECT_EQ(reply.rfind("-ERR Protocol error", 0), 0u) << reply;
  EXPECT_NE(reply.find("1048576"), std::string::npos) << "names the limit: " << reply;
  EXPECT_TRUE(big.WaitForClose());
  EXPECT_EQ(other.Command({"GET", "small"}), "$2\r\nok\r\n");
  // A value just under the limit still works.
  const std::string value(1000000, 'x');
  EXPECT_EQ(other.Command({"SET", "k", value}), "+OK\r\n");
  EXPECT_EQ(other.Command({"GET", "k"}), absl::StrCat("$", value.size(), "\r\n", value, "\r\n"));
}

TEST(ProxyProcessTest, ClientThatDoesNotReadIsThrottledNotBuffered) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  const int port = FreePort();
  ProxyProcess proxy(
      RedisPool("p", absl::StrCat("127.0.0.1:", port), {absl::StrCat("127.0.0.1:", redis.port(), ":1")}),
      {port}, {"--client-output-limit", "268435456"});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  const std::string value(1 << 20, 'v');
  {
    Client setup(port);
    ASSERT_EQ(setup.Command({"SET", "big", value}), "+OK\r\n");
  }
  const long rss_before = RssKb(proxy.process().pid());
  // 100 GETs of 1 MiB = 100 MiB of replies; the client reads nothing for a while. The proxy
  // stops reading its requests once 64 MiB of replies wait, so far less is buffered.
  Client greedy(port);
  std::string pipeline;
  for (int i = 0; i < 100; ++i) pipeline += Resp({"GET", "big"});
  std::thread writer([&] { greedy.Send(pipeline); });
  // The client reads nothing for a second (that is the scenario, not a wait for something).
  // VmHWM is the peak over that whole time: a sampled VmRSS could miss it.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const long peak = ProcStatusKb(proxy.process().pid(), "VmHWM");
  EXPECT_LT(peak - rss_before, 200 * 1024) << "proxy buffered " << (peak - rss_before) << " KiB";
  // Now read everything: every reply is complete and in order.
  for (int i = 0; i < 100; ++i) {
    const std::string reply = greedy.ReadReply();
    ASSERT_EQ(reply.size(), value.size() + 12) << "reply " << i;
  }
  writer.join();
}

TEST(ProxyProcessTest, ClientOverTheOutputLimitIsDisconnectedAndOthersAreServed) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  const int port = FreePort();
  ProxyProcess proxy(
      RedisPool("p", absl::StrCat("127.0.0.1:", port), {absl::StrCat("127.0.0.1:", redis.port(), ":1")}),
      {port}, {"--client-output-limit", "33554432"});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  const std::string value(1 << 20, 'v');
  Client other(port);
  ASSERT_EQ(other.Command({"SET", "big", value}), "+OK\r\n");
  const long rss_before = RssKb(proxy.process().pid());
  // 400 MiB of replies requested in one write by a client that never reads.
  Client greedy(port);
  std::string pipeline;
  for (int i = 0; i < 400; ++i) pipeline += Resp({"GET", "big"});
  greedy.Send(pipeline);
  // The proxy closes it once 32 MiB wait for it, and says why in its log.
  EXPECT_TRUE(WaitUntil([&] { return proxy.Log().find("output limit") != std::string::npos; },
                        std::chrono::seconds(20)))
      << proxy.Log();
  // The peak (VmHWM), not a reading after the close, which would miss what was freed by it.
  const long peak = ProcStatusKb(proxy.process().pid(), "VmHWM");
  EXPECT_LT(peak - rss_before, 200 * 1024) << "proxy buffered " << (peak - rss_before) << " KiB";
  EXPECT_EQ(other.Command({"GET", "missing"}), "$-1\r\n") << "other clients are served";
}

}  // namespace
}  // namespace proxy::test

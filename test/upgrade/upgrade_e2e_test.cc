// Zero-downtime binary upgrade end to end (docs/upgrade.md): the real //:proxy started twice on
// the same config and --upgrade-socket, a real redis-server behind it, and clients on 127.0.0.1
// that must never see a refused, reset or failed connection while the listening socket moves
// from one process to the next.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"

namespace proxy::test {
namespace {

using std::chrono::milliseconds;

// A unix socket path under TEST_TMPDIR; relative (from TEST_TMPDIR, which the proxies inherit as
// their working directory) when the full path would not fit in sun_path.
std::string SocketPath(const std::string& name) {
  const std::string file = absl::StrCat(name, "-", getpid(), ".sock");
  const std::string full = TempPath(file);
  if (full.size() < sizeof(sockaddr_un{}.sun_path)) return full;
  EXPECT_EQ(chdir(TempPath("").c_str()), 0);
  return file;
}

ino_t Inode(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Clients in a tight loop: connect, PING, read +PONG, close. Every attempt is classified.
class ConnectLoop {
 public:
  explicit ConnectLoop(int port) : port_(port), thread_([this] { Run(); }) {}
  ~ConnectLoop() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int ok() const { return ok_; }
  int refused() const { return refused_; }
  int reset() const { return reset_; }
  int failed() const { return failed_; }
  std::string Summary() const {
    return absl::StrCat("ok ", ok_.load(), ", refused ", refused_.load(), ", reset ",
                        reset_.load(), ", failed ", failed_.load(), " (last: ", last_error_, ")");
  }

 private:
  void Run() {
    while (!stop_) Once();
  }

  void Count(int error, const std::string& what) {
    if (error == ECONNREFUSED) {
      ++refused_;
    } else if (error == ECONNRESET || error == EPIPE) {
      ++reset_;
    } else {
      ++failed_;
    }
    last_error_ = absl::StrCat(what, ": ", error == 0 ? "closed" : std::strerror(error));
  }

  void Once() {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      Count(errno, "connect");
      close(fd);
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    static const char kPing[] = "*1\r\n$4\r\nPING\r\n";
    if (send(fd, kPing, sizeof(kPing) - 1, MSG_NOSIGNAL) != sizeof(kPing) - 1) {
      Count(errno, "send");
      close(fd);
      return;
    }
    std::string reply;
    char buf[64];
    while (reply.size() < 7) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 5000) != 1) {
        Count(ETIMEDOUT, "read");
        close(fd);
        return;
      }
      const ssize_t n = read(fd, buf, sizeof(buf));
      if (n <= 0) {
        Count(n == 0 ? 0 : errno, "read");
        close(fd);
        return;
      }
      reply.append(buf, static_cast<size_t>(n));
    }
    close(fd);
    if (reply == "+PONG\r\n") {
      ++ok_;
    } else {
      Count(EPROTO, absl::StrCat("reply '", reply, "'"));
    }
  }

  const int port_;
  std::atomic<bool> stop_{false};
  std::atomic<int> ok_{0};
  std::atomic<int> refused_{0};
  std::atomic<int> reset_{0};
  std::atomic<int> failed_{0};
  std::string last_error_;  // read after Stop()
  std::thread thread_;
};

std::string PoolYaml(int port, int redis_port) {
  return absl::StrCat("alpha:\n  listen: 127.0.0.1:", port,
                      "\n  redis: true\n  hash: fnv1a_64\n  distribution: ketama\n"
                      "  timeout: 5000\n  servers:\n   - 127.0.0.1:",
                      redis_port, ":1\n");
}

class UpgradeE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = FreePort();
    stats_port_ = FreePort();
    upgrade_socket_ = SocketPath("upgrade");
    pid_file_ = TempPath(absl::StrCat("proxy-", getpid(), ".pid"));
  }

  // The same command line for every generation: only the binary would differ in production.
  std::vector<std::string> Args() const {
    return {"-s", std::to_string(stats_port_), "-a", "127.0.0.1", "-p", pid_file_,
            "--upgrade-socket", upgrade_socket_, "--drain-timeout", "10"};
  }

  std::unique_ptr<ProxyProcess> StartProxy(int redis_port) {
    return std::make_unique<ProxyProcess>(PoolYaml(port_, redis_port), std::vector<int>{port_},
                                          Args());
  }

  // Starts the next generation next to `old` and waits for the handoff to complete: `old` has
  // exited with status 0, the pid file names the new process, and the new process serves the
  // upgrade socket. Clients loop through it all and none may fail.
  std::unique_ptr<ProxyProcess> Upgrade(ProxyProcess& old, int redis_port) {
    ConnectLoop loop(port_);
    std::this_thread::sleep_for(milliseconds(300));  // traffic before
    auto next = StartProxy(redis_port);
    EXPECT_TRUE(next->ok()) << next->Log();
    EXPECT_TRUE(WaitUntil([&] { return !old.process().Running(); }, milliseconds(30000)))
        << "the old proxy did not exit after the upgrade\n"
        << old.Log();
    EXPECT_EQ(old.Stop(), 0) << old.Log();
    std::this_thread::sleep_for(milliseconds(300));  // traffic after
    loop.Stop();
    EXPECT_GT(loop.ok(), 50) << loop.Summary();
    EXPECT_EQ(loop.refused(), 0) << loop.Summary();
    EXPECT_EQ(loop.reset(), 0) << loop.Summary();
    EXPECT_EQ(loop.failed(), 0) << loop.Summary() << "\nold:\n" << old.Log() << "\nnew:\n"
                                << next->Log();
    EXPECT_TRUE(next->process().Running()) << next->Log();
    int pid = 0;
    EXPECT_TRUE(absl::SimpleAtoi(ReadFile(pid_file_), &pid)) << ReadFile(pid_file_);
    EXPECT_EQ(pid, next->process().pid());
    // The new process serves the upgrade socket for the next upgrade.
    EXPECT_TRUE(WaitUntil(
        [&] {
          const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
          sockaddr_un addr{};
          addr.sun_family = AF_UNIX;
          std::strncpy(addr.sun_path, upgrade_socket_.c_str(), sizeof(addr.sun_path) - 1);
          const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
          close(fd);
          return ok;
        },
        milliseconds(5000)));
    return next;
  }

  void ExpectServes(int key) {
    Client client(port_);
    ASSERT_TRUE(client.connected());
    EXPECT_EQ(client.Command({"PING"}), "+PONG\r\n");
    const std::string k = absl::StrCat("key-", key);
    EXPECT_EQ(client.Command({"SET", k, "v"}), "+OK\r\n");
    EXPECT_EQ(client.Command({"GET", k}), "$1\r\nv\r\n");
    // The stats port was handed over too: it still answers with the JSON document.
    Client stats(stats_port_, milliseconds(5000));
    ASSERT_TRUE(stats.connected());
    EXPECT_EQ(stats.ReadAll().substr(0, 1), "{");
  }

  int port_ = 0;
  int stats_port_ = 0;
  std::string upgrade_socket_;
  std::string pid_file_;
};

TEST_F(UpgradeE2e, NoConnectionRefusedOrResetAcrossTwoUpgrades) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  auto a = StartProxy(redis.port());
  ASSERT_TRUE(a->ok()) << a->Log();
  ASSERT_TRUE(WaitUntil([&] { return Inode(upgrade_socket_) != 0; }, milliseconds(5000)))
      << a->Log();
  ExpectServes(1);

  auto b = Upgrade(*a, redis.port());
  ASSERT_TRUE(b->ok());
  ExpectServes(2);

  auto c = Upgrade(*b, redis.port());
  ASSERT_TRUE(c->ok());
  ExpectServes(3);
  EXPECT_EQ(c->Stop(), 0) << c->Log();
}

// A request outstanding in the old process when it commits gets its reply from the old process:
// the backend is paused (SIGSTOP) with the request on it, the upgrade completes, the backend
// resumes, the reply comes back on the old connection, then the old process exits.
TEST_F(UpgradeE2e, RequestInFlightIsAnsweredByTheOldProcess) {
  const int redis_port = FreePort();
  Process redis;
  ASSERT_TRUE(redis.Start({FindExecutable("redis-server"), "--port", std::to_string(redis_port),
                           "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                           "--daemonize", "no", "--protected-mode", "no"},
                          TempPath(absl::StrCat("redis-paused-", redis_port, ".log"))));
  ASSERT_TRUE(WaitForPortWhileRunning(redis, redis_port, milliseconds(10000)));
  auto a = StartProxy(redis_port);
  ASSERT_TRUE(a->ok()) << a->Log();
  ASSERT_TRUE(WaitUntil([&] { return Inode(upgrade_socket_) != 0; }, milliseconds(5000)));

  Client inflight(port_, milliseconds(20000));
  ASSERT_TRUE(inflight.connected());
  ASSERT_EQ(inflight.Command({"SET", "inflight", "from-a"}), "+OK\r\n");
  redis.Kill(SIGSTOP);
  ASSERT_TRUE(inflight.Send(Resp({"GET", "inflight"})));
  ASSERT_TRUE(WaitUntil([&] { return UnreadBytesAt(redis_port) > 0; }, milliseconds(5000)))
      << "the GET never reached the paused backend";

  auto b = StartProxy(redis_port);
  EXPECT_TRUE(b->ok()) << b->Log();
  // Committed: A acknowledged (B says so in its log). The upgrade socket's inode cannot tell:
  // B unlinks A's file and binds a new one, which may get the same inode number.
  const bool committed = WaitUntil(
      [&] { return b->Log().find("upgrade: took over from pid") != std::string::npos; },
      milliseconds(15000));
  EXPECT_TRUE(committed) << "A:\n" << a->Log() << "\nB:\n" << b->Log();
  EXPECT_TRUE(a->process().Running()) << "A exited with a request in flight\n" << a->Log();
  redis.Kill(SIGCONT);
  EXPECT_EQ(inflight.ReadReply(), "$6\r\nfrom-a\r\n") << a->Log();

  EXPECT_TRUE(WaitUntil([&] { return !a->process().Running(); }, milliseconds(30000))) << a->Log();
  EXPECT_EQ(a->Stop(), 0) << a->Log();
  // B serves, on the same backend.
  Client client(port_);
  ASSERT_TRUE(client.connected());
  EXPECT_EQ(client.Command({"GET", "inflight"}), "$6\r\nfrom-a\r\n") << b->Log();
  EXPECT_EQ(b->Stop(), 0) << b->Log();
}

}  // namespace
}  // namespace proxy::test

// Process-level safety of the real //:proxy binary (issue 9, findings 9, 12 and 14): the pid
// file (a second instance is refused, a symlink is never followed, the file is removed at exit
// only while it holds our pid), the open-files limit raised at start, the stats port and the
// admin endpoint pausing instead of spinning when out of descriptors, the log reopened on SIGHUP
// onto the same descriptor, and a crash signal logged with its name and a stack trace before the
// default action.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"
#include "test/safety/process/launcher.h"

namespace proxy::test {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kStartTimeout(20000);

// A one-pool redis config file; returns its path.
std::string WriteConfig(absl::string_view name, int port, int redis_port) {
  const std::string path = TempPath(absl::StrCat(name, "-", getpid(), ".yml"));
  std::ofstream(path) << "pool:\n  listen: 127.0.0.1:" << port
                      << "\n  redis: true\n  timeout: 30000\n  servers:\n   - 127.0.0.1:"
                      << redis_port << ":1 r1\n";
  return path;
}

// Arguments for a proxy on `conf` with a free stats port (and more).
std::vector<std::string> Args(const std::string& conf, int stats_port,
                              std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"-c", conf, "-v", "6", "-s", std::to_string(stats_port),
                                   "-a", "127.0.0.1"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

std::string Fresh(absl::string_view name) {
  const std::string path = TempPath(absl::StrCat(name, "-", getpid()));
  unlink(path.c_str());
  return path;
}

bool WaitForPortOf(ProxyChild& child, int port) {
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!child.Running()) return false;
    if (WaitForPort(port, milliseconds(200))) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Pid file.

TEST(PidFileTest, SecondInstanceIsRefusedAndFirstKeepsItsPidFile) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  const std::string pid_path = Fresh("second.pid");
  const int port1 = FreePort();
  const std::string log1 = Fresh("second-1.log");
  ProxyChild first;
  ASSERT_TRUE(first.Start(Args(WriteConfig("second-1", port1, redis.port()), FreePort(),
                               {"-p", pid_path}),
                          log1));
  ASSERT_TRUE(WaitForPortOf(first, port1)) << ReadFileText(log1);
  EXPECT_EQ(ReadFileText(pid_path), std::to_string(first.pid()));

  // Another proxy (other ports) on the same pid file: refused, before it listens.
  const int port2 = FreePort();
  const std::string log2 = Fresh("second-2.log");
  ProxyChild second;
  ASSERT_TRUE(second.Start(Args(WriteConfig("second-2", port2, redis.port()), FreePort(),
                                {"-p", pid_path}),
                           log2));
  ASSERT_TRUE(second.WaitExit(kStartTimeout)) << ReadFileText(log2);
  EXPECT_TRUE(WIFEXITED(second.status()) && WEXITSTATUS(second.status()) == 1)
      << second.status();
  const std::string message = ReadFileText(log2);
  EXPECT_TRUE(absl::StrContains(message, absl::StrCat("pid file '", pid_path, "' names process ",
                                                      first.pid(), ", which is still running")))
      << message;
  EXPECT_FALSE(WaitForPort(port2, milliseconds(300))) << "the refused instance listened";
  EXPECT_EQ(ReadFileText(pid_path), std::to_string(first.pid()));
  EXPECT_TRUE(first.Running());
  Client client(port1);
  EXPECT_EQ(client.Command({"SET", "k", "v"}), "+OK\r\n");

  // The first exits normally: its own pid file is removed.
  first.Stop();
  EXPECT_TRUE(WIFEXITED(first.status()) && WEXITSTATUS(first.status()) == 0) << first.status();
  EXPECT_NE(access(pid_path.c_str(), F_OK), 0) << "pid file left behind";
}

TEST(PidFileTest, StalePidFileIsTakenOverAndAReplacedOneIsLeftAlone) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  const std::string pid_path = Fresh("stale.pid");
  // A pid that is not running (a child that already exited and was reaped).
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  ASSERT_GT(dead, 0);
  waitpid(dead, nullptr, 0);
  std::ofstream(pid_path) << dead;

  const int port = FreePort();
  const std::string log = Fresh("stale.log");
  ProxyChild proxy;
  ASSERT_TRUE(
      proxy.Start(Args(WriteConfig("stale", port, redis.port()), FreePort(), {"-p", pid_path}),
                  log));
  ASSERT_TRUE(WaitForPortOf(proxy, port)) << ReadFileText(log);
  EXPECT_EQ(ReadFileText(pid_path), std::to_string(proxy.pid()));
  struct stat st {};
  ASSERT_EQ(stat(pid_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  // Someone else's pid is written there meanwhile: at exit the file is not ours to remove.
  {
    std::ofstream out(pid_path, std::ios::trunc);
    out << getpid();
  }
  proxy.Stop();
  EXPECT_TRUE(WIFEXITED(proxy.status()) && WEXITSTATUS(proxy.status()) == 0);
  EXPECT_EQ(ReadFileText(pid_path), std::to_string(getpid()));
  EXPECT_TRUE(absl::StrContains(ReadFileText(log), "not ours: left in place")) << ReadFileText(log);
  unlink(pid_path.c_str());
}

TEST(PidFileTest, SymlinkIsNeverFollowed) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  const std::string target = Fresh("symlink-target");
  std::ofstream(target) << "precious";
  const std::string pid_path = Fresh("symlink.pid");
  ASSERT_EQ(symlink(target.c_str(), pid_path.c_str()), 0);

  const int port = FreePort();
  const std::string log = Fresh("symlink.log");
  ProxyChild proxy;
  ASSERT_TRUE(
      proxy.Start(Args(WriteConfig("symlink", port, redis.port()), FreePort(), {"-p", pid_path}),
                  log));
  ASSERT_TRUE(proxy.WaitExit(kStartTimeout)) << ReadFileText(log);
  EXPECT_TRUE(WIFEXITED(proxy.status()) && WEXITSTATUS(proxy.status()) == 1);
  EXPECT_TRUE(absl::StrContains(ReadFileText(log), "is a symbolic link: refusing to follow it"))
      << ReadFileText(log);
  EXPECT_EQ(ReadFileText(target), "precious");
  struct stat st {};
  ASSERT_EQ(lstat(pid_path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode)) << "the link itself was replaced";
  unlink(pid_path.c_str());
  unlink(target.c_str());
}

TEST(PidFileTest, HardLinkIsRefused) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  const std::string target = Fresh("hardlink-target");
  std::ofstream(target) << "precious";
  const std::string pid_path = Fresh("hardlink.pid");
  ASSERT_EQ(link(target.c_str(), pid_path.c_str()), 0);

  const int port = FreePort();
  const std::string log = Fresh("hardlink.log");
  ProxyChild proxy;
  ASSERT_TRUE(
      proxy.Start(Args(WriteConfig("hardlink", port, redis.port()), FreePort(), {"-p", pid_path}),
                  log));
  ASSERT_TRUE(proxy.WaitExit(kStartTimeout)) << ReadFileText(log);
  EXPECT_TRUE(WIFEXITED(proxy.status()) && WEXITSTATUS(proxy.status()) == 1);
  EXPECT_TRUE(absl::StrContains(ReadFileText(log), "has 2 hard links")) << ReadFileText(log);
  EXPECT_EQ(ReadFileText(target), "precious");
  unlink(pid_path.c_str());
  unlink(target.c_str());
}

// ---------------------------------------------------------------------------------------------
// Open files.

// The "max fds N" figure logged at start.
long LoggedMaxFds(const std::string& log) {
  const std::string text = ReadFileText(log);
  const size_t at = text.find("max fds ");
  if (at == std::string::npos) return -1;
  long value = -1;
  const size_t end = text.find(' ', at + 8);
  if (!absl::SimpleAtoi(text.substr(at + 8, end - at - 8), &value)) return -1;
  return value;
}

TEST(FileLimitTest, SoftLimitIsRaisedToTheHardLimitAndLogged) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  const int port = FreePort();
  const std::string log = Fresh("nofile.log");
  LaunchOptions limits;
  limits.soft_nofile = 40;
  limits.hard_nofile = 200;
  ProxyChild proxy;
  ASSERT_TRUE(
      proxy.Start(Args(WriteConfig("nofile", port, redis.port()), FreePort()), log, limits));
  ASSERT_TRUE(WaitForPortOf(proxy, port)) << ReadFileText(log);
  EXPECT_EQ(LoggedMaxFds(log), 200) << ReadFileText(log);
  const std::string limits_text = ReadFileText(absl::StrCat("/proc/", proxy.pid(), "/limits"));
  bool found = false;
  for (absl::string_view line : absl::StrSplit(limits_text, '\n')) {
    if (!absl::StartsWith(line, "Max open files")) continue;
    found = true;
    std::vector<std::string> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
    ASSERT_GE(parts.size(), 5u) << line;
    EXPECT_EQ(parts[3], "200") << line;  // soft
    EXPECT_EQ(parts[4], "200") << line;  // hard
  }
  EXPECT_TRUE(found) << limits_text;
}

// Out of descriptors: the admin endpoint's connections use up every fd; the admin listener and
// the stats port must then pause accepting (little CPU, a bounded number of log lines) and serve
// again once descriptors are free.
TEST(FileLimitTest, StatsAndAdminPauseInsteadOfSpinningWhenOutOfFds) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  const int port = FreePort();
  const int stats_port = FreePort();
  const int admin_port = FreePort();
  const std::string log = Fresh("emfile.log");
  LaunchOptions limits;
  limits.soft_nofile = 64;
  limits.hard_nofile = 64;
  ProxyChild proxy;
  ASSERT_TRUE(proxy.Start(Args(WriteConfig("emfile", port, redis.port()), stats_port,
                               {"--admin-port", std::to_string(admin_port)}),
                          log, limits));
  ASSERT_TRUE(WaitForPortOf(proxy, port)) << ReadFileText(log);
  ASSERT_TRUE(WaitForPortOf(proxy, admin_port)) << ReadFileText(log);

  // More idle admin connections than the proxy has descriptors left.
  std::vector<std::unique_ptr<Client>> hogs;
  for (int i = 0; i < 90; ++i) {
    hogs.push_back(std::make_unique<Client>(admin_port, milliseconds(30000)));
    ASSERT_TRUE(hogs.back()->connected()) << i;  // queued in the backlog at worst
  }
  // A stats client waits in the stats backlog too.
  Client stats(stats_port, milliseconds(60000));
  ASSERT_TRUE(stats.connected());
  ASSERT_TRUE(WaitForText(log, "accept failed", milliseconds(8000))) << ReadFileText(log);

  const double cpu_before = CpuSeconds(proxy.pid());
  const auto wall_before = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(milliseconds(2500));
  const double cpu = CpuSeconds(proxy.pid()) - cpu_before;
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  ASSERT_GE(cpu_before, 0);
  // A spinning accept loop burns a whole core (~wall seconds); paused, it is near zero.
  EXPECT_LT(cpu, 0.3 * wall) << "cpu " << cpu << " s in " << wall << " s\n" << ReadFileText(log);
  const std::string text = ReadFileText(log);
  size_t lines = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StrContains(line, "accept failed")) ++lines;
  }
  EXPECT_LE(lines, 8u) << text;  // once per 5 s interval per listener, not per attempt
  EXPECT_LT(text.size(), 64u * 1024) << "the log is flooded";

  // Descriptors come back: the waiting stats client is served.
  hogs.clear();
  const std::string json = stats.ReadAll();
  EXPECT_TRUE(absl::StartsWith(json, "{\"service\":")) << json.substr(0, 200);
  EXPECT_TRUE(proxy.Running());
}

// ---------------------------------------------------------------------------------------------
// Log reopen and crash signals.

// The descriptor number of `pid` that points at `path`, or -1.
int FdPointingAt(pid_t pid, const std::string& path) {
  for (int fd = 0; fd < 256; ++fd) {
    char target[4096];
    const std::string link = absl::StrCat("/proc/", pid, "/fd/", fd);
    const ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
    if (n > 0 && std::string(target, static_cast<size_t>(n)) == path) return fd;
  }
  return -1;
}

TEST(LogTest, SighupReopensTheLogOntoTheSameDescriptor) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  const int port = FreePort();
  const std::string log = Fresh("reopen.log");
  const std::string rotated = log + ".1";
  unlink(rotated.c_str());
  const std::string stdio = Fresh("reopen.stdio");
  ProxyChild proxy;
  ASSERT_TRUE(proxy.Start(Args(WriteConfig("reopen", port, redis.port()), FreePort(),
                               {"-o", log}),
                          stdio));
  ASSERT_TRUE(WaitForPortOf(proxy, port)) << ReadFileText(stdio);
  ASSERT_TRUE(WaitForText(log, "shardproxy serving", kStartTimeout));
  const int fd = FdPointingAt(proxy.pid(), log);
  ASSERT_GT(fd, 2) << "no descriptor on the log file";

  ASSERT_EQ(rename(log.c_str(), rotated.c_str()), 0);
  proxy.Signal(SIGHUP);
  ASSERT_TRUE(WaitForText(rotated, "reopening log file", kStartTimeout));
  // The new file appears and the same descriptor number now points at it.
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (FdPointingAt(proxy.pid(), log) != fd && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(FdPointingAt(proxy.pid(), log), fd);
  EXPECT_EQ(FdPointingAt(proxy.pid(), rotated), -1) << "the old file is still open";
  proxy.Signal(SIGTTIN);  // logs a line
  EXPECT_TRUE(WaitForText(log, "up logging level", kStartTimeout)) << ReadFileText(log);
  EXPECT_FALSE(absl::StrContains(ReadFileText(rotated), "up logging level"));
  unlink(rotated.c_str());
}

struct CrashCase {
  int signo;
  const char* name;
};

class CrashSignalTest : public ::testing::TestWithParam<CrashCase> {};

TEST_P(CrashSignalTest, IsLoggedWithItsNameAndAStackTraceThenKillsTheProcess) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  const int port = FreePort();
  const std::string log = Fresh(absl::StrCat("crash-", GetParam().name, ".log"));
  const std::string stdio = log + ".stdio";
  ProxyChild proxy;
  ASSERT_TRUE(proxy.Start(Args(WriteConfig("crash", port, redis.port()), FreePort(),
                               {"-o", log}),
                          stdio));
  ASSERT_TRUE(WaitForPortOf(proxy, port)) << ReadFileText(stdio);
  ASSERT_TRUE(WaitForText(log, "shardproxy serving", kStartTimeout));
  proxy.Signal(GetParam().signo);
  ASSERT_TRUE(proxy.WaitExit(kStartTimeout)) << ReadFileText(log);
  EXPECT_TRUE(WIFSIGNALED(proxy.status())) << proxy.status();
  EXPECT_EQ(WTERMSIG(proxy.status()), GetParam().signo);
  const std::string text = ReadFileText(log);
  EXPECT_TRUE(absl::StrContains(
      text, absl::StrCat("signal ", GetParam().signo, " (", GetParam().name, ") received")))
      << text;
  // The trace: one "    @ 0x<pc>  <symbol>" line per frame, symbolized (our own functions by
  // name: the handler itself at least, and the interrupted thread's proxy:: frames).
  EXPECT_TRUE(absl::StrContains(text, "\n    @ 0x")) << text;
  EXPECT_TRUE(absl::StrContains(text, "CrashHandler")) << text;
  size_t proxy_frames = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, "    @ 0x") && absl::StrContains(line, "  proxy::") &&
        !absl::StrContains(line, "CrashHandler")) {
      ++proxy_frames;
    }
  }
  EXPECT_GE(proxy_frames, 1u) << text;
}

INSTANTIATE_TEST_SUITE_P(Signals, CrashSignalTest,
                         ::testing::Values(CrashCase{SIGSEGV, "SEGV"}, CrashCase{SIGBUS, "BUS"},
                                           CrashCase{SIGFPE, "FPE"}, CrashCase{SIGILL, "ILL"},
                                           CrashCase{SIGABRT, "ABRT"}),
                         [](const ::testing::TestParamInfo<CrashCase>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace proxy::test

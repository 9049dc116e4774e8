// Process helpers of the differential fuzzer (loopback only); see processes.h.
#include "test/differential/processes.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace proxy::test::differential {
namespace {

bool Accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

}  // namespace

int FreePort() {
  static std::mutex mu;
  static std::set<int> given;
  std::lock_guard<std::mutex> lock(mu);
  for (;;) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    const int port = ntohs(addr.sin_port);
    if (given.insert(port).second) return port;
  }
}

std::string TempPath(absl::string_view name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

std::string Runfile(absl::string_view path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/",
                      workspace != nullptr ? workspace : "shardproxy", "/", path);
}

std::string FindExecutable(absl::string_view name) {
  const char* path = std::getenv("PATH");
  std::vector<std::string> dirs =
      absl::StrSplit(path != nullptr ? path : "", ':', absl::SkipEmpty());
  for (const char* d : {"/usr/bin", "/usr/sbin", "/usr/local/bin"}) dirs.push_back(d);
  for (const std::string& dir : dirs) {
    const std::string candidate = absl::StrCat(dir, "/", name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string Resp(const std::vector<std::string>& args) {
  std::string out = absl::StrCat("*", args.size(), "\r\n");
  for (const std::string& a : args) absl::StrAppend(&out, "$", a.size(), "\r\n", a, "\r\n");
  return out;
}

bool Process::Start(const std::vector<std::string>& argv, const std::string& log_path) {
  pid_ = fork();
  if (pid_ < 0) return false;
  if (pid_ == 0) {
    const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log >= 0) {
      dup2(log, STDOUT_FILENO);
      dup2(log, STDERR_FILENO);
    }
    const int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return true;
}

bool Process::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

void Process::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) != pid_) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pid_ = -1;
}

bool Server::Launch(const std::vector<std::string>& argv, const std::vector<int>& ports) {
  if (!process_.Start(argv, log_path_)) return false;
  for (int port : ports) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!Accepts(port)) {
      if (!process_.Running() || std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  return process_.Running();
}

std::unique_ptr<Server> Server::Redis() {
  auto s = std::unique_ptr<Server>(new Server());
  s->port_ = FreePort();
  s->log_path_ = TempPath(absl::StrCat("redis-", s->port_, ".log"));
  s->ok_ = s->Launch({FindExecutable("redis-server"), "--port", std::to_string(s->port_),
                      "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize",
                      "no", "--protected-mode", "no"},
                     {s->port_});
  return s;
}

std::unique_ptr<Server> Server::Memcached() {
  auto s = std::unique_ptr<Server>(new Server());
  s->port_ = FreePort();
  s->log_path_ = TempPath(absl::StrCat("memcached-", s->port_, ".log"));
  std::vector<std::string> argv = {FindExecutable("memcached"), "-p", std::to_string(s->port_),
                                   "-l", "127.0.0.1", "-U", "0", "-t", "1", "-m", "64"};
  if (geteuid() == 0) argv.insert(argv.end(), {"-u", "root"});
  s->ok_ = s->Launch(argv, {s->port_});
  return s;
}

std::unique_ptr<Server> Server::Proxy(const std::string& yaml, const std::vector<int>& ports,
                                      const std::vector<std::string>& extra_args) {
  static std::atomic<int> counter{0};
  auto s = std::unique_ptr<Server>(new Server());
  const std::string conf = TempPath(absl::StrCat("proxy-", getpid(), "-", ++counter, ".yml"));
  std::ofstream(conf) << yaml;
  s->log_path_ = conf + ".log";
  s->port_ = ports.empty() ? 0 : ports[0];
  std::vector<std::string> argv = {Runfile("proxy"), "-c", conf};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  s->ok_ = s->Launch(argv, ports);
  return s;
}

std::string Server::Log() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace proxy::test::differential

// The minimal harness of backends.h.
#include "test/safety/redis/backends.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace proxy::test::safety {
namespace {

int ConnectTo(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Polls until the port accepts, the process died or the deadline passed.
bool WaitForPort(Process& process, int port) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    const int fd = ConnectTo(port);
    if (fd >= 0) {
      close(fd);
      return true;
    }
    if (!process.Running()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::string Runfile(absl::string_view path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/",
                      workspace != nullptr ? workspace : "shardproxy", "/", path);
}

}  // namespace

int FreePort() {
  // Ports handed out by this process are never repeated (two servers cannot race for one).
  static std::vector<int>* given = new std::vector<int>();
  for (;;) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
    close(fd);
    if (port != 0 && std::find(given->begin(), given->end(), port) == given->end()) {
      given->push_back(port);
      return port;
    }
  }
}

std::string FindExecutable(absl::string_view name) {
  const char* path = std::getenv("PATH");
  std::vector<std::string> dirs =
      absl::StrSplit(path != nullptr ? path : "", ':', absl::SkipEmpty());
  dirs.insert(dirs.end(), {"/usr/bin", "/usr/sbin", "/usr/local/bin"});
  for (const std::string& dir : dirs) {
    const std::string candidate = absl::StrCat(dir, "/", name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string TempPath(absl::string_view name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

bool Process::Start(const std::vector<std::string>& argv, const std::string& log_path) {
  pid_ = fork();
  if (pid_ < 0) return false;
  if (pid_ == 0) {
    const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) {
      dup2(log, STDOUT_FILENO);
      dup2(log, STDERR_FILENO);
    }
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
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
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

RedisServer::RedisServer(const std::vector<std::string>& extra) : port_(FreePort()) {
  std::vector<std::string> argv = {FindExecutable("redis-server"), "--port", std::to_string(port_),
                                   "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                   "--daemonize", "no", "--protected-mode", "no"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  ok_ = process_.Start(argv, TempPath(absl::StrCat("redis-", port_, ".log"))) &&
        WaitForPort(process_, port_);
}

ProxyProcess::ProxyProcess(const std::string& yaml, int listen_port) {
  static int counter = 0;
  const std::string conf = TempPath(absl::StrCat("proxy-", getpid(), "-", ++counter, ".yml"));
  std::ofstream(conf) << yaml;
  log_path_ = conf + ".log";
  const std::vector<std::string> argv = {
      Runfile("proxy"), "-c", conf, "-v", "6", "-s", std::to_string(FreePort()), "-a", "127.0.0.1"};
  ok_ = process_.Start(argv, log_path_) && WaitForPort(process_, listen_port);
}

std::string ProxyProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Client::Client(int port, std::chrono::milliseconds timeout) {
  fd_ = ConnectTo(port);
  if (fd_ >= 0) {
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }
}

Client::~Client() {
  if (fd_ >= 0) close(fd_);
}

bool Client::Send(absl::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool Client::Fill() {
  char chunk[65536];
  for (;;) {
    const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

std::string Client::ReadReply() {
  for (;;) {
    const size_t len = RespLength(buffer_);
    if (len > 0) {
      std::string reply = buffer_.substr(0, len);
      buffer_.erase(0, len);
      return reply;
    }
    if (!Fill()) return "";
  }
}

std::string Client::Command(const std::vector<std::string>& args) {
  if (!Send(Resp(args))) return "";
  return ReadReply();
}

bool Client::WaitForClose() {
  char chunk[4096];
  for (;;) {
    const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n == 0) return true;
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    return errno == ECONNRESET;
  }
}

std::string Resp(const std::vector<std::string>& args) {
  std::string out = absl::StrCat("*", args.size(), "\r\n");
  for (const std::string& a : args) absl::StrAppend(&out, "$", a.size(), "\r\n", a, "\r\n");
  return out;
}

namespace {

// Length of the RESP2 value at `pos`, 0 when incomplete (malformed input counts as incomplete).
size_t ValueLength(absl::string_view data, size_t pos) {
  if (pos >= data.size()) return 0;
  const size_t crlf = data.find("\r\n", pos);
  if (crlf == absl::string_view::npos) return 0;
  const char type = data[pos];
  const size_t header = crlf + 2 - pos;
  if (type == '+' || type == '-' || type == ':') return header;
  int64_t n = 0;
  if (!absl::SimpleAtoi(data.substr(pos + 1, crlf - pos - 1), &n)) return 0;
  if (type == '$') {
    if (n < 0) return header;
    const size_t total = header + static_cast<size_t>(n) + 2;
    return data.size() - pos >= total ? total : 0;
  }
  if (type == '*') {
    size_t total = header;
    for (int64_t i = 0; i < n; ++i) {
      const size_t element = ValueLength(data, pos + total);
      if (element == 0) return 0;
      total += element;
    }
    return total;
  }
  return 0;
}

}  // namespace

size_t RespLength(absl::string_view data) { return ValueLength(data, 0); }

}  // namespace proxy::test::safety

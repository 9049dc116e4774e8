// Process and socket helpers for the integration tests (loopback only).
#include "test/integration/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace proxy::test {

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout,
               std::chrono::milliseconds every) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
  return true;
}

int ConnectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// WaitForPort that gives up as soon as `process` has exited (e.g. exec failed, port taken).
bool WaitForPortWhileRunning(Process& process, int port, std::chrono::milliseconds timeout) {
  bool exited = false;
  const bool answered = WaitUntil(
      [&] {
        if (!PortRefuses(port)) return true;
        exited = !process.Running();
        return exited;
      },
      timeout);
  return answered && !exited && process.Running();
}

namespace {

bool HasFlag(const std::vector<std::string>& args, absl::string_view short_flag,
             absl::string_view long_flag) {
  for (const std::string& a : args) {
    if (a == short_flag || absl::StartsWith(a, long_flag)) return true;
  }
  return false;
}

// The full path of a tool when found (so that /usr/bin works even without it in $PATH).
std::string Executable(absl::string_view name) {
  const std::string path = FindExecutable(name);
  return path.empty() ? std::string(name) : path;
}

}  // namespace

int FreePort() {
  // The kernel may hand the same ephemeral port out again right after it was closed, so a test
  // asking for several ports could get one twice: never return a port this process returned.
  static std::mutex mu;
  static std::set<int> given;
  std::lock_guard<std::mutex> lock(mu);
  for (;;) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
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

long ProcStatusKb(pid_t pid, absl::string_view field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  const std::string prefix = absl::StrCat(field, ":");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(prefix, 0) == 0) {
      long kb = -1;
      std::istringstream(line.substr(prefix.size())) >> kb;
      return kb;
    }
  }
  return -1;
}

long RssKb(pid_t pid) { return ProcStatusKb(pid, "VmRSS"); }

std::string FindExecutable(absl::string_view name) {
  if (name.empty()) return "";
  if (absl::StrContains(name, '/')) {
    return access(std::string(name).c_str(), X_OK) == 0 ? std::string(name) : "";
  }
  const char* path = std::getenv("PATH");
  std::vector<std::string> dirs =
      absl::StrSplit(path != nullptr ? path : "", ':', absl::SkipEmpty());
  dirs.push_back("/usr/bin");
  dirs.push_back("/usr/sbin");
  dirs.push_back("/usr/local/bin");
  for (const std::string& dir : dirs) {
    const std::string candidate = absl::StrCat(dir, "/", name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         absl::string_view input) {
  static int counter = 0;
  CommandResult result;
  if (argv.empty()) return result;
  const std::string input_path = TempPath(absl::StrCat("run-", getpid(), "-", ++counter, ".stdin"));
  std::ofstream(input_path, std::ios::binary) << input;  // written and closed right here
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return result;
  const pid_t pid = fork();
  if (pid < 0) {
    close(out[0]);
    close(out[1]);
    return result;
  }
  if (pid == 0) {
    setpgid(0, 0);  // its own group, so that a timeout kills its children too
    const int in = open(input_path.c_str(), O_RDONLY);
    if (in >= 0) dup2(in, STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    dup2(out[1], STDERR_FILENO);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  setpgid(pid, pid);
  close(out[1]);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char chunk[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    const int r = poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    const ssize_t n = read(out[0], chunk, sizeof(chunk));
    if (n > 0) {
      result.output.append(chunk, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;  // every writer closed: the command (and its children) are done
    }
  }
  close(out[0]);
  if (result.timed_out) kill(-pid, SIGKILL);
  int status = 0;
  // Output closed, but the process may still be exiting; bounded by the same deadline + 5 s.
  const auto reap_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return result;
    if (std::chrono::steady_clock::now() > reap_deadline) {
      result.timed_out = true;
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  unlink(input_path.c_str());
  return result;
}

bool Process::Start(const std::vector<std::string>& argv, const std::string& log_path) {
  pid_ = fork();
  if (pid_ < 0) return false;
  if (pid_ == 0) {
    int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) {
      dup2(log, STDOUT_FILENO);
      dup2(log, STDERR_FILENO);
    }
    int devnull = open("/dev/null", O_RDONLY);
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
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    pid_ = -1;
    return false;
  }
  return true;
}

void Process::Kill(int signal) {
  if (pid_ > 0) kill(pid_, signal);
}

int Process::Stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return status_;
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      status_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pid_ = -1;
  return status_;
}

int WaitExit(Process& process, std::chrono::milliseconds timeout) {
  if (!WaitUntil([&] { return !process.Running(); }, timeout)) return -2;
  return process.Stop();  // already reaped: its recorded exit status
}

bool WaitForPort(int port, std::chrono::milliseconds timeout) {
  return WaitUntil([port] { return !PortRefuses(port); }, timeout);
}

bool PortRefuses(int port) {
  const int fd = ConnectTo(port);
  if (fd < 0) return true;
  close(fd);
  return false;
}

std::vector<TcpSocket> SocketsAt(int port) {
  std::vector<TcpSocket> sockets;
  for (const char* path : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      // sl local_address rem_address st tx_queue:rx_queue ...
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues;
      fields >> slot >> local >> remote >> state >> queues;
      const size_t colon = local.rfind(':');
      const size_t split = queues.find(':');
      unsigned int local_port = 0;
      TcpSocket socket;
      if (colon == std::string::npos || split == std::string::npos ||
          !absl::SimpleHexAtoi(local.substr(colon + 1), &local_port) ||
          static_cast<int>(local_port) != port || !absl::SimpleHexAtoi(state, &socket.state) ||
          !absl::SimpleHexAtoi(queues.substr(0, split), &socket.tx_queue) ||
          !absl::SimpleHexAtoi(queues.substr(split + 1), &socket.rx_queue)) {
        continue;
      }
      sockets.push_back(socket);
    }
  }
  return sockets;
}

long UnreadBytesAt(int port) {
  long bytes = 0;
  for (const TcpSocket& socket : SocketsAt(port)) {
    if (socket.state == 0x01) bytes += socket.rx_queue;
  }
  return bytes;
}

int ListeningSocketsAt(int port) {
  int count = 0;
  for (const TcpSocket& socket : SocketsAt(port)) count += socket.state == 0x0A ? 1 : 0;
  return count;
}

int BackendClients(int port) {
  Client direct(port);
  const int64_t n = RedisInfoField(direct, "clients", "connected_clients");
  return n < 0 ? -1 : static_cast<int>(n - 1);
}

int64_t ServersField(const std::string& json, const std::string& field,
                     const std::string& server) {
  size_t entry = 0;
  size_t end = std::string::npos;
  if (!server.empty()) {
    entry = json.find(absl::StrCat("\"server\": \"", server, "\""));
    if (entry == std::string::npos) return -1;
    end = json.find('}', entry);
  }
  const std::string key = absl::StrCat("\"", field, "\": ");
  const size_t at = json.find(key, entry);
  if (at == std::string::npos || at > end) return -1;
  size_t stop = at + key.size();
  while (stop < json.size() && json[stop] >= '0' && json[stop] <= '9') ++stop;
  int64_t value = -1;
  if (!absl::SimpleAtoi(json.substr(at + key.size(), stop - at - key.size()), &value)) return -1;
  return value;
}

RedisServer::RedisServer(std::vector<std::string> extra)
    : extra_(std::move(extra)), port_(FreePort()) {
  ok_ = Launch();
}

bool RedisServer::Launch() {
  std::vector<std::string> argv = {Executable("redis-server"), "--port", std::to_string(port_),
                                   "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                   "--daemonize", "no", "--protected-mode", "no"};
  argv.insert(argv.end(), extra_.begin(), extra_.end());
  if (!process_.Start(argv, TempPath(absl::StrCat("redis-", port_, ".log")))) return false;
  return WaitForPortWhileRunning(process_, port_, std::chrono::milliseconds(10000));
}

bool RedisServer::Restart() {
  process_.Stop();
  ok_ = Launch();
  return ok_;
}

MemcachedServer::MemcachedServer(std::vector<std::string> extra)
    : extra_(std::move(extra)), port_(FreePort()) {
  ok_ = Launch();
}

bool MemcachedServer::Launch() {
  std::vector<std::string> argv = {Executable("memcached"), "-p", std::to_string(port_), "-l",
                                   "127.0.0.1", "-U", "0", "-t", "1", "-m", "64"};
  if (geteuid() == 0) {
    argv.push_back("-u");
    argv.push_back("root");
  }
  argv.insert(argv.end(), extra_.begin(), extra_.end());
  if (!process_.Start(argv, TempPath(absl::StrCat("memcached-", port_, ".log")))) return false;
  return WaitForPortWhileRunning(process_, port_, std::chrono::milliseconds(10000));
}

bool MemcachedServer::Restart() {
  process_.Stop();
  ok_ = Launch();
  return ok_;
}

ProxyProcess::ProxyProcess(const std::string& yaml, const std::vector<int>& listen_ports,
                           std::vector<std::string> extra_args) {
  static int counter = 0;
  const std::string conf = TempPath(absl::StrCat("proxy-", getpid(), "-", ++counter, ".yml"));
  std::ofstream(conf) << yaml;
  log_path_ = conf + ".log";
  std::vector<std::string> argv = {Runfile("proxy"), "-c", conf, "-v", "6"};
  if (!HasFlag(extra_args, "-s", "--stats-port")) {
    argv.insert(argv.end(), {"-s", std::to_string(FreePort())});
  }
  if (!HasFlag(extra_args, "-a", "--stats-addr")) {
    argv.insert(argv.end(), {"-a", "127.0.0.1"});
  }
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  if (!process_.Start(argv, log_path_)) return;
  for (int port : listen_ports) {
    if (!WaitForPortWhileRunning(process_, port, std::chrono::milliseconds(10000))) return;
  }
  ok_ = process_.Running();
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

Client::~Client() { Close(); }

void Client::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

bool Client::Send(absl::string_view bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

void Client::ShutdownWrite() { shutdown(fd_, SHUT_WR); }

bool Client::Fill() {
  if (fd_ < 0) return false;
  char chunk[65536];
  for (;;) {
    ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

size_t RespLength(absl::string_view data) {
  if (data.empty()) return 0;
  const size_t eol = data.find("\r\n");
  if (eol == absl::string_view::npos) return 0;
  const char type = data[0];
  switch (type) {
    case '+':
    case '-':
    case ':':
    case '_':
    case '#':
    case ',':
    case '(':
      return eol + 2;
    default:
      break;
  }
  int64_t n = 0;
  if (!absl::SimpleAtoi(data.substr(1, eol - 1), &n)) return 0;
  if (type == '$' || type == '!' || type == '=') {
    if (n < 0) return eol + 2;
    const size_t total = eol + 2 + static_cast<size_t>(n) + 2;
    return data.size() >= total ? total : 0;
  }
  if (type != '*' && type != '~' && type != '>' && type != '%' && type != '|') return 0;
  const int64_t elements = n < 0 ? 0 : (type == '%' || type == '|') ? 2 * n : n;
  size_t pos = eol + 2;
  for (int64_t i = 0; i < elements; ++i) {
    const size_t len = RespLength(data.substr(pos));
    if (len == 0) return 0;
    pos += len;
  }
  if (type == '|') {  // the attributed value follows
    const size_t len = RespLength(data.substr(pos));
    if (len == 0) return 0;
    pos += len;
  }
  return pos;
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

std::string Client::ReadMemcacheReply() {
  for (;;) {
    const size_t len = MemcacheReplyLength(buffer_);
    if (len > 0) {
      std::string reply = buffer_.substr(0, len);
      buffer_.erase(0, len);
      return reply;
    }
    if (!Fill()) return "";
  }
}

size_t MemcacheReplyLength(absl::string_view data) {
  if (!absl::StartsWith(data, "VALUE ")) {
    const size_t eol = data.find("\r\n");
    return eol == absl::string_view::npos ? 0 : eol + 2;
  }
  size_t pos = 0;
  while (absl::StartsWith(data.substr(pos), "VALUE ")) {
    const size_t eol = data.find("\r\n", pos);
    if (eol == absl::string_view::npos) return 0;
    // VALUE <key> <flags> <bytes> [<cas>]
    std::vector<absl::string_view> fields =
        absl::StrSplit(data.substr(pos, eol - pos), ' ', absl::SkipEmpty());
    size_t bytes = 0;
    if (fields.size() < 4 || !absl::SimpleAtoi(fields[3], &bytes)) return 0;
    pos = eol + 2 + bytes + 2;
    if (data.size() < pos) return 0;
  }
  if (!absl::StartsWith(data.substr(pos), "END\r\n")) {
    return data.size() >= pos + 5 ? pos : 0;  // malformed: give back what was framed
  }
  return pos + 5;
}

std::string Client::ReadExactly(size_t n) {
  while (buffer_.size() < n) {
    if (!Fill()) break;
  }
  std::string out = buffer_.substr(0, n);
  buffer_.erase(0, out.size());
  return out;
}

bool Client::WaitForClose() {
  char c;
  for (;;) {
    ssize_t n = recv(fd_, &c, 1, 0);
    if (n == 0) return true;
    if (n > 0) {
      buffer_.push_back(c);
      continue;
    }
    if (errno == EINTR) continue;
    return errno == ECONNRESET;
  }
}

std::string Client::ReadAll(bool* closed) {
  char chunk[65536];
  for (;;) {
    const ssize_t n = fd_ < 0 ? 0 : recv(fd_, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (closed != nullptr) *closed = n == 0 || (n < 0 && errno == ECONNRESET);
    break;
  }
  std::string out;
  out.swap(buffer_);
  return out;
}

std::pair<int, std::string> HttpGet(int port, const std::string& path) {
  Client client(port);
  if (!client.connected()) return {0, ""};
  client.Send(absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: x\r\n\r\n"));
  const std::string response = client.ReadAll();
  int code = 0;
  if (response.size() > 12) absl::SimpleAtoi(response.substr(9, 3), &code);
  const size_t body = response.find("\r\n\r\n");
  return {code, body == std::string::npos ? "" : response.substr(body + 4)};
}

int64_t RedisInfoField(Client& direct, absl::string_view section, absl::string_view field) {
  const std::string info = direct.Command({"INFO", std::string(section)});
  const std::string needle = absl::StrCat("\r\n", field, ":");
  const size_t at = info.find(needle);
  if (at == std::string::npos) return -1;
  const size_t begin = at + needle.size();
  int64_t value = 0;
  if (!absl::SimpleAtoi(info.substr(begin, info.find("\r\n", begin) - begin), &value)) return -1;
  return value;
}

std::string ShowBytes(absl::string_view bytes, size_t max) {
  if (bytes.size() <= max) return absl::StrCat("\"", absl::CHexEscape(bytes), "\"");
  return absl::StrCat("\"", absl::CHexEscape(bytes.substr(0, max)), "\"... (", bytes.size(),
                      " bytes)");
}

std::string ShowArgs(const std::vector<std::string>& args) {
  std::vector<std::string> shown;
  for (const std::string& a : args) shown.push_back(ShowBytes(a, 60));
  return absl::StrJoin(shown, " ");
}

::testing::AssertionResult SameBytes(absl::string_view actual, absl::string_view expected) {
  if (actual == expected) return ::testing::AssertionSuccess();
  size_t i = 0;
  while (i < actual.size() && i < expected.size() && actual[i] == expected[i]) ++i;
  const size_t from = i > 16 ? i - 16 : 0;
  return ::testing::AssertionFailure()
         << "got " << actual.size() << " bytes, expected " << expected.size()
         << "; first difference at offset " << i << ": got "
         << ShowBytes(actual.substr(std::min(from, actual.size()), 64)) << ", expected "
         << ShowBytes(expected.substr(std::min(from, expected.size()), 64));
}

std::string Resp(const std::vector<std::string>& args) {
  std::string out = absl::StrCat("*", args.size(), "\r\n");
  for (const std::string& a : args) absl::StrAppend(&out, "$", a.size(), "\r\n", a, "\r\n");
  return out;
}

}  // namespace proxy::test

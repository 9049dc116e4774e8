// Helpers for the core safety tests (see safety_util.h).
#include "test/safety/core/safety_util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace proxy::safety_test {

// ---------------------------------------------------------------------------------------------
// Redis

Redis::Redis(std::vector<std::string> extra) : port_(FreePort()) {
  std::vector<std::string> argv = {FindExecutable("redis-server"), "--port", std::to_string(port_),
                                   "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                   "--daemonize", "no", "--protected-mode", "no"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  if (!process_.Start(argv, TempPath(absl::StrCat("redis-", port_, ".log")))) return;
  ok_ = WaitForPortWhileRunning(process_, port_, milliseconds(10000));
}

Redis::~Redis() {
  process_.Kill(SIGCONT);  // a stopped process would only die of the SIGKILL after the grace
  process_.Stop();
}

void Redis::Pause() {
  process_.Kill(SIGSTOP);
  paused_ = true;
}

void Redis::Resume() {
  process_.Kill(SIGCONT);
  paused_ = false;
}

std::string Redis::Direct(const std::vector<std::string>& args) {
  Conn conn(port_);
  return conn.Command(args);
}

// ---------------------------------------------------------------------------------------------
// Memcached

Memcached::Memcached() : port_(FreePort()) {
  std::vector<std::string> argv = {FindExecutable("memcached"), "-p", std::to_string(port_),
                                   "-l", "127.0.0.1", "-U", "0", "-t", "1", "-m", "256"};
  if (geteuid() == 0) argv.insert(argv.end(), {"-u", "root"});  // it refuses to run as root
  if (!process_.Start(argv, TempPath(absl::StrCat("memcached-", port_, ".log")))) return;
  ok_ = WaitForPortWhileRunning(process_, port_, milliseconds(10000));
}

Memcached::~Memcached() {
  process_.Kill(SIGCONT);
  process_.Stop();
}

void Memcached::Pause() { process_.Kill(SIGSTOP); }

void Memcached::Resume() { process_.Kill(SIGCONT); }

std::string Memcached::Direct(const std::string& request) {
  Conn conn(port_);
  if (!conn.Send(request)) return "";
  return conn.ReadMemcacheReply();
}

// ---------------------------------------------------------------------------------------------
// Proxy

Proxy::Proxy(const std::string& yaml, const std::vector<int>& listen_ports,
             std::vector<std::string> extra_args, std::vector<std::string> launcher)
    : stats_port_(FreePort()) {
  static int counter = 0;
  const std::string conf = TempPath(absl::StrCat("safety-", getpid(), "-", ++counter, ".yml"));
  std::ofstream(conf) << yaml;
  log_path_ = conf + ".log";
  std::vector<std::string> argv = launcher;
  argv.insert(argv.end(), {Runfile("proxy"), "-c", conf, "-v", "6", "-s",
                           std::to_string(stats_port_), "-a", "127.0.0.1"});
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  if (!process_.Start(argv, log_path_)) return;
  for (int port : listen_ports) {
    const bool up = WaitUntil(
        [&] {
          const int fd = ConnectTo(port);
          if (fd >= 0) close(fd);
          return fd >= 0 || !process_.Running();
        },
        milliseconds(10000));
    if (!up || !process_.Running()) return;
  }
  ok_ = process_.Running();
}

std::string Proxy::Log() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Proxy::Stats() const {
  Conn conn(stats_port_);
  if (!conn.connected()) return "";
  return conn.ReadAll();
}

// ---------------------------------------------------------------------------------------------
// Readings

long long StatsField(const std::string& json, const std::string& object, const std::string& key) {
  size_t at = json.find(absl::StrCat("\"", object, "\": {"));
  if (at == std::string::npos) return -1;
  at = json.find(absl::StrCat("\"", key, "\":"), at);
  if (at == std::string::npos) return -1;
  size_t begin = at + key.size() + 3;
  while (begin < json.size() && json[begin] == ' ') ++begin;
  size_t end = begin;
  while (end < json.size() &&
         (std::isdigit(static_cast<unsigned char>(json[end])) || json[end] == '-')) {
    ++end;
  }
  long long value = -1;
  if (!absl::SimpleAtoi(json.substr(begin, end - begin), &value)) return -1;
  return value;
}

long long CpuTicks(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return -1;
  // After "pid (comm) " the fields start at state (field 3); utime and stime are 14 and 15.
  std::vector<std::string> fields = absl::StrSplit(stat.substr(paren + 2), ' ');
  if (fields.size() < 13) return -1;
  long long utime = 0, stime = 0;
  if (!absl::SimpleAtoi(fields[11], &utime) || !absl::SimpleAtoi(fields[12], &stime)) return -1;
  return utime + stime;
}

int OpenFds(pid_t pid) {
  DIR* dir = opendir(absl::StrCat("/proc/", pid, "/fd").c_str());
  if (dir == nullptr) return -1;
  int count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

int CloseWaitCount(int port) {
  const std::vector<test::TcpSocket> sockets = test::SocketsAt(port);
  return static_cast<int>(std::count_if(sockets.begin(), sockets.end(), [](const auto& socket) {
    return socket.state == 0x08;  // CLOSE_WAIT
  }));
}

std::string RedisPoolYaml(const std::string& name, int listen_port,
                          const std::vector<int>& server_ports,
                          const std::vector<std::string>& extra_lines) {
  std::string yaml =
      absl::StrCat(name, ":\n  listen: 127.0.0.1:", listen_port, "\n  redis: true\n");
  for (const std::string& line : extra_lines) absl::StrAppend(&yaml, "  ", line, "\n");
  absl::StrAppend(&yaml, "  servers:\n");
  int i = 0;
  for (int port : server_ports) {
    absl::StrAppend(&yaml, "   - 127.0.0.1:", port, ":1 s", i++, "\n");
  }
  return yaml;
}

}  // namespace proxy::safety_test

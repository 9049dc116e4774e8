// Servers of the differential fuzzer (loopback only); see processes.h.
#include "test/differential/processes.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace proxy::test::differential {

bool Server::Launch(const std::vector<std::string>& argv, const std::vector<int>& ports) {
  if (!process_.Start(argv, log_path_)) return false;
  for (int port : ports) {
    if (!WaitForPortWhileRunning(process_, port, std::chrono::seconds(20))) return false;
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

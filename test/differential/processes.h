// The processes of the differential fuzzer: real redis-server and memcached on free 127.0.0.1
// ports and the //:proxy binary, each stopped (SIGTERM, then SIGKILL) by its destructor.
// (//test/integration:harness does the same for the integration tests, but is private to its
// package.)
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace proxy::test::differential {

// A 127.0.0.1 port that was free a moment ago; never the same one twice in this process.
int FreePort();
// $TEST_TMPDIR (or /tmp) + "/" + name.
std::string TempPath(absl::string_view name);
// Path of a data dependency in the runfiles tree (e.g. "proxy").
std::string Runfile(absl::string_view path);
// Full path of a program found in $PATH, /usr/bin, /usr/sbin; "" when missing.
std::string FindExecutable(absl::string_view name);
// The RESP array encoding of a command.
std::string Resp(const std::vector<std::string>& args);

class Process {
 public:
  Process() = default;
  ~Process() { Stop(); }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  // Starts argv with stdout/stderr appended to `log_path`.
  bool Start(const std::vector<std::string>& argv, const std::string& log_path);
  bool Running();
  void Stop();

 private:
  pid_t pid_ = -1;
};

// A backend or the proxy, listening on 127.0.0.1 ports once ok().
class Server {
 public:
  static std::unique_ptr<Server> Redis();
  static std::unique_ptr<Server> Memcached();
  // The proxy on `yaml`, up once every port in `ports` accepts.
  static std::unique_ptr<Server> Proxy(const std::string& yaml, const std::vector<int>& ports,
                                       const std::vector<std::string>& extra_args);
  bool ok() const { return ok_; }
  int port() const { return port_; }
  bool Running() { return process_.Running(); }
  std::string Log() const;

 private:
  bool Launch(const std::vector<std::string>& argv, const std::vector<int>& ports);
  bool ok_ = false;
  int port_ = 0;
  std::string log_path_;
  Process process_;
};

}  // namespace proxy::test::differential

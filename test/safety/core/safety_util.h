// Helpers for the core safety tests, on top of the integration harness (loopback only): backends
// that can be paused with SIGSTOP (redis-server, memcached), //:proxy with its stats port and an
// optional launcher such as prlimit, a blocking client that can close or half-close and tell a
// close from a timeout, stats JSON fields and /proc readings of the proxy process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "test/integration/harness.h"

namespace proxy::safety_test {

using std::chrono::milliseconds;
// From the integration harness (test/integration/harness.h).
using test::FindExecutable;
using test::FreePort;
using test::Process;
using test::Resp;
using test::RespLength;
using test::Runfile;
using test::TempPath;

// From the integration harness.
using test::WaitUntil;

using test::ConnectTo;
using test::WaitForPortWhileRunning;

using test::WaitExit;

// redis-server on a free port that can be paused (SIGSTOP: it neither reads nor answers).
class Redis {
 public:
  explicit Redis(std::vector<std::string> extra = {});
  ~Redis();
  bool ok() const { return ok_; }
  int port() const { return port_; }
  void Pause();
  void Resume();
  // A command sent straight to the backend; its raw reply.
  std::string Direct(const std::vector<std::string>& args);

 private:
  int port_;
  bool ok_ = false;
  bool paused_ = false;
  Process process_;
};

// memcached on a free port that can be paused.
class Memcached {
 public:
  Memcached();
  ~Memcached();
  bool ok() const { return ok_; }
  int port() const { return port_; }
  void Pause();
  void Resume();
  // One request line (with its data block) sent straight to the backend; the reply: one line,
  // or VALUE blocks up to END.
  std::string Direct(const std::string& request);

 private:
  int port_;
  bool ok_ = false;
  Process process_;
};

using test::MemcacheReplyLength;

// //:proxy on `yaml`, with a stats port of its own; waits until every listen port accepts.
class Proxy {
 public:
  // `launcher` goes before the proxy's path (e.g. {"/usr/bin/prlimit", "--nofile=64:64"}).
  Proxy(const std::string& yaml, const std::vector<int>& listen_ports,
        std::vector<std::string> extra_args = {}, std::vector<std::string> launcher = {});
  bool ok() const { return ok_; }
  int stats_port() const { return stats_port_; }
  pid_t pid() const { return process_.pid(); }
  Process& process() { return process_; }
  std::string Log() const;
  // The stats JSON document ("" when unreadable).
  std::string Stats() const;

 private:
  bool ok_ = false;
  int stats_port_;
  std::string log_path_;
  Process process_;
};

// A blocking RESP/memcache client with receive/send timeouts (test::Client).
using Conn = test::Client;

// The number after "key": inside the object "object" of a stats JSON document; -1 if absent.
long long StatsField(const std::string& json, const std::string& object, const std::string& key);
// A field of /proc/PID/status in kB (VmRSS, VmHWM); -1 when unreadable.
using test::ProcStatusKb;
// User + system CPU time of a process in clock ticks; -1 when unreadable.
long long CpuTicks(pid_t pid);
// Open file descriptors of a process; -1 when unreadable.
int OpenFds(pid_t pid);
// TCP sockets in CLOSE_WAIT whose local port is `port` (/proc/net/tcp and tcp6).
int CloseWaitCount(int port);

// A redis pool: "NAME:\n  listen: 127.0.0.1:PORT\n  redis: true\n  <extra>\n  servers: ...".
std::string RedisPoolYaml(const std::string& name, int listen_port,
                          const std::vector<int>& server_ports,
                          const std::vector<std::string>& extra_lines = {});

}  // namespace proxy::safety_test

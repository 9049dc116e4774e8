// Integration-test harness: real redis-server / memcached processes and the //:proxy binary on
// free 127.0.0.1 ports, plus small blocking RESP and memcache clients. Every process started
// here is stopped by its destructor.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace proxy::test {

// Calls `done` until it returns true or `timeout` has passed, sleeping `every` between calls;
// true when `done` returned true. `done` runs at least once, and its last call is at the deadline
// or after it. The one polling helper of the tests: a test that needs another process or thread
// to get somewhere (a port answers, a counter moves, a log line appears) waits for exactly that,
// never for a fixed time that assumes how long it takes.
bool WaitUntil(const std::function<bool()>& done,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(10000),
               std::chrono::milliseconds every = std::chrono::milliseconds(10));

// A port that was free a moment ago (bind 127.0.0.1:0, read it back, close).
int FreePort();
// TEST_TMPDIR (or /tmp) + "/" + name.
std::string TempPath(absl::string_view name);
// Path of a data dependency inside the runfiles tree, e.g. "proxy" or "test/golden/x.tsv".
std::string Runfile(absl::string_view path);
// Full path of an executable found in $PATH (or /usr/bin, /usr/sbin), or "" when missing.
std::string FindExecutable(absl::string_view name);
// A field of /proc/<pid>/status in KiB ("VmRSS", or "VmHWM": the peak resident size since the
// process started, which no sampling can miss); -1 when it cannot be read.
long ProcStatusKb(pid_t pid, absl::string_view field);
// VmRSS of a process in KiB, -1 when it cannot be read.
long RssKb(pid_t pid);

// The outcome of RunCommand().
struct CommandResult {
  int exit_code = -1;      // the exit status; -1 when killed by a signal (or the timeout)
  bool timed_out = false;  // killed because it ran longer than the timeout
  std::string output;      // stdout and stderr, interleaved
};
// Runs argv (looked up in $PATH) with `input` on stdin; kills it after `timeout`.
CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         absl::string_view input = "");

// A child process; SIGTERM (then SIGKILL) on Stop() or destruction.
class Process {
 public:
  Process() = default;
  ~Process() { Stop(); }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Starts argv[0] with the arguments; stdout/stderr go to `log_path` (appended).
  bool Start(const std::vector<std::string>& argv, const std::string& log_path);
  // Sends SIGTERM, waits up to `grace`, then SIGKILL. Returns the exit status (-1 if killed).
  int Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  void Kill(int signal);
  bool Running();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

// Waits up to `timeout` for `process` to exit by itself: its exit status (-1 if a signal ended
// it), or -2 if it still runs (it is then left running).
int WaitExit(Process& process, std::chrono::milliseconds timeout);

// A blocking TCP connection to 127.0.0.1:port with TCP_NODELAY; -1 when it fails.
int ConnectTo(int port);
// WaitForPort that gives up as soon as `process` has exited (e.g. exec failed, port taken);
// true when the port answers and the process still runs.
bool WaitForPortWhileRunning(Process& process, int port, std::chrono::milliseconds timeout);

// Polls until a TCP connection to 127.0.0.1:port succeeds or the deadline passes.
bool WaitForPort(int port, std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
// True when a TCP connect to 127.0.0.1:port is refused (nothing listens there any more).
bool PortRefuses(int port);

// A TCP socket of this machine as /proc/net/tcp (and tcp6) lists it.
struct TcpSocket {
  int state = 0;      // 0x01 ESTABLISHED, 0x08 CLOSE_WAIT, 0x0A LISTEN, ...
  long tx_queue = 0;  // bytes written and not yet acknowledged by the peer
  long rx_queue = 0;  // bytes received and not yet read by the owner
};
// The sockets whose local port is `port`: a server's listener and the connections it accepted.
std::vector<TcpSocket> SocketsAt(int port);
// Bytes that reached the established connections of the server on `port` and that it has not
// read: for a stopped (SIGSTOP) server, proof that a request was forwarded to it.
long UnreadBytesAt(int port);
// Listening sockets on `port` (one per worker with `reuseport: true`).
int ListeningSocketsAt(int port);

class RedisServer {
 public:
  // Starts redis-server on a free port (no persistence). `extra` are more command-line args.
  explicit RedisServer(std::vector<std::string> extra = {});
  int port() const { return port_; }
  bool ok() const { return ok_; }
  void Stop() { process_.Stop(); }
  // SIGKILL, then waits until the process is gone (reaped), so that a test never sees it as
  // running after Kill() returns (a test timing from the kill reads the clock before Kill()).
  void Kill() {
    process_.Kill(9);
    WaitExit(process_, std::chrono::seconds(5));
  }
  // Starts it again on the same port.
  bool Restart();
  // The process, e.g. to pause it with SIGSTOP / SIGCONT.
  Process& process() { return process_; }

 private:
  bool Launch();
  std::vector<std::string> extra_;
  int port_;
  bool ok_ = false;
  Process process_;
};

class MemcachedServer {
 public:
  explicit MemcachedServer(std::vector<std::string> extra = {});
  int port() const { return port_; }
  bool ok() const { return ok_; }
  void Stop() { process_.Stop(); }
  // SIGKILL, then waits until the process is gone (reaped), so that a test never sees it as
  // running after Kill() returns (a test timing from the kill reads the clock before Kill()).
  void Kill() {
    process_.Kill(9);
    WaitExit(process_, std::chrono::seconds(5));
  }
  bool Restart();
  // The process, e.g. to pause it with SIGSTOP / SIGCONT.
  Process& process() { return process_; }

 private:
  bool Launch();
  std::vector<std::string> extra_;
  int port_;
  bool ok_ = false;
  Process process_;
};

// //:proxy on a YAML config written to a temp file. Waits until every listed port accepts.
// Unless `extra_args` chooses one (-s/--stats-port), the stats port is a free 127.0.0.1 port, so
// that several proxies can run at once.
class ProxyProcess {
 public:
  ProxyProcess(const std::string& yaml, const std::vector<int>& listen_ports,
               std::vector<std::string> extra_args = {});
  bool ok() const { return ok_; }
  int Stop() { return process_.Stop(); }
  const std::string& log_path() const { return log_path_; }
  std::string Log() const;
  Process& process() { return process_; }

 private:
  bool ok_ = false;
  std::string log_path_;
  Process process_;
};

// A blocking TCP client with a receive timeout.
class Client {
 public:
  explicit Client(int port, std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return fd_ >= 0; }
  // The socket, e.g. for shutdown(2); -1 once closed.
  int fd() const { return fd_; }
  // Closes the connection now (reads then return what was buffered, then "").
  void Close();
  bool Send(absl::string_view bytes);
  // Half-closes the sending side.
  void ShutdownWrite();
  // One complete RESP2 or RESP3 reply (raw bytes), or "" on timeout/close.
  std::string ReadReply();
  // Sends a RESP array command and reads one reply.
  std::string Command(const std::vector<std::string>& args);
  // One memcache reply (see MemcacheReplyLength), or "" on timeout/close.
  std::string ReadMemcacheReply();
  // Reads until `n` bytes are buffered (or timeout) and returns them.
  std::string ReadExactly(size_t n);
  // True when the server closed the connection (read returns 0) within the timeout.
  bool WaitForClose();
  // Everything received until the peer closes or the timeout passes; `closed` (when given) says
  // which (true also for a reset).
  std::string ReadAll(bool* closed = nullptr);

 private:
  bool Fill();  // one read into buffer_; false on close/timeout
  int fd_ = -1;
  std::string buffer_;
};

// An integer field of a redis-server's INFO section, e.g. ("clients", "connected_clients") or
// ("stats", "total_connections_received"), asked over `direct`; -1 when missing.
int64_t RedisInfoField(Client& direct, absl::string_view section, absl::string_view field);
// connected_clients of the redis-server on `port`, minus the connection asking; -1 when it
// cannot be asked.
int BackendClients(int port);
// The number after `"field": ` in the admin endpoint's /servers JSON: in the entry of server
// `server` (its node name), or in the first entry when `server` is empty; -1 when missing.
int64_t ServersField(const std::string& json, const std::string& field,
                     const std::string& server = "");

// GET `path` from the HTTP endpoint on 127.0.0.1:port (the admin endpoint): the status code and
// the body; {0, ""} when no connection could be made.
std::pair<int, std::string> HttpGet(int port, const std::string& path);

// Bytes in a readable, bounded form for failure messages: quoted and C-escaped, cut after `max`
// bytes (then followed by the full size).
std::string ShowBytes(absl::string_view bytes, size_t max = 240);
// A command line in that form, each argument cut after 60 bytes.
std::string ShowArgs(const std::vector<std::string>& args);
// Equality of possibly huge strings without printing them whole: on a difference, the sizes and
// the bytes around the first differing offset.
::testing::AssertionResult SameBytes(absl::string_view actual, absl::string_view expected);

// One memcache reply at the head of `data` (a line, or VALUE blocks through END; VALUE blocks
// followed by something else than END give back what was framed); 0 when incomplete.
size_t MemcacheReplyLength(absl::string_view data);

// RESP encoding of a command.
std::string Resp(const std::vector<std::string>& args);
// Length of the first complete RESP2 or RESP3 value in `data` (a RESP3 attribute and the value
// it belongs to count as one), or 0 if incomplete.
size_t RespLength(absl::string_view data);

}  // namespace proxy::test

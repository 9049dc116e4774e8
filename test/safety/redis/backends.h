// A minimal test harness for the shared-connection tests: a real redis-server and the real
// //:proxy on free 127.0.0.1 ports, and a blocking RESP client. Each process is stopped by its
// destructor (SIGTERM, then SIGKILL).
//
// It mirrors the part of test/integration/harness.h these tests need, because that target is
// private to its package; with a visibility on //test/integration:harness these classes can be
// replaced by it (same names and behaviour).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace proxy::test::safety {

// A port that was free a moment ago.
int FreePort();
// Full path of an executable in $PATH (or /usr/bin, /usr/sbin), or "" when missing.
std::string FindExecutable(absl::string_view name);
// TEST_TMPDIR (or /tmp) + "/" + name.
std::string TempPath(absl::string_view name);

// A child process, stopped on destruction.
class Process {
 public:
  Process() = default;
  ~Process() { Stop(); }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  bool Start(const std::vector<std::string>& argv, const std::string& log_path);
  void Stop();
  bool Running();

 private:
  pid_t pid_ = -1;
};

// redis-server on a free port, no persistence; `extra` are more arguments.
class RedisServer {
 public:
  explicit RedisServer(const std::vector<std::string>& extra = {});
  bool ok() const { return ok_; }
  int port() const { return port_; }

 private:
  int port_;
  bool ok_ = false;
  Process process_;
};

// //:proxy on a YAML config; waits until `listen_port` accepts.
class ProxyProcess {
 public:
  ProxyProcess(const std::string& yaml, int listen_port);
  bool ok() const { return ok_; }
  std::string Log() const;

 private:
  bool ok_ = false;
  std::string log_path_;
  Process process_;
};

// A blocking TCP client with a receive timeout.
class Client {
 public:
  explicit Client(int port, std::chrono::milliseconds timeout = std::chrono::milliseconds(15000));
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool Send(absl::string_view bytes);
  // One complete RESP reply, or "" on timeout or close.
  std::string ReadReply();
  std::string Command(const std::vector<std::string>& args);
  // True when the peer closes (EOF or reset) within the timeout; bytes read meanwhile are kept.
  bool WaitForClose();

 private:
  bool Fill();
  int fd_ = -1;
  std::string buffer_;
};

// RESP encoding of a command.
std::string Resp(const std::vector<std::string>& args);
// Length of the first complete RESP2 reply in `data`, 0 when incomplete.
size_t RespLength(absl::string_view data);

}  // namespace proxy::test::safety

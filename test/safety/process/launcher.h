// A //:proxy child process for the process-level safety tests, started through /bin/sh so that
// its limits (open files, core size) can be set first; exec keeps the pid. Unlike the shared
// harness's Process it reports how the child ended (exit code or signal).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace proxy::test {

struct LaunchOptions {
  // ulimit -Sn / -Hn for the child; 0 leaves the limit as it is.
  int soft_nofile = 0;
  int hard_nofile = 0;
};

class ProxyChild {
 public:
  ProxyChild() = default;
  ~ProxyChild();
  ProxyChild(const ProxyChild&) = delete;
  ProxyChild& operator=(const ProxyChild&) = delete;

  // Starts the proxy with `args` (after the binary), stdout/stderr appended to `log_path`, core
  // dumps off.
  bool Start(const std::vector<std::string>& args, const std::string& log_path,
             const LaunchOptions& options = LaunchOptions());
  pid_t pid() const { return pid_; }
  // True while the child has not ended (reaps it when it has).
  bool Running();
  // Waits up to `timeout` for the child to end; false if it is still running.
  bool WaitExit(std::chrono::milliseconds timeout);
  // After the child ended: its waitpid status.
  int status() const { return status_; }
  void Signal(int signo);
  // SIGTERM, then SIGKILL after `grace`; waits for the end.
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(10000));

 private:
  pid_t pid_ = -1;
  int status_ = 0;
};

// The whole file ("" when missing).
std::string ReadFileText(const std::string& path);
// Polls `path` until it contains `needle` or `timeout` passes.
bool WaitForText(const std::string& path, const std::string& needle,
                 std::chrono::milliseconds timeout);
// CPU time (user + system) used so far by `pid`, in seconds; -1 if unknown.
double CpuSeconds(pid_t pid);

}  // namespace proxy::test

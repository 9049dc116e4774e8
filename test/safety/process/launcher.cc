// A //:proxy child process for the process-level safety tests.
#include "test/safety/process/launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "test/integration/harness.h"

namespace proxy::test {

ProxyChild::~ProxyChild() { Stop(); }

bool ProxyChild::Start(const std::vector<std::string>& args, const std::string& log_path,
                       const LaunchOptions& options) {
  std::string script = "ulimit -c 0";
  // Soft first: a hard limit below the current soft one would be refused.
  if (options.soft_nofile > 0) absl::StrAppend(&script, " && ulimit -Sn ", options.soft_nofile);
  if (options.hard_nofile > 0) absl::StrAppend(&script, " && ulimit -Hn ", options.hard_nofile);
  absl::StrAppend(&script, " && exec \"$0\" \"$@\"");
  std::vector<std::string> argv = {"/bin/sh", "-c", script, Runfile("proxy")};
  argv.insert(argv.end(), args.begin(), args.end());
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
    // Only stdio is inherited (the test's own sockets would otherwise count against the limit).
    for (int fd = 3; fd < 1024; ++fd) close(fd);
    std::vector<char*> raw;
    for (const std::string& a : argv) raw.push_back(const_cast<char*>(a.c_str()));
    raw.push_back(nullptr);
    execv(raw[0], raw.data());
    _exit(127);
  }
  return true;
}

bool ProxyChild::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    status_ = status;
    pid_ = -1;
    return false;
  }
  return true;
}

bool ProxyChild::WaitExit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Running()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

void ProxyChild::Signal(int signo) {
  if (pid_ > 0) kill(pid_, signo);
}

void ProxyChild::Stop(std::chrono::milliseconds grace) {
  if (!Running()) return;
  kill(pid_, SIGTERM);
  if (WaitExit(grace)) return;
  kill(pid_, SIGKILL);
  int status = 0;
  if (waitpid(pid_, &status, 0) == pid_) status_ = status;
  pid_ = -1;
}

std::string ReadFileText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool WaitForText(const std::string& path, const std::string& needle,
                 std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (absl::StrContains(ReadFileText(path), needle)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

double CpuSeconds(pid_t pid) {
  const std::string stat = ReadFileText(absl::StrCat("/proc/", pid, "/stat"));
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
  std::vector<std::string> fields = absl::StrSplit(stat.substr(paren + 2), ' ');
  if (fields.size() < 13) return -1;
  int64_t utime = 0;
  int64_t stime = 0;
  if (!absl::SimpleAtoi(fields[11], &utime) || !absl::SimpleAtoi(fields[12], &stime)) return -1;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace proxy::test

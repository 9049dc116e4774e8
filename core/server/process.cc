// Process-level safety: the pid file, the open-files limit and the crash handler.
#include "core/server/process.h"

#include <execinfo.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/debugging/symbolize.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/common/log.h"

namespace proxy {
namespace {

// Logs and prints a pid-file refusal (it happens before the proxy serves: the operator is
// usually watching stderr).
void PidFileError(const std::string& message) {
  PROXY_LOG(log::kError, "%s", message);
  std::fprintf(stderr, "%s\n", message.c_str());
}

// The pid in `fd`'s file (read from the start), or 0 when it holds none.
pid_t ReadPid(int fd) {
  char buffer[32] = {};
  const ssize_t n = pread(fd, buffer, sizeof(buffer) - 1, 0);
  if (n <= 0) return 0;
  absl::string_view text(buffer, static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  int pid = 0;
  if (!absl::SimpleAtoi(text, &pid) || pid <= 0) return 0;
  return static_cast<pid_t>(pid);
}

bool Alive(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

// twemproxy's names: "signal 11 (SEGV) received".
const char* SignalName(int signo) {
  switch (signo) {
    case SIGSEGV:
      return "SEGV";
    case SIGBUS:
      return "BUS";
    case SIGFPE:
      return "FPE";
    case SIGILL:
      return "ILL";
    case SIGABRT:
      return "ABRT";
    default:
      return "?";
  }
}

constexpr int kCrashSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
// The first crashing thread reports; any other one waits for the process to die.
std::atomic<bool> g_crashing{false};
// Room to run the handler on after a stack overflow (main thread).
constexpr size_t kAltStackSize = 64 * 1024;
// Frames of a crash report: deeper stacks are recursion, whose first frames say it all.
constexpr int kMaxCrashFrames = 64;
// The pid file is written by us and read by anyone's scripts (kill $(cat ...)).
constexpr mode_t kPidFileMode = 0644;

void AppendText(char* line, size_t* used, size_t capacity, const char* text) {
  while (*text != '\0' && *used + 1 < capacity) line[(*used)++] = *text++;
}

// Async-signal-safe formatting of a number in `base` (10 or 16).
void AppendNumber(char* line, size_t* used, size_t capacity, uintptr_t value, unsigned base) {
  char digits[24];
  size_t n = 0;
  do {
    const unsigned d = static_cast<unsigned>(value % base);
    digits[n++] = static_cast<char>(d < 10 ? '0' + d : 'a' + d - 10);
    value /= base;
  } while (value != 0 && n < sizeof(digits));
  while (n > 0 && *used + 1 < capacity) line[(*used)++] = digits[--n];
}

void CrashHandler(int signo, siginfo_t* /*info*/, void* /*context*/) {
  if (g_crashing.exchange(true)) {
    for (;;) pause();  // another thread is reporting; it ends the process
  }
  char line[512];
  size_t used = 0;
  AppendText(line, &used, sizeof(line), "signal ");
  AppendNumber(line, &used, sizeof(line), static_cast<uintptr_t>(signo), 10);
  AppendText(line, &used, sizeof(line), " (");
  AppendText(line, &used, sizeof(line), SignalName(signo));
  AppendText(line, &used, sizeof(line), ") received, core dumping\n");
  log::WriteRaw(line, used);
  // The stack through the signal frame (libgcc's unwinder reads the CFI, so frames of code
  // built without frame pointers, like libc's, are followed too), symbolized by abseil.
  void* frames[kMaxCrashFrames];
  const int count = backtrace(frames, kMaxCrashFrames);
  for (int i = 0; i < count; ++i) {
    used = 0;
    const uintptr_t pc = reinterpret_cast<uintptr_t>(frames[i]);
    AppendText(line, &used, sizeof(line), "    @ 0x");
    AppendNumber(line, &used, sizeof(line), pc, 16);
    AppendText(line, &used, sizeof(line), "  ");
    char symbol[256];
    // Return addresses point after the call: look up the call itself.
    if (absl::Symbolize(reinterpret_cast<void*>(i > 0 ? pc - 1 : pc), symbol, sizeof(symbol))) {
      AppendText(line, &used, sizeof(line), symbol);
    } else {
      AppendText(line, &used, sizeof(line), "(unknown)");
    }
    AppendText(line, &used, sizeof(line), "\n");
    log::WriteRaw(line, used);
  }
  // The default action: terminate with this signal (and a core dump where enabled).
  signal(signo, SIG_DFL);
  sigset_t unblock;
  sigemptyset(&unblock);
  sigaddset(&unblock, signo);
  pthread_sigmask(SIG_UNBLOCK, &unblock, nullptr);
  raise(signo);
  _exit(128 + signo);  // not reached; the shell's code for "killed by signo"
}

}  // namespace

long RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    PROXY_LOG(log::kWarn, "getrlimit(RLIMIT_NOFILE) failed: %s", std::strerror(errno));
    return -1;
  }
  const rlim_t before = limit.rlim_cur;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      PROXY_LOG(log::kWarn, "raising the open files limit from %d to %d failed: %s",
                static_cast<long long>(before), static_cast<long long>(limit.rlim_max),
                std::strerror(errno));
      limit.rlim_cur = before;
    }
  }
  PROXY_LOG(log::kNotice, "max fds %d (soft limit of open files, was %d; hard limit %d)",
            static_cast<long long>(limit.rlim_cur), static_cast<long long>(before),
            static_cast<long long>(limit.rlim_max));
  return static_cast<long>(limit.rlim_cur);
}

PidFile::~PidFile() { Remove(); }

void PidFile::Release() {
  if (fd_ >= 0) close(fd_);  // drops the flock
  fd_ = -1;
}

bool PidFile::Create(const std::string& path, pid_t predecessor) {
  // O_NOFOLLOW: a symlink planted at `path` is refused, never followed. O_NONBLOCK: a FIFO
  // there does not hang us. No O_TRUNC: a live instance's file is read before it is replaced.
  const int fd =
      open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, kPidFileMode);
  if (fd < 0) {
    if (errno == ELOOP) {
      PidFileError(absl::StrCat("pid file '", path,
                                "' is a symbolic link: refusing to follow it; remove it or "
                                "give the real path"));
    } else {
      PidFileError(absl::StrCat("opening pid file '", path, "' failed: ", std::strerror(errno)));
    }
    return false;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    PidFileError(absl::StrCat("pid file '", path, "' is not a regular file: refusing to use it"));
    close(fd);
    return false;
  }
  // A hard link would make us truncate and write another file (O_NOFOLLOW cannot see it).
  if (st.st_nlink != 1) {
    PidFileError(absl::StrCat("pid file '", path, "' has ", st.st_nlink,
                              " hard links: refusing to write through them"));
    close(fd);
    return false;
  }
  const pid_t self = getpid();
  const pid_t other = ReadPid(fd);
  const bool locked = flock(fd, LOCK_EX | LOCK_NB) == 0;
  if (!locked || (other != 0 && other != self && other != predecessor && Alive(other))) {
    PidFileError(absl::StrCat(
        "pid file '", path, "' names process ", other,
        ", which is still running: another instance is using this pid file (and probably its "
        "ports); stop it first or give this one another --pid-file"));
    close(fd);
    return false;
  }
  const std::string text = std::to_string(self);
  if (ftruncate(fd, 0) != 0 ||
      pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    PidFileError(absl::StrCat("writing pid file '", path, "' failed: ", std::strerror(errno)));
    close(fd);
    return false;
  }
  fchmod(fd, kPidFileMode);  // whatever the umask was
  path_ = path;
  fd_ = fd;
  return true;
}

void PidFile::Remove() {
  if (fd_ < 0) return;
  // Compare what is at the path now (it may have been replaced) with our pid.
  const int fd = open(path_.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0) {
    const pid_t holder = ReadPid(fd);
    close(fd);
    if (holder == getpid()) {
      unlink(path_.c_str());
    } else {
      PROXY_LOG(log::kWarn, "pid file '%s' now holds pid %d, not ours: left in place", path_,
                static_cast<int>(holder));
    }
  }
  close(fd_);
  fd_ = -1;
}

void InstallCrashHandler(const char* argv0) {
  absl::InitializeSymbolizer(argv0);
  // backtrace() loads libgcc's unwinder on its first call: do that now, not inside a handler.
  void* warm[2];
  backtrace(warm, 2);
  static char* alt_stack = new char[kAltStackSize];
  stack_t stack{};
  stack.ss_sp = alt_stack;
  stack.ss_size = kAltStackSize;
  sigaltstack(&stack, nullptr);
  for (int signo : kCrashSignals) {
    struct sigaction action {};
    action.sa_sigaction = &CrashHandler;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    sigaction(signo, &action, nullptr);
  }
}

}  // namespace proxy

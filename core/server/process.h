// Process-level safety: the pid file, the open-files limit and the crash handler.
#pragma once

#include <sys/types.h>

#include <string>

namespace proxy {

// Raises the soft RLIMIT_NOFILE to the hard limit and logs the figure ("max fds N"); returns the
// soft limit now in force.
long RaiseFileLimit();

// The pid file of a running proxy, held from start to exit.
class PidFile {
 public:
  PidFile() = default;
  ~PidFile();
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;

  // Creates or takes over `path` and writes our pid in it (twemproxy's format: no newline, mode
  // 0644). Refused (false, with the reason logged and printed to stderr): `path` is a symlink
  // (never followed), not a regular file, or a file with several hard links; another proxy
  // holds it (an flock on it) or it names another live process (a second instance on the same
  // pid file).
  // `predecessor`: the process this one took over in a binary upgrade (it released the file
  // and is still draining): its pid in the file does not count as another instance.
  bool Create(const std::string& path, pid_t predecessor = 0);
  // Lets go of the file without removing it: a successor (binary upgrade) takes it over.
  void Release();
  // Unlinks the file if it still holds our pid (another instance may have replaced it).
  void Remove();

 private:
  std::string path_;
  int fd_ = -1;  // kept open: its flock marks the file as ours while we run
};

// Installs the failure signal handler for SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT: it logs
// "signal 11 (SEGV) received, core dumping" (twemproxy's wording) and the stack trace, one
// "    @ 0x<pc>  <symbol>" line per frame (glibc's backtrace() through the signal frame,
// symbolized by abseil's async-signal-safe symbolizer), then the signal's default action runs
// (termination by that signal, with a core dump where enabled). The main thread gets an
// alternate signal stack so that a stack overflow is reported too. `argv0` finds the binary
// for symbols.
void InstallCrashHandler(const char* argv0);

}  // namespace proxy

// Log sink shared by all threads.
#include "core/common/log.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <mutex>

namespace proxy::log {
namespace {

std::atomic<int> g_level{kNotice};
std::atomic<int> g_fd{STDERR_FILENO};
std::mutex g_mu;
std::string g_path;

}  // namespace

bool Init(int level, const std::string& path) {
  SetLevel(level);
  std::lock_guard<std::mutex> lock(g_mu);
  g_path = path;
  if (path.empty()) {
    g_fd = STDERR_FILENO;
    return true;
  }
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  g_fd = fd;
  return true;
}

bool Reopen() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_path.empty()) return true;
  const int fd = open(g_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  const int current = g_fd.load();
  if (current == STDERR_FILENO) {
    g_fd = fd;  // never replace stderr itself
    return true;
  }
  // Atomically re-points `current` at the new file: no moment where it is closed.
  int rc;
  do {
    rc = dup3(fd, current, O_CLOEXEC);
  } while (rc < 0 && errno == EINTR);
  const int error = errno;
  close(fd);
  errno = error;
  return rc >= 0;
}

void WriteRaw(const char* data, size_t size) {
  const int fd = g_fd.load();
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void SetLevel(int level) {
  if (level < 0) level = 0;
  if (level > 11) level = 11;
  g_level = level;
}

int GetLevel() { return g_level; }

bool Enabled(int level) { return level <= g_level.load(std::memory_order_relaxed); }

void Write(const char* file, int line, const std::string& message) {
  timeval tv;
  gettimeofday(&tv, nullptr);
  tm local;
  localtime_r(&tv.tv_sec, &local);
  char stamp[32];
  strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &local);
  const char* base = std::strrchr(file, '/');
  std::string out = absl::StrFormat("[%s.%03d] %s:%d %s\n", stamp,
                                    static_cast<int>(tv.tv_usec / 1000),
                                    base != nullptr ? base + 1 : file, line, message);
  ssize_t ignored = write(g_fd.load(), out.data(), out.size());
  (void)ignored;
}

}  // namespace proxy::log

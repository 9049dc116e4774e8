// twemproxy-style logging: levels 0..11, "[YYYY-MM-DD HH:MM:SS.mmm] file:line message" lines to
// stderr or a file (-o), reopened on SIGHUP, level changed by SIGTTIN/SIGTTOU.
#pragma once

#include <atomic>
#include <string>

#include "absl/strings/str_format.h"

namespace proxy::log {

enum Level : int {
  kEmerg = 0,
  kAlert = 1,
  kCrit = 2,
  kError = 3,
  kWarn = 4,
  kNotice = 5,
  kInfo = 6,
  kDebug = 7,
  kVerb = 8,
};

// Opens `path` in append mode (empty = stderr). False with errno set on failure.
bool Init(int level, const std::string& path);
// Reopens the log file (logrotate); no-op for stderr. The new file is opened first and put in
// place of the old one with dup3() on the same descriptor number, so a thread writing at that
// moment never writes into a descriptor that was closed and reused for something else.
// False (errno set) when the file could not be opened: logging goes on to the old file.
bool Reopen();
// Async-signal-safe: writes `size` bytes as they are to the log (no timestamp, no lock).
void WriteRaw(const char* data, size_t size);
void SetLevel(int level);
int GetLevel();
bool Enabled(int level);
// Writes one line (thread-safe: one write(2) per line).
void Write(const char* file, int line, const std::string& message);

}  // namespace proxy::log

#define PROXY_LOG(level, ...)                                                            \
  do {                                                                                   \
    if (::proxy::log::Enabled(level)) {                                                  \
      ::proxy::log::Write(__FILE__, __LINE__, ::absl::StrFormat(__VA_ARGS__));           \
    }                                                                                    \
  } while (0)

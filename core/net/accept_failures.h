// What a listener does when accept() fails for want of resources, for the two side listeners
// served by one thread each (the admin endpoint, the stats port): pause accepting for a moment
// (the connection waits in the backlog) and log at most one line per interval, with the count.
#pragma once

#include <cstdint>

namespace proxy {

// Out of descriptors or kernel memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): the proxy's own lack,
// not the peer's fault. Accepting again at once would fail the same way, and a failed connect
// says nothing about the server. Any other error concerns the one connection (the peer left
// first: ECONNABORTED...) and the next accept may well succeed.
bool IsLocalResourceError(int error);

class AcceptFailureLog {
 public:
  // Long enough for a burst of closes to free descriptors, short enough that a client behind
  // the pause only sees a slow connect.
  static constexpr int kPauseMs = 100;
  // One line per interval however fast accepts fail: the log must not become the next thing to
  // exhaust (disk, or the terminal of an operator watching it).
  static constexpr uint64_t kLogIntervalUs = 5u * 1000 * 1000;

  // Counts a failed accept of listener `who` ("admin", "stats") at `now_us` (wall clock) and
  // logs "<who>: accept failed: <error> (N times in the last interval); pausing accepts" when
  // the last line is kLogIntervalUs old. Not thread-safe: one listener thread calls it.
  void Record(const char* who, int error, uint64_t now_us);

 private:
  uint64_t last_log_us_ = 0;  // the last line, 0 = none yet
  uint64_t failures_ = 0;     // failed accepts since that line
};

}  // namespace proxy

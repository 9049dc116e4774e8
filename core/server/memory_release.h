// Gives free heap back to the kernel after many client connections have closed (issue 15:
// "memory returned after a burst").
//
// RunServer keeps up to 64 MiB of free heap (M_TRIM_THRESHOLD), so that the buffers that come
// and go with every request never fault pages in again. That threshold only trims the top of
// the main heap: after a burst of connections closes, the freed connection objects and buffers
// are holes inside the heaps (the workers' threads allocate from their own arenas), and RSS
// stays at its peak. malloc_trim(0) returns those free pages too (madvise), in every arena.
// It is only called after a real drop in the number of client connections, at most once per
// check period, never per request: in steady state nothing is trimmed and the threshold keeps
// its purpose.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace proxy {

// Client connections as one check sees them: open now, and the most open at any moment since
// the previous check (a burst that opens and closes between two checks still counts).
struct ClientCounts {
  int64_t live = 0;
  int64_t peak = 0;
};

// When to trim, given the client connections seen at each check.
class TrimPolicy {
 public:
  // A drop smaller than this many connections is not worth a trim (a few KiB each).
  static constexpr int64_t kMinDrop = 1024;

  // One check: true when the heap should be trimmed now, i.e. the connections fell by at least
  // kMinDrop and to at most half of the most seen since the last trim. Steady churn (clients
  // that come and go at a stable count) never trims.
  bool Check(ClientCounts counts) {
    if (counts.peak > peak_) peak_ = counts.peak;
    if (counts.live > peak_) peak_ = counts.live;
    if (peak_ - counts.live < kMinDrop || counts.live > peak_ / 2) return false;
    peak_ = counts.live;
    return true;
  }

 private:
  int64_t peak_ = 0;
};

// A thread that checks once per `period_ms` (TrimPolicy) and trims. Stopped and joined by the
// destructor.
class MemoryReleaser {
 public:
  // `counts`: the client connections now (ClientCounts); `trim`: malloc_trim(0) (tests count).
  explicit MemoryReleaser(std::function<ClientCounts()> counts,
                          std::function<void()> trim = nullptr, int period_ms = 1000);
  ~MemoryReleaser();
  MemoryReleaser(const MemoryReleaser&) = delete;
  MemoryReleaser& operator=(const MemoryReleaser&) = delete;

 private:
  void Run();

  std::function<ClientCounts()> counts_;
  std::function<void()> trim_;
  const int period_ms_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace proxy

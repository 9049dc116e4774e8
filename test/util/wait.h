// Waiting on a condition with a deadline: the one polling helper of the end-to-end tests. A test
// that needs another process or thread to get somewhere (a port answers, a counter moves, a log
// line appears) waits for exactly that, never for a fixed time that assumes how long it takes.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace proxy::test {

// Calls `done` until it returns true or `timeout` has passed, sleeping `every` between calls; true
// when `done` returned true. `done` runs at least once, and its last call is at the deadline or
// after it, so a condition that becomes true just in time is still seen.
inline bool WaitUntil(const std::function<bool()>& done,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(10000),
                      std::chrono::milliseconds every = std::chrono::milliseconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
  return true;
}

}  // namespace proxy::test

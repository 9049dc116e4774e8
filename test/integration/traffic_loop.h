// A client thread that keeps writing and reading its keys through the proxy while a test kills
// and restarts a backend, recording every reply with the phase it was sent and answered in.
// Shared by the redis and memcache failure tests; the protocol lives in the Step they pass.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/string_view.h"
#include "test/integration/harness.h"

namespace proxy::test {

enum Phase { kBeforeKill = 0, kKilled = 1, kRestarted = 2 };

struct Outcome {
  int phase_sent;
  int phase_done;
  bool victim;  // the key belongs to the killed backend
  std::string command;
  std::string key;
  std::string reply;
  bool ok;
};

class TrafficLoop {
 public:
  // One turn on one key: the step sends its commands, sampling `phase()` before each and
  // passing every reply to `record`, which returns false when the connection broke (then the
  // loop ends).
  struct Turn {
    Client& client;
    const std::string& key;
    const std::string& value;  // unique per round and key
    std::function<int()> phase;
    std::function<bool(int sent, const char* command, const std::string& reply, bool ok)> record;
  };
  using Step = std::function<bool(Turn& turn)>;

  TrafficLoop(int port, std::vector<std::string> keys, std::vector<bool> victim,
              const std::atomic<int>& phase, Step step);
  ~TrafficLoop() { Stop(); }

  void Start();
  void Stop();
  // Outcomes for keys of the victim or not, sent in `phase_sent`, ok or not (and with exactly
  // `reply` when given).
  int Count(bool victim, int phase_sent, bool ok, absl::string_view reply = "");
  bool broken() const { return broken_; }
  std::vector<Outcome> outcomes();

 private:
  void Run();

  const int port_;
  const std::vector<std::string> keys_;
  const std::vector<bool> victim_;
  const std::atomic<int>& phase_;
  const Step step_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> broken_{false};
  std::mutex mu_;
  std::vector<Outcome> outcomes_;
  std::thread thread_;
};

}  // namespace proxy::test

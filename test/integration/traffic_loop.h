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
#include "gtest/gtest.h"
#include "test/integration/backend_pools.h"
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

// The keys of a kill drill over the golden vectors' `combo` with server `victim` killed: `mixed`
// has 12 keys of each server (`mixed_victim` marks the victim's), `live` 24 keys of the other
// servers, and two probe keys that the traffic does not touch, one of the victim and one of
// another server. All distinct; only keys `accept` takes when it is given.
struct DrillKeys {
  std::vector<std::string> mixed;
  std::vector<bool> mixed_victim;
  std::vector<std::string> live;
  std::string victim_probe;
  std::string live_probe;
  // Success when every list is full and both probes were found.
  ::testing::AssertionResult Complete() const;
};
DrillKeys PickDrillKeys(const Combination& combo, int victim,
                        bool (*accept)(absl::string_view) = nullptr);

// A backend killed and restarted under traffic, as the redis and memcache failure tests run it:
// `mixed` writes keys of every backend (`mixed_victim` marks those of the backend the test
// kills), `live` disjoint keys of the other backends only (DrillKeys). The test kills and restarts
// the backend; the drill moves the phase and waits for each stage on the outcomes.
class KillDrill {
 public:
  // The replies of the protocol for a refused connection and for requests in flight at the
  // kill (reset, or unknown when the connection closed without an error).
  struct FailureReplies {
    absl::string_view refused;
    absl::string_view reset;
    absl::string_view unknown;
  };

  KillDrill(int port, const DrillKeys& keys, TrafficLoop::Step step, FailureReplies replies);

  // Starts both clients; true once each had 48 successes (false when a connection broke first
  // or after 10 s).
  bool StartAndWaitWorking();
  // Before the test kills the backend: the phase changes first, so that a failure recorded as
  // "before the kill" really is one. Then true once the victim's keys were refused 24 times
  // while the other keys succeeded 48 times in each client.
  void Killing() { phase_ = kKilled; }
  bool WaitFailedOver();
  // After the test restarted the backend: true once the victim's keys and the live client
  // succeeded 24 times each again.
  void Restarted() { phase_ = kRestarted; }
  bool WaitRecovered();
  // Stops both clients and checks every outcome (test failures, the first 10 described): no
  // connection broke, the live client never failed, and only the victim's keys failed, only
  // while it was down: refused, or reset/unknown for the (at most 2) requests in flight at the
  // kill; at least 24 of them.
  void StopAndCheck();

  TrafficLoop& mixed() { return mixed_; }

 private:
  bool Broken() { return mixed_.broken() || live_.broken(); }

  const FailureReplies replies_;
  std::atomic<int> phase_{kBeforeKill};
  TrafficLoop mixed_;
  TrafficLoop live_;
};

}  // namespace proxy::test

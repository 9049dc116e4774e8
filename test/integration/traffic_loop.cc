// TrafficLoop: the client thread and its outcome log.
#include "test/integration/traffic_loop.h"

#include <algorithm>
#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace proxy::test {

TrafficLoop::TrafficLoop(int port, std::vector<std::string> keys, std::vector<bool> victim,
                         const std::atomic<int>& phase, Step step)
    : port_(port),
      keys_(std::move(keys)),
      victim_(std::move(victim)),
      phase_(phase),
      step_(std::move(step)) {}

void TrafficLoop::Start() {
  thread_ = std::thread([this] { Run(); });
}

void TrafficLoop::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

int TrafficLoop::Count(bool victim, int phase_sent, bool ok, absl::string_view reply) {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const Outcome& o : outcomes_) {
    if (o.victim == victim && o.phase_sent == phase_sent && o.ok == ok &&
        (reply.empty() || o.reply == reply)) {
      ++n;
    }
  }
  return n;
}

std::vector<Outcome> TrafficLoop::outcomes() {
  std::lock_guard<std::mutex> lock(mu_);
  return outcomes_;
}

void TrafficLoop::Run() {
  Client client(port_, std::chrono::milliseconds(5000));
  if (!client.connected()) {
    broken_ = true;
    return;
  }
  for (int round = 0; !stop_; ++round) {
    for (size_t i = 0; i < keys_.size() && !stop_; ++i) {
      const std::string value = absl::StrCat("r", round, "-", i);
      const bool victim = victim_[i];
      const std::string& key = keys_[i];
      Turn turn{client, key, value, [this] { return phase_.load(); },
                [&](int sent, const char* command, const std::string& reply, bool ok) {
                  std::lock_guard<std::mutex> lock(mu_);
                  outcomes_.push_back(
                      Outcome{sent, phase_.load(), victim, command, key, reply, ok});
                  if (reply.empty()) broken_ = true;
                  return !reply.empty();
                }};
      if (!step_(turn)) return;
    }
  }
}

::testing::AssertionResult DrillKeys::Complete() const {
  const auto victims = std::count(mixed_victim.begin(), mixed_victim.end(), true);
  if (victims == 12 && mixed.size() == 36 && live.size() == 24 && !victim_probe.empty() &&
      !live_probe.empty()) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "not enough keys: " << mixed.size() << " mixed (" << victims << " of the victim), "
         << live.size() << " live, probes '" << victim_probe << "' and '" << live_probe << "'";
}

DrillKeys PickDrillKeys(const Combination& combo, int victim, bool (*accept)(absl::string_view)) {
  DrillKeys keys;
  std::map<int, int> per_owner;
  for (size_t r = 0; r < combo.rows.size(); ++r) {
    const auto& [key, owner] = combo.rows[r];
    if (accept != nullptr && !accept(key)) continue;
    if (r % 3 == 0 && per_owner[owner] < 12) {
      ++per_owner[owner];
      keys.mixed.push_back(key);
      keys.mixed_victim.push_back(owner == victim);
    } else if (r % 3 == 1 && owner != victim && keys.live.size() < 24) {
      keys.live.push_back(key);
    } else if (r % 3 == 2 && owner == victim && keys.victim_probe.empty()) {
      keys.victim_probe = key;
    } else if (r % 3 == 2 && owner != victim && keys.live_probe.empty()) {
      keys.live_probe = key;
    }
  }
  return keys;
}

KillDrill::KillDrill(int port, const DrillKeys& keys, TrafficLoop::Step step,
                     FailureReplies replies)
    : replies_(replies),
      mixed_(port, keys.mixed, keys.mixed_victim, phase_, step),
      live_(port, keys.live, std::vector<bool>(keys.live.size(), false), phase_, step) {}

bool KillDrill::StartAndWaitWorking() {
  mixed_.Start();
  live_.Start();
  return WaitUntil([&] {
           return Broken() || (mixed_.Count(true, kBeforeKill, true) >= 48 &&
                               live_.Count(false, kBeforeKill, true) >= 48);
         }) &&
         !Broken();
}

bool KillDrill::WaitFailedOver() {
  return WaitUntil([&] {
    return Broken() ||
           (mixed_.Count(true, kKilled, false, replies_.refused) >= 24 &&
            mixed_.Count(false, kKilled, true) >= 48 && live_.Count(false, kKilled, true) >= 48);
  });
}

bool KillDrill::WaitRecovered() {
  return WaitUntil([&] {
    return Broken() || (mixed_.Count(true, kRestarted, true) >= 24 &&
                        live_.Count(false, kRestarted, true) >= 24);
  });
}

void KillDrill::StopAndCheck() {
  mixed_.Stop();
  live_.Stop();
  EXPECT_FALSE(mixed_.broken()) << "a client connection stopped answering";
  EXPECT_FALSE(live_.broken()) << "a client connection stopped answering";
  int reported = 0;
  auto report = [&](const Outcome& o, absl::string_view why) {
    if (++reported <= 10) {
      ADD_FAILURE() << why << ": " << o.command << " '" << o.key << "' sent in phase "
                    << o.phase_sent << ", done in phase " << o.phase_done << ", reply \""
                    << absl::CHexEscape(o.reply.substr(0, 80)) << "\" (" << o.reply.size()
                    << " bytes)";
    }
  };
  for (const Outcome& o : live_.outcomes()) {
    if (!o.ok) report(o, "a client with keys on live servers only saw a failure");
  }
  bool seen_refused = false;
  int in_flight_errors = 0;
  int victim_errors = 0;
  for (const Outcome& o : mixed_.outcomes()) {
    if (o.ok) continue;
    if (!o.victim) {
      report(o, "a key of a live server failed");
    } else if (o.phase_done == kBeforeKill || o.phase_sent == kRestarted) {
      report(o, "a key of the victim failed while it was up");
    } else if (o.reply == replies_.refused) {
      seen_refused = true;
      ++victim_errors;
    } else if ((o.reply == replies_.reset || o.reply == replies_.unknown) && !seen_refused) {
      ++in_flight_errors;  // in flight on the old connection at the kill moment
      ++victim_errors;
    } else {
      report(o, "unexpected failure of a victim key");
    }
  }
  EXPECT_LE(in_flight_errors, 2) << "more requests failed as in flight than one client can have";
  EXPECT_GE(victim_errors, 24);
}

}  // namespace proxy::test

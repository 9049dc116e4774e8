// TrafficLoop: the client thread and its outcome log.
#include "test/integration/traffic_loop.h"

#include "absl/strings/str_cat.h"

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

}  // namespace proxy::test

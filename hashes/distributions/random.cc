// The random distribution plugin: ignores the key and picks a live server uniformly, as "random".
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "api/distribution.h"
#include "api/registry.h"
#include "hashes/distributions/endpoints.h"

namespace proxy::hashes {
namespace {

// SplitMix64 step: a tiny, fast generator with good statistical quality.
uint64_t NextRandom(uint64_t& state) {
  state += 0x9e3779b97f4a7c15;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

// Per-thread seed: wall-clock time (like twemproxy's srandom(time(NULL))) mixed with the thread
// id so that workers started together do not draw the same sequence.
uint64_t ThreadSeed() {
  const auto now =
      static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  const auto thread =
      static_cast<uint64_t>(std::hash<std::thread::id>()(std::this_thread::get_id()));
  return now ^ (thread * 0x9e3779b97f4a7c15);
}

// One slot per live server, weights ignored (as in twemproxy). The generator state is
// thread_local, so Select is lock-free and thread-safe.
class RandomDistribution final : public Distribution {
 public:
  explicit RandomDistribution(uint32_t server_count) : server_count_(server_count) {}

  uint32_t Select(uint32_t /*hash*/) const override {
    thread_local uint64_t state = ThreadSeed();
    // Multiply-shift maps the top 32 random bits onto [0, server_count_) without division.
    return static_cast<uint32_t>(((NextRandom(state) >> 32) * server_count_) >> 32);
  }

  DistributionLayout Layout() const override {
    DistributionLayout layout;
    layout.kind = DistributionLayout::Kind::kRandom;
    return layout;
  }

 private:
  uint64_t server_count_;
};

class RandomFactory final : public DistributionFactory {
 public:
  absl::string_view Name() const override { return "random"; }
  absl::string_view Description() const override {
    return "ignores the key; picks a live server uniformly at random (weights ignored)";
  }
  absl::StatusOr<DistributionPtr> Build(absl::Span<const Endpoint> live) const override {
    uint32_t total_weight = 0;
    absl::Status status = ValidateEndpoints("random", live, &total_weight);
    if (!status.ok()) {
      return status;
    }
    return std::make_unique<RandomDistribution>(static_cast<uint32_t>(live.size()));
  }
};

}  // namespace

PROXY_REGISTER_FACTORY(RandomFactory, ::proxy::DistributionFactory)

}  // namespace proxy::hashes

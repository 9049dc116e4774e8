// The modula distribution plugin: hash mod total weight over weight-repeated slots, as "modula".
#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "api/distribution.h"
#include "api/registry.h"
#include "hashes/distributions/endpoints.h"

namespace proxy::hashes {
namespace {

// twemproxy lists each live server's index `weight` times, in order, and picks
// slots[hash % slot_count]. Storing the running weight totals instead gives the same answer
// with one binary search and without materialising huge slot arrays for big weights.
class ModulaDistribution final : public Distribution {
 public:
  explicit ModulaDistribution(std::vector<uint32_t> slot_ends)
      : slot_ends_(std::move(slot_ends)), unit_weights_(slot_ends_.back() == slot_ends_.size()) {}

  uint32_t Select(uint32_t hash) const override {
    const uint32_t slot = hash % slot_ends_.back();
    if (unit_weights_) {
      return slot;
    }
    // The server whose slot range [previous end, end) contains `slot`.
    return static_cast<uint32_t>(std::upper_bound(slot_ends_.begin(), slot_ends_.end(), slot) -
                                 slot_ends_.begin());
  }

  DistributionLayout Layout() const override {
    DistributionLayout layout;
    layout.kind = DistributionLayout::Kind::kModulo;
    layout.slot_ends = slot_ends_;
    return layout;
  }

 private:
  std::vector<uint32_t> slot_ends_;  // slot_ends_[i] = sum of weights 0..i; non-empty
  bool unit_weights_;                // every weight is 1: slot == server index
};

class ModulaFactory final : public DistributionFactory {
 public:
  absl::string_view Name() const override { return "modula"; }
  absl::string_view Description() const override {
    return "hash modulo the total weight; each server owns `weight` consecutive slots";
  }
  absl::StatusOr<DistributionPtr> Build(absl::Span<const Endpoint> live) const override {
    uint32_t total_weight = 0;
    absl::Status status = ValidateEndpoints("modula", live, &total_weight);
    if (!status.ok()) {
      return status;
    }
    std::vector<uint32_t> slot_ends;
    slot_ends.reserve(live.size());
    uint32_t end = 0;
    for (const Endpoint& endpoint : live) {
      end += endpoint.weight;
      slot_ends.push_back(end);
    }
    return std::make_unique<ModulaDistribution>(std::move(slot_ends));
  }
};

}  // namespace

PROXY_REGISTER_FACTORY(ModulaFactory, ::proxy::DistributionFactory)

}  // namespace proxy::hashes

// ScopeImpl lookups.
#include "core/proxy/stats.h"

namespace proxy {

Counter& ScopeImpl::CounterFor(absl::string_view name) {
  auto it = counters_.find(name);
  if (it == counters_.end()) {
    std::lock_guard<std::mutex> lock(mu_);
    it = counters_.emplace(std::string(name), std::make_unique<CounterImpl>()).first;
  }
  return *it->second;
}

Gauge& ScopeImpl::GaugeFor(absl::string_view name) {
  auto it = gauges_.find(name);
  if (it == gauges_.end()) {
    std::lock_guard<std::mutex> lock(mu_);
    it = gauges_.emplace(std::string(name), std::make_unique<GaugeImpl>()).first;
  }
  return *it->second;
}

Histogram& ScopeImpl::HistogramFor(absl::string_view name) {
  auto it = histograms_.find(name);
  if (it == histograms_.end()) {
    std::lock_guard<std::mutex> lock(mu_);
    it = histograms_.emplace(std::string(name), std::make_unique<LatencyHistogram>()).first;
  }
  return *it->second;
}

Scope& ScopeImpl::Child(absl::string_view name) {
  auto it = children_.find(name);
  if (it == children_.end()) {
    std::lock_guard<std::mutex> lock(mu_);
    it = children_.emplace(std::string(name), std::make_unique<ScopeImpl>()).first;
  }
  return *it->second;
}

}  // namespace proxy

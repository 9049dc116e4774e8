// InMemoryStats: maps of counters, gauges and child scopes.
#include "test/fakes/in_memory_stats.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace proxy::test {
namespace {

// Finds `name` in `map`, inserting a default-constructed value first when absent.
template <class Value>
Value& FindOrAdd(std::map<std::string, std::unique_ptr<Value>, std::less<>>& map,
                 absl::string_view name) {
  auto it = map.find(name);
  if (it == map.end()) {
    it = map.emplace(std::string(name), std::make_unique<Value>()).first;
  }
  return *it->second;
}

}  // namespace

Counter& InMemoryStats::CounterFor(absl::string_view name) {
  ++lookups_;
  return FindOrAdd(counters_, name);
}

Gauge& InMemoryStats::GaugeFor(absl::string_view name) {
  ++lookups_;
  return FindOrAdd(gauges_, name);
}

Histogram& InMemoryStats::HistogramFor(absl::string_view name) {
  ++lookups_;
  return FindOrAdd(histograms_, name);
}

Scope& InMemoryStats::Child(absl::string_view name) {
  ++lookups_;
  return FindOrAdd(children_, name);
}

void InMemoryStats::Flatten(const std::string& prefix, std::map<std::string, uint64_t>* counters,
                            std::map<std::string, int64_t>* gauges) const {
  for (const auto& [name, counter] : counters_) {
    if (counters != nullptr) {
      (*counters)[prefix + name] = counter->Value();
    }
  }
  for (const auto& [name, gauge] : gauges_) {
    if (gauges != nullptr) {
      (*gauges)[prefix + name] = gauge->Value();
    }
  }
  for (const auto& [name, child] : children_) {
    child->Flatten(absl::StrCat(prefix, name, "."), counters, gauges);
  }
}

std::map<std::string, uint64_t> InMemoryStats::Counters() const {
  std::map<std::string, uint64_t> out;
  Flatten("", &out, nullptr);
  return out;
}

std::map<std::string, int64_t> InMemoryStats::Gauges() const {
  std::map<std::string, int64_t> out;
  Flatten("", nullptr, &out);
  return out;
}

uint64_t InMemoryStats::CounterValue(absl::string_view flat_name) const {
  const std::map<std::string, uint64_t> all = Counters();
  auto it = all.find(std::string(flat_name));
  return it == all.end() ? 0 : it->second;
}

bool InMemoryStats::HasCounter(absl::string_view flat_name) const {
  return Counters().count(std::string(flat_name)) > 0;
}

uint64_t InMemoryStats::Lookups() const {
  uint64_t total = lookups_;
  for (const auto& [name, child] : children_) {
    total += child->Lookups();
  }
  return total;
}

}  // namespace proxy::test

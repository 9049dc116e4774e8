// InMemoryStats: an api::Scope kept in plain maps, so tests can assert counters by name (stats
// are the test oracle) and count how often names are resolved.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "api/stats.h"

namespace proxy::test {

// A counter that is just a number.
class InMemoryCounter final : public Counter {
 public:
  void Add(uint64_t n = 1) override { value_ += n; }
  uint64_t Value() const override { return value_; }

 private:
  uint64_t value_ = 0;
};

// A gauge that is just a number.
class InMemoryGauge final : public Gauge {
 public:
  void Add(int64_t n) override { value_ += n; }
  void Set(int64_t v) override { value_ = v; }
  int64_t Value() const override { return value_; }

 private:
  int64_t value_ = 0;
};

// A histogram that keeps every recorded value.
class InMemoryHistogram final : public Histogram {
 public:
  void Record(uint64_t value_us) override { values_.push_back(value_us); }
  const std::vector<uint64_t>& values() const { return values_; }

 private:
  std::vector<uint64_t> values_;
};

// A tree of scopes. Metric and child names are kept as given; Counters()/Gauges() flatten the
// tree with '.' between a child's name and its metrics ("cmd" + "GET.requests" →
// "cmd.GET.requests"). References stay valid for the life of the root.
class InMemoryStats final : public Scope {
 public:
  InMemoryStats() = default;
  InMemoryStats(const InMemoryStats&) = delete;
  InMemoryStats& operator=(const InMemoryStats&) = delete;

  Counter& CounterFor(absl::string_view name) override;
  Gauge& GaugeFor(absl::string_view name) override;
  Histogram& HistogramFor(absl::string_view name) override;
  Scope& Child(absl::string_view name) override;

  // The histogram `name` of this scope (not flattened), or nullptr.
  const InMemoryHistogram* FindHistogram(absl::string_view name) const {
    auto it = histograms_.find(name);
    return it == histograms_.end() ? nullptr : it->second.get();
  }
  const InMemoryStats* FindChild(absl::string_view name) const {
    auto it = children_.find(name);
    return it == children_.end() ? nullptr : it->second.get();
  }

  // Every counter / gauge of this scope and its children, by flattened name.
  std::map<std::string, uint64_t> Counters() const;
  std::map<std::string, int64_t> Gauges() const;
  // The flattened counter's value; 0 when it was never resolved.
  uint64_t CounterValue(absl::string_view flat_name) const;
  bool HasCounter(absl::string_view flat_name) const;
  // CounterFor + GaugeFor + Child calls in this scope and its children: shows whether callers
  // cache their references instead of resolving names per request.
  uint64_t Lookups() const;

 private:
  void Flatten(const std::string& prefix, std::map<std::string, uint64_t>* counters,
               std::map<std::string, int64_t>* gauges) const;

  std::map<std::string, std::unique_ptr<InMemoryCounter>, std::less<>> counters_;
  std::map<std::string, std::unique_ptr<InMemoryGauge>, std::less<>> gauges_;
  std::map<std::string, std::unique_ptr<InMemoryHistogram>, std::less<>> histograms_;
  std::map<std::string, std::unique_ptr<InMemoryStats>, std::less<>> children_;
  uint64_t lookups_ = 0;
};

}  // namespace proxy::test

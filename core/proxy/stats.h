// twemproxy's pool and server metrics as single-writer counters: each worker owns its copy and
// is the only writer; other threads (the stats server) may read them at any time.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "api/stats.h"

namespace proxy {

// A value written by one thread and read by any: load+store, no locked RMW on the hot path.
class StatValue {
 public:
  void Add(int64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  int64_t Get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

struct PoolStats {
#define PROXY_STAT_FIELD_(name, description) StatValue name;
  PROXY_POOL_STATS(PROXY_STAT_FIELD_, PROXY_STAT_FIELD_)
#undef PROXY_STAT_FIELD_
};

struct ServerStats {
#define PROXY_STAT_FIELD_(name, description) StatValue name;
  PROXY_SERVER_STATS(PROXY_STAT_FIELD_, PROXY_STAT_FIELD_, PROXY_STAT_FIELD_)
#undef PROXY_STAT_FIELD_
};

// api::Scope for filters (per pool, per worker): named counters and gauges in maps. Lookups are
// done once at setup; the references stay valid.
class ScopeImpl : public Scope {
 public:
  Counter& CounterFor(absl::string_view name) override;
  Gauge& GaugeFor(absl::string_view name) override;
  Scope& Child(absl::string_view name) override;

  // Visits every metric: name path (children joined with '.') and value.
  template <class Fn>
  void ForEach(const std::string& prefix, Fn fn) const {
    for (const auto& [name, c] : counters_) fn(prefix + name, static_cast<int64_t>(c->Value()));
    for (const auto& [name, g] : gauges_) fn(prefix + name, g->Value());
    for (const auto& [name, child] : children_) child->ForEach(prefix + name + ".", fn);
  }

 private:
  class CounterImpl : public Counter {
   public:
    void Add(uint64_t n) override { value_.Add(static_cast<int64_t>(n)); }
    uint64_t Value() const override { return static_cast<uint64_t>(value_.Get()); }

   private:
    StatValue value_;
  };
  class GaugeImpl : public Gauge {
   public:
    void Add(int64_t n) override { value_.Add(n); }
    void Set(int64_t v) override { value_.Set(v); }
    int64_t Value() const override { return value_.Get(); }

   private:
    StatValue value_;
  };

  std::map<std::string, std::unique_ptr<CounterImpl>, std::less<>> counters_;
  std::map<std::string, std::unique_ptr<GaugeImpl>, std::less<>> gauges_;
  std::map<std::string, std::unique_ptr<ScopeImpl>, std::less<>> children_;
};

}  // namespace proxy

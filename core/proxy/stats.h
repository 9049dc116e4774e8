// twemproxy's pool and server metrics as single-writer counters: each worker owns its copy and
// is the only writer; other threads (the stats server) may read them at any time.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <vector>

#include "api/stats.h"

namespace proxy {

// The configuration's history (reloads; docs/live-changes.md), written by the thread that
// reloads, read by the admin endpoint.
struct ConfigStats {
  std::atomic<uint64_t> generation{1};  // 1 = the config the process started with
  std::atomic<uint64_t> reloads_succeeded{0};
  std::atomic<uint64_t> reloads_failed{0};
  std::atomic<uint64_t> last_reload_wall_us{0};  // 0 = never reloaded
  std::atomic<bool> last_reload_ok{true};
  // Servers that moved to another address (Sentinel failovers applied).
  std::atomic<uint64_t> failovers{0};
  // Redis Cluster slot maps applied (a topology that differed from the one in force).
  std::atomic<uint64_t> topology_changes{0};
};

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

// Single-writer latency histogram: bucket counts, count and sum, readable from any thread.
class LatencyHistogram : public Histogram {
 public:
  void Record(uint64_t value_us) override {
    size_t i = 0;
    while (i < kLatencyBucketCount - 1 && value_us > kLatencyBucketsUs[i]) ++i;
    buckets_[i].Add(1);
    count_.Add(1);
    sum_us_.Add(static_cast<int64_t>(value_us));
  }
  int64_t bucket(size_t i) const { return buckets_[i].Get(); }
  int64_t count() const { return count_.Get(); }
  int64_t sum_us() const { return sum_us_.Get(); }

 private:
  StatValue buckets_[kLatencyBucketCount];
  StatValue count_;
  StatValue sum_us_;
};

// A plain value written by its owning worker and read by the admin thread: relaxed atomic
// loads and stores (plain moves on x86), no read-modify-write.
template <class T>
class Shared {
 public:
  Shared() = default;
  Shared(T v) : value_(v) {}  // NOLINT: implicit, like the T it stands for
  Shared& operator=(T v) {
    value_.store(v, std::memory_order_relaxed);
    return *this;
  }
  operator T() const { return value_.load(std::memory_order_relaxed); }  // NOLINT
  T operator++() {
    const T v = static_cast<T>(value_.load(std::memory_order_relaxed) + 1);
    value_.store(v, std::memory_order_relaxed);
    return v;
  }

 private:
  std::atomic<T> value_{};
};

struct PoolStats {
#define PROXY_STAT_FIELD_(name, description) StatValue name;
  PROXY_POOL_STATS(PROXY_STAT_FIELD_, PROXY_STAT_FIELD_)
#undef PROXY_STAT_FIELD_
  // Ours (not in the twemproxy JSON): requests over the slow-log threshold.
  StatValue slow_requests;
  // Ours: accept(2) calls that failed for lack of file descriptors or memory (EMFILE, ENFILE,
  // ENOBUFS, ENOMEM); the listener then pauses for a backoff (100 ms doubling to 1 s).
  StatValue accept_refused;
  // Ours: unsupported commands (CommandKind::kUnsupported) that the filter chain let through
  // and the core refused itself (0 when the chain has reject_unsupported).
  StatValue unsupported_refused;
  // Ours: clients closed because their waiting replies (socket queue + replies held for
  // ordering, merged and rewritten ones included) exceeded --client-output-limit.
  StatValue client_output_overflow;
  // Ours: clients that hung up (EOF) with requests still pending and were closed after the
  // grace period or a failed write instead of when their last reply went out.
  StatValue client_eof_pending;
  // Ours: times a client stopped being read because a server connection it sends to had more
  // than ProxyLimits::max_server_unsent_bytes unwritten (backpressure).
  StatValue server_backpressure;
  // Ours: valid requests the proxy refused (unsupported commands, a filter's refusal, a
  // session's refusal, a transaction's key on another server); per command in the pool scope's
  // "refused" child, exported on /metrics as shardproxy_refused_total.
  StatValue refused;
  // Ours: Redis Cluster redirections (-MOVED/-ASK) followed by resending the request.
  StatValue redirects;
  // Ours: TLS handshakes with clients that failed (`tls:` pools; docs/tls.md): no or a bad
  // client certificate, a client that does not trust the proxy's, not TLS at all...
  StatValue tls_handshake_failed;
};

struct ServerStats {
#define PROXY_STAT_FIELD_(name, description) StatValue name;
  PROXY_SERVER_STATS(PROXY_STAT_FIELD_, PROXY_STAT_FIELD_, PROXY_STAT_FIELD_)
#undef PROXY_STAT_FIELD_
  // Time from a request being queued on a server connection to its reply (not in the
  // twemproxy JSON; exported on /metrics).
  LatencyHistogram latency;
};

// api::Scope for filters (per pool, per worker): named counters, gauges and histograms. Only the
// owning worker creates metrics (rarely: filters cache references); other threads (the admin
// endpoint) read them. Creation and foreign reads take `mu_`; the owner's lookups do not.
class ScopeImpl : public Scope {
 public:
  Counter& CounterFor(absl::string_view name) override;
  Gauge& GaugeFor(absl::string_view name) override;
  Histogram& HistogramFor(absl::string_view name) override;
  Scope& Child(absl::string_view name) override;

  // Visits every metric: name path (children joined with '.') and value.
  template <class Fn>
  void ForEach(const std::string& prefix, Fn fn) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, c] : counters_) fn(prefix + name, static_cast<int64_t>(c->Value()));
    for (const auto& [name, g] : gauges_) fn(prefix + name, g->Value());
    for (const auto& [name, child] : children_) child->ForEach(prefix + name + ".", fn);
  }
  // Visits counters and gauges separately (type matters for export).
  template <class Fn>
  void ForEachCounter(const std::string& prefix, Fn fn) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, c] : counters_) fn(prefix + name, static_cast<int64_t>(c->Value()));
    for (const auto& [name, child] : children_) child->ForEachCounter(prefix + name + ".", fn);
  }
  template <class Fn>
  void ForEachGauge(const std::string& prefix, Fn fn) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, g] : gauges_) fn(prefix + name, g->Value());
    for (const auto& [name, child] : children_) child->ForEachGauge(prefix + name + ".", fn);
  }
  // Names of the direct children.
  std::vector<std::string> ChildNames() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> names;
    for (const auto& [name, child] : children_) names.push_back(name);
    return names;
  }
  // Visits every histogram with its dotted name.
  template <class Fn>
  void ForEachHistogram(const std::string& prefix, Fn fn) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, h] : histograms_) fn(prefix + name, *h);
    for (const auto& [name, child] : children_) child->ForEachHistogram(prefix + name + ".", fn);
  }
  // Direct lookups for aggregation across workers (nullptr when absent).
  const ScopeImpl* FindChild(absl::string_view name) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = children_.find(name);
    return it == children_.end() ? nullptr : it->second.get();
  }
  const LatencyHistogram* FindHistogram(absl::string_view name) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = histograms_.find(name);
    return it == histograms_.end() ? nullptr : it->second.get();
  }
  int64_t CounterValue(absl::string_view name) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = counters_.find(name);
    return it == counters_.end() ? 0 : static_cast<int64_t>(it->second->Value());
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
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<LatencyHistogram>, std::less<>> histograms_;
  std::map<std::string, std::unique_ptr<ScopeImpl>, std::less<>> children_;
};

}  // namespace proxy

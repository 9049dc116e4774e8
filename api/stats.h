// Stats interface: counters and gauges resolved by name at config time, touched on the hot path.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/strings/string_view.h"

namespace proxy {

class Counter {
 public:
  virtual ~Counter() = default;
  virtual void Add(uint64_t n = 1) = 0;
  virtual uint64_t Value() const = 0;
};

class Gauge {
 public:
  virtual ~Gauge() = default;
  virtual void Add(int64_t n) = 0;
  virtual void Set(int64_t v) = 0;
  virtual int64_t Value() const = 0;
};

// Bucket upper bounds (microseconds) of every latency histogram, roughly x1.5 apart from 25 us
// to 10 s; one more bucket (+Inf) catches the rest.
inline constexpr uint64_t kLatencyBucketsUs[] = {
    25,    50,    75,    100,    150,    200,    300,    400,     500,     750,
    1000,  1500,  2000,  3000,   5000,   7500,   10000,  15000,   20000,   30000,
    50000, 75000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
inline constexpr size_t kLatencyBucketCount = sizeof(kLatencyBucketsUs) / sizeof(uint64_t) + 1;

// A latency histogram over kLatencyBucketsUs.
class Histogram {
 public:
  virtual ~Histogram() = default;
  virtual void Record(uint64_t value_us) = 0;
};

// A namespace of metrics (a pool, or a server inside a pool). References returned stay valid for
// the scope's lifetime; resolve them once and cache them.
class Scope {
 public:
  virtual ~Scope() = default;
  virtual Counter& CounterFor(absl::string_view name) = 0;
  virtual Gauge& GaugeFor(absl::string_view name) = 0;
  virtual Histogram& HistogramFor(absl::string_view name) = 0;
  virtual Scope& Child(absl::string_view name) = 0;
};

// twemproxy's metric names and descriptions, verbatim (twemproxy 0.5.0's). X-macros so that the
// stats server, `-D` and the stats filter share one list.
#define PROXY_POOL_STATS(COUNTER, GAUGE)                                         \
  COUNTER(client_eof, "# eof on client connections")                            \
  COUNTER(client_err, "# errors on client connections")                         \
  GAUGE(client_connections, "# active client connections")                     \
  COUNTER(server_ejects, "# times backend server was ejected")                  \
  COUNTER(forward_error, "# times we encountered a forwarding error")           \
  COUNTER(fragments, "# fragments created from a multi-vector request")

#define PROXY_SERVER_STATS(COUNTER, GAUGE, TIMESTAMP)                            \
  COUNTER(server_eof, "# eof on server connections")                            \
  COUNTER(server_err, "# errors on server connections")                         \
  COUNTER(server_timedout, "# timeouts on server connections")                  \
  GAUGE(server_connections, "# active server connections")                     \
  TIMESTAMP(server_ejected_at, "timestamp when server was ejected in usec since epoch") \
  COUNTER(requests, "# requests")                                               \
  COUNTER(request_bytes, "total request bytes")                                 \
  COUNTER(responses, "# responses")                                             \
  COUNTER(response_bytes, "total response bytes")                               \
  GAUGE(in_queue, "# requests in incoming queue")                              \
  GAUGE(in_queue_bytes, "current request bytes in incoming queue")             \
  GAUGE(out_queue, "# requests in outgoing queue")                             \
  GAUGE(out_queue_bytes, "current request bytes in outgoing queue")

}  // namespace proxy

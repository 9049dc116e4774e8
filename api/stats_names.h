// Names of the metrics that one side records and another reads back by name: the stats filter
// (filters/stats) writes them, the admin endpoint (core/admin/admin_server.cc) exports them on
// /metrics. Both spell them through these constants, so a rename changes both sides at once
// instead of silently emptying /metrics.
#pragma once

#include "absl/strings/string_view.h"

namespace proxy::stats_names {

// The stats filter's child scope (of the pool's scope) with the per-command metrics, each
// named "<COMMAND><suffix>".
inline constexpr absl::string_view kCommandScope = "cmd";
inline constexpr absl::string_view kRequestsSuffix = ".requests";     // counter: completed
inline constexpr absl::string_view kErrorsSuffix = ".errors";         // counter: proxy errors
inline constexpr absl::string_view kLatencyUsSuffix = ".latency_us";  // counter: summed latency
inline constexpr absl::string_view kLatencySuffix = ".latency";       // histogram: latency

// The core's child scope (of the pool's scope) counting refused requests, one counter per
// command (core/proxy/client_connection.cc records, /metrics exports shardproxy_refused_total).
inline constexpr absl::string_view kRefusedScope = "refused";

}  // namespace proxy::stats_names

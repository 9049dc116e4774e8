// The stats filter: counts requests, errors and total latency per command in the child scope
// "cmd" of the pool's stats scope ("<COMMAND>.requests", "<COMMAND>.errors", ...). The names
// are api/stats_names.h's: the admin endpoint reads them back for /metrics.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "api/codec.h"
#include "api/filter.h"
#include "api/stats.h"
#include "api/stats_names.h"

namespace proxy::filters::stats {

// Bucket for requests whose command the codec does not know: client-chosen names must not
// create counters (unbounded memory).
inline constexpr absl::string_view kUnknownCommand = "unknown";

// The counters of one command.
struct CommandCounters {
  Counter* requests = nullptr;    // "<COMMAND>.requests": every completed request
  Counter* errors = nullptr;      // "<COMMAND>.errors": Outcome::Kind::kError
  Counter* latency_us = nullptr;  // "<COMMAND>.latency_us": sum of Outcome::latency_us
  Histogram* latency = nullptr;   // "<COMMAND>.latency": client-observed latency histogram
};

// Per pool and worker: shared by every filter made by one FilterFactoryFn, so counts aggregate
// over the pool's connections. Not thread-safe, like the Scope it wraps: all those filters run
// on the worker thread that owns the scope.
class CommandStats {
 public:
  explicit CommandStats(Scope& pool_scope) : scope_(pool_scope.Child(stats_names::kCommandScope)) {}

  // The counters of `command`, resolved in the scope on first use and cached.
  const CommandCounters& For(absl::string_view command);

 private:
  Scope& scope_;
  absl::flat_hash_map<std::string, CommandCounters> by_command_;
};

// One per worker, shared by the pool's clients. Counts in OnComplete; OnRequest only passes the
// request on.
class StatsFilter final : public Filter {
 public:
  // `stats` is null under validate_only (no scope): the filter then counts nothing.
  explicit StatsFilter(std::shared_ptr<CommandStats> stats) : stats_(std::move(stats)) {}

  FilterStatus OnRequest(Request& request, FilterCallbacks& callbacks) override {
    return FilterStatus::kContinue;
  }
  void OnComplete(const Request& request, const Outcome& outcome) override;

 private:
  std::shared_ptr<CommandStats> stats_;
};

}  // namespace proxy::filters::stats

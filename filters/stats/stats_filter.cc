// Per-command counters: lazy resolution by name, then cached references on the hot path.
#include "filters/stats/stats_filter.h"

#include "absl/strings/str_cat.h"

namespace proxy::filters::stats {

const CommandCounters& CommandStats::For(absl::string_view command) {
  auto it = by_command_.find(command);
  if (it != by_command_.end()) {
    return it->second;
  }
  CommandCounters counters;
  counters.requests = &scope_.CounterFor(absl::StrCat(command, stats_names::kRequestsSuffix));
  counters.errors = &scope_.CounterFor(absl::StrCat(command, stats_names::kErrorsSuffix));
  counters.latency_us =
      &scope_.CounterFor(absl::StrCat(command, stats_names::kLatencyUsSuffix));
  counters.latency = &scope_.HistogramFor(absl::StrCat(command, stats_names::kLatencySuffix));
  return by_command_.emplace(std::string(command), counters).first->second;
}

void StatsFilter::OnComplete(const Request& request, const Outcome& outcome) {
  if (stats_ == nullptr) {
    return;
  }
  const CommandCounters& counters =
      stats_->For(request.command.empty() ? kUnknownCommand : request.command);
  counters.requests->Add(1);
  if (outcome.kind == Outcome::Kind::kError) {
    counters.errors->Add(1);
  }
  counters.latency_us->Add(outcome.latency_us);
  counters.latency->Record(outcome.latency_us);
}

}  // namespace proxy::filters::stats

// Prometheus text parsing and histogram quantiles.
#include "tools/proxyctl/metrics_text.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace proxy::ctl {
namespace {

// Splits "name{labels}" into name and labels (without braces).
void SplitSeries(absl::string_view series, absl::string_view* name, absl::string_view* labels) {
  const size_t brace = series.find('{');
  if (brace == absl::string_view::npos) {
    *name = series;
    *labels = "";
    return;
  }
  *name = series.substr(0, brace);
  absl::string_view rest = series.substr(brace + 1);
  if (!rest.empty() && rest.back() == '}') rest.remove_suffix(1);
  *labels = rest;
}

// Removes the le="..." label, returning its value.
std::string TakeLe(absl::string_view labels, std::string* le) {
  std::string out;
  for (absl::string_view part : absl::StrSplit(labels, ',', absl::SkipEmpty())) {
    if (absl::ConsumePrefix(&part, "le=\"")) {
      if (!part.empty() && part.back() == '"') part.remove_suffix(1);
      *le = std::string(part);
      continue;
    }
    if (!out.empty()) out += ",";
    out.append(part.data(), part.size());
  }
  return out;
}

}  // namespace

std::string LabelValue(absl::string_view series, absl::string_view name) {
  const std::string needle = std::string(name) + "=\"";
  size_t at = series.find(needle);
  if (at == absl::string_view::npos) return "";
  at += needle.size();
  std::string value;
  for (size_t i = at; i < series.size() && series[i] != '"'; ++i) {
    if (series[i] == '\\' && i + 1 < series.size()) ++i;
    value += series[i];
  }
  return value;
}

Metrics ParseMetrics(absl::string_view text) {
  Metrics metrics;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (line.front() == '#') continue;
    const size_t space = line.rfind(' ');
    if (space == absl::string_view::npos) continue;
    absl::string_view series = line.substr(0, space);
    double value = 0;
    if (!absl::SimpleAtod(line.substr(space + 1), &value)) continue;
    absl::string_view name;
    absl::string_view labels;
    SplitSeries(series, &name, &labels);
    if (absl::ConsumeSuffix(&name, "_bucket")) {
      std::string le;
      const std::string key = std::string(name) + "{" + TakeLe(labels, &le) + "}";
      double bound = std::numeric_limits<double>::infinity();
      if (le != "+Inf" && !absl::SimpleAtod(le, &bound)) continue;
      metrics.histograms[key].buckets.emplace_back(bound, value);
    } else if (absl::EndsWith(name, "_sum") || absl::EndsWith(name, "_count")) {
      const bool is_sum = absl::EndsWith(name, "_sum");
      const absl::string_view base = name.substr(0, name.size() - (is_sum ? 4 : 6));
      auto it = metrics.histograms.find(std::string(base) + "{" + std::string(labels) + "}");
      if (it == metrics.histograms.end()) {
        metrics.values[std::string(series)] = value;  // a plain metric ending in _sum/_count
      } else {
        (is_sum ? it->second.sum : it->second.count) = value;
      }
    } else {
      metrics.values[std::string(series)] = value;
    }
  }
  return metrics;
}

double Quantile(const HistogramData& histogram, double q) {
  if (histogram.buckets.empty()) return std::nan("");
  const double total = histogram.buckets.back().second;
  if (total <= 0) return std::nan("");
  const double rank = q * total;
  double lower_bound = 0;
  double lower_count = 0;
  for (const auto& [le, cumulative] : histogram.buckets) {
    if (cumulative >= rank) {
      if (std::isinf(le)) return lower_bound;  // beyond the last finite bucket
      const double in_bucket = cumulative - lower_count;
      if (in_bucket <= 0) return le;
      return lower_bound + (le - lower_bound) * ((rank - lower_count) / in_bucket);
    }
    lower_bound = le;
    lower_count = cumulative;
  }
  return lower_bound;
}

}  // namespace proxy::ctl

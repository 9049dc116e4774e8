// Reading the proxy's Prometheus text (/metrics) back: series values and histogram quantiles,
// for `proxyctl stats`.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace proxy::ctl {

// One histogram: cumulative bucket counts by upper bound (seconds; +Inf last), sum and count.
struct HistogramData {
  std::vector<std::pair<double, double>> buckets;  // (le, cumulative count), le ascending
  double sum = 0;
  double count = 0;
};

struct Metrics {
  // "name{labels}" → value for plain series.
  std::map<std::string, double> values;
  // "name{labels without le}" → histogram.
  std::map<std::string, HistogramData> histograms;
};

// Parses Prometheus text exposition (comments ignored).
Metrics ParseMetrics(absl::string_view text);

// The q-quantile (0 < q < 1) by linear interpolation inside the bucket that holds it, as
// Prometheus's histogram_quantile does; NaN when the histogram is empty.
double Quantile(const HistogramData& histogram, double q);

// The value of label `name` in "metric{a=\"x\",b=\"y\"}", or "".
std::string LabelValue(absl::string_view series, absl::string_view name);

}  // namespace proxy::ctl

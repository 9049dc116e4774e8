// Tests for proxyctl's Prometheus text reader and histogram quantiles.
#include "tools/proxyctl/metrics_text.h"

#include <cmath>

#include "gtest/gtest.h"

namespace proxy::ctl {
namespace {

constexpr char kText[] = R"EOF(# HELP x_seconds latency
# TYPE x_seconds histogram
x_seconds_bucket{pool="a",command="GET",le="0.1"} 50
x_seconds_bucket{pool="a",command="GET",le="0.2"} 90
x_seconds_bucket{pool="a",command="GET",le="0.4"} 100
x_seconds_bucket{pool="a",command="GET",le="+Inf"} 100
x_seconds_sum{pool="a",command="GET"} 12.5
x_seconds_count{pool="a",command="GET"} 100
up{pool="a",server="s\"1"} 1
)EOF";

TEST(MetricsTextTest, ParsesSeriesAndHistograms) {
  const Metrics metrics = ParseMetrics(kText);
  ASSERT_EQ(metrics.histograms.size(), 1u);
  const HistogramData& h = metrics.histograms.at("x_seconds{pool=\"a\",command=\"GET\"}");
  EXPECT_EQ(h.buckets.size(), 4u);
  EXPECT_DOUBLE_EQ(h.sum, 12.5);
  EXPECT_DOUBLE_EQ(h.count, 100);
  EXPECT_TRUE(std::isinf(h.buckets.back().first));
  EXPECT_DOUBLE_EQ(metrics.values.at("up{pool=\"a\",server=\"s\\\"1\"}"), 1);
  EXPECT_EQ(LabelValue("up{pool=\"a\",server=\"s\\\"1\"}", "server"), "s\"1");
}

TEST(MetricsTextTest, QuantilesInterpolateInsideTheBucket) {
  const Metrics metrics = ParseMetrics(kText);
  const HistogramData& h = metrics.histograms.at("x_seconds{pool=\"a\",command=\"GET\"}");
  EXPECT_NEAR(Quantile(h, 0.5), 0.1, 1e-9);    // exactly at the first bound
  EXPECT_NEAR(Quantile(h, 0.25), 0.05, 1e-9);  // halfway into the first bucket
  EXPECT_NEAR(Quantile(h, 0.7), 0.15, 1e-9);   // halfway into the second
  EXPECT_NEAR(Quantile(h, 0.95), 0.3, 1e-9);   // halfway into the third
  EXPECT_TRUE(std::isnan(Quantile(HistogramData(), 0.5)));
}

}  // namespace
}  // namespace proxy::ctl

// /metrics reads back, by name, what the stats filter and the core record in a pool's scope
// (api/stats_names.h). Requests through the default chain (no filters: written) must show up
// under their families with the right counts; a rename on one side only would empty them.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"

namespace proxy::test {
namespace {

TEST(MetricsNamesTest, DefaultChainRequestsAppearPerCommand) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  const int port = FreePort(), admin = FreePort();
  const std::string yaml = absl::StrCat("cache:\n  listen: 127.0.0.1:", port,
                                        "\n  redis: true\n  servers:\n   - 127.0.0.1:",
                                        redis.port(), ":1\n");
  ProxyProcess proxy(yaml, {port, admin}, {"--admin-port", std::to_string(admin)});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Client client(port);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(client.Command({"SET", "k", "v"}), "+OK\r\n");
  for (int i = 0; i < 2; ++i) ASSERT_EQ(client.Command({"GET", "k"}), "$1\r\nv\r\n");
  // Refused by the default chain's reject_unsupported: counted in the core's refused scope.
  const std::string keys = client.Command({"KEYS", "*"});
  ASSERT_EQ(keys.rfind("-ERR", 0), 0u) << keys;

  const auto [code, metrics] = HttpGet(admin, "/metrics");
  ASSERT_EQ(code, 200);
  for (const char* line : {
           // The stats filter's "<COMMAND>.requests" and ".errors" counters.
           "shardproxy_requests_total{pool=\"cache\",command=\"SET\"} 3\n",
           "shardproxy_requests_total{pool=\"cache\",command=\"GET\"} 2\n",
           "shardproxy_request_errors_total{pool=\"cache\",command=\"GET\"} 0\n",
           // Its "<COMMAND>.latency" histogram.
           "shardproxy_request_duration_seconds_count{pool=\"cache\",command=\"SET\"} 3\n",
           "shardproxy_request_duration_seconds_count{pool=\"cache\",command=\"GET\"} 2\n",
           // The core's "refused" scope.
           "shardproxy_refused_total{pool=\"cache\",command=\"KEYS\"} 1\n",
       }) {
    EXPECT_TRUE(absl::StrContains(metrics, line)) << line << "\n" << metrics;
  }
  // Both scopes are exported on their own, never again as generic filter counters.
  EXPECT_FALSE(absl::StrContains(metrics, "name=\"cmd.")) << metrics;
  EXPECT_FALSE(absl::StrContains(metrics, "name=\"refused.")) << metrics;
  EXPECT_FALSE(absl::StrContains(metrics, "SET.requests")) << metrics;
}

}  // namespace
}  // namespace proxy::test

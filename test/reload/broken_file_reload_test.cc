// Live reload of a broken file (issue 11, item 1): a YAML syntax error and validation errors.
// The proxy keeps serving the old config (keys route as before, a pool the broken file drops
// still answers, connections stay), POST /reload answers 409 with every error exactly as
// `proxyctl check` prints it (file:line:col), the log names every error, the failure counter
// rises and the generation does not. SIGUSR1 does the same. A fixed file then applies.
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"
#include "test/reload/reload_util.h"

namespace proxy::test {
namespace {

// The error lines `proxyctl check` prints for `conf` (every "file:line:col: ..." line).
std::vector<std::string> CheckErrors(const std::string& conf) {
  const CommandResult check = RunCommand({Runfile("proxyctl"), "check", "--conf-file", conf},
                                         std::chrono::milliseconds(30000));
  std::vector<std::string> errors;
  for (absl::string_view line : absl::StrSplit(check.output, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, conf + ":") && !absl::StrContains(line, ": invalid: ")) {
      errors.emplace_back(line);
    }
  }
  EXPECT_EQ(check.exit_code, 1) << check.output;
  return errors;
}

struct Fixture {
  RedisServer r1, r2, r3;
  MemcachedServer m1;
  int redis_port = FreePort();
  int memcache_port = FreePort();

  std::string Good() const {
    return ConfigYaml({
        {"rpool", redis_port, true,
         {ServerLine(r1.port(), 1, "r1"), ServerLine(r2.port(), 1, "r2")},
         "  hash: fnv1a_64\n"},
        {"mpool", memcache_port, false, {ServerLine(m1.port(), 1)}, ""},
    });
  }
  // Valid YAML, three validation errors (hash on line 4, weight zero on line 8, an unknown
  // distribution on line 5); it also adds r3 and drops mpool, so that any part of it applied
  // would show.
  std::string Invalid() const {
    return absl::StrCat("rpool:\n",                                       // 1
                        "  listen: 127.0.0.1:", redis_port, "\n",         // 2
                        "  redis: true\n",                                // 3
                        "  hash: sha1\n",                                 // 4
                        "  distribution: ketamax\n",                      // 5
                        "  servers:\n",                                   // 6
                        "   - ", ServerLine(r1.port(), 1, "r1"), "\n",    // 7
                        "   - ", ServerLine(r2.port(), 0, "r2"), "\n",    // 8
                        "   - ", ServerLine(r3.port(), 1, "r3"), "\n");   // 9
  }
  // A YAML syntax error: a quoted value without its closing quote on line 4.
  std::string BadYaml() const {
    return absl::StrCat("rpool:\n",                                       // 1
                        "  listen: 127.0.0.1:", redis_port, "\n",         // 2
                        "  redis: true\n",                                // 3
                        "  hash_tag: \"{}\n",                             // 4
                        "  servers:\n",                                   // 5
                        "   - ", ServerLine(r3.port(), 1, "r3"), "\n");   // 6
  }
  // Valid: r3 added.
  std::string Fixed() const {
    return ConfigYaml({
        {"rpool", redis_port, true,
         {ServerLine(r1.port(), 1, "r1"), ServerLine(r2.port(), 1, "r2"),
          ServerLine(r3.port(), 1, "r3")},
         "  hash: fnv1a_64\n"},
        {"mpool", memcache_port, false, {ServerLine(m1.port(), 1)}, ""},
    });
  }
};

TEST(BrokenFileReloadTest, OldConfigKeepsServingAndEveryErrorIsReported) {
  Fixture f;
  ASSERT_TRUE(f.r1.ok() && f.r2.ok() && f.r3.ok() && f.m1.ok());
  ReloadableProxy proxy("broken", f.Good(), {f.redis_port, f.memcache_port});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  const std::string good_copy = TempPath("broken-good.yml");
  std::ofstream(good_copy) << f.Good();

  Client redis_client(f.redis_port);
  Client memcache_client(f.memcache_port);
  ASSERT_EQ(redis_client.Command({"SET", "before", "1"}), "+OK\r\n");
  Backend b1(f.r1.port(), true), b2(f.r2.port(), true), b3(f.r3.port(), true);

  int round = 0;
  // Keys written now still land where the good file says, on both old and new connections.
  auto expect_old_config_serves = [&] {
    ++round;
    std::vector<std::string> keys;
    for (int k = 0; k < 40; ++k) keys.push_back(absl::StrCat(k, ":k", round));
    std::string error;
    const auto route = RouteKeys(good_copy, "rpool", keys, &error);
    ASSERT_EQ(route.size(), keys.size()) << error;
    const std::vector<std::string> old_half(keys.begin(), keys.begin() + 20);
    const std::vector<std::string> new_half(keys.begin() + 20, keys.end());
    Client fresh(f.redis_port);
    ASSERT_TRUE(fresh.connected());
    const std::string tag = absl::StrCat("round", round);
    EXPECT_EQ(WriteKeys(redis_client, true, old_half, tag), "");
    EXPECT_EQ(WriteKeys(fresh, true, new_half, tag), "");
    EXPECT_EQ(CheckPlacement(route, {&b1, &b2, &b3}, tag), "");
    // The pool the broken file leaves out still answers, on its old connection and a new one.
    EXPECT_EQ(WriteKeys(memcache_client, false, {"m"}, tag), "");
    Client fresh_memcache(f.memcache_port);
    EXPECT_EQ(WriteKeys(fresh_memcache, false, {"m2"}, tag), "");
  };
  expect_old_config_serves();

  int64_t failures = 0;
  for (const bool yaml_error : {false, true}) {
    SCOPED_TRACE(yaml_error ? "YAML syntax error" : "validation errors");
    const std::string text = yaml_error ? f.BadYaml() : f.Invalid();
    proxy.WriteConfig(text);
    const std::vector<std::string> errors = CheckErrors(proxy.conf_path());
    ASSERT_EQ(errors.size(), yaml_error ? 1u : 3u) << absl::StrJoin(errors, "\n");
    // The lines we broke are the lines reported.
    const std::vector<std::string> lines =
        yaml_error ? std::vector<std::string>{":4:"} : std::vector<std::string>{":4:", ":5:", ":8:"};
    for (const std::string& line : lines) {
      bool named = false;
      for (const std::string& e : errors) named = named || absl::StartsWith(e, proxy.conf_path() + line);
      EXPECT_TRUE(named) << "no error on line " << line << ":\n" << absl::StrJoin(errors, "\n");
    }

    const auto [code, body] = proxy.PostReload();
    EXPECT_EQ(code, 409) << body;
    for (const std::string& e : errors) {
      EXPECT_TRUE(absl::StrContains(body, e)) << "the reply does not list\n  " << e << "\n"
                                              << body;
    }
    ++failures;
    const std::string metrics = proxy.Metrics();
    EXPECT_EQ(MetricValue(metrics, "shardproxy_config_generation"), 1);
    EXPECT_EQ(MetricValue(metrics, "shardproxy_config_reloads_total{result=\"failure\"}"),
              failures);
    EXPECT_EQ(MetricValue(metrics, "shardproxy_config_reloads_total{result=\"success\"}"), 0);
    EXPECT_EQ(MetricValue(metrics, "shardproxy_config_last_reload_success"), 0);
    const std::string log = proxy.Log();
    for (const std::string& e : errors) {
      EXPECT_TRUE(absl::StrContains(log, e)) << "the log does not name\n  " << e;
    }
    expect_old_config_serves();

    // SIGUSR1: the same outcome.
    EXPECT_EQ(proxy.ReloadBySignal(), ReloadableProxy::SignalOutcome::kFailed) << proxy.Log();
    ++failures;
    EXPECT_EQ(proxy.Generation(), 1);
    EXPECT_EQ(proxy.Reloads(false), failures);
    expect_old_config_serves();
  }
  EXPECT_EQ(redis_client.Command({"GET", "before"}), "$1\r\n1\r\n");

  // A fixed file applies: generation 2, r3 in use, the old connection follows it.
  const auto [code, body] = proxy.Apply(f.Fixed());
  ASSERT_EQ(code, 200) << body;
  EXPECT_TRUE(absl::StartsWith(body, "reloaded")) << body;
  const std::string metrics = proxy.Metrics();
  EXPECT_EQ(MetricValue(metrics, "shardproxy_config_generation"), 2);
  EXPECT_EQ(MetricValue(metrics, "shardproxy_config_reloads_total{result=\"success\"}"), 1);
  EXPECT_EQ(MetricValue(metrics, "shardproxy_config_reloads_total{result=\"failure\"}"), failures);
  EXPECT_EQ(MetricValue(metrics, "shardproxy_config_last_reload_success"), 1);
  std::vector<std::string> keys;
  for (int k = 0; k < 40; ++k) keys.push_back(absl::StrCat(k, ":fixed"));
  std::string error;
  const auto route = RouteKeys(proxy.conf_path(), "rpool", keys, &error);
  ASSERT_EQ(route.size(), keys.size()) << error;
  int on_r3 = 0;
  for (const auto& [key, address] : route) on_r3 += address == Address(f.r3.port());
  EXPECT_GT(on_r3, 0) << "no key of the batch on the added server";
  EXPECT_EQ(WriteKeys(redis_client, true, keys, "fixed"), "");
  EXPECT_EQ(CheckPlacement(route, {&b1, &b2, &b3}, "fixed"), "");
  EXPECT_EQ(redis_client.Command({"PING"}), "+PONG\r\n");
}

}  // namespace
}  // namespace proxy::test

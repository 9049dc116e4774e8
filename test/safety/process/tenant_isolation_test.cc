// Tenant isolation through key_prefix (issue 9, finding 7): two pools, prefixes "app1:" and
// "app2:", on ONE real redis-server behind the real //:proxy. app1 tries every way found to read
// or write app2's keys (SORT BY/GET patterns, SORT ... STORE, scripts, functions, key
// enumeration, GEORADIUS ... STORE); each attempt must fail or stay inside app1's prefix, and
// app2's keys must be untouched (checked directly on the backend).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"

namespace proxy::test {
namespace {

std::string Bulk(absl::string_view s) { return absl::StrCat("$", s.size(), "\r\n", s, "\r\n"); }

std::string PoolYaml(absl::string_view name, int port, absl::string_view prefix, int redis) {
  return absl::StrCat(name, ":\n  listen: 127.0.0.1:", port,
                      "\n  redis: true\n  timeout: 30000\n  filters:\n"
                      "    - name: key_prefix\n      config:\n        prefix: \"",
                      prefix,
                      "\"\n    - reject_unsupported\n    - hash_tag\n    - router\n"
                      "    - stats\n  servers:\n   - 127.0.0.1:",
                      redis, ":1 r1\n");
}

class TenantIsolationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(FindExecutable("redis-server").empty()) << "redis-server is needed";
    redis_ = std::make_unique<RedisServer>();
    ASSERT_TRUE(redis_->ok());
    app1_port_ = FreePort();
    app2_port_ = FreePort();
    const std::string yaml = PoolYaml("app1", app1_port_, "app1:", redis_->port()) +
                             PoolYaml("app2", app2_port_, "app2:", redis_->port());
    proxy_ = std::make_unique<ProxyProcess>(yaml, std::vector<int>{app1_port_, app2_port_});
    ASSERT_TRUE(proxy_->ok()) << proxy_->Log();
    direct_ = std::make_unique<Client>(redis_->port());
    app1_ = std::make_unique<Client>(app1_port_);
    app2_ = std::make_unique<Client>(app2_port_);
    ASSERT_TRUE(direct_->connected() && app1_->connected() && app2_->connected());

    // app2's data, written through its own pool.
    ASSERT_EQ(app2_->Command({"SET", "secret", "s2"}), "+OK\r\n");
    ASSERT_EQ(app2_->Command({"SET", "w_1", "9"}), "+OK\r\n");
    ASSERT_EQ(app2_->Command({"HSET", "h", "f", "hv"}), ":1\r\n");
    ASSERT_EQ(app2_->Command({"GEOADD", "geo", "13.361389", "38.115556", "p"}), ":1\r\n");
    ASSERT_EQ(direct_->Command({"GET", "app2:secret"}), Bulk("s2"));
    // app1's list whose element names app2's key suffix.
    ASSERT_EQ(app1_->Command({"RPUSH", "l", "secret"}), ":1\r\n");
    ASSERT_EQ(app1_->Command({"RPUSH", "n", "1"}), ":1\r\n");
  }

  // app2's keys exactly as they were, seen on the backend.
  void ExpectApp2Untouched() {
    EXPECT_EQ(direct_->Command({"GET", "app2:secret"}), Bulk("s2"));
    EXPECT_EQ(direct_->Command({"GET", "app2:w_1"}), Bulk("9"));
    EXPECT_EQ(direct_->Command({"HGET", "app2:h", "f"}), Bulk("hv"));
    EXPECT_EQ(direct_->Command({"EXISTS", "app2:geo"}), ":1\r\n");
    EXPECT_EQ(direct_->Command({"EXISTS", "app2:stolen", "app2:dst"}), ":0\r\n");
    EXPECT_EQ(app2_->Command({"GET", "secret"}), Bulk("s2"));
  }

  // Every key on the backend starts with one of the tenants' prefixes.
  void ExpectOnlyPrefixedKeys() {
    const std::string keys = direct_->Command({"KEYS", "*"});
    for (absl::string_view line : absl::StrSplit(keys, "\r\n")) {
      if (line.empty() || line[0] == '*' || line[0] == '$') continue;
      EXPECT_TRUE(absl::StartsWith(line, "app1:") || absl::StartsWith(line, "app2:")) << line;
    }
  }

  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ProxyProcess> proxy_;
  std::unique_ptr<Client> direct_;
  std::unique_ptr<Client> app1_;
  std::unique_ptr<Client> app2_;
  int app1_port_ = 0;
  int app2_port_ = 0;
};

TEST_F(TenantIsolationTest, SortPatternsCannotReadAnotherTenantsKeys) {
  // The GET pattern is prefixed: it reads app1:app2:secret (missing), never app2:secret.
  EXPECT_EQ(app1_->Command({"SORT", "l", "BY", "nosort", "GET", "app2:*"}), "*1\r\n$-1\r\n");
  EXPECT_EQ(app1_->Command({"SORT", "l", "BY", "nosort", "GET", "#", "GET", "app2:*"}),
            "*2\r\n" + Bulk("secret") + "$-1\r\n");
  EXPECT_EQ(app1_->Command({"sort", "l", "by", "nosort", "get", "app2:h->*"}), "*1\r\n$-1\r\n");
  // BY with a real pattern: weights are read under app1's prefix (app2:w_1 never consulted).
  EXPECT_EQ(app1_->Command({"SORT", "n", "BY", "app2:w_*", "GET", "app2:*"}), "*1\r\n$-1\r\n");
  // Inline, the same.
  ASSERT_TRUE(app1_->Send("SORT l BY nosort GET app2:*\r\n"));
  EXPECT_EQ(app1_->ReadReply(), "*1\r\n$-1\r\n");
  ExpectApp2Untouched();
}

TEST_F(TenantIsolationTest, SortPatternsStillWorkInsideTheTenant) {
  ASSERT_EQ(app1_->Command({"RPUSH", "ids", "2", "1"}), ":2\r\n");
  ASSERT_EQ(app1_->Command({"MSET", "o_1", "one", "o_2", "two", "w_1", "20", "w_2", "10"}),
            "+OK\r\n");
  EXPECT_EQ(app1_->Command({"SORT", "ids", "GET", "o_*"}), "*2\r\n" + Bulk("one") + Bulk("two"));
  EXPECT_EQ(app1_->Command({"SORT", "ids", "BY", "w_*", "GET", "#", "GET", "o_*"}),
            "*4\r\n" + Bulk("2") + Bulk("two") + Bulk("1") + Bulk("one"));
  EXPECT_EQ(app1_->Command({"SORT", "ids", "BY", "nosort", "GET", "#"}),
            "*2\r\n" + Bulk("2") + Bulk("1"));
  ExpectApp2Untouched();
}

TEST_F(TenantIsolationTest, SortStoreCannotWriteAnotherTenantsKey) {
  EXPECT_EQ(app1_->Command({"SORT", "l", "ALPHA", "STORE", "app2:secret"}), ":1\r\n");
  EXPECT_EQ(app1_->Command({"SORT", "l", "BY", "nosort", "STORE", "app2:stolen"}), ":1\r\n");
  // It landed under app1's prefix.
  EXPECT_EQ(direct_->Command({"LRANGE", "app1:app2:secret", "0", "-1"}), "*1\r\n" + Bulk("secret"));
  EXPECT_EQ(direct_->Command({"EXISTS", "app1:app2:stolen"}), ":1\r\n");
  ExpectApp2Untouched();
  ExpectOnlyPrefixedKeys();
}

TEST_F(TenantIsolationTest, GeoradiusStoreStaysInsideTheTenant) {
  ASSERT_EQ(app1_->Command({"GEOADD", "g", "13.361389", "38.115556", "x"}), ":1\r\n");
  EXPECT_EQ(app1_->Command({"GEORADIUS", "g", "13", "38", "200", "km", "STORE", "app2:geo"}),
            ":1\r\n");
  EXPECT_EQ(app1_->Command(
                {"GEORADIUSBYMEMBER", "g", "x", "10", "km", "STOREDIST", "app2:dst"}),
            ":1\r\n");
  EXPECT_EQ(direct_->Command({"EXISTS", "app1:app2:geo", "app1:app2:dst"}), ":2\r\n");
  EXPECT_EQ(direct_->Command({"ZRANGE", "app2:geo", "0", "-1"}), "*1\r\n" + Bulk("p"));
  ExpectApp2Untouched();
  ExpectOnlyPrefixedKeys();
}

TEST_F(TenantIsolationTest, ScriptsFunctionsAndKeyspaceCommandsAreRefused) {
  const std::vector<std::vector<std::string>> attacks = {
      {"EVAL", "return redis.call('get','app2:secret')", "1", "x"},
      {"EVAL", "return redis.call('set','app2:secret','owned')", "0"},
      {"EVALSHA", "a42059b356c875f0717db19a51f6aaca9ae659ea", "1", "x"},
      {"EVAL_RO", "return redis.call('get','app2:secret')", "1", "x"},
      {"SCRIPT", "LOAD", "return redis.call('get','app2:secret')"},
      {"FUNCTION", "LIST"},
      {"FCALL", "f", "1", "x"},
      {"FCALL_RO", "f", "1", "x"},
      {"KEYS", "app2:*"},
      {"SCAN", "0", "MATCH", "app2:*"},
      {"RANDOMKEY"},
      {"OBJECT", "ENCODING", "app2:secret"},
      {"MIGRATE", "127.0.0.1", "1", "app2:secret", "0", "1000"},
      {"MOVE", "secret", "1"},
      {"SORT_RO", "l", "GET", "app2:*"},
      {"DBSIZE"},
      {"FLUSHALL"},
      {"MEMORY", "USAGE", "app2:secret"},
  };
  for (const std::vector<std::string>& attack : attacks) {
    const std::string reply = app1_->Command(attack);
    EXPECT_TRUE(absl::StartsWith(reply, "-")) << attack[0] << ": " << reply;
    EXPECT_FALSE(absl::StrContains(reply, "s2")) << attack[0] << ": " << reply;
  }
  const std::string eval =
      app1_->Command({"EVAL", "return redis.call('get','app2:secret')", "1", "x"});
  EXPECT_EQ(eval, "-ERR key_prefix: 'EVAL' can reach keys outside the pool's prefix\r\n");
  // The connection still works and the backend ran none of it.
  EXPECT_EQ(app1_->Command({"GET", "nothing"}), "$-1\r\n");
  ExpectApp2Untouched();
  const std::string stats = direct_->Command({"INFO", "commandstats"});
  for (const char* command : {"eval", "evalsha", "script", "function", "fcall", "keys", "scan",
                              "randomkey", "object", "migrate", "flushall", "memory"}) {
    EXPECT_FALSE(absl::StrContains(stats, absl::StrCat("cmdstat_", command, ":")))
        << command << " reached the backend:\n"
        << stats;
  }
}

}  // namespace
}  // namespace proxy::test

// The stats port against the real twemproxy: same config, same backends, same traffic; the JSON
// documents must have the same keys, nesting, order and layout, and our counters must match
// the traffic exactly (twemproxy's may lag by a stats interval).
#include <algorithm>
#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"

namespace proxy::test {
namespace {

std::string ReadStats(int port) {
  Client client(port);
  if (!client.connected()) return "";
  return client.ReadAll();
}

// The document with every number replaced by 0 and the hostname by "h": what must be identical.
std::string Skeleton(const std::string& json) {
  std::string out = std::regex_replace(json, std::regex("\":[0-9]+"), "\":0");
  return std::regex_replace(out, std::regex("\"source\":\"[^\"]*\""), "\"source\":\"h\"");
}

// The value of "key" inside the object that starts at `object` (first match after it).
long long Field(const std::string& json, const std::string& object, const std::string& key) {
  size_t at = json.find(absl::StrCat("\"", object, "\": {"));
  if (at == std::string::npos) return -1;
  at = json.find(absl::StrCat("\"", key, "\":"), at);
  if (at == std::string::npos) return -1;
  return std::stoll(json.substr(at + key.size() + 3));
}

// client_eof of `pool` once the startup probes (the harness connects once to each port) have
// been seen and closed: the proxy may accept a probe's connection after the first stats read,
// so wait until no client is connected and the count holds still for a while.
long long SettledEof(int stats_port, const std::string& pool) {
  long long last = -2;
  for (int i = 0; i < 100; ++i) {
    const std::string json = ReadStats(stats_port);
    const long long eof = Field(json, pool, "client_eof");
    if (Field(json, pool, "client_connections") == 0 && eof == last) return eof;
    last = eof;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return last;
}

std::string Config(int listen_a, int listen_b, int r1, int r2) {
  return absl::StrCat(
      "alpha:\n  listen: 127.0.0.1:", listen_a, "\n  redis: true\n  servers:\n",
      "   - 127.0.0.1:", r1, ":1 first\n   - 127.0.0.1:", r2, ":1\n",
      "zz:\n  listen: 127.0.0.1:", listen_b, "\n  redis: true\n  servers:\n",
      "   - 127.0.0.1:", r1, ":1\n");
}

TEST(StatsTest, JsonLayoutMatchesTwemproxyForTheSameConfig) {
  const std::string nutcracker = FindExecutable("nutcracker");
  ASSERT_FALSE(nutcracker.empty()) << "nutcracker (Debian package) must be installed";
  RedisServer r1, r2;
  ASSERT_TRUE(r1.ok() && r2.ok());
  const int ours_a = FreePort(), ours_b = FreePort(), ours_stats = FreePort();
  const int ref_a = FreePort(), ref_b = FreePort(), ref_stats = FreePort();
  ProxyProcess ours(Config(ours_a, ours_b, r1.port(), r2.port()), {ours_a, ours_b, ours_stats},
                    {"-s", std::to_string(ours_stats), "-a", "127.0.0.1"});
  ASSERT_TRUE(ours.ok()) << ours.Log();
  const std::string ref_conf = TempPath("nutcracker-ref.yml");
  {
    FILE* f = fopen(ref_conf.c_str(), "w");
    const std::string yaml = Config(ref_a, ref_b, r1.port(), r2.port());
    fwrite(yaml.data(), 1, yaml.size(), f);
    fclose(f);
  }
  Process reference;
  ASSERT_TRUE(reference.Start({nutcracker, "-c", ref_conf, "-s", std::to_string(ref_stats), "-a",
                               "127.0.0.1"},
                              TempPath("nutcracker-ref.log")));
  ASSERT_TRUE(WaitForPort(ref_a) && WaitForPort(ref_b) && WaitForPort(ref_stats));
  const long long eof_before = SettledEof(ours_stats, "alpha");
  // The same traffic through both: SETs, a split MGET, a split DEL, a local PING.
  for (int port : {ours_a, ref_a}) {
    Client c(port);
    for (int i = 0; i < 12; ++i) {
      ASSERT_EQ(c.Command({"SET", absl::StrCat("key:", i, ":x"), "v"}), "+OK\r\n");
    }
    std::vector<std::string> mget = {"MGET"};
    for (int i = 0; i < 12; ++i) mget.push_back(absl::StrCat("key:", i, ":x"));
    ASSERT_EQ(c.Command(mget).rfind("*12\r\n", 0), 0u);
    ASSERT_EQ(c.Command({"DEL", "key:0:x", "key:1:x", "key:2:x"}), ":3\r\n");
    ASSERT_EQ(c.Command({"PING"}), "+PONG\r\n");
  }
  const std::string ours_json = ReadStats(ours_stats);
  const std::string ref_json = ReadStats(ref_stats);
  ASSERT_FALSE(ours_json.empty());
  ASSERT_FALSE(ref_json.empty());
  EXPECT_EQ(Skeleton(ours_json), Skeleton(ref_json)) << "ours:\n" << ours_json << "\nref:\n"
                                                     << ref_json;
  EXPECT_EQ(ours_json.back(), '\n');
  EXPECT_EQ(ours_json.rfind("{\"service\":\"nutcracker\", \"source\":\"", 0), 0u);
  EXPECT_NE(ours_json.find("\"version\":\"0.5.0\""), std::string::npos);
  // Our values are live: 12 SETs + MGET fragments + DEL fragments reached the servers.
  const long long requests = Field(ours_json, "first", "requests") +
                             Field(ours_json, "127.0.0.1:" + std::to_string(r2.port()),
                                   "requests");
  const long long fragments = Field(ours_json, "alpha", "fragments");
  EXPECT_EQ(Field(ours_json, "first", "responses") +
                Field(ours_json, "127.0.0.1:" + std::to_string(r2.port()), "responses"),
            requests);
  EXPECT_EQ(Field(ours_json, "alpha", "client_connections"), 0) << "the client has closed";
  EXPECT_EQ(Field(ours_json, "alpha", "client_eof"), eof_before + 1);
  EXPECT_EQ(Field(ours_json, "alpha", "forward_error"), 0);
  reference.Stop();

  // Where each key lives, asked of the backends once the stats were read. A multi-key command
  // is one fragment per server it touches (2 here), or one unsplit request without fragments
  // when all its keys share a server.
  Client first(r1.port());
  Client second(r2.port());
  ASSERT_EQ(first.Command({"FLUSHALL"}), "+OK\r\n");
  ASSERT_EQ(second.Command({"FLUSHALL"}), "+OK\r\n");
  std::vector<bool> on_first;
  {
    Client c(ours_a);
    for (int i = 0; i < 12; ++i) {
      const std::string key = absl::StrCat("key:", i, ":x");
      ASSERT_EQ(c.Command({"SET", key, "v"}), "+OK\r\n");
      on_first.push_back(first.Command({"EXISTS", key}) == ":1\r\n");
      ASSERT_EQ(second.Command({"EXISTS", key}), on_first.back() ? ":0\r\n" : ":1\r\n") << key;
    }
  }
  const auto fragments_of = [&](long long keys) -> long long {  // a command on the first `keys`
    const auto on = std::count(on_first.begin(), on_first.begin() + keys, true);
    return on == 0 || on == keys ? 0 : 2;
  };
  const long long mget = fragments_of(12);
  const long long del = fragments_of(3);
  EXPECT_EQ(fragments, mget + del) << ours_json;
  // 12 SETs, plus each multi-key command as its fragments (if split) or as one request.
  EXPECT_EQ(requests, 12 + (mget == 0 ? 1 : mget) + (del == 0 ? 1 : del)) << ours_json;
}

TEST(StatsTest, CountersFollowKnownTraffic) {
  RedisServer r1, r2;
  ASSERT_TRUE(r1.ok() && r2.ok());
  const int a = FreePort(), b = FreePort(), stats = FreePort();
  ProxyProcess proxy(Config(a, b, r1.port(), r2.port()), {a, b, stats},
                     {"-s", std::to_string(stats), "-a", "127.0.0.1"});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  const long long eof_before = SettledEof(stats, "alpha");
  {
    Client c(a);
    ASSERT_EQ(c.Command({"SET", "k", "v"}), "+OK\r\n");
    ASSERT_EQ(c.Command({"GET", "k"}), "$1\r\nv\r\n");
    ASSERT_EQ(c.Command({"KEYS", "*"}).rfind("-ERR unsupported command 'KEYS'", 0), 0u);
    const std::string json = ReadStats(stats);
    EXPECT_EQ(Field(json, "alpha", "client_connections"), 1);
    const long long total = Field(json, "first", "requests") +
                            Field(json, "127.0.0.1:" + std::to_string(r2.port()), "requests");
    EXPECT_EQ(total, 2) << "KEYS is answered locally, not forwarded";
    const long long responses = Field(json, "first", "responses") +
                                Field(json, "127.0.0.1:" + std::to_string(r2.port()), "responses");
    EXPECT_EQ(responses, 2);
  }
  // A dead server: its requests fail and count as forward errors and server errors.
  r2.Kill();
  Client c(a);
  int errors = 0;
  for (int i = 0; i < 30; ++i) {
    const std::string reply = c.Command({"GET", absl::StrCat("dead:", i, ":k")});
    if (reply.rfind("-ERR", 0) == 0) ++errors;
  }
  ASSERT_GT(errors, 0);
  const std::string json = ReadStats(stats);
  EXPECT_EQ(Field(json, "alpha", "forward_error"), errors) << json;
  EXPECT_GE(Field(json, "127.0.0.1:" + std::to_string(r2.port()), "server_err"), 1) << json;
  EXPECT_EQ(Field(json, "alpha", "client_eof"), eof_before + 1)
      << "the first client closed normally";
}

}  // namespace
}  // namespace proxy::test

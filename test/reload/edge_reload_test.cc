// Live reload edge cases (issue 11, item 1): a request in flight on a server the reload
// removes finishes there; a removed pool answers the pipeline its client had sent (held by a
// paused server) and then closes it; a filter chain change applies at the client's next
// request; a pool that keeps its listen address but changes protocol, or only its name.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"
#include "test/reload/reload_util.h"

namespace proxy::test {
namespace {

using std::chrono::milliseconds;

void ExpectReloaded(ReloadableProxy& proxy, const std::string& yaml) {
  const auto [code, body] = proxy.Apply(yaml);
  ASSERT_EQ(code, 200) << body << "\n" << proxy.Log();
  EXPECT_TRUE(absl::StartsWith(body, "reloaded")) << body;
}

TEST(EdgeReloadTest, RequestInFlightOnARemovedServerFinishesThere) {
  RedisServer r1, r2;
  ASSERT_TRUE(r1.ok() && r2.ok());
  const int port = FreePort();
  const std::string both = ConfigYaml(
      {{"p", port, true, {ServerLine(r1.port(), 1, "r1"), ServerLine(r2.port(), 1, "r2")}, ""}});
  const std::string only_r1 = ConfigYaml({{"p", port, true, {ServerLine(r1.port(), 1, "r1")}, ""}});
  ReloadableProxy proxy("inflight", both, {port});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  // A key on r2.
  std::vector<std::string> candidates;
  for (int i = 0; i < 100; ++i) candidates.push_back(absl::StrCat(i, ":inflight"));
  std::string error;
  const auto route = RouteKeys(proxy.conf_path(), "p", candidates, &error);
  ASSERT_EQ(route.size(), candidates.size()) << error;
  std::string key;
  for (const auto& [k, address] : route) {
    if (address == Address(r2.port())) key = k;
  }
  ASSERT_FALSE(key.empty());
  Client client(port);
  ASSERT_EQ(client.Command({"SET", "warm", "1"}), "+OK\r\n");
  Backend b1(r1.port(), true), b2(r2.port(), true);
  ASSERT_EQ(client.Command({"SET", key, "0"}), "+OK\r\n");  // the proxy is connected to r2
  ASSERT_EQ(b2.OtherClientIds().size(), 1u);

  // r2 holds write commands for a second: the SET is in flight on r2 across the reload.
  Client pauser(r2.port());
  ASSERT_EQ(pauser.Command({"CLIENT", "SETNAME", "reload-checker"}), "+OK\r\n");  // not counted
  ASSERT_EQ(pauser.Command({"CLIENT", "PAUSE", "1000", "WRITE"}), "+OK\r\n");
  const auto paused_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.Send(RedisSet(key, "in-flight")));
  ASSERT_TRUE(WaitUntil([&] { return RedisInfoField(pauser, "clients", "blocked_clients") >= 1; },
                        milliseconds(900)))
      << "the SET never reached the paused r2";
  ExpectReloaded(proxy, only_r1);
  EXPECT_LT(std::chrono::steady_clock::now() - paused_at, milliseconds(900))
      << "the reload waited for the in-flight request";
  EXPECT_EQ(client.ReadReply(), "+OK\r\n");
  EXPECT_GE(std::chrono::steady_clock::now() - paused_at, milliseconds(900))
      << "answered before r2 was unpaused: not by r2?";
  EXPECT_EQ(b2.Get(key), std::optional<std::string>("in-flight"));
  EXPECT_EQ(b1.Get(key), std::nullopt);
  // The next request on the same connection goes by the new file; r2's connection closes.
  EXPECT_EQ(client.Command({"SET", key, "after"}), "+OK\r\n");
  EXPECT_EQ(b1.Get(key), std::optional<std::string>("after"));
  EXPECT_TRUE(WaitUntil([&] { return b2.OtherClientIds().empty(); }, milliseconds(5000)))
      << "the removed server's connection did not close once idle";
}

// A transaction pinned to a server (its own connection, MULTI already sent) when a reload
// removes that server: EXEC still runs it there, on the connection it started on; the next
// transaction goes by the new file, and the dedicated connection to the removed server closes.
TEST(EdgeReloadTest, TransactionOnARemovedServerCompletesThere) {
  RedisServer r1, r2;
  ASSERT_TRUE(r1.ok() && r2.ok());
  const int port = FreePort();
  const std::string both = ConfigYaml(
      {{"p", port, true, {ServerLine(r1.port(), 1, "r1"), ServerLine(r2.port(), 1, "r2")},
        "  hash_tag: \"{}\"\n"}});
  const std::string only_r1 = ConfigYaml(
      {{"p", port, true, {ServerLine(r1.port(), 1, "r1")}, "  hash_tag: \"{}\"\n"}});
  ReloadableProxy proxy("multi", both, {port});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  std::vector<std::string> candidates;
  for (int i = 0; i < 100; ++i) candidates.push_back(absl::StrCat("{", i, "}:a"));
  std::string error;
  const auto route = RouteKeys(proxy.conf_path(), "p", candidates, &error);
  ASSERT_EQ(route.size(), candidates.size()) << error;
  std::string tag;
  for (const auto& [k, address] : route) {
    if (address == Address(r2.port())) tag = k.substr(0, k.find('}') + 1);
  }
  ASSERT_FALSE(tag.empty());
  Backend b1(r1.port(), true), b2(r2.port(), true);
  Client client(port);
  ASSERT_EQ(client.Command({"MULTI"}), "+OK\r\n");
  ASSERT_EQ(client.Command({"SET", tag + ":a", "1"}), "+QUEUED\r\n");
  ASSERT_EQ(client.Command({"INCR", tag + ":n"}), "+QUEUED\r\n");
  ExpectReloaded(proxy, only_r1);
  EXPECT_EQ(client.Command({"EXEC"}), "*2\r\n+OK\r\n:1\r\n") << proxy.Log();
  EXPECT_EQ(b2.Get(tag + ":a"), std::optional<std::string>("1"));
  EXPECT_EQ(b1.Get(tag + ":a"), std::nullopt);
  // The same client's next transaction runs on r1, the only server now.
  ASSERT_EQ(client.Command({"MULTI"}), "+OK\r\n");
  ASSERT_EQ(client.Command({"SET", tag + ":a", "2"}), "+QUEUED\r\n");
  EXPECT_EQ(client.Command({"EXEC"}), "*1\r\n+OK\r\n");
  EXPECT_EQ(b1.Get(tag + ":a"), std::optional<std::string>("2"));
  EXPECT_TRUE(WaitUntil([&] { return b2.OtherClientIds().empty(); }, milliseconds(5000)))
      << "the removed server's connections did not close once released";
}

TEST(EdgeReloadTest, RemovedPoolAnswersWhatItsClientSentThenClosesIt) {
  RedisServer r1, r2;
  ASSERT_TRUE(r1.ok() && r2.ok());
  const int kept_port = FreePort();
  const int gone_port = FreePort();
  const PoolSpec kept{"kept", kept_port, true, {ServerLine(r1.port(), 1)}, ""};
  const PoolSpec gone{"gone", gone_port, true, {ServerLine(r2.port(), 1)}, ""};
  ReloadableProxy proxy("gone", ConfigYaml({kept, gone}), {kept_port, gone_port});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Client client(gone_port);
  ASSERT_EQ(client.Command({"SET", "k", "0"}), "+OK\r\n");
  // Its server holds writes for a second: a pipeline of three is in flight across the reload.
  Client pauser(r2.port());
  ASSERT_EQ(pauser.Command({"CLIENT", "SETNAME", "reload-checker"}), "+OK\r\n");
  ASSERT_EQ(pauser.Command({"CLIENT", "PAUSE", "1000", "WRITE"}), "+OK\r\n");
  ASSERT_TRUE(client.Send(RedisSet("k", "1") + RedisGet("k") + RedisSet("k2", "2")));
  ASSERT_TRUE(WaitUntil([&] { return RedisInfoField(pauser, "clients", "blocked_clients") >= 1; },
                        milliseconds(900)))
      << "the pipeline never reached the paused server";
  ExpectReloaded(proxy, ConfigYaml({kept}));
  EXPECT_TRUE(PortRefuses(gone_port)) << "the removed pool still accepts";
  EXPECT_EQ(client.ReadReply(), "+OK\r\n");
  EXPECT_EQ(client.ReadReply(), "$1\r\n1\r\n");
  EXPECT_EQ(client.ReadReply(), "+OK\r\n");
  EXPECT_TRUE(client.WaitForClose()) << "the removed pool's client was not closed";
  Backend b2(r2.port(), true);
  EXPECT_EQ(b2.Get("k2"), std::optional<std::string>("2"));
  EXPECT_TRUE(WaitUntil([&] { return b2.OtherClientIds().empty(); }, milliseconds(5000)))
      << "the removed pool's server connection stayed open";
  Client other(kept_port);
  EXPECT_EQ(other.Command({"PING"}), "+PONG\r\n");
}

TEST(EdgeReloadTest, FilterChainChangeAppliesAtTheNextRequest) {
  RedisServer r1;
  ASSERT_TRUE(r1.ok());
  const int port = FreePort();
  const std::string plain =
      ConfigYaml({{"p", port, true, {ServerLine(r1.port(), 1, "r1")}, ""}});
  const std::string prefixed = ConfigYaml(
      {{"p", port, true, {ServerLine(r1.port(), 1, "r1")},
        "  filters:\n"
        "    - name: key_prefix\n"
        "      config: {prefix: \"app:\"}\n"
        "    - reject_unsupported\n"
        "    - hash_tag\n"
        "    - router\n"
        "    - stats\n"}});
  ReloadableProxy proxy("filters", plain, {port});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Backend b1(r1.port(), true);
  Client client(port);
  ASSERT_EQ(client.Command({"SET", "a", "1"}), "+OK\r\n");
  EXPECT_EQ(b1.Get("a"), std::optional<std::string>("1"));

  ExpectReloaded(proxy, prefixed);
  EXPECT_EQ(client.Command({"SET", "b", "2"}), "+OK\r\n");
  EXPECT_EQ(b1.Get("app:b"), std::optional<std::string>("2"));
  EXPECT_EQ(b1.Get("b"), std::nullopt);
  EXPECT_EQ(client.Command({"GET", "b"}), "$1\r\n2\r\n");

  ExpectReloaded(proxy, plain);
  EXPECT_EQ(client.Command({"SET", "c", "3"}), "+OK\r\n");
  EXPECT_EQ(b1.Get("c"), std::optional<std::string>("3"));
  EXPECT_EQ(b1.Get("app:c"), std::nullopt);
}

TEST(EdgeReloadTest, ProtocolChangeOnTheSameAddressClosesOldClientsAndServesTheNewProtocol) {
  RedisServer r1;
  MemcachedServer m1;
  ASSERT_TRUE(r1.ok() && m1.ok());
  const int port = FreePort();
  ReloadableProxy proxy("protocol",
                        ConfigYaml({{"p", port, true, {ServerLine(r1.port(), 1)}, ""}}), {port});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Client redis_client(port);
  ASSERT_EQ(redis_client.Command({"SET", "k", "v"}), "+OK\r\n");

  ExpectReloaded(proxy, ConfigYaml({{"p", port, false, {ServerLine(m1.port(), 1)}, ""}}));
  EXPECT_TRUE(redis_client.WaitForClose()) << "a redis client left on a memcache pool";
  Client memcache_client(port);
  ASSERT_TRUE(memcache_client.connected()) << "the address does not accept after the change";
  ASSERT_TRUE(memcache_client.Send(MemcacheSet("k", "mv")));
  EXPECT_EQ(memcache_client.ReadMemcacheReply(), "STORED\r\n");
  ASSERT_TRUE(memcache_client.Send(MemcacheGet("k")));
  EXPECT_EQ(memcache_client.ReadMemcacheReply(), MemcacheValue("k", "mv"));
  Backend m(m1.port(), false);
  EXPECT_EQ(m.Get("k"), std::optional<std::string>("mv"));
}

TEST(EdgeReloadTest, RenamedPoolOnTheSameAddressKeepsItsClientsAndShowsTheNewName) {
  RedisServer r1;
  ASSERT_TRUE(r1.ok());
  const int port = FreePort();
  ReloadableProxy proxy("rename",
                        ConfigYaml({{"before", port, true, {ServerLine(r1.port(), 1)}, ""}}),
                        {port});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Client client(port);
  ASSERT_EQ(client.Command({"SET", "k", "v"}), "+OK\r\n");
  ExpectReloaded(proxy, ConfigYaml({{"after", port, true, {ServerLine(r1.port(), 1)}, ""}}));
  EXPECT_EQ(client.Command({"GET", "k"}), "$1\r\nv\r\n") << "the client was not kept";
  const std::string metrics = proxy.Metrics();
  EXPECT_TRUE(absl::StrContains(metrics, "pool=\"after\""));
  EXPECT_FALSE(absl::StrContains(metrics, "pool=\"before\""));
  const std::string json = proxy.StatsJson();
  EXPECT_TRUE(absl::StrContains(json, "\"after\"")) << json;
  EXPECT_FALSE(absl::StrContains(json, "\"before\"")) << json;
}

}  // namespace
}  // namespace proxy::test

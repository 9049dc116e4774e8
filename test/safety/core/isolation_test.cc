// Issue 9, findings 5 and 4 (core part), against real redis-server backends and //:proxy:
//   * a pool whose `filters:` chain has no reject_unsupported still never forwards SUBSCRIBE,
//     MONITOR, CLIENT REPLY, blocking or admin commands: the core refuses them with the codec's
//     reason, and the backend's command statistics show none of them; connection-state commands
//     that are served (MULTI/EXEC and WATCH on a dedicated connection, HELLO, READONLY, RESET
//     and CLIENT SETNAME by the proxy) never reach the shared server connection; a bystander on
//     that connection is unaffected by each;
//   * a client's bad input never counts toward a server's failures: error replies whose text a
//     client chooses (a script's -LOADING / -OOM / -BUSY), a reply too large for the proxy,
//     and a server closing the connection right after refusing a client's request leave a
//     pool with server_failure_limit 1 un-ejected and serving everyone.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/safety/core/safety_util.h"

namespace proxy::safety_test {
namespace {

bool StartsWith(const std::string& s, absl::string_view prefix) {
  return absl::StartsWith(s, prefix);
}

TEST(UnsupportedTest, NeverForwardedWhateverTheChain) {
  Redis redis;
  ASSERT_TRUE(redis.ok());
  const int listen = FreePort();
  // No reject_unsupported in the chain.
  const std::string yaml = RedisPoolYaml(
      "alpha", listen, {redis.port()},
      {"filters:", " - hash_tag", " - router", " - stats"});
  Proxy proxy(yaml, {listen});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();

  Conn attacker(listen);
  Conn bystander(listen);
  ASSERT_TRUE(attacker.connected() && bystander.connected());
  ASSERT_EQ(bystander.Command({"SET", "bystander", "0"}), "+OK\r\n");

  int round = 0;
  auto bystander_unaffected = [&](const std::string& after) {
    // The bystander shares the server connection: its requests behave normally after each.
    const std::string value = absl::StrCat("v", ++round);
    EXPECT_EQ(bystander.Command({"SET", "bystander", value}), "+OK\r\n") << "after " << after;
    EXPECT_EQ(bystander.Command({"GET", "bystander"}),
              absl::StrCat("$", value.size(), "\r\n", value, "\r\n"))
        << "after " << after;
  };
  const std::vector<std::vector<std::string>> refused = {
      {"SUBSCRIBE", "channel"},
      {"PSUBSCRIBE", "chan*"},
      {"MONITOR"},
      {"CLIENT", "REPLY", "OFF"},
      {"CLIENT", "PAUSE", "100"},
      {"BLPOP", "list", "0"},
      {"FLUSHALL"},
      {"NOSUCHCOMMAND", "x"},
  };
  for (const auto& command : refused) {
    const std::string reply = attacker.Command(command);
    EXPECT_TRUE(StartsWith(reply, "-ERR ")) << command[0] << " got " << reply;
    bystander_unaffected(command[0]);
  }
  // Connection-state commands are served without ever reaching a shared server connection:
  // answered by the proxy (HELLO 2, READONLY, RESET, CLIENT SETNAME) or run on a dedicated
  // connection (MULTI ... EXEC, WATCH). A MULTI or WATCH on the shared connection would make
  // the bystander's next reply +QUEUED or its writes conditional.
  const std::vector<std::vector<std::string>> served = {
      {"MULTI"},   {"SET", "attacker:t", "1"}, {"EXEC"},    {"WATCH", "bystander"},
      {"UNWATCH"}, {"HELLO", "2"},             {"READONLY"}, {"READWRITE"},
      {"CLIENT", "SETNAME", "attacker"},       {"RESET"},
  };
  for (const auto& command : served) {
    const std::string reply = attacker.Command(command);
    EXPECT_FALSE(reply.empty()) << command[0];
    EXPECT_FALSE(absl::StrContains(reply, "unsupported")) << command[0] << " got " << reply;
    bystander_unaffected(command[0]);
  }
  // MULTI held open by the attacker: the bystander's commands still run at once.
  ASSERT_EQ(attacker.Command({"MULTI"}), "+OK\r\n");
  ASSERT_EQ(attacker.Command({"SET", "bystander", "attacker"}), "+QUEUED\r\n");
  bystander_unaffected("an open MULTI");
  ASSERT_EQ(attacker.Command({"DISCARD"}), "+OK\r\n");
  bystander_unaffected("DISCARD");
  // The attacker's own connection still works too.
  EXPECT_EQ(attacker.Command({"SET", "attacker", "1"}), "+OK\r\n");

  // The backend never saw any of the refused commands.
  const std::string stats = Conn(redis.port()).Command({"INFO", "commandstats"});
  ASSERT_TRUE(absl::StrContains(stats, "cmdstat_set:")) << stats;
  for (const char* name : {"cmdstat_subscribe:", "cmdstat_psubscribe:", "cmdstat_monitor:",
                           "cmdstat_client", "cmdstat_hello:", "cmdstat_readonly:",
                           "cmdstat_readwrite:", "cmdstat_reset:", "cmdstat_blpop:",
                           "cmdstat_flushall:"}) {
    EXPECT_FALSE(absl::StrContains(stats, name)) << name << " reached the backend:\n" << stats;
  }
}

// The reply to "GET"-ing a key through the proxy; used to see that the pool still serves.
std::string Get(Conn& client, const std::string& key) { return client.Command({"GET", key}); }

TEST(FailureCountingTest, ClientChosenErrorRepliesNeverEject) {
  Redis redis;
  ASSERT_TRUE(redis.ok());
  const int listen = FreePort();
  Proxy proxy(RedisPoolYaml("alpha", listen, {redis.port()},
                                   {"auto_eject_hosts: true", "server_failure_limit: 1",
                                    "server_retry_timeout: 600000"}),
                     {listen});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Conn client(listen);
  ASSERT_EQ(client.Command({"SET", "good", "1"}), "+OK\r\n");
  // A script picks its error text: the first word of a server failure, many times in a row.
  for (int i = 0; i < 5; ++i) {
    for (const char* word : {"LOADING", "OOM", "BUSY"}) {
      const std::string reply = client.Command(
          {"EVAL", absl::StrCat("return redis.error_reply('", word, " chosen by a client')"), "1",
           "k"});
      EXPECT_TRUE(StartsWith(reply, absl::StrCat("-", word))) << reply;
    }
  }
  Conn other(listen);
  EXPECT_EQ(Get(other, "good"), "$1\r\n1\r\n") << "the server was ejected";
  const std::string json = proxy.Stats();
  EXPECT_EQ(StatsField(json, "alpha", "server_ejects"), 0) << json;
}

TEST(FailureCountingTest, ReplyTooLargeForTheProxyNeverEjects) {
  Redis redis;
  ASSERT_TRUE(redis.ok());
  const int listen = FreePort();
  // Replies (and requests) above 1 MiB are refused by the proxy's decoder.
  Proxy proxy(RedisPoolYaml("alpha", listen, {redis.port()},
                                   {"auto_eject_hosts: true", "server_failure_limit: 1",
                                    "server_retry_timeout: 600000"}),
                     {listen},
                     {"--max-request-bytes=1048576"});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Conn client(listen);
  ASSERT_EQ(client.Command({"SET", "good", "1"}), "+OK\r\n");
  // A 12-byte request makes a 1.5 MB value; reading it back gives a reply the proxy refuses.
  ASSERT_EQ(client.Command({"SETRANGE", "big", "1500000", "x"}), ":1500001\r\n");
  for (int i = 0; i < 3; ++i) {
    const std::string reply = Get(client, "big");
    EXPECT_TRUE(StartsWith(reply, "-ERR")) << reply.substr(0, 80);
    // The next request opens a fresh server connection and is served.
    EXPECT_EQ(Get(client, "good"), "$1\r\n1\r\n") << "after oversized reply " << i;
  }
  const std::string json = proxy.Stats();
  EXPECT_EQ(StatsField(json, "alpha", "server_ejects"), 0) << json;
}

TEST(FailureCountingTest, ServerClosingAfterRefusingARequestNeverEjects) {
  // redis refuses bulks over 1 MiB with "-ERR Protocol error" and closes the connection.
  Redis redis({"--proto-max-bulk-len", "1048576"});
  ASSERT_TRUE(redis.ok());
  const int listen = FreePort();
  Proxy proxy(RedisPoolYaml("alpha", listen, {redis.port()},
                                   {"auto_eject_hosts: true", "server_failure_limit: 1",
                                    "server_retry_timeout: 600000"}),
                     {listen});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Conn client(listen, milliseconds(30000));
  ASSERT_EQ(client.Command({"SET", "good", "1"}), "+OK\r\n");
  const std::string big(2u << 20, 'b');
  for (int i = 0; i < 3; ++i) {
    const std::string reply = client.Command({"SET", "big", big});
    EXPECT_TRUE(StartsWith(reply, "-ERR")) << reply.substr(0, 80);
    EXPECT_EQ(Get(client, "good"), "$1\r\n1\r\n") << "after refused request " << i;
  }
  const std::string json = proxy.Stats();
  EXPECT_EQ(StatsField(json, "alpha", "server_ejects"), 0) << json << "\n" << proxy.Log();
}

TEST(FailureCountingTest, AStoppedServerIsStillEjected) {
  // The rule keeps real failures counted: a backend that stops answering is ejected after
  // server_failure_limit timeouts, and another serves its keys.
  Redis stopped;
  Redis healthy;
  ASSERT_TRUE(stopped.ok() && healthy.ok());
  const int listen = FreePort();
  Proxy proxy(RedisPoolYaml("alpha", listen, {stopped.port(), healthy.port()},
                                   {"auto_eject_hosts: true", "server_failure_limit: 1",
                                    "server_retry_timeout: 600000", "timeout: 300"}),
                     {listen});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  stopped.Pause();
  Conn client(listen);
  bool all_served = WaitUntil(
      [&] {
        for (int i = 0; i < 20; ++i) {
          if (client.Command({"SET", absl::StrCat("k", i), "v"}) != "+OK\r\n") return false;
        }
        return true;
      },
      milliseconds(30000));
  EXPECT_TRUE(all_served);
  const std::string json = proxy.Stats();
  EXPECT_GE(StatsField(json, "alpha", "server_ejects"), 1) << json;
  stopped.Resume();
}

}  // namespace
}  // namespace proxy::safety_test

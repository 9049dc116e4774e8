// RESP3 end to end: a client that sends HELLO 3 to the proxy gets, for every command class of
// test/integration/redis_commands_test.cc, exactly the bytes a redis-server gives a direct
// HELLO 3 connection holding the same data: its requests travel on RESP3 server connections
// (protocols/redis/redis_codec.h, the RESP3 variant), replies are never converted. Split
// commands are merged in RESP3 (MGET's "_" nulls), INFO is one verbatim string whose keyspace
// sums the servers', and RESP2 clients of the same proxy keep getting RESP2.
//
// Real redis-server processes and the real //:proxy on free 127.0.0.1 ports (test/integration/
// harness.h); every wait is a poll with a deadline.
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"
#include "test/integration/proxied_redis.h"
#include "test/integration/redis_command_cases.h"

namespace proxy::test {
namespace {

using std::chrono::milliseconds;

constexpr char kOk[] = "+OK\r\n";

std::string Bulk(absl::string_view s) { return absl::StrCat("$", s.size(), "\r\n", s, "\r\n"); }

// Backends asked directly over RESP3 (HELLO 3), like the clients of these tests.
ProxiedRedisOptions Resp3(ProxiedRedisOptions options = {}) {
  options.resp3 = true;
  return options;
}

// A client of the proxy that sent HELLO 3 (with `hello_extra` options).
std::unique_ptr<Client> ConnectResp3(ProxiedRedis& cluster,
                                     std::vector<std::string> hello_extra = {}) {
  auto client = cluster.Connect();
  std::vector<std::string> hello = {"HELLO", "3"};
  hello.insert(hello.end(), hello_extra.begin(), hello_extra.end());
  const std::string reply = client->Command(hello);
  EXPECT_TRUE(absl::StartsWith(reply, "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n")) << ShowBytes(reply);
  return client;
}

// The command matrix is test/integration/redis_command_cases.h (shared with the RESP2 test).

TEST(Resp3Test, EveryCommandClassMatchesADirectResp3Connection) {
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start(Resp3()));
  RedisServer reference;
  ASSERT_TRUE(reference.ok());
  Client ref(reference.port());
  ASSERT_TRUE(absl::StartsWith(ref.Command({"HELLO", "3"}), "%7\r\n"));
  auto client = ConnectResp3(cluster);
  size_t resp3_only = 0;  // replies whose RESP3 form differs from RESP2 (maps, sets, doubles...)
  for (const Case& test : CommandCases()) {
    const std::string got = client->Command(test.args);
    const std::string want = ref.Command(test.args);
    ASSERT_FALSE(got.empty()) << "no reply through the proxy to " << ShowArgs(test.args);
    EXPECT_EQ(ShowBytes(got), ShowBytes(want))
        << "through the proxy vs redis: " << ShowArgs(test.args);
    const char type = want.empty() ? 0 : want[0];
    if (type == '%' || type == '~' || type == ',' || type == '_' || type == '=') ++resp3_only;
    if (test.read_only && test.key_at > 0 && static_cast<size_t>(test.key_at) < test.args.size()) {
      const int owner = cluster.OwnerOf(test.args[test.key_at]);
      if (owner >= 0) {
        EXPECT_EQ(ShowBytes(got), ShowBytes(cluster.backend(owner).Command(test.args)))
            << "through the proxy vs directly on the owner: " << ShowArgs(test.args);
      }
    }
  }
  // The matrix did exercise RESP3's own types.
  EXPECT_GT(resp3_only, 10u);
}

TEST(Resp3Test, SplitCommandsMergeInResp3) {
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start(Resp3()));
  RedisServer reference;
  ASSERT_TRUE(reference.ok());
  Client ref(reference.port());
  ASSERT_TRUE(absl::StartsWith(ref.Command({"HELLO", "3"}), "%7\r\n"));
  auto client = ConnectResp3(cluster);
  auto both = [&](const std::vector<std::string>& args) {
    const std::string got = client->Command(args);
    EXPECT_EQ(ShowBytes(got, 2000), ShowBytes(ref.Command(args), 2000)) << ShowArgs(args);
    return got;
  };
  std::vector<std::string> mset = {"MSET"};
  std::vector<std::string> mget = {"MGET"};
  for (int i = 0; i < 30; ++i) {
    mset.push_back(absl::StrCat("m3:", i, ":k"));
    mset.push_back(absl::StrCat("v", i));
    mget.push_back(absl::StrCat("m3:", i, ":k"));
    if (i % 4 == 0) mget.push_back(absl::StrCat("missing:", i));
  }
  EXPECT_EQ(both(mset), kOk);
  std::set<int> owners;
  for (int i = 0; i < 30; ++i) owners.insert(cluster.OwnerOf(absl::StrCat("m3:", i, ":k")));
  EXPECT_EQ(owners, (std::set<int>{0, 1, 2})) << "MSET did not spread over the 3 servers";
  const std::string merged = both(mget);
  EXPECT_NE(merged.find("_\r\n"), std::string::npos)
      << "RESP3 nulls expected: " << ShowBytes(merged);
  both({"MGET", "missing:a", "missing:b", "missing:c"});
  both({"EXISTS", "m3:1:k", "m3:2:k", "m3:3:k", "missing:x", "m3:1:k"});
  both({"TOUCH", "m3:4:k", "m3:5:k", "m3:6:k"});
  // Maps, sets and doubles straight from the owning server.
  both({"HSET", "h3", "a", "1", "b", "2"});
  EXPECT_TRUE(absl::StartsWith(both({"HGETALL", "h3"}), "%2\r\n"));
  both({"SADD", "s3", "1", "2", "3"});
  EXPECT_TRUE(absl::StartsWith(both({"SMEMBERS", "s3"}), "~3\r\n"));
  both({"ZADD", "z3", "1.5", "m"});
  EXPECT_EQ(both({"ZSCORE", "z3", "m"}), ",1.5\r\n");
  EXPECT_EQ(both({"ZSCORE", "z3", "nope"}), "_\r\n");
  EXPECT_EQ(both({"GET", "missing:z"}), "_\r\n");
  both({"DEL", "m3:7:k", "m3:8:k", "m3:9:k", "h3", "s3", "z3", "missing:q"});
  both(mget);
}

// "dbN:keys=K,expires=E,..." of every backend, summed by database (the proxy's rule: keys and
// expires summed, avg_ttl weighted by expires).
std::string SummedKeyspace(ProxiedRedis& cluster) {
  std::map<int64_t, std::pair<int64_t, int64_t>> sums;
  for (size_t i = 0; i < cluster.size(); ++i) {
    const std::string reply = cluster.backend(i).Command({"INFO", "keyspace"});
    for (absl::string_view line : absl::StrSplit(reply, "\r\n")) {
      int64_t db = 0, keys = 0, expires = 0;
      std::vector<std::string> parts = absl::StrSplit(line, absl::ByAnyChar(":,="));
      if (parts.size() >= 5 && absl::StartsWith(parts[0], "db") &&
          absl::SimpleAtoi(parts[0].substr(2), &db) && absl::SimpleAtoi(parts[2], &keys) &&
          absl::SimpleAtoi(parts[4], &expires)) {
        sums[db].first += keys;
        sums[db].second += expires;
      }
    }
  }
  std::string text = "# Keyspace\r\n";
  for (const auto& [db, sum] : sums) {
    absl::StrAppend(&text, "db", db, ":keys=", sum.first, ",expires=", sum.second,
                    ",avg_ttl=0\r\n");
  }
  return text;
}

TEST(Resp3Test, InfoIsOneVerbatimDocumentWithTheServersKeyspaceSummed) {
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start(Resp3()));
  auto client = ConnectResp3(cluster);
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(client->Command({"SET", absl::StrCat("info:", i, ":k"), "v"}), kOk);
  }
  const std::string keyspace = SummedKeyspace(cluster);
  EXPECT_NE(keyspace.find("db0:keys=40,expires=0"), std::string::npos) << keyspace;
  const std::string expected = absl::StrCat("=", keyspace.size() + 4, "\r\ntxt:", keyspace, "\r\n");
  EXPECT_EQ(ShowBytes(client->Command({"INFO", "keyspace"})), ShowBytes(expected));
  // The whole document, as redis sends INFO to a RESP3 client.
  const std::string info = client->Command({"INFO"});
  ASSERT_TRUE(absl::StartsWith(info, "=")) << ShowBytes(info);
  EXPECT_NE(info.find("\r\ntxt:# Server\r\nredis_version:"), std::string::npos) << ShowBytes(info);
  EXPECT_NE(info.find("\r\nloading:0\r\n"), std::string::npos) << ShowBytes(info, 3000);
  EXPECT_NE(info.find(keyspace), std::string::npos) << ShowBytes(info, 3000);
  EXPECT_EQ(info.size(), RespLength(info));
  // A RESP2 client of the same proxy gets the same document as a bulk string.
  Client resp2(cluster.port());
  EXPECT_EQ(ShowBytes(resp2.Command({"INFO", "keyspace"})), ShowBytes(Bulk(keyspace)));
}

TEST(Resp3Test, Resp2AndClientsShareTheProxyAndHelloSwitchesBack) {
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start(Resp3()));
  auto resp3 = ConnectResp3(cluster, {"SETNAME", "r3"});
  Client resp2(cluster.port());
  ASSERT_EQ(resp2.Command({"HSET", "mixed", "f", "v"}), ":1\r\n");
  for (int round = 0; round < 20; ++round) {
    EXPECT_EQ(resp3->Command({"HGETALL", "mixed"}), "%1\r\n$1\r\nf\r\n$1\r\nv\r\n");
    EXPECT_EQ(resp2.Command({"HGETALL", "mixed"}), "*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
    EXPECT_EQ(resp3->Command({"GET", "nothing"}), "_\r\n");
    EXPECT_EQ(resp2.Command({"GET", "nothing"}), "$-1\r\n");
  }
  EXPECT_EQ(resp3->Command({"CLIENT", "GETNAME"}), Bulk("r3"));
  // Pipelined across the switch: each reply in the protocol its request was sent in.
  ASSERT_TRUE(resp3->Send(Resp({"HGETALL", "mixed"}) + Resp({"HELLO", "2"}) +
                          Resp({"HGETALL", "mixed"}) + Resp({"GET", "nothing"})));
  EXPECT_EQ(resp3->ReadReply(), "%1\r\n$1\r\nf\r\n$1\r\nv\r\n");
  EXPECT_TRUE(absl::StartsWith(resp3->ReadReply(), "*14\r\n"));
  EXPECT_EQ(resp3->ReadReply(), "*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
  EXPECT_EQ(resp3->ReadReply(), "$-1\r\n");
  EXPECT_EQ(resp3->Command({"CLIENT", "GETNAME"}), Bulk("r3"));
  EXPECT_EQ(resp3->Command({"RESET"}), "+RESET\r\n");
  EXPECT_EQ(resp3->Command({"CLIENT", "GETNAME"}), "$-1\r\n");
}

TEST(Resp3Test, PasswordProtectedBackendsAndHelloAuth) {
  ProxiedRedis cluster;
  ProxiedRedisOptions options;
  options.redis_args = {"--requirepass", "s3cret"};
  options.password = "s3cret";
  options.pool_yaml = "  redis_auth: s3cret\n  redis_db: 2\n";
  ASSERT_TRUE(cluster.Start(Resp3(options)));
  Client client(cluster.port());
  EXPECT_EQ(client.Command({"GET", "k"}), "-NOAUTH Authentication required\r\n");
  EXPECT_EQ(client.Command({"HELLO", "3", "AUTH", "default", "wrong"}),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_TRUE(absl::StartsWith(client.Command({"HELLO", "3", "AUTH", "default", "s3cret"}),
                               "%7\r\n"));
  EXPECT_EQ(client.Command({"SET", "auth3", "v"}), kOk);
  EXPECT_EQ(client.Command({"GET", "auth3"}), "$1\r\nv\r\n");
  EXPECT_EQ(client.Command({"GET", "missing"}), "_\r\n");
  // The key went to database 2 of its backend (the RESP3 handshake: AUTH, HELLO 3, SELECT).
  const int owner = cluster.OwnerOf("auth3");
  EXPECT_EQ(owner, -1) << "the backends' direct connections use database 0";
  bool found = false;
  for (size_t i = 0; i < cluster.size(); ++i) {
    auto direct = cluster.Direct(i);
    ASSERT_EQ(direct->Command({"SELECT", "2"}), kOk);
    found |= direct->Command({"GET", "auth3"}) == "$1\r\nv\r\n";
  }
  EXPECT_TRUE(found);
}

// Transactions of a RESP3 client run on a pinned RESP3 connection: EXEC's reply is what redis
// gives a direct HELLO 3 connection (doubles and maps inside it included).
TEST(Resp3Test, TransactionsInResp3MatchRedis) {
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start(Resp3()));
  RedisServer reference;
  ASSERT_TRUE(reference.ok());
  Client ref(reference.port());
  ASSERT_TRUE(absl::StartsWith(ref.Command({"HELLO", "3"}), "%7\r\n"));
  auto client = ConnectResp3(cluster);
  const std::vector<std::vector<std::string>> transaction = {
      {"MULTI"},
      {"HSET", "{t}h", "a", "1"},
      {"INCRBYFLOAT", "{t}f", "1.5"},
      {"ZADD", "{t}z", "2.5", "m"},
      {"ZSCORE", "{t}z", "m"},
      {"HGETALL", "{t}h"},
      {"GET", "{t}missing"},
      {"EXEC"},
      {"WATCH", "{t}h"},
      {"MULTI"},
      {"HINCRBY", "{t}h", "a", "2"},
      {"EXEC"},
      {"MULTI"},
      {"SET", "{t}x", "1"},
      {"DISCARD"},
      {"EXISTS", "{t}x"},
  };
  for (const std::vector<std::string>& command : transaction) {
    EXPECT_EQ(ShowBytes(client->Command(command)), ShowBytes(ref.Command(command)))
        << ShowArgs(command);
  }
  // While WATCH holds a pinned RESP3 connection, HELLO 2 would change its protocol: refused.
  EXPECT_EQ(client->Command({"WATCH", "{t}h"}), kOk);
  EXPECT_TRUE(absl::StartsWith(client->Command({"HELLO", "2"}), "-ERR HELLO is not allowed"));
  EXPECT_EQ(client->Command({"UNWATCH"}), kOk);
  EXPECT_TRUE(absl::StartsWith(client->Command({"HELLO", "2"}), "*14\r\n"));
  EXPECT_EQ(client->Command({"HGETALL", "{t}h"}), "*2\r\n$1\r\na\r\n$1\r\n3\r\n");
}

// What node-redis, redis-py and ioredis send when they connect, pipelined as they send it:
// every step answered the way each library accepts.
TEST(Resp3Test, TodaysClientHandshakesPipelined) {
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start(Resp3()));
  // node-redis: HELLO 3 with SETNAME, then CLIENT SETINFO (an error would be ignored, +OK is
  // what redis 7.2 answers), then its commands.
  {
    Client client(cluster.port());
    ASSERT_TRUE(client.Send(Resp({"HELLO", "3", "SETNAME", "node"}) +
                            Resp({"CLIENT", "SETINFO", "LIB-NAME", "node-redis"}) +
                            Resp({"CLIENT", "SETINFO", "LIB-VER", "5.0.0"}) +
                            Resp({"SET", "hs:node", "1"}) + Resp({"HGETALL", "nohash"})));
    const std::string hello = client.ReadReply();
    EXPECT_TRUE(absl::StartsWith(hello, "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n"))
        << ShowBytes(hello);
    EXPECT_NE(hello.find("$5\r\nproto\r\n:3\r\n"), std::string::npos) << ShowBytes(hello);
    EXPECT_EQ(client.ReadReply(), kOk);
    EXPECT_EQ(client.ReadReply(), kOk);
    EXPECT_EQ(client.ReadReply(), kOk);
    EXPECT_EQ(client.ReadReply(), "%0\r\n");  // RESP3 from a RESP3 server connection
  }
  // redis-py (protocol=3, maintenance notifications in "auto" mode): an unknown-subcommand
  // error for MAINT_NOTIFICATIONS, which it tolerates, as from redis before 8.2.
  {
    Client client(cluster.port());
    ASSERT_TRUE(client.Send(Resp({"HELLO", "3"}) + Resp({"CLIENT", "SETINFO", "LIB-NAME", "redis-py"}) +
                            Resp({"CLIENT", "SETINFO", "LIB-VER", "6.0.0"}) +
                            Resp({"CLIENT", "MAINT_NOTIFICATIONS", "ON", "moving-endpoint-type",
                                  "internal-ip"}) +
                            Resp({"SELECT", "0"}) + Resp({"PING"})));
    EXPECT_TRUE(absl::StartsWith(client.ReadReply(), "%7\r\n"));
    EXPECT_EQ(client.ReadReply(), kOk);
    EXPECT_EQ(client.ReadReply(), kOk);
    EXPECT_EQ(client.ReadReply(),
              "-ERR unknown subcommand 'MAINT_NOTIFICATIONS'. Try CLIENT HELP.\r\n");
    EXPECT_EQ(client.ReadReply(), kOk);
    EXPECT_EQ(client.ReadReply(), "+PONG\r\n");
  }
  // ioredis (RESP2): the INFO ready check, then CLIENT SETNAME.
  {
    Client client(cluster.port());
    const std::string info = client.Command({"INFO"});
    EXPECT_TRUE(absl::StartsWith(info, "$")) << ShowBytes(info);
    EXPECT_NE(info.find("\r\nloading:0\r\n"), std::string::npos) << ShowBytes(info, 3000);
    EXPECT_EQ(client.Command({"CLIENT", "SETNAME", "io"}), kOk);
    EXPECT_EQ(client.Command({"GET", "hs:node"}), Bulk("1"));
  }
}

}  // namespace
}  // namespace proxy::test

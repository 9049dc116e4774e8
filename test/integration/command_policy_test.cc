// End-to-end tests of the command_policy filter: real redis-server and memcached backends on free
// 127.0.0.1 ports behind the real //:proxy, with pools whose `filters:` lists put command_policy
// in front of the default chain:
//   * deny lists (DEL, FLUSHDB refused by the policy; KEYS still explained by reject_unsupported),
//   * read-only pools (SET/DEL/MSET/INCR refused, GET/MGET served from data written elsewhere),
//   * allow lists (only GET/MGET/EXISTS pass; PING is answered by the proxy itself),
//   * a rate limit (5 per second, burst 5: five GETs pass, the sixth is refused at once),
//   * pipelines keep their order across refusals, and every connection stays open,
//   * memcache: a read-only pool refuses set/delete/incr with CLIENT_ERROR (SERVER_ERROR would
//     make clients such as node's `memcached` mark the server dead) and serves get.
//
// Every process is started by the test itself and stopped by the harness destructors; the only
// sleep is where elapsed time is the behaviour (the token bucket refilling).
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"

namespace proxy::test {
namespace {

using std::chrono::milliseconds;

constexpr char kOk[] = "+OK\r\n";
constexpr char kPong[] = "+PONG\r\n";
constexpr char kStored[] = "STORED\r\n";
constexpr char kEnd[] = "END\r\n";

std::string Bulk(absl::string_view s) { return absl::StrCat("$", s.size(), "\r\n", s, "\r\n"); }
std::string Err(absl::string_view text) { return absl::StrCat("-ERR ", text, "\r\n"); }
std::string McErr(absl::string_view text) { return absl::StrCat("CLIENT_ERROR ", text, "\r\n"); }

// A reply in a readable form for failure messages.
std::string Show(absl::string_view bytes) {
  return absl::StrCat("\"", absl::CHexEscape(bytes), "\"");
}

::testing::AssertionResult Installed(absl::string_view tool, absl::string_view package) {
  if (!FindExecutable(tool).empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << tool << " is not installed (not found in $PATH, /usr/bin, /usr/sbin); these "
         << "integration tests need it: apt-get install " << package;
}

// Two redis-servers and one memcached behind one proxy with five pools:
//   guarded     redis     command_policy {deny_commands: [FLUSHDB, DEL]}
//   replica     redis     command_policy {read_only: true}
//   lookup      redis     command_policy {allow_commands: [GET, MGET, EXISTS]}
//   limited     redis     command_policy {rate_limits: [{command: GET, per_second: 5, burst: 5}]}
//   mc_replica  memcache  command_policy {read_only: true, deny_commands: [touch]}
// The redis pools share the backends (named s1, s2: same placement), so data written through
// `guarded` is read through the others.
class CommandPolicyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!Installed("redis-server", "redis-server") || !Installed("memcached", "memcached")) {
      return;
    }
    for (int i = 0; i < 2; ++i) redis_[i] = new RedisServer();
    memcached_ = new MemcachedServer();
    for (int& port : ports_) port = FreePort();
    const std::string redis_servers = absl::StrCat("   - 127.0.0.1:", redis_[0]->port(),
                                                   ":1 s1\n   - 127.0.0.1:", redis_[1]->port(),
                                                   ":1 s2\n");
    auto redis_pool = [&](absl::string_view name, int port, absl::string_view policy) {
      return absl::StrCat(name, ":\n  listen: 127.0.0.1:", port,
                          "\n  redis: true\n  hash: fnv1a_64\n  distribution: ketama\n"
                          "  servers:\n",
                          redis_servers,
                          "  filters:\n   - name: command_policy\n     config:\n", policy,
                          "   - reject_unsupported\n   - hash_tag\n   - router\n   - stats\n");
    };
    yaml_ = absl::StrCat(
        redis_pool("guarded", ports_[0],
                   "       deny_commands:\n        - FLUSHDB\n        - DEL\n"),
        redis_pool("replica", ports_[1], "       read_only: true\n"),
        redis_pool("lookup", ports_[2],
                   "       allow_commands:\n        - GET\n        - mget\n        - Exists\n"),
        redis_pool("limited", ports_[3],
                   "       rate_limits:\n        - command: GET\n          per_second: 5\n"
                   "          burst: 5\n"),
        "mc_replica:\n  listen: 127.0.0.1:", ports_[4],
        "\n  servers:\n   - 127.0.0.1:", memcached_->port(),
        ":1 m1\n  filters:\n   - name: command_policy\n     config:\n"
        "       read_only: true\n       deny_commands:\n        - touch\n"
        "   - reject_unsupported\n   - hash_tag\n   - router\n   - stats\n");
    proxy_ = new ProxyProcess(yaml_, std::vector<int>(std::begin(ports_), std::end(ports_)));
  }

  static void TearDownTestSuite() {
    delete proxy_;
    delete memcached_;
    for (RedisServer*& server : redis_) delete server;
    proxy_ = nullptr;
    memcached_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(Installed("redis-server", "redis-server"));
    ASSERT_TRUE(Installed("memcached", "memcached"));
    ASSERT_TRUE(redis_[0]->ok() && redis_[1]->ok()) << "redis-server did not start";
    ASSERT_TRUE(memcached_->ok()) << "memcached did not start";
    ASSERT_TRUE(proxy_->ok()) << "the proxy did not start with\n" << yaml_ << "log:\n"
                              << proxy_->Log();
  }

  static int guarded() { return ports_[0]; }
  static int replica() { return ports_[1]; }
  static int lookup() { return ports_[2]; }
  static int limited() { return ports_[3]; }
  static int mc_replica() { return ports_[4]; }

  // Sends every command in one write, then reads one reply per command.
  static std::vector<std::string> Pipeline(Client& client,
                                           const std::vector<std::vector<std::string>>& commands) {
    std::string bytes;
    for (const auto& command : commands) bytes += Resp(command);
    std::vector<std::string> replies;
    if (!client.Send(bytes)) return replies;
    for (size_t i = 0; i < commands.size(); ++i) replies.push_back(client.ReadReply());
    return replies;
  }

  static RedisServer* redis_[2];
  static MemcachedServer* memcached_;
  static int ports_[5];
  static std::string yaml_;
  static ProxyProcess* proxy_;
};

RedisServer* CommandPolicyTest::redis_[2] = {nullptr, nullptr};
MemcachedServer* CommandPolicyTest::memcached_ = nullptr;
int CommandPolicyTest::ports_[5] = {};
std::string CommandPolicyTest::yaml_;
ProxyProcess* CommandPolicyTest::proxy_ = nullptr;

TEST_F(CommandPolicyTest, DeniedCommandsAreRefusedAndTheConnectionStaysOpen) {
  Client client(guarded());
  ASSERT_TRUE(client.connected());
  ASSERT_EQ(client.Command({"SET", "deny:a", "1"}), kOk);
  EXPECT_EQ(client.Command({"DEL", "deny:a"}),
            Err("command 'DEL' is refused: pool 'guarded' denies it"));
  EXPECT_EQ(client.Command({"del", "deny:a", "deny:b"}),
            Err("command 'DEL' is refused: pool 'guarded' denies it"));
  EXPECT_EQ(client.Command({"FLUSHDB"}),
            Err("command 'FLUSHDB' is refused: pool 'guarded' denies it"));
  // Not denied by the policy: the next filter (reject_unsupported) explains it.
  EXPECT_EQ(client.Command({"FLUSHALL"}),
            Err("unsupported command 'FLUSHALL': keys are spread over several servers; run it "
                "on each server directly"));
  EXPECT_EQ(client.Command({"KEYS", "*"}),
            Err("unsupported command 'KEYS': keys are spread over several servers; run it on "
                "each server directly"));
  // Nothing was deleted, and the same connection still works.
  EXPECT_EQ(client.Command({"GET", "deny:a"}), Bulk("1"));
  EXPECT_EQ(client.Command({"UNLINK", "deny:a"}), ":1\r\n");
  EXPECT_EQ(client.Command({"GET", "deny:a"}), "$-1\r\n");
}

TEST_F(CommandPolicyTest, ReadOnlyPoolRefusesWritesAndServesReads) {
  Client writer(guarded());
  ASSERT_EQ(writer.Command({"MSET", "ro:a", "alpha", "ro:b", "beta", "ro:n", "7"}), kOk);

  Client client(replica());
  ASSERT_TRUE(client.connected());
  const std::string refused = "' is refused: pool 'replica' is read-only";
  EXPECT_EQ(client.Command({"SET", "ro:a", "x"}), Err(absl::StrCat("command 'SET", refused)));
  EXPECT_EQ(client.Command({"DEL", "ro:a", "ro:b"}), Err(absl::StrCat("command 'DEL", refused)));
  EXPECT_EQ(client.Command({"MSET", "ro:a", "x", "ro:b", "y"}),
            Err(absl::StrCat("command 'MSET", refused)));
  EXPECT_EQ(client.Command({"incr", "ro:n"}), Err(absl::StrCat("command 'INCR", refused)));
  EXPECT_EQ(client.Command({"EXPIRE", "ro:a", "100"}),
            Err(absl::StrCat("command 'EXPIRE", refused)));
  // Reads are served, and show that nothing changed.
  EXPECT_EQ(client.Command({"GET", "ro:a"}), Bulk("alpha"));
  EXPECT_EQ(client.Command({"MGET", "ro:a", "ro:b", "ro:n", "ro:missing"}),
            absl::StrCat("*4\r\n", Bulk("alpha"), Bulk("beta"), Bulk("7"), "$-1\r\n"));
  EXPECT_EQ(client.Command({"TTL", "ro:a"}), ":-1\r\n");
  EXPECT_EQ(client.Command({"PING"}), kPong);
}

TEST_F(CommandPolicyTest, PipelinesKeepTheirOrderAcrossRefusals) {
  Client writer(guarded());
  ASSERT_EQ(writer.Command({"MSET", "pipe:a", "1", "pipe:b", "2"}), kOk);

  Client client(replica());
  const std::string refused = "' is refused: pool 'replica' is read-only";
  std::vector<std::vector<std::string>> commands;
  std::vector<std::string> expected;
  for (int round = 0; round < 50; ++round) {
    commands.push_back({"GET", "pipe:a"});
    expected.push_back(Bulk("1"));
    commands.push_back({"SET", "pipe:a", "x"});
    expected.push_back(Err(absl::StrCat("command 'SET", refused)));
    commands.push_back({"MGET", "pipe:b", "pipe:a"});
    expected.push_back(absl::StrCat("*2\r\n", Bulk("2"), Bulk("1")));
    commands.push_back({"DEL", "pipe:a", "pipe:b"});
    expected.push_back(Err(absl::StrCat("command 'DEL", refused)));
    commands.push_back({"PING"});
    expected.push_back(kPong);
    commands.push_back({"GET", "pipe:b"});
    expected.push_back(Bulk("2"));
  }
  const std::vector<std::string> replies = Pipeline(client, commands);
  ASSERT_EQ(replies.size(), expected.size());
  for (size_t i = 0; i < replies.size(); ++i) {
    ASSERT_EQ(replies[i], expected[i]) << "reply " << i << ": " << Show(replies[i]);
  }
}

TEST_F(CommandPolicyTest, AllowListPassesOnlyTheListedCommands) {
  Client writer(guarded());
  ASSERT_EQ(writer.Command({"SET", "allow:a", "A"}), kOk);

  Client client(lookup());
  const std::string refused = "' is refused: pool 'lookup' allows only GET, mget, Exists";
  EXPECT_EQ(client.Command({"get", "allow:a"}), Bulk("A"));
  EXPECT_EQ(client.Command({"MGET", "allow:a", "allow:none"}),
            absl::StrCat("*2\r\n", Bulk("A"), "$-1\r\n"));
  EXPECT_EQ(client.Command({"EXISTS", "allow:a", "allow:none"}), ":1\r\n");
  EXPECT_EQ(client.Command({"SET", "allow:a", "B"}), Err(absl::StrCat("command 'SET", refused)));
  EXPECT_EQ(client.Command({"HGET", "allow:h", "f"}), Err(absl::StrCat("command 'HGET", refused)));
  EXPECT_EQ(client.Command({"NOSUCHCOMMAND", "x"}),
            Err(absl::StrCat("command 'NOSUCHCOMMAND", refused)));
  // Local commands are answered by the proxy before any filter runs.
  EXPECT_EQ(client.Command({"PING"}), kPong);
  EXPECT_EQ(client.Command({"GET", "allow:a"}), Bulk("A"));
}

TEST_F(CommandPolicyTest, RateLimitRefusesTheRequestBeyondTheBurst) {
  Client writer(guarded());
  ASSERT_EQ(writer.Command({"SET", "rate:a", "v"}), kOk);

  Client client(limited());
  // Six GETs in one pipeline: the bucket holds five tokens, and refills one per 200 ms.
  std::vector<std::vector<std::string>> gets(6, {"GET", "rate:a"});
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> replies = Pipeline(client, gets);
  ASSERT_EQ(replies.size(), 6u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(replies[i], Bulk("v")) << "GET " << i;
  EXPECT_EQ(replies[5], Err("command 'GET' is over its rate limit of 5 per second"));
  // Other commands are not limited, and a refused GET does not close the connection.
  for (int i = 0; i < 20; ++i) ASSERT_EQ(client.Command({"SET", "rate:b", "w"}), kOk);
  // Another connection of the pool shares the (worker's) bucket: it gets only the tokens that
  // came back since `start` (5 per second, counted here from the clock rather than assumed to
  // be none), never five of its own.
  Client other(limited());
  std::vector<std::string> other_replies = Pipeline(other, gets);
  const double elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(other_replies.size(), 6u);
  int passed = 0;
  for (const std::string& reply : other_replies) {
    if (reply == Bulk("v")) {
      ++passed;
    } else {
      EXPECT_EQ(reply, Err("command 'GET' is over its rate limit of 5 per second"));
    }
  }
  EXPECT_LE(passed, std::min(5, static_cast<int>(elapsed_s * 5))) << elapsed_s << " s";
  EXPECT_LT(passed, 6);
  // Elapsed time is the behaviour here: after a second the bucket is full again.
  std::this_thread::sleep_for(milliseconds(1100));
  replies = Pipeline(client, gets);
  ASSERT_EQ(replies.size(), 6u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(replies[i], Bulk("v")) << "GET " << i;
  EXPECT_EQ(replies[5], Err("command 'GET' is over its rate limit of 5 per second"));
}

TEST_F(CommandPolicyTest, MemcacheReadOnlyPoolRefusesWritesWithClientError) {
  Client direct(memcached_->port());
  ASSERT_TRUE(direct.Send("set mc:a 5 0 3\r\nabc\r\nset mc:n 0 0 2\r\n10\r\n"));
  ASSERT_EQ(direct.ReadMemcacheReply(), kStored);
  ASSERT_EQ(direct.ReadMemcacheReply(), kStored);

  Client client(mc_replica());
  ASSERT_TRUE(client.connected());
  const std::string refused = "' is refused: pool 'mc_replica' is read-only";
  struct Case {
    std::string request;
    std::string reply;
  };
  const std::vector<Case> cases = {
      {"get mc:a\r\n", "VALUE mc:a 5 3\r\nabc\r\nEND\r\n"},
      {"set mc:a 0 0 3\r\nxyz\r\n", McErr(absl::StrCat("command 'set", refused))},
      {"add mc:new 0 0 1\r\nq\r\n", McErr(absl::StrCat("command 'add", refused))},
      {"delete mc:a\r\n", McErr(absl::StrCat("command 'delete", refused))},
      {"incr mc:n 5\r\n", McErr(absl::StrCat("command 'incr", refused))},
      {"decr mc:n 5\r\n", McErr(absl::StrCat("command 'decr", refused))},
      {"touch mc:a 100\r\n",
       McErr("command 'touch' is refused: pool 'mc_replica' denies it")},
      // A value that looks like a command line must not be taken for one after a refusal.
      {"append mc:a 0 0 12\r\nget mc:a\r\nxx\r\n", McErr(absl::StrCat("command 'append", refused))},
      {"get mc:a mc:n mc:missing\r\n", "VALUE mc:a 5 3\r\nabc\r\nVALUE mc:n 0 2\r\n10\r\nEND\r\n"},
      {"gets mc:missing\r\n", kEnd},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(client.Send(c.request));
    EXPECT_EQ(client.ReadMemcacheReply(), c.reply) << "request " << Show(c.request);
  }
  // The same cases pipelined in one write come back in order.
  std::string all;
  for (const Case& c : cases) all += c.request;
  ASSERT_TRUE(client.Send(all));
  for (const Case& c : cases) {
    EXPECT_EQ(client.ReadMemcacheReply(), c.reply) << "pipelined " << Show(c.request);
  }
  // memcached itself still has the original values.
  ASSERT_TRUE(direct.Send("get mc:a mc:n\r\n"));
  EXPECT_EQ(direct.ReadMemcacheReply(), "VALUE mc:a 5 3\r\nabc\r\nVALUE mc:n 0 2\r\n10\r\nEND\r\n");
}

}  // namespace
}  // namespace proxy::test

// Issue 9 regression tests (redis): client A (the attacker) and client B (the victim) share one
// connection to a real redis-server 7 (a pool with server_connections: 1, with and without a
// `timeout`). Whatever A sends, B's replies are exactly its own and arrive (no pool timeout
// hides a hang: the no-timeout variant would block forever), A gets a clear error, and nothing
// A was refused reaches the server (checked in the server's INFO commandstats).
//
// Findings covered: 3 (inline NUL, \0 before an array), 5 (mode-changing commands: refused, or
// answered by the proxy for HELLO/CLIENT/RESET/READONLY), 6 (transactions run on a connection
// of their own, never the shared one), 8/14 (unauthenticated limits, AUTH), and the multibulk
// framing rules of protocols/redis/request_decoder.h.
//
// Every process is started by the test and stopped by the harness destructors; waits are polls
// with deadlines (the clients' receive timeout), never sleeps.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"

namespace proxy::test::safety {
namespace {

using std::chrono::milliseconds;

constexpr char kOk[] = "+OK\r\n";
constexpr char kNil[] = "$-1\r\n";

std::string Bulk(absl::string_view s) { return absl::StrCat("$", s.size(), "\r\n", s, "\r\n"); }
std::string Show(absl::string_view bytes) {
  return absl::StrCat("\"", absl::CHexEscape(bytes.substr(0, 300)), "\"");
}

template <size_t N>
std::string Lit(const char (&s)[N]) {
  return std::string(s, N - 1);
}

struct PoolOptions {
  bool timeout = false;          // a pool `timeout` (2 s) or none at all
  std::string password;          // redis_auth (and the server's requirepass)
  std::string extra_yaml;        // more pool keys, each "  key: value\n"
};

// One redis-server behind a one-connection pool, plus a direct connection to the server.
class SharedPool {
 public:
  ::testing::AssertionResult Start(const PoolOptions& options) {
    if (FindExecutable("redis-server").empty()) {
      return ::testing::AssertionFailure()
             << "redis-server not found in PATH nor /usr/bin (apt-get install redis-server)";
    }
    options_ = options;
    std::vector<std::string> args;
    if (!options.password.empty()) args = {"--requirepass", options.password};
    redis_ = std::make_unique<RedisServer>(args);
    if (!redis_->ok()) return ::testing::AssertionFailure() << "redis-server did not start";
    port_ = FreePort();
    const std::string yaml = absl::StrCat(
        "pool:\n  listen: 127.0.0.1:", port_, "\n  redis: true\n  server_connections: 1\n",
        options.timeout ? "  timeout: 2000\n" : "",
        options.password.empty() ? "" : absl::StrCat("  redis_auth: ", options.password, "\n"),
        options.extra_yaml, "  servers:\n   - 127.0.0.1:", redis_->port(), ":1 s1\n");
    proxy_ = std::make_unique<ProxyProcess>(yaml, std::vector<int>{port_});
    if (!proxy_->ok()) {
      return ::testing::AssertionFailure() << "the proxy did not start with\n"
                                           << yaml << "log:\n"
                                           << proxy_->Log();
    }
    direct_ = std::make_unique<Client>(redis_->port());
    if (!options.password.empty() && direct_->Command({"AUTH", options.password}) != kOk) {
      return ::testing::AssertionFailure() << "cannot authenticate to redis directly";
    }
    return ::testing::AssertionSuccess();
  }

  // A new client of the proxy (authenticated when the pool has redis_auth and `auth`).
  std::unique_ptr<Client> Connect(bool auth = true) {
    auto client = std::make_unique<Client>(port_, milliseconds(15000));
    if (auth && !options_.password.empty()) {
      EXPECT_EQ(client->Command({"AUTH", options_.password}), kOk);
    }
    return client;
  }

  Client& direct() { return *direct_; }

  // The server's INFO commandstats.
  std::string CommandStats() { return direct_->Command({"INFO", "commandstats"}); }

 private:
  PoolOptions options_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ProxyProcess> proxy_;
  std::unique_ptr<Client> direct_;
  int port_ = 0;
};

// The victim: its own keys, every reply checked exactly. `round` makes each value unique so a
// reply meant for another request can never pass.
class Victim {
 public:
  Victim(std::unique_ptr<Client> client, std::string name)
      : client_(std::move(client)), name_(std::move(name)) {}

  // Sends a pipeline of writes and reads of its keys; checks every reply.
  void Round(int round) {
    SCOPED_TRACE(absl::StrCat("victim ", name_, " round ", round));
    const std::string key = absl::StrCat("victim:", name_, ":", round % 3);
    const std::string value = absl::StrCat("value-", name_, "-", round);
    const std::string counter = absl::StrCat("victim:", name_, ":counter");
    std::string pipeline = Resp({"SET", key, value}) + Resp({"GET", key}) +
                           Resp({"INCR", counter}) + Resp({"STRLEN", key}) +
                           "GET " + key + "\r\n";  // an inline one too
    ASSERT_TRUE(client_->Send(pipeline));
    EXPECT_EQ(client_->ReadReply(), kOk);
    EXPECT_EQ(client_->ReadReply(), Bulk(value));
    EXPECT_EQ(client_->ReadReply(), absl::StrCat(":", ++counter_, "\r\n"));
    EXPECT_EQ(client_->ReadReply(), absl::StrCat(":", value.size(), "\r\n"));
    EXPECT_EQ(client_->ReadReply(), Bulk(value));
  }

 private:
  std::unique_ptr<Client> client_;
  std::string name_;
  int counter_ = 0;
};

// Sends `attack` on a new connection while the victim works, expects exactly `reply` (a
// prefix when `prefix_only`) and the connection closed by the proxy.
void AttackExpectingClose(SharedPool& pool, Victim& victim, int& round, absl::string_view attack,
                          absl::string_view reply, bool prefix_only = false) {
  SCOPED_TRACE(absl::StrCat("attack ", Show(attack)));
  victim.Round(round++);
  auto attacker = pool.Connect();
  ASSERT_TRUE(attacker->Send(attack));
  victim.Round(round++);
  const std::string got = attacker->ReadReply();
  if (prefix_only) {
    EXPECT_TRUE(absl::StartsWith(got, reply)) << Show(got);
  } else {
    EXPECT_EQ(got, reply) << Show(got);
  }
  EXPECT_TRUE(attacker->WaitForClose()) << "the proxy must close the attacker";
  victim.Round(round++);
}

class RedisSharedConnectionTest : public ::testing::TestWithParam<bool> {
 protected:
  PoolOptions Options() {
    PoolOptions options;
    options.timeout = GetParam();
    return options;
  }
};

INSTANTIATE_TEST_SUITE_P(Timeout, RedisSharedConnectionTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "WithTimeout" : "WithoutTimeout";
                         });

// Finding 3: redis reads an inline line with strchr; a NUL made it wait forever.
TEST_P(RedisSharedConnectionTest, InlineNulNeverReachesTheServer) {
  SharedPool pool;
  ASSERT_TRUE(pool.Start(Options()));
  Victim victim(pool.Connect(), "b");
  int round = 0;
  const std::string nul = "-ERR Protocol error: NUL byte in an inline request\r\n";
  AttackExpectingClose(pool, victim, round, Lit("GET a\0b\r\n"), nul);
  AttackExpectingClose(pool, victim, round, Lit("\0\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), nul);
  AttackExpectingClose(pool, victim, round, Lit("SET k \0\n"), nul);
  // A request before the NUL is still answered, nothing after it.
  {
    victim.Round(round++);
    auto attacker = pool.Connect();
    ASSERT_TRUE(attacker->Send(Lit("PING\r\nGET x\0\r\nPING\r\n")));
    EXPECT_EQ(attacker->ReadReply(), "+PONG\r\n");
    EXPECT_EQ(attacker->ReadReply(), nul);
    EXPECT_TRUE(attacker->WaitForClose());
    victim.Round(round++);
  }
  // NUL inside a RESP bulk is data, not a problem.
  auto a = pool.Connect();
  EXPECT_EQ(a->Command({"SET", Lit("k\0ey"), Lit("v\0\r\n")}), kOk);
  EXPECT_EQ(a->Command({"GET", Lit("k\0ey")}), Bulk(Lit("v\0\r\n")));
  victim.Round(round++);
}

// Inline commands are re-encoded as RESP and split exactly like redis's sdssplitargs; blank
// lines (which redis answers with nothing) are never forwarded.
TEST_P(RedisSharedConnectionTest, InlineAndBlankLinesKeepOneReplyPerRequest) {
  SharedPool pool;
  ASSERT_TRUE(pool.Start(Options()));
  Victim victim(pool.Connect(), "b");
  int round = 0;
  auto a = pool.Connect();
  victim.Round(round++);
  ASSERT_TRUE(a->Send("SET \"in line\" \"x\\x41\\n\" \r\nGET 'in line'\r\n"));
  EXPECT_EQ(a->ReadReply(), kOk);
  EXPECT_EQ(a->ReadReply(), Bulk("xA\n"));
  EXPECT_EQ(pool.direct().Command({"GET", "in line"}), Bulk("xA\n"));
  // \v and \f: blanks between arguments, bytes inside one (as redis splits them).
  ASSERT_TRUE(a->Send("SET \vvt\v 1\r\n"));
  EXPECT_EQ(a->ReadReply(), kOk);
  EXPECT_EQ(pool.direct().Command({"EXISTS", "vt\v"}), ":1\r\n");
  victim.Round(round++);
  // Blank lines before requests: exactly one reply per request, nothing extra.
  ASSERT_TRUE(a->Send("\r\n  \r\n\t\nGET 'in line'\r\n\n\n" + Resp({"GET", "in line"}) +
                      "\r\n" + Resp({"PING", "end"})));
  EXPECT_EQ(a->ReadReply(), Bulk("xA\n"));
  EXPECT_EQ(a->ReadReply(), Bulk("xA\n"));
  EXPECT_EQ(a->ReadReply(), Bulk("end"));
  victim.Round(round++);
  // Only blank lines: no reply at all, and the connection stays usable.
  ASSERT_TRUE(a->Send("\r\n \r\n\n"));
  victim.Round(round++);
  EXPECT_EQ(a->Command({"PING", "after"}), Bulk("after"));
  // A long inline line (60 KiB argument) works; unbalanced quotes close the connection.
  const std::string big(60 * 1024, 'z');
  ASSERT_TRUE(a->Send("SET big " + big + "\r\n"));
  EXPECT_EQ(a->ReadReply(), kOk);
  EXPECT_EQ(pool.direct().Command({"STRLEN", "big"}), ":61440\r\n");
  AttackExpectingClose(pool, victim, round, "SET \"open k\r\n",
                       "-ERR Protocol error: unbalanced quotes in request\r\n");
  victim.Round(round++);
}

// Framing: only what redis frames exactly the same way is accepted; the rest closes the client.
TEST_P(RedisSharedConnectionTest, MalformedFramingClosesOnlyTheAttacker) {
  SharedPool pool;
  ASSERT_TRUE(pool.Start(Options()));
  Victim victim(pool.Connect(), "b");
  int round = 0;
  const std::vector<std::pair<std::string, std::string>> attacks = {
      // Redis skips the byte after a header's \r without looking: 'X' would be taken as \n.
      {"*1\rX$4\r\nPING\r\n", "-ERR Protocol error: expected '\\n' after '\\r', got 'X'\r\n"},
      // Redis skips two bytes after a payload without looking at them.
      {"*2\r\n$3\r\nGET\r\n$1\r\nkXY",
       "-ERR Protocol error: expected '\\r\\n' after a bulk string of 1 bytes, got 'X'\r\n"},
      {"*01\r\n$4\r\nPING\r\n", "-ERR Protocol error: invalid multibulk length (leading zero)\r\n"},
      {"*+1\r\n$4\r\nPING\r\n",
       "-ERR Protocol error: invalid multibulk length (expected a digit, got '+')\r\n"},
      {"*1 \r\n$4\r\nPING\r\n",
       "-ERR Protocol error: invalid multibulk length (expected a digit, got ' ')\r\n"},
      {"*-0\r\n", "-ERR Protocol error: invalid multibulk length (negative)\r\n"},
      // Redis skips these without a reply: refused rather than forwarded.
      {"*0\r\n" + Resp({"GET", "k"}),
       "-ERR Protocol error: invalid multibulk length 0 (a request needs a command name)\r\n"},
      {"*-1\r\n" + Resp({"GET", "k"}),
       "-ERR Protocol error: invalid multibulk length (negative)\r\n"},
      {"*2147483648\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
      {"*1\r\n$-1\r\n", "-ERR Protocol error: invalid bulk length (negative)\r\n"},
      {"*1\r\n$04\r\nPING\r\n", "-ERR Protocol error: invalid bulk length (leading zero)\r\n"},
      {"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870913\r\n",
       "-ERR Protocol error: invalid bulk length\r\n"},
      {"*2\r\n+GET\r\n", "-ERR Protocol error: expected '$', got '+'\r\n"},
  };
  for (const auto& attack : attacks) {
    AttackExpectingClose(pool, victim, round, attack.first, attack.second);
  }
  // None of them reached the server: it ran exactly the victim's commands (one SET and two
  // GETs a round), and the attackers' key was never written.
  const std::string stats = pool.CommandStats();
  EXPECT_TRUE(absl::StrContains(stats, absl::StrCat("cmdstat_set:calls=", round, ",")))
      << stats;
  EXPECT_TRUE(absl::StrContains(stats, absl::StrCat("cmdstat_get:calls=", 2 * round, ",")))
      << stats;
  EXPECT_EQ(pool.direct().Command({"EXISTS", "k"}), ":0\r\n");
}

// Finding 5: commands that change a shared connection's mode or block it are never forwarded.
TEST_P(RedisSharedConnectionTest, ModeChangingCommandsNeverReachTheServer) {
  SharedPool pool;
  ASSERT_TRUE(pool.Start(Options()));
  Victim victim(pool.Connect(), "b");
  int round = 0;
  const std::vector<std::vector<std::string>> commands = {
      {"SUBSCRIBE", "c"},      {"PSUBSCRIBE", "c*"},          {"SSUBSCRIBE", "c"},
      {"UNSUBSCRIBE"},         {"MONITOR"},                   {"CLIENT", "REPLY", "OFF"},
      {"CLIENT", "REPLY", "SKIP"}, {"CLIENT", "PAUSE", "100000"}, {"CLIENT", "TRACKING", "ON"},
      {"CLIENT", "KILL", "ID", "1"}, {"CLIENT", "NO-EVICT", "ON"}, {"HELLO", "4"},
      {"SWAPDB", "0", "1"},    {"MOVE", "k", "1"},            {"COPY", "a", "b", "DB", "1"},
      {"BLPOP", "l", "0"},     {"BRPOP", "l", "0"},           {"BRPOPLPUSH", "a", "b", "0"},
      {"BLMOVE", "a", "b", "LEFT", "LEFT", "0"}, {"BLMPOP", "0", "1", "l", "LEFT"},
      {"BZPOPMIN", "z", "0"},  {"BZPOPMAX", "z", "0"},        {"BZMPOP", "0", "1", "z", "MIN"},
      {"XREAD", "BLOCK", "0", "STREAMS", "s", "$"}, {"WAIT", "1", "0"},
      {"WAITAOF", "1", "0", "0"}, {"DEBUG", "SLEEP", "30"},   {"SHUTDOWN", "NOSAVE"},
      {"CONFIG", "SET", "maxmemory", "1"}, {"SCRIPT", "KILL"}, {"FUNCTION", "KILL"},
      {"SELECT", "1"},         {"AUTH", "x"},
  };
  auto a = pool.Connect();
  for (const std::vector<std::string>& command : commands) {
    SCOPED_TRACE(command[0]);
    victim.Round(round++);
    const std::string reply = a->Command(command);
    EXPECT_TRUE(reply.substr(0, 5) == "-ERR " || reply.substr(0, 9) == "-NOPROTO ") << Show(reply);
    victim.Round(round++);
  }
  // Pipelined in one go, interleaved with the victim.
  std::string pipeline;
  for (const std::vector<std::string>& command : commands) pipeline += Resp(command);
  ASSERT_TRUE(a->Send(pipeline));
  victim.Round(round++);
  for (size_t i = 0; i < commands.size(); ++i) {
    const std::string reply = a->ReadReply();
    EXPECT_TRUE(reply.substr(0, 5) == "-ERR " || reply.substr(0, 9) == "-NOPROTO ")
        << commands[i][0] << ": " << Show(reply);
  }
  victim.Round(round++);
  // The connection commands today's clients send are answered by the proxy (RESP2 replies here:
  // HELLO 2), never forwarded.
  const std::vector<std::pair<std::vector<std::string>, std::string>> answered = {
      {{"HELLO", "2"}, "*14\r\n$6\r\nserver\r\n"},
      {{"CLIENT", "SETNAME", "a"}, kOk},
      {{"CLIENT", "SETINFO", "LIB-NAME", "x"}, kOk},
      {{"CLIENT", "GETNAME"}, Bulk("a")},
      {{"CLIENT", "REPLY", "ON"}, kOk},
      {{"READONLY"}, kOk},
      {{"READWRITE"}, kOk},
      {{"RESET"}, "+RESET\r\n"},
  };
  for (const auto& [command, prefix] : answered) {
    SCOPED_TRACE(command[0]);
    victim.Round(round++);
    const std::string reply = a->Command(command);
    EXPECT_TRUE(absl::StartsWith(reply, prefix)) << Show(reply);
    victim.Round(round++);
  }
  EXPECT_EQ(a->Command({"PING"}), "+PONG\r\n");
  const std::string stats = pool.CommandStats();
  for (const char* name :
       {"subscribe", "psubscribe", "ssubscribe", "unsubscribe", "monitor", "client|", "reset",
        "hello", "readonly", "readwrite", "swapdb", "move", "copy", "blpop", "brpop", "blmove",
        "blmpop", "bzpop", "bzmpop", "xread", "wait", "debug", "shutdown", "config|", "script|",
        "function|", "select", "auth"}) {
    EXPECT_FALSE(absl::StrContains(stats, absl::StrCat("cmdstat_", name))) << name << "\n"
                                                                          << stats;
  }
}

// Finding 6, now that transactions are served (protocols/redis/transaction.h): what redis-py's
// pipeline(transaction=True) sends runs as one transaction on a server connection of its own,
// while the victim's pipelines on the shared connection get exactly their own replies.
TEST_P(RedisSharedConnectionTest, TransactionsRunBesideTheSharedConnection) {
  for (const std::string& chain :
       {std::string(), std::string("  filters:\n    - hash_tag\n    - router\n")}) {
    SCOPED_TRACE(chain.empty() ? "default chain" : chain);
    PoolOptions options = Options();
    options.extra_yaml = chain;
    SharedPool pool;
    ASSERT_TRUE(pool.Start(options));
    Victim victim(pool.Connect(), "b");
    int round = 0;
    auto a = pool.Connect();
    victim.Round(round++);
    ASSERT_TRUE(a->Send(Resp({"MULTI"}) + Resp({"SET", "x", "1"}) + Resp({"INCR", "n"}) +
                        Resp({"EXEC"})));
    victim.Round(round++);
    EXPECT_EQ(a->ReadReply(), kOk);
    EXPECT_EQ(a->ReadReply(), "+QUEUED\r\n");
    EXPECT_EQ(a->ReadReply(), "+QUEUED\r\n");
    EXPECT_EQ(a->ReadReply(), "*2\r\n+OK\r\n:1\r\n");
    victim.Round(round++);
    EXPECT_EQ(pool.direct().Command({"GET", "x"}), Bulk("1"));
    EXPECT_EQ(pool.direct().Command({"GET", "n"}), Bulk("1"));
    // DISCARD (inline this time) applies nothing; afterwards commands run again.
    ASSERT_TRUE(a->Send("MULTI\r\nSET x 2\r\nDISCARD\r\nSET y 3\r\n"));
    EXPECT_EQ(a->ReadReply(), kOk);
    EXPECT_EQ(a->ReadReply(), "+QUEUED\r\n");
    EXPECT_EQ(a->ReadReply(), kOk);  // DISCARD
    EXPECT_EQ(a->ReadReply(), kOk);  // SET y 3
    victim.Round(round++);
    EXPECT_EQ(pool.direct().Command({"GET", "x"}), Bulk("1"));
    EXPECT_EQ(pool.direct().Command({"GET", "y"}), Bulk("3"));
    // EXEC and DISCARD without MULTI: redis's errors, nothing forwarded.
    EXPECT_EQ(a->Command({"EXEC"}), "-ERR EXEC without MULTI\r\n");
    EXPECT_EQ(a->Command({"DISCARD"}), "-ERR DISCARD without MULTI\r\n");
    victim.Round(round++);
  }
}

// Findings 8 and 14: redis's limits before AUTH; a failed AUTH keeps an authenticated client.
TEST_P(RedisSharedConnectionTest, UnauthenticatedLimitsAndAuth) {
  PoolOptions options = Options();
  options.password = "s3cret";
  SharedPool pool;
  ASSERT_TRUE(pool.Start(options));
  Victim victim(pool.Connect(), "b");
  int round = 0;
  {
    victim.Round(round++);
    auto attacker = pool.Connect(/*auth=*/false);
    ASSERT_TRUE(attacker->Send(Resp(std::vector<std::string>(11, "x"))));
    EXPECT_EQ(attacker->ReadReply(), "-ERR Protocol error: unauthenticated multibulk length\r\n");
    EXPECT_TRUE(attacker->WaitForClose());
    victim.Round(round++);
  }
  {
    // The header alone is refused: the 512 MB payload is never buffered.
    auto attacker = pool.Connect(/*auth=*/false);
    ASSERT_TRUE(attacker->Send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\n"));
    EXPECT_EQ(attacker->ReadReply(), "-ERR Protocol error: unauthenticated bulk length\r\n");
    EXPECT_TRUE(attacker->WaitForClose());
    victim.Round(round++);
  }
  {
    // A wrong password changes nothing; small requests get -NOAUTH.
    auto attacker = pool.Connect(/*auth=*/false);
    EXPECT_EQ(attacker->Command({"AUTH", "wrong"}), "-ERR invalid password\r\n");
    EXPECT_EQ(attacker->Command({"GET", "victim:b:0"}), "-NOAUTH Authentication required\r\n");
    ASSERT_TRUE(attacker->Send(Resp({"SET", "k", std::string(16385, 'v')})));
    EXPECT_EQ(attacker->ReadReply(), "-ERR Protocol error: unauthenticated bulk length\r\n");
    EXPECT_TRUE(attacker->WaitForClose());
    victim.Round(round++);
  }
  // Authenticated: no such limits; a failed AUTH keeps the connection authenticated.
  auto a = pool.Connect();
  const std::string big(100000, 'v');
  EXPECT_EQ(a->Command({"SET", "big", big}), kOk);
  EXPECT_EQ(a->Command({"AUTH", "wrong"}), "-ERR invalid password\r\n");
  EXPECT_EQ(a->Command({"STRLEN", "big"}), ":100000\r\n");
  EXPECT_EQ(a->Command({"MGET", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"}).substr(0, 4),
            "*11\r");
  victim.Round(round++);
}

// The reference: how redis-server 7 itself frames the inputs the proxy refuses or skips (sent
// to it directly). Each line shows why the proxy cannot forward those bytes as they are.
TEST(RedisFramingReferenceTest, RedisFramesTheRefusedInputsDifferently) {
  if (FindExecutable("redis-server").empty()) {
    FAIL() << "redis-server not found in PATH nor /usr/bin (apt-get install redis-server)";
  }
  RedisServer redis({"--requirepass", "pw"});
  ASSERT_TRUE(redis.ok());
  auto connect = [&](bool auth) {
    auto client = std::make_unique<Client>(redis.port(), milliseconds(15000));
    if (auth) {
      EXPECT_EQ(client->Command({"AUTH", "pw"}), kOk);
    }
    return client;
  };
  // Redis does not look at the byte after a header's \r, nor at the two after a payload: the
  // proxy would see a broken request where redis runs a PING.
  for (const std::string wire : {"*1\rX$4\r\nPING\r\n", "*1\r\n$4\r\nPINGXY"}) {
    SCOPED_TRACE(Show(wire));
    auto client = connect(true);
    ASSERT_TRUE(client->Send(wire));
    EXPECT_EQ(client->ReadReply(), "+PONG\r\n");
  }
  // Blank lines and empty or negative arrays get no reply at all.
  {
    auto client = connect(true);
    ASSERT_TRUE(client->Send("\r\n*0\r\n*-1\r\n*-7\r\n  \r\n" + Resp({"PING", "only"})));
    EXPECT_EQ(client->ReadReply(), Bulk("only"));
  }
  // string2ll: no sign but for skipped arrays, no leading zeros, no spaces.
  for (const std::string wire : {"*01\r\n", "*+1\r\n", "*1 \r\n", "*-0\r\n", "*2147483648\r\n"}) {
    SCOPED_TRACE(Show(wire));
    auto client = connect(true);
    ASSERT_TRUE(client->Send(wire));
    EXPECT_EQ(client->ReadReply(), "-ERR Protocol error: invalid multibulk length\r\n");
    EXPECT_TRUE(client->WaitForClose());
  }
  for (const std::string wire : {"*1\r\n$-1\r\n", "*1\r\n$04\r\nPING\r\n",
                                 "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870913\r\n"}) {
    SCOPED_TRACE(Show(wire));
    auto client = connect(true);
    ASSERT_TRUE(client->Send(wire));
    EXPECT_EQ(client->ReadReply(), "-ERR Protocol error: invalid bulk length\r\n");
    EXPECT_TRUE(client->WaitForClose());
  }
  // Unauthenticated limits, with the texts the proxy uses too.
  {
    auto client = connect(false);
    ASSERT_TRUE(client->Send(Resp(std::vector<std::string>(11, "x"))));
    EXPECT_EQ(client->ReadReply(), "-ERR Protocol error: unauthenticated multibulk length\r\n");
  }
  {
    auto client = connect(false);
    ASSERT_TRUE(client->Send("*2\r\n$3\r\nGET\r\n$16385\r\n"));
    EXPECT_EQ(client->ReadReply(), "-ERR Protocol error: unauthenticated bulk length\r\n");
  }
  // A failed AUTH keeps an authenticated connection authenticated.
  {
    auto client = connect(true);
    EXPECT_EQ(client->Command({"AUTH", "wrong"}).substr(0, 10), "-WRONGPASS");
    EXPECT_EQ(client->Command({"GET", "nothing"}), kNil);
  }
  // An inline line with a NUL: redis waits for a line end that strchr never finds, and answers
  // nothing, not even to the PING after it (one second is plenty for a local PING).
  {
    auto client = std::make_unique<Client>(redis.port(), milliseconds(1000));
    ASSERT_TRUE(client->Send(Lit("AUTH pw\r\nGET a\0b\r\nPING\r\n")));
    EXPECT_EQ(client->ReadReply(), kOk);
    EXPECT_EQ(client->ReadReply(), "");
  }
}

}  // namespace
}  // namespace proxy::test::safety

// Credentials end to end (issue 13, part 3; docs/authentication.md): real redis-server
// processes with passwords and ACL users, the real //:proxy and //:proxyctl.
//   - rotation: two client passwords valid at once, then a reload removes one (new AUTHs with
//     it fail with redis's text, connections already authenticated carry on);
//   - server side: a server whose default user is off and that knows only an ACL user; a pool
//     whose servers each have their own credential (per-server override);
//   - wrong passwords on both sides, with the exact error texts;
//   - secrets from a file and from an environment variable (inherited by the proxy);
//   - no secret in the proxy's log, in /servers, or in `proxyctl check` / `proxyctl diff`.
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"

namespace proxy::test {
namespace {

using std::chrono::milliseconds;

constexpr char kNoAuth[] = "-NOAUTH Authentication required.\r\n";
constexpr char kWrongPass[] = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";

// Every secret any test here uses: none may ever show outside the config and the wire.
const std::vector<std::string>& Secrets() {
  static const auto* secrets = new std::vector<std::string>{
      "rotate-old-7c1f", "rotate-new-93ab", "app-env-5d2e", "proxy-file-41b8",
      "shard-a-pw-0e6d", "shard-b-pw-c3a9", "wrong-server-pw-88f2", "legacy-shared-pw-1a7c",
  };
  return *secrets;
}

// The first secret `text` contains, or "".
std::string LeakedSecret(const std::string& text) {
  for (const std::string& secret : Secrets()) {
    if (absl::StrContains(text, secret)) return secret;
  }
  return "";
}

void WriteFile(const std::string& path, const std::string& content) {
  const std::string temp = path + ".tmp";
  std::ofstream(temp, std::ios::binary) << content;
  std::rename(temp.c_str(), path.c_str());  // a deployment replaces the file whole
}

// redis-server with an ACL file (`lines`, one ACL rule a line).
std::unique_ptr<RedisServer> AclServer(const std::string& name,
                                       const std::vector<std::string>& lines) {
  const std::string path = TempPath(absl::StrCat(name, ".acl"));
  std::string text;
  for (const std::string& line : lines) absl::StrAppend(&text, line, "\n");
  WriteFile(path, text);
  return std::make_unique<RedisServer>(std::vector<std::string>{"--aclfile", path});
}

// The proxy on a config file the test rewrites, with an admin endpoint for /metrics and
// /servers; -v 11 so that every log line the proxy can write is in the log the tests search.
class AuthProxy {
 public:
  AuthProxy(const std::string& name, const std::string& yaml, int listen_port)
      : conf_(TempPath(absl::StrCat(name, ".yml"))), admin_port_(FreePort()) {
    log_ = conf_ + ".log";
    WriteFile(conf_, yaml);
    const std::vector<std::string> argv = {
        Runfile("proxy"), "-c", conf_, "-v", "11", "-s", std::to_string(FreePort()), "-a",
        "127.0.0.1", "--admin-port", std::to_string(admin_port_)};
    if (!process_.Start(argv, log_)) return;
    for (int port : {listen_port, admin_port_}) {
      if (!WaitForPortWhileRunning(process_, port, milliseconds(10000))) return;
    }
    ok_ = true;
  }

  bool ok() const { return ok_; }
  const std::string& conf() const { return conf_; }
  int admin_port() const { return admin_port_; }
  std::string Log() const {
    std::ifstream in(log_);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  // Rewrites the file and reloads with SIGUSR1; true once the new generation is applied.
  bool Reload(const std::string& yaml) {
    WriteFile(conf_, yaml);
    const int64_t before = Generation();
    if (before < 0) return false;
    process_.Kill(SIGUSR1);
    return WaitUntil([&] { return Generation() > before; });
  }

 private:
  int64_t Generation() {
    const auto [code, body] = HttpGet(admin_port_, "/metrics");
    if (code != 200) return -1;
    for (absl::string_view line : absl::StrSplit(body, '\n')) {
      if (!absl::ConsumePrefix(&line, "shardproxy_config_generation ")) continue;
      double value = 0;
      if (absl::SimpleAtod(line, &value)) return static_cast<int64_t>(value);
    }
    return -1;
  }

  std::string conf_;
  std::string log_;
  int admin_port_;
  bool ok_ = false;
  Process process_;
};

std::string Pool(int listen, const std::string& keys, const std::vector<std::string>& servers) {
  std::string yaml = absl::StrCat("alpha:\n  listen: 127.0.0.1:", listen,
                                  "\n  redis: true\n  hash: murmur\n", keys, "  servers:\n");
  for (const std::string& server : servers) absl::StrAppend(&yaml, "   - ", server, "\n");
  return yaml;
}

std::string Bulk(const std::string& value) {
  return absl::StrCat("$", value.size(), "\r\n", value, "\r\n");
}

// Rotation: both passwords work at once; a reload that removes the old one refuses it on new
// connections while connections already authenticated keep working.
TEST(AuthTest, RotationWithTwoClientPasswords) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  const int port = FreePort();
  const std::string server = absl::StrCat("127.0.0.1:", redis.port(), ":1");
  AuthProxy proxy("rotation",
                  Pool(port, "  client_auth:\n   - rotate-old-7c1f\n   - rotate-new-93ab\n",
                       {server}),
                  port);
  ASSERT_TRUE(proxy.ok()) << proxy.Log();

  Client before(port);
  EXPECT_EQ(before.Command({"GET", "k"}), kNoAuth);
  EXPECT_EQ(before.Command({"AUTH", "nope"}), kWrongPass);
  EXPECT_EQ(before.Command({"GET", "k"}), kNoAuth);
  EXPECT_EQ(before.Command({"AUTH", "rotate-old-7c1f"}), "+OK\r\n");
  EXPECT_EQ(before.Command({"SET", "k", "v1"}), "+OK\r\n");
  Client other(port);
  EXPECT_EQ(other.Command({"AUTH", "default", "rotate-new-93ab"}), "+OK\r\n");
  EXPECT_EQ(other.Command({"GET", "k"}), Bulk("v1"));

  ASSERT_TRUE(proxy.Reload(Pool(port, "  client_auth:\n   - rotate-new-93ab\n", {server})))
      << proxy.Log();
  Client old_pw(port);
  EXPECT_EQ(old_pw.Command({"AUTH", "rotate-old-7c1f"}), kWrongPass);
  EXPECT_EQ(old_pw.Command({"GET", "k"}), kNoAuth);
  EXPECT_EQ(old_pw.Command({"AUTH", "rotate-new-93ab"}), "+OK\r\n");
  EXPECT_EQ(old_pw.Command({"GET", "k"}), Bulk("v1"));
  // Authenticated before the reload: the connection stays authenticated (as in redis when a
  // password is changed) and is served by the new generation.
  EXPECT_EQ(before.Command({"SET", "k", "v2"}), "+OK\r\n");
  EXPECT_EQ(other.Command({"GET", "k"}), Bulk("v2"));
  EXPECT_EQ(LeakedSecret(proxy.Log()), "") << proxy.Log();
}

// The server has no default user (off) and knows only an ACL user, whose password the proxy
// reads from a file; clients use an ACL user of their own whose password comes from the
// environment (the proxy inherits the test's).
TEST(AuthTest, AclUserOnTheServerAndSecretsFromFileAndEnv) {
  auto redis = AclServer("acl-only", {"user default off", "user proxy on >proxy-file-41b8 ~* &* +@all"});
  ASSERT_TRUE(redis->ok());
  Client direct(redis->port());
  ASSERT_EQ(direct.Command({"PING"}), kNoAuth);  // the default user is off
  const std::string secret_file = TempPath("proxy.pw");
  WriteFile(secret_file, "proxy-file-41b8\n");  // one trailing newline, removed by the loader
  ASSERT_EQ(setenv("SHARDPROXY_AUTH_TEST_APP", "app-env-5d2e", 1), 0);
  const int port = FreePort();
  const std::string yaml = Pool(
      port,
      absl::StrCat("  client_auth:\n   - user: app\n     password: {env: SHARDPROXY_AUTH_TEST_APP}\n"
                   "  server_auth:\n    username: proxy\n    password:\n      file: ",
                   secret_file, "\n"),
      {absl::StrCat("127.0.0.1:", redis->port(), ":1")});
  AuthProxy proxy("acl", yaml, port);
  ASSERT_TRUE(proxy.ok()) << proxy.Log();

  Client client(port);
  EXPECT_EQ(client.Command({"AUTH", "app-env-5d2e"}), kWrongPass);  // that is app's, not default's
  EXPECT_EQ(client.Command({"AUTH", "app", "wrong"}), kWrongPass);
  EXPECT_EQ(client.Command({"AUTH", "app", "app-env-5d2e"}), "+OK\r\n");
  EXPECT_EQ(client.Command({"SET", "acl-key", "x"}), "+OK\r\n");
  EXPECT_EQ(client.Command({"GET", "acl-key"}), Bulk("x"));
  // It really is the ACL user's connection that wrote it.
  EXPECT_EQ(direct.Command({"AUTH", "proxy", "proxy-file-41b8"}), "+OK\r\n");
  EXPECT_EQ(direct.Command({"GET", "acl-key"}), Bulk("x"));
  const std::string clients = direct.Command({"CLIENT", "LIST"});
  EXPECT_FALSE(absl::StrContains(clients, "user=default")) << clients;
  // HELLO 3 AUTH authenticates too, and the RESP3 server connections authenticate the same.
  Client resp3(port);
  ASSERT_TRUE(resp3.Send(absl::StrCat(Resp({"HELLO", "3", "AUTH", "app", "app-env-5d2e"}),
                                      Resp({"GET", "acl-key"}))));
  const std::string hello = resp3.ReadReply();
  EXPECT_TRUE(absl::StartsWith(hello, "%7\r\n")) << hello;
  EXPECT_TRUE(absl::StrContains(hello, "$5\r\nproto\r\n:3\r\n")) << hello;
  EXPECT_EQ(resp3.ReadReply(), Bulk("x"));

  const auto [code, servers] = HttpGet(proxy.admin_port(), "/servers");
  EXPECT_EQ(code, 200);
  EXPECT_EQ(LeakedSecret(servers), "") << servers;
  EXPECT_EQ(LeakedSecret(proxy.Log()), "") << proxy.Log();
  unsetenv("SHARDPROXY_AUTH_TEST_APP");
}

// Two servers with different credentials: the pool-wide password for one (the default user,
// requirepass), a servers: override with an ACL user for the other. Keys land on both.
TEST(AuthTest, PerServerOverride) {
  RedisServer a({"--requirepass", "shard-a-pw-0e6d"});
  auto b = AclServer("shard-b", {"user default off", "user ops on >shard-b-pw-c3a9 ~* &* +@all"});
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b->ok());
  const int port = FreePort();
  AuthProxy proxy(
      "per-server",
      Pool(port,
           "  server_auth:\n    password: shard-a-pw-0e6d\n    servers:\n      shard-b: {username: "
           "ops, password: shard-b-pw-c3a9}\n",
           {absl::StrCat("127.0.0.1:", a.port(), ":1 shard-a"),
            absl::StrCat("127.0.0.1:", b->port(), ":1 shard-b")}),
      port);
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Client client(port);  // no client_auth and no redis_auth: clients need no password
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(client.Command({"SET", absl::StrCat("key:", i), absl::StrCat(i)}), "+OK\r\n") << i;
  }
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(client.Command({"GET", absl::StrCat("key:", i)}), Bulk(absl::StrCat(i))) << i;
  }
  Client direct_a(a.port());
  Client direct_b(b->port());
  ASSERT_EQ(direct_a.Command({"AUTH", "shard-a-pw-0e6d"}), "+OK\r\n");
  ASSERT_EQ(direct_b.Command({"AUTH", "ops", "shard-b-pw-c3a9"}), "+OK\r\n");
  int64_t on_a = 0;
  int64_t on_b = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripSuffix(absl::StripPrefix(
                                   direct_a.Command({"DBSIZE"}), ":"), "\r\n"), &on_a));
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripSuffix(absl::StripPrefix(
                                   direct_b.Command({"DBSIZE"}), ":"), "\r\n"), &on_b));
  EXPECT_GT(on_a, 0);
  EXPECT_GT(on_b, 0);
  EXPECT_EQ(on_a + on_b, 100);
  // MGET split over both servers, each fragment on its own authenticated connection.
  EXPECT_EQ(client.Command({"MGET", "key:1", "key:2", "key:3", "key:4"}),
            absl::StrCat("*4\r\n", Bulk("1"), Bulk("2"), Bulk("3"), Bulk("4")));
  EXPECT_EQ(LeakedSecret(proxy.Log()), "") << proxy.Log();
}

// The ids of the clients connected to a redis server, except the connection asking.
std::vector<std::string> OtherClientIds(Client& direct) {
  std::vector<std::string> ids;
  const std::string list = direct.Command({"CLIENT", "LIST"});
  for (absl::string_view line : absl::StrSplit(list, '\n')) {
    if (!absl::ConsumePrefix(&line, "id=") || absl::StrContains(line, "name=checker")) continue;
    ids.emplace_back(line.substr(0, line.find(' ')));
  }
  return ids;
}

// Rotating the servers' password: the server accepts the new one (its connections already
// authenticated stay so), then a reload with the new server_auth changes the handshake, so the
// proxy replaces its server connections with ones that AUTH with the new password.
TEST(AuthTest, ServerPasswordRotationRemakesServerConnections) {
  RedisServer redis({"--requirepass", "shard-a-pw-0e6d"});
  ASSERT_TRUE(redis.ok());
  const int port = FreePort();
  const std::string server = absl::StrCat("127.0.0.1:", redis.port(), ":1 shard-a");
  AuthProxy proxy("server-rotation",
                  Pool(port, "  server_auth: {password: shard-a-pw-0e6d}\n", {server}), port);
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Client client(port);
  ASSERT_EQ(client.Command({"SET", "k", "v"}), "+OK\r\n");
  Client direct(redis.port());
  ASSERT_EQ(direct.Command({"AUTH", "shard-a-pw-0e6d"}), "+OK\r\n");
  ASSERT_EQ(direct.Command({"CLIENT", "SETNAME", "checker"}), "+OK\r\n");
  const std::vector<std::string> before = OtherClientIds(direct);
  ASSERT_EQ(before.size(), 1u);
  ASSERT_EQ(direct.Command({"CONFIG", "SET", "requirepass", "shard-b-pw-c3a9"}), "+OK\r\n");
  ASSERT_TRUE(proxy.Reload(Pool(port, "  server_auth: {password: shard-b-pw-c3a9}\n", {server})))
      << proxy.Log();
  EXPECT_EQ(client.Command({"GET", "k"}), Bulk("v"));
  std::vector<std::string> after;
  EXPECT_TRUE(WaitUntil([&] {
    after = OtherClientIds(direct);
    return after.size() == 1 && after[0] != before[0];
  })) << "before " << before[0] << ", after " << absl::StrJoin(after, ",");
  // The new connection authenticated with the new password: the old one no longer works.
  Client old_pw(redis.port());
  EXPECT_EQ(old_pw.Command({"AUTH", "shard-a-pw-0e6d"}), kWrongPass);
  EXPECT_EQ(client.Command({"GET", "k"}), Bulk("v"));
  EXPECT_EQ(LeakedSecret(proxy.Log()), "") << proxy.Log();
}

// A wrong server password: the server refuses the proxy's AUTH, the client's request gets the
// server's error, and the log says so without the password.
TEST(AuthTest, WrongServerPassword) {
  RedisServer redis({"--requirepass", "shard-a-pw-0e6d"});
  ASSERT_TRUE(redis.ok());
  const int port = FreePort();
  AuthProxy proxy("wrong-server",
                  Pool(port, "  server_auth: {password: wrong-server-pw-88f2}\n",
                       {absl::StrCat("127.0.0.1:", redis.port(), ":1 shard-a")}),
                  port);
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Client client(port);
  EXPECT_EQ(client.Command({"GET", "k"}), kNoAuth);  // redis's answer to the unauthenticated GET
  EXPECT_TRUE(WaitUntil([&] {
    return absl::StrContains(proxy.Log(),
                             "refused the connection setup: -WRONGPASS invalid username-password "
                             "pair or user is disabled.");
  })) << proxy.Log();
  EXPECT_EQ(LeakedSecret(proxy.Log()), "") << proxy.Log();
}

// twemproxy's redis_auth alone keeps twemproxy's texts, and client_auth replaces it for
// clients while it is still sent to the servers.
TEST(AuthTest, RedisAuthPrecedence) {
  RedisServer redis({"--requirepass", "legacy-shared-pw-1a7c"});
  ASSERT_TRUE(redis.ok());
  const std::string server = absl::StrCat("127.0.0.1:", redis.port(), ":1");
  const int port = FreePort();
  AuthProxy proxy("legacy", Pool(port, "  redis_auth: legacy-shared-pw-1a7c\n", {server}), port);
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  {
    Client client(port);
    EXPECT_EQ(client.Command({"GET", "k"}), "-NOAUTH Authentication required\r\n");
    EXPECT_EQ(client.Command({"AUTH", "nope"}), "-ERR invalid password\r\n");
    EXPECT_EQ(client.Command({"AUTH", "legacy-shared-pw-1a7c"}), "+OK\r\n");
    EXPECT_EQ(client.Command({"SET", "k", "legacy"}), "+OK\r\n");
  }
  ASSERT_TRUE(proxy.Reload(Pool(
      port, "  redis_auth: legacy-shared-pw-1a7c\n  client_auth: [rotate-new-93ab]\n", {server})))
      << proxy.Log();
  Client client(port);
  EXPECT_EQ(client.Command({"AUTH", "legacy-shared-pw-1a7c"}), kWrongPass);
  EXPECT_EQ(client.Command({"AUTH", "rotate-new-93ab"}), "+OK\r\n");
  // The servers still get redis_auth: the request is served.
  EXPECT_EQ(client.Command({"GET", "k"}), Bulk("legacy"));
  EXPECT_EQ(LeakedSecret(proxy.Log()), "") << proxy.Log();
}

// Between requests an idle client's request decoder may be given back and made again
// (RequestDecoder::AtRest, issue 15's memory per connection): an authenticated client must keep
// the limits of an authenticated one (redis allows an unauthenticated client at most 10
// arguments per request), however often it goes idle.
TEST(AuthTest, AnAuthenticatedClientKeepsItsLimitsAcrossIdlePeriods) {
  RedisServer redis({"--requirepass", "legacy-shared-pw-1a7c"});
  ASSERT_TRUE(redis.ok());
  const std::string server = absl::StrCat("127.0.0.1:", redis.port(), ":1");
  const int port = FreePort();
  AuthProxy proxy("idle", Pool(port, "  redis_auth: legacy-shared-pw-1a7c\n", {server}), port);
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  std::vector<std::string> mset = {"MSET"};
  for (int i = 0; i < 12; ++i) {
    mset.push_back(absl::StrCat("{idle}k", i));
    mset.push_back(absl::StrCat("v", i));
  }
  // Two clients of the same worker: an idle client's decoder at rest goes to the worker and
  // the next client with bytes may get it, so a decoder that learned an AUTH must never be
  // given back (it would lift the limits of whoever got it next, and leave its own client
  // with the limits of a stranger).
  Client client(port);
  EXPECT_EQ(client.Command({"AUTH", "legacy-shared-pw-1a7c"}), "+OK\r\n");
  Client stranger(port);
  for (int round = 0; round < 3; ++round) {  // every reply leaves its client idle
    EXPECT_TRUE(absl::StartsWith(stranger.Command({"PING"}), "-NOAUTH")) << "round " << round;
    EXPECT_EQ(client.Command(mset), "+OK\r\n") << "round " << round;
    EXPECT_EQ(client.Command({"GET", "{idle}k11"}), Bulk("v11")) << "round " << round;
  }
  EXPECT_TRUE(absl::StartsWith(stranger.Command(mset), "-ERR Protocol error"))
      << "25 arguments before AUTH";
}

// `proxyctl check` (errors and warnings) and `proxyctl diff` name the keys, never the secrets.
TEST(AuthTest, ProxyctlNeverPrintsSecrets) {
  const std::string ctl = Runfile("proxyctl");
  const std::string secret_file = TempPath("check.pw");
  WriteFile(secret_file, "proxy-file-41b8\n");
  const std::string servers = "   - 127.0.0.1:6400:1 shard-a\n   - 127.0.0.1:6401:1 shard-b\n";
  const std::string before = TempPath("before.yml");
  WriteFile(before, absl::StrCat(
      "alpha:\n  listen: 127.0.0.1:22191\n  redis: true\n  redis_auth: legacy-shared-pw-1a7c\n"
      "  client_auth:\n   - rotate-old-7c1f\n   - {user: app, password: app-env-5d2e}\n"
      "  server_auth:\n    password: {file: ", secret_file, "}\n    servers:\n"
      "      shard-b: {username: ops, password: shard-b-pw-c3a9}\n  servers:\n", servers));
  const CommandResult check = RunCommand({ctl, "check", "--conf-file", before}, milliseconds(10000));
  EXPECT_EQ(check.exit_code, 0) << check.output;
  // Both precedence warnings, with the keys named.
  EXPECT_TRUE(absl::StrContains(check.output,
                                ":6:4: pool 'alpha': client_auth: replaces redis_auth for "
                                "clients, and server_auth replaces it for servers: redis_auth "
                                "has no effect"))
      << check.output;
  EXPECT_TRUE(absl::StrContains(check.output,
                                ":9:5: pool 'alpha': server_auth: replaces redis_auth for "
                                "servers"))
      << check.output;
  EXPECT_EQ(LeakedSecret(check.output), "") << check.output;

  // Errors: an override for a server the pool does not have, an entry without a password.
  const std::string broken = TempPath("broken.yml");
  WriteFile(broken, absl::StrCat(
      "alpha:\n  listen: 127.0.0.1:22191\n  redis: true\n"
      "  client_auth:\n   - {user: app}\n   - shard-a-pw-0e6d\n"
      "  server_auth:\n    password: wrong-server-pw-88f2\n    servers:\n"
      "      shard-z: {password: shard-b-pw-c3a9}\n  servers:\n", servers));
  const CommandResult invalid =
      RunCommand({ctl, "check", "--conf-file", broken}, milliseconds(10000));
  EXPECT_EQ(invalid.exit_code, 1) << invalid.output;
  EXPECT_TRUE(absl::StrContains(invalid.output, ":5:6: pool 'alpha': client_auth: a client_auth "
                                                "entry has no password:"))
      << invalid.output;
  EXPECT_TRUE(absl::StrContains(invalid.output, ":10:7: pool 'alpha': server_auth: servers: "
                                                "'shard-z' is not a server of this pool"))
      << invalid.output;
  EXPECT_EQ(LeakedSecret(invalid.output), "") << invalid.output;

  // diff: a rotated client password and a new server password are named, not shown.
  const std::string after = TempPath("after.yml");
  WriteFile(after, absl::StrCat(
      "alpha:\n  listen: 127.0.0.1:22191\n  redis: true\n  redis_auth: legacy-shared-pw-1a7c\n"
      "  client_auth:\n   - rotate-new-93ab\n   - {user: app, password: app-env-5d2e}\n"
      "  server_auth:\n    password: {file: ", secret_file, "}\n    servers:\n"
      "      shard-b: {username: ops, password: shard-a-pw-0e6d}\n  servers:\n", servers));
  for (const char* format : {"--format=text", "--format=tsv"}) {
    const CommandResult diff =
        RunCommand({ctl, "diff", before, after, format}, milliseconds(10000));
    EXPECT_EQ(diff.exit_code, 0) << diff.output;  // no key moves
    EXPECT_TRUE(absl::StrContains(diff.output, "client_auth")) << diff.output;
    EXPECT_TRUE(absl::StrContains(diff.output, "server_auth")) << diff.output;
    EXPECT_EQ(LeakedSecret(diff.output), "") << diff.output;
  }
}

}  // namespace
}  // namespace proxy::test

// The credential pool keys (issue 13, part 3): `client_auth:` and `server_auth:`, secrets from
// the YAML, a file or the environment, precedence warnings with `redis_auth:`, every error with
// its file:line:col, and no secret in any diagnostic or in `proxyctl diff`'s view of a change.
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "api/config/v1/bootstrap.pb.h"
#include "core/config/config.h"
#include "core/config/diff.h"
#include "gtest/gtest.h"
#include "test/core/config/config_test_util.h"

namespace proxy::test {
namespace {

// A redis pool with two named servers; KEYS is spliced in before servers: (line 4 on).
std::string RedisPool(const std::string& keys) {
  return absl::StrReplaceAll(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: true
KEYS  servers:
   - 127.0.0.1:6400:1 shard-a
   - 127.0.0.1:6401:1 shard-b
)EOF",
                             {{"KEYS", keys}});
}

// True when no diagnostic of `result` contains `secret`.
bool NeverShows(const config::LoadResult& result, const std::string& secret) {
  for (const auto* list : {&result.errors, &result.warnings}) {
    for (const config::Diagnostic& d : *list) {
      if (absl::StrContains(d.ToString(), secret)) return false;
    }
  }
  return true;
}

std::string WriteFile(const std::string& name, const std::string& content) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

TEST(CredentialsTest, NoKeysNoCredentials) {
  config::LoadResult result = Load(RedisPool(""));
  ASSERT_TRUE(LoadsCleanly(result));
  EXPECT_EQ(result.bootstrap.pools(0).client_auth_size(), 0);
  EXPECT_FALSE(result.bootstrap.pools(0).has_server_auth());
}

TEST(CredentialsTest, ClientAuthPasswordsAndUsers) {
  setenv("SHARDPROXY_TEST_APP_PW", "from-env", 1);
  const std::string file = WriteFile("client.pw", "from-file\n");
  config::LoadResult result = Load(RedisPool(absl::StrCat(R"EOF(  client_auth:
   - old-secret
   - "new secret"
   - user: app
     password: app-pw
   - {user: reporting, password: {env: SHARDPROXY_TEST_APP_PW}}
   - user: batch
     password:
       file: )EOF", file, "\n")));
  ASSERT_TRUE(LoadsCleanly(result)) << Describe(result);
  const config::v1::Pool& pool = result.bootstrap.pools(0);
  ASSERT_EQ(pool.client_auth_size(), 5);
  EXPECT_EQ(pool.client_auth(0).username(), "");
  EXPECT_EQ(pool.client_auth(0).password().value(), "old-secret");
  EXPECT_EQ(pool.client_auth(1).password().value(), "new secret");
  EXPECT_EQ(pool.client_auth(2).username(), "app");
  EXPECT_EQ(pool.client_auth(2).password().value(), "app-pw");
  EXPECT_EQ(pool.client_auth(3).username(), "reporting");
  EXPECT_EQ(pool.client_auth(3).password().value(), "from-env");
  EXPECT_EQ(pool.client_auth(3).password().env(), "SHARDPROXY_TEST_APP_PW");
  EXPECT_EQ(pool.client_auth(4).username(), "batch");
  // One trailing newline removed, as `echo secret > file` writes it.
  EXPECT_EQ(pool.client_auth(4).password().value(), "from-file");
  EXPECT_EQ(pool.client_auth(4).password().file(), file);
}

TEST(CredentialsTest, SecretFileKeepsEverythingButOneNewline) {
  const std::string crlf = WriteFile("crlf.pw", "pw\r\n");
  const std::string two = WriteFile("two.pw", "pw\n\n");
  const std::string none = WriteFile("none.pw", " pw ");
  config::LoadResult result = Load(RedisPool(absl::StrCat(
      "  client_auth:\n   - {user: a, password: {file: ", crlf, "}}\n   - {user: b, password: {file: ",
      two, "}}\n   - {user: c, password: {file: ", none, "}}\n")));
  ASSERT_TRUE(LoadsCleanly(result)) << Describe(result);
  const config::v1::Pool& pool = result.bootstrap.pools(0);
  EXPECT_EQ(pool.client_auth(0).password().value(), "pw");
  EXPECT_EQ(pool.client_auth(1).password().value(), "pw\n");
  EXPECT_EQ(pool.client_auth(2).password().value(), " pw ");
}

TEST(CredentialsTest, RelativeSecretFileIsReadFromTheConfigDirectory) {
  WriteFile("relative.pw", "rel-secret\n");
  const std::string conf = WriteFile(
      "relative.yml", RedisPool("  client_auth:\n   - {user: a, password: {file: relative.pw}}\n"));
  config::LoadResult result = config::LoadConfigFile(conf);
  ASSERT_TRUE(LoadsCleanly(result)) << Describe(result);
  EXPECT_EQ(result.bootstrap.pools(0).client_auth(0).password().value(), "rel-secret");
}

TEST(CredentialsTest, ServerAuthWithOverrides) {
  config::LoadResult result = Load(RedisPool(R"EOF(  server_auth:
    username: proxy
    password: pool-pw
    servers:
      shard-b: {username: other, password: b-pw}
      shard-a:
        password: a-pw
)EOF"));
  ASSERT_TRUE(LoadsCleanly(result)) << Describe(result);
  const config::v1::Pool& pool = result.bootstrap.pools(0);
  ASSERT_TRUE(pool.has_server_auth());
  EXPECT_EQ(pool.server_auth().credential().username(), "proxy");
  EXPECT_EQ(pool.server_auth().credential().password().value(), "pool-pw");
  ASSERT_EQ(pool.server_auth().per_server_size(), 2);
  EXPECT_EQ(pool.server_auth().per_server().at("shard-b").username(), "other");
  EXPECT_EQ(pool.server_auth().per_server().at("shard-b").password().value(), "b-pw");
  // An override is a whole credential: without username: it is redis's default user.
  EXPECT_EQ(pool.server_auth().per_server().at("shard-a").username(), "");
  EXPECT_EQ(pool.server_auth().per_server().at("shard-a").password().value(), "a-pw");
}

TEST(CredentialsTest, ServerAuthOverridesAloneMustCoverEveryServer) {
  config::LoadResult covered = Load(RedisPool(R"EOF(  server_auth:
    servers:
      shard-a: {password: a-pw}
      shard-b: {password: b-pw}
)EOF"));
  EXPECT_TRUE(LoadsCleanly(covered)) << Describe(covered);
  config::LoadResult missing = Load(RedisPool(R"EOF(  server_auth:
    servers:
      shard-a: {password: a-pw}
)EOF"));
  EXPECT_TRUE(HasError(missing, 9, 6, "alpha", "server_auth",
                       "server 'shard-b' has no credential: server_auth has no password: for "
                       "the whole pool and no servers: entry for 'shard-b'"));
  EXPECT_EQ(missing.errors.size(), 1u) << Describe(missing);
}

TEST(CredentialsTest, UnnamedServersAreOverriddenByTheirNodeName) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: true
  server_auth:
    password: pool-pw
    servers:
      127.0.0.1:6401: {password: b-pw}
      127.0.0.1:6409: {password: x}
  servers:
   - 127.0.0.1:6400:1
   - 127.0.0.1:6401:1
)EOF");
  EXPECT_TRUE(HasError(result, 8, 7, "alpha", "server_auth",
                       "servers: '127.0.0.1:6409' is not a server of this pool (its servers: "
                       "127.0.0.1:6400, 127.0.0.1:6401)"));
  EXPECT_EQ(result.errors.size(), 1u) << Describe(result);
}

TEST(CredentialsTest, PrecedenceWarningsWithRedisAuth) {
  config::LoadResult client = Load(RedisPool("  redis_auth: shared-pw\n  client_auth:\n   - c-pw\n"));
  EXPECT_TRUE(client.errors.empty()) << Describe(client);
  EXPECT_TRUE(HasWarning(client, 6, 4, "alpha", "client_auth",
                         "replaces redis_auth for clients: redis_auth no longer authenticates "
                         "clients (it is still sent to the servers)"));
  EXPECT_EQ(client.warnings.size(), 1u);

  config::LoadResult server =
      Load(RedisPool("  redis_auth: shared-pw\n  server_auth: {password: s-pw}\n"));
  EXPECT_TRUE(server.errors.empty()) << Describe(server);
  EXPECT_TRUE(HasWarning(server, 5, 16, "alpha", "server_auth",
                         "replaces redis_auth for servers: redis_auth is not sent to them "
                         "(clients still AUTH with it)"));
  EXPECT_EQ(server.warnings.size(), 1u);

  config::LoadResult both = Load(RedisPool(
      "  redis_auth: shared-pw\n  client_auth: [c-pw]\n  server_auth: {password: s-pw}\n"));
  EXPECT_TRUE(both.errors.empty()) << Describe(both);
  EXPECT_TRUE(HasWarning(both, 5, 16, "alpha", "client_auth", "redis_auth has no effect"));
  EXPECT_TRUE(HasWarning(both, 6, 16, "alpha", "server_auth",
                         "replaces redis_auth for servers"));
  for (const auto* result : {&client, &server, &both}) {
    EXPECT_TRUE(NeverShows(*result, "shared-pw"));
    EXPECT_TRUE(NeverShows(*result, "c-pw"));
    EXPECT_TRUE(NeverShows(*result, "s-pw"));
  }
}

TEST(CredentialsTest, OnlyOnRedisPools) {
  config::LoadResult result = Load(R"EOF(beta:
  listen: 127.0.0.1:22122
  client_auth: [pw]
  server_auth: {password: pw}
  servers:
   - 127.0.0.1:11211:1
)EOF");
  EXPECT_TRUE(HasError(result, 3, 16, "beta", "client_auth",
                       "is only valid for a redis pool (this pool's protocol is 'memcache')"));
  EXPECT_TRUE(HasError(result, 4, 16, "beta", "server_auth",
                       "is only valid for a redis pool (this pool's protocol is 'memcache')"));
  EXPECT_EQ(result.errors.size(), 2u) << Describe(result);
}

TEST(CredentialsTest, MissingSecretSourcesAreErrorsAtTheirLine) {
  unsetenv("SHARDPROXY_TEST_UNSET");
  setenv("SHARDPROXY_TEST_EMPTY", "", 1);
  const std::string empty = WriteFile("empty.pw", "\n");
  const std::string missing = absl::StrCat(WriteFile("x", ""), ".does-not-exist");
  config::LoadResult result = Load(RedisPool(absl::StrCat(R"EOF(  client_auth:
   - user: a
     password: {env: SHARDPROXY_TEST_UNSET}
   - user: b
     password: {file: )EOF", missing, R"EOF(}
   - {user: c, password: {env: SHARDPROXY_TEST_EMPTY}}
   - {user: d, password: {file: )EOF", empty, R"EOF(}}
  server_auth:
    password: {file: )EOF", missing, "}\n")));
  EXPECT_TRUE(HasError(result, 6, 22, "alpha", "client_auth",
                       "the environment variable 'SHARDPROXY_TEST_UNSET' is not set"));
  EXPECT_TRUE(HasError(result, 8, 23, "alpha", "client_auth",
                       absl::StrCat("cannot read the secret file '", missing,
                                    "': No such file or directory")));
  EXPECT_TRUE(HasError(result, 9, 32, "alpha", "client_auth",
                       "the environment variable 'SHARDPROXY_TEST_EMPTY' is empty"));
  EXPECT_TRUE(HasError(result, 10, 33, "alpha", "client_auth",
                       absl::StrCat("the secret file '", empty, "' is empty")));
  EXPECT_TRUE(HasError(result, 12, 22, "alpha", "server_auth", "cannot read the secret file"));
  EXPECT_EQ(result.errors.size(), 5u) << Describe(result);
}

TEST(CredentialsTest, ShapeErrors) {
  struct Case {
    std::string keys;
    int line;
    int column;
    std::string key;
    std::string message;
  };
  const Case cases[] = {
      {"  client_auth: pw\n", 4, 16, "client_auth",
       "expected a list of passwords and {user: NAME, password: SECRET} entries"},
      {"  client_auth: []\n", 4, 16, "client_auth",
       "the list is empty: list at least one password, or remove the key"},
      {"  client_auth:\n   - \"\"\n", 5, 6, "client_auth", "the password is empty"},
      {"  client_auth:\n   - {user: app}\n", 5, 6, "client_auth",
       "a client_auth entry has no password:"},
      {"  client_auth:\n   - {username: app, password: x}\n", 5, 7, "client_auth",
       "write 'user:' here ('username:' is for server_auth)"},
      {"  client_auth:\n   - {user: app, pass: x}\n", 5, 18, "client_auth",
       "unknown key 'pass' in a client_auth entry (valid: user, password)"},
      {"  client_auth:\n   - {user: \"a b\", password: x}\n", 5, 13, "client_auth",
       "has a space or a control character"},
      {"  client_auth:\n   - {file: /x}\n", 5, 6, "client_auth",
       "a password from a file or the environment is written {user: NAME, password: {file: "
       "PATH}}"},
      {"  client_auth:\n   - {user: a, password: {file: /x, env: Y}}\n", 5, 26, "client_auth",
       "give a password either file: or env:, not both"},
      {"  client_auth:\n   - {user: a, password: {path: /x}}\n", 5, 27, "client_auth",
       "unknown key 'path' in a password (valid: file, env)"},
      {"  client_auth:\n   - {user: a, password: [x]}\n", 5, 26, "client_auth",
       "expected a password: a string, {file: PATH} or {env: NAME}, found a list"},
      {"  server_auth: pw\n", 4, 16, "server_auth",
       "expected a mapping {username: NAME, password: SECRET, servers: {...}}"},
      {"  server_auth:\n    username: proxy\n", 5, 15, "server_auth",
       "username: has no password:"},
      {"  server_auth:\n    user: proxy\n    password: x\n", 5, 5, "server_auth",
       "write 'username:' here ('user:' is for client_auth)"},
      {"  server_auth:\n    password: x\n    servers: {shard-a: x}\n", 6, 24, "server_auth",
       "expected the credential of server 'shard-a' as a mapping {username: NAME, password: "
       "SECRET}"},
      {"  server_auth:\n    password: x\n    servers: {shard-a: {username: u}}\n", 6, 24,
       "server_auth", "the credential of server 'shard-a' has no password:"},
      {"  server_auth:\n    password: x\n    servers: []\n", 6, 14, "server_auth",
       "expected servers: as a mapping of server names"},
  };
  for (const Case& c : cases) {
    config::LoadResult result = Load(RedisPool(c.keys));
    EXPECT_TRUE(HasError(result, c.line, c.column, "alpha", c.key, c.message)) << c.keys;
  }
}

TEST(CredentialsTest, TooLongSecret) {
  const std::string pw(16385, 'x');
  config::LoadResult result = Load(RedisPool(absl::StrCat("  client_auth:\n   - ", pw, "\n")));
  EXPECT_TRUE(HasError(result, 5, 6, "alpha", "client_auth",
                       "the password is longer than 16384 bytes"));
  const std::string file = WriteFile("long.pw", pw);
  config::LoadResult from_file = Load(RedisPool(
      absl::StrCat("  server_auth: {password: {file: ", file, "}}\n")));
  EXPECT_TRUE(HasError(from_file, 4, 34, "alpha", "server_auth", "is longer than 16384 bytes"));
  EXPECT_TRUE(NeverShows(from_file, pw.substr(0, 100)));
}

// `proxyctl diff` names the keys whose effective credentials change, and only those: moving a
// secret into a file is no change; a new value is.
TEST(CredentialsTest, DiffNamesTheKeysNeverTheSecrets) {
  const std::string file = WriteFile("diff.pw", "same-pw\n");
  config::LoadResult before = Load(RedisPool(
      "  client_auth: [old-pw]\n  server_auth: {password: same-pw}\n"));
  config::LoadResult moved = Load(RedisPool(absl::StrCat(
      "  client_auth: [old-pw]\n  server_auth: {password: {file: ", file, "}}\n")));
  config::LoadResult rotated = Load(RedisPool(
      "  client_auth: [old-pw, new-pw]\n  server_auth: {password: same-pw}\n"));
  config::LoadResult per_server = Load(RedisPool(
      "  client_auth: [old-pw]\n  server_auth: {password: same-pw, servers: {shard-a: "
      "{username: u, password: a-pw}}}\n"));
  for (const auto* result : {&before, &moved, &rotated, &per_server}) {
    ASSERT_TRUE(LoadsCleanly(*result)) << Describe(*result);
  }
  const auto keys = [&](const config::LoadResult& a, const config::LoadResult& b) {
    return config::DiffPool(&a.bootstrap.pools(0), &b.bootstrap.pools(0)).changed_keys;
  };
  EXPECT_TRUE(keys(before, moved).empty());
  EXPECT_EQ(keys(before, rotated), std::vector<std::string>{"client_auth"});
  EXPECT_EQ(keys(before, per_server), std::vector<std::string>{"server_auth"});
  const config::PoolDiff diff =
      config::DiffPool(&before.bootstrap.pools(0), &per_server.bootstrap.pools(0));
  EXPECT_EQ(diff.placement, config::Placement::kSame);
  EXPECT_FALSE(config::MovesKeys(diff));
  EXPECT_FALSE(absl::StrContains(config::SummaryLine(diff), "pw"));
}

}  // namespace
}  // namespace proxy::test

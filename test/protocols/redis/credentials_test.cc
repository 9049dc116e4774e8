// Credentials in the redis codec (issue 13, part 3): client_auth (several passwords and ACL
// users at once, redis 6+'s error texts) in the session and the request decoder, which must
// agree; server_auth (AUTH [user] password, per server) in the handshakes; the precedence with
// redis_auth, from a pool's config as the plugin builds the codec.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/codec.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/registry.h"
#include "gtest/gtest.h"
#include "protocols/redis/auth.h"
#include "protocols/redis/redis_codec.h"
#include "protocols/redis/request_decoder.h"
#include "test/fakes/string_buffer.h"

namespace proxy::protocols::redis::test {
namespace {

constexpr char kNoAuthAcl[] = "-NOAUTH Authentication required.\r\n";
constexpr char kWrongPass[] = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";

std::string Auth(const std::string& password) {
  return absl::StrCat("*2\r\n$4\r\nAUTH\r\n$", password.size(), "\r\n", password, "\r\n");
}
std::string Auth(const std::string& user, const std::string& password) {
  return absl::StrCat("*3\r\n$4\r\nAUTH\r\n$", user.size(), "\r\n", user, "\r\n$",
                      password.size(), "\r\n", password, "\r\n");
}

config::v1::Credential Credential(const std::string& user, const std::string& password) {
  config::v1::Credential credential;
  credential.set_username(user);
  credential.mutable_password()->set_value(password);
  return credential;
}

// A pool whose clients may use "old-pw", "new-pw" (the default user) or app / "app-pw".
config::v1::Pool ClientAuthPool() {
  config::v1::Pool pool;
  *pool.add_client_auth() = Credential("", "old-pw");
  *pool.add_client_auth() = Credential("", "new-pw");
  *pool.add_client_auth() = Credential("app", "app-pw");
  return pool;
}

// Drives one session with inline requests decoded by the codec's own decoder, and reports
// whether the decoder considers the client authenticated after each request.
class Driver {
 public:
  explicit Driver(const config::v1::Pool& pool)
      : codec_(RedisAuthConfig::FromPool(pool), pool.redis_db()),
        decoder_(codec_.NewRequestDecoder(DecoderLimits())),
        session_(codec_.NewSession()) {}

  std::string Send(absl::string_view line) { return SendWire(absl::StrCat(line, "\r\n")); }
  std::string SendWire(const std::string& wire) {
    proxy::test::StringBuffer buffer(wire);
    Request request;
    std::string error;
    const DecodeResult result = decoder_->Decode(buffer, &request, &error);
    if (result != DecodeResult::kMessage) return "not decoded: " + error;
    std::string reply;
    const LocalAction action = session_->OnRequest(request, &reply);
    return action == LocalAction::kForward ? "forward" : reply;
  }
  bool DecoderAuthenticated() const {
    return static_cast<const RedisRequestDecoder&>(*decoder_).authenticated();
  }
  // An eleven-argument array: redis refuses its header before authentication.
  std::string SendEleven() {
    std::string wire = "*11\r\n$4\r\nMGET\r\n";
    for (int i = 0; i < 10; ++i) absl::StrAppend(&wire, "$1\r\n", i, "\r\n");
    return SendWire(wire);
  }

 private:
  RedisCodec codec_;
  RequestDecoderPtr decoder_;
  SessionPtr session_;
};

TEST(RedisCredentialsTest, ClientAuthMatchesAnyEntryInConstantTimePerEntry) {
  const ClientAuth auth = ClientAuth::Credentials(
      {{"", "old-pw"}, {"default", "new-pw"}, {"app", "app-pw"}});
  EXPECT_EQ(auth.mode(), ClientAuth::Mode::kClientAuth);
  EXPECT_TRUE(auth.required());
  EXPECT_TRUE(auth.Matches("default", "old-pw"));
  EXPECT_TRUE(auth.Matches("default", "new-pw"));
  EXPECT_TRUE(auth.Matches("app", "app-pw"));
  EXPECT_FALSE(auth.Matches("app", "old-pw"));   // another entry's password
  EXPECT_FALSE(auth.Matches("default", "app-pw"));
  EXPECT_FALSE(auth.Matches("ap", "app-pw"));
  EXPECT_FALSE(auth.Matches("app", std::string("app-pw\0", 7)));
  EXPECT_FALSE(auth.Matches("", "old-pw"));  // AUTH always names a user; "" is none
  EXPECT_FALSE(ClientAuth().required());
  EXPECT_EQ(ClientAuth::Credentials({}).mode(), ClientAuth::Mode::kNone);
  EXPECT_EQ(ClientAuth::RedisAuth("pw").mode(), ClientAuth::Mode::kRedisAuth);
  EXPECT_EQ(ClientAuth::RedisAuth("").mode(), ClientAuth::Mode::kNone);
}

TEST(RedisCredentialsTest, SessionWithClientAuthUsesRedisTexts) {
  Driver driver(ClientAuthPool());
  EXPECT_EQ(driver.Send("GET k"), kNoAuthAcl);
  EXPECT_EQ(driver.Send("PING"), kNoAuthAcl);
  EXPECT_EQ(driver.Send("AUTH wrong"), kWrongPass);
  EXPECT_EQ(driver.Send("AUTH app old-pw"), kWrongPass);
  EXPECT_EQ(driver.Send("AUTH nobody app-pw"), kWrongPass);
  EXPECT_EQ(driver.Send("AUTH a b c"),
            "not decoded: wrong number of arguments for 'auth' command");
  EXPECT_FALSE(driver.DecoderAuthenticated());
  EXPECT_EQ(driver.Send("GET k"), kNoAuthAcl);
  EXPECT_EQ(driver.Send("AUTH new-pw"), "+OK\r\n");
  EXPECT_TRUE(driver.DecoderAuthenticated());
  EXPECT_EQ(driver.Send("GET k"), "forward");
  // A failed AUTH keeps an earlier success, as in redis.
  EXPECT_EQ(driver.Send("AUTH wrong"), kWrongPass);
  EXPECT_EQ(driver.Send("GET k"), "forward");
  EXPECT_TRUE(driver.DecoderAuthenticated());
}

TEST(RedisCredentialsTest, EveryEntryAuthenticates) {
  for (const char* line : {"AUTH old-pw", "AUTH new-pw", "AUTH default old-pw",
                           "AUTH default new-pw", "AUTH app app-pw", "HELLO 3 AUTH app app-pw",
                           "HELLO 2 AUTH default old-pw"}) {
    Driver driver(ClientAuthPool());
    const std::string reply = driver.Send(line);
    EXPECT_TRUE(reply == "+OK\r\n" || reply.rfind("%7\r\n", 0) == 0 ||
                reply.rfind("*14\r\n", 0) == 0)
        << line << ": " << reply;
    EXPECT_EQ(driver.Send("GET k"), "forward") << line;
    EXPECT_TRUE(driver.DecoderAuthenticated()) << line;
  }
}

TEST(RedisCredentialsTest, HelloWithClientAuth) {
  Driver driver(ClientAuthPool());
  EXPECT_EQ(driver.Send("HELLO 3"),
            "-NOAUTH HELLO must be called with the client already authenticated, otherwise the "
            "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
            "select the RESP protocol version at the same time\r\n");
  EXPECT_EQ(driver.Send("HELLO 3 AUTH app old-pw"), kWrongPass);
  EXPECT_EQ(driver.Send("HELLO 3 AUTH default app-pw"), kWrongPass);
  EXPECT_FALSE(driver.DecoderAuthenticated());
  EXPECT_EQ(driver.Send("HELLO 3 AUTH app app-pw").rfind("%7\r\n", 0), 0u);
  EXPECT_TRUE(driver.DecoderAuthenticated());
  EXPECT_EQ(driver.Send("GET k"), "forward");
}

TEST(RedisCredentialsTest, ResetNeedsAuthAgain) {
  Driver driver(ClientAuthPool());
  EXPECT_EQ(driver.Send("AUTH app app-pw"), "+OK\r\n");
  EXPECT_EQ(driver.Send("RESET"), "+RESET\r\n");
  EXPECT_FALSE(driver.DecoderAuthenticated());
  EXPECT_EQ(driver.Send("GET k"), kNoAuthAcl);
  EXPECT_EQ(driver.Send("AUTH old-pw"), "+OK\r\n");
  EXPECT_EQ(driver.Send("GET k"), "forward");
}

// redis's limits for unauthenticated clients hold until any entry succeeds, and the decoder
// decides exactly as the session (both use ClientAuth).
TEST(RedisCredentialsTest, UnauthenticatedLimitsUntilAnyEntrySucceeds) {
  {
    Driver driver(ClientAuthPool());
    EXPECT_EQ(driver.Send("AUTH app new-pw"), kWrongPass);
    EXPECT_EQ(driver.SendEleven(),
              "not decoded: Protocol error: unauthenticated multibulk length");
  }
  {
    Driver driver(ClientAuthPool());
    EXPECT_EQ(driver.Send("AUTH app app-pw"), "+OK\r\n");
    EXPECT_EQ(driver.SendEleven(), "forward");
  }
  // The decoder alone, with the codec's credentials.
  const ClientAuth auth = ClientAuth::Credentials({{"app", "app-pw"}});
  RedisRequestDecoder decoder(DecoderLimits(), &auth);
  EXPECT_FALSE(decoder.authenticated());
  proxy::test::StringBuffer wire(Auth("app", "app-pw"));
  Request request;
  std::string error;
  ASSERT_EQ(decoder.Decode(wire, &request, &error), DecodeResult::kMessage);
  EXPECT_TRUE(decoder.authenticated());
}

// twemproxy's redis_auth keeps its texts (test/protocols/redis/session_test.cc pins them all).
TEST(RedisCredentialsTest, RedisAuthAloneKeepsTwemproxysTexts) {
  config::v1::Pool pool;
  pool.set_redis_auth("pw");
  Driver driver(pool);
  EXPECT_EQ(driver.Send("GET k"), "-NOAUTH Authentication required\r\n");
  EXPECT_EQ(driver.Send("AUTH wrong"), "-ERR invalid password\r\n");
  EXPECT_EQ(driver.Send("AUTH default pw"), "+OK\r\n");
}

// client_auth replaces redis_auth for clients: its password no longer authenticates them.
TEST(RedisCredentialsTest, ClientAuthReplacesRedisAuthForClients) {
  config::v1::Pool pool = ClientAuthPool();
  pool.set_redis_auth("shared-pw");
  Driver driver(pool);
  EXPECT_EQ(driver.Send("AUTH shared-pw"), kWrongPass);
  EXPECT_EQ(driver.Send("AUTH old-pw"), "+OK\r\n");
  // ... and is still sent to the servers (no server_auth).
  const RedisCodec codec(RedisAuthConfig::FromPool(pool), 0);
  EXPECT_EQ(codec.ServerHandshakeFor("any"), std::vector<std::string>{Auth("shared-pw")});
}

TEST(RedisCredentialsTest, ServerAuthPerServer) {
  config::v1::Pool pool;
  pool.set_redis_auth("shared-pw");
  pool.set_redis_db(3);
  *pool.mutable_server_auth()->mutable_credential() = Credential("proxy", "pool-pw");
  (*pool.mutable_server_auth()->mutable_per_server())["shard-b"] = Credential("", "b-pw");
  (*pool.mutable_server_auth()->mutable_per_server())["shard-c"] = Credential("ops", "c-pw");
  const RedisCodec codec(RedisAuthConfig::FromPool(pool), pool.redis_db());
  const std::string select = "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n";
  // server_auth replaces redis_auth towards the servers; clients still AUTH with redis_auth.
  EXPECT_EQ(codec.ServerHandshakeFor("shard-a"),
            (std::vector<std::string>{Auth("proxy", "pool-pw"), select}));
  EXPECT_EQ(codec.ServerHandshake(), codec.ServerHandshakeFor("shard-a"));
  EXPECT_EQ(codec.ServerHandshakeFor("shard-b"), (std::vector<std::string>{Auth("b-pw"), select}));
  EXPECT_EQ(codec.ServerHandshakeFor("shard-c"),
            (std::vector<std::string>{Auth("ops", "c-pw"), select}));
  EXPECT_EQ(codec.client_auth().mode(), ClientAuth::Mode::kRedisAuth);
  // The RESP3 sibling: the same AUTH, then HELLO 3.
  EXPECT_EQ(codec.Variant(1)->ServerHandshakeFor("shard-c"),
            (std::vector<std::string>{Auth("ops", "c-pw"), "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n",
                                      select}));
  // The plugin builds the same codec from the pool.
  const CodecFactory* factory = Registry<CodecFactory>::Find("redis");
  ASSERT_NE(factory, nullptr);
  CodecPtr made = factory->Create(pool);
  EXPECT_EQ(made->ServerHandshakeFor("shard-b"), codec.ServerHandshakeFor("shard-b"));
  // A codec without per-server handshakes answers ServerHandshake for every server.
  EXPECT_EQ(RedisCodec("pw", 0).ServerHandshakeFor("x"), std::vector<std::string>{Auth("pw")});
}

// Only overrides (no pool-wide password): every server sends AUTH, so with Sentinel the ROLE
// reply is still found at the end of the handshake.
TEST(RedisCredentialsTest, RoleIsCheckedAfterPerServerAuth) {
  config::v1::Pool pool;
  (*pool.mutable_server_auth()->mutable_per_server())["shard-a"] = Credential("u", "a-pw");
  RedisCodec codec(RedisAuthConfig::FromPool(pool), 0, /*check_role=*/true);
  ASSERT_EQ(codec.ServerHandshakeFor("shard-a"),
            (std::vector<std::string>{Auth("u", "a-pw"), "*1\r\n$4\r\nROLE\r\n"}));
  const std::string replica =
      "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:6379\r\n$9\r\nconnected\r\n:10\r\n";
  EXPECT_TRUE(codec.CheckHandshakeReply(0, "+OK\r\n", ServerRole::kMaster).ok());
  EXPECT_FALSE(codec.CheckHandshakeReply(1, replica, ServerRole::kMaster).ok());
}

}  // namespace
}  // namespace proxy::protocols::redis::test

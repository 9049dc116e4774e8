// Tests of the redis session: local commands, AUTH flows with and without redis_auth, and the
// connection commands (HELLO, CLIENT, RESET, READONLY) in RESP2 and RESP3.
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "protocols/redis/redis_codec.h"
#include "test/fakes/string_buffer.h"

namespace proxy::protocols::redis::test {
namespace {

// Drives one session with inline requests decoded by the codec's own decoder.
class SessionDriver {
 public:
  SessionDriver(std::string auth, uint32_t db)
      : codec_(std::move(auth), db),
        decoder_(codec_.NewRequestDecoder(DecoderLimits())),
        session_(codec_.NewSession()) {}

  const Session& session() const { return *session_; }
  Session& session() { return *session_; }

  // "<action> <reply>" with action forward / reply / close.
  std::string Send(absl::string_view line) {
    proxy::test::StringBuffer buffer(absl::StrCat(line, "\r\n"));
    Request request;
    std::string error;
    const DecodeResult result = decoder_->Decode(buffer, &request, &error);
    if (result != DecodeResult::kMessage) {
      return "not decoded: " + error;
    }
    std::string reply;
    switch (session_->OnRequest(request, &reply)) {
      case LocalAction::kForward:
        return "forward " + reply;
      case LocalAction::kReply:
        return "reply " + reply;
      case LocalAction::kReplyThenClose:
        return "close " + reply;
      case LocalAction::kRefused:
        return "refused " + reply;
    }
    return "?";
  }

 private:
  RedisCodec codec_;
  RequestDecoderPtr decoder_;
  SessionPtr session_;
};

TEST(RedisSessionTest, LocalCommandsWithoutAuth) {
  SessionDriver driver("", 0);
  EXPECT_EQ(driver.Send("PING"), "reply +PONG\r\n");
  EXPECT_EQ(driver.Send("ping hello"), "reply $5\r\nhello\r\n");
  EXPECT_EQ(driver.Send("PING \"\""), "reply $0\r\n\r\n");
  EXPECT_EQ(driver.Send("ECHO \"a b\""), "reply $3\r\na b\r\n");
  EXPECT_EQ(driver.Send("SELECT 0"), "reply +OK\r\n");
  EXPECT_EQ(driver.Send("SELECT 1"),
            "reply -ERR SELECT is not supported by the proxy: this pool always uses database "
            "0\r\n");
  EXPECT_EQ(driver.Send("SELECT x"), "reply -ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(driver.Send("AUTH secret"), "reply -ERR Client sent AUTH, but no password is set\r\n");
  EXPECT_EQ(driver.Send("AUTH default secret"),
            "reply -ERR Client sent AUTH, but no password is set\r\n");
  EXPECT_EQ(driver.Send("GET k"), "forward ");
  EXPECT_EQ(driver.Send("MGET a b"), "forward ");
  EXPECT_EQ(driver.Send("KEYS *"), "forward ");  // the reject filter answers it
  EXPECT_EQ(driver.Send("QUIT"), "close +OK\r\n");
}

TEST(RedisSessionTest, SelectAcceptsOnlyThePoolDatabase) {
  SessionDriver driver("", 3);
  EXPECT_EQ(driver.Send("SELECT 3"), "reply +OK\r\n");
  EXPECT_EQ(driver.Send("SELECT 0"),
            "reply -ERR SELECT is not supported by the proxy: this pool always uses database "
            "3\r\n");
}

TEST(RedisSessionTest, AuthRequiredBeforeAnythingButAuthAndQuit) {
  SessionDriver driver("s3cret", 0);
  EXPECT_EQ(driver.Send("GET k"), "reply -NOAUTH Authentication required\r\n");
  EXPECT_EQ(driver.Send("PING"), "reply -NOAUTH Authentication required\r\n");
  EXPECT_EQ(driver.Send("MGET a b c"), "reply -NOAUTH Authentication required\r\n");
  EXPECT_EQ(driver.Send("SELECT 0"), "reply -NOAUTH Authentication required\r\n");
  EXPECT_EQ(driver.Send("KEYS *"), "reply -NOAUTH Authentication required\r\n");
  EXPECT_EQ(driver.Send("AUTH wrong"), "reply -ERR invalid password\r\n");
  EXPECT_EQ(driver.Send("GET k"), "reply -NOAUTH Authentication required\r\n");
  EXPECT_EQ(driver.Send("AUTH s3cret"), "reply +OK\r\n");
  EXPECT_EQ(driver.Send("GET k"), "forward ");
  EXPECT_EQ(driver.Send("PING"), "reply +PONG\r\n");
  // A wrong password after a good one keeps the connection authenticated (redis 7 does; issue
  // 9 finding 14).
  EXPECT_EQ(driver.Send("AUTH s3cre"), "reply -ERR invalid password\r\n");
  EXPECT_EQ(driver.Send("GET k"), "forward ");
  // Re-authentication works.
  EXPECT_EQ(driver.Send("auth s3cret"), "reply +OK\r\n");
  EXPECT_EQ(driver.Send("GET k"), "forward ");
}

TEST(RedisSessionTest, TwoArgumentAuthNeedsTheDefaultUser) {
  SessionDriver driver("pw", 0);
  EXPECT_EQ(driver.Send("AUTH alice pw"), "reply -ERR invalid password\r\n");
  EXPECT_EQ(driver.Send("GET k"), "reply -NOAUTH Authentication required\r\n");
  EXPECT_EQ(driver.Send("AUTH default nope"), "reply -ERR invalid password\r\n");
  EXPECT_EQ(driver.Send("AUTH default pw"), "reply +OK\r\n");
  EXPECT_EQ(driver.Send("GET k"), "forward ");
}

TEST(RedisSessionTest, QuitWorksWithoutAuthentication) {
  SessionDriver driver("pw", 0);
  EXPECT_EQ(driver.Send("QUIT"), "close +OK\r\n");
}

TEST(RedisSessionTest, HandBuiltLocalRequestsWithWrongArityGetRedisErrors) {
  // The decoder refuses these first; the session still answers correctly on its own.
  RedisCodec codec("", 0);
  SessionPtr session = codec.NewSession();
  proxy::test::StringBuffer buffer("PING\r\n");
  RequestDecoderPtr decoder = codec.NewRequestDecoder(DecoderLimits());
  Request request;
  std::string error;
  ASSERT_EQ(decoder->Decode(buffer, &request, &error), DecodeResult::kMessage);
  request.args.Add("a");
  request.args.Add("b");
  std::string reply;
  EXPECT_EQ(session->OnRequest(request, &reply), LocalAction::kReply);
  EXPECT_EQ(reply, "-ERR wrong number of arguments for 'ping' command\r\n");
}

// The id in a HELLO reply or CLIENT ID (unique per session).
int64_t IdOf(SessionDriver& driver) {
  const std::string reply = driver.Send("CLIENT ID");
  int64_t id = 0;
  EXPECT_EQ(reply.rfind("reply :", 0), 0u) << reply;
  EXPECT_TRUE(absl::SimpleAtoi(reply.substr(7, reply.size() - 9), &id)) << reply;
  return id;
}

std::string Hello(int proto, int64_t id) {
  const std::string body = absl::StrCat(
      "$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.0.0\r\n$5\r\nproto\r\n:", proto,
      "\r\n$2\r\nid\r\n:", id,
      "\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n");
  return absl::StrCat(proto == 3 ? "%7\r\n" : "*14\r\n", body);
}

TEST(RedisSessionTest, HelloSwitchesTheProtocolAndTheVariant) {
  SessionDriver driver("", 0);
  const int64_t id = IdOf(driver);
  EXPECT_GT(id, 0);
  EXPECT_EQ(driver.session().Variant(), 0);
  EXPECT_EQ(driver.Send("HELLO"), "reply " + Hello(2, id));
  EXPECT_EQ(driver.session().Variant(), 0);
  EXPECT_EQ(driver.Send("HELLO 3"), "reply " + Hello(3, id));
  EXPECT_EQ(driver.session().Variant(), 1);
  EXPECT_EQ(driver.Send("HELLO"), "reply " + Hello(3, id));
  EXPECT_EQ(driver.Send("CLIENT GETNAME"), "reply _\r\n");
  EXPECT_EQ(driver.Send("HELLO 2"), "reply " + Hello(2, id));
  EXPECT_EQ(driver.session().Variant(), 0);
  EXPECT_EQ(driver.Send("CLIENT GETNAME"), "reply $-1\r\n");
  // Errors change nothing.
  EXPECT_EQ(driver.Send("HELLO 4"), "reply -NOPROTO unsupported protocol version\r\n");
  EXPECT_EQ(driver.Send("HELLO 1"), "reply -NOPROTO unsupported protocol version\r\n");
  EXPECT_EQ(driver.Send("HELLO x"),
            "reply -ERR Protocol version is not an integer or out of range\r\n");
  EXPECT_EQ(driver.Send("HELLO 3 SETNAME"), "reply -ERR Syntax error in HELLO option 'SETNAME'\r\n");
  EXPECT_EQ(driver.Send("HELLO 3 AUTH default"),
            "reply -ERR Syntax error in HELLO option 'AUTH'\r\n");
  EXPECT_EQ(driver.session().Variant(), 0);
  // Another session has another id.
  SessionDriver other("", 0);
  EXPECT_NE(IdOf(other), id);
}

TEST(RedisSessionTest, HelloAuthAndSetname) {
  SessionDriver driver("pw", 0);
  const std::string kNoAuthHello =
      "reply -NOAUTH HELLO must be called with the client already authenticated, otherwise the "
      "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
      "select the RESP protocol version at the same time\r\n";
  EXPECT_EQ(driver.Send("HELLO 3"), kNoAuthHello);
  EXPECT_EQ(driver.Send("HELLO"), kNoAuthHello);
  EXPECT_EQ(driver.Send("HELLO 3 AUTH alice pw"),
            "reply -WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(driver.Send("HELLO 3 AUTH default nope"),
            "reply -WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(driver.session().Variant(), 0);
  const std::string ok = driver.Send("HELLO 3 auth default pw setname app-1");
  EXPECT_EQ(ok.rfind("reply %7\r\n", 0), 0u) << ok;
  EXPECT_EQ(driver.session().Variant(), 1);
  EXPECT_EQ(driver.Send("CLIENT GETNAME"), "reply $5\r\napp-1\r\n");
  EXPECT_EQ(driver.Send("GET k"), "forward ");
  // Without redis_auth: the default user takes any password (redis's nopass), others do not.
  SessionDriver open("", 0);
  EXPECT_EQ(open.Send("HELLO 3 AUTH default whatever").rfind("reply %7\r\n", 0), 0u);
  EXPECT_EQ(open.Send("HELLO 2 AUTH bob whatever"),
            "reply -WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(open.session().Variant(), 1);
}

TEST(RedisSessionTest, ClientSubcommands) {
  SessionDriver driver("", 4);
  const int64_t id = IdOf(driver);
  EXPECT_EQ(driver.Send("CLIENT SETNAME worker-7"), "reply +OK\r\n");
  EXPECT_EQ(driver.Send("client getname"), "reply $8\r\nworker-7\r\n");
  EXPECT_EQ(driver.Send("CLIENT SETNAME \"a b\""),
            "reply -ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  EXPECT_EQ(driver.Send("CLIENT GETNAME"), "reply $8\r\nworker-7\r\n");
  EXPECT_EQ(driver.Send("CLIENT SETNAME \"\""), "reply +OK\r\n");  // clears it
  EXPECT_EQ(driver.Send("CLIENT GETNAME"), "reply $-1\r\n");
  EXPECT_EQ(driver.Send("CLIENT SETNAME"),
            "reply -ERR wrong number of arguments for 'client|setname' command\r\n");
  EXPECT_EQ(driver.Send("CLIENT SETINFO LIB-NAME redis-py"), "reply +OK\r\n");
  EXPECT_EQ(driver.Send("CLIENT SETINFO lib-ver 5.0.1"), "reply +OK\r\n");
  EXPECT_EQ(driver.Send("CLIENT SETINFO lib-name \"a b\""),
            "reply -ERR lib-name cannot contain spaces, newlines or special characters.\r\n");
  EXPECT_EQ(driver.Send("CLIENT SETINFO color red"), "reply -ERR Unrecognized option 'color'\r\n");
  EXPECT_EQ(driver.Send("CLIENT SETINFO lib-name"),
            "reply -ERR wrong number of arguments for 'client|setinfo' command\r\n");
  const std::string info = driver.Send("CLIENT INFO");
  EXPECT_EQ(info.rfind("reply $", 0), 0u) << info;
  EXPECT_NE(info.find(absl::StrCat("id=", id, " ")), std::string::npos) << info;
  EXPECT_NE(info.find(" name= "), std::string::npos) << info;
  EXPECT_NE(info.find(" db=4 "), std::string::npos) << info;
  EXPECT_NE(info.find(" resp=2 lib-name=redis-py lib-ver=5.0.1\n\r\n"), std::string::npos)
      << info;
  EXPECT_EQ(driver.Send("CLIENT REPLY ON"), "reply +OK\r\n");
  EXPECT_EQ(driver.Send("CLIENT TRACKING off"), "reply +OK\r\n");
  EXPECT_EQ(driver.Send("CLIENT GETREDIR"), "reply :-1\r\n");
  EXPECT_EQ(driver.Send("CLIENT TRACKINGINFO"),
            "reply *6\r\n$5\r\nflags\r\n*1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\n"
            "prefixes\r\n*0\r\n");
  EXPECT_EQ(driver.Send("CLIENT CACHING yes"),
            "reply -ERR CLIENT CACHING can be called only when the client is in tracking mode "
            "with OPTIN or OPTOUT mode enabled\r\n");
  EXPECT_EQ(driver.Send("CLIENT MAINT_NOTIFICATIONS ON moving-endpoint-type internal-ip"),
            "reply -ERR unknown subcommand 'MAINT_NOTIFICATIONS'. Try CLIENT HELP.\r\n");
  EXPECT_EQ(driver.Send("CLIENT nosuch"), "reply -ERR unknown subcommand 'nosuch'. Try CLIENT HELP.\r\n");
  for (const char* refused : {"CLIENT REPLY OFF", "CLIENT REPLY SKIP", "CLIENT TRACKING ON",
                              "CLIENT NO-EVICT on", "CLIENT LIST", "CLIENT KILL ID 1",
                              "CLIENT PAUSE 100"}) {
    const std::string reply = driver.Send(refused);
    // Refusals: counted and logged by the core like its own (LocalAction::kRefused).
    EXPECT_EQ(reply.rfind("refused -ERR unsupported command 'CLIENT ", 0), 0u) << refused << reply;
  }
  EXPECT_EQ(driver.Send("CLIENT NO-TOUCH off"), "reply +OK\r\n");
  EXPECT_EQ(driver.Send("CLIENT"), "not decoded: wrong number of arguments for 'client' command");
}

TEST(RedisSessionTest, Resp3LocalReplies) {
  SessionDriver driver("", 0);
  ASSERT_EQ(driver.Send("HELLO 3 SETNAME n").rfind("reply %7", 0), 0u);
  const std::string info = driver.Send("CLIENT INFO");
  // A verbatim string, as redis answers CLIENT INFO in RESP3: =<len>\r\ntxt:<line>\r\n.
  ASSERT_EQ(info.rfind("reply =", 0), 0u) << info;
  const size_t crlf = info.find("\r\n");
  size_t length = 0;
  ASSERT_TRUE(absl::SimpleAtoi(info.substr(7, crlf - 7), &length));
  EXPECT_EQ(info.substr(crlf + 2, 4), "txt:");
  EXPECT_EQ(info.size(), crlf + 2 + length + 2);
  EXPECT_NE(info.find(" name=n "), std::string::npos);
  EXPECT_NE(info.find(" resp=3 "), std::string::npos);
  EXPECT_EQ(driver.Send("CLIENT TRACKINGINFO"),
            "reply %3\r\n$5\r\nflags\r\n~1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\n"
            "prefixes\r\n*0\r\n");
  EXPECT_EQ(driver.Send("PING"), "reply +PONG\r\n");
  EXPECT_EQ(driver.Send("READONLY"), "reply +OK\r\n");
  EXPECT_EQ(driver.Send("READWRITE"), "reply +OK\r\n");
}

TEST(RedisSessionTest, ResetReturnsToANewConnectionsState) {
  SessionDriver driver("pw", 0);
  ASSERT_EQ(driver.Send("HELLO 3 AUTH default pw SETNAME before").rfind("reply %7", 0), 0u);
  ASSERT_EQ(driver.Send("CLIENT SETINFO lib-name x"), "reply +OK\r\n");
  EXPECT_EQ(driver.session().Variant(), 1);
  EXPECT_EQ(driver.Send("RESET"), "reply +RESET\r\n");
  EXPECT_EQ(driver.session().Pin(), PinAction::kNone);  // nothing was pinned
  EXPECT_EQ(driver.session().Variant(), 0);
  // Not authenticated any more (redis: the default user, which needs the password).
  EXPECT_EQ(driver.Send("CLIENT GETNAME"), "reply -NOAUTH Authentication required\r\n");
  EXPECT_EQ(driver.Send("AUTH pw"), "reply +OK\r\n");
  EXPECT_EQ(driver.Send("CLIENT GETNAME"), "reply $-1\r\n");
  EXPECT_EQ(driver.Send("CLIENT INFO").find("lib-name=x"), std::string::npos);
  // RESET before authenticating is allowed (as in redis), and so is QUIT.
  SessionDriver fresh("pw", 0);
  EXPECT_EQ(fresh.Send("RESET"), "reply +RESET\r\n");
  EXPECT_EQ(fresh.Send("RESET extra"), "not decoded: wrong number of arguments for 'reset' command");
  // Without redis_auth, RESET leaves the connection usable.
  SessionDriver open("", 0);
  EXPECT_EQ(open.Send("RESET"), "reply +RESET\r\n");
  EXPECT_EQ(open.Send("GET k"), "forward ");
}

TEST(RedisSessionTest, ConnectionCommandsNeedAuthenticationExceptHelloResetAuthQuit) {
  SessionDriver driver("pw", 0);
  for (const char* line : {"CLIENT SETNAME x", "CLIENT ID", "READONLY", "INFO", "INFO keyspace",
                           "MULTI", "EXEC", "WATCH k", "UNWATCH", "DISCARD"}) {
    EXPECT_EQ(driver.Send(line), "reply -NOAUTH Authentication required\r\n") << line;
  }
}

// The session's wiring of protocols/redis/transaction.h: asked first, its pin exposed, the
// core's callbacks forwarded, RESET and HELLO around it.
TEST(RedisSessionTest, TransactionsArePinnedThroughTheSession) {
  SessionDriver driver("", 0);
  Session& session = driver.session();
  EXPECT_EQ(driver.Send("MULTI"), "reply +OK\r\n");  // held by the proxy
  EXPECT_EQ(session.Pin(), PinAction::kNone);
  EXPECT_EQ(driver.Send("SET k v"), "forward ");
  EXPECT_EQ(session.Pin(), PinAction::kPin);  // the first key picks the server
  EXPECT_EQ(session.PinPrelude(), "*1\r\n$5\r\nMULTI\r\n");
  EXPECT_TRUE(session.PinnedOnly());
  EXPECT_EQ(driver.Send("PING"), "forward ");  // queued on the pinned server
  EXPECT_EQ(session.Pin(), PinAction::kPinned);
  EXPECT_EQ(driver.Send("CLIENT SETNAME x").rfind("reply -ERR ", 0), 0u);  // not queueable
  EXPECT_EQ(driver.Send("EXEC"), "reply -EXECABORT Transaction discarded because of previous "
                                 "errors.\r\n");
  EXPECT_EQ(session.Pin(), PinAction::kReset);
  EXPECT_FALSE(session.PinnedOnly());
  // A clean one: EXEC goes to the pinned connection and releases it.
  EXPECT_EQ(driver.Send("MULTI"), "reply +OK\r\n");
  EXPECT_EQ(driver.Send("INCR n"), "forward ");
  EXPECT_EQ(session.Pin(), PinAction::kPin);
  EXPECT_EQ(driver.Send("EXEC"), "forward ");
  EXPECT_EQ(session.Pin(), PinAction::kRelease);
  // WATCH pins; MULTI follows on that connection.
  EXPECT_EQ(driver.Send("WATCH a b"), "forward ");
  EXPECT_EQ(session.Pin(), PinAction::kPin);
  EXPECT_EQ(session.PinPrelude(), "");
  EXPECT_EQ(driver.Send("MULTI"), "forward ");
  EXPECT_EQ(session.Pin(), PinAction::kPinned);
  EXPECT_EQ(driver.Send("DISCARD"), "forward ");
  EXPECT_EQ(session.Pin(), PinAction::kRelease);
  EXPECT_EQ(driver.Send("EXEC"), "reply -ERR EXEC without MULTI\r\n");
  EXPECT_EQ(driver.Send("DISCARD"), "reply -ERR DISCARD without MULTI\r\n");
  EXPECT_EQ(driver.Send("UNWATCH"), "reply +OK\r\n");
}

TEST(RedisSessionTest, TransactionCallbacksFailTheTransaction) {
  SessionDriver driver("", 0);
  Session& session = driver.session();
  EXPECT_EQ(driver.Send("MULTI"), "reply +OK\r\n");
  EXPECT_EQ(driver.Send("SET k v"), "forward ");
  session.OnInvalidRequest();  // e.g. GET with two keys, refused by the decoder
  EXPECT_EQ(driver.Send("EXEC").rfind("reply -EXECABORT ", 0), 0u);
  EXPECT_EQ(driver.Send("MULTI"), "reply +OK\r\n");
  EXPECT_EQ(driver.Send("SET k v"), "forward ");
  session.OnPinRefused();  // no dedicated connection free
  EXPECT_EQ(driver.Send("EXEC").rfind("reply -EXECABORT ", 0), 0u);
  // A lost WATCH: EXEC answers the null reply of a failed optimistic lock, in the client's
  // protocol.
  ASSERT_EQ(driver.Send("HELLO 3").rfind("reply %7", 0), 0u);
  EXPECT_EQ(driver.Send("WATCH k"), "forward ");
  session.OnPinLost();
  EXPECT_EQ(driver.Send("MULTI"), "reply +OK\r\n");
  EXPECT_EQ(driver.Send("SET k v"), "forward ");
  EXPECT_EQ(driver.Send("EXEC"), "reply _\r\n");
}

TEST(RedisSessionTest, ResetAndHelloAroundATransaction) {
  SessionDriver driver("", 0);
  Session& session = driver.session();
  EXPECT_EQ(driver.Send("WATCH k"), "forward ");
  ASSERT_EQ(session.Pin(), PinAction::kPin);
  // The pinned connection speaks RESP2: no protocol change meanwhile; HELLO 2 is fine.
  EXPECT_EQ(driver.Send("HELLO 3"),
            "reply -ERR HELLO is not allowed while a transaction or WATCH is active on this "
            "connection (the proxy keeps its protocol until EXEC, DISCARD or UNWATCH)\r\n");
  EXPECT_EQ(session.Variant(), 0);
  EXPECT_EQ(driver.Send("HELLO 2").rfind("reply *14", 0), 0u);
  // RESET inside MULTI: the transaction ends, the pinned connection is reset.
  EXPECT_EQ(driver.Send("MULTI"), "forward ");
  EXPECT_EQ(driver.Send("RESET"), "reply +RESET\r\n");
  EXPECT_EQ(session.Pin(), PinAction::kReset);
  EXPECT_FALSE(session.PinnedOnly());
  EXPECT_EQ(driver.Send("EXEC"), "reply -ERR EXEC without MULTI\r\n");
  EXPECT_EQ(driver.Send("HELLO 3").rfind("reply %7", 0), 0u);
  EXPECT_EQ(session.Variant(), 1);
  // Inside MULTI (nothing pinned yet) HELLO is a connection command: refused, and it fails the
  // transaction (protocols/redis/transaction.h).
  EXPECT_EQ(driver.Send("MULTI"), "reply +OK\r\n");
  EXPECT_EQ(driver.Send("HELLO 2").rfind("reply -ERR ", 0), 0u);
  EXPECT_EQ(session.Variant(), 1);
  EXPECT_EQ(driver.Send("DISCARD"), "reply +OK\r\n");
}

}  // namespace
}  // namespace proxy::protocols::redis::test

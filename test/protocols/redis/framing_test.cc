// Tests of the framing rules of the redis plugin (issue 9): what the request decoder forwards,
// re-encodes, skips or refuses so that a shared server connection never frames a request
// differently from the proxy; redis's limits for unauthenticated clients; the command table's
// refusal of every mode-changing command; the session's refused-transaction state; AUTH; and a
// reply decoder that refuses RESP3 instead of miscounting replies.
//
// The expected decisions were checked against redis-server 7.0 (test/safety/redis runs the
// same byte sequences through the proxy against a real server).
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/codec.h"
#include "gtest/gtest.h"
#include "protocols/redis/auth.h"
#include "protocols/redis/command_table.h"
#include "protocols/redis/redis_codec.h"
#include "protocols/redis/reply_decoder.h"
#include "protocols/redis/request_decoder.h"
#include "test/fakes/decoder_feeding.h"
#include "test/fakes/string_buffer.h"
#include "test/protocols/redis/decode_util.h"

namespace proxy::protocols::redis::test {
namespace {

using ::proxy::test::StringBuffer;

std::string Resp(const std::vector<std::string>& args) {
  std::string wire = absl::StrCat("*", args.size(), "\r\n");
  for (const std::string& arg : args) {
    absl::StrAppend(&wire, "$", arg.size(), "\r\n", arg, "\r\n");
  }
  return wire;
}

// "<result> <command> wire=<n> [sent=<escaped rewritten>]" or "protocol-error error=<text>":
// `sent` is what the core forwards instead of the wire bytes.
std::string Describe(DecodeResult result, const Request& request, const std::string& error) {
  if (result == DecodeResult::kProtocolError) {
    return absl::StrCat("protocol-error error=", error);
  }
  std::string line = absl::StrCat(::proxy::test::ResultName(result), " ",
                                   request.command.empty() ? "-" : request.command, " ",
                                   ::proxy::test::KindName(request.kind), " wire=", request.wire_size);
  if (request.has_rewrite) {
    absl::StrAppend(&line, " sent=", absl::CEscape(request.rewritten));
  }
  if (result == DecodeResult::kInvalidRequest) {
    absl::StrAppend(&line, " error=", error);
  }
  return line;
}

std::vector<std::string> Decode(absl::string_view wire, const Feeding& feeding,
                                absl::string_view password = {}) {
  RedisRequestDecoder decoder(DecoderLimits(), password);
  return ::proxy::test::FeedDecoder<RedisRequestDecoder, Request>(
      decoder, wire, feeding, Describe, [](Request* r) {
        r->wire_size = 12345;
        r->has_rewrite = true;
        r->rewritten = "stale";
      });
}

// Same lines under every feeding.
void ExpectEverywhere(absl::string_view wire, const std::vector<std::string>& expected,
                      absl::string_view password = {}) {
  for (const Feeding& feeding : AllFeedings(wire.size())) {
    ASSERT_EQ(Decode(wire, feeding, password), expected)
        << FeedingName(feeding) << " for " << absl::CEscape(wire);
  }
}

std::string Sent(const std::vector<std::string>& args) { return absl::CEscape(Resp(args)); }

// --- Finding 3: inline commands are re-encoded, never forwarded; NUL is refused. ---------------

TEST(RedisFramingTest, InlineCommandsAreSentAsCanonicalArrays) {
  ExpectEverywhere("GET k\r\n", {"message GET read wire=7 sent=" + Sent({"GET", "k"})});
  ExpectEverywhere("set k v\n", {"message SET write wire=8 sent=" + Sent({"set", "k", "v"})});
  ExpectEverywhere("SET \"a b\" 'c\\'d'\r\n",
                   {"message SET write wire=18 sent=" + Sent({"SET", "a b", "c'd"})});
  ExpectEverywhere("SET \"\\x00\\r\\n\" x\r\n",
                   {"message SET write wire=18 sent=" + Sent({"SET", std::string("\0\r\n", 3), "x"})});
  // \v and \f separate arguments only between them (isspace), not inside one (sdssplitargs).
  ExpectEverywhere("SET \vk\v v\r\n",
                   {"message SET write wire=11 sent=" + Sent({"SET", "k\v", "v"})});
  ExpectEverywhere("SET \"a\"\f b\r\n",
                   {"message SET write wire=12 sent=" + Sent({"SET", "a", "b"})});
  // A lone CR inside the line separates arguments; the last CR before LF is the line end.
  ExpectEverywhere("GET a\r\r\n", {"message GET read wire=8 sent=" + Sent({"GET", "a"})});
}

TEST(RedisFramingTest, BlankLinesAreNeverForwardedAndEmptyArraysRefused) {
  // Redis answers nothing to them: the request after them is sent alone.
  ExpectEverywhere("\r\n\n   \r\nPING\r\n",
                   {"message PING local wire=14 sent=" + Sent({"PING"})});
  const std::string get = Resp({"GET", "k"});
  ExpectEverywhere("\r\n" + get, {absl::StrCat("message GET read wire=", get.size() + 2,
                                               " sent=", absl::CEscape(get))});
  ExpectEverywhere("\n  \r\nGET k\r\n", {"message GET read wire=12 sent=" + Sent({"GET", "k"})});
  // Without skipped bytes the array is forwarded as received (no copy).
  ExpectEverywhere(get + get, {absl::StrCat("message GET read wire=", get.size()),
                               absl::StrCat("message GET read wire=", get.size())});
  // Only blank lines: nothing to forward, nothing to answer.
  ExpectEverywhere("\r\n \r\n\n", {});
  // Endless blank lines are refused once they exceed the inline limit.
  std::string blanks;
  while (blanks.size() <= RedisRequestDecoder::kMaxInlineSize) blanks += " \r\n";
  EXPECT_EQ(Decode(blanks, Feeding{{}, 0}),
            std::vector<std::string>{
                "protocol-error error=Protocol error: too many blank lines before a request"});
  // Redis skips "*0" and "*-N" without a reply as well: refused, never forwarded.
  ExpectEverywhere("*0\r\n" + get, {"protocol-error error=Protocol error: invalid multibulk "
                                     "length 0 (a request needs a command name)"});
  ExpectEverywhere("*-1\r\n" + get,
                   {"protocol-error error=Protocol error: invalid multibulk length (negative)"});
  ExpectEverywhere(get + "*-25\r\n",
                   {absl::StrCat("message GET read wire=", get.size()),
                    "protocol-error error=Protocol error: invalid multibulk length (negative)"});
}

TEST(RedisFramingTest, NulInAnInlineLineIsAProtocolError) {
  const std::string nul = "protocol-error error=Protocol error: NUL byte in an inline request";
  ExpectEverywhere(std::string("GET a\0b\r\n", 9), {nul});
  ExpectEverywhere(std::string("\0\r\n", 3) + Resp({"GET", "k"}), {nul});
  // Refused as soon as it arrives, without waiting for the line end.
  ExpectEverywhere(std::string("GET a\0", 6), {nul});
  // A request before it is still served.
  ExpectEverywhere("PING\r\n" + std::string("x\0\n", 3),
                   {"message PING local wire=6 sent=" + Sent({"PING"}), nul});
  // NUL inside a RESP bulk is just data.
  const std::string set = Resp({"SET", std::string("a\0b", 3), std::string("\0", 1)});
  ExpectEverywhere(set, {absl::StrCat("message SET write wire=", set.size())});
}

// --- Multibulk strictness: only what redis's string2ll framing reads the same way. -------------

TEST(RedisFramingTest, HeadersAreParsedExactlyLikeString2ll) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"*+1\r\n", "Protocol error: invalid multibulk length (expected a digit, got '+')"},
      {"* 1\r\n", "Protocol error: invalid multibulk length (expected a digit, got ' ')"},
      {"*1 \r\n", "Protocol error: invalid multibulk length (expected a digit, got ' ')"},
      {"*-0\r\n", "Protocol error: invalid multibulk length (negative)"},
      {"*01\r\n", "Protocol error: invalid multibulk length (leading zero)"},
      {"*1\n", "Protocol error: invalid multibulk length (expected a digit, got '\\n')"},
      {std::string("*1\0\r\n", 5),
       "Protocol error: invalid multibulk length (expected a digit, got '\\x00')"},
      {"*2147483648\r\n", "Protocol error: invalid multibulk length"},
      {"*1\r\n$+4\r\nPING\r\n", "Protocol error: invalid bulk length (expected a digit, got '+')"},
      {"*1\r\n$-1\r\n", "Protocol error: invalid bulk length (negative)"},
      {"*1\r\n$ 4\r\nPING\r\n", "Protocol error: invalid bulk length (expected a digit, got ' ')"},
      {"*1\r\n$4 \r\nPING\r\n", "Protocol error: invalid bulk length (expected a digit, got ' ')"},
      {"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870913\r\n", "Protocol error: invalid bulk length"},
      // Redis skips two bytes after a header's '\r' and after a payload without looking at
      // them: the proxy requires exactly CRLF there.
      {"*1\rX$4\r\nPING\r\n", "Protocol error: expected '\\n' after '\\r', got 'X'"},
      {"*1\r\n$4\r\nPINGXY",
       "Protocol error: expected '\\r\\n' after a bulk string of 4 bytes, got 'X'"},
      {"*1\r\n$4\r\nPING\rY", "Protocol error: expected '\\n' after '\\r', got 'Y'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(absl::CEscape(c.first));
    ExpectEverywhere(c.first, {"protocol-error error=" + c.second});
  }
  // The largest accepted bulk header (redis's proto-max-bulk-len) waits for its payload.
  EXPECT_EQ(Decode("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870000\r\n", Feeding{{}, 0}),
            std::vector<std::string>{});
}

// --- Finding 14/8: redis's limits before AUTH, constant-time comparison. -----------------------

TEST(RedisFramingTest, UnauthenticatedClientsHaveRedisLimits) {
  const std::string eleven = Resp(std::vector<std::string>(11, "x"));
  const std::string mbulk = "protocol-error error=Protocol error: unauthenticated multibulk length";
  const std::string bulk = "protocol-error error=Protocol error: unauthenticated bulk length";
  ExpectEverywhere(eleven, {mbulk}, "pw");
  ExpectEverywhere("*2\r\n$3\r\nGET\r\n$16385\r\n", {bulk}, "pw");
  // At the limits: fine (the session answers -NOAUTH).
  const std::string ten = Resp({"MGET", "a", "b", "c", "d", "e", "f", "g", "h", "i"});
  const std::string big_key(16384, 'k');
  const std::string get_big = Resp({"GET", big_key});
  ExpectEverywhere(ten + get_big,
                   {absl::StrCat("message MGET multikey wire=", ten.size()),
                    absl::StrCat("message GET read wire=", get_big.size())},
                   "pw");
  // A wrong AUTH changes nothing; a right one (inline, RESP, with the default user) lifts them.
  const std::string wrong = Resp({"AUTH", "nope"});
  ExpectEverywhere(wrong + eleven,
                   {absl::StrCat("message AUTH local wire=", wrong.size()), mbulk}, "pw");
  ExpectEverywhere("AUTH pw\r\n" + eleven,
                   {"message AUTH local wire=9 sent=" + Sent({"AUTH", "pw"}),
                    absl::StrCat("message - unsupported wire=", eleven.size())},
                   "pw");
  const std::string right = Resp({"AUTH", "default", "pw"});
  ExpectEverywhere(right + wrong + eleven,
                   {absl::StrCat("message AUTH local wire=", right.size()),
                    absl::StrCat("message AUTH local wire=", wrong.size()),
                    absl::StrCat("message - unsupported wire=", eleven.size())},
                   "pw");
  // Another user never authenticates.
  const std::string other = Resp({"AUTH", "admin", "pw"});
  ExpectEverywhere(other + eleven,
                   {absl::StrCat("message AUTH local wire=", other.size()), mbulk}, "pw");
  // Without redis_auth there is no such limit.
  ExpectEverywhere(eleven, {absl::StrCat("message - unsupported wire=", eleven.size())});
}

TEST(RedisFramingTest, PasswordComparison) {
  EXPECT_TRUE(SamePassword("secret", "secret"));
  EXPECT_FALSE(SamePassword("secre", "secret"));
  EXPECT_FALSE(SamePassword("secrets", "secret"));
  EXPECT_FALSE(SamePassword("", "secret"));
  EXPECT_FALSE(SamePassword("Secret", "secret"));
  EXPECT_FALSE(SamePassword(std::string("secret\0", 7), "secret"));
  EXPECT_TRUE(SamePassword(std::string("a\0b", 3), std::string("a\0b", 3)));
  ArgList args;
  args.Add("pw");
  EXPECT_TRUE(AuthArgsMatch(args, "pw"));
  EXPECT_FALSE(AuthArgsMatch(args, ""));
  args.Clear();
  args.Add("default");
  args.Add("pw");
  EXPECT_TRUE(AuthArgsMatch(args, "pw"));
  args.Clear();
  args.Add("root");
  args.Add("pw");
  EXPECT_FALSE(AuthArgsMatch(args, "pw"));
}

// --- Finding 5 and 7: mode-changing commands are unsupported, with a reason. ------------------

TEST(RedisFramingTest, EveryModeChangingCommandIsUnsupportedWithAReason) {
  const RedisCodec codec("", 0);
  const std::vector<std::vector<std::string>> commands = {
      {"SUBSCRIBE", "c"}, {"PSUBSCRIBE", "c*"}, {"SSUBSCRIBE", "c"}, {"UNSUBSCRIBE"},
      {"PUNSUBSCRIBE"}, {"SUNSUBSCRIBE"}, {"MONITOR"}, {"SWAPDB", "0", "1"}, {"MOVE", "k", "1"},
      {"COPY", "a", "b", "DB", "0"}, {"copy", "a", "b", "REPLACE", "db", "3"},
      {"BLPOP", "k", "0"}, {"BRPOP", "k", "0"}, {"BRPOPLPUSH", "a", "b", "0"},
      {"BLMOVE", "a", "b", "LEFT", "LEFT", "0"}, {"BLMPOP", "0", "1", "k", "LEFT"},
      {"BZPOPMIN", "k", "0"}, {"BZPOPMAX", "k", "0"}, {"BZMPOP", "0", "1", "k", "MIN"},
      {"XREAD", "BLOCK", "0", "STREAMS", "s", "$"},
      {"XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"}, {"WAIT", "1", "0"},
      {"WAITAOF", "1", "0", "0"}, {"DEBUG", "SLEEP", "10"}, {"SHUTDOWN"}, {"CONFIG", "SET", "a", "b"},
      {"SCRIPT", "KILL"}, {"FUNCTION", "KILL"}, {"SYNC"}, {"PSYNC", "?", "-1"},
      {"REPLICAOF", "NO", "ONE"}, {"FAILOVER"}, {"CLUSTER", "INFO"}, {"ASKING"}, {"ACL", "LIST"},
      {"FLUSHALL"}, {"FLUSHDB"}, {"KEYS", "*"},
  };
  for (const std::vector<std::string>& command : commands) {
    const std::string wire = Resp(command);
    SCOPED_TRACE(absl::CEscape(wire));
    RedisRequestDecoder decoder((DecoderLimits()));
    StringBuffer buffer(wire);
    Request request;
    std::string error;
    ASSERT_EQ(decoder.Decode(buffer, &request, &error), DecodeResult::kMessage) << error;
    EXPECT_EQ(request.kind, CommandKind::kUnsupported);
    EXPECT_FALSE(request.command.empty()) << "must be a known command, refused by name";
    EXPECT_FALSE(codec.UnsupportedReason(request.args[0]).empty());
  }
  // SELECT and AUTH are answered by the proxy, QUIT too, and the connection commands (the
  // session answers them, transactions use a pinned connection: see below); PUBLISH changes no
  // mode but has no key.
  for (const char* name : {"SELECT", "AUTH", "QUIT", "HELLO", "CLIENT", "RESET", "READONLY",
                           "READWRITE", "MULTI", "EXEC", "DISCARD", "UNWATCH"}) {
    const CommandSpec* spec = CommandTable::Get().Find(name);
    ASSERT_NE(spec, nullptr);
    EXPECT_EQ(spec->kind, CommandKind::kLocal) << name;
  }
  // COPY without DB is an ordinary two-key write.
  RedisRequestDecoder decoder((DecoderLimits()));
  StringBuffer buffer(Resp({"COPY", "a", "b", "REPLACE"}));
  Request request;
  std::string error;
  ASSERT_EQ(decoder.Decode(buffer, &request, &error), DecodeResult::kMessage);
  EXPECT_EQ(request.kind, CommandKind::kWrite);
  EXPECT_EQ(request.KeyCount(), 2u);
}

// --- Finding 6 and 7: connection commands never reach a shared server connection. --------------
// Transactions are served on a pinned connection (protocols/redis/transaction.h, tested with
// it); whatever the transaction decides, a transaction command is either answered by the
// session or sent with a pin, and HELLO/CLIENT/RESET/READONLY are always answered locally.

class SessionDriver {
 public:
  explicit SessionDriver(std::string auth = "")
      : codec_(std::move(auth), 0),
        decoder_(codec_.NewRequestDecoder(DecoderLimits())),
        session_(codec_.NewSession()) {}

  std::string Send(const std::vector<std::string>& args) {
    StringBuffer buffer(Resp(args));
    Request request;
    std::string error;
    if (decoder_->Decode(buffer, &request, &error) != DecodeResult::kMessage) {
      return "not decoded: " + error;
    }
    std::string reply;
    switch (session_->OnRequest(request, &reply)) {
      case LocalAction::kForward:
        return session_->Pin() == PinAction::kNone ? "forward" : "forward pinned";
      case LocalAction::kReply:
        return reply;
      case LocalAction::kReplyThenClose:
        return "close " + reply;
      case LocalAction::kRefused:
        return "refused " + reply;
    }
    return "?";
  }

  // The decoder's view of authentication (its limits), which must be the session's.
  bool DecoderAuthenticated() const {
    return static_cast<const RedisRequestDecoder&>(*decoder_).authenticated();
  }

 private:
  RedisCodec codec_;
  RequestDecoderPtr decoder_;
  SessionPtr session_;
};

TEST(RedisFramingTest, TransactionCommandsAreAnsweredOrPinnedNeverShared) {
  SessionDriver driver;
  const std::vector<std::vector<std::string>> sequence = {
      {"MULTI"}, {"SET", "x", "1"}, {"EXEC"},    {"WATCH", "x"}, {"MULTI"},   {"INCR", "x"},
      {"EXEC"},  {"WATCH", "y"},    {"UNWATCH"}, {"MULTI"},      {"DISCARD"}, {"DISCARD"},
      {"EXEC"},  {"UNWATCH"},
  };
  for (const std::vector<std::string>& command : sequence) {
    const std::string result = driver.Send(command);
    const std::string& name = command[0];
    if (name == "MULTI" || name == "EXEC" || name == "DISCARD" || name == "WATCH" ||
        name == "UNWATCH") {
      EXPECT_NE(result, "forward") << name << " would reach a shared connection";
    }
  }
  for (const std::vector<std::string>& command :
       std::vector<std::vector<std::string>>{{"HELLO"},
                                             {"HELLO", "2"},
                                             {"CLIENT", "SETNAME", "x"},
                                             {"CLIENT", "REPLY", "OFF"},
                                             {"CLIENT", "KILL", "ID", "1"},
                                             {"CLIENT", "NOSUCH"},
                                             {"READONLY"},
                                             {"READWRITE"},
                                             {"RESET"}}) {
    const std::string result = driver.Send(command);
    EXPECT_NE(result.rfind("forward", 0), 0u) << command[0] << " " << result;
  }
}

TEST(RedisFramingTest, DecoderAndSessionAgreeOnAuthenticationThroughHelloAndReset) {
  SessionDriver driver("pw");
  EXPECT_FALSE(driver.DecoderAuthenticated());
  // Before AUTH: -NOAUTH, no transaction state (as redis).
  EXPECT_EQ(driver.Send({"MULTI"}), "-NOAUTH Authentication required\r\n");
  EXPECT_EQ(driver.Send({"HELLO", "3", "AUTH", "default", "nope"}),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_FALSE(driver.DecoderAuthenticated());
  EXPECT_EQ(driver.Send({"HELLO", "4", "AUTH", "default", "pw"}),
            "-NOPROTO unsupported protocol version\r\n");
  EXPECT_FALSE(driver.DecoderAuthenticated());
  EXPECT_EQ(driver.Send({"HELLO", "2", "AUTH", "default", "pw", "BOGUS"}),
            "-ERR Syntax error in HELLO option 'BOGUS'\r\n");
  EXPECT_FALSE(driver.DecoderAuthenticated());
  EXPECT_EQ(driver.Send({"GET", "x"}), "-NOAUTH Authentication required\r\n");
  // A good HELLO AUTH authenticates both, even when its SETNAME is refused afterwards (redis
  // authenticates first).
  EXPECT_EQ(driver.Send({"HELLO", "2", "AUTH", "default", "pw", "SETNAME", "a\nb"}),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  EXPECT_TRUE(driver.DecoderAuthenticated());
  EXPECT_EQ(driver.Send({"GET", "x"}), "forward");
  // RESET deauthenticates both.
  EXPECT_EQ(driver.Send({"RESET"}), "+RESET\r\n");
  EXPECT_FALSE(driver.DecoderAuthenticated());
  EXPECT_EQ(driver.Send({"GET", "x"}), "-NOAUTH Authentication required\r\n");
  EXPECT_EQ(driver.Send({"AUTH", "pw"}), "+OK\r\n");
  EXPECT_TRUE(driver.DecoderAuthenticated());
  // A failed AUTH keeps the connection authenticated (as redis).
  EXPECT_EQ(driver.Send({"AUTH", "wrong"}), "-ERR invalid password\r\n");
  EXPECT_EQ(driver.Send({"HELLO", "3", "AUTH", "default", "wrong"}),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_TRUE(driver.DecoderAuthenticated());
  EXPECT_EQ(driver.Send({"GET", "x"}), "forward");
}

// --- Key rewriting works on the re-encoded form. -----------------------------------------------

TEST(RedisFramingTest, RewriteKeysUsesTheReencodedRequest) {
  const RedisCodec codec("", 0);
  auto prefix = [](absl::string_view key) { return absl::StrCat("app:", key); };
  for (const std::string& wire :
       {std::string("MGET a \"b c\"\r\n"), "\r\n" + Resp({"MGET", "a", "b c"}),
        "\n \n" + Resp({"MGET", "a", "b c"})}) {
    SCOPED_TRACE(absl::CEscape(wire));
    RedisRequestDecoder decoder((DecoderLimits()));
    StringBuffer buffer(wire);
    Request request;
    std::string error;
    ASSERT_EQ(decoder.Decode(buffer, &request, &error), DecodeResult::kMessage);
    ASSERT_TRUE(request.has_rewrite);
    std::string out;
    ASSERT_TRUE(codec.RewriteKeys(request, buffer, prefix, &out));
    EXPECT_EQ(out, Resp({"MGET", "app:a", "app:b c"}));
  }
}

// --- The reply decoder never miscounts: RESP3 and unknown types are protocol errors. ------------

TEST(RedisFramingTest, ReplyDecoderRefusesResp3AndUnknownTypes) {
  const std::vector<std::string> resp3 = {
      ">2\r\n$7\r\nmessage\r\n$1\r\nx\r\n",  // push
      "_\r\n",                                // null
      "#t\r\n",                               // boolean
      ",1.5\r\n",                             // double
      "(123\r\n",                             // big number
      "=7\r\ntxt:abc\r\n",                    // verbatim
      "%1\r\n+a\r\n+b\r\n",                   // map
      "~1\r\n+a\r\n",                         // set
      "|1\r\n+a\r\n+b\r\n",                   // attribute
      "!3\r\nERR\r\n",                        // blob error
      "*1\r\n_\r\n",                          // RESP3 inside an array
      std::string("\0", 1),
      "\r\n",
  };
  for (const std::string& wire : resp3) {
    SCOPED_TRACE(absl::CEscape(wire));
    for (const Feeding& feeding : AllFeedings(wire.size())) {
      const std::vector<std::string> lines = DecodeReplies(wire, feeding);
      ASSERT_EQ(lines.size(), 1u) << FeedingName(feeding);
      EXPECT_EQ(lines[0].rfind("protocol-error", 0), 0u) << lines[0];
    }
  }
  // Malformed RESP2 headers too: never a reply boundary in the wrong place.
  for (const char* wire : {"*-2\r\n", "$-2\r\n", ":1x\r\n", "$1\r\nab\r\n", "+OK\rX"}) {
    SCOPED_TRACE(absl::CEscape(wire));
    const std::vector<std::string> lines = DecodeReplies(wire, Feeding{{}, 0});
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0].rfind("protocol-error", 0), 0u) << lines[0];
  }
}

}  // namespace
}  // namespace proxy::protocols::redis::test

// Tests of the redis request decoder: every message type under every feeding, pipelines, inline
// commands, every error text, limits and 64 MiB values.
#include "protocols/redis/request_decoder.h"

#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "test/fakes/string_buffer.h"
#include "test/protocols/redis/decode_util.h"

namespace proxy::protocols::redis::test {
namespace {

// Encodes a request as a RESP array of bulk strings.
std::string Resp(const std::vector<std::string>& args) {
  std::string wire = absl::StrCat("*", args.size(), "\r\n");
  for (const std::string& arg : args) {
    absl::StrAppend(&wire, "$", arg.size(), "\r\n", arg, "\r\n");
  }
  return wire;
}

struct Case {
  std::string wire;
  // "wire=*" stands for "wire=<wire.size()>": a request's wire_size is all of its bytes.
  std::string expected;
};

// Decodes the concatenated wires of `pieces` under every feeding; expects their lines each time.
void ExpectEverywhere(const std::vector<Case>& pieces,
                      const DecoderLimits& limits = DecoderLimits()) {
  std::string wire;
  std::vector<std::string> expected;
  for (const Case& piece : pieces) {
    wire += piece.wire;
    expected.push_back(absl::StrReplaceAll(piece.expected,
                                           {{"wire=*", absl::StrCat("wire=", piece.wire.size())}}));
  }
  for (const Feeding& feeding : AllFeedings(wire.size())) {
    ASSERT_EQ(DecodeRequests(wire, feeding, limits), expected)
        << FeedingName(feeding) << " for " << absl::CEscape(wire);
  }
}

TEST(RedisRequestDecoderTest, EveryMessageTypeUnderEveryFeeding) {
  const std::vector<Case> cases = {
      {Resp({"GET", "foo"}), "message GET read wire=* args=[foo]"},
      {Resp({"get", "foo"}), "message GET read wire=* args=[foo]"},
      {Resp({"gEt", ""}), "message GET read wire=* args=[]"},
      {Resp({"SET", "k", "value"}), "message SET write wire=* args=[k]"},
      {Resp({"SET", "k", ""}), "message SET write wire=* args=[k]"},
      {Resp({"PING"}), "message PING local wire=* args=[]"},
      {Resp({"PING", "hello"}), "message PING local wire=* args=[hello]"},
      {Resp({"ECHO", "a\r\nb"}), "message ECHO local wire=* args=[a\r\nb]"},
      {Resp({"AUTH", "user", "pw"}), "message AUTH local wire=* args=[user|pw]"},
      {Resp({"MGET", "a", "b", "a"}), "message MGET multikey wire=* args=[a|b|a]"},
      {Resp({"MSET", "k1", "v1", "k2", "v2"}),
       "message MSET multikey wire=* step=2 args=[k1|v1|k2|v2]"},
      {Resp({"EVAL", "return 1", "2", "k1", "k2", "arg"}),
       "message EVAL write wire=* colocated args=[k1|k2]"},
      {Resp({"COMMAND"}), "message COMMAND read wire=* synthetic args=[placeholder]"},
      {Resp({"command", "info", "get"}),
       "message COMMAND read wire=* synthetic args=[placeholder]"},
      {Resp({"KEYS", "*"}), "message KEYS unsupported wire=* args=[KEYS]"},
      {Resp({"FooBar", "x"}), "message - unsupported wire=* args=[FOOBAR]"},
      {"PING\r\n", "message PING local wire=* args=[]"},
      {"ping\n", "message PING local wire=* args=[]"},
      {"set k v\r\n", "message SET write wire=* args=[k]"},
      {"  MGET   a\tb  \r\n", "message MGET multikey wire=* args=[a|b]"},
      {"SET \"a b\" 'c\\'d'\r\n", "message SET write wire=* args=[a b]"},
      {"ECHO \"x\\x41\\n\\\"\"\r\n", "message ECHO local wire=* args=[xA\n\"]"},
      {"SET ab\"c d\" v\r\n", "message SET write wire=* args=[abc d]"},
      {"\r\n\n   \r\nPING\r\n", "message PING local wire=* args=[]"},
      {"\r\n" + Resp({"GET", "k"}), "message GET read wire=* args=[k]"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::CEscape(c.wire));
    ExpectEverywhere({c});
  }
}

TEST(RedisRequestDecoderTest, PipelineOfAThousandMixedCommands) {
  const std::vector<Case> mix = {
      {Resp({"GET", "key:1"}), "message GET read wire=* args=[key:1]"},
      {Resp({"SET", "key:2", "some value"}), "message SET write wire=* args=[key:2]"},
      {"PING\r\n", "message PING local wire=* args=[]"},
      {Resp({"MGET", "a", "bb", "ccc"}), "message MGET multikey wire=* args=[a|bb|ccc]"},
      {"incr counter\n", "message INCR write wire=* args=[counter]"},
      {Resp({"GET", "a", "b"}),
       "invalid GET read wire=* args=[] error=wrong number of arguments for 'get' command"},
      {Resp({"MULTI"}), "message MULTI local wire=* args=[]"},
      {Resp({"SINTER", "s1", "s2"}), "message SINTER read wire=* colocated args=[s1|s2]"},
  };
  std::string wire;
  std::vector<std::string> expected;
  for (int i = 0; i < 1000; ++i) {
    const Case& c = mix[(i * 7 + i / 3) % mix.size()];
    wire += c.wire;
    expected.push_back(
        absl::StrReplaceAll(c.expected, {{"wire=*", absl::StrCat("wire=", c.wire.size())}}));
  }
  for (const Feeding& feeding : AllFeedings(wire.size())) {
    ASSERT_EQ(DecodeRequests(wire, feeding), expected) << FeedingName(feeding);
  }
}

TEST(RedisRequestDecoderTest, ProtocolErrorsHaveRedisStyleTexts) {
  const std::vector<Case> cases = {
      {"*2\r\n$3\r\nGET\r\nx3\r\nfoo\r\n", "Protocol error: expected '$', got 'x'"},
      {"*2\r\n$3\r\nGET\r\n\r\n", "Protocol error: expected '$', got '\\r'"},
      {"*x\r\n", "Protocol error: invalid multibulk length (expected a digit, got 'x')"},
      {"*\r\n", "Protocol error: invalid multibulk length (no digits)"},
      {"*0\r\n", "Protocol error: invalid multibulk length 0 (a request needs a command name)"},
      {"*-1\r\n", "Protocol error: invalid multibulk length (negative)"},
      {"*01\r\n", "Protocol error: invalid multibulk length (leading zero)"},
      {"*1\rx", "Protocol error: expected '\\n' after '\\r', got 'x'"},
      {"*1\r\n$-1\r\n", "Protocol error: invalid bulk length (negative)"},
      {"*1\r\n$a\r\n", "Protocol error: invalid bulk length (expected a digit, got 'a')"},
      {"*1\r\n$\r\n", "Protocol error: invalid bulk length (no digits)"},
      {"*1\r\n$04\r\nPING\r\n", "Protocol error: invalid bulk length (leading zero)"},
      {"*1\r\n$1234567890123456789\r\n", "Protocol error: invalid bulk length (too many digits)"},
      {"*1\r\n$0\r\n\r\n", "Protocol error: empty command name"},
      {"*1\r\n$4\r\nPINGx\r\n",
       "Protocol error: expected '\\r\\n' after a bulk string of 4 bytes, got 'x'"},
      {"*1\r\n$4\r\nPING\r\r", "Protocol error: expected '\\n' after '\\r', got '\\r'"},
      {"*1\r\n$4\r\nPING\n",
       "Protocol error: expected '\\r\\n' after a bulk string of 4 bytes, "
       "got '\\n'"},
      {"*1\r\n$\x01", "Protocol error: invalid bulk length (expected a digit, got '\\x01')"},
      {"SET \"a b\r\n", "Protocol error: unbalanced quotes in request"},
      {"SET \"a\"b c\r\n", "Protocol error: unbalanced quotes in request"},
      {"SET 'a\r\n", "Protocol error: unbalanced quotes in request"},
      {"\"\" x\r\n", "Protocol error: empty command name"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::CEscape(c.wire));
    ExpectEverywhere({{c.wire, "protocol-error error=" + c.expected}});
  }
}

TEST(RedisRequestDecoderTest, ErrorAfterGoodRequestsKeepsTheGoodOnes) {
  ExpectEverywhere({{Resp({"GET", "a"}), "message GET read wire=* args=[a]"},
                    {"PING\r\n", "message PING local wire=* args=[]"},
                    {"*1\r\n%", "protocol-error error=Protocol error: expected '$', got '%'"}});
}

TEST(RedisRequestDecoderTest, InvalidRequestsAnswerAndStayInSync) {
  const std::vector<Case> cases = {
      {Resp({"GET"}),
       "invalid GET read wire=* args=[] "
       "error=wrong number of arguments for 'get' command"},
      {Resp({"GET", "a", "b"}),
       "invalid GET read wire=* args=[] "
       "error=wrong number of arguments for 'get' command"},
      {Resp({"EXPIRE", "k"}),
       "invalid EXPIRE write wire=* args=[] "
       "error=wrong number of arguments for 'expire' command"},
      {Resp({"LINSERT", "k", "BEFORE", "a"}),
       "invalid LINSERT write wire=* args=[] "
       "error=wrong number of arguments for 'linsert' command"},
      {Resp({"MSET", "a", "1", "b"}),
       "invalid MSET multikey wire=* args=[] "
       "error=wrong number of arguments for 'mset' command"},
      {Resp({"MSETNX", "a", "1", "b"}),
       "invalid MSETNX write wire=* args=[] "
       "error=wrong number of arguments for 'msetnx' command"},
      {Resp({"MGET"}),
       "invalid MGET multikey wire=* args=[] "
       "error=wrong number of arguments for 'mget' command"},
      {Resp({"PING", "a", "b"}),
       "invalid PING local wire=* args=[] "
       "error=wrong number of arguments for 'ping' command"},
      {Resp({"ECHO"}),
       "invalid ECHO local wire=* args=[] "
       "error=wrong number of arguments for 'echo' command"},
      {Resp({"AUTH", "u", "p", "x"}),
       "invalid AUTH local wire=* args=[] "
       "error=wrong number of arguments for 'auth' command"},
      {Resp({"SELECT"}),
       "invalid SELECT local wire=* args=[] "
       "error=wrong number of arguments for 'select' command"},
      {Resp({"EVAL", "s", "0"}),
       "invalid EVAL write wire=* args=[] error='eval' without keys cannot be routed by the "
       "proxy: numkeys must be at least 1"},
      {Resp({"EVALSHA", "s", "x", "k"}),
       "invalid EVALSHA write wire=* args=[] error=value is not an integer or out of range"},
      {Resp({"EVAL", "s", "01", "k"}),
       "invalid EVAL write wire=* args=[] error=value is not an integer or out of range"},
      {Resp({"EVAL", "s", "2", "onlyone"}),
       "invalid EVAL write wire=* args=[] "
       "error=Number of keys can't be greater than number of args"},
      {Resp({"EVAL", "s", "-1"}),
       "invalid EVAL write wire=* args=[] error=Number of keys can't be negative"},
      {Resp({"ZUNION", "0", "a"}),
       "invalid ZUNION read wire=* args=[] "
       "error=at least 1 input key is needed for 'zunion' command"},
      {Resp({"ZINTERSTORE", "d", "3", "a", "b"}),
       "invalid ZINTERSTORE write wire=* args=[] "
       "error=Number of keys can't be greater than number of args"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::CEscape(c.wire));
    // The next request still decodes: the stream stayed in sync.
    ExpectEverywhere({c, {"PING\r\n", "message PING local wire=* args=[]"}});
  }
}

TEST(RedisRequestDecoderTest, RedisSevenOptionsAreAccepted) {
  ExpectEverywhere({{Resp({"EXPIRE", "k", "10", "NX"}), "message EXPIRE write wire=* args=[k]"}});
  ExpectEverywhere(
      {{Resp({"ZRANK", "z", "m", "WITHSCORE"}), "message ZRANK read wire=* args=[z]"}});
}

TEST(RedisRequestDecoderTest, KeyLongerThanTheLimitIsAnInvalidRequest) {
  DecoderLimits limits;
  limits.max_key_bytes = 8;
  ExpectEverywhere({{Resp({"GET", "123456789"}),
                     "invalid GET read wire=* args=[] "
                     "error=key of 9 bytes exceeds the proxy's limit of 8 bytes"},
                    {Resp({"GET", "12345678"}), "message GET read wire=* args=[12345678]"}},
                   limits);
  // Only keys count: values may be longer.
  ExpectEverywhere({{Resp({"MSET", "k", "0123456789"}),
                     "message MSET multikey wire=* step=2 args=[k|0123456789]"}},
                   limits);
  ExpectEverywhere({{Resp({"MSET", "k", "v", "0123456789", "v"}),
                     "invalid MSET multikey wire=* args=[] "
                     "error=key of 10 bytes exceeds the proxy's limit of 8 bytes"}},
                   limits);
  ExpectEverywhere({{Resp({"EVAL", "s", "1", "0123456789"}),
                     "invalid EVAL write wire=* args=[] "
                     "error=key of 10 bytes exceeds the proxy's limit of 8 bytes"}},
                   limits);

  // The default limit is 16 KiB.
  const std::string wire = Resp({"GET", std::string(16385, 'k')});
  const std::vector<std::string> lines = DecodeRequests(wire, Feeding{{}, 1000});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], absl::StrCat("invalid GET read wire=", wire.size(),
                                   " args=[] error=key of 16385 bytes exceeds the proxy's "
                                   "limit of 16384 bytes"));
}

TEST(RedisRequestDecoderTest, TooManyArgumentsIsAProtocolError) {
  DecoderLimits limits;
  limits.max_args = 3;
  ExpectEverywhere({{Resp({"MGET", "a", "b"}), "message MGET multikey wire=* args=[a|b]"}}, limits);
  ExpectEverywhere({{"*4\r\n",
                     "protocol-error error=Protocol error: request of 4 arguments "
                     "exceeds the proxy's limit of 3 arguments"}},
                   limits);
}

TEST(RedisRequestDecoderTest, OversizedRequestsAreRefusedBeforeTheyArrive) {
  // A bulk length above the limit fails as soon as its header is read.
  // Above redis's proto-max-bulk-len (512 MiB): redis's own text.
  ExpectEverywhere({{"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$600000000\r\n",
                     "protocol-error error=Protocol error: invalid bulk length"}});
  DecoderLimits small;
  small.max_message_bytes = 1000;
  ExpectEverywhere({{"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6000\r\n",
                     "protocol-error error=Protocol error: bulk length of 6000 bytes "
                     "exceeds the proxy's limit of 1000 bytes"}},
                   small);
  DecoderLimits limits;
  limits.max_message_bytes = 33;
  // 4 + 9 + 7 + 13 = 33 bytes: exactly at the limit.
  ExpectEverywhere({{Resp({"SET", "k", "1234567"}), "message SET write wire=* args=[k]"}}, limits);
  ExpectEverywhere({{Resp({"SET", "k", "12345678"}),
                     "protocol-error error=Protocol error: request of at least 34 bytes exceeds "
                     "the proxy's limit of 33 bytes"}},
                   limits);
}

TEST(RedisRequestDecoderTest, InlineRequestsHaveRedisLimits) {
  const std::string too_big(RedisRequestDecoder::kMaxInlineSize + 1, 'a');
  EXPECT_EQ(
      DecodeRequests(too_big, Feeding{{}, 0}),
      std::vector<std::string>{"protocol-error error=Protocol error: too big inline request"});
  EXPECT_EQ(
      DecodeRequests(too_big, Feeding{{1000, 40000}, 512}),
      std::vector<std::string>{"protocol-error error=Protocol error: too big inline request"});
  // Just below the limit a line is fine (an unknown command here).
  const std::string fits = std::string(RedisRequestDecoder::kMaxInlineSize - 2, 'a') + "\r\n";
  const std::vector<std::string> lines = DecodeRequests(fits, Feeding{{}, 4096});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            absl::StrCat("message - unsupported wire=65536 args=[", std::string(128, 'A'), "]"));
  // Endless blank lines are refused once they exceed the inline limit.
  std::string blanks;
  for (size_t i = 0; i < RedisRequestDecoder::kMaxInlineSize; ++i) {
    blanks += "\r\n";
  }
  EXPECT_EQ(DecodeRequests(blanks, Feeding{{}, 0}),
            std::vector<std::string>{
                "protocol-error error=Protocol error: too many blank lines before a request"});
}

TEST(RedisRequestDecoderTest, UnknownCommandNameIsReportedUpperCasedAndBounded) {
  const std::string name(300, 'x');
  const std::string wire = Resp({name, "k"});
  const std::vector<std::string> lines = DecodeRequests(wire, Feeding{});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], absl::StrCat("message - unsupported wire=", wire.size(), " args=[",
                                   std::string(128, 'X'), "]"));
}

// A Buffer that counts the bytes it shows the decoder, to prove payloads are skipped.
class CountingBuffer : public Buffer {
 public:
  CountingBuffer(size_t chunk) : inner_("", chunk) {}
  size_t Length() const override { return inner_.Length(); }
  size_t Peek(size_t offset, size_t len, absl::Span<Slice> out) const override {
    const size_t needed = inner_.Peek(offset, len, out);
    for (size_t i = 0; i < std::min(needed, out.size()); ++i) {
      seen_ += out[i].size;
    }
    return needed;
  }
  void CopyOut(size_t offset, size_t len, char* dst) const override {
    seen_ += len;
    inner_.CopyOut(offset, len, dst);
  }
  void Drain(size_t len) override { inner_.Drain(len); }
  void MoveTo(Buffer& dst, size_t len) override { inner_.MoveTo(dst, len); }
  void Append(absl::string_view bytes) override { inner_.Append(bytes); }
  size_t seen() const { return seen_; }

 private:
  proxy::test::StringBuffer inner_;
  mutable size_t seen_ = 0;
};

TEST(RedisRequestDecoderTest, SixtyFourMebibyteValueIsSkippedByLength) {
  const size_t kValueSize = 64u << 20;
  std::string value(kValueSize, 'v');
  value[kValueSize / 2] = '\n';  // payload bytes are never interpreted
  const std::string head = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$67108864\r\n";
  for (const size_t piece : {kValueSize + 100, size_t{1} << 20, size_t{4093}}) {
    SCOPED_TRACE(piece);
    RedisRequestDecoder decoder{DecoderLimits()};
    CountingBuffer buffer(piece == 4093 ? 4096 : 0);
    Request request;
    std::string error;
    buffer.Append(head);
    ASSERT_EQ(decoder.Decode(buffer, &request, &error), DecodeResult::kNeedMoreData);
    if (piece < kValueSize) {
      for (size_t at = 0; at < kValueSize; at += piece) {
        buffer.Append(absl::string_view(value).substr(at, piece));
        ASSERT_EQ(decoder.Decode(buffer, &request, &error), DecodeResult::kNeedMoreData);
      }
    } else {
      buffer.Append(value);
    }
    buffer.Append("\r\n");
    buffer.Append("PING\r\n");
    ASSERT_EQ(decoder.Decode(buffer, &request, &error), DecodeResult::kMessage) << error;
    EXPECT_EQ(request.command, "SET");
    EXPECT_EQ(request.wire_size, head.size() + kValueSize + 2);
    ASSERT_EQ(request.args.size(), 1u);
    EXPECT_EQ(request.args[0], "key");
    EXPECT_EQ(request.args.ByteSize(), 3u);  // the value was not copied
    EXPECT_LT(buffer.seen(), 256u << 10) << "payload bytes were scanned";
    buffer.Drain(request.wire_size);
    ASSERT_EQ(decoder.Decode(buffer, &request, &error), DecodeResult::kMessage);
    EXPECT_EQ(request.command, "PING");
  }
}

TEST(RedisRequestDecoderTest, ValuesNeededByTheCommandAreCopiedWhole) {
  // MSET needs its values (the split rewrites them); a straddling value is assembled intact.
  std::string value(1u << 20, 'x');
  for (size_t i = 0; i < value.size(); ++i) {
    value[i] = static_cast<char>('a' + i % 26);
  }
  const std::string wire = Resp({"MSET", "k", value});
  for (const size_t chunk : {size_t{0}, size_t{7}, size_t{4096}}) {
    proxy::test::StringBuffer buffer(wire, chunk);
    RedisRequestDecoder decoder{DecoderLimits()};
    Request request;
    std::string error;
    ASSERT_EQ(decoder.Decode(buffer, &request, &error), DecodeResult::kMessage);
    ASSERT_EQ(request.args.size(), 2u);
    EXPECT_EQ(request.args[0], "k");
    EXPECT_TRUE(request.args[1] == value) << "chunk " << chunk;
  }
}

TEST(RedisRequestDecoderTest, ReusedRequestIsResetBetweenMessages) {
  proxy::test::StringBuffer buffer(Resp({"SINTER", "a", "b"}) + Resp({"GET", "c"}));
  RedisRequestDecoder decoder{DecoderLimits()};
  Request request;
  std::string error;
  ASSERT_EQ(decoder.Decode(buffer, &request, &error), DecodeResult::kMessage);
  EXPECT_TRUE(request.colocated_keys);
  buffer.Drain(request.wire_size);
  request.has_rewrite = true;
  request.rewritten = "stale";
  ASSERT_EQ(decoder.Decode(buffer, &request, &error), DecodeResult::kMessage);
  EXPECT_FALSE(request.colocated_keys);
  EXPECT_FALSE(request.has_rewrite);
  EXPECT_TRUE(request.rewritten.empty());
  ASSERT_EQ(request.args.size(), 1u);
  EXPECT_EQ(request.args[0], "c");
}

// AtRest: the core frees a decoder at rest while its client is idle and decodes the client's
// next bytes with a fresh one, so "at rest" must mean exactly "a fresh decoder would do the same".
TEST(RedisRequestDecoderTest, AtRestOnlyBetweenRequestsAndWithoutAnAuthenticationToRemember) {
  Request request;
  std::string error;
  {
    RedisRequestDecoder decoder{DecoderLimits()};  // no password: nothing to learn
    EXPECT_TRUE(decoder.AtRest());
    const std::string wire = Resp({"SET", "k", "v"});
    for (size_t cut = 1; cut < wire.size(); ++cut) {
      proxy::test::StringBuffer partial(wire.substr(0, cut));
      ASSERT_EQ(decoder.Decode(partial, &request, &error), DecodeResult::kNeedMoreData) << cut;
      EXPECT_FALSE(decoder.AtRest()) << "partial request of " << cut << " bytes";
      proxy::test::StringBuffer whole(wire);
      ASSERT_EQ(decoder.Decode(whole, &request, &error), DecodeResult::kMessage);
      EXPECT_TRUE(decoder.AtRest()) << "after the request cut at " << cut;
    }
    proxy::test::StringBuffer garbage("*1\r\n$x\r\n");
    EXPECT_EQ(decoder.Decode(garbage, &request, &error), DecodeResult::kProtocolError);
    EXPECT_FALSE(decoder.AtRest()) << "a failed stream is not a fresh one";
  }
  {
    // With a password: not yet authenticated is the fresh state; authenticated is not.
    const ClientAuth auth = ClientAuth::RedisAuth("secret");
    RedisRequestDecoder decoder{DecoderLimits(), &auth};
    EXPECT_TRUE(decoder.AtRest());
    proxy::test::StringBuffer wrong(Resp({"AUTH", "wrong"}));
    ASSERT_EQ(decoder.Decode(wrong, &request, &error), DecodeResult::kMessage);
    EXPECT_FALSE(decoder.authenticated());
    EXPECT_TRUE(decoder.AtRest());
    proxy::test::StringBuffer right(Resp({"AUTH", "secret"}));
    ASSERT_EQ(decoder.Decode(right, &request, &error), DecodeResult::kMessage);
    EXPECT_TRUE(decoder.authenticated());
    EXPECT_FALSE(decoder.AtRest()) << "a new decoder would apply the unauthenticated limits";
  }
}

TEST(RedisRequestDecoderTest, MutatedInputGivesTheSameResultsUnderEveryFeeding) {
  const std::string base = Resp({"MSET", "a", "1", "b", "2"}) + "PING x\r\n" +
                           Resp({"EVAL", "s", "2", "k1", "k2"}) + "SET \"q q\" v\n" +
                           Resp({"MGET", "k"}) + Resp({"GET", "k"});
  const char kAlphabet[] = "*$\r\n0123-9 \"'\\xAZaz";
  std::mt19937 random(20240601);
  for (int round = 0; round < 400; ++round) {
    std::string wire = base;
    const int mutations = 1 + static_cast<int>(random() % 3);
    for (int m = 0; m < mutations; ++m) {
      const size_t at = random() % wire.size();
      const char byte = kAlphabet[random() % (sizeof(kAlphabet) - 1)];
      switch (random() % 3) {
        case 0:
          wire[at] = byte;
          break;
        case 1:
          wire.insert(at, 1, byte);
          break;
        default:
          wire.erase(at, 1);
          break;
      }
    }
    const std::vector<std::string> reference = DecodeRequests(wire, Feeding{});
    for (const Feeding& feeding : AllFeedings(wire.size(), /*max_split_size=*/0)) {
      ASSERT_EQ(DecodeRequests(wire, feeding), reference)
          << FeedingName(feeding) << " for " << absl::CEscape(wire);
    }
  }
}

}  // namespace
}  // namespace proxy::protocols::redis::test

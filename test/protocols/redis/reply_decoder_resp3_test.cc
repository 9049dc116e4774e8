// Tests of the RESP3 reply decoder (the server connections of RESP3 clients): every RESP3 type,
// nested and with attributes, at every split point; push messages and RESP3 strictness; the
// same limits as RESP2.
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "protocols/redis/reply_decoder.h"
#include "test/protocols/redis/decode_util.h"

namespace proxy::protocols::redis::test {
namespace {

struct Case {
  std::string wire;
  std::string flags;  // after "message wire=<size>": "", " error", " error failure"
};

void ExpectEverywhere(absl::string_view wire, const std::vector<std::string>& expected,
                      const DecoderLimits& limits = DecoderLimits()) {
  for (const Feeding& feeding : AllFeedings(wire.size())) {
    ASSERT_EQ(DecodeReplies(wire, feeding, limits, /*resp3=*/true), expected)
        << FeedingName(feeding) << " for " << absl::CEscape(wire);
  }
}

const std::vector<Case>& Resp3Types() {
  static const auto* cases = new std::vector<Case>{
      // RESP2 types stay valid.
      {"+OK\r\n", ""},
      {"-ERR x\r\n", " error"},
      {":-42\r\n", ""},
      {"$3\r\nfoo\r\n", ""},
      {"$-1\r\n", ""},
      {"*2\r\n$1\r\na\r\n:1\r\n", ""},
      // RESP3.
      {"_\r\n", ""},
      {"#t\r\n", ""},
      {"#f\r\n", ""},
      {",1.5\r\n", ""},
      {",-inf\r\n", ""},
      {",nan\r\n", ""},
      {",1e+30\r\n", ""},
      {"(3492890328409238509324850943850943825024385\r\n", ""},
      {"(-1\r\n", ""},
      {"!21\r\nSYNTAX invalid syntax\r\n", " error"},
      {"!29\r\nLOADING loading the dataset x\r\n", " error failure"},
      {"!4\r\nBUSY\r\n", " error failure"},
      {"!0\r\n\r\n", " error"},
      {"=15\r\ntxt:Some string\r\n", ""},
      {"=4\r\ntxt:\r\n", ""},
      {"%0\r\n", ""},
      {"~0\r\n", ""},
      {"*0\r\n", ""},
      // HGETALL, SMEMBERS, ZSCORE WITHSCORES-like and HELLO replies.
      {"%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n", ""},
      {"~3\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n", ""},
      {"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n", ""},
      {"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n"
       ":3\r\n$2\r\nid\r\n:13\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster"
       "\r\n$7\r\nmodules\r\n*0\r\n",
       ""},
      // Nested aggregates of every kind, nulls and errors inside (not top-level).
      {"*3\r\n%1\r\n~1\r\n_\r\n*0\r\n!3\r\nERR\r\n-ERR nested\r\n", ""},
      {"%1\r\n%1\r\n#t\r\n#f\r\n~2\r\n(1\r\n,2\r\n", ""},
      // Attributes belong to the value after them: one reply each.
      {"|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.19\r\n$1\r\nb\r\n,0.05\r\n"
       "*2\r\n:2039123\r\n:9543892\r\n",
       ""},
      {"|0\r\n+OK\r\n", ""},
      {"|1\r\n+a\r\n+b\r\n|1\r\n+c\r\n+d\r\n:1\r\n", ""},
      {"|1\r\n+a\r\n+b\r\n-ERR after an attribute\r\n", " error"},
      {"|1\r\n-not\r\n-top\r\n+OK\r\n", ""},
      {"*2\r\n|1\r\n+ttl\r\n:3600\r\n$1\r\nv\r\n|0\r\n_\r\n", ""},
      {"~1\r\n|1\r\n%0\r\n~0\r\n#t\r\n", ""},
  };
  return *cases;
}

TEST(RedisReplyDecoderResp3Test, EveryTypeUnderEveryFeeding) {
  for (const Case& c : Resp3Types()) {
    SCOPED_TRACE(absl::CEscape(c.wire));
    ExpectEverywhere(c.wire, {absl::StrCat("message wire=", c.wire.size(), c.flags)});
  }
}

TEST(RedisReplyDecoderResp3Test, PipelineOfAllTypes) {
  std::string wire;
  std::vector<std::string> expected;
  for (int round = 0; round < 3; ++round) {
    for (const Case& c : Resp3Types()) {
      wire += c.wire;
      expected.push_back(absl::StrCat("message wire=", c.wire.size(), c.flags));
    }
  }
  for (const Feeding& feeding : AllFeedings(wire.size())) {
    ASSERT_EQ(DecodeReplies(wire, feeding, DecoderLimits(), true), expected)
        << FeedingName(feeding);
  }
}

TEST(RedisReplyDecoderResp3Test, ProtocolErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {">2\r\n$7\r\nmessage\r\n$1\r\nx\r\n",
       "Protocol error: unexpected push message in reply (the proxy never subscribes on a "
       "server connection)"},
      {"*2\r\n:1\r\n>1\r\n:1\r\n",
       "Protocol error: unexpected push message in reply (the proxy never subscribes on a "
       "server connection)"},
      {"_x\r\n", "Protocol error: expected '\\r' in reply, got 'x'"},
      {"#x\r\n", "Protocol error: invalid boolean in reply (expected 't' or 'f', got 'x')"},
      {"#tt\r\n", "Protocol error: expected '\\r' in reply, got 't'"},
      {"#\r\n", "Protocol error: invalid boolean in reply (expected 't' or 'f', got '\\r')"},
      {"(\r\n", "Protocol error: invalid big number in reply (got '\\r')"},
      {"(1.5\r\n", "Protocol error: invalid big number in reply (got '.')"},
      {"(--1\r\n", "Protocol error: invalid big number in reply (got '-')"},
      {"!-1\r\n", "Protocol error: invalid bulk length in reply (-1)"},
      {"=-1\r\n", "Protocol error: invalid bulk length in reply (-1)"},
      {"%-1\r\n", "Protocol error: invalid multibulk length in reply (-1)"},
      {"~-1\r\n", "Protocol error: invalid multibulk length in reply (-1)"},
      {"|-1\r\n", "Protocol error: invalid multibulk length in reply (-1)"},
      {"=3\r\ntxtX", "Protocol error: expected '\\r\\n' after a bulk string of 3 bytes in reply, "
                     "got 'X'"},
      {"?\r\n", "Protocol error: unexpected reply type byte '?'"},
  };
  for (const auto& [wire, error] : cases) {
    SCOPED_TRACE(absl::CEscape(wire));
    ExpectEverywhere(wire, {"protocol-error error=" + error});
  }
}

TEST(RedisReplyDecoderResp3Test, NestingDepthCountsEveryAggregate) {
  std::string ok;
  const char* kinds[] = {"*1\r\n", "~1\r\n", "|0\r\n%1\r\n:1\r\n", "|1\r\n:1\r\n:1\r\n*1\r\n"};
  for (size_t i = 0; i < RedisReplyDecoder::kMaxDepth; ++i) {
    ok += kinds[i % 2];
  }
  ok += "_\r\n";
  EXPECT_EQ(DecodeReplies(ok, Feeding{{}, 5}, DecoderLimits(), true),
            std::vector<std::string>{absl::StrCat("message wire=", ok.size())});
  EXPECT_EQ(DecodeReplies("%1\r\n" + ok, Feeding{{}, 5}, DecoderLimits(), true),
            std::vector<std::string>{
                "protocol-error error=Protocol error: reply nested more than 128 aggregates "
                "deep"});
  // An attribute before a map's value: the value after it completes the map.
  const std::string pairs = std::string(kinds[2]) + kinds[3] + "#t\r\n";
  EXPECT_EQ(DecodeReplies(pairs + ":1\r\n", Feeding{{}, 1}, DecoderLimits(), true),
            (std::vector<std::string>{absl::StrCat("message wire=", pairs.size()),
                                      "message wire=4"}));
}

TEST(RedisReplyDecoderResp3Test, SizeIsLimited) {
  DecoderLimits limits;
  limits.max_message_bytes = 20;
  // A map of n pairs is at least 6n bytes.
  ExpectEverywhere("%3\r\n",
                   {"protocol-error error=Protocol error: reply of at least 22 bytes "
                    "exceeds the proxy's limit of 20 bytes"},
                   limits);
  ExpectEverywhere("%9999999999999999999\r\n",
                   {"protocol-error error=Protocol error: reply of at least 18446744073709551615 "
                    "bytes exceeds the proxy's limit of 20 bytes"},
                   limits);
  ExpectEverywhere("!15\r\n",
                   {"protocol-error error=Protocol error: reply of at least 22 bytes "
                    "exceeds the proxy's limit of 20 bytes"},
                   limits);
  ExpectEverywhere("(123456789012345678901234567890\r\n",
                   {"protocol-error error=Protocol error: reply exceeds the proxy's limit of 20 "
                    "bytes"},
                   limits);
  ExpectEverywhere(",1234567890123456789\r\n",
                   {"protocol-error error=Protocol error: reply exceeds the proxy's limit of 20 "
                    "bytes"},
                   limits);
  ExpectEverywhere("(12345678901234567\r\n", {"message wire=20"}, limits);
}

TEST(RedisReplyDecoderResp3Test, Resp2ConnectionsStillRefuseResp3) {
  for (const char* wire : {"_\r\n", "#t\r\n", "%0\r\n", "|0\r\n+OK\r\n", "=4\r\ntxt:\r\n"}) {
    const std::vector<std::string> lines = DecodeReplies(wire, Feeding{{}, 0});
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0].rfind("protocol-error", 0), 0u) << lines[0];
  }
}

TEST(RedisReplyDecoderResp3Test, MutatedInputGivesTheSameResultsUnderEveryFeeding) {
  std::string base;
  for (const Case& c : Resp3Types()) {
    base += c.wire;
  }
  const char kAlphabet[] = "*$:+-_#,(!=%~|>\r\n0123-9 tfOK";
  std::mt19937 random(20261206);
  for (int round = 0; round < 300; ++round) {
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
    const std::vector<std::string> reference =
        DecodeReplies(wire, Feeding{}, DecoderLimits(), true);
    for (const Feeding& feeding : AllFeedings(wire.size(), /*max_split_size=*/0)) {
      ASSERT_EQ(DecodeReplies(wire, feeding, DecoderLimits(), true), reference)
          << FeedingName(feeding) << " for " << absl::CEscape(wire);
    }
  }
}

}  // namespace
}  // namespace proxy::protocols::redis::test

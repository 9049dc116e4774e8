// Tests of the redis reply decoder: every reply type and nesting at every split point, server
// failure flags, protocol errors, depth and size limits.
#include "protocols/redis/reply_decoder.h"

#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/fakes/string_buffer.h"
#include "test/protocols/redis/decode_util.h"

namespace proxy::protocols::redis::test {
namespace {

struct Case {
  std::string wire;
  // Flags after "message wire=<size>": "", " error", " error failure".
  std::string flags;
};

std::string Expected(const Case& c) {
  return absl::StrCat("message wire=", c.wire.size(), c.flags);
}

void ExpectEverywhere(absl::string_view wire, const std::vector<std::string>& expected,
                      const DecoderLimits& limits = DecoderLimits()) {
  for (const Feeding& feeding : AllFeedings(wire.size())) {
    ASSERT_EQ(DecodeReplies(wire, feeding, limits), expected)
        << FeedingName(feeding) << " for " << absl::CEscape(wire);
  }
}

const std::vector<Case>& AllTypes() {
  static const auto* cases = new std::vector<Case>{
      {"+OK\r\n", ""},
      {"+\r\n", ""},
      {"-ERR wrong number of arguments for 'get' command\r\n", " error"},
      {"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", " error"},
      {"-NOSCRIPT No matching script. Please use EVAL.\r\n", " error"},
      {"-OOM command not allowed when used memory > 'maxmemory'.\r\n", " error failure"},
      {"-BUSY Redis is busy running a script. You can only call SCRIPT KILL.\r\n",
       " error failure"},
      {"-LOADING Redis is loading the dataset in memory\r\n", " error failure"},
      {"-BUSY\r\n", " error failure"},
      {"-loading lower case\r\n", " error failure"},
      {"-BUSYKEY Target key name already exists.\r\n", " error"},
      {"-OOMX not a failure\r\n", " error"},
      {"-LOADINGX not a failure\r\n", " error"},
      {":0\r\n", ""},
      {":-42\r\n", ""},
      {":9223372036854775807\r\n", ""},
      {":-9223372036854775808\r\n", ""},
      {"$3\r\nfoo\r\n", ""},
      {"$0\r\n\r\n", ""},
      {"$-1\r\n", ""},
      {"$4\r\na\r\nb\r\n", ""},
      {"*-1\r\n", ""},
      {"*0\r\n", ""},
      {"*2\r\n$1\r\na\r\n$-1\r\n", ""},
      {"*3\r\n*2\r\n+a\r\n-b\r\n$-1\r\n*1\r\n*1\r\n:7\r\n", ""},    // nested error: not top-level
      {"*2\r\n$1\r\n0\r\n*2\r\n$3\r\nkey\r\n$5\r\nvalue\r\n", ""},  // HSCAN reply
      {"*3\r\n*0\r\n*-1\r\n*1\r\n*0\r\n", ""},
  };
  return *cases;
}

TEST(RedisReplyDecoderTest, EveryReplyTypeUnderEveryFeeding) {
  for (const Case& c : AllTypes()) {
    SCOPED_TRACE(absl::CEscape(c.wire));
    ExpectEverywhere(c.wire, {Expected(c)});
  }
}

TEST(RedisReplyDecoderTest, PipelineOfAllTypes) {
  std::string wire;
  std::vector<std::string> expected;
  for (int round = 0; round < 40; ++round) {
    for (const Case& c : AllTypes()) {
      wire += c.wire;
      expected.push_back(Expected(c));
    }
  }
  for (const Feeding& feeding : AllFeedings(wire.size())) {
    ASSERT_EQ(DecodeReplies(wire, feeding), expected) << FeedingName(feeding);
  }
}

TEST(RedisReplyDecoderTest, ProtocolErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"!x\r\n", "Protocol error: unexpected reply type byte '!'"},
      {"*1\r\n?\r\n", "Protocol error: unexpected reply type byte '?'"},
      {"\r\n", "Protocol error: unexpected reply type byte '\\r'"},
      {"+OK\rx", "Protocol error: expected '\\n' after '\\r' in reply, got 'x'"},
      {":abc\r\n", "Protocol error: invalid integer in reply (expected a digit, got 'a')"},
      {":\r\n", "Protocol error: invalid integer in reply (no digits)"},
      {":--1\r\n", "Protocol error: invalid integer in reply (expected a digit, got '-')"},
      {"$-2\r\n", "Protocol error: invalid bulk length in reply (-2)"},
      {"$x\r\n", "Protocol error: invalid bulk length in reply (expected a digit, got 'x')"},
      {"$3\r\nfooX",
       "Protocol error: expected '\\r\\n' after a bulk string of 3 bytes in reply, "
       "got 'X'"},
      {"*-5\r\n", "Protocol error: invalid multibulk length in reply (-5)"},
      {"*\r\n", "Protocol error: invalid multibulk length in reply (no digits)"},
      {"*12345678901234567890\r\n",
       "Protocol error: invalid multibulk length in reply (too many digits)"},
  };
  for (const auto& [wire, error] : cases) {
    SCOPED_TRACE(absl::CEscape(wire));
    ExpectEverywhere(wire, {"protocol-error error=" + error});
  }
}

TEST(RedisReplyDecoderTest, NestingDepthIsLimited) {
  std::string ok;
  for (size_t i = 0; i < RedisReplyDecoder::kMaxDepth; ++i) {
    ok += "*1\r\n";
  }
  ok += ":1\r\n";
  EXPECT_EQ(DecodeReplies(ok, Feeding{{}, 5}),
            std::vector<std::string>{absl::StrCat("message wire=", ok.size())});
  const std::string too_deep = "*1\r\n" + ok;
  EXPECT_EQ(DecodeReplies(too_deep, Feeding{{}, 5}),
            std::vector<std::string>{
                "protocol-error error=Protocol error: reply nested more than 128 arrays deep"});
}

TEST(RedisReplyDecoderTest, SizeIsLimited) {
  DecoderLimits limits;
  limits.max_message_bytes = 20;
  ExpectEverywhere("$11\r\n12345678901\r\n", {"message wire=18"}, limits);
  ExpectEverywhere("$15\r\n",
                   {"protocol-error error=Protocol error: reply of at least 22 bytes "
                    "exceeds the proxy's limit of 20 bytes"},
                   limits);
  ExpectEverywhere("*9999999999999999999\r\n",
                   {"protocol-error error=Protocol error: reply of at least 18446744073709551615 "
                    "bytes exceeds the proxy's limit of 20 bytes"},
                   limits);
  ExpectEverywhere("*6\r\n",
                   {"protocol-error error=Protocol error: reply of at least 22 bytes "
                    "exceeds the proxy's limit of 20 bytes"},
                   limits);
  ExpectEverywhere("+01234567890123456\r\n", {"message wire=20"}, limits);
  ExpectEverywhere(":-1234567890123456\r\n", {"message wire=20"}, limits);
  ExpectEverywhere(":-12345678901234567\r\n",
                   {"protocol-error error=Protocol error: reply exceeds the proxy's limit of 20 "
                    "bytes"},
                   limits);
  ExpectEverywhere("*2\r\n+0123456789\r\n+0\r\n",
                   {"protocol-error error=Protocol error: reply exceeds the proxy's limit of 20 "
                    "bytes"},
                   limits);
  ExpectEverywhere("+0123456789012345678901234\r\n",
                   {"protocol-error error=Protocol error: reply exceeds the proxy's limit of 20 "
                    "bytes"},
                   limits);
}

TEST(RedisReplyDecoderTest, SixtyFourMebibyteBulkIsSkippedByLength) {
  const size_t kSize = 64u << 20;
  const std::string head = absl::StrCat("*2\r\n$", kSize, "\r\n");
  const std::string value(kSize, '*');
  RedisReplyDecoder decoder{DecoderLimits()};
  proxy::test::StringBuffer buffer(head, 4096);
  Reply reply;
  std::string error;
  ASSERT_EQ(decoder.Decode(buffer, &reply, &error), DecodeResult::kNeedMoreData);
  for (size_t at = 0; at < kSize; at += 1u << 20) {
    buffer.Append(absl::string_view(value).substr(at, 1u << 20));
    ASSERT_EQ(decoder.Decode(buffer, &reply, &error), DecodeResult::kNeedMoreData);
  }
  buffer.Append("\r\n$-1\r\n+OK\r\n");
  ASSERT_EQ(decoder.Decode(buffer, &reply, &error), DecodeResult::kMessage) << error;
  EXPECT_EQ(reply.wire_size, head.size() + kSize + 2 + 5);
  EXPECT_FALSE(reply.is_error);
  buffer.Drain(reply.wire_size);
  ASSERT_EQ(decoder.Decode(buffer, &reply, &error), DecodeResult::kMessage);
  EXPECT_EQ(reply.wire_size, 5u);
}

TEST(RedisReplyDecoderTest, FlagsDoNotLeakIntoTheNextReply) {
  proxy::test::StringBuffer buffer("-OOM no memory\r\n+OK\r\n");
  RedisReplyDecoder decoder{DecoderLimits()};
  Reply reply;
  std::string error;
  ASSERT_EQ(decoder.Decode(buffer, &reply, &error), DecodeResult::kMessage);
  EXPECT_TRUE(reply.is_error);
  EXPECT_TRUE(reply.server_failure);
  buffer.Drain(reply.wire_size);
  ASSERT_EQ(decoder.Decode(buffer, &reply, &error), DecodeResult::kMessage);
  EXPECT_FALSE(reply.is_error);
  EXPECT_FALSE(reply.server_failure);
  EXPECT_EQ(reply.wire_size, 5u);
}

TEST(RedisReplyDecoderTest, MutatedInputGivesTheSameResultsUnderEveryFeeding) {
  std::string base;
  for (const Case& c : AllTypes()) {
    base += c.wire;
  }
  const char kAlphabet[] = "*$:+-\r\n0123-9 OKB";
  std::mt19937 random(20240602);
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
    const std::vector<std::string> reference = DecodeReplies(wire, Feeding{});
    for (const Feeding& feeding : AllFeedings(wire.size(), /*max_split_size=*/0)) {
      ASSERT_EQ(DecodeReplies(wire, feeding), reference)
          << FeedingName(feeding) << " for " << absl::CEscape(wire);
    }
  }
}

}  // namespace
}  // namespace proxy::protocols::redis::test

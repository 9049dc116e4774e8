// The sentinel plugin's RESP reader: every reply shape Sentinel sends, split at every byte, and
// the bounds that make a hostile or broken peer a malformed reply instead of unbounded memory.
#include "protocols/redis/sentinel/resp_reader.h"

#include <string>

#include "gtest/gtest.h"

namespace proxy::protocols::redis::sentinel {
namespace {

RespParse Parse(const std::string& data, RespValue* value, size_t* consumed,
                std::string* error = nullptr, RespLimits limits = {}) {
  std::string why;
  return ParseResp(data, limits, value, consumed, error != nullptr ? error : &why);
}

TEST(RespReaderTest, SentinelReplyShapes) {
  // SENTINEL replicas: an array of flat field/value arrays.
  const std::string replicas =
      "*1\r\n*6\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nport\r\n$4\r\n6380\r\n"
      "$5\r\nflags\r\n$5\r\nslave\r\n";
  RespValue value;
  size_t consumed = 0;
  ASSERT_EQ(Parse(replicas + "+OK\r\n", &value, &consumed), RespParse::kComplete);
  EXPECT_EQ(consumed, replicas.size());
  ASSERT_TRUE(value.is_array());
  ASSERT_EQ(value.elements.size(), 1u);
  ASSERT_EQ(value.elements[0].elements.size(), 6u);
  EXPECT_EQ(value.elements[0].elements[1].text, "127.0.0.1");
  // Every proper prefix is incomplete, never malformed.
  for (size_t i = 0; i < replicas.size(); ++i) {
    EXPECT_EQ(Parse(replicas.substr(0, i), &value, &consumed), RespParse::kIncomplete) << i;
  }
  ASSERT_EQ(Parse("*-1\r\n", &value, &consumed), RespParse::kComplete);
  EXPECT_TRUE(value.is_null());
  ASSERT_EQ(Parse("$-1\r\n", &value, &consumed), RespParse::kComplete);
  EXPECT_TRUE(value.is_null());
  ASSERT_EQ(Parse("-NOAUTH Authentication required.\r\n", &value, &consumed),
            RespParse::kComplete);
  EXPECT_TRUE(value.is_error());
  EXPECT_EQ(value.text, "NOAUTH Authentication required.");
  ASSERT_EQ(Parse(":42\r\n", &value, &consumed), RespParse::kComplete);
  EXPECT_EQ(value.integer, 42);
  ASSERT_EQ(Parse("$0\r\n\r\n", &value, &consumed), RespParse::kComplete);
  EXPECT_EQ(value.text, "");
}

TEST(RespReaderTest, MalformedAndOverLimit) {
  RespValue value;
  size_t consumed = 0;
  std::string error;
  EXPECT_EQ(Parse("hello\r\n", &value, &consumed, &error), RespParse::kMalformed);
  EXPECT_NE(error.find("unexpected type byte"), std::string::npos) << error;
  EXPECT_EQ(Parse("$abc\r\n", &value, &consumed), RespParse::kMalformed);
  EXPECT_EQ(Parse("$-2\r\n", &value, &consumed), RespParse::kMalformed);
  EXPECT_EQ(Parse("$+3\r\nabc\r\n", &value, &consumed), RespParse::kMalformed);
  EXPECT_EQ(Parse("$3\r\nabcXY", &value, &consumed), RespParse::kMalformed);
  EXPECT_EQ(Parse(":1x\r\n", &value, &consumed), RespParse::kMalformed);
  EXPECT_EQ(Parse("\r\n", &value, &consumed), RespParse::kMalformed);
  EXPECT_EQ(Parse("+a\rb\r\n", &value, &consumed), RespParse::kMalformed);
  EXPECT_EQ(Parse("%1\r\n", &value, &consumed), RespParse::kMalformed);  // RESP3: not ours
  RespLimits limits;
  EXPECT_EQ(Parse("$99999999999\r\n", &value, &consumed, &error, limits), RespParse::kMalformed);
  EXPECT_EQ(error, "bulk string too long");
  EXPECT_EQ(Parse("*99999999\r\n", &value, &consumed, &error, limits), RespParse::kMalformed);
  EXPECT_EQ(error, "array too long");
  EXPECT_EQ(Parse("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", &value, &consumed, &error,
                  limits),
            RespParse::kMalformed);
  EXPECT_EQ(error, "arrays nested too deeply");
  EXPECT_EQ(Parse("+" + std::string(limits.max_line + 10, 'a'), &value, &consumed, &error,
                  limits),
            RespParse::kMalformed);
  EXPECT_EQ(error, "line too long");
  limits.max_reply = 100;
  std::string big = "*50\r\n";
  for (int i = 0; i < 50; ++i) big += "$3\r\nabc\r\n";
  EXPECT_EQ(Parse(big, &value, &consumed, &error, limits), RespParse::kMalformed);
  EXPECT_EQ(error, "reply too large");
}

TEST(RespReaderTest, EncodeAndPrintable) {
  EXPECT_EQ(EncodeCommand({"SENTINEL", "get-master-addr-by-name", "a b"}),
            "*3\r\n$8\r\nSENTINEL\r\n$23\r\nget-master-addr-by-name\r\n$3\r\na b\r\n");
  EXPECT_EQ(Printable("a\r\n\x01"), "a\\x0d\\x0a\\x01");
  EXPECT_EQ(Printable("abcdef", 3), "abc...");
}

}  // namespace
}  // namespace proxy::protocols::redis::sentinel

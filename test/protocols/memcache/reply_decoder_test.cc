// Tests of the memcache reply decoder: every reply form under every feeding (a whole VALUE...END
// retrieval is one reply), pipelines, protocol errors, limits, 1 MiB and 100 MiB values.
#include "protocols/memcache/reply_decoder.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "test/protocols/memcache/decode_util.h"

namespace proxy::protocols::memcache::test {
namespace {

struct Case {
  std::string wire;
  std::string expected;  // "wire=*" stands for the case's whole size
};

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
    ASSERT_EQ(DecodeReplies(wire, feeding, limits), expected)
        << FeedingName(feeding) << " for " << absl::CEscape(wire);
  }
}

const Case kNext = {"STORED\r\n", "message wire=*"};

TEST(MemcacheReplyDecoderTest, EveryReplyFormUnderEveryFeeding) {
  const std::vector<Case> cases = {
      {"STORED\r\n", "message wire=*"},
      {"NOT_STORED\r\n", "message wire=*"},
      {"EXISTS\r\n", "message wire=*"},
      {"NOT_FOUND\r\n", "message wire=*"},
      {"DELETED\r\n", "message wire=*"},
      {"TOUCHED\r\n", "message wire=*"},
      {"OK\r\n", "message wire=*"},
      {"12\r\n", "message wire=*"},
      {"18446744073709551615\r\n", "message wire=*"},
      {"VERSION 1.6.18\r\n", "message wire=*"},
      {"ERROR\r\n", "message wire=* error"},
      {"ERROR unknown command\r\n", "message wire=* error"},
      {"CLIENT_ERROR bad data chunk\r\n", "message wire=* error"},
      {"CLIENT_ERROR invalid numeric delta argument\r\n", "message wire=* error"},
      {"SERVER_ERROR object too large for cache\r\n", "message wire=* error"},
      {"SERVER_ERROR\r\n", "message wire=* error"},
      {"END\r\n", "message wire=*"},
      {"VALUE foo 5 3\r\nbar\r\nEND\r\n", "message wire=*"},
      {"VALUE foo 5 3 1\r\nbar\r\nEND\r\n", "message wire=*"},
      {"VALUE a 0 0\r\n\r\nVALUE b 1 5 77\r\nEND\r\n\r\nVALUE a 0 2\r\n\r\n\r\nEND\r\n",
       "message wire=*"},
      {"VA 2 f5 t-1 c4\r\nhi\r\n", "message wire=*"},
      {"VA 0\r\n\r\n", "message wire=*"},
      {"VA 3\r\nEND\r\n", "message wire=*"},
      {"HD\r\n", "message wire=*"},
      {"HD c123 t-1 kZm9v b\r\n", "message wire=*"},
      {"NS\r\n", "message wire=*"},
      {"EX c9\r\n", "message wire=*"},
      {"NF\r\n", "message wire=*"},
      {"EN\r\n", "message wire=*"},
      {"MN\r\n", "message wire=*"},
      {"ME k exp=-1 la=0 cas=4 fetch=yes cls=1 size=66\r\n", "message wire=*"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::CEscape(c.wire));
    ExpectEverywhere({c, kNext});
  }
}

TEST(MemcacheReplyDecoderTest, PipelineOfManyReplies) {
  const std::vector<Case> mix = {
      {"VALUE key:1 0 5\r\nhello\r\nEND\r\n", "message wire=*"},
      {"STORED\r\n", "message wire=*"},
      {"END\r\n", "message wire=*"},
      {"SERVER_ERROR out of memory storing object\r\n", "message wire=* error"},
      {"42\r\n", "message wire=*"},
      {"VA 1 t10\r\nx\r\n", "message wire=*"},
      {"HD\r\n", "message wire=*"},
      {"VALUE a 1 1 1\r\na\r\nVALUE b 2 2 2\r\nbb\r\nEND\r\n", "message wire=*"},
  };
  std::string wire;
  std::vector<std::string> expected;
  for (int i = 0; i < 500; ++i) {
    const Case& c = mix[(i * 5 + i / 4) % mix.size()];
    wire += c.wire;
    expected.push_back(
        absl::StrReplaceAll(c.expected, {{"wire=*", absl::StrCat("wire=", c.wire.size())}}));
  }
  for (const Feeding& feeding : AllFeedings(wire.size())) {
    ASSERT_EQ(DecodeReplies(wire, feeding), expected) << FeedingName(feeding);
  }
}

TEST(MemcacheReplyDecoderTest, AnythingElseIsAProtocolError) {
  const std::vector<Case> cases = {
      {"HELLO\r\n", "unexpected reply line: 'HELLO'"},
      {"stored\r\n", "unexpected reply line: 'stored'"},
      {"STORED x\r\n", "unexpected reply line: 'STORED x'"},
      {"ME\r\n", "unexpected reply line: 'ME'"},
      {"-1\r\n", "unexpected reply line: '-1'"},
      {"123456789012345678901\r\n", "unexpected reply line: '123456789012345678901'"},
      {"\r\n", "unexpected reply line: ''"},
      {"\x80\x01\r\n", "unexpected reply line: '\\x80\\x01'"},
      {"STORED\n", "reply line not terminated by CRLF: 'STORED'"},
      {"\n", "reply line not terminated by CRLF: ''"},
      {"VALUE k 0\r\n", "bad VALUE line: 'VALUE k 0'"},
      {"VALUE k 0 x\r\n", "bad data length in reply line: 'VALUE k 0 x'"},
      {"VALUE k x 1\r\n", "bad VALUE line: 'VALUE k x 1'"},
      {"VALUE k 0 1 2 3\r\n", "bad VALUE line: 'VALUE k 0 1 2 3'"},
      {"VALUE k 0 3\r\nbarx", "data block of 3 bytes not followed by CRLF"},
      {"VALUE k 0 3\r\nbar\r\r", "data block of 3 bytes not followed by CRLF"},
      {"VALUE k 0 1\r\nx\r\nSTORED\r\n", "unexpected line in a retrieval reply: 'STORED'"},
      {"VALUE k 0 1\r\nx\r\nSERVER_ERROR oops\r\n",
       "unexpected line in a retrieval reply: 'SERVER_ERROR oops'"},
      {"VALUE k 0 1\r\nx\r\nEND\n", "reply line not terminated by CRLF: 'END'"},
      {"VA\r\n", "bad VA line: 'VA'"},
      {"VA -1\r\n", "bad data length in reply line: 'VA -1'"},
      {"VA 2\r\nhi\n", "data block of 2 bytes not followed by CRLF"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::CEscape(c.wire));
    ExpectEverywhere({kNext, {c.wire, "protocol-error error=" + c.expected}});
  }
}

TEST(MemcacheReplyDecoderTest, LongLinesAndLargeRepliesAreRefused) {
  const std::string at_limit = "SERVER_ERROR " + std::string(8192 - 13, 'x');
  ExpectEverywhere({{at_limit + "\r\n", "message wire=* error"}, kNext});
  for (const std::string& wire : {at_limit + "x\r\n", at_limit + "xx"}) {
    ExpectEverywhere({{wire, "protocol-error error=reply line longer than 8192 bytes"}});
  }
  DecoderLimits limits;
  limits.max_message_bytes = 100;
  ExpectEverywhere(
      {{"VALUE k 0 10\r\n0123456789\r\nVALUE k 0 10\r\n0123456789\r\nEND\r\n", "message wire=*"},
       {"VALUE k 0 101\r\n",
        "protocol-error error=reply exceeds the proxy's limit of 100 bytes (a value "
        "of 101 bytes)"}},
      limits);
  // The limit applies to the whole retrieval, not to each value.
  std::string many;
  for (int i = 0; i < 4; ++i) {
    many += "VALUE k 0 10\r\n0123456789\r\n";
  }
  ExpectEverywhere({{many,
                     "protocol-error error=reply exceeds the proxy's limit of 100 bytes (a "
                     "value of 10 bytes)"}},
                   limits);
  ExpectEverywhere({{"SERVER_ERROR " + std::string(100, 'e') + "\r\n",
                     "protocol-error error=reply exceeds the proxy's limit of 100 bytes"}},
                   limits);
}

TEST(MemcacheReplyDecoderTest, OneMebibyteValuesUnderEveryFeeding) {
  const std::string data(1 << 20, 'x');
  ExpectEverywhere({{"VALUE big 0 1048576\r\n" + data + "\r\nEND\r\n", "message wire=*"},
                    {"VA 1048576 f0\r\n" + data + "\r\n", "message wire=*"},
                    kNext});
}

TEST(MemcacheReplyDecoderTest, HundredMebibyteValueIsSkippedByLengthNotScanned) {
  constexpr size_t kSize = 100u << 20;
  const std::string line = absl::StrCat("VALUE huge 1 ", kSize, " 99\r\n");
  VirtualBuffer buffer(line, kSize, "\r\nEND\r\nSTORED\r\n");
  MemcacheReplyDecoder decoder{DecoderLimits()};
  Reply reply;
  std::string error;
  size_t visible = 0;
  DecodeResult result = DecodeResult::kNeedMoreData;
  while (result == DecodeResult::kNeedMoreData && visible < buffer.total()) {
    visible += 7u << 20;
    buffer.set_visible(visible);
    result = decoder.Decode(buffer, &reply, &error);
  }
  ASSERT_EQ(result, DecodeResult::kMessage) << error;
  EXPECT_EQ(reply.wire_size, line.size() + kSize + 7);
  EXPECT_FALSE(reply.is_error);
  // Only the views of one peek window next to the header were handed out.
  EXPECT_LE(buffer.filler_bytes_read(), 16u << 10);
  buffer.Drain(reply.wire_size);
  ASSERT_EQ(decoder.Decode(buffer, &reply, &error), DecodeResult::kMessage);
  EXPECT_EQ(reply.wire_size, 8u);
}

}  // namespace
}  // namespace proxy::protocols::memcache::test

// Tests of the memcache binary codec: protocol detection and variants, quiet-batch split and
// merge over several servers (original order and opaques), error and refusal encodings, the
// session's local answers and key rewriting.
#include "protocols/memcache/binary_codec.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "protocols/memcache/binary_request_decoder.h"
#include "protocols/memcache/memcache_codec.h"
#include "test/fakes/string_buffer.h"
#include "test/protocols/memcache/binary_wire.h"

namespace proxy::protocols::memcache::test {
namespace {

// Decodes exactly one request from `wire` with the pool codec's binary variant.
Request DecodeOne(const Codec& codec, absl::string_view wire,
                  DecodeResult expected = DecodeResult::kMessage) {
  RequestDecoderPtr decoder = codec.NewRequestDecoder(DecoderLimits());
  proxy::test::StringBuffer buffer(wire);
  Request request;
  std::string error;
  EXPECT_EQ(decoder->Decode(buffer, &request, &error), expected) << error;
  EXPECT_EQ(request.wire_size, expected == DecodeResult::kProtocolError ? 0 : wire.size());
  return request;
}

std::string Hex(absl::string_view bytes) { return absl::BytesToHexString(bytes); }

class BinaryCodecTest : public ::testing::Test {
 protected:
  MemcacheCodec ascii_;
  const Codec& binary_ = *ascii_.Variant(1);
};

TEST_F(BinaryCodecTest, TheFirstByteChoosesTheProtocolAndVariantsPointAtEachOther) {
  EXPECT_EQ(&ascii_.ForClient(std::string("\x80", 1)), &binary_);
  EXPECT_EQ(&ascii_.ForClient("get a\r\n"), &ascii_);
  EXPECT_EQ(&ascii_.ForClient(std::string("\x81", 1)), &ascii_);
  EXPECT_EQ(ascii_.Variant(0), &ascii_);
  EXPECT_EQ(ascii_.Variant(2), nullptr);
  EXPECT_EQ(binary_.Variant(0), &ascii_);
  EXPECT_EQ(binary_.Variant(1), &binary_);
  EXPECT_EQ(binary_.Variant(7), nullptr);
  EXPECT_EQ(binary_.NewSession()->Variant(), 1);
  EXPECT_EQ(ascii_.NewSession()->Variant(), 0);
  EXPECT_TRUE(binary_.ServerHandshake().empty());
}

// A batch getkq a, getq b, gatkq c, getq d, getkq a (again), noop over three servers.
class QuietBatchTest : public BinaryCodecTest {
 protected:
  void SetUp() override {
    wire_ = Get(0x0d, "a", 1) + Get(0x09, "b", 2) + Get(0x24, "c", 3) + Get(0x09, "d", 4) +
            Get(0x0d, "a", 5) + Noop(0x99);
    request_ = DecodeOne(binary_, wire_);
    ASSERT_EQ(request_.kind, CommandKind::kMultiKey);
    ASSERT_EQ(request_.KeyCount(), 5u);
  }
  std::string wire_;
  Request request_;
};

TEST_F(QuietBatchTest, SplitGroupsPerServerKeepingOpcodesOpaquesAndOrder) {
  //                     a  b  c  d  a
  const uint32_t servers[] = {2, 0, 1, 0, 2};
  const std::vector<Fragment> fragments = binary_.Split(request_, servers);
  ASSERT_EQ(fragments.size(), 3u);
  EXPECT_EQ(fragments[0].server, 0u);
  EXPECT_EQ(fragments[0].keys, (std::vector<uint32_t>{1, 3}));
  EXPECT_EQ(Hex(fragments[0].bytes), Hex(Get(0x09, "b", 2) + Get(0x09, "d", 4) + Noop(0x99)));
  EXPECT_EQ(fragments[1].server, 1u);
  EXPECT_EQ(fragments[1].keys, (std::vector<uint32_t>{2}));
  EXPECT_EQ(Hex(fragments[1].bytes), Hex(Get(0x24, "c", 3) + Noop(0x99)));
  EXPECT_EQ(fragments[2].server, 2u);
  EXPECT_EQ(fragments[2].keys, (std::vector<uint32_t>{0, 4}));
  EXPECT_EQ(Hex(fragments[2].bytes), Hex(Get(0x0d, "a", 1) + Get(0x0d, "a", 5) + Noop(0x99)));
  // The pool's ASCII codec hands binary requests to the binary codec.
  const std::vector<Fragment> again = ascii_.Split(request_, servers);
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again[2].bytes, fragments[2].bytes);
}

TEST_F(QuietBatchTest, MergeWritesTheHitsInTheOriginalOrderThenTheClientsNoop) {
  const uint32_t servers[] = {2, 0, 1, 0, 2};
  const std::vector<Fragment> fragments = binary_.Split(request_, servers);
  ASSERT_EQ(fragments.size(), 3u);
  // b misses (quiet: no response), d, c and both a hit.
  const std::vector<std::string> replies = {
      Hit(0x09, "", "D", 4) + Response(0x0a, 0, "", 0x99),
      Hit(0x24, "c", "C", 3) + Response(0x0a, 0, "", 0x99),
      Hit(0x0d, "a", "A1", 1) + Hit(0x0d, "a", "A2", 5) + Response(0x0a, 0, "", 0x99),
  };
  std::string out = "before";
  ASSERT_TRUE(binary_.Merge(request_, fragments, replies, &out));
  EXPECT_EQ(Hex(out), Hex("before" + Hit(0x0d, "a", "A1", 1) + Hit(0x24, "c", "C", 3) +
                          Hit(0x09, "", "D", 4) + Hit(0x0d, "a", "A2", 5) +
                          Response(0x0a, 0, "", 0x99)));
  std::string via_ascii;
  ASSERT_TRUE(ascii_.Merge(request_, fragments, replies, &via_ascii));
  EXPECT_EQ(via_ascii, out.substr(6));
}

TEST_F(QuietBatchTest, MergeRefusesRepliesThatDoNotMatchTheFragment) {
  const uint32_t servers[] = {2, 0, 1, 0, 2};
  const std::vector<Fragment> fragments = binary_.Split(request_, servers);
  const std::string noop = Response(0x0a, 0, "", 0x99);
  const std::string good0 = Hit(0x09, "", "D", 4) + noop;
  const std::string good1 = noop;
  const std::string good2 = noop;
  struct Bad {
    const char* what;
    std::vector<std::string> replies;
  };
  const std::vector<Bad> cases = {
      {"an opaque nobody asked", {Hit(0x09, "", "X", 42) + noop, good1, good2}},
      {"an opaque of another fragment", {Hit(0x24, "c", "C", 3) + noop, good1, good2}},
      {"the right opaque with another opcode", {Hit(0x0d, "d", "D", 4) + noop, good1, good2}},
      {"out of order", {Hit(0x09, "", "D", 4) + Hit(0x09, "", "B", 2) + noop, good1, good2}},
      {"no noop at the end", {Hit(0x09, "", "D", 4), good1, good2}},
      {"bytes after the noop", {good0 + noop, good1, good2}},
      {"a get response instead of the noop", {Response(0x00, 1, "Not found", 0), good1, good2}},
      {"truncated", {good0.substr(0, good0.size() - 1), good1, good2}},
      {"ASCII", {"END\r\n", good1, good2}},
      {"one reply missing", {good0, good1}},
  };
  for (const Bad& bad : cases) {
    std::string out;
    EXPECT_FALSE(binary_.Merge(request_, fragments, bad.replies, &out)) << bad.what;
  }
}

TEST_F(QuietBatchTest, OneServerGoesAsReceived) {
  const uint32_t servers[] = {1, 1, 1, 1, 1};
  EXPECT_TRUE(binary_.Split(request_, servers).empty());
}

TEST_F(BinaryCodecTest, ABatchWithoutTheClientsNoopIsAlwaysSplitAndAnswersOnlyTheHits) {
  const std::string wire = Get(0x09, "x", 7) + Get(0x09, "y", 8);
  // The batch ends at the get that follows (only its header start has arrived).
  RequestDecoderPtr decoder = binary_.NewRequestDecoder(DecoderLimits());
  proxy::test::StringBuffer buffer(wire + Get(0x00, "z", 9).substr(0, 24));
  Request request;
  std::string error;
  ASSERT_EQ(decoder->Decode(buffer, &request, &error), DecodeResult::kMessage);
  ASSERT_EQ(request.wire_size, wire.size());
  const uint32_t servers[] = {3, 3};
  const std::vector<Fragment> fragments = binary_.Split(request, servers);
  ASSERT_EQ(fragments.size(), 1u);
  EXPECT_EQ(fragments[0].server, 3u);
  EXPECT_EQ(Hex(fragments[0].bytes), Hex(wire + Noop(0)));
  std::string out;
  ASSERT_TRUE(binary_.Merge(request, fragments,
                            {Hit(0x09, "", "Y", 8) + Response(0x0a, 0, "", 0)}, &out));
  EXPECT_EQ(Hex(out), Hex(Hit(0x09, "", "Y", 8)));
  out.clear();
  ASSERT_TRUE(binary_.Merge(request, fragments, {Response(0x0a, 0, "", 0)}, &out));
  EXPECT_EQ(out, "");
}

TEST_F(BinaryCodecTest, SplitLeavesSingleRequestsAlone) {
  const Request request = DecodeOne(binary_, Get(0x00, "k", 1));
  const uint32_t servers[] = {0};
  EXPECT_TRUE(binary_.Split(request, servers).empty());
  std::string out;
  EXPECT_FALSE(binary_.Merge(request, {}, {}, &out));
}

TEST_F(BinaryCodecTest, ErrorsAndRefusalsEchoTheOpcodeAndOpaque) {
  const Request get = DecodeOne(binary_, Get(0x0c, "k", 0xa1b2c3d4));
  std::string out;
  binary_.EncodeErrorFor(get, "Connection refused", &out);
  EXPECT_EQ(Hex(out), Hex(Response(0x0c, 0x0084, "Connection refused", 0xa1b2c3d4)));
  out.clear();
  binary_.EncodeRefusal(get, "command_policy: 'getk' is denied", &out);
  EXPECT_EQ(Hex(out), Hex(Response(0x0c, 0x0083, "command_policy: 'getk' is denied", 0xa1b2c3d4)));
  // Through the pool's ASCII codec too.
  out.clear();
  ascii_.EncodeErrorFor(get, "timeout", &out);
  EXPECT_EQ(Hex(out), Hex(Response(0x0c, 0x0084, "timeout", 0xa1b2c3d4)));
  out.clear();
  ascii_.EncodeRefusal(get, "no", &out);
  EXPECT_EQ(Hex(out), Hex(Response(0x0c, 0x0083, "no", 0xa1b2c3d4)));
  // A batch's error answers the client's noop.
  const Request batch = DecodeOne(binary_, Get(0x09, "a", 1) + Noop(0x55));
  out.clear();
  binary_.EncodeErrorFor(batch, "timeout", &out);
  EXPECT_EQ(Hex(out), Hex(Response(0x0a, 0x0084, "timeout", 0x55)));
  // Invalid requests carry the decoder's status.
  Msg unknown;
  unknown.opcode = 0x42;
  unknown.opaque = 6;
  const Request invalid = DecodeOne(binary_, Encode(unknown), DecodeResult::kInvalidRequest);
  out.clear();
  binary_.EncodeErrorFor(invalid, "Unknown command (opcode 0x42)", &out);
  EXPECT_EQ(Hex(out), Hex(Response(0x42, 0x0081, "Unknown command (opcode 0x42)", 6)));
  Msg bad;
  bad.opcode = 0x01;
  bad.key = "k";
  bad.opaque = 7;
  const Request protocol_error = DecodeOne(binary_, Encode(bad), DecodeResult::kProtocolError);
  out.clear();
  binary_.EncodeErrorFor(protocol_error, "binary protocol error", &out);
  EXPECT_EQ(Hex(out), Hex(Response(0x01, 0x0004, "binary protocol error", 7)));
  // No request known: still a valid response.
  out.clear();
  binary_.EncodeError("out of memory", &out);
  EXPECT_EQ(Hex(out), Hex(Response(0x00, 0x0084, "out of memory", 0)));
  out.clear();
  binary_.EncodeErrorFor(Request(), "x", &out);
  EXPECT_EQ(Hex(out), Hex(Response(0x00, 0x0084, "x", 0)));
}

TEST_F(BinaryCodecTest, TheSessionAnswersLocalRequestsAndRefusals) {
  struct Case {
    std::string wire;
    LocalAction action;
    std::string reply;
  };
  Msg flush;
  flush.opcode = 0x08;
  flush.opaque = 3;
  Msg setq;
  setq.opcode = 0x11;
  setq.key = "k";
  setq.extras = Extras32x2(0, 0);
  setq.opaque = 4;
  const std::vector<Case> cases = {
      {Noop(1), LocalAction::kReply, Response(0x0a, 0, "", 1)},
      {Simple(0x0b, 2), LocalAction::kReply, Response(0x0b, 0, "1.6.0-shardproxy", 2)},
      {Simple(0x07, 3), LocalAction::kReplyThenClose, Response(0x07, 0, "", 3)},
      {Simple(0x17, 3), LocalAction::kReplyThenClose, ""},
      {Encode(flush), LocalAction::kRefused,
       Response(0x08, 0x0083,
                "unsupported command 'flush': keys are spread over several servers; run it on "
                "each server directly",
                3)},
      {Encode(setq), LocalAction::kRefused,
       Response(0x11, 0x0083,
                "unsupported command 'setq': quiet mutations are not supported by the proxy (it "
                "could not know whether a response comes); use the non-quiet opcode",
                4)},
      {Simple(0x10, 5), LocalAction::kRefused,
       Response(0x10, 0x0083,
                "unsupported command 'stat': it addresses one server, not the pool; run it on "
                "each server directly",
                5)},
      {Get(0x00, "k", 6), LocalAction::kForward, ""},
      {Get(0x09, "k", 6) + Noop(7), LocalAction::kForward, ""},
  };
  for (const Case& c : cases) {
    SessionPtr session = binary_.NewSession();
    std::string reply;
    EXPECT_EQ(session->OnRequest(DecodeOne(binary_, c.wire), &reply), c.action) << Hex(c.wire);
    EXPECT_EQ(Hex(reply), Hex(c.reply));
  }
  EXPECT_FALSE(binary_.UnsupportedReason("flush").empty());
  EXPECT_TRUE(binary_.UnsupportedReason("get").empty());
}

std::string Prefixed(absl::string_view key) { return "app:" + std::string(key); }
std::string Unprefixed(absl::string_view key) {
  return std::string(absl::StartsWith(key, "app:") ? key.substr(4) : key);
}

TEST_F(BinaryCodecTest, RewriteKeysReencodesEveryKeyedRequest) {
  for (const std::string& wire :
       {Get(0x00, "k", 1), Set("k", "value", 2, 5), Get(0x1d, "k", 3),
        Encode(Msg{0x80, 0x05, "k", IncrExtras(1, 0, 0), "", 4})}) {
    const Request request = DecodeOne(binary_, wire);
    proxy::test::StringBuffer buffer(wire);
    std::string out;
    ASSERT_TRUE(binary_.RewriteKeys(request, buffer, Prefixed, &out)) << Hex(wire);
    // The same request with the longer key and fixed lengths.
    Request again = DecodeOne(binary_, out);
    EXPECT_EQ(again.command_id, request.command_id);
    EXPECT_EQ(again.codec_tag, request.codec_tag);
    ASSERT_EQ(again.KeyCount(), 1u);
    EXPECT_EQ(again.Key(0), "app:k");
  }
  {
    const std::string wire = Set("k", "value", 2, 5);
    proxy::test::StringBuffer buffer(wire);
    std::string out;
    ASSERT_TRUE(binary_.RewriteKeys(DecodeOne(binary_, wire), buffer, Prefixed, &out));
    EXPECT_EQ(Hex(out), Hex(Set("app:k", "value", 2, 5)));
  }
  // A batch: every quiet get, the client's noop copied; Split then uses the rewritten requests.
  const std::string batch = Get(0x0d, "a", 1) + Get(0x1e, "b", 2) + Noop(3);
  Request request = DecodeOne(binary_, batch);
  proxy::test::StringBuffer buffer(batch);
  std::string out;
  ASSERT_TRUE(binary_.RewriteKeys(request, buffer, Prefixed, &out));
  EXPECT_EQ(Hex(out), Hex(Get(0x0d, "app:a", 1) + Get(0x1e, "app:b", 2) + Noop(3)));
  // What the key_prefix filter does with it (filters/key_prefix/key_prefix_filter.cc).
  request.args.Clear();
  request.args.Add("app:a");
  request.args.Add("app:b");
  request.rewritten = out;
  request.has_rewrite = true;
  const uint32_t servers[] = {1, 0};
  const std::vector<Fragment> fragments = binary_.Split(request, servers);
  ASSERT_EQ(fragments.size(), 2u);
  EXPECT_EQ(Hex(fragments[0].bytes), Hex(Get(0x1e, "app:b", 2) + Noop(3)));
  EXPECT_EQ(Hex(fragments[1].bytes), Hex(Get(0x0d, "app:a", 1) + Noop(3)));
  // Keyless requests and keys that would grow past 250 bytes are not rewritten.
  const Request noop = DecodeOne(binary_, Noop(1));
  proxy::test::StringBuffer noop_buffer(Noop(1));
  EXPECT_FALSE(binary_.RewriteKeys(noop, noop_buffer, Prefixed, &out));
  const std::string long_key = Get(0x00, std::string(248, 'k'), 1);
  const Request long_request = DecodeOne(binary_, long_key);
  proxy::test::StringBuffer long_buffer(long_key);
  EXPECT_FALSE(binary_.RewriteKeys(long_request, long_buffer, Prefixed, &out));
}

TEST_F(BinaryCodecTest, RewriteReplyKeysStripsThePrefixFromKeyedResponses) {
  const Request request = DecodeOne(binary_, Get(0x0d, "app:a", 1) + Noop(2));
  const std::string reply =
      Hit(0x0d, "app:a", "A", 1) + Hit(0x09, "", "B", 3) + Response(0x0a, 0, "", 2);
  std::string out;
  ASSERT_TRUE(binary_.RewriteReplyKeys(request, reply, Unprefixed, &out));
  EXPECT_EQ(Hex(out), Hex(Hit(0x0d, "a", "A", 1) + Hit(0x09, "", "B", 3) +
                          Response(0x0a, 0, "", 2)));
  // getk misses carry the key too.
  Msg miss;
  miss.magic = 0x81;
  miss.opcode = 0x0c;
  miss.key = "app:zz";
  miss.status = 1;
  Msg expected = miss;
  expected.key = "zz";
  out.clear();
  ASSERT_TRUE(binary_.RewriteReplyKeys(request, Encode(miss), Unprefixed, &out));
  EXPECT_EQ(Hex(out), Hex(Encode(expected)));
  // No key in the reply: unchanged.
  EXPECT_FALSE(binary_.RewriteReplyKeys(request, Response(0x00, 1, "Not found", 1), Unprefixed,
                                        &out));
}

TEST(MemcacheAsciiRefusalTest, RefusalsAreClientErrors) {
  MemcacheCodec codec;
  Request request;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"command_policy: 'set' is denied", "CLIENT_ERROR command_policy: 'set' is denied\r\n"},
      {"SERVER_ERROR unsupported", "CLIENT_ERROR unsupported\r\n"},
      {"CLIENT_ERROR bad", "CLIENT_ERROR bad\r\n"},
      {"ERROR", "ERROR\r\n"},
      {"a\r\nb", "CLIENT_ERROR a  b\r\n"},
      {"", ""},  // noreply: nothing
  };
  for (const auto& [text, expected] : cases) {
    std::string out = "END\r\n";
    codec.EncodeRefusal(request, text, &out);
    EXPECT_EQ(out, "END\r\n" + expected) << text;
  }
  // Failures stay SERVER_ERROR.
  std::string out;
  codec.EncodeErrorFor(request, "Connection refused", &out);
  EXPECT_EQ(out, "SERVER_ERROR Connection refused\r\n");
}

}  // namespace
}  // namespace proxy::protocols::memcache::test

// Tests of MemcacheCodec::RewriteKeys / RewriteReplyKeys (used by key-rewriting filters such as
// key_prefix): every keyed command, data blocks kept, the meta b flag, VALUE and meta replies,
// and splitting a rewritten multi-key gat.
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "protocols/memcache/memcache_codec.h"
#include "test/fakes/string_buffer.h"

namespace proxy::protocols::memcache::test {
namespace {

using proxy::test::StringBuffer;

std::string Prefix(absl::string_view key) { return absl::StrCat("p:", key); }

std::string Strip(absl::string_view key) {
  return std::string(absl::StartsWith(key, "p:") ? key.substr(2) : key);
}

// Decodes the first request of `wire` (which must be complete).
Request DecodeWire(absl::string_view wire) {
  MemcacheCodec codec;
  RequestDecoderPtr decoder = codec.NewRequestDecoder(DecoderLimits());
  StringBuffer buffer(wire);
  Request request;
  std::string error;
  EXPECT_EQ(decoder->Decode(buffer, &request, &error), DecodeResult::kMessage) << error;
  return request;
}

// Decodes `wire` and rewrites it with Prefix() from a buffer cut in `chunk`-byte slices;
// "<false>" when RewriteKeys refused.
std::string Rewrite(absl::string_view wire, size_t chunk = 0) {
  const Request request = DecodeWire(wire);
  std::string out;
  if (!MemcacheCodec().RewriteKeys(request, StringBuffer(wire, chunk), Prefix, &out)) {
    return "<false>";
  }
  return out;
}

// RewriteReplyKeys with Strip() for a reply to `request_wire`; "<false>" when it refused.
std::string RewriteReply(absl::string_view request_wire, absl::string_view reply) {
  const Request request = DecodeWire(request_wire);
  std::string out;
  if (!MemcacheCodec().RewriteReplyKeys(request, reply, Strip, &out)) return "<false>";
  return out;
}

TEST(MemcacheRewriteKeysTest, RetrievalsMapEveryKey) {
  EXPECT_EQ(Rewrite("get a\r\n"), "get p:a\r\n");
  EXPECT_EQ(Rewrite("get a b a\r\n"), "get p:a p:b p:a\r\n");
  EXPECT_EQ(Rewrite("gets a b\r\n"), "gets p:a p:b\r\n");
  EXPECT_EQ(Rewrite("gat 100 a\r\n"), "gat 100 p:a\r\n");
  EXPECT_EQ(Rewrite("gats -1 a b\r\n"), "gats -1 p:a p:b\r\n");
  // Extra spaces and a bare LF are normalised (memcached reads both forms the same way).
  EXPECT_EQ(Rewrite("  get   a  b \n"), "get p:a p:b\r\n");
}

TEST(MemcacheRewriteKeysTest, StorageKeepsTheDataBlock) {
  EXPECT_EQ(Rewrite("set k 0 0 5\r\nhello\r\n"), "set p:k 0 0 5\r\nhello\r\n");
  EXPECT_EQ(Rewrite("add k 7 100 3 noreply\r\nk\r\n\r\n"), "add p:k 7 100 3 noreply\r\nk\r\n\r\n");
  EXPECT_EQ(Rewrite("replace k 0 0 0\r\n\r\n"), "replace p:k 0 0 0\r\n\r\n");
  EXPECT_EQ(Rewrite("append k 0 0 1\r\nx\r\n"), "append p:k 0 0 1\r\nx\r\n");
  EXPECT_EQ(Rewrite("prepend k 0 0 1\r\nx\r\n"), "prepend p:k 0 0 1\r\nx\r\n");
  EXPECT_EQ(Rewrite("cas k 0 0 1 99\r\nx\r\n"), "cas p:k 0 0 1 99\r\nx\r\n");
  // A data block that looks like a command line is data.
  EXPECT_EQ(Rewrite("set k 0 0 7\r\nget k\r\n\r\n"), "set p:k 0 0 7\r\nget k\r\n\r\n");
}

TEST(MemcacheRewriteKeysTest, OtherKeyedCommands) {
  EXPECT_EQ(Rewrite("incr k 1\r\n"), "incr p:k 1\r\n");
  EXPECT_EQ(Rewrite("decr k 5 noreply\r\n"), "decr p:k 5 noreply\r\n");
  EXPECT_EQ(Rewrite("touch k 10\r\n"), "touch p:k 10\r\n");
  EXPECT_EQ(Rewrite("delete k\r\n"), "delete p:k\r\n");
  EXPECT_EQ(Rewrite("delete k 0 noreply\r\n"), "delete p:k 0 noreply\r\n");
}

TEST(MemcacheRewriteKeysTest, MetaCommands) {
  EXPECT_EQ(Rewrite("mg k v t k\r\n"), "mg p:k v t k\r\n");
  EXPECT_EQ(Rewrite("ms k 2 T0 F5\r\nhi\r\n"), "ms p:k 2 T0 F5\r\nhi\r\n");
  EXPECT_EQ(Rewrite("md k\r\n"), "md p:k\r\n");
  EXPECT_EQ(Rewrite("ma k N0 D2\r\n"), "ma p:k N0 D2\r\n");
  EXPECT_EQ(Rewrite("me k\r\n"), "me p:k\r\n");
  // b: the key is base64; it is mapped decoded and encoded again.
  const std::string key = absl::Base64Escape(std::string("bin\0key", 7));
  EXPECT_EQ(Rewrite(absl::StrCat("mg ", key, " b v\r\n")),
            absl::StrCat("mg ", absl::Base64Escape(std::string("p:bin\0key", 9)), " b v\r\n"));
  EXPECT_EQ(Rewrite(absl::StrCat("ms ", key, " 1 b\r\nx\r\n")),
            absl::StrCat("ms ", absl::Base64Escape(std::string("p:bin\0key", 9)), " 1 b\r\nx\r\n"));
  // "b" as a flag value (here the opaque token "Ob") is not the b flag.
  EXPECT_EQ(Rewrite("mg k Ob\r\n"), "mg p:k Ob\r\n");
  // (a b key that is not base64 is refused by the decoder: request_decoder_test.)
}

TEST(MemcacheRewriteKeysTest, RewrittenRequestsStayWithinMemcachedsLimits) {
  // A key over 250 bytes once mapped: memcached would refuse it without reading the data block.
  const std::string k248(248, 'k');
  EXPECT_EQ(Rewrite("set " + k248 + " 0 0 1\r\nx\r\n"), "set p:" + k248 + " 0 0 1\r\nx\r\n");
  const std::string k249(249, 'k');
  EXPECT_EQ(Rewrite("set " + k249 + " 0 0 1\r\nx\r\n"), "<false>");
  EXPECT_EQ(Rewrite("get a " + k249 + "\r\n"), "<false>");
  EXPECT_EQ(Rewrite("mg " + k249 + " v\r\n"), "<false>");
  // A gat line over 2048 bytes once mapped: memcached would close the connection.
  std::string gat = "gat 0";
  while (gat.size() < 2000) absl::StrAppend(&gat, " k", gat.size());
  EXPECT_EQ(Rewrite(gat + "\r\n"), "<false>");
  // A get line may be long (memcached reads large multi-gets).
  std::string get = "get";
  while (get.size() < 3000) absl::StrAppend(&get, " k", get.size());
  EXPECT_NE(Rewrite(get + "\r\n"), "<false>");
}

TEST(MemcacheRewriteKeysTest, VersionIsUnchangedAndUnmappableCommandsRefused) {
  EXPECT_EQ(Rewrite("version\r\n"), "version\r\n");
  EXPECT_EQ(Rewrite("mn\r\n"), "<false>");
}

TEST(MemcacheRewriteKeysTest, ChunkedBuffersAppendAndFollowingBytes) {
  const std::string wire = "set key1 0 0 10\r\n0123456789\r\n";
  for (size_t chunk = 1; chunk < 8; ++chunk) {
    EXPECT_EQ(Rewrite(wire, chunk), "set p:key1 0 0 10\r\n0123456789\r\n") << "chunk " << chunk;
  }
  const Request request = DecodeWire("get a\r\nget b\r\n");
  std::string out = "kept";
  EXPECT_TRUE(
      MemcacheCodec().RewriteKeys(request, StringBuffer("get a\r\nget b\r\n"), Prefix, &out));
  EXPECT_EQ(out, "keptget p:a\r\n");
  // Bytes that are not the decoded request.
  out.clear();
  EXPECT_FALSE(MemcacheCodec().RewriteKeys(request, StringBuffer("get"), Prefix, &out));
  EXPECT_FALSE(MemcacheCodec().RewriteKeys(request, StringBuffer("get a b\r\n"), Prefix, &out));
  EXPECT_EQ(out, "");
}

TEST(MemcacheRewriteKeysTest, RoundTripKeepsCommandAndMapsKeys) {
  const std::vector<std::string> wires = {
      "get a b c\r\n",
      "gat 5 a b\r\n",
      "set a 1 2 3\r\nabc\r\n",
      "cas a 0 0 1 5\r\nx\r\n",
      "incr a 1 noreply\r\n",
      "delete a\r\n",
      "mg a v\r\n",
      "ms a 2\r\nhi\r\n",
      "touch a 1\r\n",
  };
  for (const std::string& wire : wires) {
    SCOPED_TRACE(wire);
    const Request before = DecodeWire(wire);
    std::string rewritten;
    ASSERT_TRUE(MemcacheCodec().RewriteKeys(before, StringBuffer(wire), Prefix, &rewritten));
    const Request after = DecodeWire(rewritten);
    EXPECT_EQ(after.command, before.command);
    EXPECT_EQ(after.kind, before.kind);
    EXPECT_EQ(after.expects_reply, before.expects_reply);
    EXPECT_EQ(after.wire_size, rewritten.size());
    ASSERT_EQ(after.KeyCount(), before.KeyCount());
    for (size_t i = 0; i < before.KeyCount(); ++i) {
      EXPECT_EQ(after.Key(i), Prefix(before.Key(i)));
    }
  }
}

TEST(MemcacheRewriteKeysTest, SplitOfARewrittenGatReadsTheExptimeFromTheRewrite) {
  Request request = DecodeWire("gat 100 a b\r\n");
  ASSERT_EQ(request.kind, CommandKind::kMultiKey);
  // What key_prefix does: prefixed args, then the whole rewritten request in `rewritten`.
  std::string rewritten;
  ASSERT_TRUE(
      MemcacheCodec().RewriteKeys(request, StringBuffer("gat 100 a b\r\n"), Prefix, &rewritten));
  request.args.Set(0, "p:a");
  request.args.Set(1, "p:b");
  request.rewritten = rewritten;
  request.has_rewrite = true;
  const std::vector<Fragment> fragments = MemcacheCodec().Split(request, {1, 0});
  ASSERT_EQ(fragments.size(), 2u);
  EXPECT_EQ(fragments[0].bytes, "gat 100 p:b\r\n");
  EXPECT_EQ(fragments[1].bytes, "gat 100 p:a\r\n");
}

TEST(MemcacheRewriteReplyKeysTest, ValueLines) {
  EXPECT_EQ(RewriteReply("get a b\r\n",
                         "VALUE p:a 0 1\r\nx\r\nVALUE p:b 5 11 77\r\nVALUE p:b 0\r\nEND\r\n"),
            "VALUE a 0 1\r\nx\r\nVALUE b 5 11 77\r\nVALUE p:b 0\r\nEND\r\n");
  EXPECT_EQ(RewriteReply("gets a\r\n", "VALUE p:a 0 2 1\r\nab\r\nEND\r\n"),
            "VALUE a 0 2 1\r\nab\r\nEND\r\n");
  EXPECT_EQ(RewriteReply("gat 1 a\r\n", "VALUE p:a 0 0\r\n\r\nEND\r\n"),
            "VALUE a 0 0\r\n\r\nEND\r\n");
  // Nothing to rewrite, or not a retrieval reply.
  EXPECT_EQ(RewriteReply("get a\r\n", "END\r\n"), "<false>");
  EXPECT_EQ(RewriteReply("get a\r\n", "SERVER_ERROR out of memory\r\n"), "<false>");
  EXPECT_EQ(RewriteReply("get a\r\n", "VALUE p:a 0 5\r\nx\r\nEND\r\n"), "<false>");  // truncated
  EXPECT_EQ(RewriteReply("set a 0 0 1\r\nx\r\n", "STORED\r\n"), "<false>");
  EXPECT_EQ(RewriteReply("incr a 1\r\n", "2\r\n"), "<false>");
}

TEST(MemcacheRewriteReplyKeysTest, MetaReturnedKeys) {
  EXPECT_EQ(RewriteReply("mg a k v\r\n", "VA 2 kp:a\r\nhi\r\n"), "VA 2 ka\r\nhi\r\n");
  EXPECT_EQ(RewriteReply("mg a k O9\r\n", "HD O9 kp:a\r\n"), "HD O9 ka\r\n");
  EXPECT_EQ(RewriteReply("md a k\r\n", "NF kp:a\r\n"), "NF ka\r\n");
  EXPECT_EQ(RewriteReply("ms a 1 k\r\nx\r\n", "HD kp:a\r\n"), "HD ka\r\n");
  const std::string encoded = absl::Base64Escape("p:bin");
  EXPECT_EQ(RewriteReply("mg Ymlu b k\r\n", absl::StrCat("HD k", encoded, " b\r\n")),
            absl::StrCat("HD k", absl::Base64Escape("bin"), " b\r\n"));
  EXPECT_EQ(RewriteReply("me a\r\n", "ME p:a exp=-1 la=3 cas=2 fetch=no cls=1 size=63\r\n"),
            "ME a exp=-1 la=3 cas=2 fetch=no cls=1 size=63\r\n");
  // No key in the reply.
  EXPECT_EQ(RewriteReply("mg a v\r\n", "VA 2 t-1\r\nhi\r\n"), "<false>");
  EXPECT_EQ(RewriteReply("mg a\r\n", "EN\r\n"), "<false>");
  EXPECT_EQ(RewriteReply("mg a v\r\n", "HD\r\n"), "<false>");
  EXPECT_EQ(RewriteReply("mg a\r\n", "CLIENT_ERROR bad command line format\r\n"), "<false>");
}

}  // namespace
}  // namespace proxy::protocols::memcache::test

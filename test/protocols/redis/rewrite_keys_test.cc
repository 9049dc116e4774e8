// Tests of RedisCodec::RewriteKeys / RewriteReplyKeys (used by key-rewriting filters such as
// key_prefix): every key rule of the command table, inline and array requests, blank lines,
// binary keys, chunked buffers, and a decode → rewrite → decode round trip over many commands.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "protocols/redis/redis_codec.h"
#include "test/fakes/string_buffer.h"

namespace proxy::protocols::redis::test {
namespace {

using proxy::test::StringBuffer;

std::string Bulk(absl::string_view s) { return absl::StrCat("$", s.size(), "\r\n", s, "\r\n"); }

std::string Resp(const std::vector<std::string>& args) {
  std::string out = absl::StrCat("*", args.size(), "\r\n");
  for (const std::string& arg : args) out += Bulk(arg);
  return out;
}

std::string Prefix(absl::string_view key) { return absl::StrCat("p:", key); }

// Decodes the first request of `wire` (which must be complete).
Request DecodeWire(absl::string_view wire) {
  RedisCodec codec("", 0);
  RequestDecoderPtr decoder = codec.NewRequestDecoder(DecoderLimits());
  StringBuffer buffer(wire);
  Request request;
  std::string error;
  EXPECT_EQ(decoder->Decode(buffer, &request, &error), DecodeResult::kMessage) << error;
  return request;
}

// Decodes `wire`, rewrites it with Prefix() from a buffer cut in `chunk`-byte slices and returns
// the rewritten bytes ("<false>" when RewriteKeys refused).
std::string Rewrite(absl::string_view wire, size_t chunk = 0) {
  const Request request = DecodeWire(wire);
  RedisCodec codec("", 0);
  StringBuffer buffer(wire, chunk);
  std::string out;
  if (!codec.RewriteKeys(request, buffer, Prefix, &out)) return "<false>";
  return out;
}

TEST(RedisRewriteKeysTest, SingleKeyCommands) {
  EXPECT_EQ(Rewrite(Resp({"GET", "k"})), Resp({"GET", "p:k"}));
  EXPECT_EQ(Rewrite(Resp({"set", "k", "k", "EX", "10"})), Resp({"set", "p:k", "k", "EX", "10"}));
  EXPECT_EQ(Rewrite(Resp({"INCR", "counter"})), Resp({"INCR", "p:counter"}));
  EXPECT_EQ(Rewrite(Resp({"EXPIRE", "k", "100", "NX"})), Resp({"EXPIRE", "p:k", "100", "NX"}));
  EXPECT_EQ(Rewrite(Resp({"HSET", "h", "f", "v", "f2", "v2"})),
            Resp({"HSET", "p:h", "f", "v", "f2", "v2"}));
  EXPECT_EQ(Rewrite(Resp({"GET", ""})), Resp({"GET", "p:"}));
}

TEST(RedisRewriteKeysTest, BinaryKeysAndValuesKeepTheirBytes) {
  const std::string key("a\r\n\0b", 5);
  const std::string value("\r\n*1\r\n$3\r\n", 11);
  EXPECT_EQ(Rewrite(Resp({"SET", key, value})), Resp({"SET", "p:" + key, value}));
}

TEST(RedisRewriteKeysTest, SplitCommandsMapEveryKey) {
  EXPECT_EQ(Rewrite(Resp({"MGET", "a", "b", "a"})), Resp({"MGET", "p:a", "p:b", "p:a"}));
  EXPECT_EQ(Rewrite(Resp({"DEL", "a", "b"})), Resp({"DEL", "p:a", "p:b"}));
  EXPECT_EQ(Rewrite(Resp({"EXISTS", "a"})), Resp({"EXISTS", "p:a"}));
  EXPECT_EQ(Rewrite(Resp({"UNLINK", "a", "b"})), Resp({"UNLINK", "p:a", "p:b"}));
  EXPECT_EQ(Rewrite(Resp({"TOUCH", "a", "b"})), Resp({"TOUCH", "p:a", "p:b"}));
  // MSET: keys only, never the values (even when a value looks like a key).
  EXPECT_EQ(Rewrite(Resp({"MSET", "a", "b", "b", "a"})), Resp({"MSET", "p:a", "b", "p:b", "a"}));
}

TEST(RedisRewriteKeysTest, RangeCommandsMapTheirKeyRange) {
  EXPECT_EQ(Rewrite(Resp({"SINTER", "a", "b", "c"})), Resp({"SINTER", "p:a", "p:b", "p:c"}));
  EXPECT_EQ(Rewrite(Resp({"RPOPLPUSH", "a", "b"})), Resp({"RPOPLPUSH", "p:a", "p:b"}));
  EXPECT_EQ(Rewrite(Resp({"LMOVE", "a", "b", "LEFT", "RIGHT"})),
            Resp({"LMOVE", "p:a", "p:b", "LEFT", "RIGHT"}));
  EXPECT_EQ(Rewrite(Resp({"BITOP", "AND", "d", "a", "b"})),
            Resp({"BITOP", "AND", "p:d", "p:a", "p:b"}));
  EXPECT_EQ(Rewrite(Resp({"MSETNX", "a", "1", "b", "2"})),
            Resp({"MSETNX", "p:a", "1", "p:b", "2"}));
  EXPECT_EQ(Rewrite(Resp({"RENAME", "a", "b"})), Resp({"RENAME", "p:a", "p:b"}));
  EXPECT_EQ(Rewrite(Resp({"ZRANGESTORE", "d", "s", "0", "-1"})),
            Resp({"ZRANGESTORE", "p:d", "p:s", "0", "-1"}));
}

TEST(RedisRewriteKeysTest, NumkeysCommandsMapCountedKeysOnly) {
  EXPECT_EQ(Rewrite(Resp({"EVAL", "return KEYS[1]", "1", "k", "k"})),
            Resp({"EVAL", "return KEYS[1]", "1", "p:k", "k"}));
  EXPECT_EQ(Rewrite(Resp({"EVALSHA", "abc", "2", "a", "b", "arg"})),
            Resp({"EVALSHA", "abc", "2", "p:a", "p:b", "arg"}));
  EXPECT_EQ(Rewrite(Resp({"ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"})),
            Resp({"ZUNIONSTORE", "p:d", "2", "p:a", "p:b", "WEIGHTS", "1", "2"}));
  EXPECT_EQ(Rewrite(Resp({"ZINTER", "2", "a", "b", "WITHSCORES"})),
            Resp({"ZINTER", "2", "p:a", "p:b", "WITHSCORES"}));
  EXPECT_EQ(Rewrite(Resp({"SINTERCARD", "2", "a", "b", "LIMIT", "1"})),
            Resp({"SINTERCARD", "2", "p:a", "p:b", "LIMIT", "1"}));
}

TEST(RedisRewriteKeysTest, InlineRequestsBecomeArrays) {
  EXPECT_EQ(Rewrite("get k\r\n"), Resp({"get", "p:k"}));
  EXPECT_EQ(Rewrite("SET k \"a b\\r\\n\"\n"), Resp({"SET", "p:k", "a b\r\n"}));
  EXPECT_EQ(Rewrite("  MGET 'x y'   z  \r\n"), Resp({"MGET", "p:x y", "p:z"}));
  // Blank lines before a request belong to its wire bytes; they are dropped.
  EXPECT_EQ(Rewrite("\r\n   \r\nGET k\r\n"), Resp({"GET", "p:k"}));
  EXPECT_EQ(Rewrite("\r\n\n" + Resp({"GET", "k"})), Resp({"GET", "p:k"}));
}

TEST(RedisRewriteKeysTest, ChunkedBuffersAndFollowingBytes) {
  const std::string wire = Resp({"MSET", "key1", "value1", "key2", "value2"});
  for (size_t chunk = 1; chunk < 8; ++chunk) {
    EXPECT_EQ(Rewrite(wire, chunk), Resp({"MSET", "p:key1", "value1", "p:key2", "value2"}))
        << "chunk " << chunk;
  }
  // Only [0, wire_size) is the request: a pipelined next request is not touched.
  const std::string first = Resp({"GET", "a"});
  const Request request = DecodeWire(first + Resp({"GET", "b"}));
  ASSERT_EQ(request.wire_size, first.size());
  StringBuffer buffer(first + Resp({"GET", "b"}));
  std::string out = "kept";
  EXPECT_TRUE(RedisCodec("", 0).RewriteKeys(request, buffer, Prefix, &out));
  EXPECT_EQ(out, "kept" + Resp({"GET", "p:a"}));
}

TEST(RedisRewriteKeysTest, PlaceholderCommandsAreUnchanged) {
  // An inline command is never forwarded as typed: its canonical RESP form is.
  EXPECT_EQ(Rewrite("COMMAND\r\n"), Resp({"COMMAND"}));
  EXPECT_EQ(Rewrite(Resp({"LOLWUT", "VERSION", "5"})), Resp({"LOLWUT", "VERSION", "5"}));
  EXPECT_EQ(Rewrite(Resp({"COMMAND", "INFO", "GET"})), Resp({"COMMAND", "INFO", "GET"}));
}

TEST(RedisRewriteKeysTest, RefusesWhatItCannotMap) {
  EXPECT_EQ(Rewrite(Resp({"KEYS", "*"})), "<false>");
  EXPECT_EQ(Rewrite(Resp({"NOSUCHCOMMAND", "a"})), "<false>");
  EXPECT_EQ(Rewrite(Resp({"PING"})), "<false>");
  // Bytes that are not the decoded request (too short, or another command's keys).
  const Request request = DecodeWire(Resp({"GET", "k"}));
  std::string out;
  EXPECT_FALSE(RedisCodec("", 0).RewriteKeys(request, StringBuffer("*2\r\n$3"), Prefix, &out));
  Request wrong = request;
  wrong.wire_size = Resp({"MGET", "a", "b"}).size();
  EXPECT_FALSE(
      RedisCodec("", 0).RewriteKeys(wrong, StringBuffer(Resp({"MGET", "a", "b"})), Prefix, &out));
  EXPECT_EQ(out, "");
}

TEST(RedisRewriteKeysTest, RepliesCarryNoKeys) {
  const Request request = DecodeWire(Resp({"MGET", "a"}));
  std::string out;
  EXPECT_FALSE(RedisCodec("", 0).RewriteReplyKeys(request, "*1\r\n$1\r\nx\r\n", Prefix, &out));
  EXPECT_EQ(out, "");
}

// decode → rewrite → decode: same command, same key count, every key mapped, other arguments
// kept (compared through a second rewrite with the identity map).
TEST(RedisRewriteKeysTest, RoundTripOverManyCommands) {
  const std::vector<std::vector<std::string>> commands = {
      {"GET", "a"},
      {"SET", "a", "v", "PX", "100", "NX"},
      {"GETEX", "a", "PERSIST"},
      {"HMGET", "h", "f1", "f2"},
      {"LPUSH", "l", "1", "2", "3"},
      {"ZADD", "z", "1", "m"},
      {"SMOVE", "s1", "s2", "m"},
      {"COPY", "a", "b", "REPLACE"},
      {"GEOSEARCHSTORE", "d", "s", "FROMMEMBER", "m", "BYRADIUS", "1", "km"},
      {"PFCOUNT", "h1", "h2", "h3"},
      {"PFMERGE", "d", "h1"},
      {"SDIFFSTORE", "d", "a", "b"},
      {"ZDIFFSTORE", "d", "2", "a", "b"},
      {"ZINTERCARD", "1", "a"},
      {"MGET", "a", "b", "c", "d"},
      {"MSET", "a", "1", "b", "2", "c", "3"},
      {"DEL", "x"},
      {"EVAL", "return 1", "3", "a", "b", "c", "x", "y"},
      {"RESTORE", "k", "0", "payload", "REPLACE"},
  };
  RedisCodec codec("", 0);
  for (const std::vector<std::string>& args : commands) {
    SCOPED_TRACE(absl::StrJoin(args, " "));
    const std::string wire = Resp(args);
    const Request before = DecodeWire(wire);
    std::string rewritten;
    ASSERT_TRUE(codec.RewriteKeys(before, StringBuffer(wire), Prefix, &rewritten));
    const Request after = DecodeWire(rewritten);
    EXPECT_EQ(after.command, before.command);
    EXPECT_EQ(after.wire_size, rewritten.size());
    ASSERT_EQ(after.KeyCount(), before.KeyCount());
    for (size_t i = 0; i < before.KeyCount(); ++i) {
      EXPECT_EQ(after.Key(i), Prefix(before.Key(i))) << "key " << i;
    }
    std::string identity;
    ASSERT_TRUE(codec.RewriteKeys(
        before, StringBuffer(wire), [](absl::string_view key) { return std::string(key); },
        &identity));
    EXPECT_EQ(identity, wire);
  }
}

}  // namespace
}  // namespace proxy::protocols::redis::test

// Tests of the memcache codec: registration, error encoding, and splitting and merging of
// multi-key retrievals (get/gets/gat/gats), including 1,000 keys over 4 servers.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/registry.h"
#include "gtest/gtest.h"
#include "protocols/memcache/memcache_codec.h"
#include "test/fakes/string_buffer.h"

namespace proxy::protocols::memcache::test {
namespace {

Request Decode(absl::string_view line) {
  MemcacheCodec codec;
  RequestDecoderPtr decoder = codec.NewRequestDecoder(DecoderLimits());
  proxy::test::StringBuffer buffer(absl::StrCat(line, "\r\n"));
  Request request;
  std::string error;
  EXPECT_EQ(decoder->Decode(buffer, &request, &error), DecodeResult::kMessage) << error;
  return request;
}

std::string Value(absl::string_view key, absl::string_view data, absl::string_view cas = "") {
  return absl::StrCat("VALUE ", key, " 0 ", data.size(), cas.empty() ? "" : " ", cas, "\r\n", data,
                      "\r\n");
}

TEST(MemcacheCodecTest, RegisteredAsMemcache) {
  const CodecFactory* factory = Registry<CodecFactory>::Find("memcache");
  ASSERT_NE(factory, nullptr);
  EXPECT_EQ(factory->Name(), "memcache");
  EXPECT_FALSE(factory->Description().empty());
  EXPECT_EQ(factory->Description().find('\n'), absl::string_view::npos);
  config::v1::Pool pool;
  pool.set_protocol("memcache");
  // A pool made in code: no key counts as written, only the values are checked.
  struct Unwritten final : PoolSourceView {
    bool Written(absl::string_view) const override { return false; }
    std::vector<std::string> Names(absl::string_view) const override { return {}; }
    int Line(absl::string_view, int, int) const override { return 0; }
  };
  EXPECT_TRUE(factory->ValidatePool(pool, Unwritten()).empty());
  CodecPtr codec = factory->Create(pool);
  ASSERT_NE(codec, nullptr);
  EXPECT_TRUE(codec->ServerHandshake().empty());
  EXPECT_NE(codec->NewRequestDecoder(DecoderLimits()), nullptr);
  EXPECT_NE(codec->NewReplyDecoder(DecoderLimits()), nullptr);
  EXPECT_NE(codec->NewSession(), nullptr);
}

TEST(MemcacheCodecTest, EncodeErrorUsesServerErrorUnlessTheTextIsAReplyLine) {
  MemcacheCodec codec;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Connection refused", "SERVER_ERROR Connection refused\r\n"},
      {"unsupported command 'stats': it addresses one server",
       "SERVER_ERROR unsupported command 'stats': it addresses one server\r\n"},
      {"ERROR", "ERROR\r\n"},
      {"CLIENT_ERROR bad data chunk", "CLIENT_ERROR bad data chunk\r\n"},
      {"SERVER_ERROR object too large", "SERVER_ERROR object too large\r\n"},
      {"ERRORS", "SERVER_ERROR ERRORS\r\n"},
      {"CLIENT_ERROR", "SERVER_ERROR CLIENT_ERROR\r\n"},
      {"a\r\nb", "SERVER_ERROR a  b\r\n"},
      {"CLIENT_ERROR x\r\nSTORED", "CLIENT_ERROR x  STORED\r\n"},
      {"", ""},  // noreply: nothing at all
  };
  for (const auto& [text, expected] : cases) {
    std::string out = "STORED\r\n";
    codec.EncodeError(text, &out);
    EXPECT_EQ(out, "STORED\r\n" + expected) << text;
  }
}

TEST(MemcacheCodecTest, SplitsGetAcrossThreeServersInServerOrder) {
  MemcacheCodec codec;
  const Request request = Decode("get k1 k2 k1 k3 k4 k5");
  const std::vector<Fragment> fragments = codec.Split(request, {2, 0, 2, 1, 0, 2});
  ASSERT_EQ(fragments.size(), 3u);
  EXPECT_EQ(fragments[0].server, 0u);
  EXPECT_EQ(fragments[0].keys, (std::vector<uint32_t>{1, 4}));
  EXPECT_EQ(fragments[0].bytes, "get k2 k4\r\n");
  EXPECT_EQ(fragments[1].server, 1u);
  EXPECT_EQ(fragments[1].keys, (std::vector<uint32_t>{3}));
  EXPECT_EQ(fragments[1].bytes, "get k3\r\n");
  EXPECT_EQ(fragments[2].server, 2u);
  EXPECT_EQ(fragments[2].keys, (std::vector<uint32_t>{0, 2, 5}));
  EXPECT_EQ(fragments[2].bytes, "get k1 k1 k5\r\n");

  // k4 and k5 are missing; k1 was asked twice and comes back twice, in request order.
  const std::vector<std::string> replies = {
      Value("k2", "v2") + "END\r\n",
      Value("k3", "v3") + "END\r\n",
      Value("k1", "v1") + Value("k1", "v1") + "END\r\n",
  };
  std::string out = "prefix";
  ASSERT_TRUE(codec.Merge(request, fragments, replies, &out));
  EXPECT_EQ(out, "prefix" + Value("k1", "v1") + Value("k2", "v2") + Value("k1", "v1") +
                     Value("k3", "v3") + "END\r\n");
}

TEST(MemcacheCodecTest, MergeEmitsValuesInRequestOrderWhereTwemproxyReorders) {
  // twemproxy answered `get nokey1 alpha nokey2 bravo charlie` with charlie, alpha,
  // bravo. Here every value follows its key's position in the request.
  MemcacheCodec codec;
  const Request request = Decode("get nokey1 alpha nokey2 bravo charlie");
  const std::vector<Fragment> fragments = codec.Split(request, {0, 0, 0, 0, 1});
  ASSERT_EQ(fragments.size(), 2u);
  const std::vector<std::string> replies = {
      Value("bravo", "b") + Value("alpha", "a") + "END\r\n",  // matched by key, not position
      Value("charlie", "c") + "END\r\n",
  };
  std::string out;
  ASSERT_TRUE(codec.Merge(request, fragments, replies, &out));
  EXPECT_EQ(out, Value("alpha", "a") + Value("bravo", "b") + Value("charlie", "c") + "END\r\n");
}

TEST(MemcacheCodecTest, MergeMatchesInOrderRepliesByOneScanAndRefusesForeignOrExtraKeys) {
  MemcacheCodec codec;
  const Request request = Decode("get a b a c d");
  const std::vector<Fragment> fragments = codec.Split(request, {0, 0, 0, 1, 0});
  ASSERT_EQ(fragments.size(), 2u);
  std::string out;
  // In memcached's order (misses left out), and out of it: the same merge.
  for (const std::string& first :
       {Value("a", "1") + Value("a", "1") + Value("d", "4") + "END\r\n",
        Value("d", "4") + Value("a", "1") + Value("a", "1") + "END\r\n"}) {
    out.clear();
    ASSERT_TRUE(codec.Merge(request, fragments, {first, Value("c", "3") + "END\r\n"}, &out));
    EXPECT_EQ(out, Value("a", "1") + Value("a", "1") + Value("c", "3") + Value("d", "4") +
                       "END\r\n");
  }
  // A key the fragment did not ask for, or more often than asked: not merged.
  EXPECT_FALSE(codec.Merge(request, fragments,
                           {Value("c", "3") + "END\r\n", Value("c", "3") + "END\r\n"}, &out));
  EXPECT_FALSE(codec.Merge(
      request, fragments,
      {Value("a", "1") + Value("a", "1") + Value("a", "1") + "END\r\n", "END\r\n"}, &out));
  EXPECT_FALSE(codec.Merge(request, fragments,
                           {Value("b", "2") + Value("b", "2") + "END\r\n", "END\r\n"}, &out));
}

TEST(MemcacheCodecTest, GatAndGatsCarryTheirExptimeIntoEveryFragment) {
  MemcacheCodec codec;
  for (const char* command : {"gat", "gats"}) {
    SCOPED_TRACE(command);
    const Request request = Decode(absl::StrCat(command, " -1 a b c"));
    EXPECT_FALSE(request.has_rewrite);
    const std::vector<Fragment> fragments = codec.Split(request, {3, 1, 3});
    ASSERT_EQ(fragments.size(), 2u);
    EXPECT_EQ(fragments[0].server, 1u);
    EXPECT_EQ(fragments[0].bytes, absl::StrCat(command, " -1 b\r\n"));
    EXPECT_EQ(fragments[1].server, 3u);
    EXPECT_EQ(fragments[1].bytes, absl::StrCat(command, " -1 a c\r\n"));
    const std::vector<std::string> replies = {
        "END\r\n", Value("c", "3", "12") + Value("a", "1", "10") + "END\r\n"};
    std::string out;
    ASSERT_TRUE(codec.Merge(request, fragments, replies, &out));
    EXPECT_EQ(out, Value("a", "1", "10") + Value("c", "3", "12") + "END\r\n");
  }
}

TEST(MemcacheCodecTest, NoSplitWhenAllKeysShareAServerOrTheRequestIsNotAMultiGet) {
  MemcacheCodec codec;
  EXPECT_TRUE(codec.Split(Decode("get a b c"), {4, 4, 4}).empty());
  EXPECT_TRUE(codec.Split(Decode("get a"), {1}).empty());
  EXPECT_TRUE(codec.Split(Decode("gat 1 a"), {1}).empty());
  EXPECT_TRUE(codec.Split(Decode("delete a"), {0}).empty());
  EXPECT_TRUE(codec.Split(Decode("get a b"), {0}).empty());  // wrong key_servers size
  Request request = Decode("gat 10 a b");
  request.rewritten.clear();  // not decoded by this codec: no exptime to carry
  EXPECT_TRUE(codec.Split(request, {0, 1}).empty());
}

TEST(MemcacheCodecTest, MergesAThousandKeysOverFourServersInRequestOrder) {
  MemcacheCodec codec;
  // Keys 0..899, then 100 repeats of earlier keys; every third key is missing.
  std::vector<int> ids;
  for (int i = 0; i < 900; ++i) {
    ids.push_back(i);
  }
  for (int i = 0; i < 100; ++i) {
    ids.push_back((i * 37) % 900);
  }
  std::string line = "gets";
  for (const int id : ids) {
    absl::StrAppend(&line, " key:", id);
  }
  const Request request = Decode(line);
  ASSERT_EQ(request.kind, CommandKind::kMultiKey);
  ASSERT_EQ(request.KeyCount(), 1000u);
  std::vector<uint32_t> servers;
  for (const int id : ids) {
    servers.push_back(static_cast<uint32_t>((id * 2654435761u) >> 30));  // 0..3
  }
  const std::vector<Fragment> fragments = codec.Split(request, servers);
  ASSERT_EQ(fragments.size(), 4u);
  auto value_of = [](int id) {
    return Value(absl::StrCat("key:", id), absl::StrCat("value ", id, "\r\nEND"),
                 absl::StrCat(id + 1000));
  };
  std::vector<std::string> replies;
  size_t keys_in_fragments = 0;
  for (size_t f = 0; f < fragments.size(); ++f) {
    EXPECT_EQ(fragments[f].server, f);
    keys_in_fragments += fragments[f].keys.size();
    std::string expected_bytes = "gets";
    std::string reply;
    for (const uint32_t k : fragments[f].keys) {
      EXPECT_EQ(servers[k], f);
      absl::StrAppend(&expected_bytes, " key:", ids[k]);
      // memcached answers each occurrence of a found key.
      if (ids[k] % 3 != 0) {
        reply += value_of(ids[k]);
      }
    }
    EXPECT_EQ(fragments[f].bytes, expected_bytes + "\r\n");
    replies.push_back(reply + "END\r\n");
  }
  EXPECT_EQ(keys_in_fragments, 1000u);
  std::string expected;
  for (const int id : ids) {
    if (id % 3 != 0) {
      expected += value_of(id);
    }
  }
  expected += "END\r\n";
  std::string out;
  ASSERT_TRUE(codec.Merge(request, fragments, replies, &out));
  EXPECT_EQ(out, expected);
}

TEST(MemcacheCodecTest, UnexpectedFragmentRepliesFailTheMerge) {
  MemcacheCodec codec;
  const Request request = Decode("get a b a c");
  const std::vector<Fragment> fragments = codec.Split(request, {0, 1, 0, 1});
  ASSERT_EQ(fragments.size(), 2u);
  const std::string ok_b = Value("b", "2") + "END\r\n";
  const std::vector<std::string> bad_first_replies = {
      "SERVER_ERROR out of memory\r\n",
      "ERROR\r\n",
      "",
      "END",
      "END\r\nEND\r\n",
      "END\r\nx",
      Value("a", "1"),               // no END
      Value("b", "2") + "END\r\n",   // b belongs to the other fragment
      Value("zz", "2") + "END\r\n",  // never requested
      Value("a", "1") + Value("a", "1") + Value("a", "1") + "END\r\n",  // asked twice only
      "VALUE a 0 5\r\n1\r\nEND\r\n",                                    // truncated data
      "VALUE a 0 1\r\n1xEND\r\n",                                       // data not followed by CRLF
      "VALUE a 0\r\n1\r\nEND\r\n",                                      // bad header
      "VALUE a 0 99999999999999999999\r\n1\r\nEND\r\n",                 // absurd size
      "VALUE a 0 1\r\n1\r\n",                                           // no END
  };
  for (const std::string& bad : bad_first_replies) {
    std::string out = "untouched";
    EXPECT_FALSE(codec.Merge(request, fragments, {bad, ok_b}, &out)) << bad;
    EXPECT_EQ(out, "untouched");
  }
  std::string out;
  EXPECT_FALSE(codec.Merge(request, fragments, {"END\r\n"}, &out));  // one reply missing
  EXPECT_FALSE(codec.Merge(Decode("get a"), fragments, {"END\r\n", "END\r\n"}, &out));
  EXPECT_TRUE(codec.Merge(request, fragments, {"END\r\n", "END\r\n"}, &out));
  EXPECT_EQ(out, "END\r\n");
}

}  // namespace
}  // namespace proxy::protocols::memcache::test

namespace proxy::protocols::memcache {
namespace {

TEST(MemcacheUnsupportedReasonTest, ExplainsAdminCommands) {
  const CodecFactory* factory = Registry<CodecFactory>::Find("memcache");
  ASSERT_NE(factory, nullptr);
  config::v1::Pool pool;
  pool.set_protocol("memcache");
  CodecPtr codec = factory->Create(pool);
  EXPECT_EQ(codec->UnsupportedReason("flush_all"),
            "keys are spread over several servers; run it on each server directly");
  EXPECT_EQ(codec->UnsupportedReason("stats"),
            "it addresses one server, not the pool; run it on each server directly");
  EXPECT_EQ(codec->UnsupportedReason("get"), "");
}

}  // namespace
}  // namespace proxy::protocols::memcache

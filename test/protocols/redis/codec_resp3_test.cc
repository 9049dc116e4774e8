// Tests of the redis codec's RESP3 variant (handshake, reply decoder, MGET merge with RESP3
// nulls), the pin reset requests, and INFO: its split into one request per server and the
// merged document (MergeBroadcast) from INFO texts captured from real redis servers.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "protocols/redis/info.h"
#include "protocols/redis/redis_codec.h"
#include "test/fakes/string_buffer.h"
#include "test/protocols/redis/info_fixtures.h"

namespace proxy::protocols::redis::test {
namespace {

Request Decode(absl::string_view line) {
  RedisCodec codec("", 0);
  RequestDecoderPtr decoder = codec.NewRequestDecoder(DecoderLimits());
  proxy::test::StringBuffer buffer(absl::StrCat(line, "\r\n"));
  Request request;
  std::string error;
  EXPECT_EQ(decoder->Decode(buffer, &request, &error), DecodeResult::kMessage) << error;
  return request;
}

std::string Bulk(absl::string_view s) { return absl::StrCat("$", s.size(), "\r\n", s, "\r\n"); }

std::string Verbatim(absl::string_view s) {
  return absl::StrCat("=", s.size() + 4, "\r\ntxt:", s, "\r\n");
}

TEST(RedisCodecVariantTest, Resp3SiblingIsOwnedAndPointsBack) {
  RedisCodec codec("pw", 3);
  EXPECT_EQ(codec.Variant(0), &codec);
  const Codec* resp3 = codec.Variant(1);
  ASSERT_NE(resp3, nullptr);
  EXPECT_NE(resp3, &codec);
  EXPECT_EQ(resp3->Variant(0), &codec);
  EXPECT_EQ(resp3->Variant(1), resp3);
  EXPECT_EQ(codec.Variant(2), nullptr);
  EXPECT_EQ(resp3->Variant(7), nullptr);
  EXPECT_EQ(codec.protocol(), 2);
  EXPECT_EQ(static_cast<const RedisCodec*>(resp3)->protocol(), 3);
  // AUTH first, then HELLO 3, then SELECT.
  EXPECT_EQ(resp3->ServerHandshake(),
            (std::vector<std::string>{"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n",
                                      "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n",
                                      "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n"}));
  EXPECT_EQ(RedisCodec("", 0).Variant(1)->ServerHandshake(),
            std::vector<std::string>{"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n"});
  // Sessions of either start in RESP2.
  EXPECT_EQ(resp3->NewSession()->Variant(), 0);
  EXPECT_EQ(codec.NewSession()->Variant(), 0);
}

TEST(RedisCodecVariantTest, ReplyDecodersFollowTheVariant) {
  RedisCodec codec("", 0);
  proxy::test::StringBuffer hello(
      "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n"
      ":3\r\n$2\r\nid\r\n:13\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster"
      "\r\n$7\r\nmodules\r\n*0\r\n");
  Reply reply;
  std::string error;
  EXPECT_EQ(codec.Variant(1)->NewReplyDecoder(DecoderLimits())->Decode(hello, &reply, &error),
            DecodeResult::kMessage);
  EXPECT_EQ(reply.wire_size, hello.Length());
  EXPECT_EQ(codec.NewReplyDecoder(DecoderLimits())->Decode(hello, &reply, &error),
            DecodeResult::kProtocolError);
}

TEST(RedisCodecVariantTest, Resp3MgetMergeKeepsNulls) {
  RedisCodec codec("", 0);
  const Codec& resp3 = *codec.Variant(1);
  const Request request = Decode("MGET a b c d");
  const std::vector<Fragment> fragments = resp3.Split(request, {0, 1, 2, 0});
  ASSERT_EQ(fragments.size(), 3u);
  const std::vector<std::string> replies = {
      "*2\r\n$2\r\nva\r\n_\r\n",
      "*1\r\n_\r\n",
      "*1\r\n$0\r\n\r\n",
  };
  std::string out;
  ASSERT_TRUE(resp3.Merge(request, fragments, replies, &out));
  EXPECT_EQ(out, "*4\r\n$2\r\nva\r\n_\r\n$0\r\n\r\n_\r\n");
  // A RESP2 connection never sends "_": the RESP2 codec refuses it.
  out = "untouched";
  EXPECT_FALSE(codec.Merge(request, fragments, replies, &out));
  EXPECT_EQ(out, "untouched");
  // Other RESP3 types are not MGET elements.
  EXPECT_FALSE(resp3.Merge(request, fragments,
                           {"*2\r\n$2\r\nva\r\n#t\r\n", "*1\r\n_\r\n", "*1\r\n_\r\n"}, &out));
  EXPECT_FALSE(resp3.Merge(request, fragments,
                           {"*2\r\n$2\r\nva\r\n_x\r\n", "*1\r\n_\r\n", "*1\r\n_\r\n"}, &out));
  // DEL/EXISTS sums and MSET's +OK are the same in RESP3.
  const Request del = Decode("DEL a b");
  const std::vector<Fragment> del_fragments = resp3.Split(del, {0, 1});
  out.clear();
  ASSERT_TRUE(resp3.Merge(del, del_fragments, {":1\r\n", ":0\r\n"}, &out));
  EXPECT_EQ(out, ":1\r\n");
}

TEST(RedisCodecVariantTest, PinResetRequestsAreDiscardThenUnwatch) {
  const std::vector<std::string> expected = {"*1\r\n$7\r\nDISCARD\r\n", "*1\r\n$7\r\nUNWATCH\r\n"};
  RedisCodec codec("", 0);
  EXPECT_EQ(codec.PinResetRequests(), expected);
  EXPECT_EQ(codec.Variant(1)->PinResetRequests(), expected);
}

TEST(RedisInfoTest, SplitAsksEachServerWhatTheDocumentNeeds) {
  RedisCodec codec("", 0);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"INFO keyspace", "*2\r\n$4\r\ninfo\r\n$8\r\nkeyspace\r\n"},
      {"INFO server", "*2\r\n$4\r\ninfo\r\n$6\r\nserver\r\n"},
      {"INFO persistence", "*2\r\n$4\r\ninfo\r\n$11\r\npersistence\r\n"},
      {"INFO clients stats", "*2\r\n$4\r\ninfo\r\n$6\r\nserver\r\n"},
      {"INFO nosuch", "*2\r\n$4\r\ninfo\r\n$6\r\nserver\r\n"},
      {"INFO", "*1\r\n$4\r\ninfo\r\n"},
      {"INFO server keyspace", "*1\r\n$4\r\ninfo\r\n"},
      {"INFO ALL", "*1\r\n$4\r\ninfo\r\n"},
  };
  for (const auto& [line, bytes] : cases) {
    const Request request = Decode(line);
    ASSERT_TRUE(request.broadcast) << line;
    const std::vector<Fragment> fragments = codec.Split(request, {0, 2, 5});
    ASSERT_EQ(fragments.size(), 3u) << line;
    EXPECT_EQ(fragments[0].server, 0u);
    EXPECT_EQ(fragments[1].server, 2u);
    EXPECT_EQ(fragments[2].server, 5u);
    for (const Fragment& fragment : fragments) {
      EXPECT_EQ(fragment.bytes, bytes) << line;
    }
    EXPECT_EQ(codec.Variant(1)->Split(request, {1}).size(), 1u);
  }
}

Codec::PoolFacts Facts() {
  Codec::PoolFacts facts;
  facts.pool = "alpha";
  facts.proxy_version = "1.2.3";
  facts.listen = "127.0.0.1:22121";
  facts.servers = 3;
  facts.servers_ejected = 1;
  facts.uptime_s = 200000;
  facts.client_connections = 17;
  facts.total_connections = 1234;
  facts.requests = 99999;
  facts.refused = 12;
  facts.workers = 2;
  facts.process_id = 4242;
  return facts;
}

std::string Merge(const Codec& codec, absl::string_view line,
                  const std::vector<std::string>& replies, bool* ok = nullptr) {
  const Request request = Decode(line);
  std::vector<uint32_t> servers;
  for (uint32_t i = 0; i < replies.size(); ++i) servers.push_back(i);
  const std::vector<Fragment> fragments = codec.Split(request, servers);
  std::string out;
  const bool merged = codec.MergeBroadcast(request, fragments, replies, Facts(), &out);
  if (ok != nullptr) *ok = merged;
  EXPECT_TRUE(ok != nullptr || merged) << line;
  return out;
}

const char kServerSection[] =
    "# Server\r\n"
    "redis_version:6.2.14\r\n"
    "redis_mode:standalone\r\n"
    "proxy:shardproxy\r\n"
    "proxy_version:1.2.3\r\n"
    "proxy_pool:alpha\r\n"
    "proxy_servers:3\r\n"
    "proxy_servers_ejected:1\r\n"
    "proxy_workers:2\r\n"
    "process_id:4242\r\n"
    "tcp_port:22121\r\n"
    "uptime_in_seconds:200000\r\n"
    "uptime_in_days:2\r\n";

const char kKeyspaceSection[] =
    "# Keyspace\r\n"
    "db0:keys=8,expires=2,avg_ttl=2776675\r\n"
    "db2:keys=2,expires=1,avg_ttl=0\r\n";

TEST(RedisInfoTest, MergedDocumentFromRealServerTexts) {
  RedisCodec codec("", 0);
  const std::vector<std::string> replies = {Bulk(Crlf(kServerA)), Bulk(Crlf(kServerB))};
  const std::string expected = absl::StrCat(
      kServerSection,
      "\r\n# Clients\r\nconnected_clients:17\r\nblocked_clients:0\r\n"
      "\r\n# Persistence\r\nloading:0\r\n"
      "\r\n# Stats\r\ntotal_connections_received:1234\r\ntotal_commands_processed:99999\r\n"
      "proxy_requests_refused:12\r\n"
      "\r\n# Replication\r\nrole:master\r\nconnected_slaves:0\r\n"
      "\r\n",
      kKeyspaceSection);
  EXPECT_EQ(Merge(codec, "INFO", replies), Bulk(expected));
  EXPECT_EQ(Merge(codec, "INFO default", replies), Bulk(expected));
  EXPECT_EQ(Merge(codec, "INFO everything", replies), Bulk(expected));
  EXPECT_EQ(Merge(codec, "INFO keyspace", replies), Bulk(kKeyspaceSection));
  EXPECT_EQ(Merge(codec, "INFO server", replies), Bulk(kServerSection));
  EXPECT_EQ(Merge(codec, "INFO KEYSPACE Server", replies),
            Bulk(absl::StrCat(kServerSection, "\r\n", kKeyspaceSection)));
  EXPECT_EQ(Merge(codec, "INFO replication", replies),
            Bulk("# Replication\r\nrole:master\r\nconnected_slaves:0\r\n"));
  // A section the proxy does not answer: redis's empty document.
  EXPECT_EQ(Merge(codec, "INFO memory", replies), "$0\r\n\r\n");
  // RESP3: the same document as a verbatim string, exactly as redis sends INFO.
  const std::vector<std::string> replies3 = {Verbatim(Crlf(kServerA)), Verbatim(Crlf(kServerB))};
  EXPECT_EQ(Merge(*codec.Variant(1), "INFO", replies3), Verbatim(expected));
  EXPECT_EQ(Merge(*codec.Variant(1), "INFO keyspace", replies3), Verbatim(kKeyspaceSection));
  EXPECT_EQ(Merge(*codec.Variant(1), "INFO nosuch", replies3), "=4\r\ntxt:\r\n");
}

TEST(RedisInfoTest, KeyspaceSectionsOnlyAndOneServer) {
  RedisCodec codec("", 0);
  // What servers answer to "INFO keyspace" (captured from redis 7.0.15).
  const std::vector<std::string> replies = {
      Bulk("# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=999387\r\ndb2:keys=1,expires=0,"
           "avg_ttl=0\r\n"),
      Bulk("# Keyspace\r\n"),  // an empty server
      Bulk("# Keyspace\r\ndb0:keys=5,expires=3,avg_ttl=1000\r\ndb1:keys=4,expires=0,"
           "avg_ttl=0,subexpiry=2\r\n"),
  };
  EXPECT_EQ(Merge(codec, "INFO keyspace", replies),
            Bulk("# Keyspace\r\ndb0:keys=7,expires=4,avg_ttl=250596\r\n"
                 "db1:keys=4,expires=0,avg_ttl=0,subexpiry=2\r\n"
                 "db2:keys=1,expires=0,avg_ttl=0\r\n"));
  EXPECT_EQ(Merge(codec, "INFO keyspace", {Bulk("# Keyspace\r\n")}), Bulk("# Keyspace\r\n"));
  // A unix-socket listener has no TCP port.
  Codec::PoolFacts facts = Facts();
  facts.listen = "/tmp/proxy.sock";
  const Request request = Decode("INFO server");
  const std::vector<Fragment> fragments = codec.Split(request, {0});
  std::string out;
  ASSERT_TRUE(codec.MergeBroadcast(request, fragments, {Bulk(Crlf(kServerA))}, facts, &out));
  EXPECT_NE(out.find("\r\ntcp_port:0\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\nredis_version:7.0.15\r\n"), std::string::npos) << out;
}

TEST(RedisInfoTest, LoadingIsTheHighestAmongTheServers) {
  RedisCodec codec("", 0);
  const std::vector<std::string> replies = {
      Bulk("# Persistence\r\nloading:0\r\nasync_loading:0\r\n"),
      Bulk("# Persistence\r\nloading:1\r\nasync_loading:0\r\nloading_eta_seconds:7\r\n"),
      Bulk("# Persistence\r\nloading:1\r\nloading_eta_seconds:3\r\n"),
  };
  EXPECT_EQ(Merge(codec, "INFO persistence", replies),
            Bulk("# Persistence\r\nloading:1\r\nloading_eta_seconds:7\r\n"));
}

TEST(RedisInfoTest, RepliesThatAreNotInfoTextsFailTheMerge) {
  RedisCodec codec("", 0);
  for (const std::vector<std::string>& replies : std::vector<std::vector<std::string>>{
           {Bulk("# Keyspace\r\n"), "-LOADING Redis is loading the dataset in memory\r\n"},
           {Bulk("# Keyspace\r\n"), "$5\r\nab\r\n"},
           {Bulk("# Keyspace\r\n"), ":1\r\n"},
           {Bulk("# Keyspace\r\n"), "=3\r\ntxt\r\n"},
           {Bulk("# Keyspace\r\n"), "$-1\r\n"},
       }) {
    bool ok = true;
    const std::string out = Merge(codec, "INFO keyspace", replies, &ok);
    EXPECT_FALSE(ok) << replies[1];
    EXPECT_EQ(out, "") << replies[1];
  }
  // Not a broadcast request: nothing to merge.
  std::string out;
  EXPECT_FALSE(codec.MergeBroadcast(Decode("GET a"), {}, {}, Facts(), &out));
}

}  // namespace
}  // namespace proxy::protocols::redis::test

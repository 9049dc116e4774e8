// Tests of the redis codec: registration, error encoding, server handshake, and splitting and
// merging of multi-key requests.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/registry.h"
#include "gtest/gtest.h"
#include "protocols/redis/command_table.h"
#include "protocols/redis/redis_codec.h"
#include "test/fakes/string_buffer.h"

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

TEST(RedisCodecTest, RegisteredAsRedis) {
  const CodecFactory* factory = Registry<CodecFactory>::Find("redis");
  ASSERT_NE(factory, nullptr);
  EXPECT_EQ(factory->Name(), "redis");
  EXPECT_FALSE(factory->Description().empty());
  EXPECT_EQ(factory->Description().find('\n'), absl::string_view::npos);
  config::v1::Pool pool;
  pool.set_redis_auth("pw");
  pool.set_redis_db(2);
  CodecPtr codec = factory->Create(pool);
  ASSERT_NE(codec, nullptr);
  EXPECT_EQ(codec->ServerHandshake(),
            (std::vector<std::string>{"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n",
                                      "*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n"}));
}

TEST(RedisCodecTest, ServerHandshakeSendsAuthBeforeSelect) {
  EXPECT_TRUE(RedisCodec("", 0).ServerHandshake().empty());
  EXPECT_EQ(RedisCodec("", 15).ServerHandshake(),
            std::vector<std::string>{"*2\r\n$6\r\nSELECT\r\n$2\r\n15\r\n"});
  EXPECT_EQ(RedisCodec("p w\r\n", 0).ServerHandshake(),
            std::vector<std::string>{"*2\r\n$4\r\nAUTH\r\n$5\r\np w\r\n\r\n"});
}

TEST(RedisCodecTest, RoleCheckWantsAMasterOrAReplicaByTheConnection) {
  RedisCodec codec("", 0, /*check_role=*/true);
  ASSERT_EQ(codec.ServerHandshake(), std::vector<std::string>{"*1\r\n$4\r\nROLE\r\n"});
  const std::string master = "*3\r\n$6\r\nmaster\r\n:10\r\n*0\r\n";
  const std::string replica =
      "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:6379\r\n$9\r\nconnected\r\n:10\r\n";
  EXPECT_TRUE(codec.CheckHandshakeReply(0, master, ServerRole::kMaster).ok());
  EXPECT_TRUE(codec.CheckHandshakeReply(0, replica, ServerRole::kReplica).ok());
  const absl::Status demoted = codec.CheckHandshakeReply(0, replica, ServerRole::kMaster);
  EXPECT_EQ(demoted.message(),
            "it is not a master (ROLE says 'slave'): no request is sent to it until Sentinel "
            "names it");
  const absl::Status promoted = codec.CheckHandshakeReply(0, master, ServerRole::kReplica);
  EXPECT_EQ(promoted.message(),
            "it is not a replica (ROLE says 'master'): no read is sent to it until Sentinel "
            "names it a replica again");
  // Without Sentinel there is no ROLE to check.
  EXPECT_TRUE(RedisCodec("", 0).CheckHandshakeReply(0, replica, ServerRole::kMaster).ok());
}

TEST(RedisCodecTest, AReplicaServesReadsOnlyWhileItsLinkToItsMasterIsUp) {
  RedisCodec codec("", 0);
  EXPECT_EQ(codec.ReplicaCheckRequest(), "*2\r\n$4\r\nINFO\r\n$11\r\nreplication\r\n");
  auto info = [](absl::string_view body) { return Bulk(body); };
  EXPECT_TRUE(codec
                  .CheckReplicaReply(info("# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1"
                                          "\r\nmaster_port:6379\r\nmaster_link_status:up\r\n"
                                          "master_last_io_seconds_ago:1\r\n"))
                  .ok());
  EXPECT_EQ(codec
                .CheckReplicaReply(info("# Replication\r\nrole:slave\r\n"
                                        "master_link_status:down\r\n"))
                .message(),
            "its link to its master is down (master_link_status:down): it may be behind");
  EXPECT_EQ(codec.CheckReplicaReply(info("# Replication\r\nrole:master\r\nconnected_slaves:0\r\n"))
                .message(),
            "it is not a replica (role:master)");
  EXPECT_EQ(codec.CheckReplicaReply(info("# Replication\r\nrole:slave\r\n")).message(),
            "its link to its master is down (master_link_status:missing): it may be behind");
  EXPECT_EQ(codec.CheckReplicaReply("$0\r\n\r\n").message(), "INFO replication has no role");
  // RESP3's verbatim string carries the same lines.
  EXPECT_TRUE(
      codec.CheckReplicaReply("=54\r\ntxt:# Replication\r\nrole:slave\r\nmaster_link_status:up\r\n\r\n")
          .ok());
}

TEST(RedisCodecTest, ClusterPoolsFollowMovedAndAskAndReadFromReplicasWithReadonly) {
  RedisCodec plain("", 0);
  EXPECT_FALSE(plain.FollowsRedirects());
  EXPECT_TRUE(plain.ReplicaHandshake().empty());
  RedisCodec cluster("", 0, /*check_role=*/false, /*cluster=*/true);
  EXPECT_TRUE(cluster.FollowsRedirects());
  EXPECT_TRUE(cluster.Variant(1)->FollowsRedirects());
  EXPECT_EQ(cluster.ReplicaHandshake(), std::vector<std::string>{"*1\r\n$8\r\nREADONLY\r\n"});
  EXPECT_EQ(cluster.AskingRequest(), "*1\r\n$6\r\nASKING\r\n");
  Codec::Redirect moved = cluster.ParseRedirect("-MOVED 3999 127.0.0.1:6381\r\n");
  EXPECT_EQ(moved.kind, Codec::Redirect::Kind::kMoved);
  EXPECT_EQ(moved.host, "127.0.0.1");
  EXPECT_EQ(moved.port, 6381u);
  Codec::Redirect ask = cluster.ParseRedirect("-ASK 0 ::1:7000\r\n");
  EXPECT_EQ(ask.kind, Codec::Redirect::Kind::kAsk);
  EXPECT_EQ(ask.host, "::1");
  EXPECT_EQ(ask.port, 7000u);
  EXPECT_EQ(cluster.ParseRedirect("-TRYAGAIN Multiple keys request during rehashing of slot\r\n")
                .kind,
            Codec::Redirect::Kind::kTryAgain);
  // Anything else is an ordinary error reply.
  for (const char* reply :
       {"-ERR MOVED 1 a:1\r\n", "-MOVED 16384 127.0.0.1:6381\r\n", "-MOVED 1 127.0.0.1\r\n",
        "-MOVED 1 :6381\r\n", "-MOVED 1 h:0\r\n", "-MOVED 1 h:65536\r\n", "-MOVED 1 h:1",
        "-ASK x h:1\r\n", "-CROSSSLOT Keys in request don't hash to the same slot\r\n"}) {
    EXPECT_EQ(cluster.ParseRedirect(reply).kind, Codec::Redirect::Kind::kNone) << reply;
  }
}

TEST(RedisCodecTest, EncodeErrorAlwaysUsesErr) {
  RedisCodec codec("", 0);
  std::string out = "+OK\r\n";
  codec.EncodeError("Connection refused", &out);
  EXPECT_EQ(out, "+OK\r\n-ERR Connection refused\r\n");
  out.clear();
  codec.EncodeError("unknown command 'a\r\nb'", &out);
  EXPECT_EQ(out, "-ERR unknown command 'a  b'\r\n");
}

TEST(RedisCodecTest, SplitsMgetAcrossThreeServersInServerOrder) {
  RedisCodec codec("", 0);
  const Request request = Decode("MGET k1 k2 k1 k3 k4 k5");
  const std::vector<Fragment> fragments = codec.Split(request, {2, 0, 2, 1, 0, 2});
  ASSERT_EQ(fragments.size(), 3u);
  EXPECT_EQ(fragments[0].server, 0u);
  EXPECT_EQ(fragments[0].keys, (std::vector<uint32_t>{1, 4}));
  EXPECT_EQ(fragments[0].bytes, "*3\r\n$4\r\nmget\r\n" + Bulk("k2") + Bulk("k4"));
  EXPECT_EQ(fragments[1].server, 1u);
  EXPECT_EQ(fragments[1].keys, (std::vector<uint32_t>{3}));
  EXPECT_EQ(fragments[1].bytes, "*2\r\n$4\r\nmget\r\n" + Bulk("k3"));
  EXPECT_EQ(fragments[2].server, 2u);
  EXPECT_EQ(fragments[2].keys, (std::vector<uint32_t>{0, 2, 5}));
  EXPECT_EQ(fragments[2].bytes, "*4\r\n$4\r\nmget\r\n" + Bulk("k1") + Bulk("k1") + Bulk("k5"));

  // Merged in the original order, duplicates included.
  const std::vector<std::string> replies = {
      "*2\r\n$2\r\nv2\r\n$-1\r\n",
      "*1\r\n$2\r\nv3\r\n",
      "*3\r\n$2\r\nv1\r\n$2\r\nv1\r\n$0\r\n\r\n",
  };
  std::string out = "prefix";
  ASSERT_TRUE(codec.Merge(request, fragments, replies, &out));
  EXPECT_EQ(out, "prefix*6\r\n$2\r\nv1\r\n$2\r\nv2\r\n$2\r\nv1\r\n$2\r\nv3\r\n$-1\r\n$0\r\n\r\n");
}

TEST(RedisCodecTest, NoSplitWhenAllKeysShareAServerOrTheCommandIsNotSplit) {
  RedisCodec codec("", 0);
  EXPECT_TRUE(codec.Split(Decode("MGET a b c"), {4, 4, 4}).empty());
  EXPECT_TRUE(codec.Split(Decode("DEL a"), {1}).empty());
  EXPECT_TRUE(codec.Split(Decode("SINTER a b"), {0, 1}).empty());
  EXPECT_TRUE(codec.Split(Decode("GET a"), {0}).empty());
  EXPECT_TRUE(codec.Split(Decode("MGET a b"), {0}).empty());  // wrong key_servers size
}

TEST(RedisCodecTest, SplitsDelUnlinkTouchExistsAndSumsTheirReplies) {
  RedisCodec codec("", 0);
  for (const char* command : {"del", "unlink", "touch", "exists"}) {
    SCOPED_TRACE(command);
    const Request request = Decode(absl::StrCat(command, " a b c a"));
    const std::vector<Fragment> fragments = codec.Split(request, {1, 0, 1, 1});
    ASSERT_EQ(fragments.size(), 2u);
    const std::string name = Bulk(command);
    EXPECT_EQ(fragments[0].bytes, "*2\r\n" + name + Bulk("b"));
    EXPECT_EQ(fragments[1].bytes, "*4\r\n" + name + Bulk("a") + Bulk("c") + Bulk("a"));
    std::string out;
    ASSERT_TRUE(codec.Merge(request, fragments, {":1\r\n", ":3\r\n"}, &out));
    EXPECT_EQ(out, ":4\r\n");
  }
}

TEST(RedisCodecTest, SplitsMsetByPairs) {
  RedisCodec codec("", 0);
  const Request request = Decode("MSET a 1 b 2 c 3");
  ASSERT_EQ(request.KeyCount(), 3u);
  const std::vector<Fragment> fragments = codec.Split(request, {0, 2, 0});
  ASSERT_EQ(fragments.size(), 2u);
  EXPECT_EQ(fragments[0].server, 0u);
  EXPECT_EQ(fragments[0].keys, (std::vector<uint32_t>{0, 2}));
  EXPECT_EQ(fragments[0].bytes,
            "*5\r\n$4\r\nmset\r\n" + Bulk("a") + Bulk("1") + Bulk("c") + Bulk("3"));
  EXPECT_EQ(fragments[1].server, 2u);
  EXPECT_EQ(fragments[1].bytes, "*3\r\n$4\r\nmset\r\n" + Bulk("b") + Bulk("2"));
  std::string out;
  ASSERT_TRUE(codec.Merge(request, fragments, {"+OK\r\n", "+OK\r\n"}, &out));
  EXPECT_EQ(out, "+OK\r\n");
}

TEST(RedisCodecTest, UnexpectedFragmentRepliesFailTheMerge) {
  RedisCodec codec("", 0);
  const Request mget = Decode("MGET a b");
  const std::vector<Fragment> mget_fragments = codec.Split(mget, {0, 1});
  ASSERT_EQ(mget_fragments.size(), 2u);
  const std::vector<std::vector<std::string>> bad_mget = {
      {"-ERR boom\r\n", "*1\r\n$1\r\nb\r\n"},
      {"*2\r\n$1\r\na\r\n$1\r\nx\r\n", "*1\r\n$1\r\nb\r\n"},  // wrong element count
      {"*1\r\n:1\r\n", "*1\r\n$1\r\nb\r\n"},                  // not a bulk string
      {"*1\r\n$1\r\na\r\n", "*1\r\n$5\r\nb\r\n"},             // truncated
      {"*1\r\n$1\r\na\r\n+OK\r\n", "*1\r\n$1\r\nb\r\n"},      // trailing bytes
      {"*-1\r\n", "*1\r\n$1\r\nb\r\n"},
      {"*1\r\n$1\r\na\r\n"},  // a reply missing
  };
  for (const std::vector<std::string>& replies : bad_mget) {
    std::string out = "untouched";
    EXPECT_FALSE(codec.Merge(mget, mget_fragments, replies, &out)) << replies[0];
    EXPECT_EQ(out, "untouched");
  }
  const Request del = Decode("DEL a b");
  const std::vector<Fragment> del_fragments = codec.Split(del, {0, 1});
  for (const std::vector<std::string>& replies :
       std::vector<std::vector<std::string>>{{":1\r\n", "+OK\r\n"},
                                             {":1\r\n", "-ERR x\r\n"},
                                             {":1\r\n", ":x\r\n"},
                                             {":1\r\n", ":1\r\n:1\r\n"}}) {
    std::string out = "untouched";
    EXPECT_FALSE(codec.Merge(del, del_fragments, replies, &out)) << replies[1];
    EXPECT_EQ(out, "untouched");
  }
  const Request mset = Decode("MSET a 1 b 2");
  const std::vector<Fragment> mset_fragments = codec.Split(mset, {0, 1});
  std::string out = "untouched";
  EXPECT_FALSE(
      codec.Merge(mset, mset_fragments, {"+OK\r\n", "-OOM command not allowed\r\n"}, &out));
  EXPECT_EQ(out, "untouched");
  // Merging a command that is never split fails too.
  EXPECT_FALSE(codec.Merge(Decode("GET a"), mset_fragments, {"+OK\r\n", "+OK\r\n"}, &out));
}

}  // namespace
}  // namespace proxy::protocols::redis::test

namespace proxy::protocols::redis {
namespace {

TEST(RedisUnsupportedReasonTest, ExplainsEachFamilyCaseInsensitively) {
  const CodecFactory* factory = Registry<CodecFactory>::Find("redis");
  ASSERT_NE(factory, nullptr);
  config::v1::Pool pool;
  pool.set_protocol("redis");
  CodecPtr codec = factory->Create(pool);
  EXPECT_EQ(codec->UnsupportedReason("KEYS"),
            "keys are spread over several servers; run it on each server directly");
  EXPECT_EQ(codec->UnsupportedReason("keys"), codec->UnsupportedReason("KEYS"));
  EXPECT_EQ(codec->UnsupportedReason("SUBSCRIBE"), "pub/sub is not proxied");
  EXPECT_EQ(codec->UnsupportedReason("BLPOP"), "blocking commands are not proxied");
  EXPECT_EQ(codec->UnsupportedReason("MOVE"),
            "the database is fixed by the pool's redis_db setting");
  EXPECT_EQ(codec->UnsupportedReason("NOSUCHCOMMAND"), "");
  // Served now: no reason (the drift this table had).
  for (const char* served : {"MULTI", "EXEC", "WATCH", "INFO", "CLIENT", "HELLO", "RESET",
                             "READONLY", "SELECT", "RENAME", "RENAMENX", "MSETNX", "BITOP",
                             "SINTERCARD", "ZINTERCARD"}) {
    EXPECT_EQ(codec->UnsupportedReason(served), "") << served;
  }
}

// The reasons are the command table's: every refused command has one, no served command has
// one, but COPY, whose DB form the decoder refuses (and that form does get the reason).
TEST(RedisUnsupportedReasonTest, EveryRefusedCommandAndOnlyThoseHaveAReason) {
  const CommandTable& table = CommandTable::Get();
  const RedisCodec codec("", 0);
  size_t refused = 0;
  for (size_t id = 1; id <= table.size(); ++id) {
    const CommandSpec* spec = table.ById(static_cast<uint16_t>(id));
    ASSERT_NE(spec, nullptr);
    const absl::string_view reason = codec.UnsupportedReason(spec->name);
    EXPECT_EQ(reason, RefusalText(spec->refusal)) << spec->name;
    EXPECT_EQ(codec.UnsupportedReason(spec->lower), reason) << spec->name;
    if (spec->kind == CommandKind::kUnsupported) {
      ++refused;
      EXPECT_NE(spec->refusal, Refusal::kNone) << spec->name;
      EXPECT_FALSE(reason.empty()) << spec->name;
    } else if (spec->op != Op::kCopy) {
      EXPECT_EQ(spec->refusal, Refusal::kNone) << spec->name << " is served but has a reason";
      EXPECT_TRUE(reason.empty()) << spec->name << " is served but has a reason";
    }
  }
  EXPECT_GT(refused, 50u);
  // COPY: served, refused with its reason only in its DB form.
  RequestDecoderPtr decoder = codec.NewRequestDecoder(DecoderLimits());
  proxy::test::StringBuffer buffer("COPY a b DB 1\r\n");
  Request request;
  std::string error;
  ASSERT_EQ(decoder->Decode(buffer, &request, &error), DecodeResult::kMessage);
  EXPECT_EQ(request.kind, CommandKind::kUnsupported);
  EXPECT_EQ(request.command, "COPY");
  EXPECT_EQ(codec.UnsupportedReason(request.command),
            "the database is fixed by the pool's redis_db setting");
  EXPECT_EQ(test::Decode("COPY a b").kind, CommandKind::kWrite);
}

}  // namespace
}  // namespace proxy::protocols::redis

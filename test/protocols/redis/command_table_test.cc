// Tests of the redis command table: lookups, and one decoded request per class of the table
// (routing keys, kind, colocated and synthetic flags).
#include "protocols/redis/command_table.h"

#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "protocols/redis/info.h"
#include "protocols/redis/request_decoder.h"
#include "test/fakes/string_buffer.h"

namespace proxy::protocols::redis::test {
namespace {

// Decodes one inline request ("SET k v") and describes kind, routing keys and flags.
std::string Classify(absl::string_view line) {
  proxy::test::StringBuffer buffer(absl::StrCat(line, "\r\n"));
  RedisRequestDecoder decoder{DecoderLimits()};
  Request request;
  std::string error;
  const DecodeResult result = decoder.Decode(buffer, &request, &error);
  if (result == DecodeResult::kInvalidRequest) {
    return "invalid: " + error;
  }
  if (result != DecodeResult::kMessage) {
    return "not decoded: " + error;
  }
  std::string kind;
  switch (request.kind) {
    case CommandKind::kRead:
      kind = "read";
      break;
    case CommandKind::kWrite:
      kind = "write";
      break;
    case CommandKind::kMultiKey:
      kind = "multikey";
      break;
    case CommandKind::kLocal:
      kind = "local";
      break;
    case CommandKind::kUnsupported:
      kind = "unsupported";
      break;
  }
  std::vector<std::string> keys;
  if (request.kind != CommandKind::kLocal && request.kind != CommandKind::kUnsupported) {
    for (size_t i = 0; i < request.KeyCount(); ++i) {
      keys.emplace_back(request.Key(i));
    }
  }
  return absl::StrCat(kind, " keys=", absl::StrJoin(keys, ","),
                      request.colocated_keys ? " colocated" : "",
                      request.synthetic_key ? " synthetic" : "",
                      request.broadcast ? " broadcast" : "");
}

TEST(CommandTableTest, FindsUpperCaseNamesAndRoundTripsIds) {
  const CommandTable& table = CommandTable::Get();
  const CommandSpec* get = table.Find("GET");
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->name, "GET");
  EXPECT_EQ(get->lower, "get");
  EXPECT_EQ(table.Find("get"), nullptr);  // callers upper-case first
  EXPECT_EQ(table.Find("NOSUCHCOMMAND"), nullptr);
  EXPECT_EQ(table.ById(0), nullptr);
  EXPECT_EQ(table.ById(static_cast<uint16_t>(table.size() + 1)), nullptr);
  std::set<std::string> names;
  for (uint16_t id = 1; id <= table.size(); ++id) {
    const CommandSpec* spec = table.ById(id);
    ASSERT_NE(spec, nullptr);
    EXPECT_EQ(table.IdOf(*spec), id);
    EXPECT_EQ(table.Find(spec->name), spec);
    EXPECT_EQ(absl::AsciiStrToUpper(spec->name), spec->name);
    EXPECT_EQ(absl::AsciiStrToLower(spec->name), spec->lower);
    EXPECT_LE(spec->name.size(), kMaxCommandNameSize);
    EXPECT_TRUE(names.insert(std::string(spec->name)).second) << spec->name << " twice";
  }
}

// The lookup compares whole names: every prefix, extension and one-letter change of a real
// command name that is not itself a command is unknown (the table hashes only the first and
// last 8 bytes and the length, so names that share those must still differ).
TEST(CommandTableTest, NearMissesOfEveryNameAreUnknown) {
  const CommandTable& table = CommandTable::Get();
  std::set<std::string> names;
  for (uint16_t id = 1; id <= table.size(); ++id) names.insert(std::string(table.ById(id)->name));
  auto expect_unknown_unless_real = [&](const std::string& candidate) {
    const CommandSpec* spec = table.Find(candidate);
    if (names.count(candidate) > 0) {
      ASSERT_NE(spec, nullptr) << candidate;
      EXPECT_EQ(spec->name, candidate);
    } else {
      EXPECT_EQ(spec, nullptr) << candidate;
    }
  };
  size_t tried = 0;
  for (const std::string& name : names) {
    for (size_t n = 0; n < name.size(); ++n) expect_unknown_unless_real(name.substr(0, n));
    expect_unknown_unless_real(name + "X");
    expect_unknown_unless_real("X" + name);
    for (size_t i = 0; i < name.size(); ++i) {
      std::string changed = name;
      changed[i] = changed[i] == 'Z' ? 'Y' : 'Z';
      expect_unknown_unless_real(changed);
    }
    tried += 2 * name.size() + 2;
  }
  EXPECT_GT(tried, 2000u);
  EXPECT_EQ(table.Find(std::string(kMaxCommandNameSize, 'A')), nullptr);
  EXPECT_EQ(table.Find(std::string(200, 'G')), nullptr);
}

struct Expectation {
  const char* request;
  const char* classified;
};

TEST(CommandTableTest, EveryClassOfSpec42RoutesAsDocumented) {
  const std::vector<Expectation> cases = {
      // Local.
      {"PING", "local keys="},
      {"quit", "local keys="},
      {"AUTH pw", "local keys="},
      {"ECHO x", "local keys="},
      {"SELECT 0", "local keys="},
      // Placeholder: COMMAND with subcommands is forwarded (twemproxy closes the connection).
      {"COMMAND", "read keys=placeholder synthetic"},
      {"COMMAND COUNT", "read keys=placeholder synthetic"},
      {"LOLWUT VERSION 5", "read keys=placeholder synthetic"},
      // Single key, n = 0, 1, 2, 3 and any.
      {"TTL k", "read keys=k"},
      {"GETDEL k", "write keys=k"},
      {"HGETALL h", "read keys=h"},
      {"EXPIRE k 10", "write keys=k"},
      {"EXPIRE k 10 NX", "write keys=k"},
      {"HGET h f", "read keys=h"},
      {"INCRBYFLOAT k 1.5", "write keys=k"},
      {"LRANGE l 0 -1", "read keys=l"},
      {"SETEX k 10 v", "write keys=k"},
      {"ZREMRANGEBYSCORE z 0 1", "write keys=z"},
      {"LINSERT l BEFORE a b", "write keys=l"},
      {"SET k v EX 10 NX", "write keys=k"},
      {"HMSET h f1 v1 f2 v2", "write keys=h"},
      {"ZADD z 1 a 2 b", "write keys=z"},
      {"GEORADIUS g 0 0 1 km STORE other", "write keys=g"},
      {"SORT l BY w_* GET o_*", "write keys=l"},
      {"RESTORE k 0 payload", "write keys=k"},
      // Multi-key, not split: every key, colocated when more than one.
      {"RPOPLPUSH src dst", "write keys=src,dst colocated"},
      {"SMOVE src dst member", "write keys=src,dst colocated"},
      {"LMOVE src dst LEFT RIGHT", "write keys=src,dst colocated"},
      {"COPY src dst REPLACE", "write keys=src,dst colocated"},
      {"SDIFF a b c", "read keys=a,b,c colocated"},
      {"SINTER a", "read keys=a"},
      {"SUNIONSTORE d a b", "write keys=d,a,b colocated"},
      {"PFCOUNT a b", "read keys=a,b colocated"},
      {"PFMERGE d a b", "write keys=d,a,b colocated"},
      {"ZINTERSTORE d 2 a b WEIGHTS 1 2", "write keys=d,a,b colocated"},
      {"ZUNIONSTORE d 1 a", "write keys=d,a colocated"},
      {"ZDIFFSTORE d 2 a b", "write keys=d,a,b colocated"},
      {"ZDIFF 2 a b WITHSCORES", "read keys=a,b colocated"},
      {"ZINTER 1 a", "read keys=a"},
      {"ZUNION 3 a b c AGGREGATE MAX", "read keys=a,b,c colocated"},
      {"ZRANGESTORE d s 0 -1", "write keys=d,s colocated"},
      {"GEOSEARCHSTORE d s FROMMEMBER m BYRADIUS 1 km", "write keys=d,s colocated"},
      // Strictly better than twemproxy: colocated instead of closing the connection.
      {"RENAME a b", "write keys=a,b colocated"},
      {"RENAMENX a b", "write keys=a,b colocated"},
      {"MSETNX a 1 b 2", "write keys=a,b colocated"},
      {"BITOP AND d a b", "write keys=d,a,b colocated"},
      {"SINTERCARD 2 a b LIMIT 5", "read keys=a,b colocated"},
      // Scripts: numkeys keys, colocated when more than one.
      {"EVAL s 1 k arg", "write keys=k"},
      {"EVAL s 2 k1 k2", "write keys=k1,k2 colocated"},
      {"evalsha abc 3 a b c x y", "write keys=a,b,c colocated"},
      // Split across servers.
      {"MGET a b a", "multikey keys=a,b,a"},
      {"DEL a", "multikey keys=a"},
      {"UNLINK a b", "multikey keys=a,b"},
      {"TOUCH a b", "multikey keys=a,b"},
      {"EXISTS a b c", "multikey keys=a,b,c"},
      {"MSET a 1 b 2", "multikey keys=a,b"},
      // Connection commands answered by the session; transactions (transaction.h); INFO
      // broadcast to every server.
      {"MULTI", "local keys="},
      {"EXEC", "local keys="},
      {"DISCARD", "local keys="},
      {"UNWATCH", "local keys="},
      {"WATCH k", "read keys=k"},
      {"WATCH a b", "read keys=a,b colocated"},
      {"HELLO 3", "local keys="},
      {"CLIENT LIST", "local keys="},
      {"RESET", "local keys="},
      {"READONLY", "local keys="},
      {"READWRITE", "local keys="},
      {"INFO", "read keys=placeholder synthetic broadcast"},
      {"INFO keyspace server", "read keys=placeholder synthetic broadcast"},
      // Unsupported, forwarding nothing.
      {"KEYS *", "unsupported keys="},
      {"SCAN 0", "unsupported keys="},
      {"SUBSCRIBE c", "unsupported keys="},
      {"PUBLISH c m", "unsupported keys="},
      {"BLPOP l 0", "unsupported keys="},
      {"BRPOPLPUSH a b 0", "unsupported keys="},
      {"BZPOPMIN z 0", "unsupported keys="},
      {"CONFIG GET *", "unsupported keys="},
      {"FLUSHALL", "unsupported keys="},
      {"FLUSHDB", "unsupported keys="},
      {"DBSIZE", "unsupported keys="},
      {"RANDOMKEY", "unsupported keys="},
      {"MOVE k 1", "unsupported keys="},
      {"MIGRATE h p k 0 1", "unsupported keys="},
      {"OBJECT ENCODING k", "unsupported keys="},
      {"SCRIPT LOAD x", "unsupported keys="},
      {"WAIT 1 0", "unsupported keys="},
      {"XADD s * f v", "unsupported keys="},
      {"NOSUCHCOMMAND a", "unsupported keys="},
  };
  for (const Expectation& c : cases) {
    EXPECT_EQ(Classify(c.request), c.classified) << c.request;
  }
}

TEST(CommandTableTest, UnsupportedRequestsNameTheirCommand) {
  for (const auto& [line, command, name] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"keys *", "KEYS", "KEYS"},
           {"bLpOp l 0", "BLPOP", "BLPOP"},
           {"fooBar x", "", "FOOBAR"},
       }) {
    proxy::test::StringBuffer buffer(line + "\r\n");
    RedisRequestDecoder decoder{DecoderLimits()};
    Request request;
    std::string error;
    ASSERT_EQ(decoder.Decode(buffer, &request, &error), DecodeResult::kMessage);
    EXPECT_EQ(request.kind, CommandKind::kUnsupported);
    EXPECT_EQ(request.command, command);
    ASSERT_EQ(request.args.size(), 1u);
    EXPECT_EQ(request.args[0], name);
  }
}

TEST(CommandTableTest, FixedArityIsRedisOwn) {
  EXPECT_EQ(Classify("GET"), "invalid: wrong number of arguments for 'get' command");
  EXPECT_EQ(Classify("GET a b"), "invalid: wrong number of arguments for 'get' command");
  EXPECT_EQ(Classify("HGET h"), "invalid: wrong number of arguments for 'hget' command");
  EXPECT_EQ(Classify("SETEX k 10"), "invalid: wrong number of arguments for 'setex' command");
  EXPECT_EQ(Classify("LMOVE a b LEFT"), "invalid: wrong number of arguments for 'lmove' command");
  EXPECT_EQ(Classify("SET k"), "invalid: wrong number of arguments for 'set' command");
  EXPECT_EQ(Classify("RENAME a"), "invalid: wrong number of arguments for 'rename' command");
  EXPECT_EQ(Classify("ZINTERSTORE d 1"),
            "invalid: wrong number of arguments for 'zinterstore' command");
  EXPECT_EQ(Classify("SINTERCARD 0 a"),
            "invalid: at least 1 input key is needed for 'sintercard' command");
  EXPECT_EQ(Classify("QUIT now"), "local keys=");  // redis ignores QUIT's arguments
}

TEST(CommandTableTest, ConnectionAndTransactionCommandsHaveTheirOps) {
  const CommandTable& table = CommandTable::Get();
  const std::vector<std::tuple<const char*, CommandKind, Op, int8_t>> expected = {
      {"MULTI", CommandKind::kLocal, Op::kMulti, 1},
      {"EXEC", CommandKind::kLocal, Op::kExec, 1},
      {"DISCARD", CommandKind::kLocal, Op::kDiscard, 1},
      {"UNWATCH", CommandKind::kLocal, Op::kUnwatch, 1},
      {"WATCH", CommandKind::kRead, Op::kWatch, -2},
      {"HELLO", CommandKind::kLocal, Op::kHello, -1},
      {"CLIENT", CommandKind::kLocal, Op::kClient, -2},
      {"READONLY", CommandKind::kLocal, Op::kReadonly, 1},
      {"READWRITE", CommandKind::kLocal, Op::kReadonly, 1},
      {"RESET", CommandKind::kLocal, Op::kReset, 1},
      {"INFO", CommandKind::kRead, Op::kInfo, -1},
  };
  for (const auto& [name, kind, op, arity] : expected) {
    const CommandSpec* spec = table.Find(name);
    ASSERT_NE(spec, nullptr) << name;
    EXPECT_EQ(spec->kind, kind) << name;
    EXPECT_EQ(spec->op, op) << name;
    EXPECT_EQ(spec->arity, arity) << name;
  }
  EXPECT_EQ(table.Find("WATCH")->rule, KeyRule::kRange);
  EXPECT_EQ(table.Find("WATCH")->last_key, -1);
  EXPECT_EQ(table.Find("INFO")->rule, KeyRule::kPlaceholder);
  // Arity is redis's: MULTI with an argument is refused before the session sees it.
  EXPECT_EQ(Classify("MULTI x"), "invalid: wrong number of arguments for 'multi' command");
  EXPECT_EQ(Classify("WATCH"), "invalid: wrong number of arguments for 'watch' command");
}

TEST(CommandTableTest, InfoCarriesItsSectionsInCodecFlags) {
  const std::vector<std::pair<std::string, uint16_t>> cases = {
      {"INFO", kInfoEvery},
      {"INFO default", kInfoEvery},
      {"INFO ALL", kInfoEvery},
      {"info everything", kInfoEvery},
      {"INFO keyspace", kInfoKeyspace},
      {"INFO Server", kInfoServer},
      {"INFO server keyspace", kInfoServer | kInfoKeyspace},
      {"INFO clients stats replication persistence",
       kInfoClients | kInfoStats | kInfoReplication | kInfoPersistence},
      {"INFO memory", 0},
      {"INFO nosuchsection", 0},
      {"INFO averyveryverylongsectionname", 0},
  };
  for (const auto& [line, flags] : cases) {
    proxy::test::StringBuffer buffer(line + "\r\n");
    RedisRequestDecoder decoder{DecoderLimits()};
    Request request;
    std::string error;
    ASSERT_EQ(decoder.Decode(buffer, &request, &error), DecodeResult::kMessage) << line;
    EXPECT_TRUE(request.broadcast) << line;
    EXPECT_EQ(request.codec_flags, flags) << line;
  }
}

}  // namespace
}  // namespace proxy::protocols::redis::test

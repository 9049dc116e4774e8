// Tests of the key_prefix filter: config validation through the registered factory, and the
// chain key_prefix → hash_tag → router driven the way the core drives it, over the real redis
// and memcache codecs (from the registry): prefixed args and rewritten bytes, routing by the
// prefixed key, split fragments, refusals, and memcache replies with their keys unprefixed.
#include "filters/key_prefix/key_prefix_filter.h"

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "api/codec.h"
#include "api/config/filters/v1/key_prefix.pb.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/filter.h"
#include "api/placement.h"
#include "api/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/fakes/filter_fakes.h"
#include "test/fakes/string_buffer.h"

namespace proxy::filters::key_prefix {
namespace {

using ::proxy::test::CreateRegisteredFilter;
using ::proxy::test::FakeFilterCallbacks;
using ::proxy::test::MakeTestPool;
using ::proxy::test::StringBuffer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string Resp(const std::vector<std::string>& args) {
  std::string out = absl::StrCat("*", args.size(), "\r\n");
  for (const std::string& arg : args) absl::StrAppend(&out, "$", arg.size(), "\r\n", arg, "\r\n");
  return out;
}

config::filters::v1::KeyPrefixConfig Config(absl::string_view prefix) {
  config::filters::v1::KeyPrefixConfig config;
  config.set_prefix(std::string(prefix));
  return config;
}

// A pool view with the real placement and the real codec of the pool's protocol (from the
// registry), so that the filter's RewriteKeys/Split/RewriteReplyKeys calls are the real ones.
class CodecPoolView final : public PoolView {
 public:
  explicit CodecPoolView(config::v1::Pool pool) : pool_(std::move(pool)) {
    absl::StatusOr<KeyPlacementPtr> placement = KeyPlacement::Create(pool_);
    EXPECT_TRUE(placement.ok()) << placement.status();
    if (placement.ok()) placement_ = *std::move(placement);
    const CodecFactory* factory = Registry<CodecFactory>::Find(pool_.protocol());
    EXPECT_NE(factory, nullptr) << pool_.protocol();
    if (factory != nullptr) codec_ = factory->Create(pool_);
  }

  absl::string_view Name() const override { return pool_.name(); }
  const config::v1::Pool& Config() const override { return pool_; }
  const Codec& PoolCodec() const override { return *codec_; }
  uint32_t ServerForHashKey(absl::string_view hash_key) const override {
    return placement_->ServerForHashKey(hash_key);
  }
  uint32_t ShardForHashKey(absl::string_view hash_key) const override {
    return placement_->ShardForHashKey(hash_key);
  }
  uint32_t ServerOfShard(uint32_t shard) const override {
    return placement_->ServerOfShard(shard);
  }
  const KeyPlacement& placement() const { return *placement_; }

 private:
  config::v1::Pool pool_;
  KeyPlacementPtr placement_;
  CodecPtr codec_;
};

class KeyPrefixFilterTest : public ::testing::Test {
 protected:
  // A pool over three servers with the chain [key_prefix {prefix}, hash_tag, router].
  void UsePool(absl::string_view protocol,
               absl::string_view prefix = "app1:", absl::string_view hash_tag = "") {
    config::v1::Pool pool =
        MakeTestPool({"127.0.0.1:32011:1 s1", "127.0.0.1:32012:1 s2", "127.0.0.1:32013:1 s3"},
                     "md5", "ketama", hash_tag, protocol);
    for (const char* name : {"key_prefix", "hash_tag", "router"}) {
      pool.add_filters()->set_name(name);
    }
    pool_ = std::make_unique<CodecPoolView>(pool);
    callbacks_ = std::make_unique<FakeFilterCallbacks>(*pool_);
    const config::filters::v1::KeyPrefixConfig config = Config(prefix);
    filters_.clear();
    for (const char* name : {"key_prefix", "hash_tag", "router"}) {
      absl::StatusOr<FilterFactoryFn> factory = CreateRegisteredFilter(
          name, pool_->Config(), absl::string_view(name) == "key_prefix" ? &config : nullptr);
      ASSERT_TRUE(factory.ok()) << name << ": " << factory.status();
      filters_.push_back((*factory)());
    }
  }

  // Decodes `wire` with the pool codec's decoder and runs the chain over it as the core does.
  FilterStatus Run(absl::string_view wire) {
    RequestDecoderPtr decoder = pool_->PoolCodec().NewRequestDecoder(DecoderLimits());
    StringBuffer buffer(wire);
    std::string error;
    request_ = Request();
    EXPECT_EQ(decoder->Decode(buffer, &request_, &error), DecodeResult::kMessage) << error;
    callbacks_->Reset();
    callbacks_->wire() = StringBuffer(wire, 3);  // chunked: the codec must copy the bytes out
    for (const FilterPtr& filter : filters_) {
      if (filter->OnRequest(request_, *callbacks_) == FilterStatus::kStop) {
        return FilterStatus::kStop;
      }
    }
    return FilterStatus::kContinue;
  }

  Filter& key_prefix() { return *filters_[0]; }
  RequestContext& context() { return callbacks_->Context(); }
  std::vector<std::string> Keys() {
    std::vector<std::string> keys;
    for (size_t i = 0; i < request_.KeyCount(); ++i) keys.emplace_back(request_.Key(i));
    return keys;
  }

  std::unique_ptr<CodecPoolView> pool_;
  std::unique_ptr<FakeFilterCallbacks> callbacks_;
  std::vector<FilterPtr> filters_;
  Request request_;
};

// ---------------------------------------------------------------------------------------------
// Config.

absl::Status CreateStatus(absl::string_view prefix,
                          config::v1::Pool pool = MakeTestPool({"127.0.0.1:32011:1"})) {
  const config::filters::v1::KeyPrefixConfig config = Config(prefix);
  return CreateRegisteredFilter("key_prefix", pool, &config, nullptr, true).status();
}

TEST(KeyPrefixConfigTest, ValidatesThePrefix) {
  EXPECT_TRUE(CreateStatus("app1:").ok());
  EXPECT_TRUE(CreateStatus(std::string(200, 'p')).ok());
  EXPECT_TRUE(CreateStatus("\xc3\xa9t\xc3\xa9:").ok());  // UTF-8 is fine in memcache keys
  for (const std::string& bad :
       {std::string(), std::string(201, 'p'), std::string("a b"), std::string("a\tb"),
        std::string("a\r\n"), std::string("a\x7f"), std::string("a\0b", 3)}) {
    const absl::Status status = CreateStatus(bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(status.message()), HasSubstr("prefix: ")) << bad;
  }
  EXPECT_THAT(std::string(CreateStatus("").message()), HasSubstr("must not be empty"));
  EXPECT_THAT(std::string(CreateStatus(std::string(201, 'p')).message()),
              HasSubstr("201 bytes is too long; at most 200"));
  EXPECT_THAT(std::string(CreateStatus("a b").message()), HasSubstr("byte 1 (\\x20)"));
}

TEST(KeyPrefixConfigTest, MustComeBeforeHashTagAndRouter) {
  config::v1::Pool pool = MakeTestPool({"127.0.0.1:32011:1"});
  for (const char* name : {"reject_unsupported", "key_prefix", "hash_tag", "router", "stats"}) {
    pool.add_filters()->set_name(name);
  }
  EXPECT_TRUE(CreateStatus("p:", pool).ok());
  for (const char* first : {"router", "hash_tag"}) {
    config::v1::Pool late = MakeTestPool({"127.0.0.1:32011:1"});
    late.add_filters()->set_name(first);
    late.add_filters()->set_name("key_prefix");
    const absl::Status status = CreateStatus("p:", late);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()),
                HasSubstr(absl::StrCat("must come before ", first, " in the pool's filters")));
  }
}

TEST(KeyPrefixConfigTest, PrefixMustNotOpenTheHashTag) {
  const config::v1::Pool tagged =
      MakeTestPool({"127.0.0.1:32011:1"}, "md5", "ketama", "{}", "redis");
  EXPECT_TRUE(CreateStatus("app}:", tagged).ok());  // a lone closing byte cannot start a tag
  const absl::Status status = CreateStatus("{app}:", tagged);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("prefix: '{app}:' contains '{', the start of the pool's hash_tag"));
  EXPECT_TRUE(CreateStatus("{app}:", MakeTestPool({"127.0.0.1:32011:1"})).ok());  // no tag
}

TEST(KeyPrefixConfigTest, ValidatePrefixDirectly) {
  EXPECT_TRUE(ValidatePrefix("x").ok());
  EXPECT_FALSE(ValidatePrefix("").ok());
}

// ---------------------------------------------------------------------------------------------
// redis.

TEST_F(KeyPrefixFilterTest, RedisSingleKeyIsPrefixedAndRoutedByThePrefixedKey) {
  UsePool("redis");
  EXPECT_EQ(Run(Resp({"SET", "user:1", "v", "EX", "10"})), FilterStatus::kContinue);
  EXPECT_THAT(Keys(), ElementsAre("app1:user:1"));
  EXPECT_TRUE(request_.has_rewrite);
  EXPECT_EQ(request_.rewritten, Resp({"SET", "app1:user:1", "v", "EX", "10"}));
  EXPECT_TRUE(context().routed);
  EXPECT_EQ(context().server, pool_->placement().ServerFor("app1:user:1"));
  EXPECT_FALSE(key_prefix().RewritesReplies());
  EXPECT_FALSE(callbacks_->answered_locally());
}

TEST_F(KeyPrefixFilterTest, RedisInlineRequestIsReencoded) {
  UsePool("redis");
  EXPECT_EQ(Run("get k\r\n"), FilterStatus::kContinue);
  EXPECT_EQ(request_.rewritten, Resp({"get", "app1:k"}));
}

TEST_F(KeyPrefixFilterTest, RedisHashingUsesThePrefixedKey) {
  UsePool("redis");
  // Some key whose server changes with the prefix (so that the test proves something).
  std::string key;
  for (int n = 0; n < 1000 && key.empty(); ++n) {
    const std::string candidate = absl::StrCat("k", n);
    if (pool_->placement().ServerFor(candidate) !=
        pool_->placement().ServerFor("app1:" + candidate)) {
      key = candidate;
    }
  }
  ASSERT_FALSE(key.empty());
  EXPECT_EQ(Run(Resp({"GET", key})), FilterStatus::kContinue);
  EXPECT_EQ(context().server, pool_->placement().ServerFor("app1:" + key));
}

TEST_F(KeyPrefixFilterTest, RedisMsetSplitsWithPrefixedKeysAndUnchangedValues) {
  UsePool("redis");
  std::vector<std::string> args = {"MSET"};
  std::set<uint32_t> servers;
  for (int i = 0; i < 12; ++i) {
    args.push_back(absl::StrCat("key", i));
    args.push_back(absl::StrCat("key", i));  // a value equal to the key: never prefixed
    servers.insert(pool_->placement().ServerFor(absl::StrCat("app1:key", i)));
  }
  ASSERT_GT(servers.size(), 1u);
  EXPECT_EQ(Run(Resp(args)), FilterStatus::kContinue);
  ASSERT_EQ(context().fragments.size(), servers.size());
  size_t keys = 0;
  for (const Fragment& fragment : context().fragments) {
    EXPECT_EQ(fragment.server, *std::next(servers.begin(), &fragment - &context().fragments[0]));
    std::vector<std::string> expected = {"mset"};
    for (const uint32_t key : fragment.keys) {
      EXPECT_EQ(pool_->placement().ServerFor(absl::StrCat("app1:key", key)), fragment.server);
      expected.push_back(absl::StrCat("app1:key", key));
      expected.push_back(absl::StrCat("key", key));
      ++keys;
    }
    EXPECT_EQ(fragment.bytes, Resp(expected));
  }
  EXPECT_EQ(keys, 12u);
}

TEST_F(KeyPrefixFilterTest, RedisHashTagSeesThePrefixedKeys) {
  UsePool("redis", "app1:", "{}");
  EXPECT_EQ(Run(Resp({"SINTER", "{u1}:a", "{u1}:b"})), FilterStatus::kContinue);
  EXPECT_THAT(Keys(), ElementsAre("app1:{u1}:a", "app1:{u1}:b"));
  EXPECT_THAT(context().hash_keys, ElementsAre("u1", "u1"));
  EXPECT_EQ(context().server, pool_->placement().ServerForHashKey("u1"));
  EXPECT_EQ(request_.rewritten, Resp({"SINTER", "app1:{u1}:a", "app1:{u1}:b"}));
}

TEST_F(KeyPrefixFilterTest, RedisScriptsAndUnconfinableCommandsAreRefused) {
  UsePool("redis", "app1:", "{}");
  // A script names any key in its code: its KEYS alone cannot be confined.
  EXPECT_EQ(Run(Resp({"EVAL", "return redis.call('get','app2:secret')", "1", "x"})),
            FilterStatus::kStop);
  EXPECT_EQ(callbacks_->EncodedErrors(),
            "-ERR key_prefix: 'EVAL' can reach keys outside the pool's prefix\r\n");
  EXPECT_FALSE(request_.has_rewrite);
  EXPECT_EQ(Run(Resp({"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "1", "x"})),
            FilterStatus::kStop);
  EXPECT_THAT(callbacks_->EncodedErrors(), HasSubstr("'EVALSHA' can reach keys outside"));
  for (const char* name : {"EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO", "SCRIPT", "FUNCTION",
                           "KEYS", "SCAN", "RANDOMKEY", "MIGRATE", "OBJECT", "MOVE", "SORT_RO",
                           "GEORADIUS_RO", "MEMORY", "FLUSHALL", "DBSIZE", "SWAPDB"}) {
    EXPECT_EQ(Run(Resp({name, "a", "b", "c"})), FilterStatus::kStop) << name;
    EXPECT_THAT(callbacks_->EncodedErrors(), HasSubstr("key_prefix:")) << name;
  }
  for (const char* name : {"EVAL", "FCALL", "SCAN", "OBJECT", "SORT_RO", "MIGRATE"}) {
    EXPECT_TRUE(IsUnconfinedRedisCommand(name)) << name;
  }
  for (const char* name : {"GET", "SORT", "GEORADIUS", "SET", "COPY"}) {
    EXPECT_FALSE(IsUnconfinedRedisCommand(name)) << name;
  }
}

TEST_F(KeyPrefixFilterTest, RedisSortPatternsAndStoreArePrefixed) {
  UsePool("redis");
  EXPECT_EQ(Run(Resp({"SORT", "l", "BY", "nosort", "GET", "app2:*", "GET", "#"})),
            FilterStatus::kContinue);
  EXPECT_EQ(request_.rewritten,
            Resp({"SORT", "app1:l", "BY", "nosort", "GET", "app1:app2:*", "GET", "#"}));
  EXPECT_EQ(Run(Resp({"sort", "l", "limit", "0", "10", "by", "w_*", "get", "o_*->f", "desc",
                      "alpha", "store", "app2:dst"})),
            FilterStatus::kContinue);
  EXPECT_EQ(request_.rewritten,
            Resp({"sort", "app1:l", "limit", "0", "10", "by", "app1:w_*", "get",
                  "app1:o_*->f", "desc", "alpha", "store", "app1:app2:dst"}));
  // LIMIT's two arguments are not options even when they look like one.
  EXPECT_EQ(Run(Resp({"SORT", "l", "LIMIT", "GET", "STORE", "GET", "x*"})),
            FilterStatus::kContinue);
  EXPECT_EQ(request_.rewritten,
            Resp({"SORT", "app1:l", "LIMIT", "GET", "STORE", "GET", "app1:x*"}));
  // A plain SORT is only re-encoded with its key.
  EXPECT_EQ(Run(Resp({"SORT", "l"})), FilterStatus::kContinue);
  EXPECT_EQ(request_.rewritten, Resp({"SORT", "app1:l"}));
  EXPECT_EQ(Run("SORT l BY nosort GET app2:*\r\n"), FilterStatus::kContinue);
  EXPECT_EQ(request_.rewritten,
            Resp({"SORT", "app1:l", "BY", "nosort", "GET", "app1:app2:*"}));
}

TEST_F(KeyPrefixFilterTest, RedisSortPatternsAreRefusedWhenThePrefixHoldsAStar) {
  UsePool("redis", "a*:");
  EXPECT_EQ(Run(Resp({"SORT", "l", "GET", "x*"})), FilterStatus::kStop);
  EXPECT_THAT(callbacks_->EncodedErrors(), HasSubstr("cannot be confined"));
  EXPECT_EQ(Run(Resp({"SORT", "l", "STORE", "d", "GET", "#"})), FilterStatus::kContinue);
  EXPECT_EQ(request_.rewritten, Resp({"SORT", "a*:l", "STORE", "a*:d", "GET", "#"}));
}

TEST_F(KeyPrefixFilterTest, RedisGeoradiusStoreKeysArePrefixed) {
  UsePool("redis");
  EXPECT_EQ(Run(Resp({"GEORADIUS", "g", "15", "37", "200", "km", "COUNT", "5", "STORE", "d",
                      "storedist", "e"})),
            FilterStatus::kContinue);
  EXPECT_EQ(request_.rewritten, Resp({"GEORADIUS", "app1:g", "15", "37", "200", "km", "COUNT",
                                      "5", "STORE", "app1:d", "storedist", "app1:e"}));
  // A member named STORE is not an option.
  EXPECT_EQ(Run(Resp({"GEORADIUSBYMEMBER", "g", "STORE", "1", "km", "STORE", "d"})),
            FilterStatus::kContinue);
  EXPECT_EQ(request_.rewritten,
            Resp({"GEORADIUSBYMEMBER", "app1:g", "STORE", "1", "km", "STORE", "app1:d"}));
}

TEST_F(KeyPrefixFilterTest, RedisPlaceholderCommandsPassUnchanged) {
  UsePool("redis");
  EXPECT_EQ(Run(Resp({"COMMAND"})), FilterStatus::kContinue);
  EXPECT_FALSE(request_.has_rewrite);
  EXPECT_THAT(Keys(), ElementsAre("placeholder"));
}

TEST_F(KeyPrefixFilterTest, RedisUnsupportedCommandsAreRefused) {
  UsePool("redis");
  EXPECT_EQ(Run(Resp({"KEYS", "*"})), FilterStatus::kStop);
  EXPECT_EQ(callbacks_->EncodedErrors(), "-ERR key_prefix: cannot rewrite 'KEYS'\r\n");
  EXPECT_EQ(Run(Resp({"NOSUCH\x01", "x"})), FilterStatus::kStop);
  EXPECT_EQ(callbacks_->EncodedErrors(), "-ERR key_prefix: cannot rewrite 'NOSUCH?'\r\n");
}

TEST_F(KeyPrefixFilterTest, RedisLargeMgetStaysLinear) {
  UsePool("redis");
  std::vector<std::string> args = {"MGET"};
  for (int i = 0; i < 20000; ++i) args.push_back(absl::StrCat("k", i));
  EXPECT_EQ(Run(Resp(args)), FilterStatus::kContinue);
  ASSERT_EQ(request_.KeyCount(), 20000u);
  EXPECT_EQ(request_.Key(19999), "app1:k19999");
  size_t keys = 0;
  for (const Fragment& fragment : context().fragments) keys += fragment.keys.size();
  EXPECT_EQ(keys, 20000u);
}

// ---------------------------------------------------------------------------------------------
// memcache.

TEST_F(KeyPrefixFilterTest, MemcacheStorageKeepsItsDataBlock) {
  UsePool("memcache");
  EXPECT_EQ(Run("set k 0 0 5\r\nhello\r\n"), FilterStatus::kContinue);
  EXPECT_THAT(Keys(), ElementsAre("app1:k"));
  EXPECT_EQ(request_.rewritten, "set app1:k 0 0 5\r\nhello\r\n");
  EXPECT_EQ(context().server, pool_->placement().ServerFor("app1:k"));
  EXPECT_TRUE(key_prefix().RewritesReplies());
}

TEST_F(KeyPrefixFilterTest, MemcacheMultiGetSplitsMergesAndStripsReplyKeys) {
  UsePool("memcache");
  // Keys on at least two servers.
  std::vector<std::string> keys;
  std::set<uint32_t> servers;
  for (int i = 0; i < 20; ++i) {
    keys.push_back(absl::StrCat("k", i));
    servers.insert(pool_->placement().ServerFor(absl::StrCat("app1:k", i)));
  }
  ASSERT_GT(servers.size(), 1u);
  std::string wire = "get";
  for (const std::string& key : keys) absl::StrAppend(&wire, " ", key);
  EXPECT_EQ(Run(wire + "\r\n"), FilterStatus::kContinue);
  ASSERT_EQ(context().fragments.size(), servers.size());
  // Each server answers its fragment's keys (as memcached would, with the prefixed keys).
  std::vector<std::string> replies;
  for (const Fragment& fragment : context().fragments) {
    std::string line = "get";
    std::string reply;
    for (const uint32_t key : fragment.keys) {
      absl::StrAppend(&line, " app1:k", key);
      absl::StrAppend(&reply, "VALUE app1:k", key, " 0 1\r\n", key % 10, "\r\n");
    }
    EXPECT_EQ(fragment.bytes, line + "\r\n");
    replies.push_back(reply + "END\r\n");
  }
  std::string merged;
  ASSERT_TRUE(pool_->PoolCodec().Merge(request_, context().fragments, replies, &merged));
  key_prefix().OnReply(request_, &merged);
  std::string expected;
  for (int i = 0; i < 20; ++i) absl::StrAppend(&expected, "VALUE k", i, " 0 1\r\n", i % 10, "\r\n");
  EXPECT_EQ(merged, expected + "END\r\n");
}

TEST_F(KeyPrefixFilterTest, MemcacheGatSplitKeepsTheExptime) {
  UsePool("memcache");
  std::string line = "gat 300";
  std::set<uint32_t> servers;
  for (int i = 0; i < 10; ++i) {
    absl::StrAppend(&line, " k", i);
    servers.insert(pool_->placement().ServerFor(absl::StrCat("app1:k", i)));
  }
  ASSERT_GT(servers.size(), 1u);
  EXPECT_EQ(Run(line + "\r\n"), FilterStatus::kContinue);
  ASSERT_EQ(context().fragments.size(), servers.size());
  for (const Fragment& fragment : context().fragments) {
    EXPECT_TRUE(absl::StartsWith(fragment.bytes, "gat 300 app1:k")) << fragment.bytes;
  }
}

TEST_F(KeyPrefixFilterTest, MemcacheRepliesWithoutKeysAreUnchanged) {
  UsePool("memcache");
  EXPECT_EQ(Run("get a\r\n"), FilterStatus::kContinue);
  for (const std::string& reply :
       {std::string("END\r\n"), std::string("SERVER_ERROR out of memory\r\n")}) {
    std::string copy = reply;
    key_prefix().OnReply(request_, &copy);
    EXPECT_EQ(copy, reply);
  }
  EXPECT_EQ(Run("incr n 1\r\n"), FilterStatus::kContinue);
  std::string reply = "2\r\n";
  key_prefix().OnReply(request_, &reply);
  EXPECT_EQ(reply, "2\r\n");
  // mg with the k flag: the returned key loses its prefix too.
  EXPECT_EQ(Run("mg a k v\r\n"), FilterStatus::kContinue);
  reply = "VA 1 kapp1:a\r\nx\r\n";
  key_prefix().OnReply(request_, &reply);
  EXPECT_EQ(reply, "VA 1 ka\r\nx\r\n");
}

TEST_F(KeyPrefixFilterTest, MemcacheKeyTooLongWithThePrefix) {
  UsePool("memcache");
  const std::string longest(250 - 5, 'k');
  EXPECT_EQ(Run(absl::StrCat("get ", longest, "\r\n")), FilterStatus::kContinue);
  EXPECT_EQ(Run(absl::StrCat("get a ", longest, "x\r\n")), FilterStatus::kStop);
  EXPECT_EQ(callbacks_->EncodedErrors(),
            "CLIENT_ERROR key too long with the pool's key prefix\r\n");
  // noreply: memcached stays silent on errors, and so does the proxy.
  EXPECT_EQ(Run(absl::StrCat("set ", longest, "x 0 0 1 noreply\r\nx\r\n")), FilterStatus::kStop);
  EXPECT_EQ(callbacks_->EncodedErrors(), "");
  EXPECT_THAT(callbacks_->local_errors(), ElementsAre(""));
}

TEST_F(KeyPrefixFilterTest, MemcacheVersionPassesAndAdminCommandsAreRefused) {
  UsePool("memcache");
  EXPECT_EQ(Run("version\r\n"), FilterStatus::kContinue);
  EXPECT_FALSE(request_.has_rewrite);
  EXPECT_EQ(Run("stats\r\n"), FilterStatus::kStop);
  EXPECT_EQ(callbacks_->EncodedErrors(), "SERVER_ERROR key_prefix: cannot rewrite 'stats'\r\n");
}

TEST_F(KeyPrefixFilterTest, LocalRequestsAreLeftAlone) {
  UsePool("redis");
  Request ping = ::proxy::test::MakeRequest("PING", CommandKind::kLocal, {});
  callbacks_->Reset();
  EXPECT_EQ(key_prefix().OnRequest(ping, *callbacks_), FilterStatus::kContinue);
  EXPECT_FALSE(ping.has_rewrite);
  EXPECT_THAT(callbacks_->local_errors(), IsEmpty());
}

}  // namespace
}  // namespace proxy::filters::key_prefix

// Tests of the router filter: single-key routing, hash-tagged keys, multi-key splitting into
// per-server fragments and the colocated-keys refusal, checked against twemproxy's placement
// (rows of test/golden/distribution_vectors.tsv).
#include "filters/router/router_filter.h"

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "api/codec.h"
#include "api/config/filters/v1/router.pb.h"
#include "api/config/filters/v1/stats.pb.h"
#include "api/filter.h"
#include "api/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/fakes/filter_fakes.h"

namespace proxy::filters::router {
namespace {

using ::proxy::test::CreateRegisteredFilter;
using ::proxy::test::FakeFilterCallbacks;
using ::proxy::test::FakePoolView;
using ::proxy::test::MakeRequest;
using ::proxy::test::MakeTestPool;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Golden set s3_equal with ketama + md5: key:0 → 1, key:1 → 2, key:2 → 2, key:3 → 1,
// key:6 → 0, key:13 → 0; without a tag user:{1}:name → 2 and user:{1}:email → 1, with "{}"
// both → 2.
config::v1::Pool S3Equal(absl::string_view tag = "") {
  return MakeTestPool({"127.0.0.1:32011:1", "127.0.0.1:32012:1", "127.0.0.1:32013:1"}, "md5",
                      "ketama", tag);
}

// Runs the router, preceded by the hash_tag filter as in the default chain.
class RouterFilterTest : public ::testing::Test {
 protected:
  void UsePool(config::v1::Pool pool) {
    auto view = FakePoolView::Create(std::move(pool));
    ASSERT_TRUE(view.ok()) << view.status();
    pool_ = *std::move(view);
    callbacks_ = std::make_unique<FakeFilterCallbacks>(*pool_);
    for (absl::string_view name : {"hash_tag", "router"}) {
      absl::StatusOr<FilterFactoryFn> factory = CreateRegisteredFilter(name, pool_->Config());
      ASSERT_TRUE(factory.ok()) << factory.status();
      chain_.push_back((*factory)());
    }
  }

  FilterStatus Run(Request& request) {
    callbacks_->Reset();
    for (FilterPtr& filter : chain_) {
      if (filter->OnRequest(request, *callbacks_) == FilterStatus::kStop) {
        return FilterStatus::kStop;
      }
    }
    return FilterStatus::kContinue;
  }

  // Routes a single-key GET and returns its server (or -1 when not routed).
  int ServerOf(absl::string_view key) {
    Request request = MakeRequest("GET", CommandKind::kRead, {key});
    if (Run(request) != FilterStatus::kContinue || !Context().routed) {
      return -1;
    }
    return static_cast<int>(Context().server);
  }

  RequestContext& Context() { return callbacks_->Context(); }

  std::unique_ptr<FakePoolView> pool_;
  std::unique_ptr<FakeFilterCallbacks> callbacks_;
  std::vector<FilterPtr> chain_;
};

TEST_F(RouterFilterTest, RoutesSingleKeysToTheGoldenServer) {
  UsePool(S3Equal());
  EXPECT_EQ(ServerOf("key:0"), 1);
  EXPECT_EQ(ServerOf("key:1"), 2);
  EXPECT_EQ(ServerOf("key:6"), 0);
  EXPECT_EQ(ServerOf(""), 1);  // the empty key hashes to 0
  EXPECT_THAT(Context().fragments, IsEmpty());
  EXPECT_FALSE(callbacks_->answered_locally());
}

TEST_F(RouterFilterTest, HashTaggedKeysRouteTogether) {
  UsePool(S3Equal("{}"));
  EXPECT_EQ(ServerOf("user:{1}:name"), 2);
  EXPECT_EQ(ServerOf("user:{1}:email"), 2);
}

TEST_F(RouterFilterTest, WithoutATagTheSameKeysRouteApart) {
  UsePool(S3Equal());
  EXPECT_EQ(ServerOf("user:{1}:name"), 2);
  EXPECT_EQ(ServerOf("user:{1}:email"), 1);
}

TEST_F(RouterFilterTest, HashesTheTagExtractedBytes) {
  UsePool(S3Equal("{}"));
  ServerOf("user:{1}:name");
  EXPECT_THAT(pool_->routed_hash_keys(), ElementsAre("1"));
}

TEST_F(RouterFilterTest, ReturnsConfigurationIndexesNotSortedOnes) {
  // Golden set s4_unsorted_mixed, modula + md5: a → 3, b → 1, x → 2, 0 → 0 (config order).
  UsePool(MakeTestPool(
      {"127.0.0.1:32013:1", "127.0.0.1:32011:1", "127.0.0.10:32014:1", "127.0.0.2:32012:2"}, "md5",
      "modula"));
  EXPECT_EQ(ServerOf("a"), 3);
  EXPECT_EQ(ServerOf("b"), 1);
  EXPECT_EQ(ServerOf("x"), 2);
  EXPECT_EQ(ServerOf("0"), 0);
}

TEST_F(RouterFilterTest, SingleServerPoolTakesEveryKey) {
  UsePool(MakeTestPool({"127.0.0.1:32011:1"}, "fnv1a_64", "ketama"));
  EXPECT_EQ(ServerOf("a"), 0);
  EXPECT_EQ(ServerOf("key:1"), 0);
}

TEST_F(RouterFilterTest, SplitsMultiKeyRequestIntoFragmentsInServerOrder) {
  UsePool(S3Equal());
  Request request =
      MakeRequest("MGET", CommandKind::kMultiKey, {"key:1", "key:0", "key:6", "key:2"});
  ASSERT_EQ(Run(request), FilterStatus::kContinue);
  EXPECT_TRUE(Context().routed);
  EXPECT_THAT(pool_->codec().last_key_servers(), ElementsAre(2, 1, 0, 2));
  const std::vector<Fragment>& fragments = Context().fragments;
  ASSERT_EQ(fragments.size(), 3u);
  EXPECT_EQ(fragments[0].server, 0u);
  EXPECT_THAT(fragments[0].keys, ElementsAre(2));
  EXPECT_EQ(fragments[0].bytes, "mget key:6");
  EXPECT_EQ(fragments[1].server, 1u);
  EXPECT_THAT(fragments[1].keys, ElementsAre(1));
  EXPECT_EQ(fragments[1].bytes, "mget key:0");
  EXPECT_EQ(fragments[2].server, 2u);
  EXPECT_THAT(fragments[2].keys, ElementsAre(0, 3));
  EXPECT_EQ(fragments[2].bytes, "mget key:1 key:2");
}

TEST_F(RouterFilterTest, MultiKeyRequestOnOneServerGoesUnsplit) {
  UsePool(S3Equal());
  Request request = MakeRequest("DEL", CommandKind::kMultiKey, {"key:0", "key:3"});
  ASSERT_EQ(Run(request), FilterStatus::kContinue);
  EXPECT_EQ(pool_->codec().split_calls(), 1);
  EXPECT_TRUE(Context().routed);
  EXPECT_EQ(Context().server, 1u);
  EXPECT_THAT(Context().fragments, IsEmpty());
}

TEST_F(RouterFilterTest, TaggedMultiKeyRequestStaysOnOneServer) {
  UsePool(S3Equal("{}"));
  Request request =
      MakeRequest("MGET", CommandKind::kMultiKey, {"user:{1}:name", "user:{1}:email"});
  ASSERT_EQ(Run(request), FilterStatus::kContinue);
  EXPECT_THAT(pool_->codec().last_key_servers(), ElementsAre(2, 2));
  EXPECT_EQ(Context().server, 2u);
  EXPECT_THAT(Context().fragments, IsEmpty());
}

TEST_F(RouterFilterTest, SplitsKeyValuePairsByTheirKeys) {
  UsePool(S3Equal());
  Request request = MakeRequest("MSET", CommandKind::kMultiKey,
                                {"key:0", "v0", "key:6", "v6", "key:13", "v13"}, /*key_step=*/2);
  ASSERT_EQ(Run(request), FilterStatus::kContinue);
  EXPECT_THAT(pool_->codec().last_key_servers(), ElementsAre(1, 0, 0));
  const std::vector<Fragment>& fragments = Context().fragments;
  ASSERT_EQ(fragments.size(), 2u);
  EXPECT_EQ(fragments[0].server, 0u);
  EXPECT_THAT(fragments[0].keys, ElementsAre(1, 2));
  EXPECT_EQ(fragments[0].bytes, "mset key:6 v6 key:13 v13");
  EXPECT_EQ(fragments[1].server, 1u);
  EXPECT_THAT(fragments[1].keys, ElementsAre(0));
  EXPECT_EQ(fragments[1].bytes, "mset key:0 v0");
}

TEST_F(RouterFilterTest, OneFilterInstanceRoutesManyRequests) {
  UsePool(S3Equal());
  Request big = MakeRequest("MGET", CommandKind::kMultiKey, {"key:1", "key:0", "key:6"});
  Request small = MakeRequest("MGET", CommandKind::kMultiKey, {"key:0", "key:3"});
  ASSERT_EQ(Run(big), FilterStatus::kContinue);
  EXPECT_EQ(Context().fragments.size(), 3u);
  ASSERT_EQ(Run(small), FilterStatus::kContinue);
  EXPECT_THAT(pool_->codec().last_key_servers(), ElementsAre(1, 1));
  EXPECT_EQ(Context().server, 1u);
  EXPECT_THAT(Context().fragments, IsEmpty());
}

TEST_F(RouterFilterTest, RefusesColocatedKeysOnDifferentServers) {
  UsePool(S3Equal());
  Request request = MakeRequest("SINTER", CommandKind::kRead, {"key:0", "key:6"});
  request.colocated_keys = true;
  EXPECT_EQ(Run(request), FilterStatus::kStop);
  EXPECT_THAT(callbacks_->local_errors(),
              ElementsAre("keys of 'SINTER' map to different servers; keep them together with a "
                          "hash tag (hash_tag: \"{}\" and keys like {user1}:a)"));
  EXPECT_FALSE(Context().routed);
}

TEST_F(RouterFilterTest, ColocationHintUsesThePoolsOwnTag) {
  UsePool(S3Equal("{}"));
  Request request = MakeRequest("SUNION", CommandKind::kRead, {"key:0", "key:6"});
  request.colocated_keys = true;
  EXPECT_EQ(Run(request), FilterStatus::kStop);
  EXPECT_THAT(callbacks_->local_errors(),
              ElementsAre("keys of 'SUNION' map to different servers; keep them together with a "
                          "hash tag (keys like {user1}:a)"));
}

TEST_F(RouterFilterTest, RoutesColocatedKeysThatShareAServer) {
  UsePool(S3Equal("{}"));
  Request request = MakeRequest("SINTER", CommandKind::kRead, {"user:{1}:name", "user:{1}:email"});
  request.colocated_keys = true;
  EXPECT_EQ(Run(request), FilterStatus::kContinue);
  EXPECT_TRUE(Context().routed);
  EXPECT_EQ(Context().server, 2u);
  EXPECT_FALSE(callbacks_->answered_locally());
}

TEST_F(RouterFilterTest, RoutesSyntheticPlaceholderKey) {
  UsePool(S3Equal());
  Request request = MakeRequest("COMMAND", CommandKind::kRead, {"placeholder"});
  request.synthetic_key = true;
  EXPECT_EQ(Run(request), FilterStatus::kContinue);
  EXPECT_TRUE(Context().routed);
  EXPECT_EQ(Context().server, pool_->placement().ServerFor("placeholder"));
}

TEST_F(RouterFilterTest, RefusesNonLocalRequestWithoutKey) {
  UsePool(S3Equal());
  Request request = MakeRequest("GET", CommandKind::kRead, {});
  EXPECT_EQ(Run(request), FilterStatus::kStop);
  EXPECT_THAT(callbacks_->local_errors(), ElementsAre("request has no key to route by"));
  EXPECT_FALSE(Context().routed);
}

TEST_F(RouterFilterTest, LeavesLocalRequestsUnrouted) {
  UsePool(S3Equal());
  Request request = MakeRequest("PING", CommandKind::kLocal, {});
  EXPECT_EQ(Run(request), FilterStatus::kContinue);
  EXPECT_FALSE(Context().routed);
  EXPECT_FALSE(callbacks_->answered_locally());
}

TEST(RouterFilterAloneTest, RoutesByHashKeysSetBeforeIt) {
  auto pool = FakePoolView::Create(S3Equal());
  ASSERT_TRUE(pool.ok()) << pool.status();
  FakeFilterCallbacks callbacks(**pool);
  absl::StatusOr<FilterFactoryFn> factory = CreateRegisteredFilter("router", (*pool)->Config());
  ASSERT_TRUE(factory.ok()) << factory.status();
  FilterPtr router = (*factory)();
  Request request = MakeRequest("GET", CommandKind::kRead, {"anything"});
  callbacks.Context().hash_keys.push_back("key:6");
  EXPECT_EQ(router->OnRequest(request, callbacks), FilterStatus::kContinue);
  EXPECT_THAT((*pool)->routed_hash_keys(), ElementsAre("key:6"));
  EXPECT_EQ(callbacks.Context().server, 0u);
}

TEST(ColocationHintTest, SpellsKeysWithTheGivenTag) {
  EXPECT_EQ(ColocationHint(""), "hash_tag: \"{}\" and keys like {user1}:a");
  EXPECT_EQ(ColocationHint("{}"), "keys like {user1}:a");
  EXPECT_EQ(ColocationHint("$$"), "keys like $user1$:a");
}

}  // namespace
}  // namespace proxy::filters::router

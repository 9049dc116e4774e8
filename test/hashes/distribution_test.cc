// Golden routing tests: every row of distribution_vectors.tsv, through the hash and
// distribution registries, with pools built and keys routed the way twemproxy does.
#include "api/distribution.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/hash.h"
#include "api/registry.h"
#include "gtest/gtest.h"
#include "test/hashes/golden_tsv.h"
#include "test/hashes/vector_pool.h"

namespace proxy::hashes {
namespace {

const std::vector<std::string> kHeader = {
    "server_set", "servers",      "distribution", "hash",           "hash_tag",
    "key",        "server_index", "server",       "internal_index",
};
enum Column {
  kSet,
  kServers,
  kDistribution,
  kHash,
  kHashTag,
  kKey,
  kServerIndex,
  kServer,
  kInternalIndex
};

// One (server set, distribution, hash) combination, built once and reused by its rows.
struct Combination {
  test::VectorPool pool;
  DistributionPtr distribution;
  HashFunctionPtr hash;
};

TEST(DistributionTest, RegistryHasExactlyTheThreeTwemproxyNames) {
  EXPECT_EQ(Registry<DistributionFactory>::Names(),
            (std::vector<std::string>{"ketama", "modula", "random"}));
}

TEST(DistributionTest, MatchesEveryRowOfDistributionVectors) {
  absl::StatusOr<std::vector<test::TsvRow>> rows =
      test::ReadGoldenTsv("distribution_vectors.tsv", kHeader);
  ASSERT_TRUE(rows.ok()) << rows.status();

  std::map<std::string, Combination> combinations;
  std::map<std::string, int> rows_per_group;  // (set, distribution, hash, tag) -> rows
  int checked = 0;
  int failures = 0;
  for (const test::TsvRow& row : *rows) {
    const std::string combination_key =
        absl::StrCat(row[kServers], "\t", row[kDistribution], "\t", row[kHash]);
    auto it = combinations.find(combination_key);
    if (it == combinations.end()) {
      Combination combination;
      absl::StatusOr<test::VectorPool> pool = test::ParseVectorPool(row[kServers]);
      ASSERT_TRUE(pool.ok()) << pool.status();
      combination.pool = *std::move(pool);
      const DistributionFactory* distribution_factory =
          Registry<DistributionFactory>::Find(row[kDistribution]);
      ASSERT_NE(distribution_factory, nullptr) << row[kDistribution];
      absl::StatusOr<DistributionPtr> distribution =
          distribution_factory->Build(combination.pool.endpoints);
      ASSERT_TRUE(distribution.ok()) << distribution.status();
      combination.distribution = *std::move(distribution);
      const HashFunctionFactory* hash_factory = Registry<HashFunctionFactory>::Find(row[kHash]);
      ASSERT_NE(hash_factory, nullptr) << row[kHash];
      combination.hash = hash_factory->Create();
      it = combinations.emplace(combination_key, std::move(combination)).first;
    }
    const Combination& combination = it->second;
    ASSERT_TRUE(row[kHashTag].empty() || row[kHashTag] == "{}") << row[kHashTag];

    size_t want_internal = 0;
    size_t want_config = 0;
    ASSERT_TRUE(absl::SimpleAtoi(row[kInternalIndex], &want_internal)) << row[kInternalIndex];
    ASSERT_TRUE(absl::SimpleAtoi(row[kServerIndex], &want_config)) << row[kServerIndex];

    const uint32_t internal = test::RouteKey(combination.pool, *combination.hash,
                                             *combination.distribution, row[kHashTag], row[kKey]);
    ASSERT_LT(internal, combination.pool.sorted.size());
    const test::VectorServer& server = combination.pool.sorted[internal];
    if (internal != want_internal || server.config_index != want_config ||
        server.entry != row[kServer]) {
      if (++failures <= 20) {
        ADD_FAILURE() << row[kSet] << " " << row[kDistribution] << " " << row[kHash] << " tag '"
                      << row[kHashTag] << "' key '" << row[kKey] << "': got internal " << internal
                      << " (" << server.entry << "), want internal " << want_internal << " ("
                      << row[kServer] << ")";
      }
    }
    ++rows_per_group[absl::StrCat(row[kSet], "/", row[kDistribution], "/", row[kHash], "/",
                                  row[kHashTag])];
    ++checked;
  }
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(checked, 25600);
  EXPECT_EQ(combinations.size(), 8u * 2 * 4);
  EXPECT_EQ(rows_per_group.size(), 8u * 2 * 4 * 2);
  for (const auto& [group, count] : rows_per_group) {
    EXPECT_EQ(count, 200) << group;
  }
}

TEST(DistributionTest, VectorPoolSortsByNameLengthThenBytes) {
  absl::StatusOr<test::VectorPool> pool = test::ParseVectorPool(
      "127.0.0.1:32013:1|127.0.0.1:9000:1|10.0.0.1:11211:2|127.0.0.1:6379:1 zname");
  ASSERT_TRUE(pool.ok()) << pool.status();
  std::vector<std::string> names;
  std::vector<size_t> config_order;
  for (const test::VectorServer& server : pool->sorted) {
    names.push_back(server.node_name);
    config_order.push_back(server.config_index);
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"zname", "10.0.0.1", "127.0.0.1:9000", "127.0.0.1:32013"}));
  EXPECT_EQ(config_order, (std::vector<size_t>{3, 2, 1, 0}));
  EXPECT_EQ(pool->endpoints[1].weight, 2u);
}

TEST(DistributionTest, HashTagExtractionFollowsTwemproxy) {
  EXPECT_EQ(test::ExtractHashTag("user:{1000}:name", "{}"), "1000");
  EXPECT_EQ(test::ExtractHashTag("x{1000}y", "{}"), "1000");
  EXPECT_EQ(test::ExtractHashTag("user:{}:a", "{}"), "user:{}:a");
  EXPECT_EQ(test::ExtractHashTag("a}b{c}", "{}"), "c");
  EXPECT_EQ(test::ExtractHashTag("{a}{b}", "{}"), "a");
  EXPECT_EQ(test::ExtractHashTag("{{x}}", "{}"), "{x");
  EXPECT_EQ(test::ExtractHashTag("{abc", "{}"), "{abc");
  EXPECT_EQ(test::ExtractHashTag("user:{1000}:name", ""), "user:{1000}:name");
}

}  // namespace
}  // namespace proxy::hashes

// Golden ring tests: every point of ketama_continuum.tsv (9 server sets, 10,140 points).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "hashes/distributions/ketama.h"
#include "test/hashes/golden_tsv.h"
#include "test/hashes/vector_pool.h"

namespace proxy::hashes {
namespace {

// The 25-server set that appears only in the continuum file.
std::string S25EqualServers() {
  std::vector<std::string> servers;
  for (int port = 32101; port <= 32125; ++port) {
    servers.push_back(absl::StrCat("127.0.0.1:", port, ":1"));
  }
  return absl::StrJoin(servers, "|");
}

// server_set -> `servers` column, from distribution_vectors.tsv plus s25_equal.
std::map<std::string, std::string> ServerSets() {
  std::map<std::string, std::string> sets = {{"s25_equal", S25EqualServers()}};
  absl::StatusOr<std::vector<test::TsvRow>> rows = test::ReadGoldenTsv(
      "distribution_vectors.tsv", {"server_set", "servers", "distribution", "hash", "hash_tag",
                                   "key", "server_index", "server", "internal_index"});
  if (!rows.ok()) {
    ADD_FAILURE() << rows.status();
    return sets;
  }
  for (const test::TsvRow& row : *rows) {
    sets.emplace(row[0], row[1]);
  }
  return sets;
}

TEST(KetamaContinuumTest, MatchesEveryPointOfEveryRing) {
  absl::StatusOr<std::vector<test::TsvRow>> rows =
      test::ReadGoldenTsv("ketama_continuum.tsv", {"server_set", "point_index", "value", "server"});
  ASSERT_TRUE(rows.ok()) << rows.status();
  std::map<std::string, std::vector<test::TsvRow>> rows_by_set;
  for (test::TsvRow& row : *rows) {
    rows_by_set[row[0]].push_back(std::move(row));
  }
  const std::map<std::string, std::string> server_sets = ServerSets();
  ASSERT_EQ(server_sets.size(), 9u);
  ASSERT_EQ(rows_by_set.size(), 9u);

  int checked = 0;
  for (const auto& [set, set_rows] : rows_by_set) {
    ASSERT_EQ(server_sets.count(set), 1u) << set;
    absl::StatusOr<test::VectorPool> pool = test::ParseVectorPool(server_sets.at(set));
    ASSERT_TRUE(pool.ok()) << pool.status();
    absl::StatusOr<std::unique_ptr<KetamaDistribution>> ring =
        KetamaDistribution::Build(pool->endpoints);
    ASSERT_TRUE(ring.ok()) << ring.status();
    const std::vector<KetamaDistribution::Point>& points = (*ring)->points();
    ASSERT_EQ(points.size(), set_rows.size()) << set;

    int failures = 0;
    for (size_t i = 0; i < set_rows.size(); ++i) {
      const test::TsvRow& row = set_rows[i];
      size_t point_index = 0;
      uint32_t value = 0;
      ASSERT_TRUE(absl::SimpleAtoi(row[1], &point_index)) << row[1];
      ASSERT_TRUE(absl::SimpleAtoi(row[2], &value)) << row[2];
      ASSERT_EQ(point_index, i) << set;
      const std::string& owner = pool->sorted[points[i].server].entry;
      if ((points[i].value != value || owner != row[3]) && ++failures <= 10) {
        ADD_FAILURE() << set << " point " << i << ": got " << points[i].value << " (" << owner
                      << "), want " << value << " (" << row[3] << ")";
      }
      ++checked;
    }
    EXPECT_EQ(failures, 0) << set;
  }
  EXPECT_EQ(checked, 10140);

  const std::map<std::string, size_t> want_sizes = {
      {"s1_single", 160},     {"s3_equal", 480},          {"s3_named", 480},
      {"s3_bigweights", 480}, {"s4_unsorted_mixed", 640}, {"s5_weighted", 800},
      {"s10_equal", 1600},    {"s10_port11211", 1600},    {"s25_equal", 3900},
  };
  for (const auto& [set, size] : want_sizes) {
    ASSERT_EQ(rows_by_set.count(set), 1u) << set;
    EXPECT_EQ(rows_by_set.at(set).size(), size) << set;
  }
}

}  // namespace
}  // namespace proxy::hashes

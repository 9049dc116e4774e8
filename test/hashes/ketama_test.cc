// Behaviour tests for the ketama distribution: input checks, point counts, lookup and spread.
#include "hashes/distributions/ketama.h"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/distribution.h"
#include "api/hash.h"
#include "api/registry.h"
#include "gtest/gtest.h"

namespace proxy::hashes {
namespace {

std::vector<Endpoint> EqualServers(int count) {
  std::vector<Endpoint> servers;
  for (int i = 0; i < count; ++i) {
    servers.push_back(Endpoint{absl::StrCat("10.0.0.", i + 1, ":6379"), 1});
  }
  return servers;
}

TEST(KetamaTest, IsRegisteredAsKetama) {
  const DistributionFactory* factory = Registry<DistributionFactory>::Find("ketama");
  ASSERT_NE(factory, nullptr);
  EXPECT_EQ(factory->Name(), "ketama");
  EXPECT_FALSE(factory->Description().empty());
}

TEST(KetamaTest, BuildRejectsEmptySetAndZeroWeight) {
  const DistributionFactory* factory = Registry<DistributionFactory>::Find("ketama");
  ASSERT_NE(factory, nullptr);
  EXPECT_EQ(factory->Build({}).status().code(), absl::StatusCode::kInvalidArgument);
  const std::vector<Endpoint> zero = {{"a:1", 1}, {"b:1", 0}};
  absl::StatusOr<DistributionPtr> built = factory->Build(zero);
  EXPECT_EQ(built.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(built.status().message().find("'b:1'"), absl::string_view::npos) << built.status();
}

TEST(KetamaTest, EqualWeightsGet156PointsExactlyWhereSinglePrecisionSaysSo) {
  // twemproxy computes the points per server in single precision (docs/compatibility.md): the
  // pool sizes <= 200 whose equal servers get 156 points, not 160.
  const std::set<uint32_t> short_sizes = {25,  47,  50,  55,  61,  71,  94,  100, 107, 109,
                                          110, 115, 122, 142, 159, 163, 188, 193, 200};
  for (uint32_t n = 1; n <= 200; ++n) {
    EXPECT_EQ(KetamaPointCount(1, n, n), short_sizes.count(n) ? 156u : 160u) << "n=" << n;
  }
}

TEST(KetamaTest, TwentyFiveEqualServersMakeA3900PointRing) {
  absl::StatusOr<std::unique_ptr<KetamaDistribution>> ring =
      KetamaDistribution::Build(EqualServers(25));
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_EQ((*ring)->points().size(), 3900u);
}

TEST(KetamaTest, PointsFollowWeights) {
  // pct 1/4 -> 4 * floor(0.25 * 160 / 4 * 2) = 80 points; pct 3/4 -> 240 points.
  EXPECT_EQ(KetamaPointCount(1, 4, 2), 80u);
  EXPECT_EQ(KetamaPointCount(3, 4, 2), 240u);
  const std::vector<Endpoint> servers = {{"light", 1}, {"heavy", 3}};
  absl::StatusOr<std::unique_ptr<KetamaDistribution>> ring = KetamaDistribution::Build(servers);
  ASSERT_TRUE(ring.ok()) << ring.status();
  int owned[2] = {0, 0};
  for (const KetamaDistribution::Point& point : (*ring)->points()) {
    ++owned[point.server];
  }
  EXPECT_EQ(owned[0], 80);
  EXPECT_EQ(owned[1], 240);
}

TEST(KetamaTest, RingIsSortedAndLookupIsLowerBoundWithWrap) {
  absl::StatusOr<std::unique_ptr<KetamaDistribution>> ring =
      KetamaDistribution::Build(EqualServers(3));
  ASSERT_TRUE(ring.ok()) << ring.status();
  const std::vector<KetamaDistribution::Point>& points = (*ring)->points();
  ASSERT_EQ(points.size(), 480u);
  for (size_t i = 1; i < points.size(); ++i) {
    ASSERT_LE(points[i - 1].value, points[i].value);
  }
  for (size_t i = 0; i < points.size(); ++i) {
    // A hash equal to a point, or just above the previous point, lands on that point.
    EXPECT_EQ((*ring)->Select(points[i].value), points[i].server);
    if (i > 0 && points[i - 1].value + 1 < points[i].value) {
      EXPECT_EQ((*ring)->Select(points[i - 1].value + 1), points[i].server);
    }
  }
  EXPECT_EQ((*ring)->Select(0), points.front().server);
  ASSERT_LT(points.back().value, UINT32_MAX);
  EXPECT_EQ((*ring)->Select(points.back().value + 1), points.front().server);
  EXPECT_EQ((*ring)->Select(UINT32_MAX), points.front().server);
}

TEST(KetamaTest, PointKeysAreCutAt272Bytes) {
  // "<name>-<j>" longer than 272 bytes is truncated, so with a 280-byte name every j hashes the
  // same string: the 160 points collapse onto the 4 values of one digest.
  const std::vector<Endpoint> servers = {{std::string(280, 'x'), 1}};
  absl::StatusOr<std::unique_ptr<KetamaDistribution>> ring = KetamaDistribution::Build(servers);
  ASSERT_TRUE(ring.ok()) << ring.status();
  std::set<uint32_t> values;
  for (const KetamaDistribution::Point& point : (*ring)->points()) {
    values.insert(point.value);
  }
  EXPECT_EQ((*ring)->points().size(), 160u);
  EXPECT_EQ(values.size(), 4u);
}

TEST(KetamaTest, SpreadsMd5HashedKeysEvenlyOverTenServers) {
  const HashFunctionFactory* md5 = Registry<HashFunctionFactory>::Find("md5");
  ASSERT_NE(md5, nullptr);
  HashFunctionPtr hash = md5->Create();
  absl::StatusOr<DistributionPtr> ring =
      Registry<DistributionFactory>::Find("ketama")->Build(EqualServers(10));
  ASSERT_TRUE(ring.ok()) << ring.status();
  constexpr int kKeys = 100000;
  std::vector<int> counts(10, 0);
  for (int i = 0; i < kKeys; ++i) {
    const uint32_t server = (*ring)->Select(hash->Hash(absl::StrCat("key:", i)));
    ASSERT_LT(server, 10u);
    ++counts[server];
  }
  for (int server = 0; server < 10; ++server) {
    EXPECT_GE(counts[server], kKeys * 5 / 100) << "server " << server;
    EXPECT_LE(counts[server], kKeys * 15 / 100) << "server " << server;
  }
}

TEST(KetamaTest, RemovingAServerOnlyMovesItsKeys) {
  std::vector<Endpoint> servers = EqualServers(5);
  absl::StatusOr<std::unique_ptr<KetamaDistribution>> full = KetamaDistribution::Build(servers);
  ASSERT_TRUE(full.ok()) << full.status();
  servers.erase(servers.begin() + 2);
  absl::StatusOr<std::unique_ptr<KetamaDistribution>> reduced = KetamaDistribution::Build(servers);
  ASSERT_TRUE(reduced.ok()) << reduced.status();
  const uint32_t to_full_index[4] = {0, 1, 3, 4};
  for (uint64_t step = 0; step <= UINT32_MAX; step += 0x00FF00FFu) {
    const auto hash = static_cast<uint32_t>(step);
    const uint32_t before = (*full)->Select(hash);
    if (before != 2) {
      EXPECT_EQ(to_full_index[(*reduced)->Select(hash)], before) << "hash " << hash;
    }
  }
}

}  // namespace
}  // namespace proxy::hashes

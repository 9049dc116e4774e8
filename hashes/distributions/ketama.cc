// The ketama distribution plugin: ring construction, lookup and registration as "ketama".
#include "hashes/distributions/ketama.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "api/registry.h"
#include "hashes/common/md5.h"
#include "hashes/distributions/endpoints.h"

namespace proxy::hashes {
namespace {

constexpr float kPointsPerServer = 160;
constexpr uint32_t kPointsPerDigest = 4;
// twemproxy formats "<name>-<j>" into a 273-byte buffer, so at most 272 bytes are hashed.
constexpr size_t kMaxPointKeySize = 272;

uint32_t LoadLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

}  // namespace

uint32_t KetamaPointCount(uint32_t weight, uint32_t total_weight, uint32_t server_count) {
  // Every step is a float operation on purpose: doubles or integers give 160 instead of 156
  // points per server for some pool sizes (n = 25, 47, 50, ...), and then a different ring.
  const float pct = static_cast<float>(weight) / static_cast<float>(total_weight);
  float per_server = pct * kPointsPerServer;
  per_server = per_server / static_cast<float>(kPointsPerDigest);
  per_server = per_server * static_cast<float>(server_count);
  // The 1e-10 nudge is added in double and rounded back to float before flooring.
  const auto nudged = static_cast<float>(static_cast<double>(per_server) + 0.0000000001);
  return static_cast<uint32_t>(std::floor(nudged)) * kPointsPerDigest;
}

absl::StatusOr<std::unique_ptr<KetamaDistribution>> KetamaDistribution::Build(
    absl::Span<const Endpoint> live) {
  uint32_t total_weight = 0;
  absl::Status status = ValidateEndpoints("ketama", live, &total_weight);
  if (!status.ok()) {
    return status;
  }
  const auto server_count = static_cast<uint32_t>(live.size());

  std::vector<Point> points;
  std::string point_key;
  uint8_t digest[kMd5DigestSize];
  for (uint32_t server = 0; server < server_count; ++server) {
    const uint32_t count = KetamaPointCount(live[server].weight, total_weight, server_count);
    for (uint32_t j = 0; j < count / kPointsPerDigest; ++j) {
      point_key = absl::StrCat(live[server].name, "-", j);
      if (point_key.size() > kMaxPointKeySize) {
        point_key.resize(kMaxPointKeySize);
      }
      Md5(point_key, digest);
      for (uint32_t k = 0; k < kPointsPerDigest; ++k) {
        points.push_back(Point{LoadLe32(digest + 4 * k), server});
      }
    }
  }
  if (points.empty()) {
    // Cannot happen: the heaviest server always gets >= 156 points.
    return absl::InternalError("ketama: the ring has no points");
  }
  std::stable_sort(points.begin(), points.end(),
                   [](const Point& a, const Point& b) { return a.value < b.value; });
  return std::unique_ptr<KetamaDistribution>(new KetamaDistribution(std::move(points)));
}

uint32_t KetamaDistribution::Select(uint32_t hash) const {
  auto it =
      std::lower_bound(points_.begin(), points_.end(), hash,
                       [](const Point& point, uint32_t value) { return point.value < value; });
  if (it == points_.end()) {
    it = points_.begin();
  }
  return it->server;
}

DistributionLayout KetamaDistribution::Layout() const {
  DistributionLayout layout;
  layout.kind = DistributionLayout::Kind::kRing;
  layout.points.reserve(points_.size());
  layout.owners.reserve(points_.size());
  for (const Point& point : points_) {
    if (!layout.points.empty() && layout.points.back() == point.value) continue;
    layout.points.push_back(point.value);
    layout.owners.push_back(point.server);
  }
  return layout;
}

namespace {

class KetamaFactory final : public DistributionFactory {
 public:
  absl::string_view Name() const override { return "ketama"; }
  absl::string_view Description() const override {
    return "consistent hashing on an MD5 ring of ~160 points per server (twemproxy default)";
  }
  absl::StatusOr<DistributionPtr> Build(absl::Span<const Endpoint> live) const override {
    absl::StatusOr<std::unique_ptr<KetamaDistribution>> ring = KetamaDistribution::Build(live);
    if (!ring.ok()) {
      return ring.status();
    }
    return DistributionPtr(std::move(*ring));
  }
};

}  // namespace

PROXY_REGISTER_FACTORY(KetamaFactory, ::proxy::DistributionFactory)

}  // namespace proxy::hashes

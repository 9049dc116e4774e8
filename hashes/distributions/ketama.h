// The ketama consistent-hashing distribution (twemproxy's default), bit-exact with its ring.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "api/distribution.h"

namespace proxy::hashes {

// Ring points a server gets, computed in single precision exactly as twemproxy does:
// 4 * floorf(float(weight / total * 160 / 4 * n) + 1e-10). 25 equal servers get 156 each.
uint32_t KetamaPointCount(uint32_t weight, uint32_t total_weight, uint32_t server_count);

// An immutable ketama ring over one set of live servers. Server `i` (in the sorted order given
// to Build) contributes KetamaPointCount() points: for j = 0 .. points/4 - 1 the MD5 digest of
// "<name>-<j>" yields four little-endian uint32 points. Points are sorted by value (ties keep
// build order); a hash maps to the first point >= it, wrapping to the first point.
class KetamaDistribution final : public Distribution {
 public:
  // One point of the ring: its value and the index (into Build's `live`) of its owner.
  struct Point {
    uint32_t value;
    uint32_t server;
  };

  // kInvalidArgument for an empty `live`, a zero weight or a total weight above 2^32-1.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<KetamaDistribution>> Build(
      absl::Span<const Endpoint> live);

  uint32_t Select(uint32_t hash) const override;
  // kRing: the distinct point values; a value several servers share belongs to the first
  // point of that value in the ring, which is the one Select() finds (lower_bound).
  DistributionLayout Layout() const override;

  // The ring in lookup order, for tests and debugging.
  const std::vector<Point>& points() const { return points_; }

 private:
  explicit KetamaDistribution(std::vector<Point> points) : points_(std::move(points)) {}

  std::vector<Point> points_;  // sorted by value; never empty
};

}  // namespace proxy::hashes

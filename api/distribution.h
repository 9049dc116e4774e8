// Key distribution plugin interface: maps a key's hash to one of a pool's live servers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace proxy {

// One live server as a distribution sees it.
struct Endpoint {
  Endpoint() = default;
  Endpoint(std::string name_in, uint32_t weight_in)
      : name(std::move(name_in)), weight(weight_in) {}

  std::string name;    // twemproxy's node name: explicit name, else host:port (port 11211 dropped)
  uint32_t weight = 1;  // >= 1
  // Redis Cluster pools: the hash slots this server serves (inclusive ranges); empty otherwise.
  std::vector<std::pair<uint32_t, uint32_t>> slots;
};

// An exact description of a Distribution's hash → index mapping, for offline analysis:
// `proxyctl diff` and core/config/diff.h compute from two layouts exactly which share of the
// 32-bit hash space changes servers. Indexes are into the `live` span given to Build().
struct DistributionLayout {
  enum class Kind {
    kOpaque,  // not described (the default): only per-key comparisons are possible
    kRing,    // h → owners[i] for the first points[i] >= h, wrapping to owners[0] past the last
    kModulo,  // h → the server i whose slots [slot_ends[i-1], slot_ends[i]) hold h % total
    kRandom,  // the hash is ignored: every request may go to any live server
  };
  Kind kind = Kind::kOpaque;
  // kRing: strictly ascending values and their owners, in parallel. Where the ring has several
  // points with one value, the owner is the one Select() returns for that value.
  std::vector<uint32_t> points;
  std::vector<uint32_t> owners;
  // kModulo: running totals of the slot counts (slot_ends[0] = slots of server 0, ...); the
  // last one is the modulus. Non-decreasing, last > 0.
  std::vector<uint32_t> slot_ends;
};

// An immutable snapshot built for one set of live servers; rebuilt by the caller whenever that
// set changes (eject/return). Select() is const and thread-safe.
class Distribution {
 public:
  virtual ~Distribution() = default;
  // Index into the `live` span given to Build() (which the caller passes in twemproxy's sorted
  // server order). `hash` is the key's hash (0 for an empty key).
  virtual uint32_t Select(uint32_t hash) const = 0;
  // Keys that one request may carry together must share a shard: for most distributions the
  // server itself (the default), for Redis Cluster the hash slot (a node refuses a request
  // whose keys are in different slots). Select(h) == SelectShard(ShardOf(h)).
  virtual uint32_t ShardOf(uint32_t hash) const { return Select(hash); }
  virtual uint32_t SelectShard(uint32_t shard) const { return shard; }
  // The exact mapping Select() implements, when the distribution can describe it. Distributions
  // that do not override this are kOpaque: tools then compare placements key by key only.
  virtual DistributionLayout Layout() const { return {}; }
};
using DistributionPtr = std::unique_ptr<Distribution>;

// Registered under the exact `distribution:` YAML value ("ketama", "modula", "random").
class DistributionFactory {
 public:
  static constexpr absl::string_view kCategory = "distribution";
  virtual ~DistributionFactory() = default;
  virtual absl::string_view Name() const = 0;
  virtual absl::string_view Description() const = 0;
  // `live` must be non-empty, in twemproxy's sorted order (name length, then bytes).
  // kInvalidArgument for an empty set or a zero weight.
  virtual absl::StatusOr<DistributionPtr> Build(absl::Span<const Endpoint> live) const = 0;
};

}  // namespace proxy

// Key distribution plugin interface: maps a key's hash to one of a pool's live servers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace proxy {

// One live server as a distribution sees it.
struct Endpoint {
  std::string name;    // twemproxy's node name: explicit name, else host:port (port 11211 dropped)
  uint32_t weight = 1;  // >= 1
};

// An immutable snapshot built for one set of live servers; rebuilt by the caller whenever that
// set changes (eject/return). Select() is const and thread-safe.
class Distribution {
 public:
  virtual ~Distribution() = default;
  // Index into the `live` span given to Build() (which the caller passes in twemproxy's sorted
  // server order). `hash` is the key's hash (0 for an empty key).
  virtual uint32_t Select(uint32_t hash) const = 0;
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

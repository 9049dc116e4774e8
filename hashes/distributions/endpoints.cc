// Input checks shared by the ketama, modula and random distribution plugins.
#include "hashes/distributions/endpoints.h"

#include <limits>

#include "absl/strings/str_cat.h"

namespace proxy::hashes {

absl::Status ValidateEndpoints(absl::string_view distribution, absl::Span<const Endpoint> live,
                               uint32_t* total_weight) {
  if (live.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(distribution, ": no live servers"));
  }
  uint64_t total = 0;
  for (const Endpoint& endpoint : live) {
    if (endpoint.weight == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(distribution, ": server '", endpoint.name, "' has a zero weight"));
    }
    total += endpoint.weight;
  }
  if (total > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError(absl::StrCat(
        distribution, ": the total weight of the live servers (", total, ") exceeds 2^32-1"));
  }
  *total_weight = static_cast<uint32_t>(total);
  return absl::OkStatus();
}

}  // namespace proxy::hashes

// Input checks shared by the ketama, modula and random distribution plugins.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "api/distribution.h"

namespace proxy::hashes {

// kInvalidArgument, prefixed with `distribution`, when `live` is empty, a weight is zero or the
// total weight does not fit in 32 bits. On success stores the total weight in `*total_weight`.
[[nodiscard]] absl::Status ValidateEndpoints(absl::string_view distribution,
                                             absl::Span<const Endpoint> live,
                                             uint32_t* total_weight);

}  // namespace proxy::hashes

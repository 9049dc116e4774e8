// Test-only: builds a pool from a golden `servers` column the way twemproxy's config loader does,
// and routes a key through a hash function and a distribution as twemproxy's router does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/distribution.h"
#include "api/hash.h"

namespace proxy::test {

// One `servers:` entry ("host:port:weight [name]") and what twemproxy derives from it.
struct VectorServer {
  std::string entry;      // the YAML entry verbatim
  std::string node_name;  // explicit name, else host (port 11211), else host:port
  uint32_t weight = 0;
  size_t config_index = 0;  // position in the `servers` column
};

// The servers in twemproxy's sorted order (node-name length, then bytes), and the matching
// Endpoints to hand to DistributionFactory::Build().
struct VectorPool {
  std::vector<VectorServer> sorted;
  std::vector<Endpoint> endpoints;
};

// Parses a `|`-joined servers column. kInvalidArgument for a malformed entry.
[[nodiscard]] absl::StatusOr<VectorPool> ParseVectorPool(absl::string_view servers_column);

// The bytes twemproxy hashes for `key` under `hash_tag` (empty, or two chars such as "{}"):
// the content between the first left char and the first right char after it when non-empty,
// else the whole key.
absl::string_view ExtractHashTag(absl::string_view key, absl::string_view hash_tag);

// The sorted index twemproxy routes `key` to: 0 for a single-server pool (nothing is hashed),
// else distribution.Select(hash), where the hash is 0 for an empty (tag-extracted) key.
uint32_t RouteKey(const VectorPool& pool, const HashFunction& hash,
                  const Distribution& distribution, absl::string_view hash_tag,
                  absl::string_view key);

}  // namespace proxy::test

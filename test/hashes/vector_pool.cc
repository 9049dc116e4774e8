// Test-only: builds a pool from a golden `servers` column the way twemproxy's config loader does,
// and routes a key through a hash function and a distribution as twemproxy's router does.
#include "test/hashes/vector_pool.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace proxy::test {
namespace {

absl::StatusOr<VectorServer> ParseServer(absl::string_view entry, size_t config_index) {
  VectorServer server;
  server.entry = std::string(entry);
  server.config_index = config_index;

  absl::string_view address = entry;
  absl::string_view name;
  if (size_t space = entry.rfind(' '); space != absl::string_view::npos) {
    name = entry.substr(space + 1);
    address = entry.substr(0, space);
  }
  const size_t weight_colon = address.rfind(':');
  if (weight_colon == absl::string_view::npos ||
      !absl::SimpleAtoi(address.substr(weight_colon + 1), &server.weight)) {
    return absl::InvalidArgumentError(absl::StrCat("bad server entry '", entry, "'"));
  }
  const absl::string_view host_port = address.substr(0, weight_colon);
  if (!name.empty()) {
    server.node_name = std::string(name);
  } else if (!host_port.empty() && host_port[0] == '/') {
    server.node_name = absl::StrCat(host_port, ":");  // unix socket: path plus a colon
  } else {
    const size_t port_colon = host_port.rfind(':');
    if (port_colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("bad server entry '", entry, "'"));
    }
    server.node_name = host_port.substr(port_colon + 1) == "11211"
                           ? std::string(host_port.substr(0, port_colon))
                           : std::string(host_port);
  }
  return server;
}

}  // namespace

absl::StatusOr<VectorPool> ParseVectorPool(absl::string_view servers_column) {
  VectorPool pool;
  size_t index = 0;
  for (absl::string_view entry : absl::StrSplit(servers_column, '|')) {
    absl::StatusOr<VectorServer> server = ParseServer(entry, index++);
    if (!server.ok()) {
      return server.status();
    }
    pool.sorted.push_back(*std::move(server));
  }
  std::stable_sort(pool.sorted.begin(), pool.sorted.end(),
                   [](const VectorServer& a, const VectorServer& b) {
                     if (a.node_name.size() != b.node_name.size()) {
                       return a.node_name.size() < b.node_name.size();
                     }
                     return a.node_name < b.node_name;
                   });
  for (const VectorServer& server : pool.sorted) {
    pool.endpoints.push_back(Endpoint{server.node_name, server.weight});
  }
  return pool;
}

absl::string_view ExtractHashTag(absl::string_view key, absl::string_view hash_tag) {
  if (hash_tag.size() != 2) {
    return key;
  }
  const size_t left = key.find(hash_tag[0]);
  if (left == absl::string_view::npos) {
    return key;
  }
  const size_t right = key.find(hash_tag[1], left + 1);
  if (right == absl::string_view::npos || right == left + 1) {
    return key;
  }
  return key.substr(left + 1, right - left - 1);
}

uint32_t RouteKey(const VectorPool& pool, const HashFunction& hash,
                  const Distribution& distribution, absl::string_view hash_tag,
                  absl::string_view key) {
  if (pool.sorted.size() == 1) {
    return 0;
  }
  const absl::string_view hashed = ExtractHashTag(key, hash_tag);
  return distribution.Select(hashed.empty() ? 0 : hash.Hash(hashed));
}

}  // namespace proxy::test

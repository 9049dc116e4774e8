// twemproxy's routing: hash tag, hash, distribution, server order (api/placement.h).
#include "api/placement.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "api/registry.h"

namespace proxy {
bool TwemproxyLess(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return std::memcmp(a.data(), b.data(), a.size()) < 0;
}

absl::string_view HashTagKey(absl::string_view key, absl::string_view tag) {
  if (tag.size() != 2) return key;
  const size_t left = key.find(tag[0]);
  if (left == absl::string_view::npos) return key;
  const size_t right = key.find(tag[1], left + 1);
  if (right == absl::string_view::npos || right == left + 1) return key;
  return key.substr(left + 1, right - left - 1);
}

std::vector<uint32_t> SortedServerOrder(const config::v1::Pool& pool) {
  std::vector<uint32_t> order(pool.servers_size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&pool](uint32_t a, uint32_t b) {
    return TwemproxyLess(pool.servers(a).node_name(), pool.servers(b).node_name());
  });
  return order;
}

absl::StatusOr<KeyPlacementPtr> KeyPlacement::Create(const config::v1::Pool& pool,
                                                     absl::Span<const bool> live) {
  const HashFunctionFactory* hash = Registry<HashFunctionFactory>::Find(pool.hash());
  if (hash == nullptr) {
    return absl::NotFoundError(absl::StrCat("'", pool.hash(), "' is not a valid hash (valid: ",
                                            Registry<HashFunctionFactory>::NamesForMessage(),
                                            ")"));
  }
  const DistributionFactory* distribution =
      Registry<DistributionFactory>::Find(pool.distribution());
  if (distribution == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "'", pool.distribution(), "' is not a valid distribution (valid: ",
        Registry<DistributionFactory>::NamesForMessage(), ")"));
  }
  KeyPlacementPtr placement(new KeyPlacement());
  placement->hash_tag_ = pool.hash_tag();
  placement->hash_ = hash->Create();
  std::vector<Endpoint> endpoints;
  for (uint32_t index : SortedServerOrder(pool)) {
    if (!live.empty() && (index >= live.size() || !live[index])) continue;
    const config::v1::Server& server = pool.servers(index);
    Endpoint& endpoint = endpoints.emplace_back();
    endpoint.name = server.node_name();
    endpoint.weight = server.weight();
    for (const config::v1::SlotRange& range : server.slots()) {
      endpoint.slots.emplace_back(range.first(), range.last());
    }
    placement->live_config_index_.push_back(index);
  }
  if (endpoints.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("pool '", pool.name(), "' has no live servers"));
  }
  // twemproxy routes everything to the only server of a one-server pool without hashing.
  placement->single_server_ = pool.servers_size() == 1;
  auto built = distribution->Build(endpoints);
  if (!built.ok()) return built.status();
  placement->distribution_ = *std::move(built);
  return placement;
}

uint32_t KeyPlacement::HashOf(absl::string_view key) const {
  absl::string_view hashed = HashTagKey(key, hash_tag_);
  return hashed.empty() ? 0 : hash_->Hash(hashed);
}

uint32_t KeyPlacement::ServerForHash(uint32_t hash) const {
  if (single_server_) return live_config_index_[0];
  return live_config_index_[distribution_->Select(hash)];
}

uint32_t KeyPlacement::ServerForHashKey(absl::string_view hashed) const {
  if (single_server_) return live_config_index_[0];
  return ServerForHash(hashed.empty() ? 0 : hash_->Hash(hashed));
}

uint32_t KeyPlacement::ShardForHashKey(absl::string_view hashed) const {
  return distribution_->ShardOf(hashed.empty() ? 0 : hash_->Hash(hashed));
}

uint32_t KeyPlacement::ServerOfShard(uint32_t shard) const {
  if (single_server_) return live_config_index_[0];
  return live_config_index_[distribution_->SelectShard(shard)];
}

uint32_t KeyPlacement::ServerFor(absl::string_view key) const {
  if (single_server_) return live_config_index_[0];
  return ServerForHash(HashOf(key));
}

}  // namespace proxy

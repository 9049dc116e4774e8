// Key → server routing for single-key, colocated and split multi-key requests;
// placement itself is the pool's (PoolView::ServerForHashKey).
#include "filters/router/router_filter.h"

#include "absl/strings/str_cat.h"
#include "api/config/v1/bootstrap.pb.h"

namespace proxy::filters::router {
namespace {

// The bytes to hash for key `i`: the hash_tag filter's extraction when it ran, else the key.
inline absl::string_view HashKey(const Request& request, const RequestContext& context, size_t i) {
  return i < context.hash_keys.size() ? context.hash_keys[i] : request.Key(i);
}

}  // namespace

std::string ColocationHint(absl::string_view hash_tag) {
  if (hash_tag.size() != 2) {
    return "hash_tag: \"{}\" and keys like {user1}:a";
  }
  return absl::StrCat("keys like ", hash_tag.substr(0, 1), "user1", hash_tag.substr(1, 1), ":a");
}

FilterStatus RouterFilter::OnRequest(Request& request, FilterCallbacks& callbacks) {
  const size_t count = request.KeyCount();
  if (count == 0) {
    if (request.kind == CommandKind::kLocal) {
      return FilterStatus::kContinue;  // answered by the session, nothing to route
    }
    callbacks.SendLocalError("request has no key to route by");
    return FilterStatus::kStop;
  }
  if (request.kind == CommandKind::kMultiKey) {
    return RouteMultiKey(request, count, callbacks);
  }
  if (request.colocated_keys && count > 1) {
    return RouteColocated(request, count, callbacks);
  }
  // The common path: one key, one server, no allocation.
  RequestContext& context = callbacks.Context();
  context.server = callbacks.Pool().ServerForHashKey(HashKey(request, context, 0));
  context.routed = true;
  return FilterStatus::kContinue;
}

FilterStatus RouterFilter::RouteMultiKey(const Request& request, size_t count,
                                         FilterCallbacks& callbacks) {
  const PoolView& pool = callbacks.Pool();
  RequestContext& context = callbacks.Context();
  // Split by shard (the server, or a Redis Cluster's slot: a node refuses keys of several
  // slots in one request), then each fragment goes to its shard's server.
  key_servers_.clear();
  key_servers_.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    key_servers_.push_back(pool.ShardForHashKey(HashKey(request, context, i)));
  }
  std::vector<Fragment> fragments = pool.PoolCodec().Split(request, key_servers_);
  if (fragments.empty()) {
    context.server = pool.ServerOfShard(key_servers_[0]);  // one shard: forwarded as is
  } else {
    for (Fragment& fragment : fragments) fragment.server = pool.ServerOfShard(fragment.server);
    context.fragments = std::move(fragments);
  }
  context.routed = true;
  return FilterStatus::kContinue;
}

FilterStatus RouterFilter::RouteColocated(const Request& request, size_t count,
                                          FilterCallbacks& callbacks) {
  const PoolView& pool = callbacks.Pool();
  RequestContext& context = callbacks.Context();
  const uint32_t shard = pool.ShardForHashKey(HashKey(request, context, 0));
  for (size_t i = 1; i < count; ++i) {
    if (pool.ShardForHashKey(HashKey(request, context, i)) != shard) {
      // twemproxy silently answers from the first key's server, which is wrong data.
      callbacks.SendLocalError(absl::StrCat("keys of '", request.command, "' map to different ",
                                            pool.Config().redis_cluster() ? "hash slots"
                                                                          : "servers",
                                            "; keep them together with a hash tag (",
                                            *colocation_hint_, ")"));
      return FilterStatus::kStop;
    }
  }
  context.server = pool.ServerOfShard(shard);
  context.routed = true;
  return FilterStatus::kContinue;
}

}  // namespace proxy::filters::router

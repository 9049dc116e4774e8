// The router filter: sets RequestContext::server (one server) or ::fragments (a multi-key request
// split by server) from PoolView::ServerForHashKey; refuses colocated keys on different servers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "api/codec.h"
#include "api/filter.h"

namespace proxy::filters::router {

// The hint appended to the colocated-keys refusal, for a pool's hash_tag ("" = none set):
// `hash_tag: "{}" and keys like {user1}:a` without a tag, `keys like {user1}:a` with "{}".
std::string ColocationHint(absl::string_view hash_tag);

// One per worker when shared by the pool's clients (RouterFactory::KeepsClientState); the
// key→server scratch vector is used within one OnRequest call and reused across requests.
class RouterFilter final : public Filter {
 public:
  // `colocation_hint`: ColocationHint() of the pool, computed once per pool.
  explicit RouterFilter(std::shared_ptr<const std::string> colocation_hint)
      : colocation_hint_(std::move(colocation_hint)) {}

  FilterStatus OnRequest(Request& request, FilterCallbacks& callbacks) override;

 private:
  FilterStatus RouteMultiKey(const Request& request, size_t count, FilterCallbacks& callbacks);
  FilterStatus RouteColocated(const Request& request, size_t count, FilterCallbacks& callbacks);

  std::shared_ptr<const std::string> colocation_hint_;
  std::vector<uint32_t> key_servers_;  // scratch for kMultiKey requests
};

}  // namespace proxy::filters::router

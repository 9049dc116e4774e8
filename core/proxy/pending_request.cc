// RequestPool: the per-worker recycling of request objects (pending_request.h).
#include "core/proxy/pending_request.h"

namespace proxy {

PendingRequest* RequestPool::Make() {
  auto* request = new PendingRequest();
  request->home = this;
  return request;
}

std::shared_ptr<const FilterChain> MakeFilterChain(const std::vector<FilterFactoryFn>& factories) {
  auto chain = std::make_shared<FilterChain>();
  chain->filters.reserve(factories.size());
  for (const FilterFactoryFn& make : factories) chain->filters.push_back(make());
  for (const FilterPtr& filter : chain->filters) {
    chain->rewrites_replies |= filter->RewritesReplies();
  }
  return chain;
}

void RequestPool::Recycle(PendingRequest* request) {
  if (free_.size() >= kMaxFreeRequests) {
    delete request;
    return;
  }
  request->Reset();
  free_.emplace_back(request);
}

}  // namespace proxy

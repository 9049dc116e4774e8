// RequestPool: the per-worker recycling of request objects (pending_request.h).
#include "core/proxy/pending_request.h"

namespace proxy {

PendingRequest* RequestPool::Make() {
  auto* request = new PendingRequest();
  request->home = this;
  return request;
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

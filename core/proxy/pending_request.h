// One client request from decode to reply: what was asked, where it went, and its reply while
// it waits for the requests ahead of it (replies leave in request order).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "api/codec.h"
#include "api/filter.h"
#include "core/buffer/evbuffer_buffer.h"
#include "core/proxy/tuning.h"

namespace proxy {

class ClientConnection;
class RequestPool;

// The filter instances of one client under one config generation. A reload gives the client a
// new chain from its next request on; requests that ran through the old one finish with it
// (OnReply, OnComplete), and it is freed after the last of them.
struct FilterChain {
  std::vector<FilterPtr> filters;
  bool rewrites_replies = false;  // some filter changes replies (OnReply)
};
// Makes one filter per factory, in order.
std::shared_ptr<const FilterChain> MakeFilterChain(const std::vector<FilterFactoryFn>& factories);
// A chain a reload replaced, kept while queued requests use it; oldest first.
struct RetiredChain {
  std::shared_ptr<const FilterChain> chain;
  std::unique_ptr<RetiredChain> newer;
};

// Lifetime: a request is counted, not owned. Each holder has one reference: its client's queue
// (from decode until its reply is written or the client closes), each server queue entry that
// awaits its reply (ServerQueueEntry::request) and each -TRYAGAIN retry waiting to resend it.
// The last one gives it back to its worker's RequestPool. RetainRequest/ReleaseRequest and
// RequestRef (below) are the only code that counts.
struct PendingRequest {
  // The client that is waiting; null once it has gone (the request is then an orphan whose
  // server replies are read and dropped).
  ClientConnection* client = nullptr;
  Request request;
  RequestContext context;
  // The chain this request ran through (its client's; see FilterChain).
  const FilterChain* chain = nullptr;
  // References (see above); recycled at 0. Only RetainRequest/ReleaseRequest change it.
  uint32_t refs = 0;
  // The worker's pool this request returns to (set once, when it is made).
  RequestPool* home = nullptr;
  // The reply is complete (in `reply_buffer` or `reply_text`, or already written).
  bool done = false;
  // `reply_buffer` holds the reply (else `reply_text` does).
  bool reply_in_buffer = false;
  std::unique_ptr<EvBuffer> reply_buffer;
  std::string reply_text;
  // Split requests: replies per fragment, how many are still out, the first failure.
  uint32_t fragments_left = 0;
  std::vector<std::string> fragment_replies;
  int error = 0;  // errno of the first failure, 0 = none
  // Redis Cluster pools (Codec::FollowsRedirects): an unsplit request's bytes, kept to resend
  // it where a -MOVED/-ASK reply says (a split request's are its fragments'), and how many
  // redirections it has followed (bounded: a loop between nodes ends with the error).
  std::string resend;
  uint8_t redirects = 0;
  // Split requests: the first fragment whose reply was an error reply (-1: none), for the
  // client's error when the replies cannot be merged.
  int32_t error_fragment = -1;
  // Reply bytes this request holds while it waits for the requests ahead of it (fragment
  // replies being collected, merged or rewritten text, a buffered reply): counted in its
  // client's held bytes, so that --client-output-limit sees every byte kept for ordering.
  size_t held_bytes = 0;
  // For OnComplete.
  Outcome outcome;
  uint64_t start_us = 0;
  // The next request of the same client (RequestQueue's link).
  PendingRequest* next = nullptr;

  void Reset() {
    client = nullptr;
    request.Reset();
    context.hash_keys.clear();
    context.server = 0;
    context.routed = false;
    context.fragments.clear();
    chain = nullptr;
    refs = 0;
    done = false;
    reply_in_buffer = false;
    reply_buffer.reset();
    reply_text.clear();
    // Large buffers are returned to the allocator after a burst instead of being recycled.
    if (reply_text.capacity() > kKeepRequestBytes) std::string().swap(reply_text);
    fragments_left = 0;
    fragment_replies.clear();
    if (fragment_replies.capacity() > kKeepRequestElements) {
      std::vector<std::string>().swap(fragment_replies);
    }
    if (context.fragments.capacity() > kKeepRequestElements) {
      std::vector<Fragment>().swap(context.fragments);
    }
    error = 0;
    resend.clear();
    if (resend.capacity() > kKeepRequestBytes) std::string().swap(resend);
    redirects = 0;
    error_fragment = -1;
    held_bytes = 0;
    outcome = Outcome();
    start_us = 0;
    next = nullptr;
  }
};

// A worker's request objects: made on demand, recycled (up to kMaxFreeRequests kept) when their
// last reference goes. One per worker, used on its thread only.
class RequestPool {
 public:
  RequestPool() = default;
  RequestPool(const RequestPool&) = delete;
  RequestPool& operator=(const RequestPool&) = delete;

  // A request with no reference yet (its client takes the first: RetainRequest).
  PendingRequest* Alloc() {
    if (free_.empty()) return Make();
    PendingRequest* request = free_.back().release();
    free_.pop_back();
    return request;
  }
  // Takes back a request no one references (ReleaseRequest calls it; also a decoded-into
  // request that was never queued).
  void Recycle(PendingRequest* request);
  size_t free_count() const { return free_.size(); }

 private:
  PendingRequest* Make();

  std::vector<std::unique_ptr<PendingRequest>> free_;
};

inline void RetainRequest(PendingRequest* request) { ++request->refs; }
inline void ReleaseRequest(PendingRequest* request) {
  if (--request->refs == 0) request->home->Recycle(request);
}

// One reference to a request, released when the handle goes (move-only). Null is allowed
// (no request: the proxy's own server requests, noreply requests).
class RequestRef {
 public:
  RequestRef() = default;
  explicit RequestRef(PendingRequest* request) : request_(request) {
    if (request_ != nullptr) RetainRequest(request_);
  }
  RequestRef(RequestRef&& other) noexcept : request_(other.request_) { other.request_ = nullptr; }
  RequestRef& operator=(RequestRef&& other) noexcept {
    if (this != &other) {
      reset();
      request_ = other.request_;
      other.request_ = nullptr;
    }
    return *this;
  }
  RequestRef(const RequestRef&) = delete;
  RequestRef& operator=(const RequestRef&) = delete;
  ~RequestRef() { reset(); }

  PendingRequest* get() const { return request_; }
  PendingRequest* operator->() const { return request_; }
  explicit operator bool() const { return request_ != nullptr; }
  // Drops the reference now (the request may be recycled).
  void reset() {
    if (request_ != nullptr) {
      PendingRequest* request = request_;
      request_ = nullptr;
      ReleaseRequest(request);
    }
  }

 private:
  PendingRequest* request_ = nullptr;
};

// A client's requests in arrival order: an intrusive FIFO, so an idle connection costs no
// allocation (std::deque allocates a 512-byte block up front).
class RequestQueue {
 public:
  bool empty() const { return head_ == nullptr; }
  size_t size() const { return size_; }
  PendingRequest* front() const { return head_; }
  void push_back(PendingRequest* p) {
    p->next = nullptr;
    if (tail_ == nullptr) {
      head_ = tail_ = p;
    } else {
      tail_->next = p;
      tail_ = p;
    }
    ++size_;
  }
  void pop_front() {
    PendingRequest* p = head_;
    head_ = p->next;
    if (head_ == nullptr) tail_ = nullptr;
    p->next = nullptr;
    --size_;
  }

 private:
  PendingRequest* head_ = nullptr;
  PendingRequest* tail_ = nullptr;
  size_t size_ = 0;
};

}  // namespace proxy

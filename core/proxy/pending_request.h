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

namespace proxy {

class ClientConnection;

// The filter instances of one client under one config generation. A reload gives the client a
// new chain from its next request on; requests that ran through the old one finish with it
// (OnReply, OnComplete), and it is freed after the last of them.
struct FilterChain {
  std::vector<FilterPtr> filters;
  bool rewrites_replies = false;  // some filter changes replies (OnReply)
};
// A chain a reload replaced, kept while queued requests use it; oldest first.
struct RetiredChain {
  FilterChain chain;
  std::unique_ptr<RetiredChain> newer;
};

struct PendingRequest {
  static constexpr size_t kKeepBytes = 64u << 10;

  // The client that is waiting; null once it has gone (the request is then an orphan whose
  // server replies are read and dropped).
  ClientConnection* client = nullptr;
  Request request;
  RequestContext context;
  // The chain this request ran through (its client's; see FilterChain).
  FilterChain* chain = nullptr;
  // Owners: 1 for the client queue + 1 per server queue entry. Freed at 0.
  uint32_t refs = 0;
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
    if (reply_text.capacity() > kKeepBytes) std::string().swap(reply_text);
    fragments_left = 0;
    fragment_replies.clear();
    if (fragment_replies.capacity() > 64) std::vector<std::string>().swap(fragment_replies);
    if (context.fragments.capacity() > 64) std::vector<Fragment>().swap(context.fragments);
    error = 0;
    resend.clear();
    if (resend.capacity() > kKeepBytes) std::string().swap(resend);
    redirects = 0;
    error_fragment = -1;
    held_bytes = 0;
    outcome = Outcome();
    start_us = 0;
    next = nullptr;
  }
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

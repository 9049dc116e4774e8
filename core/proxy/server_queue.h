// The requests queued on one server connection, in wire order, and how far their bytes have
// been written: ServerConnection's write and reply bookkeeping, kept apart from the socket so
// that it is tested without one (test/core/proxy/server_queue_test.cc).
//
// An entry is queued when its bytes are appended to the connection's output, and is "unsent"
// until the last of them is written. The unsent entries are always the queue's tail. Replies
// come back in wire order and belong to the head: entries that expect no reply (memcache
// noreply) leave the queue once written and nothing is ahead of them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>

#include "core/proxy/pending_request.h"

namespace proxy {

struct ServerQueueEntry {
  ServerQueueEntry() = default;
  // `request`: referenced when not null.
  ServerQueueEntry(PendingRequest* request, int32_t fragment, uint64_t bytes,
                   uint64_t deadline_us, bool expects_reply, uint64_t queued_us, bool setup)
      : request(request), fragment(fragment), bytes(bytes), deadline_us(deadline_us),
        expects_reply(expects_reply), queued_us(queued_us), setup(setup) {}

  // The client's request awaiting this reply (a reference: see RequestRef); null for the
  // proxy's own requests (handshake, pin prelude/reset) and for requests that expect no reply.
  RequestRef request;
  int32_t fragment = -1;  // split requests: the fragment's index
  uint64_t bytes = 0;  // as large as --max-request-bytes allows (up to 4 GiB)
  uint64_t deadline_us = 0;  // 0 = no timeout
  bool expects_reply = true;
  uint64_t queued_us = 0;  // for the server latency histogram
  bool setup = false;  // the connection's handshake (AUTH/SELECT/HELLO): errors are logged
};
// --max-request-bytes allows up to 4 GiB (core/server/options.cc): every size on the path
// (the entry's bytes, the write accounting, the queue byte gauges) is 64-bit.
static_assert(sizeof(ServerQueueEntry::bytes) >= sizeof(uint64_t),
              "request sizes may exceed 4 GiB - 1");

class ServerQueue {
 public:
  using Entry = ServerQueueEntry;
  // Where a reply that just arrived belongs (HeadForReply).
  enum class Head : uint8_t {
    kNone,           // nothing written awaits a reply: a stray reply
    kWritten,        // the head request, fully written
    // The head request, only partly written: memcached answers an oversized `set` as soon as
    // it has read the command line, before the proxy has written the whole data block.
    kPartlyWritten,
  };

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  // Entries whose bytes are not all written yet (the last unsent() entries).
  size_t unsent() const { return unsent_; }
  const std::deque<Entry>& entries() const { return entries_; }

  // Queues an entry (made in place from `args`, Entry's constructors) whose bytes were just
  // appended to the connection's output.
  template <typename... Args>
  Entry& Push(Args&&... args) {
    ++unsent_;
    return entries_.emplace_back(std::forward<Args>(args)...);
  }

  // `n` bytes of the output were written. Each entry now fully written is passed to
  // `written(const Entry&)` in wire order; then written entries that expect no reply and have
  // nothing ahead of them leave the queue.
  template <typename Fn>
  void Written(size_t n, Fn&& written) {
    // Bytes of a request already answered while partly written (PopForReply) come first.
    const size_t skipped = std::min(n, answered_unsent_bytes_);
    answered_unsent_bytes_ -= skipped;
    n -= skipped;
    size_t index = entries_.size() - unsent_;
    while (n > 0 && unsent_ > 0) {
      const Entry& entry = entries_[index];
      const size_t left = entry.bytes - unsent_head_bytes_;
      if (n < left) {
        unsent_head_bytes_ += n;
        break;
      }
      n -= left;
      unsent_head_bytes_ = 0;
      --unsent_;
      ++index;
      written(entry);
    }
    DropWrittenNoReply();
  }

  // Where a reply belongs. Written entries that expect no reply ahead of it are done first.
  Head HeadForReply() {
    DropWrittenNoReply();
    if (entries_.size() > unsent_) return Head::kWritten;
    if (!entries_.empty() && unsent_head_bytes_ > 0 && entries_.front().expects_reply) {
      return Head::kPartlyWritten;
    }
    return Head::kNone;
  }

  // Takes the head entry for its reply; `head` is HeadForReply()'s answer (not kNone). The
  // unwritten bytes of a partly written head are skipped by the next Written() calls.
  Entry PopForReply(Head head) {
    Entry entry = std::move(entries_.front());
    entries_.pop_front();
    if (head == Head::kPartlyWritten) {
      answered_unsent_bytes_ += entry.bytes - unsent_head_bytes_;
      unsent_head_bytes_ = 0;
      --unsent_;
    }
    return entry;
  }

  // Nothing outstanding: every entry written and none awaits a reply.
  bool Idle() const {
    if (unsent_ > 0) return false;
    for (const Entry& entry : entries_) {
      if (entry.expects_reply) return false;
    }
    return true;
  }

  // Empties the queue of a connection that closes: `each(const Entry&, bool unsent)` sees
  // every entry in wire order; the entries are returned (the caller fails their requests).
  template <typename Fn>
  std::deque<Entry> TakeAll(Fn&& each) {
    std::deque<Entry> entries;
    entries.swap(entries_);
    for (size_t i = 0; i < entries.size(); ++i) each(entries[i], i >= entries.size() - unsent_);
    unsent_ = 0;
    unsent_head_bytes_ = 0;
    answered_unsent_bytes_ = 0;
    return entries;
  }
  // Drops every entry (and its reference to its request).
  void Clear() { TakeAll([](const Entry&, bool) {}); }

 private:
  void DropWrittenNoReply() {
    while (!entries_.empty() && !entries_.front().expects_reply && entries_.size() > unsent_) {
      entries_.pop_front();
    }
  }

  std::deque<Entry> entries_;
  size_t unsent_ = 0;  // the last `unsent_` entries have bytes not yet fully written
  size_t unsent_head_bytes_ = 0;  // bytes of the first unsent entry already written
  size_t answered_unsent_bytes_ = 0;  // unwritten bytes of requests answered early
};

}  // namespace proxy

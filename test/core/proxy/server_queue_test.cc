// ServerQueue (core/proxy/server_queue.h): a server connection's write and reply bookkeeping,
// and RequestRef / RequestPool (core/proxy/pending_request.h), without a socket.
#include "core/proxy/server_queue.h"

#include <cstdint>
#include <utility>
#include <vector>

#include "core/proxy/pending_request.h"
#include "gtest/gtest.h"

namespace proxy {
namespace {

using Entry = ServerQueue::Entry;
using Head = ServerQueue::Head;

void Push(ServerQueue& queue, uint64_t bytes, bool expects_reply = true,
          PendingRequest* request = nullptr) {
  Entry& entry = queue.Push();
  if (request != nullptr) entry.request = RequestRef(request);
  entry.bytes = bytes;
  entry.expects_reply = expects_reply;
}

// The byte counts of the entries Written() reports, in order.
std::vector<uint64_t> Write(ServerQueue& queue, size_t n) {
  std::vector<uint64_t> written;
  queue.Written(n, [&written](const Entry& entry) { written.push_back(entry.bytes); });
  return written;
}

TEST(ServerQueueTest, WritesAccountWholeEntriesInOrder) {
  ServerQueue queue;
  Push(queue, 10);
  Push(queue, 5);
  Push(queue, 7);
  EXPECT_EQ(queue.unsent(), 3u);
  EXPECT_EQ(Write(queue, 4), std::vector<uint64_t>{});  // part of the first
  EXPECT_EQ(queue.unsent(), 3u);
  EXPECT_EQ(Write(queue, 6 + 5 + 1), (std::vector<uint64_t>{10, 5}));  // its rest, 2nd, 1 byte
  EXPECT_EQ(queue.unsent(), 1u);
  EXPECT_EQ(Write(queue, 6), std::vector<uint64_t>{7});
  EXPECT_EQ(queue.unsent(), 0u);
  EXPECT_EQ(queue.size(), 3u);  // written, awaiting their replies
}

TEST(ServerQueueTest, RepliesBelongToTheWrittenHead) {
  ServerQueue queue;
  EXPECT_EQ(queue.HeadForReply(), Head::kNone);  // nothing queued: stray
  Push(queue, 3);
  Push(queue, 4);
  EXPECT_EQ(queue.HeadForReply(), Head::kNone);  // nothing written yet: stray
  Write(queue, 3);
  ASSERT_EQ(queue.HeadForReply(), Head::kWritten);
  EXPECT_EQ(queue.PopForReply(Head::kWritten).bytes, 3u);
  EXPECT_EQ(queue.HeadForReply(), Head::kNone);  // the second is not written
  Write(queue, 4);
  ASSERT_EQ(queue.HeadForReply(), Head::kWritten);
  EXPECT_EQ(queue.PopForReply(Head::kWritten).bytes, 4u);
  EXPECT_TRUE(queue.empty());
}

TEST(ServerQueueTest, WrittenNoReplyEntriesLeaveOnceNothingIsAhead) {
  ServerQueue queue;
  Push(queue, 2);                           // expects a reply
  Push(queue, 3, /*expects_reply=*/false);  // memcache noreply
  Push(queue, 4);
  Write(queue, 2 + 3 + 4);
  EXPECT_EQ(queue.size(), 3u);  // the noreply entry waits behind the first
  ASSERT_EQ(queue.HeadForReply(), Head::kWritten);
  EXPECT_EQ(queue.PopForReply(Head::kWritten).bytes, 2u);
  // The next reply is the third's: the noreply entry ahead of it is done.
  ASSERT_EQ(queue.HeadForReply(), Head::kWritten);
  EXPECT_EQ(queue.PopForReply(Head::kWritten).bytes, 4u);
  EXPECT_TRUE(queue.empty());

  // At the head, a written noreply entry leaves with the write itself.
  Push(queue, 5, false);
  Write(queue, 5);
  EXPECT_TRUE(queue.empty());
  // Unwritten, it stays (its bytes are still owed to the socket).
  Push(queue, 5, false);
  Write(queue, 4);
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_FALSE(queue.Idle());
}

TEST(ServerQueueTest, AReplyToAPartlyWrittenRequestSkipsItsRestInTheWriteAccounting) {
  // memcached answers an oversized set before its data block is written.
  ServerQueue queue;
  Push(queue, 100);
  Push(queue, 10);
  EXPECT_EQ(queue.HeadForReply(), Head::kNone);  // not a byte written: stray
  Write(queue, 30);
  ASSERT_EQ(queue.HeadForReply(), Head::kPartlyWritten);
  const Entry first = queue.PopForReply(Head::kPartlyWritten);
  EXPECT_EQ(first.bytes, 100u);
  EXPECT_EQ(queue.unsent(), 1u);
  // The first's 70 remaining bytes are still written; they account for no entry.
  EXPECT_EQ(Write(queue, 70), std::vector<uint64_t>{});
  EXPECT_EQ(queue.unsent(), 1u);
  EXPECT_EQ(Write(queue, 10), std::vector<uint64_t>{10});
  EXPECT_EQ(queue.unsent(), 0u);
  ASSERT_EQ(queue.HeadForReply(), Head::kWritten);
  EXPECT_EQ(queue.PopForReply(Head::kWritten).bytes, 10u);
}

TEST(ServerQueueTest, APartlyWrittenNoReplyRequestIsNotAnswered) {
  ServerQueue queue;
  Push(queue, 10, /*expects_reply=*/false);
  Write(queue, 5);
  EXPECT_EQ(queue.HeadForReply(), Head::kNone);
}

TEST(ServerQueueTest, IdleOnlyWhenEverythingIsWrittenAndAnswered) {
  ServerQueue queue;
  EXPECT_TRUE(queue.Idle());
  Push(queue, 4);
  EXPECT_FALSE(queue.Idle());  // unsent
  Write(queue, 4);
  EXPECT_FALSE(queue.Idle());  // awaiting its reply
  queue.PopForReply(queue.HeadForReply());
  EXPECT_TRUE(queue.Idle());
}

TEST(ServerQueueTest, TakeAllTellsSentFromUnsent) {
  ServerQueue queue;
  Push(queue, 1);
  Push(queue, 2);
  Push(queue, 3);
  Write(queue, 1 + 1);  // the first, and half of the second
  std::vector<std::pair<uint64_t, bool>> seen;
  const std::deque<Entry> taken = queue.TakeAll(
      [&seen](const Entry& entry, bool unsent) { seen.emplace_back(entry.bytes, unsent); });
  EXPECT_EQ(seen, (std::vector<std::pair<uint64_t, bool>>{{1, false}, {2, true}, {3, true}}));
  EXPECT_EQ(taken.size(), 3u);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.unsent(), 0u);
  EXPECT_TRUE(queue.Idle());
}

TEST(RequestRefTest, TheLastReferenceRecyclesTheRequest) {
  RequestPool pool;
  PendingRequest* request = pool.Alloc();
  EXPECT_EQ(request->home, &pool);
  EXPECT_EQ(request->refs, 0u);
  RetainRequest(request);  // a client queue's reference
  {
    RequestRef a(request);
    EXPECT_EQ(request->refs, 2u);
    RequestRef b(std::move(a));  // moving does not count
    EXPECT_FALSE(a);
    EXPECT_EQ(b.get(), request);
    EXPECT_EQ(request->refs, 2u);
    RequestRef c;
    c = std::move(b);
    EXPECT_EQ(request->refs, 2u);
  }
  EXPECT_EQ(request->refs, 1u);
  EXPECT_EQ(pool.free_count(), 0u);
  request->reply_text = "kept until recycled";
  ReleaseRequest(request);
  EXPECT_EQ(pool.free_count(), 1u);
  // Recycled clean, and handed out again.
  PendingRequest* again = pool.Alloc();
  EXPECT_EQ(again, request);
  EXPECT_TRUE(again->reply_text.empty());
  EXPECT_EQ(again->home, &pool);
  EXPECT_EQ(pool.free_count(), 0u);
  pool.Recycle(again);
}

TEST(RequestRefTest, QueueEntriesHoldTheirRequest) {
  RequestPool pool;
  PendingRequest* request = pool.Alloc();
  RetainRequest(request);
  ServerQueue queue;
  Push(queue, 3, true, request);
  Push(queue, 4, true, request);  // a second fragment on the same connection
  EXPECT_EQ(request->refs, 3u);
  Write(queue, 7);
  {
    Entry first = queue.PopForReply(queue.HeadForReply());
    EXPECT_EQ(first.request.get(), request);
    EXPECT_EQ(request->refs, 3u);  // still held while the reply is delivered
  }
  EXPECT_EQ(request->refs, 2u);
  ReleaseRequest(request);  // the client has gone
  EXPECT_EQ(request->refs, 1u);
  EXPECT_EQ(pool.free_count(), 0u);
  queue.Clear();  // the connection closes
  EXPECT_EQ(pool.free_count(), 1u);
}

}  // namespace
}  // namespace proxy

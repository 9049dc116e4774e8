// Fixed bounds of the data path, in one place. They are not configuration: each bounds what
// one event, one message or one log line may cost a worker, so that one busy or hostile
// connection cannot starve the others sharing its event loop.
#pragma once

#include <cstddef>
#include <cstdint>

namespace proxy {

// Largest single read (client and server connections) while a message larger than
// ProxyLimits::read_chunk is in progress: the read grows with the partial message, so that a
// large value costs fewer system calls, but never asks for more than this at once.
inline constexpr size_t kMaxReadChunk = size_t{4} << 20;

// Connections one readable event of a listener accepts: the rest wait for the next turn of the
// loop (the listener stays readable), so that a burst of connects does not hold up the
// established clients of the same worker.
inline constexpr int kMaxAcceptsPerEvent = 64;

// Reads of a server connection whose write failed before the failure is handled: the replies
// it sent before it closed are read first (a close caused by a client's request is then not
// counted against the server; server_connection.cc), but a server that keeps sending cannot
// keep the loop.
inline constexpr int kMaxReadsBeforeFailing = 64;

// Bytes of a reply or reason quoted in one log line or one error reply (its first line).
inline constexpr size_t kMaxQuotedText = 200;
// Bytes of a reply to the proxy's own connection setup given to Codec::CheckHandshakeReply.
inline constexpr size_t kMaxHandshakeReplyBytes = 512;
// Bytes of an error reply parsed for a Redis Cluster redirection ("-MOVED 3999 host:port").
inline constexpr size_t kMaxRedirectReplyBytes = 256;
// Redis Cluster: servers a redirection named that the slot map does not list yet, kept per
// pool and worker until the next map (PoolRuntime::RedirectTarget).
inline constexpr size_t kMaxRedirectTargets = 64;
// Redis Cluster: -MOVED/-ASK followed per request (a loop between nodes ends with the node's
// error), and -TRYAGAIN pauses: the first, doubled each time (8 pauses: 2.5 s in all, about
// how long a slot's keys take to move).
inline constexpr uint8_t kMaxRedirects = 5;
inline constexpr uint8_t kMaxTryAgainPauses = 8;
inline constexpr uint64_t kTryAgainFirstPauseUs = 10000;

// Out of descriptors or memory while accepting: the first pause, doubled while it keeps
// failing up to the cap (accepting again at once would fail again at once: a busy loop).
inline constexpr uint32_t kAcceptBackoffFirstMs = 100;
inline constexpr uint32_t kAcceptBackoffMaxMs = 1000;

// Bytes one read of a health check's connection asks for: its replies are a few short lines.
inline constexpr size_t kHealthCheckReadChunk = 4096;
// How often replicas are checked when the pool has no health_check_interval: their sync state
// decides whether they get reads (read_from:).
inline constexpr uint32_t kDefaultReplicaCheckMs = 1000;

// Recycled request objects a worker keeps after a burst (the rest are freed).
inline constexpr size_t kMaxFreeRequests = 4096;
// A recycled request keeps buffers up to these sizes; larger ones (from a burst of large
// requests) go back to the allocator.
inline constexpr size_t kKeepRequestBytes = size_t{64} << 10;
inline constexpr size_t kKeepRequestElements = 64;
// A reply that must wait for the replies ahead of it is copied when it is at most this long
// (into PendingRequest::reply_text, reused across requests), and moved as buffer chains when
// longer: copying a few hundred bytes is cheaper than the three allocations of a buffer of its
// own (measured with perf at -P 16 over four servers: malloc and free were 8% of the proxy's
// CPU, most of it here; docs/bench/2026-12-07-issue15-profile.md).
inline constexpr size_t kHeldReplyCopyBytes = 512;

}  // namespace proxy

// EvBuffer: the evbuffer calls behind api::Buffer.
#include "core/buffer/evbuffer_buffer.h"

#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

namespace proxy {
namespace {

// Empty evbuffers given back by EvBuffer::Release(), per thread (an evbuffer is used by one
// worker's thread only). Bounded: 64 x ~160 bytes per thread. Only buffers emptied by drains
// come here, and a drain to empty frees every chain, so a cached evbuffer holds no chain.
constexpr int kCachedEvbuffers = 64;
struct EvbufferCache {
  ~EvbufferCache() {
    while (count > 0) evbuffer_free(items[--count]);
  }
  evbuffer* items[kCachedEvbuffers];
  int count = 0;
};
thread_local EvbufferCache cache;

}  // namespace

evbuffer* EvBuffer::TakeEmpty() {
  EvbufferCache& c = cache;
  if (c.count > 0) return c.items[--c.count];
  return evbuffer_new();
}

void EvBuffer::ReleaseEmpty() {
  EvbufferCache& c = cache;
  if (c.count < kCachedEvbuffers) {
    c.items[c.count++] = buffer_;
  } else {
    evbuffer_free(buffer_);
  }
  buffer_ = nullptr;
}

size_t EvBuffer::Peek(size_t offset, size_t len, absl::Span<Slice> out) const {
  if (buffer_ == nullptr) return 0;
  const size_t length = evbuffer_get_length(buffer_);
  if (offset >= length || len == 0) return 0;
  if (len > length - offset) len = length - offset;
  evbuffer_ptr pos;
  if (evbuffer_ptr_set(buffer_, &pos, offset, EVBUFFER_PTR_SET) != 0) return 0;
  // Peek in rounds of up to 16 extents until `out` is full or the range is covered.
  constexpr int kMaxVec = 16;
  evbuffer_iovec vec[kMaxVec];
  size_t filled = 0;
  size_t covered = 0;
  while (covered < len) {
    const size_t room = out.size() - filled;
    const int want = static_cast<int>(room < kMaxVec ? room : kMaxVec);
    const int n = evbuffer_peek(buffer_, static_cast<ev_ssize_t>(len - covered), &pos, vec,
                                want == 0 ? 0 : want);
    if (n <= 0) break;
    if (n > want) {
      // Not enough room left: fill what fits, then report the total needed.
      for (int i = 0; i < want; ++i) {
        out[filled++] = Slice{static_cast<const char*>(vec[i].iov_base), vec[i].iov_len};
      }
      return filled + static_cast<size_t>(n - want);
    }
    for (int i = 0; i < n; ++i) {
      size_t size = vec[i].iov_len;
      if (covered + size > len) size = len - covered;  // the last extent may run past the range
      out[filled++] = Slice{static_cast<const char*>(vec[i].iov_base), size};
      covered += size;
    }
    if (covered < len && evbuffer_ptr_set(buffer_, &pos, offset + covered, EVBUFFER_PTR_SET) != 0) {
      break;
    }
  }
  return filled;
}

void EvBuffer::CopyOut(size_t offset, size_t len, char* dst) const {
  if (buffer_ == nullptr) return;
  evbuffer_ptr start;
  if (evbuffer_ptr_set(buffer_, &start, offset, EVBUFFER_PTR_SET) != 0) return;
  evbuffer_copyout_from(buffer_, &start, dst, len);
}

void EvBuffer::MoveTo(Buffer& dst, size_t len) {
  if (auto* ev = dynamic_cast<EvBuffer*>(&dst)) {
    MoveTo(*ev, len);
    return;
  }
  // Another Buffer implementation: copy through its Append.
  if (buffer_ == nullptr) return;
  while (len > 0) {
    evbuffer_iovec vec[1];
    if (evbuffer_peek(buffer_, static_cast<ev_ssize_t>(len), nullptr, vec, 1) < 1) break;
    size_t n = vec[0].iov_len < len ? vec[0].iov_len : len;
    dst.Append(absl::string_view(static_cast<const char*>(vec[0].iov_base), n));
    evbuffer_drain(buffer_, n);
    len -= n;
  }
}

ssize_t EvBuffer::ReadFrom(int fd, size_t max) {
  evbuffer_iovec vec[2];
  const int n = evbuffer_reserve_space(raw(), static_cast<ev_ssize_t>(max), vec, 2);
  if (n <= 0) {
    errno = ENOMEM;
    return -1;
  }
  iovec iov[2];
  size_t room = 0;
  for (int i = 0; i < n; ++i) {
    iov[i].iov_base = vec[i].iov_base;
    iov[i].iov_len = vec[i].iov_len;
    room += vec[i].iov_len;
  }
  // Never read more than asked, even when the reservation came back larger.
  if (room > max) {
    size_t excess = room - max;
    for (int i = n - 1; i >= 0 && excess > 0; --i) {
      size_t cut = iov[i].iov_len < excess ? iov[i].iov_len : excess;
      iov[i].iov_len -= cut;
      excess -= cut;
    }
  }
  const ssize_t got = readv(fd, iov, n);
  if (got <= 0) {
    const int saved = errno;
    for (int i = 0; i < n; ++i) vec[i].iov_len = 0;
    evbuffer_commit_space(buffer_, vec, 0);
    // Nothing read into an empty buffer (EOF, a reset, a spurious wake-up): the reservation
    // left an empty chain of `max` bytes behind, kept until the buffer is freed. A closing
    // client's connection is only deleted after the current batch of events, so 10,000
    // clients closing at once held 16 KiB each (160 MB) without this. Freed, not cached: the
    // reservation's chain is still in it.
    if (evbuffer_get_length(buffer_) == 0) {
      evbuffer_free(buffer_);
      buffer_ = nullptr;
    }
    errno = saved;
    return got;
  }
  size_t left = static_cast<size_t>(got);
  int used = 0;
  for (int i = 0; i < n && left > 0; ++i) {
    vec[i].iov_len = left < iov[i].iov_len ? left : iov[i].iov_len;
    left -= vec[i].iov_len;
    used = i + 1;
  }
  evbuffer_commit_space(buffer_, vec, used);
  return got;
}

}  // namespace proxy

// api::Buffer over libevent's evbuffer: zero-copy views (evbuffer_peek), chain moves
// (evbuffer_remove_buffer) and socket I/O helpers used by the connections.
#pragma once

#include <event2/buffer.h>

#include "api/buffer.h"

namespace proxy {

class EvBuffer : public Buffer {
 public:
  EvBuffer() : buffer_(evbuffer_new()) {}
  ~EvBuffer() override { evbuffer_free(buffer_); }
  EvBuffer(const EvBuffer&) = delete;
  EvBuffer& operator=(const EvBuffer&) = delete;

  size_t Length() const override { return evbuffer_get_length(buffer_); }
  size_t Peek(size_t offset, size_t len, absl::Span<Slice> out) const override;
  void CopyOut(size_t offset, size_t len, char* dst) const override;
  void Drain(size_t len) override { evbuffer_drain(buffer_, len); }
  void MoveTo(Buffer& dst, size_t len) override;
  void Append(absl::string_view bytes) override {
    evbuffer_add(buffer_, bytes.data(), bytes.size());
  }

  // Moves the first `len` bytes into another EvBuffer (chain relink where possible).
  void MoveTo(EvBuffer& dst, size_t len) { evbuffer_remove_buffer(buffer_, dst.buffer_, len); }
  // Moves everything.
  void MoveAllTo(EvBuffer& dst) { evbuffer_add_buffer(dst.buffer_, buffer_); }

  // Reads once from `fd` into up to `max` bytes of new space. Returns read(2)'s result.
  ssize_t ReadFrom(int fd, size_t max);
  // Writes as much as the socket takes (writev over the chains). Returns write's result.
  ssize_t WriteTo(int fd) { return evbuffer_write(buffer_, fd); }

  evbuffer* raw() { return buffer_; }

 private:
  evbuffer* buffer_;
};

}  // namespace proxy

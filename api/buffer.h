// Byte buffer interface: a chain of chunks that codecs scan in place and the core moves without
// copying (core/buffer implements it over libevent's evbuffer; test/fakes has a string one).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace proxy {

// A view of contiguous bytes owned by a Buffer; valid until that buffer is next modified.
struct Slice {
  const char* data = nullptr;
  size_t size = 0;
};

class Buffer {
 public:
  virtual ~Buffer() = default;
  virtual size_t Length() const = 0;
  // Fills `out` with views over the bytes [offset, offset + len) (clamped to Length()) and
  // returns how many slices describe them. When `out` is too small it is filled completely and
  // the number of slices needed is returned; call again with a larger offset to continue.
  virtual size_t Peek(size_t offset, size_t len, absl::Span<Slice> out) const = 0;
  // Copies [offset, offset + len) into `dst` (which has room for len bytes); clamped.
  virtual void CopyOut(size_t offset, size_t len, char* dst) const = 0;
  // Discards the first `len` bytes.
  virtual void Drain(size_t len) = 0;
  // Relinks the first `len` bytes onto the end of `dst`; only a chunk cut in two is copied.
  virtual void MoveTo(Buffer& dst, size_t len) = 0;
  // Appends a copy of `bytes`.
  virtual void Append(absl::string_view bytes) = 0;
};
using BufferPtr = std::unique_ptr<Buffer>;

}  // namespace proxy

// Byte buffer interface: a chain of chunks that codecs parse in place and core moves without
// copying (core implements it over libevent's evbuffer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace proxy {

// A view of contiguous bytes owned by a Buffer; valid until that buffer is next modified.
struct Slice {
  const uint8_t* data = nullptr;
  size_t size = 0;
};

class Buffer {
 public:
  virtual ~Buffer() = default;
  virtual size_t Length() const = 0;
  // Fills `out` with views over the first `len` bytes (or fewer if the buffer is shorter) and
  // returns how many slices describe them; when `out` is too small, returns the number needed.
  virtual size_t Peek(size_t len, absl::Span<Slice> out) const = 0;
  // Discards the first `len` bytes.
  virtual void Drain(size_t len) = 0;
  // Relinks the first `len` bytes onto the end of `dst`; only a chunk cut in two is copied.
  virtual void MoveTo(Buffer& dst, size_t len) = 0;
  // Appends a copy of `bytes` (small generated replies and rewritten fragments only).
  virtual void Append(absl::string_view bytes) = 0;
};
using BufferPtr = std::unique_ptr<Buffer>;

}  // namespace proxy

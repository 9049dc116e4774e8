// StringBuffer: chunked views over one std::string.
#include "test/fakes/string_buffer.h"

#include <algorithm>
#include <cstring>

namespace proxy::test {

size_t StringBuffer::Peek(size_t offset, size_t len, absl::Span<Slice> out) const {
  if (offset >= data_.size()) return 0;
  len = std::min(len, data_.size() - offset);
  size_t needed = 0;
  size_t pos = offset;
  const size_t end = offset + len;
  while (pos < end) {
    size_t piece = end - pos;
    if (chunk_ > 0) piece = std::min(piece, chunk_ - pos % chunk_);
    if (needed < out.size()) out[needed] = Slice{data_.data() + pos, piece};
    ++needed;
    pos += piece;
  }
  return needed;
}

void StringBuffer::CopyOut(size_t offset, size_t len, char* dst) const {
  if (offset >= data_.size()) return;
  len = std::min(len, data_.size() - offset);
  std::memcpy(dst, data_.data() + offset, len);
}

void StringBuffer::Drain(size_t len) { data_.erase(0, std::min(len, data_.size())); }

void StringBuffer::MoveTo(Buffer& dst, size_t len) {
  len = std::min(len, data_.size());
  dst.Append(absl::string_view(data_.data(), len));
  Drain(len);
}

}  // namespace proxy::test

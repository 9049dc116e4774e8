// An api::Buffer over std::string, split into chunks of a chosen size so that decoders can be
// tested with tokens straddling chunk boundaries.
#pragma once

#include <string>
#include <vector>

#include "api/buffer.h"

namespace proxy::test {

class StringBuffer : public Buffer {
 public:
  // `chunk` > 0: Peek() reports slices of at most `chunk` bytes (counted from the buffer start).
  explicit StringBuffer(absl::string_view data = "", size_t chunk = 0)
      : data_(data), chunk_(chunk) {}

  size_t Length() const override { return data_.size(); }
  size_t Peek(size_t offset, size_t len, absl::Span<Slice> out) const override;
  void CopyOut(size_t offset, size_t len, char* dst) const override;
  void Drain(size_t len) override;
  void MoveTo(Buffer& dst, size_t len) override;
  void Append(absl::string_view bytes) override { data_.append(bytes.data(), bytes.size()); }

  const std::string& data() const { return data_; }
  void set_chunk(size_t chunk) { chunk_ = chunk; }

 private:
  std::string data_;
  size_t chunk_;
};

}  // namespace proxy::test

// Test helpers for the memcache decoders: decode a byte string under every kind of chunking and
// feeding, describe each result as one comparable line, and a virtual buffer for huge values.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "api/buffer.h"
#include "api/codec.h"
#include "test/fakes/decoder_feeding.h"

namespace proxy::protocols::memcache::test {

// One line per decoded request:
//   "<result> <command> <kind> wire=<n> [noreply] [synthetic] args=[a|b] [exptime=<rewritten>]"
// plus " error=<text>" for kInvalidRequest, or "protocol-error error=<text>".
std::string DescribeRequest(DecodeResult result, const Request& request, const std::string& error);
// "<result> wire=<n> [error]" or "protocol-error error=<text>".
std::string DescribeReply(DecodeResult result, const Reply& reply, const std::string& error);

using ::proxy::test::AllFeedings;
using ::proxy::test::Feeding;
using ::proxy::test::FeedingName;

// Sets every field a decoder must overwrite to a stale value (the core reuses messages).
void Poison(Request* request);
void Poison(Reply* reply);

std::vector<std::string> DecodeRequests(absl::string_view wire, const Feeding& feeding,
                                        const DecoderLimits& limits = DecoderLimits());
std::vector<std::string> DecodeReplies(absl::string_view wire, const Feeding& feeding,
                                       const DecoderLimits& limits = DecoderLimits());



// A read-only Buffer of `prefix`, then `filler_size` copies of one byte (never allocated: its
// slices point into a shared static block), then `suffix`. Only the first `visible` bytes are
// reported (bytes "arrive" with set_visible). Counts the filler bytes anyone looked at.
class VirtualBuffer : public Buffer {
 public:
  VirtualBuffer(std::string prefix, size_t filler_size, std::string suffix);

  size_t Length() const override { return visible_ - drained_; }
  size_t Peek(size_t offset, size_t len, absl::Span<Slice> out) const override;
  void CopyOut(size_t offset, size_t len, char* dst) const override;
  void Drain(size_t len) override;
  void MoveTo(Buffer& dst, size_t len) override;
  void Append(absl::string_view bytes) override;

  size_t total() const { return prefix_.size() + filler_size_ + suffix_.size(); }
  void set_visible(size_t visible) { visible_ = visible < total() ? visible : total(); }
  size_t filler_bytes_read() const { return filler_bytes_read_; }

 private:
  // The contiguous bytes at absolute offset `at` (at most `max`), and their count.
  size_t Piece(size_t at, size_t max, const char** data) const;

  std::string prefix_;
  size_t filler_size_;
  std::string suffix_;
  size_t visible_ = 0;
  size_t drained_ = 0;
  mutable size_t filler_bytes_read_ = 0;
};

}  // namespace proxy::protocols::memcache::test

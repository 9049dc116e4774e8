// Feeding helpers and the virtual buffer for the memcache decoder tests.
#include "test/protocols/memcache/decode_util.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "protocols/memcache/reply_decoder.h"
#include "protocols/memcache/request_decoder.h"
#include "test/fakes/string_buffer.h"

namespace proxy::protocols::memcache::test {
namespace {

using ::proxy::test::FeedDecoder;
using ::proxy::test::KindName;
using ::proxy::test::ResultName;

// The filler block every VirtualBuffer's filler slices point into.
constexpr size_t kFillerBlock = 64 * 1024;
const char* FillerBlock() {
  static const std::string* block = new std::string(kFillerBlock, 'v');
  return block->data();
}

}  // namespace

void Poison(Request* request) {
  request->wire_size = 12345;
  request->expects_reply = false;
  request->synthetic_key = true;
  request->kind = CommandKind::kLocal;
  request->args.Add("stale");
  request->rewritten = "stale";
}

void Poison(Reply* reply) {
  reply->wire_size = 12345;
  reply->is_error = true;
  reply->server_failure = true;
}

std::string DescribeRequest(DecodeResult result, const Request& request, const std::string& error) {
  if (result == DecodeResult::kProtocolError) {
    return absl::StrCat(ResultName(result), " error=", error);
  }
  std::vector<std::string> args;
  for (size_t i = 0; i < request.args.size(); ++i) {
    args.emplace_back(request.args[i]);
  }
  std::string line =
      absl::StrCat(ResultName(result), " ", request.command.empty() ? "-" : request.command, " ",
                   KindName(request.kind), " wire=", request.wire_size);
  if (!request.expects_reply) {
    line += " noreply";
  }
  if (request.synthetic_key) {
    line += " synthetic";
  }
  if (request.colocated_keys) {
    line += " colocated";
  }
  if (request.key_step != 1) {
    absl::StrAppend(&line, " step=", request.key_step);
  }
  if (request.has_rewrite) {
    line += " has_rewrite";
  }
  absl::StrAppend(&line, " args=[", absl::StrJoin(args, "|"), "]");
  if (!request.rewritten.empty()) {
    absl::StrAppend(&line, " exptime=", request.rewritten);
  }
  if (result == DecodeResult::kInvalidRequest) {
    absl::StrAppend(&line, " error=", error);
  }
  return line;
}

std::string DescribeReply(DecodeResult result, const Reply& reply, const std::string& error) {
  if (result == DecodeResult::kProtocolError) {
    return absl::StrCat(ResultName(result), " error=", error);
  }
  return absl::StrCat(ResultName(result), " wire=", reply.wire_size, reply.is_error ? " error" : "",
                      reply.server_failure ? " failure" : "");
}

std::vector<std::string> DecodeRequests(absl::string_view wire, const Feeding& feeding,
                                        const DecoderLimits& limits) {
  MemcacheRequestDecoder decoder(limits);
  return FeedDecoder<MemcacheRequestDecoder, Request>(
      decoder, wire, feeding, DescribeRequest, [](Request* r) { Poison(r); });
}

std::vector<std::string> DecodeReplies(absl::string_view wire, const Feeding& feeding,
                                       const DecoderLimits& limits) {
  MemcacheReplyDecoder decoder(limits);
  return FeedDecoder<MemcacheReplyDecoder, Reply>(
      decoder, wire, feeding, DescribeReply, [](Reply* r) { Poison(r); });
}

VirtualBuffer::VirtualBuffer(std::string prefix, size_t filler_size, std::string suffix)
    : prefix_(std::move(prefix)), filler_size_(filler_size), suffix_(std::move(suffix)) {}

size_t VirtualBuffer::Piece(size_t at, size_t max, const char** data) const {
  const size_t filler_end = prefix_.size() + filler_size_;
  size_t size = 0;
  if (at < prefix_.size()) {
    *data = prefix_.data() + at;
    size = prefix_.size() - at;
  } else if (at < filler_end) {
    *data = FillerBlock();
    size = std::min(filler_end - at, kFillerBlock);
  } else {
    *data = suffix_.data() + (at - filler_end);
    size = suffix_.size() - (at - filler_end);
  }
  return std::min(size, max);
}

size_t VirtualBuffer::Peek(size_t offset, size_t len, absl::Span<Slice> out) const {
  const size_t length = Length();
  if (offset >= length) {
    return 0;
  }
  len = std::min(len, length - offset);
  size_t at = drained_ + offset;
  const size_t end = at + len;
  size_t needed = 0;
  while (at < end) {
    const char* data = nullptr;
    const size_t size = Piece(at, end - at, &data);
    if (needed < out.size()) {
      out[needed] = Slice{data, size};
      if (at >= prefix_.size() && at < prefix_.size() + filler_size_) {
        filler_bytes_read_ += size;
      }
    }
    ++needed;
    at += size;
  }
  return needed;
}

void VirtualBuffer::CopyOut(size_t offset, size_t len, char* dst) const {
  const size_t length = Length();
  if (offset >= length) {
    return;
  }
  len = std::min(len, length - offset);
  size_t at = drained_ + offset;
  const size_t end = at + len;
  while (at < end) {
    const char* data = nullptr;
    const size_t size = Piece(at, end - at, &data);
    if (at >= prefix_.size() && at < prefix_.size() + filler_size_) {
      filler_bytes_read_ += size;
    }
    std::memcpy(dst, data, size);
    dst += size;
    at += size;
  }
}

void VirtualBuffer::Drain(size_t len) { drained_ += std::min(len, Length()); }

void VirtualBuffer::MoveTo(Buffer& dst, size_t len) { Drain(len); }

void VirtualBuffer::Append(absl::string_view bytes) {}

}  // namespace proxy::protocols::memcache::test

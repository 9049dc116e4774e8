// BinaryRequestDecoder: header framing, memcached's length checks and quiet batches.
#include "protocols/memcache/binary_request_decoder.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "protocols/memcache/text.h"

namespace proxy::protocols::memcache {
namespace {

using binary::Header;
using binary::OpcodeSpec;
using binary::SpecOf;
using binary::Treatment;

// The largest body memcached 1.6 handles: its value length (an int) + 2 must fit.
constexpr uint32_t kMaxBodyLength = 2147483645;

// The opaque as 4 wire bytes (big-endian, as received).
void AppendOpaque(uint32_t opaque, std::string* out) { binary::Put32(opaque, out); }

bool IsClientNoop(const Header& h) {
  return h.magic == binary::kRequestMagic && h.opcode == binary::kNoop && h.key_length == 0 &&
         h.extras_length == 0 && h.body_length == 0 && h.data_type == 0;
}

}  // namespace

BinaryRequestDecoder::BinaryRequestDecoder(const DecoderLimits& limits)
    : limits_(limits), max_key_size_(std::min(kMaxKeySize, limits.max_key_bytes)) {}

std::string BinaryRequestDecoder::HeaderProblem(const Header& h) const {
  if (h.magic != binary::kRequestMagic) {
    return absl::StrCat("binary protocol error: bad magic byte 0x", absl::Hex(h.magic),
                        " (a request starts with 0x80)");
  }
  const OpcodeSpec& spec = SpecOf(h.opcode);
  const uint64_t framed = static_cast<uint64_t>(h.key_length) + h.extras_length;
  if (framed > h.body_length) {
    return absl::StrCat("binary protocol error: key length ", h.key_length, " + extras length ",
                        h.extras_length, " exceed the body length ", h.body_length);
  }
  if (h.key_length > max_key_size_) {
    return absl::StrCat("binary protocol error: key of ", h.key_length,
                        " bytes (at most ", max_key_size_, ")");
  }
  if (h.body_length > kMaxBodyLength) {
    // memcached computes the value length as an int and allocates value + 2 bytes: a larger
    // body would overflow there, and the body would then be read as requests.
    return absl::StrCat("binary protocol error: body of ", h.body_length,
                        " bytes (memcached takes at most ", kMaxBodyLength, ")");
  }
  if (limits_.max_message_bytes < binary::kHeaderSize ||
      h.body_length > limits_.max_message_bytes - binary::kHeaderSize) {
    return absl::StrCat("binary protocol error: request of ",
                        static_cast<uint64_t>(h.body_length) + binary::kHeaderSize,
                        " bytes exceeds the proxy's limit of ", limits_.max_message_bytes,
                        " bytes");
  }
  switch (spec.treatment) {
    case Treatment::kForward:
    case Treatment::kQuietGet:
    case Treatment::kLocal:
      if (h.extras_length != spec.extras) {
        return absl::StrCat("binary protocol error: '", spec.name, "' takes ", spec.extras,
                            " bytes of extras, not ", h.extras_length);
      }
      if (spec.key_required && h.key_length == 0) {
        return absl::StrCat("binary protocol error: '", spec.name, "' without a key");
      }
      if (!spec.key_required && h.key_length != 0) {
        return absl::StrCat("binary protocol error: '", spec.name, "' takes no key");
      }
      if (!spec.value_allowed && h.body_length != framed) {
        return absl::StrCat("binary protocol error: '", spec.name, "' takes no value (body of ",
                            h.body_length, " bytes, extras and key ", framed, ")");
      }
      return {};
    case Treatment::kRefused:
    case Treatment::kUnknown:
      return {};  // never forwarded: framed by the body length alone
  }
  return {};
}

void BinaryRequestDecoder::Start(const Header& h, const OpcodeSpec& spec, size_t wire_size,
                                 Request* out) const {
  out->Reset();
  out->command = spec.name.empty() ? absl::string_view("unknown") : spec.name;
  out->command_id = h.opcode;
  out->codec_tag = h.opaque;
  out->codec_flags = binary_flags::kBinary;
  out->is_write = spec.is_write;
  out->wire_size = wire_size;
}

DecodeResult BinaryRequestDecoder::Fail(const Header& h, std::string text, Request* out,
                                        std::string* error) {
  failed_ = true;
  failure_ = std::move(text);
  failed_opcode_ = h.opcode;
  failed_opaque_ = h.opaque;
  out->Reset();
  out->command = "unknown";
  out->command_id = failed_opcode_;
  out->codec_tag = failed_opaque_;
  out->codec_flags = binary_flags::kBinary | binary_flags::kStatusHint |
                     (binary::kInvalidArguments & binary_flags::kStatusMask);
  *error = failure_;
  return DecodeResult::kProtocolError;
}

DecodeResult BinaryRequestDecoder::FinishBatch(Request* out, size_t wire_size, bool client_noop,
                                               uint32_t noop_opaque) {
  const OpcodeSpec& first = SpecOf(first_opcode_);
  out->Reset();
  out->command = first.name;
  out->kind = CommandKind::kMultiKey;
  out->command_id = client_noop ? static_cast<uint8_t>(binary::kNoop) : first_opcode_;
  out->codec_tag = client_noop ? noop_opaque : first_opaque_;
  out->codec_flags = binary_flags::kBinary | binary_flags::kBatch |
                     (client_noop ? binary_flags::kClientNoop : 0);
  out->wire_size = wire_size;
  std::swap(out->args, keys_);
  std::swap(out->rewritten, ops_);
  keys_.Clear();
  ops_.clear();
  keys_.ReleaseIfLarge(64u << 10);
  if (ops_.capacity() > (64u << 10)) std::string().swap(ops_);
  pos_ = 0;
  return DecodeResult::kMessage;
}

DecodeResult BinaryRequestDecoder::Decode(const Buffer& in, Request* out, std::string* error) {
  if (failed_) {
    out->Reset();
    out->command = "unknown";
    out->command_id = failed_opcode_;
    out->codec_tag = failed_opaque_;
    out->codec_flags = binary_flags::kBinary | binary_flags::kStatusHint |
                       (binary::kInvalidArguments & binary_flags::kStatusMask);
    *error = failure_;
    return DecodeResult::kProtocolError;
  }
  for (;;) {
    const size_t length = in.Length();
    if (length < pos_ + binary::kHeaderSize) {
      return DecodeResult::kNeedMoreData;
    }
    char bytes[binary::kHeaderSize];
    in.CopyOut(pos_, binary::kHeaderSize, bytes);
    const Header h = binary::ParseHeader(bytes);
    const OpcodeSpec& spec = SpecOf(h.opcode);
    std::string problem = HeaderProblem(h);
    const bool in_batch = !keys_.empty();
    const size_t total = binary::kHeaderSize + static_cast<size_t>(h.body_length);

    if (in_batch) {
      const bool quiet_ok = problem.empty() && spec.treatment == Treatment::kQuietGet &&
                            h.data_type == 0 && keys_.size() < limits_.max_args &&
                            pos_ + total <= limits_.max_message_bytes;
      if (!quiet_ok) {
        if (IsClientNoop(h)) {
          return FinishBatch(out, pos_ + binary::kHeaderSize, true, h.opaque);
        }
        // Everything else is a request of its own, decoded by the next call.
        return FinishBatch(out, pos_, false, 0);
      }
    } else if (!problem.empty()) {
      return Fail(h, std::move(problem), out, error);
    }

    if (length < pos_ + total) {
      return DecodeResult::kNeedMoreData;  // requests go whole: wait for the body
    }

    if (spec.treatment == Treatment::kQuietGet && h.data_type == 0) {
      key_.resize(h.key_length);
      in.CopyOut(pos_ + binary::kHeaderSize + h.extras_length, h.key_length, key_.data());
      if (!in_batch) {
        first_opcode_ = h.opcode;
        first_opaque_ = h.opaque;
      }
      keys_.Add(key_);
      ops_.push_back(static_cast<char>(h.opcode));
      AppendOpaque(h.opaque, &ops_);
      if (h.extras_length > 0) {
        const size_t at = ops_.size();
        ops_.resize(at + h.extras_length);
        in.CopyOut(pos_ + binary::kHeaderSize, h.extras_length, ops_.data() + at);
      }
      pos_ += total;
      continue;
    }

    // A request of its own (never while a batch is open: see above).
    Start(h, spec, total, out);
    if (h.data_type != 0) {
      out->codec_flags |= binary_flags::kStatusHint | binary::kInvalidArguments;
      *error = absl::StrCat("invalid data type 0x", absl::Hex(h.data_type),
                            " (only 0, raw bytes, is defined)");
      return DecodeResult::kInvalidRequest;
    }
    switch (spec.treatment) {
      case Treatment::kUnknown:
        out->command = "unknown";
        out->codec_flags |= binary_flags::kStatusHint | binary::kUnknownCommand;
        *error = absl::StrCat("Unknown command (opcode 0x", absl::Hex(h.opcode), ")");
        return DecodeResult::kInvalidRequest;
      case Treatment::kRefused:
        out->kind = CommandKind::kUnsupported;
        return DecodeResult::kMessage;
      case Treatment::kLocal:
        out->kind = CommandKind::kLocal;
        return DecodeResult::kMessage;
      case Treatment::kForward:
      case Treatment::kQuietGet:
        break;
    }
    out->kind = spec.is_write ? CommandKind::kWrite : CommandKind::kRead;
    key_.resize(h.key_length);
    in.CopyOut(binary::kHeaderSize + h.extras_length, h.key_length, key_.data());
    out->args.Add(key_);
    return DecodeResult::kMessage;
  }
}

}  // namespace proxy::protocols::memcache

// MemcacheBinaryCodec (errors, quiet-batch split/merge, key rewriting) and
// MemcacheBinarySession (noop, version, quit, refusals).
#include "protocols/memcache/binary_codec.h"

#include <algorithm>
#include <memory>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "protocols/memcache/binary_protocol.h"
#include "protocols/memcache/binary_reply_decoder.h"
#include "protocols/memcache/binary_request_decoder.h"
#include "protocols/memcache/text.h"

namespace proxy::protocols::memcache {

bool EachKeyInOneFragment(absl::Span<const Fragment> fragments, size_t total) {
  std::vector<bool> seen(total, false);
  size_t covered = 0;
  for (const Fragment& fragment : fragments) {
    for (const uint32_t index : fragment.keys) {
      if (index >= total || seen[index]) {
        return false;
      }
      seen[index] = true;
      ++covered;
    }
  }
  if (covered != total) {
    return false;
  }
  return true;
}
namespace {

using binary::Header;

// One quiet get of a batch: what Split() needs besides its key.
struct QuietOp {
  uint8_t opcode = 0;
  uint32_t opaque = 0;
  absl::string_view extras;
};

// The next whole message (request or response) of `data` at `*pos`; false when `data` does not
// hold one that is well framed (key + extras within the body).
bool NextMessage(absl::string_view data, size_t* pos, Header* header, absl::string_view* whole) {
  if (data.size() - *pos < binary::kHeaderSize) {
    return false;
  }
  const Header h = binary::ParseHeader(data.data() + *pos);
  const uint64_t size = binary::kHeaderSize + static_cast<uint64_t>(h.body_length);
  if (static_cast<uint64_t>(h.key_length) + h.extras_length > h.body_length ||
      size > data.size() - *pos) {
    return false;
  }
  *header = h;
  *whole = data.substr(*pos, static_cast<size_t>(size));
  *pos += static_cast<size_t>(size);
  return true;
}

absl::string_view KeyOf(const Header& h, absl::string_view whole) {
  return whole.substr(binary::kHeaderSize + h.extras_length, h.key_length);
}

absl::string_view ExtrasOf(const Header& h, absl::string_view whole) {
  return whole.substr(binary::kHeaderSize, h.extras_length);
}

// The quiet gets of a batch, from the decoder's table in `rewritten` or, after a key-rewriting
// filter (has_rewrite), from the rewritten requests themselves. False when they do not match
// the request's keys.
bool QuietOps(const Request& request, std::vector<QuietOp>* ops) {
  ops->clear();
  const absl::string_view data = request.rewritten;
  if (!request.has_rewrite) {
    size_t i = 0;
    while (i < data.size()) {
      if (data.size() - i < 5) {
        return false;
      }
      QuietOp op;
      op.opcode = static_cast<uint8_t>(data[i]);
      op.opaque = binary::Load32(reinterpret_cast<const unsigned char*>(data.data() + i + 1));
      const size_t extras = binary::SpecOf(op.opcode).extras;
      if (!binary::IsQuietGet(op.opcode) || data.size() - i - 5 < extras) {
        return false;
      }
      op.extras = data.substr(i + 5, extras);
      ops->push_back(op);
      i += 5 + extras;
    }
  } else {
    size_t pos = 0;
    Header h;
    absl::string_view whole;
    while (pos < data.size()) {
      if (!NextMessage(data, &pos, &h, &whole) || h.magic != binary::kRequestMagic) {
        return false;
      }
      if (h.opcode == binary::kNoop && pos == data.size()) {
        break;  // the client's noop
      }
      if (!binary::IsQuietGet(h.opcode)) {
        return false;
      }
      ops->push_back(QuietOp{h.opcode, h.opaque, ExtrasOf(h, whole)});
    }
  }
  return ops->size() == request.KeyCount();
}

void AppendRequest(uint8_t opcode, uint32_t opaque, absl::string_view extras,
                   absl::string_view key, absl::string_view value, std::string* out) {
  Header h;
  h.magic = binary::kRequestMagic;
  h.opcode = opcode;
  h.key_length = static_cast<uint16_t>(key.size());
  h.extras_length = static_cast<uint8_t>(extras.size());
  h.body_length = static_cast<uint32_t>(extras.size() + key.size() + value.size());
  h.opaque = opaque;
  binary::AppendHeader(h, out);
  absl::StrAppend(out, extras, key, value);
}

// Appends `whole` (one message) with its key replaced by `key`, lengths fixed.
void AppendWithKey(const Header& h, absl::string_view whole, absl::string_view key,
                   std::string* out) {
  Header copy = h;
  const size_t value_at = binary::kHeaderSize + h.extras_length + h.key_length;
  copy.key_length = static_cast<uint16_t>(key.size());
  copy.body_length = static_cast<uint32_t>(h.body_length - h.key_length + key.size());
  binary::AppendHeader(copy, out);
  absl::StrAppend(out, ExtrasOf(h, whole), key, whole.substr(value_at));
}

bool IsBatch(const Request& request) {
  return IsBinaryRequest(request) && (request.codec_flags & binary_flags::kBatch) != 0 &&
         request.kind == CommandKind::kMultiKey;
}

}  // namespace

RequestDecoderPtr MemcacheBinaryCodec::NewRequestDecoder(const DecoderLimits& limits) const {
  return std::make_unique<BinaryRequestDecoder>(limits);
}

ReplyDecoderPtr MemcacheBinaryCodec::NewReplyDecoder(const DecoderLimits& limits) const {
  return std::make_unique<BinaryReplyDecoder>(limits);
}

SessionPtr MemcacheBinaryCodec::NewSession() const {
  return std::make_unique<MemcacheBinarySession>();
}

void MemcacheBinaryCodec::EncodeError(absl::string_view text, std::string* out) const {
  binary::AppendResponse(binary::kGet, binary::kInternalError, 0, text, out);
}

void MemcacheBinaryCodec::EncodeErrorFor(const Request& request, absl::string_view text,
                                         std::string* out) const {
  if (!IsBinaryRequest(request)) {
    EncodeError(text, out);
    return;
  }
  const bool hinted = (request.codec_flags & binary_flags::kStatusHint) != 0;
  const uint16_t status =
      hinted ? static_cast<uint16_t>(request.codec_flags & binary_flags::kStatusMask)
             : static_cast<uint16_t>(binary::kInternalError);
  binary::AppendResponse(static_cast<uint8_t>(request.command_id), status, request.codec_tag,
                         text, out);
}

void MemcacheBinaryCodec::EncodeRefusal(const Request& request, absl::string_view text,
                                        std::string* out) const {
  const uint8_t opcode = IsBinaryRequest(request) ? static_cast<uint8_t>(request.command_id)
                                                  : static_cast<uint8_t>(binary::kGet);
  const uint32_t opaque = IsBinaryRequest(request) ? request.codec_tag : 0;
  binary::AppendResponse(opcode, binary::kNotSupported, opaque, text, out);
}

absl::string_view MemcacheBinaryCodec::UnsupportedReason(absl::string_view command) const {
  for (int op = 0; op < 256; ++op) {
    const binary::OpcodeSpec& spec = binary::SpecOf(static_cast<uint8_t>(op));
    if (spec.treatment == binary::Treatment::kRefused && spec.name == command) {
      return binary::RefusalReason(static_cast<uint8_t>(op));
    }
  }
  return {};
}

std::vector<Fragment> MemcacheBinaryCodec::Split(const Request& request,
                                                 absl::Span<const uint32_t> key_servers) const {
  if (!IsBatch(request)) {
    return {};
  }
  std::vector<QuietOp> ops;
  const size_t keys = request.KeyCount();
  if (keys == 0 || key_servers.size() != keys || !QuietOps(request, &ops)) {
    return {};
  }
  const bool client_noop = (request.codec_flags & binary_flags::kClientNoop) != 0;
  if (client_noop && std::all_of(key_servers.begin(), key_servers.end(), [&](uint32_t server) {
        return server == key_servers[0];
      })) {
    return {};  // one server: the batch goes as received, with the client's noop
  }
  std::vector<uint32_t> order(keys);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return key_servers[a] < key_servers[b]; });
  std::vector<Fragment> fragments;
  const uint32_t noop_opaque = client_noop ? request.codec_tag : 0;
  for (size_t begin = 0; begin < keys;) {
    const uint32_t server = key_servers[order[begin]];
    size_t end = begin;
    size_t bytes = binary::kHeaderSize;
    while (end < keys && key_servers[order[end]] == server) {
      bytes += binary::kHeaderSize + 4 + request.Key(order[end]).size();
      ++end;
    }
    Fragment& fragment = fragments.emplace_back();
    fragment.server = server;
    fragment.keys.assign(order.begin() + begin, order.begin() + end);
    fragment.bytes.reserve(bytes);
    for (const uint32_t key : fragment.keys) {
      const QuietOp& op = ops[key];
      AppendRequest(op.opcode, op.opaque, op.extras, request.Key(key), {}, &fragment.bytes);
    }
    AppendRequest(binary::kNoop, noop_opaque, {}, {}, {}, &fragment.bytes);
    begin = end;
  }
  return fragments;
}

bool MemcacheBinaryCodec::Merge(const Request& request, absl::Span<const Fragment> fragments,
                                absl::Span<const std::string> replies, std::string* out) const {
  if (!IsBatch(request) || fragments.empty() || fragments.size() != replies.size()) {
    return false;
  }
  std::vector<QuietOp> ops;
  if (!QuietOps(request, &ops)) {
    return false;
  }
  const size_t total = ops.size();
  if (!EachKeyInOneFragment(fragments, total)) {
    return false;
  }
  // memcached answers a batch in order, so each quiet response belongs to the next request of
  // its fragment with the same opcode and opaque (a forward scan; opaques may repeat).
  std::vector<absl::string_view> responses(total);
  size_t bytes = binary::kHeaderSize;
  for (size_t f = 0; f < replies.size(); ++f) {
    const absl::string_view reply = replies[f];
    const std::vector<uint32_t>& keys = fragments[f].keys;
    size_t next = 0;
    size_t pos = 0;
    bool ended = false;
    while (pos < reply.size()) {
      Header h;
      absl::string_view whole;
      if (ended || !NextMessage(reply, &pos, &h, &whole) || h.magic != binary::kResponseMagic) {
        return false;
      }
      if (!binary::IsQuietGet(h.opcode)) {
        if (h.opcode != binary::kNoop) {
          return false;
        }
        ended = true;
        continue;
      }
      while (next < keys.size() &&
             (ops[keys[next]].opcode != h.opcode || ops[keys[next]].opaque != h.opaque)) {
        ++next;
      }
      if (next == keys.size()) {
        return false;  // a response to nothing this fragment asked (or out of order)
      }
      responses[keys[next]] = whole;
      bytes += whole.size();
      ++next;
    }
    if (!ended) {
      return false;
    }
  }
  out->reserve(out->size() + bytes);
  for (const absl::string_view response : responses) {
    out->append(response.data(), response.size());
  }
  if ((request.codec_flags & binary_flags::kClientNoop) != 0) {
    binary::AppendResponse(binary::kNoop, binary::kSuccess, request.codec_tag, {}, out);
  }
  return true;
}

bool MemcacheBinaryCodec::RewriteKeys(const Request& request, const Buffer& wire,
                                      absl::FunctionRef<std::string(absl::string_view)> map,
                                      std::string* out) const {
  if (!IsBinaryRequest(request) || request.wire_size == 0 || wire.Length() < request.wire_size ||
      (request.kind != CommandKind::kRead && request.kind != CommandKind::kWrite &&
       request.kind != CommandKind::kMultiKey)) {
    return false;
  }
  std::string copied(request.wire_size, '\0');
  wire.CopyOut(0, request.wire_size, copied.data());
  std::string result;
  result.reserve(copied.size() + 32);
  size_t pos = 0;
  size_t keyed = 0;
  while (pos < copied.size()) {
    Header h;
    absl::string_view whole;
    if (!NextMessage(copied, &pos, &h, &whole) || h.magic != binary::kRequestMagic) {
      return false;
    }
    if (h.key_length == 0) {
      if (h.opcode != binary::kNoop || pos != copied.size() || keyed == 0) {
        return false;
      }
      result.append(whole.data(), whole.size());
      continue;
    }
    const std::string key = map(KeyOf(h, whole));
    if (key.empty() || key.size() > kMaxKeySize) {
      return false;
    }
    AppendWithKey(h, whole, key, &result);
    ++keyed;
  }
  if (keyed != request.KeyCount()) {
    return false;
  }
  out->append(result);
  return true;
}

bool MemcacheBinaryCodec::RewriteReplyKeys(const Request& request, absl::string_view reply,
                                           absl::FunctionRef<std::string(absl::string_view)> map,
                                           std::string* out) const {
  if (!IsBinaryRequest(request)) {
    return false;
  }
  std::string result;
  size_t pos = 0;
  bool any = false;
  while (pos < reply.size()) {
    Header h;
    absl::string_view whole;
    if (!NextMessage(reply, &pos, &h, &whole) || h.magic != binary::kResponseMagic) {
      return false;
    }
    if (h.key_length == 0) {
      result.append(whole.data(), whole.size());
      continue;
    }
    AppendWithKey(h, whole, map(KeyOf(h, whole)), &result);
    any = true;
  }
  if (!any) {
    return false;
  }
  out->append(result);
  return true;
}

const Codec* MemcacheBinaryCodec::Variant(uint8_t id) const {
  if (id == 0) return ascii_;
  if (id == 1) return this;
  return nullptr;
}

const Codec& MemcacheBinaryCodec::ForClient(absl::string_view first_bytes) const {
  if (!first_bytes.empty() && static_cast<uint8_t>(first_bytes[0]) == binary::kRequestMagic) {
    return *this;
  }
  return ascii_ != nullptr ? *ascii_ : *this;
}

LocalAction MemcacheBinarySession::OnRequest(const Request& request, std::string* reply) {
  const uint8_t opcode = static_cast<uint8_t>(request.command_id);
  if (request.kind == CommandKind::kUnsupported) {
    // Never forwarded, whatever the pool's filters (the session runs before the chain).
    binary::AppendResponse(opcode, binary::kNotSupported, request.codec_tag,
                           absl::StrCat("unsupported command '", request.command,
                                        "': ", binary::RefusalReason(opcode)),
                           reply);
    return LocalAction::kRefused;
  }
  if (request.kind != CommandKind::kLocal) {
    return LocalAction::kForward;
  }
  switch (opcode) {
    case binary::kNoop:
      binary::AppendResponse(binary::kNoop, binary::kSuccess, request.codec_tag, {}, reply);
      return LocalAction::kReply;
    case binary::kVersion:
      binary::AppendResponse(binary::kVersion, binary::kSuccess, request.codec_tag,
                             kBinaryVersion, reply);
      return LocalAction::kReply;
    case binary::kQuit:
      binary::AppendResponse(binary::kQuit, binary::kSuccess, request.codec_tag, {}, reply);
      return LocalAction::kReplyThenClose;
    case binary::kQuitQ:
      return LocalAction::kReplyThenClose;  // quiet: closes without a reply, as memcached
    default:
      binary::AppendResponse(opcode, binary::kUnknownCommand, request.codec_tag,
                             "Unknown command", reply);
      return LocalAction::kReply;
  }
}

}  // namespace proxy::protocols::memcache

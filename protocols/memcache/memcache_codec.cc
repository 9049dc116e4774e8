// MemcacheCodec (error encoding, split/merge of multi-key retrievals) and MemcacheSession (mn,
// quit).
#include "protocols/memcache/memcache_codec.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <memory>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "protocols/memcache/binary_codec.h"
#include "protocols/memcache/binary_protocol.h"
#include "protocols/memcache/binary_request_decoder.h"
#include "protocols/memcache/command_table.h"
#include "protocols/memcache/reply_decoder.h"
#include "protocols/memcache/request_decoder.h"
#include "protocols/memcache/text.h"

namespace proxy::protocols::memcache {
namespace {

constexpr absl::string_view kEnd = "END\r\n";
constexpr absl::string_view kMn = "MN\r\n";
constexpr absl::string_view kError = "ERROR\r\n";

// The spec of a multi-key retrieval (get/gets/gat/gats with several keys), else nullptr.
const CommandSpec* MultiKeyRetrieval(const Request& request) {
  const CommandSpec* spec = CommandTable::Get().ById(request.command_id);
  if (spec == nullptr || request.kind != CommandKind::kMultiKey ||
      (spec->syntax != Syntax::kRetrieval && spec->syntax != Syntax::kGat)) {
    return nullptr;
  }
  return spec;
}

// Reads the VALUE block at `*pos` of a whole reply and moves past it; `key` is its key and
// `block` its whole wire form ("VALUE ...\r\n<data>\r\n").
bool ReadValue(absl::string_view reply, size_t* pos, std::vector<absl::string_view>* tokens,
               absl::string_view* key, absl::string_view* block) {
  const size_t start = *pos;
  if (!absl::StartsWith(reply.substr(start), "VALUE ")) {
    return false;
  }
  const size_t crlf = reply.find("\r\n", start);
  if (crlf == absl::string_view::npos) {
    return false;
  }
  Tokenize(reply.substr(start, crlf - start), tokens);
  uint64_t size = 0;
  if (tokens->size() < 4 || tokens->size() > 5 || !ParseDigits((*tokens)[3], &size)) {
    return false;
  }
  const size_t data = crlf + 2;
  const size_t left = reply.size() - data;
  if (size > left || left - size < 2 || reply.substr(data + size, 2) != "\r\n") {
    return false;
  }
  *key = (*tokens)[1];
  *pos = data + static_cast<size_t>(size) + 2;
  *block = reply.substr(start, *pos - start);
  return true;
}

// The exptime of a multi-key gat/gats for Split(): the decoder leaves it alone in `rewritten`;
// after a key-rewriting filter replaced `rewritten` by the whole rewritten request
// ("gat <exptime> <key>+\r\n", has_rewrite), it is that line's second token.
absl::string_view GatExptime(const Request& request) {
  if (!request.has_rewrite) {
    return request.rewritten;
  }
  absl::string_view line = request.rewritten;
  line = line.substr(0, line.find('\n'));
  std::vector<absl::string_view> tokens;
  Tokenize(absl::StripSuffix(line, "\r"), &tokens);
  return tokens.size() >= 3 ? tokens[1] : absl::string_view();
}

// The offset of the first LF among the first `limit` bytes of `wire`, or npos.
size_t FindLineFeed(const Buffer& wire, size_t limit) {
  Slice slices[16];
  size_t offset = 0;
  while (offset < limit) {
    const size_t count =
        std::min(wire.Peek(offset, limit - offset, absl::MakeSpan(slices)), std::size(slices));
    if (count == 0) {
      break;
    }
    for (size_t i = 0; i < count; ++i) {
      const void* lf = std::memchr(slices[i].data, '\n', slices[i].size);
      if (lf != nullptr) {
        return offset + static_cast<size_t>(static_cast<const char*>(lf) - slices[i].data);
      }
      offset += slices[i].size;
    }
  }
  return absl::string_view::npos;
}

// True when one of the meta flags is the bare `b` (the key is base64-encoded binary).
bool HasBase64Flag(absl::Span<const absl::string_view> flags) {
  return std::any_of(flags.begin(), flags.end(),
                     [](absl::string_view flag) { return flag == "b"; });
}

// map() over a key token as it is on the wire: base64-encoded binary keys are mapped decoded
// and encoded again. False when such a token is not valid base64.
bool MapKeyToken(absl::string_view token, bool base64,
                 absl::FunctionRef<std::string(absl::string_view)> map, std::string* out) {
  if (!base64) {
    out->append(map(token));
    return true;
  }
  std::string decoded;
  if (!absl::Base64Unescape(token, &decoded)) {
    return false;
  }
  out->append(absl::Base64Escape(map(decoded)));
  return true;
}

// Retrieval replies: every "VALUE <key> ..." line gets map(key); everything else is copied.
// False when the reply has no VALUE block (nothing to rewrite) or a malformed one.
bool RewriteValueKeys(absl::string_view reply,
                      absl::FunctionRef<std::string(absl::string_view)> map, std::string* out) {
  std::string result;
  std::vector<absl::string_view> tokens;
  size_t pos = 0;
  while (absl::StartsWith(reply.substr(pos), "VALUE ")) {
    const size_t start = pos;
    absl::string_view key;
    absl::string_view block;
    if (!ReadValue(reply, &pos, &tokens, &key, &block)) {
      return false;
    }
    const size_t key_at = static_cast<size_t>(key.data() - reply.data());
    const size_t key_end = key_at + key.size();
    result.reserve(reply.size() + 32);
    absl::StrAppend(&result, reply.substr(start, key_at - start), map(key),
                    reply.substr(key_end, pos - key_end));
  }
  if (pos == 0) {
    return false;
  }
  absl::StrAppend(&result, reply.substr(pos));  // END (or whatever ended the reply)
  out->append(result);
  return true;
}

// Meta replies: the key returned by the k flag ("HD k<key> ...", "VA 2 k<key> ...", base64
// with the b flag) and the key of a "ME <key> ..." line get map(key). False when the reply
// carries no key.
bool RewriteMetaKey(absl::string_view reply, absl::FunctionRef<std::string(absl::string_view)> map,
                    std::string* out) {
  const size_t crlf = reply.find("\r\n");
  if (crlf == absl::string_view::npos) {
    return false;
  }
  std::vector<absl::string_view> tokens;
  Tokenize(reply.substr(0, crlf), &tokens);
  if (tokens.size() < 2) {
    return false;
  }
  const absl::string_view status = tokens[0];
  size_t key_at = tokens.size();
  absl::string_view key;
  bool base64 = false;
  if (status == "ME") {
    key_at = 1;
    key = tokens[1];
  } else if (status == "VA" || status == "HD" || status == "NS" || status == "EX" ||
             status == "NF" || status == "EN") {
    const size_t first_flag = status == "VA" ? 2 : 1;
    for (size_t i = first_flag; i < tokens.size(); ++i) {
      if (tokens[i][0] == 'k' && key_at == tokens.size()) {
        key_at = i;
        key = tokens[i].substr(1);
      }
    }
    base64 = HasBase64Flag(absl::MakeConstSpan(tokens).subspan(first_flag));
  }
  if (key_at == tokens.size() || key.empty()) {
    return false;
  }
  std::string mapped;
  if (!MapKeyToken(key, base64, map, &mapped)) {
    return false;
  }
  const size_t key_offset = static_cast<size_t>(key.data() - reply.data());
  out->reserve(out->size() + reply.size() + mapped.size());
  absl::StrAppend(out, reply.substr(0, key_offset), mapped, reply.substr(key_offset + key.size()));
  return true;
}

}  // namespace

MemcacheCodec::MemcacheCodec() : binary_(std::make_unique<MemcacheBinaryCodec>(this)) {}

MemcacheCodec::~MemcacheCodec() = default;

const Codec* MemcacheCodec::Variant(uint8_t id) const {
  if (id == 0) return this;
  if (id == 1) return binary_.get();
  return nullptr;
}

const Codec& MemcacheCodec::ForClient(absl::string_view first_bytes) const {
  if (!first_bytes.empty() && static_cast<uint8_t>(first_bytes[0]) == binary::kRequestMagic) {
    return *binary_;
  }
  return *this;
}

void MemcacheCodec::EncodeErrorFor(const Request& request, absl::string_view text,
                                   std::string* out) const {
  if (IsBinaryRequest(request)) {
    binary_->EncodeErrorFor(request, text, out);
    return;
  }
  EncodeError(text, out);
}

RequestDecoderPtr MemcacheCodec::NewRequestDecoder(const DecoderLimits& limits) const {
  return std::make_unique<MemcacheRequestDecoder>(limits);
}

ReplyDecoderPtr MemcacheCodec::NewReplyDecoder(const DecoderLimits& limits) const {
  return std::make_unique<MemcacheReplyDecoder>(limits);
}

SessionPtr MemcacheCodec::NewSession() const { return std::make_unique<MemcacheSession>(); }

void MemcacheCodec::EncodeError(absl::string_view text, std::string* out) const {
  if (text.empty()) {
    return;  // noreply: the client expects nothing
  }
  const size_t start = out->size();
  if (text != "ERROR" && !absl::StartsWith(text, "CLIENT_ERROR ") &&
      !absl::StartsWith(text, "SERVER_ERROR ")) {
    out->append("SERVER_ERROR ");
  }
  out->append(text.data(), text.size());
  for (size_t i = start; i < out->size(); ++i) {
    if ((*out)[i] == '\r' || (*out)[i] == '\n') {
      (*out)[i] = ' ';
    }
  }
  out->append("\r\n");
}

void MemcacheCodec::EncodeRefusal(const Request& request, absl::string_view text,
                                  std::string* out) const {
  if (IsBinaryRequest(request)) {
    binary_->EncodeRefusal(request, text, out);
    return;
  }
  if (text.empty()) {
    return;  // noreply: the client expects nothing
  }
  const size_t start = out->size();
  if (text != "ERROR" && !absl::StartsWith(text, "CLIENT_ERROR ")) {
    // The request was valid and the servers are fine: SERVER_ERROR would make clients such as
    // node's `memcached` mark the server dead.
    out->append("CLIENT_ERROR ");
    text = absl::StripPrefix(text, "SERVER_ERROR ");
  }
  out->append(text.data(), text.size());
  for (size_t i = start; i < out->size(); ++i) {
    if ((*out)[i] == '\r' || (*out)[i] == '\n') {
      (*out)[i] = ' ';
    }
  }
  out->append("\r\n");
}

std::vector<Fragment> MemcacheCodec::Split(const Request& request,
                                           absl::Span<const uint32_t> key_servers) const {
  if (IsBinaryRequest(request)) {
    return binary_->Split(request, key_servers);
  }
  const CommandSpec* spec = MultiKeyRetrieval(request);
  if (spec == nullptr) {
    return {};
  }
  const size_t keys = request.KeyCount();
  const bool gat = spec->syntax == Syntax::kGat;
  const absl::string_view exptime = gat ? GatExptime(request) : absl::string_view();
  if (keys == 0 || key_servers.size() != keys || (gat && exptime.empty()) ||
      std::all_of(key_servers.begin(), key_servers.end(),
                  [&](uint32_t server) { return server == key_servers[0]; })) {
    return {};
  }
  std::vector<uint32_t> order(keys);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return key_servers[a] < key_servers[b]; });
  std::vector<Fragment> fragments;
  for (size_t begin = 0; begin < keys;) {
    const uint32_t server = key_servers[order[begin]];
    size_t end = begin;
    size_t bytes = spec->name.size() + 3 + (gat ? exptime.size() + 1 : 0);
    while (end < keys && key_servers[order[end]] == server) {
      bytes += request.Key(order[end]).size() + 1;
      ++end;
    }
    Fragment& fragment = fragments.emplace_back();
    fragment.server = server;
    fragment.keys.assign(order.begin() + begin, order.begin() + end);
    std::string& wire = fragment.bytes;
    wire.reserve(bytes);
    wire.append(spec->name.data(), spec->name.size());
    if (gat) {
      wire.push_back(' ');
      wire.append(exptime.data(), exptime.size());
    }
    for (const uint32_t key : fragment.keys) {
      const absl::string_view name = request.Key(key);
      wire.push_back(' ');
      wire.append(name.data(), name.size());
    }
    wire.append("\r\n");
    begin = end;
  }
  return fragments;
}

bool MemcacheCodec::Merge(const Request& request, absl::Span<const Fragment> fragments,
                          absl::Span<const std::string> replies, std::string* out) const {
  if (IsBinaryRequest(request)) {
    return binary_->Merge(request, fragments, replies, out);
  }
  if (MultiKeyRetrieval(request) == nullptr || fragments.empty() ||
      fragments.size() != replies.size()) {
    return false;
  }
  // Every key of the request is carried by exactly one fragment.
  const size_t total = request.KeyCount();
  if (!EachKeyInOneFragment(fragments, total)) {
    return false;
  }
  // memcached answers a multi-get's hits in the order of its keys (misses are left out), and a
  // fragment lists its keys in request order: each VALUE block normally belongs to the next key
  // of its fragment with the same name, found by one forward scan. One view per key, no map of
  // the keys (a huge multi-get costs 16 bytes per key here); only a reply out of that order
  // builds a map of its fragment's unanswered keys.
  std::vector<absl::string_view> blocks(total);
  size_t bytes = kEnd.size();
  std::vector<absl::string_view> tokens;
  for (size_t f = 0; f < replies.size(); ++f) {
    const absl::string_view reply = replies[f];
    const std::vector<uint32_t>& keys = fragments[f].keys;
    absl::flat_hash_map<absl::string_view, std::vector<uint32_t>> unanswered;  // reversed order
    bool in_order = true;
    size_t next = 0;
    size_t pos = 0;
    while (reply.substr(pos) != kEnd) {
      absl::string_view key;
      absl::string_view block;
      if (!ReadValue(reply, &pos, &tokens, &key, &block)) {
        return false;
      }
      uint32_t index = 0;
      if (in_order) {
        size_t at = next;
        while (at < keys.size() && request.Key(keys[at]) != key) {
          ++at;
        }
        if (at < keys.size()) {
          index = keys[at];
          next = at + 1;
        } else {
          in_order = false;
          for (size_t i = keys.size(); i-- > 0;) {
            if (blocks[keys[i]].data() == nullptr) {
              unanswered[request.Key(keys[i])].push_back(keys[i]);
            }
          }
        }
      }
      if (!in_order) {
        auto it = unanswered.find(key);
        if (it == unanswered.end() || it->second.empty()) {
          return false;  // a key this fragment did not ask for (or more often than asked)
        }
        index = it->second.back();
        it->second.pop_back();
      }
      blocks[index] = block;
      bytes += block.size();
    }
  }
  out->reserve(out->size() + bytes);
  for (const absl::string_view block : blocks) {
    out->append(block.data(), block.size());
  }
  out->append(kEnd.data(), kEnd.size());
  return true;
}

bool MemcacheCodec::RewriteKeys(const Request& request, const Buffer& wire,
                                absl::FunctionRef<std::string(absl::string_view)> map,
                                std::string* out) const {
  if (IsBinaryRequest(request)) {
    return binary_->RewriteKeys(request, wire, map, out);
  }
  const CommandSpec* spec = CommandTable::Get().ById(request.command_id);
  if (spec == nullptr || request.wire_size == 0 || wire.Length() < request.wire_size) {
    return false;
  }
  const size_t lf = FindLineFeed(wire, request.wire_size);
  if (lf == absl::string_view::npos) {
    return false;
  }
  // Only the command line is copied here; the data block goes straight into the result.
  std::string copied(lf, '\0');
  wire.CopyOut(0, lf, copied.data());
  const absl::string_view line = absl::StripSuffix(copied, "\r");
  const size_t data_size = request.wire_size - lf - 1;
  std::vector<absl::string_view> tokens;
  Tokenize(line, &tokens);
  const size_t n = tokens.size();
  size_t first = 1;  // the keys are tokens [first, end)
  size_t end = 2;
  bool base64 = false;
  switch (spec->syntax) {
    case Syntax::kRetrieval:
      end = n;
      break;
    case Syntax::kGat:
      first = 2;
      end = n;
      break;
    case Syntax::kStorage:
    case Syntax::kCas:
    case Syntax::kArithmetic:
    case Syntax::kTouch:
    case Syntax::kDelete:
      break;
    case Syntax::kMeta:
      base64 = n > 2 && HasBase64Flag(absl::MakeConstSpan(tokens).subspan(2));
      break;
    case Syntax::kMetaSet:
      base64 = n > 3 && HasBase64Flag(absl::MakeConstSpan(tokens).subspan(3));
      break;
    case Syntax::kVersion: {
      // Routed by "placeholder": no key of the client's to map.
      const size_t start = out->size();
      out->resize(start + request.wire_size);
      wire.CopyOut(0, request.wire_size, out->data() + start);
      return true;
    }
    case Syntax::kNoop:
    case Syntax::kQuit:
    case Syntax::kAdmin:
      return false;
  }
  if (end > n || first >= end || end - first != request.KeyCount()) {
    return false;
  }
  std::string result;
  result.reserve(request.wire_size + 32 * (end - first));
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) {
      result.push_back(' ');
    }
    if (i >= first && i < end) {
      const size_t before = result.size();
      // A mapped key over memcached's limit is refused by memcached without reading a data
      // block (and, in a get, after dropping the replies already queued on the connection).
      if (!MapKeyToken(tokens[i], base64, map, &result) || result.size() - before > kMaxKeySize) {
        return false;
      }
    } else {
      result.append(tokens[i].data(), tokens[i].size());
    }
  }
  // memcached closes the connection on a line over kMaxLineSize bytes (CR included) that is
  // not a get/gets: a rewritten line must still fit.
  if (spec->syntax != Syntax::kRetrieval &&
      result.size() + 1 > MemcacheRequestDecoder::kMaxLineSize) {
    return false;
  }
  result.append("\r\n");
  const size_t data_at = result.size();
  result.resize(data_at + data_size);
  wire.CopyOut(lf + 1, data_size, result.data() + data_at);
  out->append(result);
  return true;
}

bool MemcacheCodec::RewriteReplyKeys(const Request& request, absl::string_view reply,
                                     absl::FunctionRef<std::string(absl::string_view)> map,
                                     std::string* out) const {
  if (IsBinaryRequest(request)) {
    return binary_->RewriteReplyKeys(request, reply, map, out);
  }
  const CommandSpec* spec = CommandTable::Get().ById(request.command_id);
  if (spec == nullptr) {
    return false;
  }
  switch (spec->syntax) {
    case Syntax::kRetrieval:
    case Syntax::kGat:
      return RewriteValueKeys(reply, map, out);
    case Syntax::kMeta:
    case Syntax::kMetaSet:
      return RewriteMetaKey(reply, map, out);
    default:
      return false;
  }
}

LocalAction MemcacheSession::OnRequest(const Request& request, std::string* reply) {
  if (request.kind == CommandKind::kUnsupported) {
    // memcached's admin commands are never forwarded, whatever the pool's filters: they act on
    // a whole server (flush_all, shutdown), change the shared connection's mode (watch,
    // verbosity) or answer in a form the proxy does not frame (stats). The session runs before
    // the filter chain, so a chain without reject_unsupported cannot let them through.
    const CommandSpec* spec = CommandTable::Get().ById(request.command_id);
    const absl::string_view name = spec != nullptr ? spec->name : absl::string_view("?");
    absl::StrAppend(reply, "CLIENT_ERROR unsupported command '", name,
                    "': ", UnsupportedCommandReason(name), "\r\n");
    return LocalAction::kRefused;
  }
  if (request.kind != CommandKind::kLocal) {
    return LocalAction::kForward;
  }
  const CommandSpec* spec = CommandTable::Get().ById(request.command_id);
  if (spec != nullptr && spec->syntax == Syntax::kNoop) {
    reply->append(kMn.data(), kMn.size());
    return LocalAction::kReply;
  }
  if (spec != nullptr && spec->syntax == Syntax::kQuit) {
    return LocalAction::kReplyThenClose;  // memcached closes without a reply
  }
  reply->append(kError.data(), kError.size());
  return LocalAction::kReply;
}

absl::string_view MemcacheCodec::UnsupportedReason(absl::string_view command) const {
  // Known memcached commands the proxy does not forward.
  return UnsupportedCommandReason(command);
}

}  // namespace proxy::protocols::memcache

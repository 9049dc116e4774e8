// MemcacheCodec (error encoding, split/merge of multi-key retrievals) and MemcacheSession (mn,
// quit).
#include "protocols/memcache/memcache_codec.h"

#include <algorithm>
#include <memory>
#include <numeric>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/match.h"
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

}  // namespace

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

std::vector<Fragment> MemcacheCodec::Split(const Request& request,
                                           absl::Span<const uint32_t> key_servers) const {
  const CommandSpec* spec = MultiKeyRetrieval(request);
  if (spec == nullptr) {
    return {};
  }
  const size_t keys = request.KeyCount();
  const bool gat = spec->syntax == Syntax::kGat;
  if (keys == 0 || key_servers.size() != keys || (gat && request.rewritten.empty()) ||
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
    size_t bytes = spec->name.size() + 3 + (gat ? request.rewritten.size() + 1 : 0);
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
      wire.append(request.rewritten);
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
  if (MultiKeyRetrieval(request) == nullptr || fragments.empty() ||
      fragments.size() != replies.size()) {
    return false;
  }
  // Every key of the request, with the fragment that carries it and the blocks returned for it.
  struct Entry {
    size_t fragment = 0;
    uint32_t requested = 0;
    uint32_t next = 0;
    absl::InlinedVector<absl::string_view, 1> blocks;
  };
  const size_t total = request.KeyCount();
  absl::flat_hash_map<absl::string_view, Entry> entries;
  entries.reserve(total);
  std::vector<bool> seen(total, false);
  size_t covered = 0;
  for (size_t f = 0; f < fragments.size(); ++f) {
    for (const uint32_t index : fragments[f].keys) {
      if (index >= total || seen[index]) {
        return false;
      }
      seen[index] = true;
      ++covered;
      auto [it, inserted] = entries.try_emplace(request.Key(index));
      if (inserted) {
        it->second.fragment = f;
      } else if (it->second.fragment != f) {
        return false;
      }
      ++it->second.requested;
    }
  }
  if (covered != total) {
    return false;
  }
  size_t bytes = kEnd.size();
  std::vector<absl::string_view> tokens;
  for (size_t f = 0; f < replies.size(); ++f) {
    const absl::string_view reply = replies[f];
    size_t pos = 0;
    while (reply.substr(pos) != kEnd) {
      absl::string_view key;
      absl::string_view block;
      if (!ReadValue(reply, &pos, &tokens, &key, &block)) {
        return false;
      }
      auto it = entries.find(key);
      if (it == entries.end() || it->second.fragment != f ||
          it->second.blocks.size() >= it->second.requested) {
        return false;
      }
      it->second.blocks.push_back(block);
      bytes += block.size();
    }
  }
  out->reserve(out->size() + bytes);
  for (size_t i = 0; i < total; ++i) {
    Entry& entry = entries.find(request.Key(i))->second;
    if (entry.next < entry.blocks.size()) {
      const absl::string_view block = entry.blocks[entry.next++];
      out->append(block.data(), block.size());
    }
  }
  out->append(kEnd.data(), kEnd.size());
  return true;
}

LocalAction MemcacheSession::OnRequest(const Request& request, std::string* reply) {
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

}  // namespace proxy::protocols::memcache

// Prefixing of request keys and stripping of reply keys for the key_prefix filter.
#include "filters/key_prefix/key_prefix_filter.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace proxy::filters::key_prefix {
namespace {

// Longest command name quoted in an error reply; longer (client-chosen) names are cut.
constexpr size_t kMaxQuotedName = 64;
// Argument scratch kept between requests; a larger one (after a huge MGET) is released.
constexpr size_t kKeptArgBytes = 64u << 10;

// The request's command name, made safe to quote inside a one-line error reply.
std::string QuotedCommand(const Request& request) {
  absl::string_view name = request.command;
  if (name.empty() && !request.args.empty()) {
    name = request.args[0];  // an unknown command: the decoder's copy of its name
  }
  std::string out;
  const size_t n = name.size() > kMaxQuotedName ? kMaxQuotedName : name.size();
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  if (n < name.size()) {
    out.append("...");
  }
  return out;
}

}  // namespace

absl::Status ValidatePrefix(absl::string_view prefix) {
  if (prefix.empty()) {
    return absl::InvalidArgumentError(
        "prefix: must not be empty; give the namespace prepended to every key, e.g. \"app1:\"");
  }
  if (prefix.size() > kMaxPrefixSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "prefix: ", prefix.size(), " bytes is too long; at most ", kMaxPrefixSize, " bytes"));
  }
  for (size_t i = 0; i < prefix.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(prefix[i]);
    if (c <= 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      return absl::InvalidArgumentError(
          absl::StrCat("prefix: byte ", i, " (\\x", std::string{kHex[c >> 4], kHex[c & 0xf]},
                       ") is a space or control character, which keys may not contain"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckHashTag(absl::string_view prefix, absl::string_view hash_tag) {
  if (hash_tag.size() == 2 && absl::StrContains(prefix, hash_tag[0])) {
    return absl::InvalidArgumentError(
        absl::StrCat("prefix: '", prefix, "' contains '", hash_tag.substr(0, 1),
                     "', the start of the pool's ", "hash_tag \"", hash_tag,
                     "\": keys would be hashed by the prefix instead of their own tag"));
  }
  return absl::OkStatus();
}

absl::Status CheckChainOrder(const config::v1::Pool& pool) {
  for (const config::v1::Filter& filter : pool.filters()) {
    if (filter.name() == "key_prefix") {
      return absl::OkStatus();
    }
    if (filter.name() == "hash_tag" || filter.name() == "router") {
      return absl::InvalidArgumentError(absl::StrCat(
          "must come before ", filter.name(),
          " in the pool's filters (keys are hashed and split after they are prefixed), e.g. "
          "filters: [key_prefix, hash_tag, router, stats]"));
    }
  }
  return absl::OkStatus();
}

FilterStatus KeyPrefixFilter::Refuse(const Request& request, absl::string_view text,
                                     FilterCallbacks& callbacks) {
  // A noreply request gets no reply at all, not even an error (the codec encodes "" as nothing).
  callbacks.SendLocalError(request.expects_reply ? text : absl::string_view());
  return FilterStatus::kStop;
}

FilterStatus KeyPrefixFilter::OnRequest(Request& request, FilterCallbacks& callbacks) {
  if (request.kind == CommandKind::kLocal || request.synthetic_key) {
    return FilterStatus::kContinue;  // no key of the client's
  }
  const Codec& codec = callbacks.Pool().PoolCodec();
  codec_ = &codec;
  const std::string& prefix = settings_->prefix;
  if (request.kind == CommandKind::kUnsupported) {
    return Refuse(request,
                  absl::StrCat("key_prefix: cannot rewrite '", QuotedCommand(request), "'"),
                  callbacks);
  }
  const size_t count = request.KeyCount();
  if (count == 0) {
    return FilterStatus::kContinue;
  }
  if (settings_->limit_key_size) {
    for (size_t i = 0; i < count; ++i) {
      if (request.Key(i).size() + prefix.size() > kMaxMemcacheKeySize) {
        return Refuse(request, kKeyTooLong, callbacks);
      }
    }
  }
  std::string rewritten;
  const bool ok = codec.RewriteKeys(
      request, callbacks.RequestBytes(),
      [&prefix](absl::string_view key) { return absl::StrCat(prefix, key); }, &rewritten);
  if (!ok) {
    return Refuse(request,
                  absl::StrCat("key_prefix: cannot rewrite '", QuotedCommand(request), "'"),
                  callbacks);
  }
  // The prefixed arguments, rebuilt in one pass (ArgList::Set per key would be quadratic for a
  // large MGET).
  args_.Clear();
  const size_t step = request.key_step;
  for (size_t i = 0; i < request.args.size(); ++i) {
    if (i % step == 0) {
      args_.StartArg();
      args_.AppendToLast(prefix);
      args_.AppendToLast(request.args[i]);
    } else {
      args_.Add(request.args[i]);
    }
  }
  std::swap(request.args, args_);
  args_.ReleaseIfLarge(kKeptArgBytes);
  // `rewritten` may hold codec-private bytes (a multi-key gat's exptime): replaced as a whole.
  request.rewritten = std::move(rewritten);
  request.has_rewrite = true;
  return FilterStatus::kContinue;
}

void KeyPrefixFilter::OnReply(const Request& request, std::string* reply) {
  if (codec_ == nullptr || request.KeyCount() == 0 || request.synthetic_key) {
    return;
  }
  const std::string& prefix = settings_->prefix;
  std::string out;
  const bool rewritten = codec_->RewriteReplyKeys(
      request, *reply,
      [&prefix](absl::string_view key) {
        return std::string(absl::StartsWith(key, prefix) ? key.substr(prefix.size()) : key);
      },
      &out);
  if (rewritten) {
    reply->swap(out);
  }
}

}  // namespace proxy::filters::key_prefix

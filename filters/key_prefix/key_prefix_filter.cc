// Prefixing of request keys and stripping of reply keys for the key_prefix filter.
#include "filters/key_prefix/key_prefix_filter.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/command_text.h"

namespace proxy::filters::key_prefix {
namespace {

// Argument scratch kept between requests; a larger one (after a huge MGET) is released.
constexpr size_t kKeptArgBytes = 64u << 10;


// The request's command name, made safe to quote inside a one-line error reply.
std::string QuotedCommand(const Request& request) { return Quotable(CommandName(request)); }

// The request's command name in upper case (an unknown command: the decoder's copy of its name).
std::string UpperName(const Request& request) {
  return absl::AsciiStrToUpper(CommandName(request).substr(0, kMaxQuotedName));
}

// Splits a canonical RESP array of bulk strings ("*N\r\n" then N times "$len\r\n<bytes>\r\n",
// as the redis codec's RewriteKeys writes it) into its arguments. False on anything else.
bool SplitRespArray(absl::string_view wire, std::vector<absl::string_view>* argv) {
  argv->clear();
  auto read_number = [&wire](char marker, uint64_t* value) {
    if (wire.empty() || wire[0] != marker) return false;
    const size_t end = wire.find("\r\n");
    if (end == absl::string_view::npos || end < 2 || end > 20) return false;
    if (!absl::SimpleAtoi(wire.substr(1, end - 1), value)) return false;
    wire.remove_prefix(end + 2);
    return true;
  };
  uint64_t count = 0;
  if (!read_number('*', &count) || count == 0 || count > wire.size()) return false;
  argv->reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t length = 0;
    if (!read_number('$', &length) || length > wire.size() || wire.size() - length < 2 ||
        wire.substr(length, 2) != "\r\n") {
      return false;
    }
    argv->push_back(wire.substr(0, length));
    wire.remove_prefix(length + 2);
  }
  return wire.empty();
}

void AppendResp(const std::vector<std::string>& argv, std::string* out) {
  absl::StrAppend(out, "*", argv.size(), "\r\n");
  for (const std::string& arg : argv) absl::StrAppend(out, "$", arg.size(), "\r\n", arg, "\r\n");
}

}  // namespace

bool IsUnconfinedRedisCommand(absl::string_view upper_name) {
  // Scripts and functions run arbitrary code that may name any key; the others take key
  // patterns, enumerate or sample the keyspace, or move keys outside it.
  static constexpr absl::string_view kNames[] = {
      "EVAL",     "EVALSHA", "EVAL_RO",   "EVALSHA_RO", "FCALL",   "FCALL_RO", "SCRIPT",
      "FUNCTION", "KEYS",    "SCAN",      "RANDOMKEY",  "MIGRATE", "OBJECT",   "MOVE",
      "SWAPDB",   "FLUSHDB", "FLUSHALL",  "DBSIZE",     "MEMORY",  "DEBUG",    "SORT_RO",
      "MONITOR",  "CLIENT",  "CONFIG",    "PUBLISH",    "SPUBLISH", "PUBSUB",  "SUBSCRIBE",
      "PSUBSCRIBE", "SSUBSCRIBE", "XREAD", "XREADGROUP", "GEORADIUS_RO",
      "GEORADIUSBYMEMBER_RO", "WAIT", "WAITAOF", "MULTI", "EXEC", "WATCH"};
  for (absl::string_view name : kNames) {
    if (upper_name == name) return true;
  }
  return false;
}

ArgumentRewrite RewriteRedisArguments(absl::string_view prefix, std::vector<std::string>* argv) {
  if (argv->empty()) return ArgumentRewrite::kUnchanged;
  const std::string name = absl::AsciiStrToUpper((*argv)[0]);
  std::vector<std::string>& a = *argv;
  const size_t n = a.size();
  bool changed = false;
  auto eq = [&a](size_t i, absl::string_view word) { return absl::EqualsIgnoreCase(a[i], word); };
  // A key pattern is only confined when the prefix holds no '*' (redis substitutes the first
  // '*' of the pattern, which would then be the prefix's).
  const bool patterns_ok = !absl::StrContains(prefix, '*');
  if (name == "SORT") {
    // redis's sortCommand option parser, in its order: ASC DESC ALPHA, LIMIT o c, STORE k,
    // BY pattern, GET pattern; anything else is a syntax error (nothing runs).
    for (size_t j = 2; j < n;) {
      const size_t left = n - j - 1;
      if (eq(j, "ASC") || eq(j, "DESC") || eq(j, "ALPHA")) {
        j += 1;
      } else if (eq(j, "LIMIT") && left >= 2) {
        j += 3;
      } else if (eq(j, "STORE") && left >= 1) {
        a[j + 1] = absl::StrCat(prefix, a[j + 1]);
        changed = true;
        j += 2;
      } else if (eq(j, "BY") && left >= 1) {
        // A pattern without '*' (e.g. "nosort") only disables sorting: no key is read.
        if (absl::StrContains(a[j + 1], '*')) {
          if (!patterns_ok) return ArgumentRewrite::kRefuse;
          a[j + 1] = absl::StrCat(prefix, a[j + 1]);
          changed = true;
        }
        j += 2;
      } else if (eq(j, "GET") && left >= 1) {
        // "#" is the element itself; a pattern without '*' reads no key (redis returns nil).
        if (a[j + 1] != "#" && absl::StrContains(a[j + 1], '*')) {
          if (!patterns_ok) return ArgumentRewrite::kRefuse;
          a[j + 1] = absl::StrCat(prefix, a[j + 1]);
          changed = true;
        }
        j += 2;
      } else {
        break;  // redis answers a syntax error and runs nothing
      }
    }
  } else if (name == "GEORADIUS" || name == "GEORADIUSBYMEMBER") {
    // redis's georadiusGeneric option parser: WITHDIST WITHHASH WITHCOORD ANY ASC DESC,
    // COUNT n, STORE k, STOREDIST k; anything else is a syntax error.
    for (size_t j = name == "GEORADIUS" ? 6 : 5; j < n;) {
      const size_t left = n - j - 1;
      if (eq(j, "WITHDIST") || eq(j, "WITHHASH") || eq(j, "WITHCOORD") || eq(j, "ANY") ||
          eq(j, "ASC") || eq(j, "DESC")) {
        j += 1;
      } else if (eq(j, "COUNT") && left >= 1) {
        j += 2;
      } else if ((eq(j, "STORE") || eq(j, "STOREDIST")) && left >= 1) {
        a[j + 1] = absl::StrCat(prefix, a[j + 1]);
        changed = true;
        j += 2;
      } else {
        break;
      }
    }
  }
  return changed ? ArgumentRewrite::kRewritten : ArgumentRewrite::kUnchanged;
}

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
  if (settings_->redis && IsUnconfinedRedisCommand(UpperName(request))) {
    return Refuse(request,
                  absl::StrCat("key_prefix: '", QuotedCommand(request),
                               "' can reach keys outside the pool's prefix"),
                  callbacks);
  }
  const size_t count = request.KeyCount();
  if (count == 0) {
    // Nothing to prefix: forwarding it would run unconfined on the shared keyspace.
    return Refuse(request,
                  absl::StrCat("key_prefix: cannot rewrite '", QuotedCommand(request), "'"),
                  callbacks);
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
  if (settings_->redis) {
    // redis: key names inside options (SORT BY/GET/STORE, GEORADIUS STORE/STOREDIST) too.
    const std::string upper = UpperName(request);
    if (upper == "SORT" || upper == "GEORADIUS" || upper == "GEORADIUSBYMEMBER") {
      std::vector<absl::string_view> views;
      if (!SplitRespArray(rewritten, &views)) {
        return Refuse(request,
                      absl::StrCat("key_prefix: cannot rewrite '", QuotedCommand(request), "'"),
                      callbacks);
      }
      std::vector<std::string> argv(views.begin(), views.end());
      switch (RewriteRedisArguments(prefix, &argv)) {
        case ArgumentRewrite::kUnchanged:
          break;
        case ArgumentRewrite::kRewritten:
          rewritten.clear();
          AppendResp(argv, &rewritten);
          break;
        case ArgumentRewrite::kRefuse:
          return Refuse(request,
                        absl::StrCat("key_prefix: '", QuotedCommand(request),
                                     "' patterns cannot be confined to a prefix holding '*'"),
                        callbacks);
      }
    }
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

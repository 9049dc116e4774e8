// The key_prefix filter: prepends the pool's prefix to every key of every request (so that
// several applications share backends without seeing each other's keys) and strips it again
// from the keys memcache replies carry.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "api/codec.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/filter.h"

namespace proxy::filters::key_prefix {

// memcached's KEY_MAX_LENGTH: a prefixed memcache key may not be longer.
inline constexpr size_t kMaxMemcacheKeySize = 250;
// The longest prefix accepted (leaves memcache keys at least 50 bytes of their own).
inline constexpr size_t kMaxPrefixSize = 200;
// The reply to a memcache key that the prefix makes longer than kMaxMemcacheKeySize.
inline constexpr absl::string_view kKeyTooLong =
    "CLIENT_ERROR key too long with the pool's key prefix";

// The validated config, shared read-only by every filter instance of a pool.
struct Settings {
  std::string prefix;
  // redis pools: unconfinable commands are refused and option keys (SORT ... STORE) prefixed.
  bool redis = false;
  // memcache pools: keys are limited to kMaxMemcacheKeySize bytes.
  bool limit_key_size = false;
  // Pools whose replies may carry keys (memcache VALUE lines, meta k flags): strip the prefix.
  bool rewrite_replies = false;
};

// OK, or kInvalidArgument naming `prefix`: empty, longer than kMaxPrefixSize, or holding a
// space or control character (0x00-0x20, 0x7f), which no memcache key may contain.
absl::Status ValidatePrefix(absl::string_view prefix);

// OK, or kInvalidArgument naming `prefix` when it contains the first byte of the pool's
// two-byte `hash_tag`: the tag would then be found in the prefix (prefix "{app}:" with hash_tag
// "{}" hashes every key as "app", all on one server).
absl::Status CheckHashTag(absl::string_view prefix, absl::string_view hash_tag);

// OK, or kInvalidArgument when the pool's `filters:` list has hash_tag or router before
// key_prefix: they would hash and split the keys before they are prefixed.
absl::Status CheckChainOrder(const config::v1::Pool& pool);

// redis commands that no prefix can confine (by upper-case name): scripts and functions (their
// code names any key), key patterns and keyspace enumeration (KEYS, SCAN, RANDOMKEY), moves out
// of the keyspace (MIGRATE, MOVE, SWAPDB), whole-keyspace effects (FLUSHDB, FLUSHALL, DBSIZE)
// and commands whose key arguments the codec does not mark (OBJECT, MEMORY, XREAD, *_RO
// variants). Refused by the filter whatever the codec's table says of them.
bool IsUnconfinedRedisCommand(absl::string_view upper_name);

enum class ArgumentRewrite { kUnchanged, kRewritten, kRefuse };

// Prefixes the key names redis reads from a command's options, parsed exactly as redis parses
// them: SORT's BY and GET patterns (those holding '*': "#" and "nosort"-like patterns name no
// key and stay) and STORE destination; GEORADIUS/GEORADIUSBYMEMBER's STORE and STOREDIST.
// `argv` is the whole command with its keys already prefixed. kRefuse when a pattern would have
// to be prefixed but the prefix holds a '*' (redis would substitute inside the prefix).
ArgumentRewrite RewriteRedisArguments(absl::string_view prefix, std::vector<std::string>* argv);

// Per client connection.
//
// OnRequest, for requests with keys (not local, not routed by the synthetic "placeholder"):
// every key in Request::args becomes prefix+key (so hash_tag, the router and split fragments all
// see the prefixed keys), and the request's bytes are re-encoded by the pool codec's
// RewriteKeys into Request::rewritten (has_rewrite); redis option keys and patterns by
// RewriteRedisArguments. Refused with an error reply (and kStop): commands the codec cannot
// rewrite, kUnsupported requests and requests without a key ("key_prefix: cannot rewrite
// 'KEYS'": forwarding them unprefixed would reach other applications' keys), redis commands of
// IsUnconfinedRedisCommand (EVAL: "key_prefix: 'EVAL' can reach keys outside the pool's
// prefix"), and memcache keys longer than 250 bytes with the prefix (kKeyTooLong). memcache
// noreply requests get no reply.
//
// OnReply (pools with rewrite_replies): the pool codec's RewriteReplyKeys with a map that strips
// the prefix; a reply it does not rewrite is left unchanged.
class KeyPrefixFilter final : public Filter {
 public:
  explicit KeyPrefixFilter(std::shared_ptr<const Settings> settings)
      : settings_(std::move(settings)) {}

  FilterStatus OnRequest(Request& request, FilterCallbacks& callbacks) override;
  bool RewritesReplies() const override { return settings_->rewrite_replies; }
  void OnReply(const Request& request, std::string* reply) override;

 private:
  // Answers with `text` (nothing for a request that said noreply) and stops the chain.
  FilterStatus Refuse(const Request& request, absl::string_view text, FilterCallbacks& callbacks);

  std::shared_ptr<const Settings> settings_;
  // The pool's codec, remembered from OnRequest (OnReply has no callbacks); it outlives every
  // connection of its pool.
  const Codec* codec_ = nullptr;
  // Scratch reused across requests: the prefixed arguments, then swapped into the request.
  ArgList args_;
};

}  // namespace proxy::filters::key_prefix

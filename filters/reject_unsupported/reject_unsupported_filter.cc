// Rejection texts and the per-request check of the reject_unsupported filter.
#include "filters/reject_unsupported/reject_unsupported_filter.h"

#include <cstdint>
#include <initializer_list>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace proxy::filters::reject_unsupported {
namespace {

// Longest command name quoted in an error reply; longer (client-chosen) names are cut.
constexpr size_t kMaxQuotedName = 64;

constexpr absl::string_view kSpread =
    "keys are spread over several servers; run it on each server directly";
constexpr absl::string_view kCrossKey =
    "its keys may live on different servers and it cannot be split";
constexpr absl::string_view kTransaction = "transactions cannot span a sharding proxy";
constexpr absl::string_view kPubSub = "pub/sub is not proxied";
constexpr absl::string_view kBlocking = "blocking commands are not proxied";
constexpr absl::string_view kServerAdmin =
    "it addresses one server, not the pool; run it on each server directly";
constexpr absl::string_view kDatabase = "the database is fixed by the pool's redis_db setting";
constexpr absl::string_view kConnection = "connection-level state is not proxied";

using ReasonTable =
    absl::flat_hash_map<std::string, absl::string_view, CaseInsensitiveHash, CaseInsensitiveEq>;

const ReasonTable& Reasons() {
  static const ReasonTable* const table = [] {
    auto* t = new ReasonTable();
    auto add = [t](std::initializer_list<absl::string_view> names, absl::string_view reason) {
      for (absl::string_view name : names) {
        t->emplace(std::string(name), reason);
      }
    };
    // redis (spec 4.2: everything not classified is unsupported).
    add({"KEYS", "SCAN", "RANDOMKEY", "DBSIZE", "FLUSHALL", "FLUSHDB"}, kSpread);
    add({"RENAME", "RENAMENX", "MSETNX", "BITOP", "MIGRATE", "SINTERCARD", "ZINTERCARD", "LMPOP",
         "ZMPOP", "LCS"},
        kCrossKey);
    add({"MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH"}, kTransaction);
    add({"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE",
         "PUBLISH", "SPUBLISH", "PUBSUB"},
        kPubSub);
    add({"BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP",
         "WAIT", "WAITAOF"},
        kBlocking);
    add({"INFO",         "CONFIG",   "CLIENT",   "TIME",      "LASTSAVE", "SAVE",    "BGSAVE",
         "BGREWRITEAOF", "SHUTDOWN", "SLAVEOF",  "REPLICAOF", "ROLE",     "SYNC",    "PSYNC",
         "DEBUG",        "SLOWLOG",  "LATENCY",  "MEMORY",    "MODULE",   "ACL",     "MONITOR",
         "FAILOVER",     "CLUSTER",  "READONLY", "READWRITE", "SCRIPT",   "FUNCTION"},
        kServerAdmin);
    add({"SELECT", "SWAPDB", "MOVE"}, kDatabase);
    add({"HELLO", "RESET"}, kConnection);
    // memcache (spec 5.1).
    add({"flush_all"}, kSpread);
    add({"stats", "verbosity", "shutdown", "cache_memlimit"}, kServerAdmin);
    return t;
  }();
  return *table;
}

// `name` made safe to quote inside a one-line error reply: printable ASCII only, bounded length.
std::string Quotable(absl::string_view name) {
  std::string out;
  const size_t n = name.size() > kMaxQuotedName ? kMaxQuotedName : name.size();
  out.reserve(n + 3);
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

size_t CaseInsensitiveHash::operator()(absl::string_view s) const {
  // FNV-1a over the upper-cased bytes.
  uint64_t h = 14695981039346656037ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(absl::ascii_toupper(static_cast<unsigned char>(c)));
    h *= 1099511628211ull;
  }
  return static_cast<size_t>(h);
}

bool CaseInsensitiveEq::operator()(absl::string_view a, absl::string_view b) const {
  return absl::EqualsIgnoreCase(a, b);
}

absl::StatusOr<std::shared_ptr<const DenyList>> DenyList::Create(
    const config::filters::v1::RejectUnsupportedConfig& config) {
  auto list = std::make_shared<DenyList>();
  for (int i = 0; i < config.deny_commands_size(); ++i) {
    const std::string& command = config.deny_commands(i);
    if (command.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("deny_commands[", i, "]: must not be empty; give a command name"));
    }
    for (char c : command) {
      const unsigned char u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u >= 0x7f) {
        return absl::InvalidArgumentError(
            absl::StrCat("deny_commands[", i, "]: '", Quotable(command),
                         "' is not a single command name (no spaces or control characters)"));
      }
    }
    list->commands_.insert(command);
  }
  return std::shared_ptr<const DenyList>(std::move(list));
}

absl::string_view CommandName(const Request& request) {
  if (!request.command.empty()) {
    return request.command;
  }
  return request.args.empty() ? absl::string_view() : request.args[0];
}

absl::string_view UnsupportedReason(absl::string_view command) {
  const ReasonTable& table = Reasons();
  auto it = table.find(command);
  return it == table.end() ? absl::string_view() : it->second;
}

std::string UnsupportedMessage(const Request& request) {
  const absl::string_view name = CommandName(request);
  if (name.empty()) {
    return "unknown or unsupported command";
  }
  const absl::string_view reason = UnsupportedReason(name);
  if (!reason.empty()) {
    return absl::StrCat("unsupported command '", Quotable(name), "': ", reason);
  }
  if (!request.command.empty()) {
    // Known to the codec, classified as not proxiable, no specific explanation.
    return absl::StrCat("unsupported command '", Quotable(name), "': it is not proxied");
  }
  return absl::StrCat("unknown or unsupported command '", Quotable(name), "'");
}

std::string DisabledMessage(const Request& request) {
  return absl::StrCat("command '", Quotable(CommandName(request)), "' is disabled on this pool");
}

FilterStatus RejectUnsupportedFilter::OnRequest(Request& request, FilterCallbacks& callbacks) {
  if (!deny_->empty() && deny_->Contains(CommandName(request))) {
    callbacks.SendLocalError(DisabledMessage(request));
    return FilterStatus::kStop;
  }
  if (request.kind == CommandKind::kUnsupported) {
    callbacks.SendLocalError(UnsupportedMessage(request));
    return FilterStatus::kStop;
  }
  return FilterStatus::kContinue;
}

}  // namespace proxy::filters::reject_unsupported

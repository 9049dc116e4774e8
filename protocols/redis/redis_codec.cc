// RedisCodec (error encoding, split/merge, server handshake) and RedisSession (local commands).
#include "protocols/redis/redis_codec.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"

#include <algorithm>
#include <memory>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "protocols/redis/auth.h"
#include "protocols/redis/command_table.h"
#include "protocols/redis/reply_decoder.h"
#include "protocols/redis/request_decoder.h"
#include "protocols/redis/resp.h"

namespace proxy::protocols::redis {
namespace {

constexpr absl::string_view kOk = "+OK\r\n";
constexpr absl::string_view kPong = "+PONG\r\n";
constexpr absl::string_view kNoAuth = "-NOAUTH Authentication required\r\n";
constexpr absl::string_view kInvalidPassword = "-ERR invalid password\r\n";
constexpr absl::string_view kNoPasswordSet = "-ERR Client sent AUTH, but no password is set\r\n";
constexpr absl::string_view kNotAnInteger = "-ERR value is not an integer or out of range\r\n";
constexpr absl::string_view kMultiRefused =
    "-ERR unsupported command 'MULTI': transactions cannot span a sharding proxy; the commands "
    "up to EXEC or DISCARD will not run\r\n";
constexpr absl::string_view kNotQueued =
    "-ERR command not run: the proxy refused this connection's MULTI (transactions cannot span "
    "a sharding proxy); send EXEC or DISCARD\r\n";
constexpr absl::string_view kNestedMulti = "-ERR MULTI calls can not be nested\r\n";
constexpr absl::string_view kExecAbort =
    "-EXECABORT Transaction discarded because of previous errors: MULTI is not supported by the "
    "proxy (transactions cannot span a sharding proxy); no command of it was run\r\n";

// Reads "<type><integer>\r\n" at `*pos` of a whole reply and moves past it.
bool ReadHeader(absl::string_view reply, char type, size_t* pos, int64_t* value) {
  if (*pos >= reply.size() || reply[*pos] != type) {
    return false;
  }
  const size_t crlf = reply.find("\r\n", *pos + 1);
  if (crlf == absl::string_view::npos ||
      !ParseStrictInt64(reply.substr(*pos + 1, crlf - *pos - 1), value)) {
    return false;
  }
  *pos = crlf + 2;
  return true;
}

// Reads one bulk string or null bulk at `*pos`; `element` views its whole wire form.
bool ReadBulk(absl::string_view reply, size_t* pos, absl::string_view* element) {
  const size_t start = *pos;
  int64_t size = 0;
  if (!ReadHeader(reply, '$', pos, &size) || size < -1) {
    return false;
  }
  if (size >= 0) {
    const size_t payload = static_cast<size_t>(size);
    if (reply.size() - *pos < payload + 2 || reply[*pos + payload] != '\r' ||
        reply[*pos + payload + 1] != '\n') {
      return false;
    }
    *pos += payload + 2;
  }
  *element = reply.substr(start, *pos - start);
  return true;
}

bool MergeArray(const Request& request, absl::Span<const Fragment> fragments,
                absl::Span<const std::string> replies, std::string* out) {
  const size_t total = request.KeyCount();
  std::vector<absl::string_view> elements(total);
  size_t bytes = 0;
  for (size_t f = 0; f < fragments.size(); ++f) {
    const absl::string_view reply = replies[f];
    size_t pos = 0;
    int64_t count = 0;
    if (!ReadHeader(reply, '*', &pos, &count) || count < 0 ||
        static_cast<size_t>(count) != fragments[f].keys.size()) {
      return false;
    }
    for (const uint32_t key : fragments[f].keys) {
      if (key >= total || elements[key].data() != nullptr ||
          !ReadBulk(reply, &pos, &elements[key])) {
        return false;
      }
      bytes += elements[key].size();
    }
    if (pos != reply.size()) {
      return false;
    }
  }
  for (const absl::string_view element : elements) {
    if (element.data() == nullptr) {
      return false;
    }
  }
  out->reserve(out->size() + bytes + 24);
  AppendArrayHeader(total, out);
  for (const absl::string_view element : elements) {
    out->append(element.data(), element.size());
  }
  return true;
}

bool MergeSum(absl::Span<const std::string> replies, std::string* out) {
  int64_t sum = 0;
  for (const std::string& reply : replies) {
    size_t pos = 0;
    int64_t value = 0;
    if (!ReadHeader(reply, ':', &pos, &value) || pos != reply.size() || value < 0) {
      return false;
    }
    sum += value;
  }
  absl::StrAppend(out, ":", sum, "\r\n");
  return true;
}

bool MergeOk(absl::Span<const std::string> replies, std::string* out) {
  for (const std::string& reply : replies) {
    if (reply != kOk) {
      return false;
    }
  }
  out->append(kOk.data(), kOk.size());
  return true;
}

// The arguments of one request from its whole wire bytes: a RESP array or an inline line, after
// any blank lines (which the decoder counts into the request's wire size). Array arguments are
// views into `wire`; inline ones into `inline_args`. False when the bytes are not exactly one
// such request.
bool ParseArgs(absl::string_view wire, ArgList* inline_args, std::vector<absl::string_view>* args) {
  size_t pos = 0;
  while (pos < wire.size() && wire[pos] != '*') {
    const size_t lf = wire.find('\n', pos);
    if (lf == absl::string_view::npos) {
      return false;
    }
    std::string line(wire.substr(pos, lf - pos));
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    absl::string_view error;
    if (!SplitInlineArgs(line.c_str(), inline_args, &error)) {
      return false;
    }
    if (!inline_args->empty()) {
      for (size_t i = 0; i < inline_args->size(); ++i) {
        args->push_back((*inline_args)[i]);
      }
      return lf + 1 == wire.size();
    }
    pos = lf + 1;  // a blank line
  }
  int64_t count = 0;
  if (!ReadHeader(wire, '*', &pos, &count) || count < 1) {
    return false;
  }
  for (int64_t i = 0; i < count; ++i) {
    int64_t size = 0;
    if (!ReadHeader(wire, '$', &pos, &size) || size < 0 ||
        wire.size() - pos < static_cast<size_t>(size) + 2 ||
        wire.substr(pos + static_cast<size_t>(size), 2) != "\r\n") {
      return false;
    }
    args->push_back(wire.substr(pos, static_cast<size_t>(size)));
    pos += static_cast<size_t>(size) + 2;
  }
  return pos == wire.size();
}

// Marks the arguments of `argv` (name included) that are keys under `spec`, as the request
// decoder finds them; returns how many, or -1 when the arguments do not fit the spec.
int64_t MarkKeys(const CommandSpec& spec, absl::Span<const absl::string_view> argv,
                 std::vector<bool>* is_key) {
  const size_t argc = argv.size();
  is_key->assign(argc, false);
  int64_t keys = 0;
  auto mark = [&](size_t i) {
    (*is_key)[i] = true;
    ++keys;
  };
  switch (spec.rule) {
    case KeyRule::kRange: {
      const size_t first = static_cast<size_t>(spec.first_key);
      const int64_t last =
          spec.last_key < 0 ? static_cast<int64_t>(argc) + spec.last_key : spec.last_key;
      if (last >= static_cast<int64_t>(argc)) {
        return -1;
      }
      for (size_t i = first; static_cast<int64_t>(i) <= last; i += spec.key_step) {
        mark(i);
      }
      return keys;
    }
    case KeyRule::kSplit:
      for (size_t i = 1; i < argc; i += spec.key_step) {
        mark(i);
      }
      return keys;
    case KeyRule::kNumkeys: {
      const size_t at = static_cast<size_t>(spec.numkeys_at);
      int64_t numkeys = 0;
      if (at >= argc || !ParseStrictInt64(argv[at], &numkeys) || numkeys < 0 ||
          static_cast<uint64_t>(numkeys) > argc - at - 1) {
        return -1;
      }
      if (spec.dest_key) {
        mark(1);
      }
      for (size_t i = at + 1; i < at + 1 + static_cast<size_t>(numkeys); ++i) {
        mark(i);
      }
      return keys;
    }
    case KeyRule::kNone:
    case KeyRule::kPlaceholder:
      break;
  }
  return -1;
}

void AppendWrongArity(const CommandSpec& spec, std::string* reply) {
  absl::StrAppend(reply, "-ERR wrong number of arguments for '", spec.lower, "' command\r\n");
}


// Why unsupported commands are refused (every command the table does not classify is unsupported; README FAQ).
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

// Keyed by the upper-cased command name.
using ReasonTable = absl::flat_hash_map<std::string, absl::string_view>;

const ReasonTable& Reasons() {
  static const ReasonTable* const table = [] {
    auto* t = new ReasonTable();
    auto add = [t](std::initializer_list<absl::string_view> names, absl::string_view reason) {
      for (absl::string_view name : names) {
        t->emplace(std::string(name), reason);
      }
    };
    add({"KEYS", "SCAN", "RANDOMKEY", "DBSIZE", "FLUSHALL", "FLUSHDB"}, kSpread);
    add({"RENAME", "RENAMENX", "MSETNX", "BITOP", "MIGRATE", "SINTERCARD", "ZINTERCARD", "LMPOP",
         "ZMPOP", "LCS"},
        kCrossKey);
    add({"MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH"}, kTransaction);
    add({"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE",
         "PUBLISH", "SPUBLISH", "PUBSUB"},
        kPubSub);
    add({"BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP",
         "WAIT", "WAITAOF", "XREAD", "XREADGROUP"},
        kBlocking);
    add({"INFO",         "CONFIG",   "CLIENT",   "TIME",      "LASTSAVE", "SAVE",    "BGSAVE",
         "BGREWRITEAOF", "SHUTDOWN", "SLAVEOF",  "REPLICAOF", "ROLE",     "SYNC",    "PSYNC",
         "DEBUG",        "SLOWLOG",  "LATENCY",  "MEMORY",    "MODULE",   "ACL",     "MONITOR",
         "FAILOVER",     "CLUSTER",  "READONLY", "READWRITE", "SCRIPT",   "FUNCTION",
         "ASKING"},
        kServerAdmin);
    add({"SELECT", "SWAPDB", "MOVE", "COPY"}, kDatabase);
    add({"HELLO", "RESET"}, kConnection);
    return t;
  }();
  return *table;
}

}  // namespace

RedisCodec::RedisCodec(std::string auth, uint32_t db) : auth_(std::move(auth)), db_(db) {}

RequestDecoderPtr RedisCodec::NewRequestDecoder(const DecoderLimits& limits) const {
  return std::make_unique<RedisRequestDecoder>(limits, auth_);
}

ReplyDecoderPtr RedisCodec::NewReplyDecoder(const DecoderLimits& limits) const {
  return std::make_unique<RedisReplyDecoder>(limits);
}

SessionPtr RedisCodec::NewSession() const { return std::make_unique<RedisSession>(*this); }

void RedisCodec::EncodeError(absl::string_view text, std::string* out) const {
  const size_t start = out->size() + 5;
  absl::StrAppend(out, "-ERR ", text);
  for (size_t i = start; i < out->size(); ++i) {
    if ((*out)[i] == '\r' || (*out)[i] == '\n') {
      (*out)[i] = ' ';
    }
  }
  out->append("\r\n");
}

std::vector<Fragment> RedisCodec::Split(const Request& request,
                                        absl::Span<const uint32_t> key_servers) const {
  const CommandSpec* spec = CommandTable::Get().ById(request.command_id);
  if (request.kind != CommandKind::kMultiKey || spec == nullptr || spec->rule != KeyRule::kSplit) {
    return {};
  }
  const size_t keys = request.KeyCount();
  if (keys == 0 || key_servers.size() != keys ||
      std::all_of(key_servers.begin(), key_servers.end(),
                  [&](uint32_t server) { return server == key_servers[0]; })) {
    return {};
  }
  std::vector<uint32_t> order(keys);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return key_servers[a] < key_servers[b]; });
  const size_t step = request.key_step;
  std::vector<Fragment> fragments;
  for (size_t begin = 0; begin < keys;) {
    size_t end = begin;
    const uint32_t server = key_servers[order[begin]];
    size_t bytes = 32 + spec->lower.size();
    while (end < keys && key_servers[order[end]] == server) {
      for (size_t j = 0; j < step; ++j) {
        bytes += request.args[order[end] * step + j].size() + 16;
      }
      ++end;
    }
    Fragment& fragment = fragments.emplace_back();
    fragment.server = server;
    fragment.keys.assign(order.begin() + begin, order.begin() + end);
    fragment.bytes.reserve(bytes);
    AppendArrayHeader(1 + (end - begin) * step, &fragment.bytes);
    AppendBulk(spec->lower, &fragment.bytes);
    for (const uint32_t key : fragment.keys) {
      for (size_t j = 0; j < step; ++j) {
        AppendBulk(request.args[key * step + j], &fragment.bytes);
      }
    }
    begin = end;
  }
  return fragments;
}

bool RedisCodec::Merge(const Request& request, absl::Span<const Fragment> fragments,
                       absl::Span<const std::string> replies, std::string* out) const {
  const CommandSpec* spec = CommandTable::Get().ById(request.command_id);
  if (spec == nullptr || fragments.size() != replies.size() || fragments.empty()) {
    return false;
  }
  switch (spec->op) {
    case Op::kMget:
      return MergeArray(request, fragments, replies, out);
    case Op::kDel:
    case Op::kUnlink:
    case Op::kTouch:
    case Op::kExists:
      return MergeSum(replies, out);
    case Op::kMset:
      return MergeOk(replies, out);
    default:
      return false;
  }
}

bool RedisCodec::RewriteKeys(const Request& request, const Buffer& wire,
                             absl::FunctionRef<std::string(absl::string_view)> map,
                             std::string* out) const {
  const CommandSpec* spec = CommandTable::Get().ById(request.command_id);
  if (spec == nullptr || request.kind == CommandKind::kUnsupported || request.wire_size == 0 ||
      wire.Length() < request.wire_size) {
    return false;
  }
  // A request the decoder (or an earlier filter) re-encoded is sent as `rewritten`: that is
  // the request to rewrite (inline commands, requests after skipped blank lines).
  std::string bytes;
  if (request.has_rewrite) {
    bytes = request.rewritten;
  } else {
    bytes.resize(request.wire_size);
    wire.CopyOut(0, request.wire_size, bytes.data());
  }
  if (spec->rule == KeyRule::kPlaceholder) {
    out->append(bytes);  // routed by "placeholder": no key of the client's to map
    return true;
  }
  ArgList inline_args;
  std::vector<absl::string_view> argv;
  std::vector<bool> is_key;
  if (!ParseArgs(bytes, &inline_args, &argv) || !absl::EqualsIgnoreCase(argv[0], spec->name) ||
      MarkKeys(*spec, argv, &is_key) != static_cast<int64_t>(request.KeyCount())) {
    return false;
  }
  out->reserve(out->size() + bytes.size() + 32 * argv.size());
  AppendArrayHeader(argv.size(), out);
  for (size_t i = 0; i < argv.size(); ++i) {
    if (is_key[i]) {
      AppendBulk(map(argv[i]), out);
    } else {
      AppendBulk(argv[i], out);
    }
  }
  return true;
}

std::vector<std::string> RedisCodec::ServerHandshake() const {
  std::vector<std::string> requests;
  if (!auth_.empty()) {
    std::string& auth = requests.emplace_back();
    AppendArrayHeader(2, &auth);
    AppendBulk("AUTH", &auth);
    AppendBulk(auth_, &auth);
  }
  if (db_ > 0) {
    std::string& select = requests.emplace_back();
    AppendArrayHeader(2, &select);
    AppendBulk("SELECT", &select);
    AppendBulk(absl::StrCat(db_), &select);
  }
  return requests;
}

RedisSession::RedisSession(const RedisCodec& codec) : codec_(codec) {}

LocalAction RedisSession::OnRequest(const Request& request, std::string* reply) {
  const CommandSpec* spec = CommandTable::Get().ById(request.command_id);
  const Op op = request.kind == CommandKind::kLocal && spec != nullptr ? spec->op : Op::kNone;
  const Op transaction_op =
      request.kind == CommandKind::kUnsupported && spec != nullptr ? spec->op : Op::kNone;
  if (in_refused_multi_ && op != Op::kQuit) {
    // After a refused MULTI nothing runs until EXEC or DISCARD: redis would have queued these
    // commands, and running them one by one would apply half a transaction.
    switch (transaction_op) {
      case Op::kExec:
        in_refused_multi_ = false;
        reply->append(kExecAbort.data(), kExecAbort.size());
        break;
      case Op::kDiscard:
        in_refused_multi_ = false;
        reply->append(kOk.data(), kOk.size());  // nothing was run: discarded indeed
        break;
      case Op::kMulti:
        reply->append(kNestedMulti.data(), kNestedMulti.size());
        break;
      default:
        reply->append(kNotQueued.data(), kNotQueued.size());
        break;
    }
    return LocalAction::kReply;
  }
  if (!codec_.auth().empty() && !authenticated_ && op != Op::kAuth && op != Op::kQuit) {
    // Before AUTH, MULTI too gets -NOAUTH and starts nothing (as in redis): the decoder, which
    // tracks AUTH for its limits, then agrees with the session on every later AUTH.
    reply->append(kNoAuth.data(), kNoAuth.size());
    return LocalAction::kReply;
  }
  if (transaction_op == Op::kMulti) {
    // Refused here rather than by the filter chain, so that the session knows the commands
    // that follow belong to a refused transaction.
    in_refused_multi_ = true;
    reply->append(kMultiRefused.data(), kMultiRefused.size());
    return LocalAction::kReply;
  }
  if (request.kind != CommandKind::kLocal) {
    return LocalAction::kForward;
  }
  if (spec == nullptr) {
    reply->append("-ERR unknown local command\r\n");
    return LocalAction::kReply;
  }
  const ArgList& args = request.args;
  switch (op) {
    case Op::kPing:
      if (args.size() > 1) {
        AppendWrongArity(*spec, reply);
      } else if (args.empty()) {
        reply->append(kPong.data(), kPong.size());
      } else {
        AppendBulk(args[0], reply);
      }
      return LocalAction::kReply;

    case Op::kEcho:
      if (args.size() != 1) {
        AppendWrongArity(*spec, reply);
      } else {
        AppendBulk(args[0], reply);
      }
      return LocalAction::kReply;

    case Op::kQuit:
      reply->append(kOk.data(), kOk.size());
      return LocalAction::kReplyThenClose;

    case Op::kSelect: {
      int64_t db = 0;
      if (args.size() != 1) {
        AppendWrongArity(*spec, reply);
      } else if (!ParseStrictInt64(args[0], &db)) {
        reply->append(kNotAnInteger.data(), kNotAnInteger.size());
      } else if (db == static_cast<int64_t>(codec_.db())) {
        reply->append(kOk.data(), kOk.size());
      } else {
        absl::StrAppend(reply,
                        "-ERR SELECT is not supported by the proxy: this pool always uses "
                        "database ",
                        codec_.db(), "\r\n");
      }
      return LocalAction::kReply;
    }

    case Op::kAuth: {
      if (args.empty() || args.size() > 2) {
        AppendWrongArity(*spec, reply);
        return LocalAction::kReply;
      }
      if (codec_.auth().empty()) {
        reply->append(kNoPasswordSet.data(), kNoPasswordSet.size());
        return LocalAction::kReply;
      }
      // The same check as the request decoder's (auth.h), so both agree on the state. A
      // failed AUTH keeps an earlier success, as redis does.
      if (AuthArgsMatch(args, codec_.auth())) {
        authenticated_ = true;
        reply->append(kOk.data(), kOk.size());
      } else {
        reply->append(kInvalidPassword.data(), kInvalidPassword.size());
      }
      return LocalAction::kReply;
    }

    default:
      reply->append("-ERR unknown local command\r\n");
      return LocalAction::kReply;
  }
}

absl::string_view RedisCodec::UnsupportedReason(absl::string_view command) const {
  const ReasonTable& table = Reasons();
  auto it = table.find(absl::AsciiStrToUpper(command));
  return it == table.end() ? absl::string_view() : it->second;
}

}  // namespace proxy::protocols::redis

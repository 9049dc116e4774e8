// The redis command table (twemproxy's classes, plus a few strictly-better additions marked below).
#include "protocols/redis/command_table.h"

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "protocols/redis/resp.h"

namespace proxy::protocols::redis {
namespace {

constexpr CommandKind kRead = CommandKind::kRead;
constexpr CommandKind kWrite = CommandKind::kWrite;

// The fields every entry sets; the helpers below fill in the rest.
constexpr CommandSpec Base(absl::string_view name, CommandKind kind, int8_t arity, KeyRule rule) {
  CommandSpec spec{};
  spec.name = name;
  spec.kind = kind;
  spec.arity = arity;
  spec.rule = rule;
  spec.key_step = 1;
  spec.op = Op::kNone;
  spec.flags = 0;
  spec.refusal = Refusal::kNone;
  return spec;
}

// Keys at argv[first..last] every `step`, all on one server (colocated when more than one).
constexpr CommandSpec Keys(absl::string_view name, CommandKind kind, int8_t arity, int8_t first,
                           int8_t last, uint8_t step = 1) {
  CommandSpec spec = Base(name, kind, arity, KeyRule::kRange);
  spec.first_key = first;
  spec.last_key = last;
  spec.key_step = step;
  return spec;
}

// Single key at argv[1].
constexpr CommandSpec Key(absl::string_view name, CommandKind kind, int8_t arity) {
  return Keys(name, kind, arity, 1, 1);
}

// Split across servers: every argument after the name (pairs when step is 2).
constexpr CommandSpec Split(absl::string_view name, CommandKind kind, int8_t arity, Op op,
                            uint8_t step = 1) {
  CommandSpec spec = Base(name, kind, arity, KeyRule::kSplit);
  spec.key_step = step;
  spec.op = op;
  return spec;
}

// numkeys at argv[at], keys after it; `dest`: argv[1] is a key too.
constexpr CommandSpec Numkeys(absl::string_view name, CommandKind kind, int8_t arity, int8_t at,
                              bool dest, Op op = Op::kNone) {
  CommandSpec spec = Base(name, kind, arity, KeyRule::kNumkeys);
  spec.numkeys_at = at;
  spec.dest_key = dest;
  spec.op = op;
  return spec;
}

// Answered by the proxy (Session); `flags`: kFlagConnection for the connection commands.
constexpr CommandSpec Local(absl::string_view name, Op op, int8_t arity, int8_t max_argc,
                            uint8_t flags = 0) {
  CommandSpec spec = Base(name, CommandKind::kLocal, arity, KeyRule::kNone);
  spec.max_argc = max_argc;
  spec.op = op;
  spec.flags = flags;
  return spec;
}

// Routed by the synthetic key "placeholder".
constexpr CommandSpec Placeholder(absl::string_view name, int8_t arity) {
  return Base(name, kRead, arity, KeyRule::kPlaceholder);
}

// Known to redis but not proxied, and why. The refusal implies the flags of its family
// (blocking, pub/sub, admin); `flags` adds others (kFlagConnection for the mode changers).
constexpr CommandSpec Unsupported(absl::string_view name, Refusal refusal, uint8_t flags = 0) {
  CommandSpec spec = Base(name, CommandKind::kUnsupported, -1, KeyRule::kNone);
  spec.refusal = refusal;
  spec.flags = flags;
  if (refusal == Refusal::kBlocking) spec.flags |= kFlagBlocking;
  if (refusal == Refusal::kPubSub) spec.flags |= kFlagPubSub;
  if (refusal == Refusal::kServerAdmin || refusal == Refusal::kSpread) spec.flags |= kFlagAdmin;
  return spec;
}

// The same spec with a special-handling op.
constexpr CommandSpec WithOp(CommandSpec spec, Op op) {
  spec.op = op;
  return spec;
}

// The same spec with more CommandFlag bits.
constexpr CommandSpec WithFlags(CommandSpec spec, uint8_t flags) {
  spec.flags |= flags;
  return spec;
}

// A served command that the decoder refuses in one form (COPY ... DB): the reason for that form.
constexpr CommandSpec RefusedForm(CommandSpec spec, Refusal refusal) {
  spec.refusal = refusal;
  return spec;
}

constexpr uint8_t kConn = kFlagConnection;

// Arity values are redis 7.2's (so options added in 7.x, e.g. EXPIRE ... NX, are accepted).
constexpr CommandSpec kCommands[] = {
    // Answered by the proxy.
    Local("PING", Op::kPing, -1, 2),
    Local("QUIT", Op::kQuit, -1, 0, kConn),
    Local("ECHO", Op::kEcho, 2, 0),
    Local("SELECT", Op::kSelect, 2, 0, kConn),
    Local("AUTH", Op::kAuth, -2, 3, kConn),
    // Connection state, answered by the session (protocols/redis/redis_codec.h RedisSession):
    // HELLO, CLIENT, READONLY/READWRITE, RESET, and the transaction commands, which
    // protocols/redis/transaction.h serves on a dedicated (pinned) server connection.
    Local("HELLO", Op::kHello, -1, 0, kConn),
    Local("CLIENT", Op::kClient, -2, 0, kConn),
    Local("READONLY", Op::kReadonly, 1, 0, kConn),
    Local("READWRITE", Op::kReadonly, 1, 0, kConn),
    Local("RESET", Op::kReset, 1, 0, kConn),
    Local("MULTI", Op::kMulti, 1, 0, kConn),
    Local("EXEC", Op::kExec, 1, 0, kConn),
    Local("DISCARD", Op::kDiscard, 1, 0, kConn),
    Local("UNWATCH", Op::kUnwatch, 1, 0, kConn),
    // WATCH key...: its keys must live on one server, whose connection the client is pinned to.
    WithFlags(WithOp(Keys("WATCH", kRead, -2, 1, -1), Op::kWatch), kConn),

    // Routed by "placeholder". twemproxy closes the connection on COMMAND's subcommands.
    Placeholder("COMMAND", -1),
    Placeholder("LOLWUT", -1),
    // INFO [section ...]: sent to every live server of the pool (Request::broadcast) and merged
    // with the proxy's own facts (RedisCodec::MergeBroadcast).
    WithOp(Placeholder("INFO", -1), Op::kInfo),

    // Key only.
    Key("PERSIST", kWrite, 2),
    Key("PTTL", kRead, 2),
    Key("TTL", kRead, 2),
    Key("TYPE", kRead, 2),
    Key("DUMP", kRead, 2),
    Key("DECR", kWrite, 2),
    Key("GET", kRead, 2),
    Key("GETDEL", kWrite, 2),
    Key("INCR", kWrite, 2),
    Key("STRLEN", kRead, 2),
    Key("HGETALL", kRead, 2),
    Key("HKEYS", kRead, 2),
    Key("HLEN", kRead, 2),
    Key("HVALS", kRead, 2),
    Key("LLEN", kRead, 2),
    Key("SCARD", kRead, 2),
    Key("SMEMBERS", kRead, 2),
    Key("ZCARD", kRead, 2),

    // Key + 1 argument (EXPIRE & co. take NX|XX|GT|LT since redis 7.0, ZRANK/ZREVRANK
    // WITHSCORE since 7.2).
    Key("EXPIRE", kWrite, -3),
    Key("EXPIREAT", kWrite, -3),
    Key("PEXPIRE", kWrite, -3),
    Key("PEXPIREAT", kWrite, -3),
    Key("APPEND", kWrite, 3),
    Key("DECRBY", kWrite, 3),
    Key("GETBIT", kRead, 3),
    Key("GETSET", kWrite, 3),
    Key("INCRBY", kWrite, 3),
    Key("INCRBYFLOAT", kWrite, 3),
    Key("SETNX", kWrite, 3),
    Key("HEXISTS", kRead, 3),
    Key("HGET", kRead, 3),
    Key("HSTRLEN", kRead, 3),
    Key("LINDEX", kRead, 3),
    Keys("RPOPLPUSH", kWrite, 3, 1, 2),
    Key("SISMEMBER", kRead, 3),
    Key("ZRANK", kRead, -3),
    Key("ZREVRANK", kRead, -3),
    Key("ZSCORE", kRead, 3),

    // Key + 2 arguments.
    Key("GETRANGE", kRead, 4),
    Key("PSETEX", kWrite, 4),
    Key("SETBIT", kWrite, 4),
    Key("SETEX", kWrite, 4),
    Key("SETRANGE", kWrite, 4),
    Key("HINCRBY", kWrite, 4),
    Key("HINCRBYFLOAT", kWrite, 4),
    Key("HSETNX", kWrite, 4),
    Key("LRANGE", kRead, 4),
    Key("LREM", kWrite, 4),
    Key("LSET", kWrite, 4),
    Key("LTRIM", kWrite, 4),
    Keys("SMOVE", kWrite, 4, 1, 2),
    Key("ZCOUNT", kRead, 4),
    Key("ZLEXCOUNT", kRead, 4),
    Key("ZINCRBY", kWrite, 4),
    Key("ZREMRANGEBYLEX", kWrite, 4),
    Key("ZREMRANGEBYRANK", kWrite, 4),
    Key("ZREMRANGEBYSCORE", kWrite, 4),

    // Key + 3 arguments.
    Key("LINSERT", kWrite, 5),
    Keys("LMOVE", kWrite, 5, 1, 2),

    // Key + any number of arguments.
    Key("SORT", kWrite, -2),
    // COPY ... DB n would write into another database than the pool's: refused (Op::kCopy).
    RefusedForm(WithOp(Keys("COPY", kWrite, -3, 1, 2), Op::kCopy), Refusal::kDatabase),
    Key("BITCOUNT", kRead, -2),
    Key("BITPOS", kRead, -3),
    Key("BITFIELD", kWrite, -2),
    Key("GETEX", kWrite, -2),
    Key("SET", kWrite, -3),
    Key("HDEL", kWrite, -3),
    Key("HMGET", kRead, -3),
    Key("HMSET", kWrite, -4),
    Key("HSCAN", kRead, -3),
    Key("HSET", kWrite, -4),
    Key("HRANDFIELD", kRead, -2),
    Key("LPUSH", kWrite, -3),
    Key("LPUSHX", kWrite, -3),
    Key("RPUSH", kWrite, -3),
    Key("RPUSHX", kWrite, -3),
    Key("LPOP", kWrite, -2),
    Key("RPOP", kWrite, -2),
    Key("LPOS", kRead, -3),
    Key("SADD", kWrite, -3),
    Keys("SDIFF", kRead, -2, 1, -1),
    Keys("SDIFFSTORE", kWrite, -3, 1, -1),
    Keys("SINTER", kRead, -2, 1, -1),
    Keys("SINTERSTORE", kWrite, -3, 1, -1),
    Key("SREM", kWrite, -3),
    Keys("SUNION", kRead, -2, 1, -1),
    Keys("SUNIONSTORE", kWrite, -3, 1, -1),
    Key("SRANDMEMBER", kRead, -2),
    Key("SSCAN", kRead, -3),
    Key("SPOP", kWrite, -2),
    Key("SMISMEMBER", kRead, -3),
    Key("PFADD", kWrite, -2),
    Keys("PFMERGE", kWrite, -2, 1, -1),
    Keys("PFCOUNT", kRead, -2, 1, -1),
    Key("ZADD", kWrite, -4),
    Numkeys("ZDIFF", kRead, -3, 1, false),
    Numkeys("ZDIFFSTORE", kWrite, -4, 2, true),
    Numkeys("ZINTER", kRead, -3, 1, false),
    Numkeys("ZINTERSTORE", kWrite, -4, 2, true),
    Key("ZMSCORE", kRead, -3),
    Key("ZPOPMAX", kWrite, -2),
    Key("ZPOPMIN", kWrite, -2),
    Key("ZRANDMEMBER", kRead, -2),
    Key("ZRANGE", kRead, -4),
    Key("ZRANGEBYLEX", kRead, -4),
    Key("ZRANGEBYSCORE", kRead, -4),
    Keys("ZRANGESTORE", kWrite, -5, 1, 2),
    Key("ZREM", kWrite, -3),
    Key("ZREVRANGE", kRead, -4),
    Key("ZREVRANGEBYLEX", kRead, -4),
    Key("ZREVRANGEBYSCORE", kRead, -4),
    Key("ZSCAN", kRead, -3),
    Numkeys("ZUNION", kRead, -3, 1, false),
    Numkeys("ZUNIONSTORE", kWrite, -4, 2, true),
    Key("GEODIST", kRead, -4),
    Key("GEOPOS", kRead, -2),
    Key("GEOHASH", kRead, -2),
    Key("GEOADD", kWrite, -5),
    Key("GEORADIUS", kWrite, -6),
    Key("GEORADIUSBYMEMBER", kWrite, -5),
    Key("GEOSEARCH", kRead, -7),
    Keys("GEOSEARCHSTORE", kWrite, -8, 1, 2),
    Key("RESTORE", kWrite, -4),

    // Strictly better than twemproxy (which closes the connection on these): colocated keys.
    Keys("RENAME", kWrite, 3, 1, 2),
    Keys("RENAMENX", kWrite, 3, 1, 2),
    Keys("MSETNX", kWrite, -3, 1, -1, 2),
    Keys("BITOP", kWrite, -4, 2, -1),
    Numkeys("SINTERCARD", kRead, -3, 1, false),
    Numkeys("ZINTERCARD", kRead, -3, 1, false),

    // Split across servers (twemproxy splits all but EXISTS, which it sends to one server).
    Split("MGET", kRead, -2, Op::kMget),
    Split("DEL", kWrite, -2, Op::kDel),
    Split("UNLINK", kWrite, -2, Op::kUnlink),
    Split("TOUCH", kWrite, -2, Op::kTouch),
    Split("EXISTS", kRead, -2, Op::kExists),
    Split("MSET", kWrite, -3, Op::kMset, 2),

    // Scripts: routed by their keys (numkeys at argv[2]).
    Numkeys("EVAL", kWrite, -3, 2, false, Op::kEval),
    Numkeys("EVALSHA", kWrite, -3, 2, false, Op::kEval),

    // Known but not proxied: no key, server state, pub/sub, blocking, admin. Everything that
    // would change the mode of a shared server connection (pub/sub, MONITOR...) or blocks it is
    // here: never forwarded on a shared server connection, whatever the filter chain (the core
    // refuses kUnsupported). HELLO, CLIENT, RESET and the transaction commands, which would
    // too, are local (above): they never reach a shared connection either. Each names its
    // Refusal, the reason a client reads (RedisCodec::UnsupportedReason).

    // Keys spread over every server.
    Unsupported("KEYS", Refusal::kSpread),
    Unsupported("SCAN", Refusal::kSpread),
    Unsupported("RANDOMKEY", Refusal::kSpread),
    Unsupported("DBSIZE", Refusal::kSpread),
    Unsupported("FLUSHALL", Refusal::kSpread),
    Unsupported("FLUSHDB", Refusal::kSpread),
    // Several keys, not colocated by the proxy and not splittable.
    Unsupported("MIGRATE", Refusal::kCrossKey),
    Unsupported("LMPOP", Refusal::kCrossKey),
    Unsupported("ZMPOP", Refusal::kCrossKey),
    // Pub/sub (the subscribe family would turn a shared connection into a subscriber).
    Unsupported("SUBSCRIBE", Refusal::kPubSub, kConn),
    Unsupported("PSUBSCRIBE", Refusal::kPubSub, kConn),
    Unsupported("SSUBSCRIBE", Refusal::kPubSub, kConn),
    Unsupported("UNSUBSCRIBE", Refusal::kPubSub, kConn),
    Unsupported("PUNSUBSCRIBE", Refusal::kPubSub, kConn),
    Unsupported("SUNSUBSCRIBE", Refusal::kPubSub, kConn),
    Unsupported("PUBLISH", Refusal::kPubSub),
    Unsupported("SPUBLISH", Refusal::kPubSub),
    Unsupported("PUBSUB", Refusal::kPubSub),
    // Blocking: would hold a shared server connection.
    Unsupported("BLPOP", Refusal::kBlocking),
    Unsupported("BRPOP", Refusal::kBlocking),
    Unsupported("BRPOPLPUSH", Refusal::kBlocking),
    Unsupported("BLMOVE", Refusal::kBlocking),
    Unsupported("BLMPOP", Refusal::kBlocking),
    Unsupported("BZPOPMIN", Refusal::kBlocking),
    Unsupported("BZPOPMAX", Refusal::kBlocking),
    Unsupported("BZMPOP", Refusal::kBlocking),
    Unsupported("WAIT", Refusal::kBlocking),
    Unsupported("WAITAOF", Refusal::kBlocking),
    Unsupported("XREAD", Refusal::kBlocking),
    Unsupported("XREADGROUP", Refusal::kBlocking),
    // One server's administration.
    Unsupported("CONFIG", Refusal::kServerAdmin),
    Unsupported("TIME", Refusal::kServerAdmin),
    Unsupported("LASTSAVE", Refusal::kServerAdmin),
    Unsupported("SAVE", Refusal::kServerAdmin),
    Unsupported("BGSAVE", Refusal::kServerAdmin),
    Unsupported("BGREWRITEAOF", Refusal::kServerAdmin),
    Unsupported("SHUTDOWN", Refusal::kServerAdmin),
    Unsupported("SLAVEOF", Refusal::kServerAdmin),
    Unsupported("REPLICAOF", Refusal::kServerAdmin),
    Unsupported("ROLE", Refusal::kServerAdmin),
    Unsupported("SYNC", Refusal::kServerAdmin, kConn),
    Unsupported("PSYNC", Refusal::kServerAdmin, kConn),
    Unsupported("DEBUG", Refusal::kServerAdmin),
    Unsupported("SLOWLOG", Refusal::kServerAdmin),
    Unsupported("LATENCY", Refusal::kServerAdmin),
    Unsupported("MEMORY", Refusal::kServerAdmin),
    Unsupported("MODULE", Refusal::kServerAdmin),
    Unsupported("ACL", Refusal::kServerAdmin),
    Unsupported("MONITOR", Refusal::kServerAdmin, kConn),
    Unsupported("FAILOVER", Refusal::kServerAdmin),
    Unsupported("CLUSTER", Refusal::kServerAdmin),
    Unsupported("SCRIPT", Refusal::kServerAdmin),
    Unsupported("FUNCTION", Refusal::kServerAdmin),
    Unsupported("ASKING", Refusal::kServerAdmin, kConn),
    Unsupported("OBJECT", Refusal::kServerAdmin),
    // Another database than the pool's (COPY ... DB is refused with this reason as well).
    Unsupported("SWAPDB", Refusal::kDatabase),
    Unsupported("MOVE", Refusal::kDatabase),
    // Scripts the proxy cannot route.
    Unsupported("EVAL_RO", Refusal::kScriptNoKeys),
    Unsupported("EVALSHA_RO", Refusal::kScriptNoKeys),
    Unsupported("FCALL", Refusal::kScriptNoKeys),
    Unsupported("FCALL_RO", Refusal::kScriptNoKeys),
};

constexpr size_t kCommandCount = sizeof(kCommands) / sizeof(kCommands[0]);

constexpr bool NamesFit() {
  for (const CommandSpec& spec : kCommands) {
    if (spec.name.size() > kMaxCommandNameSize) return false;
  }
  return true;
}
static_assert(NamesFit(), "a command name is longer than kMaxCommandNameSize");

// The lower-case names, computed at compile time: static storage like the upper-case ones, so
// a spec's `lower` views them for the life of the process (no view into a container).
struct LowerNames {
  char names[kCommandCount][kMaxCommandNameSize];
};

constexpr LowerNames MakeLowerNames() {
  LowerNames out{};
  for (size_t i = 0; i < kCommandCount; ++i) {
    const absl::string_view name = kCommands[i].name;
    for (size_t j = 0; j < name.size(); ++j) {
      const char c = name[j];
      out.names[i][j] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    }
  }
  return out;
}

constexpr LowerNames kLowerNames = MakeLowerNames();

// The table as served: kCommands with every `lower` set.
struct Specs {
  CommandSpec specs[kCommandCount];
};

constexpr Specs MakeSpecs() {
  Specs out{};
  for (size_t i = 0; i < kCommandCount; ++i) {
    out.specs[i] = kCommands[i];
    out.specs[i].lower = absl::string_view(kLowerNames.names[i], kCommands[i].name.size());
  }
  return out;
}

constexpr Specs kSpecs = MakeSpecs();

}  // namespace

absl::string_view RefusalText(Refusal refusal) {
  switch (refusal) {
    case Refusal::kNone:
      return {};
    case Refusal::kSpread:
      return "keys are spread over several servers; run it on each server directly";
    case Refusal::kCrossKey:
      return "its keys may live on different servers and it cannot be split";
    case Refusal::kScriptNoKeys:
      return "the proxy does not route it (use EVAL or EVALSHA with numkeys of at least 1)";
    case Refusal::kPubSub:
      return "pub/sub is not proxied";
    case Refusal::kBlocking:
      return "blocking commands are not proxied";
    case Refusal::kServerAdmin:
      return "it addresses one server, not the pool; run it on each server directly";
    case Refusal::kDatabase:
      return "the database is fixed by the pool's redis_db setting";
  }
  return {};
}

KeyError FindKeys(const CommandSpec& spec, size_t argc, ArgReader read, KeyPositions* keys) {
  *keys = KeyPositions();
  const bool arity_ok = (spec.arity >= 0 ? argc == static_cast<size_t>(spec.arity)
                                         : argc >= static_cast<size_t>(-spec.arity)) &&
                        (spec.max_argc == 0 || argc <= static_cast<size_t>(spec.max_argc));
  if (!arity_ok || argc == 0) {
    return KeyError::kWrongArity;
  }
  switch (spec.rule) {
    case KeyRule::kNone:
    case KeyRule::kPlaceholder:
      return KeyError::kNone;

    case KeyRule::kRange: {
      const size_t first = static_cast<size_t>(spec.first_key);
      const int64_t last = spec.last_key < 0 ? static_cast<int64_t>(argc) + spec.last_key
                                             : static_cast<int64_t>(spec.last_key);
      // The arity guarantees the range; MSETNX's pairs must be complete.
      if (last < static_cast<int64_t>(first) || last >= static_cast<int64_t>(argc) ||
          (spec.key_step > 1 && (argc - first) % spec.key_step != 0)) {
        return KeyError::kWrongArity;
      }
      keys->first = static_cast<uint32_t>(first);
      keys->end = static_cast<uint32_t>(last + 1);
      keys->step = spec.key_step;
      return KeyError::kNone;
    }

    case KeyRule::kSplit:
      if ((argc - 1) % spec.key_step != 0) {
        return KeyError::kWrongArity;  // MSET's pairs
      }
      keys->first = 1;
      keys->end = static_cast<uint32_t>(argc);
      keys->step = spec.key_step;
      return KeyError::kNone;

    case KeyRule::kNumkeys: {
      const size_t at = static_cast<size_t>(spec.numkeys_at);
      if (at >= argc) {
        return KeyError::kWrongArity;
      }
      char digits[24];
      const size_t size = read(at, digits, sizeof(digits));
      int64_t numkeys = 0;
      if (size > sizeof(digits) || !ParseStrictInt64(absl::string_view(digits, size), &numkeys)) {
        return KeyError::kNotAnInteger;
      }
      const size_t available = argc - at - 1;
      // redis's order of checks: EVAL says "negative" before "greater", the others "at least 1".
      if (numkeys < 0 && spec.op == Op::kEval) {
        return KeyError::kNegativeNumkeys;
      }
      if (numkeys < 1 && spec.op != Op::kEval) {
        return KeyError::kNoKeys;
      }
      if (static_cast<uint64_t>(numkeys) > available) {
        return KeyError::kTooManyNumkeys;
      }
      if (numkeys == 0) {
        return KeyError::kNoKeys;  // EVAL without keys: nothing to route by
      }
      keys->dest = spec.dest_key;
      keys->first = static_cast<uint32_t>(at + 1);
      keys->end = static_cast<uint32_t>(at + 1 + static_cast<size_t>(numkeys));
      return KeyError::kNone;
    }
  }
  return KeyError::kNone;
}

std::string KeyErrorText(const CommandSpec& spec, KeyError error) {
  switch (error) {
    case KeyError::kNone:
      return {};
    case KeyError::kWrongArity:
      return absl::StrCat("wrong number of arguments for '", spec.lower, "' command");
    case KeyError::kNotAnInteger:
      return "value is not an integer or out of range";
    case KeyError::kNegativeNumkeys:
      return "Number of keys can't be negative";
    case KeyError::kNoKeys:
      if (spec.op == Op::kEval) {
        return absl::StrCat("'", spec.lower,
                            "' without keys cannot be routed by the proxy: numkeys must be at "
                            "least 1");
      }
      return absl::StrCat("at least 1 input key is needed for '", spec.lower, "' command");
    case KeyError::kTooManyNumkeys:
      return "Number of keys can't be greater than number of args";
  }
  return {};
}

// Name → spec: an open-addressing table of command ids, probed linearly from a cheap hash of
// the name (its first and last 8 bytes and its length). A lookup runs for every request, and the
// general-purpose string hash of a hash map was about 2% of the proxy's CPU on pipelined GETs
// (docs/bench/2026-12-07-issue15-profile.md); this is a few multiplications and one compare.
struct CommandTable::Impl {
  // At least 4x the commands: short probe runs. A power of two (the hash is masked).
  static constexpr size_t kSlots = 1024;
  static_assert(kSlots >= 4 * kCommandCount, "grow kSlots with the command table");
  uint16_t slots[kSlots] = {};  // command id (index + 1); 0 = empty

  static size_t Slot(absl::string_view name) {
    uint64_t head = 0;
    uint64_t tail = 0;
    const size_t n = name.size() < 8 ? name.size() : 8;
    std::memcpy(&head, name.data(), n);
    if (name.size() > 8) std::memcpy(&tail, name.data() + name.size() - 8, 8);
    const uint64_t mixed = (head * 0x9E3779B97F4A7C15ull) ^ (tail * 0xC2B2AE3D27D4EB4Full) ^
                           (name.size() * 0x165667B19E3779F9ull);
    return static_cast<size_t>(mixed >> 32) & (kSlots - 1);
  }
};

CommandTable::CommandTable() {
  auto* impl = new Impl();
  for (size_t i = 0; i < kCommandCount; ++i) {
    size_t slot = Impl::Slot(kSpecs.specs[i].name);
    while (impl->slots[slot] != 0) slot = (slot + 1) & (Impl::kSlots - 1);
    impl->slots[slot] = static_cast<uint16_t>(i + 1);
  }
  impl_ = impl;
}

const CommandTable& CommandTable::Get() {
  // Never destroyed: Request::command views point into it until the process exits.
  static const CommandTable* table = new CommandTable();
  return *table;
}

const CommandSpec* CommandTable::Find(absl::string_view upper_name) const {
  for (size_t slot = Impl::Slot(upper_name);; slot = (slot + 1) & (Impl::kSlots - 1)) {
    const uint16_t id = impl_->slots[slot];
    if (id == 0) return nullptr;
    const CommandSpec& spec = kSpecs.specs[id - 1];
    if (spec.name == upper_name) return &spec;
  }
}

const CommandSpec* CommandTable::FindAnyCase(absl::string_view name) const {
  if (name.size() > kMaxCommandNameSize) {
    return nullptr;
  }
  char upper[kMaxCommandNameSize];
  for (size_t i = 0; i < name.size(); ++i) {
    upper[i] = absl::ascii_toupper(static_cast<unsigned char>(name[i]));
  }
  return Find(absl::string_view(upper, name.size()));
}

const CommandSpec* CommandTable::ById(uint16_t id) const {
  return id == 0 || id > kCommandCount ? nullptr : &kSpecs.specs[id - 1];
}

uint16_t CommandTable::IdOf(const CommandSpec& spec) const {
  return static_cast<uint16_t>(&spec - kSpecs.specs + 1);
}

size_t CommandTable::size() const { return kCommandCount; }

}  // namespace proxy::protocols::redis

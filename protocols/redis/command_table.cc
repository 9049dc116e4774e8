// The redis command table (twemproxy's classes, plus a few strictly-better additions marked below).
#include "protocols/redis/command_table.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"

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

// Answered by the proxy (Session).
constexpr CommandSpec Local(absl::string_view name, Op op, int8_t arity, int8_t max_argc) {
  CommandSpec spec = Base(name, CommandKind::kLocal, arity, KeyRule::kNone);
  spec.max_argc = max_argc;
  spec.op = op;
  return spec;
}

// Routed by the synthetic key "placeholder".
constexpr CommandSpec Placeholder(absl::string_view name, int8_t arity) {
  return Base(name, kRead, arity, KeyRule::kPlaceholder);
}

// Known to redis but not proxied.
constexpr CommandSpec Unsupported(absl::string_view name) {
  return Base(name, CommandKind::kUnsupported, -1, KeyRule::kNone);
}

// The same spec with a special-handling op.
constexpr CommandSpec WithOp(CommandSpec spec, Op op) {
  spec.op = op;
  return spec;
}

// Arity values are redis 7.2's (so options added in 7.x, e.g. EXPIRE ... NX, are accepted).
constexpr CommandSpec kCommands[] = {
    // Answered by the proxy.
    Local("PING", Op::kPing, -1, 2),
    Local("QUIT", Op::kQuit, -1, 0),
    Local("ECHO", Op::kEcho, 2, 0),
    Local("SELECT", Op::kSelect, 2, 0),
    Local("AUTH", Op::kAuth, -2, 3),
    // Connection state, answered by the session (protocols/redis/redis_codec.h RedisSession):
    // HELLO, CLIENT, READONLY/READWRITE, RESET, and the transaction commands, which
    // protocols/redis/transaction.h serves on a dedicated (pinned) server connection.
    Local("HELLO", Op::kHello, -1, 0),
    Local("CLIENT", Op::kClient, -2, 0),
    Local("READONLY", Op::kReadonly, 1, 0),
    Local("READWRITE", Op::kReadonly, 1, 0),
    Local("RESET", Op::kReset, 1, 0),
    Local("MULTI", Op::kMulti, 1, 0),
    Local("EXEC", Op::kExec, 1, 0),
    Local("DISCARD", Op::kDiscard, 1, 0),
    Local("UNWATCH", Op::kUnwatch, 1, 0),
    // WATCH key...: its keys must live on one server, whose connection the client is pinned to.
    WithOp(Keys("WATCH", kRead, -2, 1, -1), Op::kWatch),

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
    WithOp(Keys("COPY", kWrite, -3, 1, 2), Op::kCopy),
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
    // too, are local (above): they never reach a shared connection either.
    Unsupported("ACL"),
    Unsupported("ASKING"),
    Unsupported("BGREWRITEAOF"),
    Unsupported("BGSAVE"),
    Unsupported("BLMOVE"),
    Unsupported("BLMPOP"),
    Unsupported("BLPOP"),
    Unsupported("BRPOP"),
    Unsupported("BRPOPLPUSH"),
    Unsupported("BZMPOP"),
    Unsupported("BZPOPMAX"),
    Unsupported("BZPOPMIN"),
    Unsupported("CLUSTER"),
    Unsupported("CONFIG"),
    Unsupported("DBSIZE"),
    Unsupported("DEBUG"),
    Unsupported("EVAL_RO"),
    Unsupported("EVALSHA_RO"),
    Unsupported("FAILOVER"),
    Unsupported("FCALL"),
    Unsupported("FCALL_RO"),
    Unsupported("FLUSHALL"),
    Unsupported("FLUSHDB"),
    Unsupported("FUNCTION"),
    Unsupported("KEYS"),
    Unsupported("LASTSAVE"),
    Unsupported("LATENCY"),
    Unsupported("LMPOP"),
    Unsupported("MEMORY"),
    Unsupported("MIGRATE"),
    Unsupported("MODULE"),
    Unsupported("MONITOR"),
    Unsupported("MOVE"),
    Unsupported("OBJECT"),
    Unsupported("PSUBSCRIBE"),
    Unsupported("PSYNC"),
    Unsupported("PUBLISH"),
    Unsupported("PUBSUB"),
    Unsupported("PUNSUBSCRIBE"),
    Unsupported("RANDOMKEY"),
    Unsupported("REPLICAOF"),
    Unsupported("ROLE"),
    Unsupported("SAVE"),
    Unsupported("SCAN"),
    Unsupported("SCRIPT"),
    Unsupported("SHUTDOWN"),
    Unsupported("SLAVEOF"),
    Unsupported("SLOWLOG"),
    Unsupported("SPUBLISH"),
    Unsupported("SSUBSCRIBE"),
    Unsupported("SUBSCRIBE"),
    Unsupported("SUNSUBSCRIBE"),
    Unsupported("SWAPDB"),
    Unsupported("SYNC"),
    Unsupported("TIME"),
    Unsupported("UNSUBSCRIBE"),
    Unsupported("WAIT"),
    Unsupported("WAITAOF"),
    Unsupported("XREAD"),
    Unsupported("XREADGROUP"),
    Unsupported("ZMPOP"),
};

constexpr size_t kCommandCount = sizeof(kCommands) / sizeof(kCommands[0]);

}  // namespace

struct CommandTable::Impl {
  std::vector<std::string> lower_names;
  std::vector<CommandSpec> specs;
  absl::flat_hash_map<absl::string_view, uint16_t> by_name;
};

CommandTable::CommandTable() {
  auto* impl = new Impl();
  impl->lower_names.reserve(kCommandCount);
  impl->specs.reserve(kCommandCount);
  for (size_t i = 0; i < kCommandCount; ++i) {
    impl->lower_names.push_back(absl::AsciiStrToLower(kCommands[i].name));
    CommandSpec spec = kCommands[i];
    spec.lower = impl->lower_names.back();
    impl->specs.push_back(spec);
    impl->by_name.emplace(spec.name, static_cast<uint16_t>(i + 1));
  }
  impl_ = impl;
}

const CommandTable& CommandTable::Get() {
  // Never destroyed: Request::command views point into it until the process exits.
  static const CommandTable* table = new CommandTable();
  return *table;
}

const CommandSpec* CommandTable::Find(absl::string_view upper_name) const {
  auto it = impl_->by_name.find(upper_name);
  return it == impl_->by_name.end() ? nullptr : &impl_->specs[it->second - 1];
}

const CommandSpec* CommandTable::ById(uint16_t id) const {
  return id == 0 || id > impl_->specs.size() ? nullptr : &impl_->specs[id - 1];
}

uint16_t CommandTable::IdOf(const CommandSpec& spec) const {
  return static_cast<uint16_t>(&spec - impl_->specs.data() + 1);
}

size_t CommandTable::size() const { return impl_->specs.size(); }

}  // namespace proxy::protocols::redis

// The redis command table: every command the proxy knows, with its arity (redis's convention),
// how its keys are found, how the proxy treats it (twemproxy's command classes), its flags and,
// for a refused command, why. The one source of this knowledge: the request decoder classifies
// by it, FindKeys finds keys by it (for routing and RewriteKeys), the codec splits and merges by
// its Op and explains refusals by its Refusal. Adding a command is adding one entry to
// kCommands in command_table.cc (plus an Op and the session's or codec's handling for a
// command the proxy answers, splits or merges itself).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "api/codec.h"

namespace proxy::protocols::redis {

// Commands that the session or the codec handle specially; kNone for all others.
enum class Op : uint8_t {
  kNone,
  kPing,    // local: +PONG or the bulk echo of its argument
  kQuit,    // local: +OK, then close
  kEcho,    // local: bulk echo
  kSelect,  // local: +OK only for the pool's redis_db
  kAuth,    // local: checks the pool's redis_auth
  kEval,    // EVAL/EVALSHA: numkeys errors are redis's EVAL texts
  kMget,    // split; merged as an array in key order
  kDel,     // split; merged as the sum of integers
  kUnlink,  // split; merged as the sum of integers
  kTouch,   // split; merged as the sum of integers
  kExists,  // split; merged as the sum of integers
  kMset,    // split by pairs; merged as +OK
  kCopy,    // COPY: refused (kUnsupported) when it has a DB option
  kMulti,   // unsupported; the session refuses the whole transaction up to EXEC/DISCARD
  kExec,    // unsupported; ends a refused transaction with -EXECABORT
  kDiscard, // DISCARD (protocols/redis/transaction.h)
  kWatch,   // WATCH key...: keys colocated; pins the client (transaction.h)
  kUnwatch, // UNWATCH (transaction.h)
  kHello,   // HELLO: answered by the session (protocol version, AUTH, SETNAME)
  kClient,  // CLIENT subcommands: answered by the session
  kInfo,    // INFO: broadcast to every server, merged with the proxy's own facts
  kReadonly,   // READONLY / READWRITE: accepted as no-ops on a non-cluster pool
  kReset,   // RESET: the session's state back to a new connection's
};

// Where a command's keys are.
enum class KeyRule : uint8_t {
  kNone,         // no key: local and unsupported commands
  kPlaceholder,  // routed by the synthetic key "placeholder" (COMMAND, LOLWUT)
  kRange,        // argv[first_key..last_key] every key_step (last_key < 0 counts from the end)
  kSplit,        // every argument after the name, split across servers (key_step 2 for MSET)
  kNumkeys,      // argv[numkeys_at] holds numkeys; that many keys follow (plus argv[1] if dest)
};

// What a command is besides how the proxy treats it (CommandSpec::flags, a bit set). Read or
// write is CommandSpec::kind (kRead / kWrite, which becomes Request::is_write: replica reads and
// read-only policies use it).
enum CommandFlag : uint8_t {
  kFlagAdmin = 1 << 0,       // server or keyspace administration (CONFIG, KEYS, FLUSHALL...)
  kFlagBlocking = 1 << 1,    // may block the connection it runs on (BLPOP, WAIT, XREAD...)
  kFlagConnection = 1 << 2,  // changes the state of the connection it is sent on (AUTH, SELECT,
                             // HELLO, CLIENT, MULTI..., SUBSCRIBE, MONITOR)
  kFlagPubSub = 1 << 3,      // pub/sub
};

// Why the proxy refuses a command (RedisCodec::UnsupportedReason, RefusalText()).
enum class Refusal : uint8_t {
  kNone,          // served
  kSpread,        // its keys are spread over every server (KEYS, SCAN, FLUSHALL...)
  kCrossKey,      // several keys that may live on different servers, and it cannot be split
  kScriptNoKeys,  // scripts the proxy cannot route (EVAL_RO, FCALL...)
  kPubSub,        // pub/sub
  kBlocking,      // blocking commands
  kServerAdmin,   // addresses one server, not the pool
  kDatabase,      // names another database than the pool's redis_db
};

// One command's static description: everything the proxy knows about it lives here
// (protocols/redis/command_table.cc has the entries).
struct CommandSpec {
  absl::string_view name;   // canonical upper-case name (static storage)
  absl::string_view lower;  // lower-case name, for error texts and split rewrites (static storage)
  CommandKind kind;  // kRead / kWrite (forwarded), kLocal (the session), kUnsupported (refused)
  int8_t arity;     // redis: N = exactly N arguments (name included), -N = at least N
  int8_t max_argc;  // 0 = no maximum beyond the arity
  KeyRule rule;
  int8_t first_key;
  int8_t last_key;
  uint8_t key_step;
  int8_t numkeys_at;  // kNumkeys: index of numkeys
  bool dest_key;      // kNumkeys: argv[1] is a key as well (ZINTERSTORE destination)
  Op op;
  uint8_t flags;      // CommandFlag bits
  // kUnsupported: why (never kNone). A served command has kNone, except one the decoder refuses
  // in some of its forms only: COPY ... DB (Op::kCopy) has the reason of that form.
  Refusal refusal;
};

// redis's text for a Refusal; empty for kNone.
absl::string_view RefusalText(Refusal refusal);

// Where the keys of one request are (argv indexes, the name is argv[0]): argv[1] when `dest`,
// then argv[first], argv[first + step], ... below `end`. Found by FindKeys(), the one place
// that reads the command table's key rules: the decoder routes by these keys, RewriteKeys maps
// them.
struct KeyPositions {
  uint32_t first = 0;
  uint32_t end = 0;  // first == end: no key after argv[1]
  uint8_t step = 1;
  bool dest = false;

  size_t count() const {
    return (dest ? 1u : 0u) + (end > first ? (end - first + step - 1) / step : 0u);
  }
  bool IsKey(size_t i) const {
    return (dest && i == 1) || (i >= first && i < end && (i - first) % step == 0);
  }
  // Calls f(i) for every key index, in argv order.
  template <typename F>
  void ForEach(F&& f) const {
    if (dest) f(size_t{1});
    for (size_t i = first; i < end; i += step) f(i);
  }
};

// Why a request's keys cannot be found (KeyErrorText() has redis's texts).
enum class KeyError : uint8_t {
  kNone,
  kWrongArity,        // argc against the arity (or MSETNX/MSET pairs incomplete)
  kNotAnInteger,      // numkeys is not an integer
  kNegativeNumkeys,   // EVAL/EVALSHA: numkeys < 0
  kNoKeys,            // numkeys 0 (EVAL: cannot be routed; others: redis's "at least 1")
  kTooManyNumkeys,    // numkeys larger than the arguments after it
};

// Reads argument `i` of the request (0 is the name): copies its first min(size, max) bytes to
// `dst` and returns its whole size. FindKeys asks only for numkeys (kNumkeys rules), so a
// decoder whose arguments lie in buffer ranges copies nothing else.
using ArgReader = absl::FunctionRef<size_t(size_t i, char* dst, size_t max)>;

// The keys of a request of `argc` arguments (name included) under `spec`: checks the arity
// (and max_argc), then applies the key rule. kNone and kPlaceholder rules have no key (an
// empty `*keys`). Allocates nothing.
KeyError FindKeys(const CommandSpec& spec, size_t argc, ArgReader read, KeyPositions* keys);

// The error text (without "-ERR ") of a FindKeys() failure, as redis words it.
std::string KeyErrorText(const CommandSpec& spec, KeyError error);

// No name in the table is longer (a test checks it): longer names are unknown without a lookup.
inline constexpr size_t kMaxCommandNameSize = 24;

// Immutable after construction; built once per process and shared by every thread.
class CommandTable {
 public:
  static const CommandTable& Get();

  // `upper_name` must already be upper case. nullptr for an unknown command.
  const CommandSpec* Find(absl::string_view upper_name) const;
  // The same for a name in any case (a client's, an error text's).
  const CommandSpec* FindAnyCase(absl::string_view name) const;
  // Request::command_id of a spec returned by Find(): 1..size(); 0 means "unknown command".
  uint16_t IdOf(const CommandSpec& spec) const;
  // The spec of a Request::command_id; nullptr for 0 (unknown) or an id that is not ours.
  const CommandSpec* ById(uint16_t id) const;
  size_t size() const;

 private:
  CommandTable();
  struct Impl;
  const Impl* impl_;
};

}  // namespace proxy::protocols::redis

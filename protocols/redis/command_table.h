// The redis command table: every command the proxy knows, with its arity (redis's convention),
// how its keys are found, and how the proxy treats it (twemproxy's command classes).
#pragma once

#include <cstddef>
#include <cstdint>

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

// One command's static description.
struct CommandSpec {
  absl::string_view name;   // canonical upper-case name (static storage)
  absl::string_view lower;  // lower-case name, for error texts and split rewrites
  CommandKind kind;
  int8_t arity;     // redis: N = exactly N arguments (name included), -N = at least N
  int8_t max_argc;  // 0 = no maximum beyond the arity
  KeyRule rule;
  int8_t first_key;
  int8_t last_key;
  uint8_t key_step;
  int8_t numkeys_at;  // kNumkeys: index of numkeys
  bool dest_key;      // kNumkeys: argv[1] is a key as well (ZINTERSTORE destination)
  Op op;
};

// No name in the table is longer (a test checks it): longer names are unknown without a lookup.
inline constexpr size_t kMaxCommandNameSize = 24;

// Immutable after construction; built once per process and shared by every thread.
class CommandTable {
 public:
  static const CommandTable& Get();

  // `upper_name` must already be upper case. nullptr for an unknown command.
  const CommandSpec* Find(absl::string_view upper_name) const;
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

// The memcache ASCII command table: every command memcached 1.6 knows, how its line is laid out
// and how the proxy treats it (twemproxy's commands, plus gat/gats and the meta commands).
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "api/codec.h"

namespace proxy::protocols::memcache {

// How a command's line is laid out; the request decoder checks and splits the line by this.
enum class Syntax : uint8_t {
  kRetrieval,   // get|gets <key>+                                        (split when n >= 2)
  kGat,         // gat|gats <exptime> <key>+                              (split when n >= 2)
  kStorage,     // set|add|replace|append|prepend <key> <flags> <exptime> <bytes> [noreply] + data
  kCas,         // cas <key> <flags> <exptime> <bytes> <cas unique> [noreply] + data
  kArithmetic,  // incr|decr <key> <delta> [noreply]
  kTouch,       // touch <key> <exptime> [noreply]
  kDelete,      // delete <key> [0] [noreply]
  kMeta,        // mg|md|ma|me <key> <flag>*
  kMetaSet,     // ms <key> <datalen> <flag>* + data
  kNoop,        // mn: answered by the proxy (MN)
  kVersion,     // version: routed by the synthetic key "placeholder"
  kQuit,        // quit: the proxy closes the connection
  kAdmin,       // stats, flush_all, verbosity...: well-formed but not proxied
};

// One command's static description.
struct CommandSpec {
  absl::string_view name;  // memcached's lower-case name (static storage)
  Syntax syntax;
  // How the proxy treats the single-key form (retrievals with several keys become kMultiKey).
  CommandKind kind;
};

// No name in the table is longer ("cache_memlimit"; a test checks it).
inline constexpr size_t kMaxCommandNameSize = 14;

// Why a kAdmin command is not proxied (for the error reply), e.g. for flush_all "keys are spread
// over several servers; run it on each server directly".
absl::string_view UnsupportedCommandReason(absl::string_view command);

// Immutable after construction; built once per process and shared by every thread.
class CommandTable {
 public:
  static const CommandTable& Get();

  // Exact, case-sensitive lookup (memcached's names are lower case only). nullptr if unknown.
  const CommandSpec* Find(absl::string_view name) const;
  // Request::command_id of a spec returned by Find(): 1..size(); 0 means "unknown command".
  uint16_t IdOf(const CommandSpec& spec) const;
  // The spec of a Request::command_id; nullptr for 0 or an id that is not ours.
  const CommandSpec* ById(uint16_t id) const;
  size_t size() const;

 private:
  CommandTable();
  struct Impl;
  const Impl* impl_;
};

}  // namespace proxy::protocols::memcache

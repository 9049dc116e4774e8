// The "blast radius" of a config change: per pool, which settings changed, which servers came and
// went, and exactly which share of the 32-bit hash space (or of a given list of keys) changes
// servers. Offline (no sockets): `proxyctl diff` prints it, and the proxy logs SummaryLine()
// after a reload. Placement follows api/placement.h exactly, so the figures agree with
// `proxyctl route` key by key.
//
// Server identity across the two configs is twemproxy's node name (Server.node_name: the
// explicit name, else host:port with port 11211 dropped, unix "path:"): it is what ketama hashes
// and what sorts the servers for modula. A server renamed at the same address is therefore a
// removal plus an addition whose ketama points move; a server keeping its name at a new address
// or weight is "changed" and its keys stay with it (unless the weight moves ring points or
// modula slots).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "api/config/v1/bootstrap.pb.h"

namespace proxy::config {

// 2^32: every hash-space count below is a number of hash values out of this.
inline constexpr uint64_t kHashSpace = uint64_t{1} << 32;

enum class PoolChange { kUnchanged, kChanged, kAdded, kRemoved };

// How the placement of keys compares between the two configs.
enum class Placement {
  kSame,          // every hash value (so every key) stays on the server it had
  kExact,         // `moves` is exactly the hash values that change servers (at least one)
  kAll,           // random distribution: no key has a server, every key may go anywhere
  kKeyDependent,  // keys hash differently (hash, hash_tag or key_prefix changed) or a
                  // distribution cannot describe its layout: only a list of keys can tell
  kNotCompared,   // the pool was added or removed
};

// Keys or hash values moving from one server to another, by node name (from != to).
struct ServerMove {
  std::string from;
  std::string to;
  uint64_t count = 0;
};

// A server by node name, with its `servers:` entry in each config ("" where absent).
struct ServerChange {
  std::string node_name;
  std::string before;
  std::string after;
};

struct PoolDiff {
  std::string name;  // the pool's name in `after` (in `before` when removed)
  PoolChange kind = PoolChange::kUnchanged;
  // YAML keys whose effective values differ, as operators write them, in KnownPoolKeys()
  // order ("redis" or "protocol" for the protocol; "servers" also for a mere reordering).
  std::vector<std::string> changed_keys;
  int servers_before = 0;
  int servers_after = 0;
  std::vector<ServerChange> servers_added;    // node names only in `after`
  std::vector<ServerChange> servers_removed;  // node names only in `before`
  std::vector<ServerChange> servers_changed;  // same node name, another address or weight
  Placement placement = Placement::kSame;
  std::string placement_reason;  // why, for kAll and kKeyDependent
  // The pool's key_prefix filter config differs: CountKeyMoves() (like `proxyctl route`) places
  // keys as given, without the prefix the proxy prepends, so it cannot tell what moves.
  bool key_prefix_changed = false;
  // kExact: hash values out of kHashSpace per (from, to), sorted by from then to in twemproxy's
  // node-name order; empty otherwise.
  std::vector<ServerMove> moves;
  uint64_t moved = 0;  // the sum of moves[].count
};

// One pool; nullptr = the pool does not exist on that side (both nullptr: kUnchanged, empty).
// Pools must be valid (LoadConfigFile/LoadConfigText without errors). The hash and distribution
// plugins are found through the registries: link the plugins the configs name.
PoolDiff DiffPool(const v1::Pool* before, const v1::Pool* after);

// Pools matched by name: `after`'s pools in file order, then the pools only `before` has.
std::vector<PoolDiff> DiffBootstraps(const v1::Bootstrap& before, const v1::Bootstrap& after);

// True when some key may be served by another server (or not at all) after the change:
// kExact, kAll, kKeyDependent, or a removed pool. An added pool moves nothing.
bool MovesKeys(const PoolDiff& diff);

// One line for a log, e.g. "pool beta: servers +1 -0 ~0 (servers changed), 12.5000% of the hash
// space moves (536870912 of 4294967296)".
std::string SummaryLine(const PoolDiff& diff);

// "12.5000%": count / total with four decimals.
std::string Percent(uint64_t count, uint64_t total);

// Where a given list of keys goes before and after, computed with api/placement.h exactly as
// `proxyctl route` does.
struct KeyMoves {
  // kAll when either side is a random distribution of more than one server (keys have no fixed
  // server: nothing is counted); otherwise kSame or kExact.
  Placement placement = Placement::kSame;
  uint64_t keys = 0;
  uint64_t moved = 0;
  std::vector<ServerMove> moves;  // counts of keys, sorted like PoolDiff::moves
};

// kNotFound/kFailedPrecondition from KeyPlacement::Create (unlinked plugin, no server).
absl::StatusOr<KeyMoves> CountKeyMoves(const v1::Pool& before, const v1::Pool& after,
                                       absl::Span<const std::string> keys);

}  // namespace proxy::config

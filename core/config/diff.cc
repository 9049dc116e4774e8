// Config diff: changed keys, server changes and exact hash-space moves (core/config/diff.h).
#include "core/config/diff.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "api/distribution.h"
#include "api/hash.h"
#include "api/placement.h"
#include "api/registry.h"

namespace proxy::config {
namespace {

using v1::Pool;
using v1::Server;

// ---------------------------------------------------------------------------------------------
// Changed keys.

bool SameMessage(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return a.SerializeAsString() == b.SerializeAsString();
}

bool SameServers(const Pool& a, const Pool& b) {
  if (a.servers_size() != b.servers_size()) return false;
  for (int i = 0; i < a.servers_size(); ++i) {
    if (!SameMessage(a.servers(i), b.servers(i))) return false;
  }
  return true;
}

bool SameFilters(const Pool& a, const Pool& b) {
  if (a.filters_size() != b.filters_size()) return false;
  for (int i = 0; i < a.filters_size(); ++i) {
    if (!SameMessage(a.filters(i), b.filters(i))) return false;
  }
  return true;
}

// Sentinels and replicas as written, in file order (a reordering counts as a change, like
// servers: the proxy asks sentinels and spreads reads in that order).
bool SameSentinels(const Pool& a, const Pool& b) {
  if (a.sentinels_size() != b.sentinels_size()) return false;
  for (int i = 0; i < a.sentinels_size(); ++i) {
    if (!SameMessage(a.sentinels(i), b.sentinels(i))) return false;
  }
  return true;
}

bool SameReplicas(const Pool& a, const Pool& b) {
  if (a.replicas_size() != b.replicas_size()) return false;
  for (int i = 0; i < a.replicas_size(); ++i) {
    if (!SameMessage(a.replicas(i), b.replicas(i))) return false;
  }
  return true;
}

// Credentials by their effective values (user and secret), whatever the secret's source: a
// secret moved from the YAML to a file changes nothing a connection sends, a new secret in the
// same file does.
std::string EffectiveCredential(const v1::Credential& credential) {
  const std::string& user = credential.username();
  const std::string& password = credential.password().value();
  return absl::StrCat(user.size(), ":", user, password.size(), ":", password);
}

bool SameClientAuth(const Pool& a, const Pool& b) {
  if (a.client_auth_size() != b.client_auth_size()) return false;
  for (int i = 0; i < a.client_auth_size(); ++i) {
    if (EffectiveCredential(a.client_auth(i)) != EffectiveCredential(b.client_auth(i))) {
      return false;
    }
  }
  return true;
}

bool SameServerAuth(const Pool& a, const Pool& b) {
  if (a.has_server_auth() != b.has_server_auth()) return false;
  const v1::ServerAuth& x = a.server_auth();
  const v1::ServerAuth& y = b.server_auth();
  if (x.credential().has_password() != y.credential().has_password() ||
      EffectiveCredential(x.credential()) != EffectiveCredential(y.credential()) ||
      x.per_server_size() != y.per_server_size()) {
    return false;
  }
  for (const auto& [server, credential] : x.per_server()) {
    auto it = y.per_server().find(server);
    if (it == y.per_server().end() ||
        EffectiveCredential(credential) != EffectiveCredential(it->second)) {
      return false;
    }
  }
  return true;
}

// The pool's key_prefix filter configs (serialized): the prefix is part of the bytes routing
// hashes (filters/key_prefix), so two pools with different ones hash every key differently.
std::vector<std::string> KeyPrefixes(const Pool& pool) {
  std::vector<std::string> prefixes;
  for (const v1::Filter& filter : pool.filters()) {
    if (filter.name() == "key_prefix") prefixes.push_back(filter.typed_config());
  }
  return prefixes;
}

// In the order of KnownPoolKeys() (core/config/yaml_loader.cc).
std::vector<std::string> ChangedKeys(const Pool& a, const Pool& b) {
  std::vector<std::string> keys;
  auto check = [&keys](bool same, const char* key) {
    if (!same) keys.push_back(key);
  };
  check(SameMessage(a.listen(), b.listen()), "listen");
  check(a.hash() == b.hash(), "hash");
  check(a.hash_tag() == b.hash_tag(), "hash_tag");
  check(a.distribution() == b.distribution(), "distribution");
  check(a.timeout_ms() == b.timeout_ms(), "timeout");
  check(a.backlog() == b.backlog(), "backlog");
  check(a.client_connections() == b.client_connections(), "client_connections");
  if (a.protocol() != b.protocol()) {
    // Between memcache and redis the operator most likely wrote twemproxy's `redis:`.
    auto twemproxy = [](const std::string& p) { return p == "redis" || p == "memcache"; };
    keys.push_back(twemproxy(a.protocol()) && twemproxy(b.protocol()) ? "redis" : "protocol");
  }
  check(a.tcpkeepalive() == b.tcpkeepalive(), "tcpkeepalive");
  check(a.redis_auth() == b.redis_auth(), "redis_auth");
  check(a.redis_db() == b.redis_db(), "redis_db");
  check(a.preconnect() == b.preconnect(), "preconnect");
  check(a.auto_eject_hosts() == b.auto_eject_hosts(), "auto_eject_hosts");
  check(a.server_connections() == b.server_connections(), "server_connections");
  check(a.server_retry_timeout_ms() == b.server_retry_timeout_ms(), "server_retry_timeout");
  check(a.server_failure_limit() == b.server_failure_limit(), "server_failure_limit");
  check(SameServers(a, b), "servers");
  check(a.reuseport() == b.reuseport(), "reuseport");
  check(SameFilters(a, b), "filters");
  // High availability: none of these moves a key (placement is by server name, and reads that
  // go to a replica go to the replica of the key's own server). sentinel_password is named,
  // never shown, like redis_auth.
  check(SameSentinels(a, b), "sentinels");
  check(a.sentinel_password() == b.sentinel_password(), "sentinel_password");
  check(SameReplicas(a, b), "replicas");
  check(a.read_from() == b.read_from(), "read_from");
  check(a.health_check_interval_ms() == b.health_check_interval_ms(), "health_check_interval");
  check(a.auto_eject_drop() == b.auto_eject_drop(), "auto_eject_drop");
  // Credentials: named, never shown. Neither moves a key; server_auth changes the handshake of
  // new server connections, so a reload remakes the connections of the servers whose AUTH
  // changed (core/proxy/worker.cc ServerIdentity).
  check(SameClientAuth(a, b), "client_auth");
  check(SameServerAuth(a, b), "server_auth");
  // TLS: named per side; the files' contents are read again by every reload whether or not
  // the paths changed (docs/tls.md).
  check(SameMessage(a.tls(), b.tls()), "tls");
  check(SameMessage(a.server_tls(), b.server_tls()), "server_tls");
  // Moves no key: the new per-worker quota applies to new connections; a change of the workers
  // that accept clients waits for a restart (core/server/server.cc warns).
  check(a.max_server_connections() == b.max_server_connections(), "max_server_connections");
  return keys;
}

// Same address and weight (the entries may still be spelled differently).
bool SamePlace(const Server& a, const Server& b) {
  return a.weight() == b.weight() && a.has_tcp() == b.has_tcp() &&
         a.tcp().host() == b.tcp().host() && a.tcp().port() == b.tcp().port() &&
         a.unix_path() == b.unix_path();
}

void DiffServers(const Pool& a, const Pool& b, PoolDiff* diff) {
  absl::flat_hash_map<std::string, const Server*> before;
  absl::flat_hash_map<std::string, const Server*> after;
  for (const Server& server : a.servers()) before[server.node_name()] = &server;
  for (const Server& server : b.servers()) after[server.node_name()] = &server;
  // Listed in twemproxy's order (the order placement uses).
  for (uint32_t index : SortedServerOrder(b)) {
    const Server& server = b.servers(index);
    auto it = before.find(server.node_name());
    if (it == before.end()) {
      diff->servers_added.push_back({server.node_name(), "", server.raw()});
    } else if (!SamePlace(*it->second, server)) {
      diff->servers_changed.push_back({server.node_name(), it->second->raw(), server.raw()});
    }
  }
  for (uint32_t index : SortedServerOrder(a)) {
    const Server& server = a.servers(index);
    if (!after.contains(server.node_name())) {
      diff->servers_removed.push_back({server.node_name(), server.raw(), ""});
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Exact hash-space moves.

// A pool's hash → server mapping, with servers as ids into a shared name table.
struct Mapping {
  enum class Kind { kRing, kModulo, kRandom, kOpaque };
  Kind kind = Kind::kOpaque;
  // kRing: [previous end, end) → owner; ends strictly increasing, the last is kHashSpace.
  std::vector<uint64_t> ends;
  std::vector<uint32_t> owners;
  // kModulo: slot ranges [previous slot end, slot end) → owner; the last end is the modulus.
  std::vector<uint64_t> slot_ends;
  std::string error;  // why kOpaque
};

class NameTable {
 public:
  uint32_t Id(const std::string& name) {
    auto [it, inserted] = ids_.emplace(name, static_cast<uint32_t>(names_.size()));
    if (inserted) names_.push_back(name);
    return it->second;
  }
  const std::string& Name(uint32_t id) const { return names_[id]; }

 private:
  absl::flat_hash_map<std::string, uint32_t> ids_;
  std::vector<std::string> names_;
};

// Exactly what KeyPlacement::Create builds (api/placement.cc): the servers in twemproxy's order,
// one-server pools served without hashing.
Mapping BuildMapping(const Pool& pool, NameTable* names) {
  Mapping mapping;
  const std::vector<uint32_t> order = SortedServerOrder(pool);
  std::vector<uint32_t> ids;
  std::vector<Endpoint> endpoints;
  for (uint32_t index : order) {
    const Server& server = pool.servers(index);
    ids.push_back(names->Id(server.node_name()));
    Endpoint& endpoint = endpoints.emplace_back();
    endpoint.name = server.node_name();
    endpoint.weight = server.weight();
  }
  if (ids.size() == 1) {
    mapping.kind = Mapping::Kind::kRing;
    mapping.ends = {kHashSpace};
    mapping.owners = {ids[0]};
    return mapping;
  }
  const DistributionFactory* factory = Registry<DistributionFactory>::Find(pool.distribution());
  if (factory == nullptr) {
    mapping.error = absl::StrCat("distribution '", pool.distribution(), "' is not linked");
    return mapping;
  }
  absl::StatusOr<DistributionPtr> built = factory->Build(endpoints);
  if (!built.ok()) {
    mapping.error = std::string(built.status().message());
    return mapping;
  }
  const DistributionLayout layout = (*built)->Layout();
  switch (layout.kind) {
    case DistributionLayout::Kind::kRing: {
      const size_t n = layout.points.size();
      // h ≤ points[0] → owners[0]; (points[i-1], points[i]] → owners[i]; past the last point
      // the ring wraps to owners[0].
      for (size_t i = 0; i < n; ++i) {
        const uint64_t end = uint64_t{layout.points[i]} + 1;
        const uint32_t owner = ids[layout.owners[i]];
        if (!mapping.owners.empty() && mapping.owners.back() == owner) {
          mapping.ends.back() = end;
        } else {
          mapping.ends.push_back(end);
          mapping.owners.push_back(owner);
        }
      }
      if (mapping.ends.back() < kHashSpace) {
        const uint32_t owner = ids[layout.owners[0]];
        if (mapping.owners.back() == owner) {
          mapping.ends.back() = kHashSpace;
        } else {
          mapping.ends.push_back(kHashSpace);
          mapping.owners.push_back(owner);
        }
      }
      mapping.kind = Mapping::Kind::kRing;
      return mapping;
    }
    case DistributionLayout::Kind::kModulo:
      mapping.kind = Mapping::Kind::kModulo;
      for (size_t i = 0; i < layout.slot_ends.size(); ++i) {
        mapping.slot_ends.push_back(layout.slot_ends[i]);
        mapping.owners.push_back(ids[i]);
      }
      return mapping;
    case DistributionLayout::Kind::kRandom:
      mapping.kind = Mapping::Kind::kRandom;
      return mapping;
    case DistributionLayout::Kind::kOpaque:
      break;
  }
  mapping.error = absl::StrCat("distribution '", pool.distribution(),
                               "' does not describe its layout");
  return mapping;
}

// (before id, after id) → hash values; a hash map because a sweep adds to it millions of times.
class PairCounts {
 public:
  void Add(uint32_t from, uint32_t to, uint64_t n) {
    if (n != 0) counts_[(uint64_t{from} << 32) | to] += n;
  }
  template <class F>
  void ForEach(F f) const {
    for (const auto& [key, n] : counts_) {
      f(static_cast<uint32_t>(key >> 32), static_cast<uint32_t>(key & 0xffffffffu), n);
    }
  }

 private:
  absl::flat_hash_map<uint64_t, uint64_t> counts_;
};

// Both piecewise constant: one sweep over the union of the boundaries.
void RingVsRing(const Mapping& a, const Mapping& b, PairCounts* counts) {
  uint64_t h = 0;
  size_t i = 0;
  size_t j = 0;
  while (h < kHashSpace) {
    const uint64_t end = std::min(a.ends[i], b.ends[j]);
    counts->Add(a.owners[i], b.owners[j], end - h);
    h = end;
    if (a.ends[i] == end) ++i;
    if (b.ends[j] == end) ++j;
  }
}

// A ring interval [lo, hi) covers (hi - lo) / M whole periods of the modulus, which give each
// modula server its slot count, plus a window of at most M - 1 residues. Per ring owner, the
// windows become +1/-1 events on [0, M); one sweep over them and the slot boundaries then
// yields, per modula server, how many of the owner's hash values fall in its slots. The cost is
// O(W log W + owners × servers) for W ring intervals, whatever the modulus.
// `ring_first` tells which side the ring is, so that pairs keep (before, after) order.
void RingVsModulo(const Mapping& ring, const Mapping& modulo, bool ring_first,
                  PairCounts* counts) {
  const uint64_t modulus = modulo.slot_ends.back();
  const size_t servers = modulo.slot_ends.size();
  struct Event {
    uint64_t position;
    int64_t delta;
  };
  struct Owner {
    uint64_t periods = 0;
    std::vector<Event> events;
  };
  absl::flat_hash_map<uint32_t, Owner> owners;
  uint64_t lo = 0;
  for (size_t i = 0; i < ring.ends.size(); ++i) {
    const uint64_t hi = ring.ends[i];
    Owner& owner = owners[ring.owners[i]];
    const uint64_t length = hi - lo;
    owner.periods += length / modulus;
    const uint64_t rest = length % modulus;
    const uint64_t start = lo % modulus;
    auto window = [&owner](uint64_t from, uint64_t to) {
      if (from == to) return;
      owner.events.push_back({from, 1});
      owner.events.push_back({to, -1});
    };
    if (start + rest <= modulus) {
      window(start, start + rest);
    } else {
      window(start, modulus);
      window(0, start + rest - modulus);
    }
    lo = hi;
  }
  std::vector<uint64_t> per_server(servers);
  for (auto& [id, owner] : owners) {
    std::fill(per_server.begin(), per_server.end(), 0);
    std::sort(owner.events.begin(), owner.events.end(),
              [](const Event& x, const Event& y) { return x.position < y.position; });
    // Sweep [0, M): `coverage` windows cover the residues between consecutive boundaries.
    int64_t coverage = 0;
    uint64_t position = 0;
    size_t e = 0;
    size_t k = 0;
    while (position < modulus) {
      while (e < owner.events.size() && owner.events[e].position == position) {
        coverage += owner.events[e++].delta;
      }
      while (modulo.slot_ends[k] <= position) ++k;
      uint64_t next = modulo.slot_ends[k];
      if (e < owner.events.size()) next = std::min(next, owner.events[e].position);
      per_server[k] += static_cast<uint64_t>(coverage) * (next - position);
      position = next;
    }
    uint64_t previous = 0;
    for (size_t k2 = 0; k2 < servers; ++k2) {
      const uint64_t n = per_server[k2] + owner.periods * (modulo.slot_ends[k2] - previous);
      previous = modulo.slot_ends[k2];
      if (ring_first) {
        counts->Add(id, modulo.owners[k2], n);
      } else {
        counts->Add(modulo.owners[k2], id, n);
      }
    }
  }
}

// Both periodic: the pair of residues repeats every lcm(M1, M2) hash values, so sweep one period
// run by run (a run ends where either side's server changes) and scale; the last partial period
// is counted in the same sweep.
void ModuloVsModulo(const Mapping& a, const Mapping& b, PairCounts* counts) {
  const uint64_t m1 = a.slot_ends.back();
  const uint64_t m2 = b.slot_ends.back();
  const uint64_t g = std::gcd(m1, m2);
  // m1 / g * m2 < 2^64 since both are < 2^32.
  const uint64_t lcm = m1 / g * m2;
  const uint64_t period = std::min(lcm, kHashSpace);
  const uint64_t repeats = kHashSpace / period;
  const uint64_t rest = kHashSpace % period;
  uint64_t r1 = 0, r2 = 0;
  size_t i1 = 0, i2 = 0;
  uint64_t h = 0;
  while (h < period) {
    const uint64_t run = std::min({a.slot_ends[i1] - r1, b.slot_ends[i2] - r2, period - h});
    uint64_t n = run * repeats;
    if (h < rest) n += std::min(run, rest - h);
    counts->Add(a.owners[i1], b.owners[i2], n);
    h += run;
    r1 += run;
    r2 += run;
    if (r1 == a.slot_ends[i1] && ++i1 == a.slot_ends.size()) i1 = 0, r1 = 0;
    if (r2 == b.slot_ends[i2] && ++i2 == b.slot_ends.size()) i2 = 0, r2 = 0;
  }
}

bool TwemproxyMoveLess(const ServerMove& x, const ServerMove& y) {
  if (x.from != y.from) return TwemproxyLess(x.from, y.from);
  return TwemproxyLess(x.to, y.to);
}

// Whether routing hashes the same bytes with the same function on both sides.
std::string HashingDifference(const Pool& a, const Pool& b) {
  std::vector<std::string> what;
  if (a.hash() != b.hash()) what.push_back("hash");
  if (a.hash_tag() != b.hash_tag()) what.push_back("hash_tag");
  if (KeyPrefixes(a) != KeyPrefixes(b)) what.push_back("key_prefix");
  return absl::StrJoin(what, ", ");
}

// Random pools: same server set = nothing changes (requests already go anywhere).
bool SameNodeNames(const Pool& a, const Pool& b) {
  std::vector<std::string> x, y;
  for (const Server& s : a.servers()) x.push_back(s.node_name());
  for (const Server& s : b.servers()) y.push_back(s.node_name());
  std::sort(x.begin(), x.end());
  std::sort(y.begin(), y.end());
  return x == y;
}

void DiffPlacement(const Pool& a, const Pool& b, PoolDiff* diff) {
  NameTable names;
  const Mapping before = BuildMapping(a, &names);
  const Mapping after = BuildMapping(b, &names);
  const bool hashes_a = a.servers_size() > 1;
  const bool hashes_b = b.servers_size() > 1;
  if (before.kind == Mapping::Kind::kRandom || after.kind == Mapping::Kind::kRandom) {
    if (before.kind == after.kind && SameNodeNames(a, b)) {
      diff->placement = Placement::kSame;
      return;
    }
    diff->placement = Placement::kAll;
    diff->placement_reason = "the random distribution gives keys no fixed server";
    return;
  }
  if (hashes_a && hashes_b) {
    const std::string hashing = HashingDifference(a, b);
    if (!hashing.empty()) {
      diff->placement = Placement::kKeyDependent;
      diff->placement_reason = absl::StrCat(hashing, " changed: keys hash differently");
      return;
    }
  }
  for (const Mapping* mapping : {&before, &after}) {
    if (mapping->kind == Mapping::Kind::kOpaque) {
      diff->placement = Placement::kKeyDependent;
      diff->placement_reason = mapping->error;
      return;
    }
  }
  PairCounts counts;
  if (before.kind == Mapping::Kind::kRing && after.kind == Mapping::Kind::kRing) {
    RingVsRing(before, after, &counts);
  } else if (before.kind == Mapping::Kind::kRing) {
    RingVsModulo(before, after, /*ring_first=*/true, &counts);
  } else if (after.kind == Mapping::Kind::kRing) {
    RingVsModulo(after, before, /*ring_first=*/false, &counts);
  } else {
    ModuloVsModulo(before, after, &counts);
  }
  counts.ForEach([&](uint32_t from, uint32_t to, uint64_t count) {
    if (from == to) return;
    diff->moves.push_back({names.Name(from), names.Name(to), count});
    diff->moved += count;
  });
  std::sort(diff->moves.begin(), diff->moves.end(), TwemproxyMoveLess);
  diff->placement = diff->moved == 0 ? Placement::kSame : Placement::kExact;
}

}  // namespace

PoolDiff DiffPool(const v1::Pool* before, const v1::Pool* after) {
  PoolDiff diff;
  if (before == nullptr && after == nullptr) return diff;
  diff.name = after != nullptr ? after->name() : before->name();
  diff.servers_before = before != nullptr ? before->servers_size() : 0;
  diff.servers_after = after != nullptr ? after->servers_size() : 0;
  if (before == nullptr || after == nullptr) {
    diff.kind = before == nullptr ? PoolChange::kAdded : PoolChange::kRemoved;
    diff.placement = Placement::kNotCompared;
    const Pool& pool = before == nullptr ? *after : *before;
    for (uint32_t index : SortedServerOrder(pool)) {
      const Server& server = pool.servers(index);
      if (before == nullptr) {
        diff.servers_added.push_back({server.node_name(), "", server.raw()});
      } else {
        diff.servers_removed.push_back({server.node_name(), server.raw(), ""});
      }
    }
    return diff;
  }
  diff.changed_keys = ChangedKeys(*before, *after);
  if (diff.changed_keys.empty()) return diff;
  diff.kind = PoolChange::kChanged;
  diff.key_prefix_changed = KeyPrefixes(*before) != KeyPrefixes(*after);
  DiffServers(*before, *after, &diff);
  DiffPlacement(*before, *after, &diff);
  return diff;
}

std::vector<PoolDiff> DiffBootstraps(const v1::Bootstrap& before, const v1::Bootstrap& after) {
  absl::flat_hash_map<std::string, const Pool*> old_pools;
  for (const Pool& pool : before.pools()) old_pools.emplace(pool.name(), &pool);
  absl::flat_hash_map<std::string, const Pool*> new_pools;
  for (const Pool& pool : after.pools()) new_pools.emplace(pool.name(), &pool);
  std::vector<PoolDiff> diffs;
  for (const Pool& pool : after.pools()) {
    auto it = old_pools.find(pool.name());
    diffs.push_back(DiffPool(it == old_pools.end() ? nullptr : it->second, &pool));
  }
  for (const Pool& pool : before.pools()) {
    if (!new_pools.contains(pool.name())) diffs.push_back(DiffPool(&pool, nullptr));
  }
  return diffs;
}

bool MovesKeys(const PoolDiff& diff) {
  switch (diff.placement) {
    case Placement::kExact:
    case Placement::kAll:
    case Placement::kKeyDependent:
      return true;
    case Placement::kNotCompared:
      return diff.kind == PoolChange::kRemoved;
    case Placement::kSame:
      break;
  }
  return false;
}

std::string Percent(uint64_t count, uint64_t total) {
  if (total == 0) return "0.0000%";
  return absl::StrFormat("%.4f%%", 100.0 * static_cast<double>(count) /
                                       static_cast<double>(total));
}

std::string SummaryLine(const PoolDiff& diff) {
  const std::string pool = absl::StrCat("pool ", diff.name, ": ");
  switch (diff.kind) {
    case PoolChange::kUnchanged:
      return absl::StrCat(pool, "unchanged");
    case PoolChange::kAdded:
      return absl::StrCat(pool, "added (", diff.servers_after, " server",
                          diff.servers_after == 1 ? "" : "s", ")");
    case PoolChange::kRemoved:
      return absl::StrCat(pool, "removed (", diff.servers_before, " server",
                          diff.servers_before == 1 ? "" : "s", "): its keys are no longer served");
    case PoolChange::kChanged:
      break;
  }
  std::string line =
      absl::StrCat(pool, "servers +", diff.servers_added.size(), " -",
                   diff.servers_removed.size(), " ~", diff.servers_changed.size(), " (",
                   absl::StrJoin(diff.changed_keys, ", "), " changed), ");
  switch (diff.placement) {
    case Placement::kSame:
    case Placement::kNotCompared:
      absl::StrAppend(&line, "no key moves");
      break;
    case Placement::kExact:
      absl::StrAppend(&line, Percent(diff.moved, kHashSpace), " of the hash space moves (",
                      diff.moved, " of ", kHashSpace, ")");
      break;
    case Placement::kAll:
      absl::StrAppend(&line, "every key may move: ", diff.placement_reason);
      break;
    case Placement::kKeyDependent:
      absl::StrAppend(&line, "the keys that move depend on the keys (", diff.placement_reason,
                      "; see proxyctl diff --keys)");
      break;
  }
  return line;
}

absl::StatusOr<KeyMoves> CountKeyMoves(const v1::Pool& before, const v1::Pool& after,
                                       absl::Span<const std::string> keys) {
  KeyMoves result;
  result.keys = keys.size();
  NameTable names;
  if (BuildMapping(before, &names).kind == Mapping::Kind::kRandom ||
      BuildMapping(after, &names).kind == Mapping::Kind::kRandom) {
    result.placement = Placement::kAll;
    return result;
  }
  absl::StatusOr<KeyPlacementPtr> old_placement = KeyPlacement::Create(before);
  if (!old_placement.ok()) return old_placement.status();
  absl::StatusOr<KeyPlacementPtr> new_placement = KeyPlacement::Create(after);
  if (!new_placement.ok()) return new_placement.status();
  std::map<std::pair<std::string, std::string>, uint64_t> counts;
  for (const std::string& key : keys) {
    const std::string& from = before.servers((*old_placement)->ServerFor(key)).node_name();
    const std::string& to = after.servers((*new_placement)->ServerFor(key)).node_name();
    if (from != to) ++counts[{from, to}];
  }
  for (const auto& [pair, count] : counts) {
    result.moves.push_back({pair.first, pair.second, count});
    result.moved += count;
  }
  std::sort(result.moves.begin(), result.moves.end(), TwemproxyMoveLess);
  result.placement = result.moved == 0 ? Placement::kSame : Placement::kExact;
  return result;
}

}  // namespace proxy::config

// core/config/diff: changed keys, server changes and the exact hash-space moves, the latter
// checked against an independent count made with api/placement.h (what routing and
// `proxyctl route` use) at every boundary, at each boundary's neighbours and at random hashes.
#include "core/config/diff.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "api/placement.h"
#include "core/config/config.h"
#include "gtest/gtest.h"
#include "hashes/distributions/ketama.h"

namespace proxy::config {
namespace {

using Pairs = std::map<std::pair<std::string, std::string>, uint64_t>;

// A one-pool config. `servers` are `servers:` entries.
std::string PoolYaml(const std::string& name, const std::string& distribution,
                     const std::vector<std::string>& servers, const std::string& extra = "") {
  std::string yaml = absl::StrCat(name, ":\n  listen: 127.0.0.1:22121\n  distribution: ",
                                  distribution, "\n", extra, "  servers:\n");
  for (const std::string& server : servers) absl::StrAppend(&yaml, "   - ", server, "\n");
  return yaml;
}

v1::Bootstrap LoadOk(const std::string& yaml) {
  LoadResult result = LoadConfigText(yaml, "test.yml");
  EXPECT_TRUE(result.ok()) << FormatDiagnostics(result.errors) << yaml;
  return result.bootstrap;
}

std::vector<std::string> Servers(int count, uint32_t weight = 1, int first_port = 7001) {
  std::vector<std::string> servers;
  for (int i = 0; i < count; ++i) {
    servers.push_back(absl::StrCat("127.0.0.1:", first_port + i, ":", weight));
  }
  return servers;
}

// ---------------------------------------------------------------------------------------------
// The oracle: an independent exact count, built from KeyPlacement::ServerForHash.

// The placement of one pool seen by the oracle: the server name for a hash, and where its
// owner can change.
struct Side {
  const v1::Pool* pool;
  KeyPlacementPtr placement;
  bool ring = false;              // ketama or a single server: boundaries below
  std::vector<uint64_t> cuts;     // ring: h where the owner may change (point + 1)
  std::vector<uint64_t> slot_ends;            // modula: running weights in twemproxy order
  std::vector<std::string> slot_names;        // modula: their node names

  std::string At(uint64_t h) const {
    return pool->servers(placement->ServerForHash(static_cast<uint32_t>(h))).node_name();
  }
  // modula: the owner of h from the pool itself, for the closed-form count.
  std::string SlotOwner(uint64_t h) const {
    const uint64_t slot = h % slot_ends.back();
    for (size_t i = 0;; ++i) {
      if (slot < slot_ends[i]) return slot_names[i];
    }
  }
};

Side MakeSide(const v1::Pool& pool) {
  Side side;
  side.pool = &pool;
  auto placement = KeyPlacement::Create(pool);
  EXPECT_TRUE(placement.ok()) << placement.status();
  side.placement = *std::move(placement);
  std::vector<Endpoint> endpoints;
  uint64_t total = 0;
  for (uint32_t index : SortedServerOrder(pool)) {
    const v1::Server& server = pool.servers(index);
    endpoints.push_back({server.node_name(), server.weight()});
    total += server.weight();
    side.slot_ends.push_back(total);
    side.slot_names.push_back(server.node_name());
  }
  if (pool.servers_size() == 1) {
    side.ring = true;
  } else if (pool.distribution() == "ketama") {
    side.ring = true;
    // The ring's own points (hashes/distributions/ketama.h), not DistributionLayout.
    auto ring = hashes::KetamaDistribution::Build(endpoints);
    EXPECT_TRUE(ring.ok());
    for (const auto& point : (*ring)->points()) side.cuts.push_back(uint64_t{point.value} + 1);
  }
  return side;
}

// How many h in [lo, hi) have h % modulus in [start, end).
uint64_t CountResidues(uint64_t lo, uint64_t hi, uint64_t modulus, uint64_t start,
                       uint64_t end) {
  auto below = [&](uint64_t x) {
    const uint64_t rest = x % modulus;
    return x / modulus * (end - start) + (rest <= start ? 0 : std::min(rest, end) - start);
  };
  return below(hi) - below(lo);
}

Pairs Oracle(const v1::Pool& before, const v1::Pool& after, std::mt19937_64* rng) {
  Side a = MakeSide(before);
  Side b = MakeSide(after);
  Pairs pairs;
  auto add = [&pairs](const std::string& from, const std::string& to, uint64_t n) {
    if (n > 0) pairs[{from, to}] += n;
  };
  if (!a.ring && !b.ring) {
    // modula vs modula: the pair repeats every lcm(M1, M2); count one period hash by hash,
    // scale, and count the last partial period hash by hash at its real (high) values.
    const uint64_t m1 = a.slot_ends.back();
    const uint64_t m2 = b.slot_ends.back();
    const uint64_t period = m1 / std::gcd(m1, m2) * m2;
    EXPECT_LT(period, uint64_t{1} << 22) << "test configs keep the period small";
    Pairs one;
    for (uint64_t h = 0; h < period; ++h) one[{a.At(h), b.At(h)}] += 1;
    for (const auto& [pair, n] : one) add(pair.first, pair.second, n * (kHashSpace / period));
    for (uint64_t h = kHashSpace / period * period; h < kHashSpace; ++h) add(a.At(h), b.At(h), 1);
    for (int i = 0; i < 20000; ++i) {
      const uint64_t h = (*rng)() % kHashSpace;
      EXPECT_EQ(a.At(h), a.At(h % period)) << h;
      EXPECT_EQ(b.At(h), b.At(h % period)) << h;
    }
    return pairs;
  }
  // At least one ring: between consecutive cuts of the ring side(s) the ring owners are constant.
  std::set<uint64_t> cut_set = {0, kHashSpace};
  for (const Side* side : {&a, &b}) cut_set.insert(side->cuts.begin(), side->cuts.end());
  const std::vector<uint64_t> cuts(cut_set.begin(), cut_set.end());
  const Side* modula = !a.ring ? &a : (!b.ring ? &b : nullptr);
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    const uint64_t lo = cuts[i];
    const uint64_t hi = cuts[i + 1];
    // The boundary itself and its neighbours: lo - 1 belongs to the previous segment, lo and
    // hi - 1 (= the next boundary - 1) to this one.
    const std::string ra = a.ring ? a.At(lo) : "";
    const std::string rb = b.ring ? b.At(lo) : "";
    if (a.ring) {
      EXPECT_EQ(a.At(hi - 1), ra) << "segment [" << lo << ", " << hi << ")";
    }
    if (b.ring) {
      EXPECT_EQ(b.At(hi - 1), rb) << "segment [" << lo << ", " << hi << ")";
    }
    if (hi - lo > 2) {
      if (a.ring) {
        EXPECT_EQ(a.At(lo + 1), ra);
      }
      if (b.ring) {
        EXPECT_EQ(b.At(lo + 1), rb);
      }
    }
    if (modula == nullptr) {
      add(ra, rb, hi - lo);
      continue;
    }
    uint64_t start = 0;
    for (size_t k = 0; k < modula->slot_ends.size(); ++k) {
      const uint64_t n = CountResidues(lo, hi, modula->slot_ends.back(), start,
                                       modula->slot_ends[k]);
      start = modula->slot_ends[k];
      if (a.ring) {
        add(ra, modula->slot_names[k], n);
      } else {
        add(modula->slot_names[k], rb, n);
      }
    }
    // The modula owner seen by routing is the slot owner at the segment's ends.
    EXPECT_EQ(modula->At(lo), modula->SlotOwner(lo));
    EXPECT_EQ(modula->At(hi - 1), modula->SlotOwner(hi - 1));
  }
  // Random hashes: routing agrees with the segment the hash falls in.
  for (int i = 0; i < 20000; ++i) {
    const uint64_t h = (*rng)() % kHashSpace;
    const uint64_t lo = *(std::upper_bound(cuts.begin(), cuts.end(), h) - 1);
    if (a.ring) {
      EXPECT_EQ(a.At(h), a.At(lo)) << h;
    }
    if (b.ring) {
      EXPECT_EQ(b.At(h), b.At(lo)) << h;
    }
    if (modula != nullptr) {
      EXPECT_EQ(modula->At(h), modula->SlotOwner(h)) << h;
    }
  }
  return pairs;
}

// Checks diff.moves against the oracle and returns the diff.
PoolDiff ExpectExact(const std::string& old_yaml, const std::string& new_yaml) {
  const v1::Bootstrap before = LoadOk(old_yaml);
  const v1::Bootstrap after = LoadOk(new_yaml);
  PoolDiff diff = DiffPool(&before.pools(0), &after.pools(0));
  std::mt19937_64 rng(42);
  const Pairs oracle = Oracle(before.pools(0), after.pools(0), &rng);
  uint64_t total = 0;
  Pairs expected;
  for (const auto& [pair, n] : oracle) {
    total += n;
    if (pair.first != pair.second) expected[pair] = n;
  }
  EXPECT_EQ(total, kHashSpace) << "the oracle covers the hash space once";
  Pairs actual;
  uint64_t moved = 0;
  for (const ServerMove& move : diff.moves) {
    EXPECT_NE(move.from, move.to);
    actual[{move.from, move.to}] = move.count;
    moved += move.count;
  }
  EXPECT_EQ(actual, expected);
  EXPECT_EQ(diff.moved, moved);
  EXPECT_EQ(diff.placement, expected.empty() ? Placement::kSame : Placement::kExact);
  return diff;
}

// ---------------------------------------------------------------------------------------------

TEST(DiffTest, KetamaServerAdded) {
  PoolDiff diff = ExpectExact(PoolYaml("p", "ketama", Servers(4)),
                              PoolYaml("p", "ketama", Servers(5)));
  EXPECT_EQ(diff.kind, PoolChange::kChanged);
  EXPECT_EQ(diff.changed_keys, std::vector<std::string>{"servers"});
  ASSERT_EQ(diff.servers_added.size(), 1u);
  EXPECT_EQ(diff.servers_added[0].node_name, "127.0.0.1:7005");
  EXPECT_TRUE(diff.servers_removed.empty());
  // Consistent hashing: every moving hash goes to the new server.
  for (const ServerMove& move : diff.moves) EXPECT_EQ(move.to, "127.0.0.1:7005");
  EXPECT_TRUE(MovesKeys(diff));
}

TEST(DiffTest, KetamaServerRemoved) {
  PoolDiff diff = ExpectExact(PoolYaml("p", "ketama", Servers(5)),
                              PoolYaml("p", "ketama", Servers(4)));
  ASSERT_EQ(diff.servers_removed.size(), 1u);
  for (const ServerMove& move : diff.moves) EXPECT_EQ(move.from, "127.0.0.1:7005");
}

TEST(DiffTest, KetamaWeightChanged) {
  std::vector<std::string> heavier = Servers(4);
  heavier[1] = "127.0.0.1:7002:3";
  PoolDiff diff = ExpectExact(PoolYaml("p", "ketama", Servers(4)), PoolYaml("p", "ketama", heavier));
  ASSERT_EQ(diff.servers_changed.size(), 1u);
  EXPECT_EQ(diff.servers_changed[0].node_name, "127.0.0.1:7002");
  EXPECT_EQ(diff.servers_changed[0].before, "127.0.0.1:7002:1");
  EXPECT_EQ(diff.servers_changed[0].after, "127.0.0.1:7002:3");
  EXPECT_GT(diff.moved, 0u);
}

TEST(DiffTest, KetamaRenamedServerMovesItsPoints) {
  std::vector<std::string> named = {"127.0.0.1:7001:1 a", "127.0.0.1:7002:1 b",
                                    "127.0.0.1:7003:1 c"};
  std::vector<std::string> renamed = named;
  renamed[2] = "127.0.0.1:7003:1 z";
  PoolDiff diff = ExpectExact(PoolYaml("p", "ketama", named), PoolYaml("p", "ketama", renamed));
  ASSERT_EQ(diff.servers_added.size(), 1u);
  ASSERT_EQ(diff.servers_removed.size(), 1u);
  EXPECT_EQ(diff.servers_removed[0].node_name, "c");
  EXPECT_GT(diff.moved, 0u);
}

TEST(DiffTest, NamedServerAtANewAddressKeepsItsKeys) {
  std::vector<std::string> named = {"127.0.0.1:7001:1 a", "127.0.0.1:7002:1 b"};
  std::vector<std::string> moved = {"127.0.0.1:7001:1 a", "127.0.0.1:9002:1 b"};
  PoolDiff diff = ExpectExact(PoolYaml("p", "ketama", named), PoolYaml("p", "ketama", moved));
  EXPECT_EQ(diff.kind, PoolChange::kChanged);
  ASSERT_EQ(diff.servers_changed.size(), 1u);
  EXPECT_EQ(diff.servers_changed[0].node_name, "b");
  EXPECT_EQ(diff.placement, Placement::kSame);
  EXPECT_FALSE(MovesKeys(diff));
}

TEST(DiffTest, ModulaServerCountChanged) {
  ExpectExact(PoolYaml("p", "modula", Servers(3)), PoolYaml("p", "modula", Servers(4)));
  ExpectExact(PoolYaml("p", "modula", Servers(5)), PoolYaml("p", "modula", Servers(2)));
  PoolDiff seven = ExpectExact(PoolYaml("p", "modula", Servers(7)),
                               PoolYaml("p", "modula", Servers(8)));
  // 2^32 is not a multiple of 56: the last partial period matters to the exact count.
  EXPECT_GT(seven.moved, 0u);
}

TEST(DiffTest, ModulaWeightsChanged) {
  std::vector<std::string> before = {"127.0.0.1:7001:1", "127.0.0.1:7002:2", "127.0.0.1:7003:3"};
  std::vector<std::string> after = {"127.0.0.1:7001:2", "127.0.0.1:7002:1", "127.0.0.1:7003:5",
                                    "127.0.0.1:7004:1"};
  ExpectExact(PoolYaml("p", "modula", before), PoolYaml("p", "modula", after));
}

TEST(DiffTest, KetamaToModulaAndBack) {
  std::vector<std::string> weighted = {"127.0.0.1:7001:1", "127.0.0.1:7002:2", "127.0.0.1:7003:3"};
  ExpectExact(PoolYaml("p", "ketama", Servers(3)), PoolYaml("p", "modula", Servers(3)));
  ExpectExact(PoolYaml("p", "modula", weighted), PoolYaml("p", "ketama", Servers(4)));
  PoolDiff diff = ExpectExact(PoolYaml("p", "ketama", weighted), PoolYaml("p", "modula", weighted));
  EXPECT_EQ(diff.changed_keys, std::vector<std::string>{"distribution"});
}

TEST(DiffTest, KetamaToModulaWithHugeWeights) {
  // Moduli far above and far below the ring's interval lengths (~2^32 / 480).
  for (uint32_t weight : {7u, 100003u, 50000017u}) {
    std::vector<std::string> heavy = {absl::StrCat("127.0.0.1:7001:", weight),
                                      absl::StrCat("127.0.0.1:7002:", weight + 1),
                                      absl::StrCat("127.0.0.1:7003:", 2 * weight)};
    PoolDiff diff = ExpectExact(PoolYaml("p", "ketama", Servers(3)), PoolYaml("p", "modula", heavy));
    EXPECT_GT(diff.moved, 0u) << weight;
    ExpectExact(PoolYaml("p", "modula", heavy), PoolYaml("p", "ketama", Servers(4)));
  }
}

TEST(DiffTest, SingleServerPoolsAreNotHashed) {
  // One server takes every key without hashing, so a hash change there is still exact.
  ExpectExact(PoolYaml("p", "ketama", Servers(1)),
              PoolYaml("p", "modula", Servers(3), "  hash: murmur\n"));
  PoolDiff diff = ExpectExact(PoolYaml("p", "ketama", Servers(1)),
                              PoolYaml("p", "ketama", Servers(1, 1, 7002), "  hash: md5\n"));
  ASSERT_EQ(diff.moves.size(), 1u);
  EXPECT_EQ(diff.moved, kHashSpace);
}

TEST(DiffTest, RandomSaysAll) {
  const v1::Bootstrap before = LoadOk(PoolYaml("p", "ketama", Servers(3)));
  const v1::Bootstrap after = LoadOk(PoolYaml("p", "random", Servers(3)));
  PoolDiff diff = DiffPool(&before.pools(0), &after.pools(0));
  EXPECT_EQ(diff.placement, Placement::kAll);
  EXPECT_TRUE(diff.moves.empty());
  EXPECT_TRUE(MovesKeys(diff));
  EXPECT_NE(SummaryLine(diff).find("every key may move"), std::string::npos) << SummaryLine(diff);
  auto keys = CountKeyMoves(before.pools(0), after.pools(0), {"a", "b"});
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->placement, Placement::kAll);

  // Same servers, random on both sides, another setting changed: nothing about placement.
  const v1::Bootstrap r1 = LoadOk(PoolYaml("p", "random", Servers(3)));
  const v1::Bootstrap r2 = LoadOk(PoolYaml("p", "random", Servers(3), "  timeout: 400\n"));
  PoolDiff same = DiffPool(&r1.pools(0), &r2.pools(0));
  EXPECT_EQ(same.changed_keys, std::vector<std::string>{"timeout"});
  EXPECT_EQ(same.placement, Placement::kSame);
  const v1::Bootstrap r3 = LoadOk(PoolYaml("p", "random", Servers(4)));
  EXPECT_EQ(DiffPool(&r1.pools(0), &r3.pools(0)).placement, Placement::kAll);
}

TEST(DiffTest, HashChangeIsKeyDependent) {
  for (const std::string& extra : {std::string("  hash: murmur\n"),
                                   std::string("  hash_tag: \"{}\"\n")}) {
    const v1::Bootstrap before = LoadOk(PoolYaml("p", "ketama", Servers(3)));
    const v1::Bootstrap after = LoadOk(PoolYaml("p", "ketama", Servers(3), extra));
    PoolDiff diff = DiffPool(&before.pools(0), &after.pools(0));
    EXPECT_EQ(diff.placement, Placement::kKeyDependent) << extra;
    EXPECT_TRUE(diff.moves.empty());
    EXPECT_TRUE(MovesKeys(diff));
    EXPECT_NE(SummaryLine(diff).find("depend on the keys"), std::string::npos);
    // Keys still have exact answers, the same as routing gives them.
    std::vector<std::string> keys;
    for (int i = 0; i < 2000; ++i) keys.push_back(absl::StrCat("user:{", i % 97, "}:", i));
    auto moves = CountKeyMoves(before.pools(0), after.pools(0), keys);
    ASSERT_TRUE(moves.ok());
    auto old_place = KeyPlacement::Create(before.pools(0));
    auto new_place = KeyPlacement::Create(after.pools(0));
    Pairs expected;
    for (const std::string& key : keys) {
      const std::string from = before.pools(0).servers((*old_place)->ServerFor(key)).node_name();
      const std::string to = after.pools(0).servers((*new_place)->ServerFor(key)).node_name();
      if (from != to) expected[{from, to}] += 1;
    }
    Pairs actual;
    for (const ServerMove& move : moves->moves) actual[{move.from, move.to}] = move.count;
    EXPECT_EQ(actual, expected);
    EXPECT_EQ(moves->keys, 2000u);
    EXPECT_GT(moves->moved, 0u);
  }
}

TEST(DiffTest, KeyPrefixChangeIsKeyDependent) {
  auto with_prefix = [](const std::string& prefix) {
    return PoolYaml("p", "ketama", Servers(3),
                    absl::StrCat("  filters:\n   - name: key_prefix\n     config: {prefix: \"",
                                 prefix, "\"}\n   - reject_unsupported\n   - hash_tag\n"
                                 "   - router\n"));
  };
  const v1::Bootstrap before = LoadOk(with_prefix("app1:"));
  const v1::Bootstrap after = LoadOk(with_prefix("app2:"));
  PoolDiff diff = DiffPool(&before.pools(0), &after.pools(0));
  EXPECT_EQ(diff.changed_keys, std::vector<std::string>{"filters"});
  EXPECT_EQ(diff.placement, Placement::kKeyDependent);
  EXPECT_TRUE(diff.key_prefix_changed);
  EXPECT_NE(diff.placement_reason.find("key_prefix"), std::string::npos) << diff.placement_reason;
  // The same prefix with another filter list: the hashed bytes do not change.
  const v1::Bootstrap same = LoadOk(PoolYaml(
      "p", "ketama", Servers(3),
      "  filters:\n   - name: key_prefix\n     config: {prefix: \"app1:\"}\n"
      "   - reject_unsupported\n   - hash_tag\n   - router\n   - stats\n"));
  PoolDiff same_prefix = DiffPool(&before.pools(0), &same.pools(0));
  EXPECT_EQ(same_prefix.placement, Placement::kSame);
  EXPECT_FALSE(same_prefix.key_prefix_changed);
}

TEST(DiffTest, KeyMovesAgreeWithTheHashSpace) {
  // Same hash: a key moves exactly when its hash lies in a moving range; summed over many keys
  // the key shares approach the hash-space shares.
  const v1::Bootstrap before = LoadOk(PoolYaml("p", "ketama", Servers(4)));
  const v1::Bootstrap after = LoadOk(PoolYaml("p", "ketama", Servers(5)));
  PoolDiff diff = DiffPool(&before.pools(0), &after.pools(0));
  std::vector<std::string> keys;
  for (int i = 0; i < 50000; ++i) keys.push_back(absl::StrCat("key:", i));
  auto moves = CountKeyMoves(before.pools(0), after.pools(0), keys);
  ASSERT_TRUE(moves.ok());
  const double space = static_cast<double>(diff.moved) / static_cast<double>(kHashSpace);
  const double fraction = static_cast<double>(moves->moved) / 50000.0;
  EXPECT_NEAR(fraction, space, 0.02);
}

TEST(DiffTest, ChangedKeysUseTheYamlNames) {
  const v1::Bootstrap before = LoadOk(PoolYaml("p", "ketama", Servers(2)));
  const v1::Bootstrap after = LoadOk(absl::StrReplaceAll(
      PoolYaml("p", "ketama", Servers(2),
               "  server_retry_timeout: 1000\n  timeout: 5\n  redis: true\n"),
      {{"22121", "22122"}}));
  PoolDiff diff = DiffPool(&before.pools(0), &after.pools(0));
  EXPECT_EQ(absl::StrJoin(diff.changed_keys, ","), "listen,timeout,redis,server_retry_timeout");
  EXPECT_EQ(diff.placement, Placement::kSame);
  EXPECT_FALSE(MovesKeys(diff));
  EXPECT_EQ(SummaryLine(diff),
            "pool p: servers +0 -0 ~0 (listen, timeout, redis, server_retry_timeout changed), "
            "no key moves");
  const v1::Bootstrap same = LoadOk(PoolYaml("p", "ketama", Servers(2)));
  PoolDiff unchanged = DiffPool(&before.pools(0), &same.pools(0));
  EXPECT_EQ(unchanged.kind, PoolChange::kUnchanged);
  EXPECT_EQ(SummaryLine(unchanged), "pool p: unchanged");
}

// The high-availability keys: named under their YAML names (sentinel_password's value is never
// shown) and none of them moves a key, alone or together.
TEST(DiffTest, HighAvailabilityKeysAreNamedAndMoveNothing) {
  const std::vector<std::string> servers = {"127.0.0.1:7001:1 shard-a", "127.0.0.1:7002:1 shard-b",
                                            "127.0.0.1:7003:2 shard-c"};
  const std::string base = "  redis: true\n  auto_eject_hosts: true\n";
  const v1::Bootstrap before = LoadOk(PoolYaml("p", "ketama", servers, base));
  const std::vector<std::pair<std::string, std::string>> changes = {
      {"sentinels", "  sentinels:\n   - 127.0.0.1:26379\n"},
      {"sentinel_password", "  sentinel_password: hunter2\n"},
      {"replicas", "  replicas:\n    shard-a:\n      - 127.0.0.1:7101\n"},
      {"read_from", "  read_from: prefer_replica\n  replicas:\n    shard-b: [127.0.0.1:7102]\n"},
      {"health_check_interval", "  health_check_interval: 1000\n"},
      {"auto_eject_drop", "  auto_eject_drop: true\n"},
  };
  std::string all;
  for (const auto& [key, yaml] : changes) {
    const v1::Bootstrap after = LoadOk(PoolYaml("p", "ketama", servers, base + yaml));
    PoolDiff diff = DiffPool(&before.pools(0), &after.pools(0));
    // read_from's case also adds replicas (so that it loads without a warning).
    EXPECT_EQ(absl::StrJoin(diff.changed_keys, ","),
              key == "read_from" ? "replicas,read_from" : key);
    EXPECT_EQ(diff.kind, PoolChange::kChanged) << key;
    EXPECT_EQ(diff.placement, Placement::kSame) << key;
    EXPECT_EQ(diff.moved, 0u) << key;
    EXPECT_TRUE(diff.servers_added.empty() && diff.servers_removed.empty() &&
                diff.servers_changed.empty())
        << key;
    EXPECT_FALSE(MovesKeys(diff)) << key;
    if (key != "read_from") all += yaml;
  }
  all += "  read_from: any\n";
  const v1::Bootstrap after = LoadOk(PoolYaml("p", "ketama", servers, base + all));
  PoolDiff diff = DiffPool(&before.pools(0), &after.pools(0));
  EXPECT_EQ(absl::StrJoin(diff.changed_keys, ","),
            "sentinels,sentinel_password,replicas,read_from,health_check_interval,"
            "auto_eject_drop");
  EXPECT_FALSE(MovesKeys(diff));
  const std::string line = SummaryLine(diff);
  EXPECT_EQ(line,
            "pool p: servers +0 -0 ~0 (sentinels, sentinel_password, replicas, read_from, "
            "health_check_interval, auto_eject_drop changed), no key moves");
  // Back the other way, and a mere change of a replica's address or of the password.
  EXPECT_FALSE(MovesKeys(DiffPool(&after.pools(0), &before.pools(0))));
  const v1::Bootstrap moved_replica = LoadOk(PoolYaml(
      "p", "ketama", servers,
      base + absl::StrReplaceAll(all, {{"127.0.0.1:7101", "127.0.0.1:7201"},
                                       {"hunter2", "hunter3"}})));
  PoolDiff replica_diff = DiffPool(&after.pools(0), &moved_replica.pools(0));
  EXPECT_EQ(absl::StrJoin(replica_diff.changed_keys, ","), "sentinel_password,replicas");
  EXPECT_EQ(replica_diff.placement, Placement::kSame);
  EXPECT_EQ(SummaryLine(replica_diff).find("hunter"), std::string::npos);
}

TEST(DiffTest, BootstrapsMatchPoolsByName) {
  const v1::Bootstrap before =
      LoadOk(PoolYaml("alpha", "ketama", Servers(2)) +
             absl::StrReplaceAll(PoolYaml("beta", "ketama", Servers(2, 1, 8001)),
                                 {{"22121", "22122"}}));
  const v1::Bootstrap after =
      LoadOk(PoolYaml("alpha", "ketama", Servers(3)) +
             absl::StrReplaceAll(PoolYaml("gamma", "modula", Servers(1, 1, 9001)),
                                 {{"22121", "22123"}}));
  std::vector<PoolDiff> diffs = DiffBootstraps(before, after);
  ASSERT_EQ(diffs.size(), 3u);
  EXPECT_EQ(diffs[0].name, "alpha");
  EXPECT_EQ(diffs[0].kind, PoolChange::kChanged);
  EXPECT_EQ(diffs[1].name, "gamma");
  EXPECT_EQ(diffs[1].kind, PoolChange::kAdded);
  EXPECT_FALSE(MovesKeys(diffs[1]));
  EXPECT_EQ(SummaryLine(diffs[1]), "pool gamma: added (1 server)");
  EXPECT_EQ(diffs[2].name, "beta");
  EXPECT_EQ(diffs[2].kind, PoolChange::kRemoved);
  EXPECT_TRUE(MovesKeys(diffs[2]));
  EXPECT_EQ(diffs[2].servers_removed.size(), 2u);
  EXPECT_EQ(SummaryLine(diffs[2]), "pool beta: removed (2 servers): its keys are no longer served");
  // Exact share in the summary: count and percentage.
  const std::string line = SummaryLine(diffs[0]);
  EXPECT_NE(line.find(absl::StrCat(Percent(diffs[0].moved, kHashSpace),
                                   " of the hash space moves (", diffs[0].moved,
                                   " of 4294967296)")),
            std::string::npos)
      << line;
  EXPECT_EQ(Percent(1, 8), "12.5000%");
}

}  // namespace
}  // namespace proxy::config

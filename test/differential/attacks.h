// Attack inputs for the differential framing fuzzer (differential_fuzz_test.cc): generated and
// mutated request byte streams of both protocols, built to find every place where the proxy's
// request parser and the backend's (redis-server, memcached) could frame the same bytes
// differently. Everything is drawn from an explicit Rng, so a seed gives the same inputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace proxy::test::differential {

// A small deterministic random source (mt19937_64 with the helpers the generators need).
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  uint64_t Next() { return engine_(); }
  // Uniform in [0, n); 0 when n == 0.
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(engine_() % n); }
  // Uniform in [lo, hi].
  size_t Between(size_t lo, size_t hi) { return lo + Below(hi - lo + 1); }
  // True with probability `percent` / 100.
  bool Percent(unsigned percent) { return Below(100) < percent; }
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[Below(items.size())];
  }

 private:
  std::mt19937_64 engine_;
};

// What an attack input is for; the test treats a few kinds specially.
enum class AttackKind {
  kPlain,        // anything: generated, maybe mutated
  kTransaction,  // a canonical MULTI block: its writes take effect all together or not at all
                 // (fresh connection)
};

struct AttackInput {
  std::string bytes;
  AttackKind kind = AttackKind::kPlain;
  // For kTransaction: the keys written inside the MULTI ... EXEC/DISCARD block, and whether it
  // ends with EXEC (all keys or none may exist afterwards: none when they live on different
  // servers) or DISCARD (none may exist).
  std::vector<std::string> transaction_keys;
  bool transaction_commits = false;
};

struct AttackOptions {
  // The pool's filter chain has no reject_unsupported: commands that the user's chain then
  // legitimately forwards but that would destroy the test's own evidence (FLUSHALL, CONFIG,
  // flush_all, ...) are not sent there (see Scrub()). Connection-mode commands (MULTI,
  // SUBSCRIBE, CLIENT REPLY, watch, ...) still are: the protocol must refuse them whatever the
  // chain says.
  bool no_reject_filter = false;
  // Distinct name of the pool, used to keep transaction keys unique.
  std::string pool;
  // Classes of input not to generate (to tell one bug from another, DIFF_FUZZ_SKIP):
  //   transaction  the canonical refused-MULTI blocks whose writes are checked (finding 6)
  //   mode         connection-mode and blocking redis commands (MULTI, SUBSCRIBE, BLPOP, ...)
  //   nul          NUL bytes (every NUL becomes 'z')
  //   many_keys    multi-gets / MGET with hundreds or thousands of keys
  //   many_flags   meta commands with 15 or more flags
  std::set<std::string> skip;
  bool Skips(const char* what) const { return skip.count(what) > 0; }
};

// One redis attack input: RESP arrays and inline commands, pipelines, MULTI/SUBSCRIBE/MONITOR/
// CLIENT REPLY/blocking commands, RESP headers with signs, zeros, spaces and huge or negative
// counts, control bytes (NUL/CR/LF) anywhere, long inline lines.
AttackInput RedisAttack(Rng& rng, const AttackOptions& options, uint64_t serial);

// One memcache attack input: storage commands with matching or lying data lengths and data
// blocks that are themselves commands, noreply anywhere, meta commands with many or invalid
// flags and quiet mode, gat/gats with thousands of keys, lines over 2048 bytes, huge or negative
// numbers, control bytes (NUL/CR/LF) anywhere, the binary protocol's magic byte.
AttackInput MemcacheAttack(Rng& rng, const AttackOptions& options, uint64_t serial);

// Random byte-level mutations (insert a control byte, delete/duplicate/overwrite a range, change
// a number, insert a whole command): 1 to 4 of them.
void Mutate(Rng& rng, bool redis, std::string* bytes);

// Removes what must not reach a pool without reject_unsupported (see AttackOptions).
void Scrub(bool redis, std::string* bytes);

// Where to cut `size` bytes into separate writes (sorted offsets strictly inside (0, size)).
std::vector<size_t> SplitPoints(Rng& rng, size_t size);

}  // namespace proxy::test::differential

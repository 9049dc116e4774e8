// The golden distribution vectors (test/golden/README.md) as the end-to-end tests use them: the
// key -> server rows of one (distribution, hash, hash_tag) combination, and the YAML server
// entries that make a pool of real backends place keys exactly as the vectors say.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace proxy::test {

struct Combination {
  std::string distribution;
  std::string hash;
  std::string hash_tag;
  std::vector<std::string> servers;               // the YAML entries, configuration order
  std::vector<std::pair<std::string, int>> rows;  // key, server_index
};

// All (distribution, hash, hash_tag) groups of one server set of
// test/golden/distribution_vectors.tsv (a data dependency of the test), in file order. An
// inconsistent row is a test failure.
std::vector<Combination> LoadServerSet(absl::string_view set);

// The s3_named set (3 servers cache-a/b/c): node names decide placement, so the vectors hold
// for any addresses.
const std::vector<Combination>& Named3();
// The s3_named combination, or nullptr.
const Combination* FindNamed3(absl::string_view distribution, absl::string_view hash,
                              absl::string_view hash_tag);

// "127.0.0.1:32011:1 cache-a" -> "127.0.0.1:<port>:1 cache-a" (same weight and node name).
std::string WithPort(absl::string_view entry, int port);
// The combination's server entries, the i-th on ports[i].
std::vector<std::string> NamedServers(const Combination& combo, const std::vector<int>& ports);

// Keys of `combo` owned by server `owner` (or by any other server when `others`), in file order;
// only those `accept` takes when it is given (e.g. what memcache accepts as a key).
std::vector<std::string> KeysOf(const Combination& combo, int owner, bool others = false,
                                bool (*accept)(absl::string_view) = nullptr);
// The server index of `key`, or -1 when the combination has no such key.
int OwnerOf(const Combination& combo, absl::string_view key);

}  // namespace proxy::test

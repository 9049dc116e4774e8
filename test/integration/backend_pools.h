// Pools of real backends for the end-to-end tests: starting several servers, the YAML of
// pools, and the golden distribution vectors (test/golden/README.md): the key -> server rows of
// one (distribution, hash, hash_tag) combination, and the server entries that make a pool of
// real backends place keys exactly as the vectors say.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"

namespace proxy::test {

// `n` servers (RedisServer, MemcachedServer) on free ports, `extra` their command-line
// arguments; one that did not start is a test failure (and returned all the same).
template <typename Server>
std::vector<std::unique_ptr<Server>> StartServers(int n,
                                                  const std::vector<std::string>& extra = {}) {
  std::vector<std::unique_ptr<Server>> servers;
  for (int i = 0; i < n; ++i) {
    servers.push_back(std::make_unique<Server>(extra));
    if (!servers.back()->ok()) {
      ADD_FAILURE() << "backend " << i << " did not start on port " << servers.back()->port();
    }
  }
  return servers;
}

template <typename Server>
bool AllOk(const std::vector<std::unique_ptr<Server>>& servers) {
  return std::all_of(servers.begin(), servers.end(), [](const auto& s) { return s->ok(); });
}

template <typename Server>
std::vector<int> Ports(const std::vector<std::unique_ptr<Server>>& servers) {
  std::vector<int> ports;
  for (const auto& s : servers) ports.push_back(s->port());
  return ports;
}

// One pool of a nutcracker.yml.
struct TestPool {
  std::string name;
  int port;
  std::vector<std::pair<std::string, std::string>> options;  // written as "key: value"
  std::vector<std::string> servers;                          // written as "- entry"
};
// The YAML of `pools`, each with `redis: true` when `redis` (memcache pools have no such line).
std::string PoolsYaml(const std::vector<TestPool>& pools, bool redis);

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

#include "test/integration/backend_pools.h"

#include <fstream>
#include <map>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace proxy::test {

std::string PoolsYaml(const std::vector<TestPool>& pools, bool redis) {
  std::string yaml;
  for (const TestPool& pool : pools) {
    absl::StrAppend(&yaml, pool.name, ":\n  listen: 127.0.0.1:", pool.port, "\n",
                    redis ? "  redis: true\n" : "");
    for (const auto& [key, value] : pool.options) {
      absl::StrAppend(&yaml, "  ", key, ": ", value, "\n");
    }
    absl::StrAppend(&yaml, "  servers:\n");
    for (const std::string& server : pool.servers) absl::StrAppend(&yaml, "   - ", server, "\n");
  }
  return yaml;
}

std::vector<Combination> LoadServerSet(absl::string_view set) {
  std::ifstream in(Runfile("test/golden/distribution_vectors.tsv"));
  std::vector<Combination> combos;
  std::map<std::tuple<std::string, std::string, std::string>, size_t> index;
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {
      header = false;
      continue;
    }
    // server_set servers distribution hash hash_tag key server_index server internal_index
    const std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() != 9 || f[0] != set) continue;
    const auto id = std::make_tuple(f[2], f[3], f[4]);
    auto it = index.find(id);
    if (it == index.end()) {
      it = index.emplace(id, combos.size()).first;
      combos.push_back(Combination{f[2], f[3], f[4], absl::StrSplit(f[1], '|'), {}});
    }
    int server_index = -1;
    Combination& combo = combos[it->second];
    if (!absl::SimpleAtoi(f[6], &server_index) || server_index < 0 ||
        static_cast<size_t>(server_index) >= combo.servers.size() ||
        combo.servers[static_cast<size_t>(server_index)] != f[7]) {
      ADD_FAILURE() << "inconsistent vector row: " << line;
      continue;
    }
    combo.rows.emplace_back(f[5], server_index);
  }
  return combos;
}

const std::vector<Combination>& Named3() {
  static const std::vector<Combination>* combos =
      new std::vector<Combination>(LoadServerSet("s3_named"));
  return *combos;
}

const Combination* FindNamed3(absl::string_view distribution, absl::string_view hash,
                              absl::string_view hash_tag) {
  for (const Combination& c : Named3()) {
    if (c.distribution == distribution && c.hash == hash && c.hash_tag == hash_tag) return &c;
  }
  return nullptr;
}

std::string WithPort(absl::string_view entry, int port) {
  const size_t space = entry.rfind(' ');
  EXPECT_NE(space, absl::string_view::npos) << "server entry without a node name: " << entry;
  const absl::string_view address = entry.substr(0, space);
  const absl::string_view weight = address.substr(address.rfind(':') + 1);
  return absl::StrCat("127.0.0.1:", port, ":", weight, " ", entry.substr(space + 1));
}

std::vector<std::string> NamedServers(const Combination& combo, const std::vector<int>& ports) {
  std::vector<std::string> entries;
  for (size_t i = 0; i < combo.servers.size(); ++i) {
    entries.push_back(WithPort(combo.servers[i], ports[i]));
  }
  return entries;
}

std::vector<std::string> KeysOf(const Combination& combo, int owner, bool others,
                                bool (*accept)(absl::string_view)) {
  std::vector<std::string> keys;
  for (const auto& [key, index] : combo.rows) {
    if ((accept == nullptr || accept(key)) && (index == owner) != others) keys.push_back(key);
  }
  return keys;
}

int OwnerOf(const Combination& combo, absl::string_view key) {
  for (const auto& [k, index] : combo.rows) {
    if (k == key) return index;
  }
  return -1;
}

}  // namespace proxy::test

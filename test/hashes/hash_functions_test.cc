// Golden-vector tests for the 12 hash plugins, each obtained through the registry by its name.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "api/hash.h"
#include "api/registry.h"
#include "gtest/gtest.h"
#include "hashes/functions/crc16.h"
#include "hashes/functions/crc32.h"
#include "hashes/functions/crc32a.h"
#include "hashes/functions/fnv1_32.h"
#include "hashes/functions/fnv1_64.h"
#include "hashes/functions/fnv1a_32.h"
#include "hashes/functions/fnv1a_64.h"
#include "hashes/functions/hsieh.h"
#include "hashes/functions/jenkins.h"
#include "hashes/functions/md5.h"
#include "hashes/functions/murmur.h"
#include "hashes/functions/one_at_a_time.h"
#include "test/hashes/golden_tsv.h"

namespace proxy::hashes {
namespace {

using HashRegistry = Registry<HashFunctionFactory>;

// The `hash:` values twemproxy accepts, sorted as Registry::Names() returns them.
const std::vector<std::string> kHashNames = {
    "crc16",    "crc32", "crc32a",  "fnv1_32", "fnv1_64", "fnv1a_32",
    "fnv1a_64", "hsieh", "jenkins", "md5",     "murmur",  "one_at_a_time",
};

// One instance per name, created through the registry.
class RegisteredHashes {
 public:
  const HashFunction* Get(const std::string& name) {
    auto it = hashes_.find(name);
    if (it == hashes_.end()) {
      const HashFunctionFactory* factory = HashRegistry::Find(name);
      if (factory == nullptr) {
        return nullptr;
      }
      it = hashes_.emplace(name, factory->Create()).first;
    }
    return it->second.get();
  }

 private:
  std::map<std::string, HashFunctionPtr> hashes_;
};

// Checks every row (hash_name, key, value) and returns how many rows were checked per name.
std::map<std::string, int> CheckRows(const std::vector<test::TsvRow>& rows, bool hex_keys) {
  RegisteredHashes hashes;
  std::map<std::string, int> checked;
  for (const test::TsvRow& row : rows) {
    const std::string& name = row[0];
    const HashFunction* hash = hashes.Get(name);
    if (hash == nullptr) {
      ADD_FAILURE() << "hash '" << name << "' is not registered";
      continue;
    }
    std::string key = row[1];
    if (hex_keys) {
      absl::StatusOr<std::string> bytes = test::DecodeHex(row[1]);
      if (!bytes.ok()) {
        ADD_FAILURE() << bytes.status();
        continue;
      }
      key = *bytes;
    }
    uint32_t want = 0;
    if (!absl::SimpleAtoi(row[2], &want)) {
      ADD_FAILURE() << "bad value '" << row[2] << "'";
      continue;
    }
    EXPECT_EQ(hash->Hash(key), want) << name << "('" << row[1] << "')";
    ++checked[name];
  }
  return checked;
}

TEST(HashFunctionsTest, RegistryHasExactlyTheTwelveTwemproxyNames) {
  EXPECT_EQ(HashRegistry::Names(), kHashNames);
  for (const std::string& name : kHashNames) {
    const HashFunctionFactory* factory = HashRegistry::Find(name);
    ASSERT_NE(factory, nullptr) << name;
    EXPECT_EQ(factory->Name(), name);
    EXPECT_FALSE(factory->Description().empty()) << name;
    EXPECT_NE(factory->Create(), nullptr) << name;
  }
}

TEST(HashFunctionsTest, MatchesEveryRowOfHashVectors) {
  absl::StatusOr<std::vector<test::TsvRow>> rows =
      test::ReadGoldenTsv("hash_vectors.tsv", {"hash_name", "key", "value"});
  ASSERT_TRUE(rows.ok()) << rows.status();
  const std::map<std::string, int> checked = CheckRows(*rows, /*hex_keys=*/false);
  int total = 0;
  for (const std::string& name : kHashNames) {
    EXPECT_EQ(checked.count(name) ? checked.at(name) : 0, 62) << name;
    total += checked.count(name) ? checked.at(name) : 0;
  }
  EXPECT_EQ(total, 744);
}

TEST(HashFunctionsTest, MatchesEveryRowOfHexHashVectors) {
  absl::StatusOr<std::vector<test::TsvRow>> rows =
      test::ReadGoldenTsv("hash_vectors_hex.tsv", {"hash_name", "key_hex", "value"});
  ASSERT_TRUE(rows.ok()) << rows.status();
  const std::map<std::string, int> checked = CheckRows(*rows, /*hex_keys=*/true);
  int total = 0;
  for (const std::string& name : kHashNames) {
    EXPECT_EQ(checked.count(name) ? checked.at(name) : 0, 18) << name;
    total += checked.count(name) ? checked.at(name) : 0;
  }
  EXPECT_EQ(total, 216);
}

TEST(HashFunctionsTest, MatchesSpecSpotValuesForFoo) {
  const std::map<std::string, uint32_t> want = {
      {"one_at_a_time", 596015325}, {"md5", 3675831724},
      {"crc16", 205303702},         {"crc32", 3187},
      {"crc32a", 2356372769},       {"fnv1_64", 1805727027},
      {"fnv1a_64", 4275688823},     {"fnv1_32", 1083137555},
      {"fnv1a_32", 2851307223},     {"hsieh", 1993659431},
      {"murmur", 3303027599},       {"jenkins", 2583187353},
  };
  ASSERT_EQ(want.size(), 12u);
  RegisteredHashes hashes;
  for (const auto& [name, value] : want) {
    const HashFunction* hash = hashes.Get(name);
    ASSERT_NE(hash, nullptr) << name;
    EXPECT_EQ(hash->Hash("foo"), value) << name;
  }
}

TEST(HashFunctionsTest, PlainFunctionsAgreeWithPlugins) {
  const std::map<std::string, uint32_t (*)(absl::string_view)> functions = {
      {"one_at_a_time", &OneAtATimeHash},
      {"md5", &Md5Hash},
      {"crc16", &Crc16Hash},
      {"crc32", &Crc32Hash},
      {"crc32a", &Crc32aHash},
      {"fnv1_64", &Fnv1Hash64},
      {"fnv1a_64", &Fnv1aHash64},
      {"fnv1_32", &Fnv1Hash32},
      {"fnv1a_32", &Fnv1aHash32},
      {"hsieh", &HsiehHash},
      {"murmur", &MurmurHash},
      {"jenkins", &JenkinsHash},
  };
  RegisteredHashes hashes;
  for (const auto& [name, function] : functions) {
    const HashFunction* hash = hashes.Get(name);
    ASSERT_NE(hash, nullptr) << name;
    for (absl::string_view key : {"", "a", "foo", "user:{1000}:name", "\x80\xff\x01 tail"}) {
      EXPECT_EQ(function(key), hash->Hash(key)) << name << "('" << key << "')";
    }
  }
}

TEST(HashFunctionsTest, ResultDoesNotDependOnKeyAlignment) {
  const std::string key = "alignment-check-key\xc3\xa9\xff-0123456789";
  RegisteredHashes hashes;
  for (const std::string& name : kHashNames) {
    const HashFunction* hash = hashes.Get(name);
    ASSERT_NE(hash, nullptr) << name;
    const uint32_t want = hash->Hash(key);
    for (size_t offset = 1; offset < 8; ++offset) {
      const std::string buffer = std::string(offset, '#') + key;
      EXPECT_EQ(hash->Hash(absl::string_view(buffer).substr(offset)), want)
          << name << " at offset " << offset;
    }
  }
}

}  // namespace
}  // namespace proxy::hashes

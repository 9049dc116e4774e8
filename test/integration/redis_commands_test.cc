// End-to-end tests of the redis data path: real redis-server backends on free 127.0.0.1 ports
// behind the real //:proxy binary. Covers every command class of the command table (replies
// compared with what redis itself answers), the multi-key splits of 4.3, a 10,000-command
// pipeline, 64 MiB and binary values, AUTH/redis_auth/redis_db (4.5, 4.6), the proxy's own
// error replies (unsupported commands, wrong arity, protocol errors, client_connections), QUIT
// and half-close, and redis-cli / redis-benchmark running against the proxy.
//
// Every process is started by the test itself and stopped by the harness destructors; waits
// are polls with deadlines, never sleeps.
#include <algorithm>
#include <csignal>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"
#include "test/integration/proxied_redis.h"
#include "test/integration/redis_command_cases.h"

namespace proxy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kOk[] = "+OK\r\n";
constexpr char kPong[] = "+PONG\r\n";
constexpr char kNil[] = "$-1\r\n";
constexpr char kNoAuth[] = "-NOAUTH Authentication required\r\n";
constexpr char kInvalidPassword[] = "-ERR invalid password\r\n";

// A string literal with its embedded NULs (without the terminating one).
template <size_t N>
std::string Lit(const char (&s)[N]) {
  return std::string(s, N - 1);
}

std::string Bulk(absl::string_view s) { return absl::StrCat("$", s.size(), "\r\n", s, "\r\n"); }
std::string Int(int64_t n) { return absl::StrCat(":", n, "\r\n"); }
std::string Array(const std::vector<std::string>& elements) {
  return absl::StrCat("*", elements.size(), "\r\n", absl::StrJoin(elements, ""));
}

// Deterministic pseudo-random bytes (so a reordering or a lost chunk cannot go unnoticed).
std::string PatternBytes(size_t size, uint32_t seed) {
  std::string out(size, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < size; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    out[i] = static_cast<char>(x >> 56);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Every command class (test/integration/redis_command_cases.h), compared with a standalone
// reference redis that receives the same sequence, and (for reads) with the backend that owns
// the key.

TEST(RedisCommandsTest, EveryCommandClassMatchesRedis) {
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start());
  RedisServer reference;
  ASSERT_TRUE(reference.ok()) << "reference redis-server did not start";
  Client ref(reference.port());
  auto client = cluster.Connect();
  ASSERT_TRUE(client->connected());

  std::set<std::string> keys;
  for (const Case& test : CommandCases()) {
    const std::string got = client->Command(test.args);
    const std::string want = ref.Command(test.args);
    ASSERT_FALSE(got.empty()) << "no reply through the proxy to " << ShowArgs(test.args);
    EXPECT_EQ(ShowBytes(got), ShowBytes(want))
        << "through the proxy vs redis: " << ShowArgs(test.args);
    if (test.key_at > 0 && static_cast<size_t>(test.key_at) < test.args.size()) {
      const std::string& key = test.args[test.key_at];
      keys.insert(key);
      if (test.read_only) {
        const int owner = cluster.OwnerOf(key);
        if (owner >= 0) {
          EXPECT_EQ(ShowBytes(got), ShowBytes(cluster.backend(owner).Command(test.args)))
              << "through the proxy vs directly on the owner (backend " << owner
              << "): " << ShowArgs(test.args);
        }
      }
    }
  }

  // EVALSHA of a script the backend cached through the EVAL above (its sha from redis).
  const std::string sha = ref.Command({"SCRIPT", "LOAD", "return redis.call('GET', KEYS[1])"});
  ASSERT_EQ(sha.size(), 47u) << ShowBytes(sha);
  const std::vector<std::string> evalsha = {"EVALSHA", sha.substr(5, 40), "1", "ev:1"};
  EXPECT_EQ(ShowBytes(client->Command(evalsha)), ShowBytes(ref.Command(evalsha)));
  const std::vector<std::string> noscript = {"EVALSHA", std::string(40, 'f'), "1", "ev:1"};
  EXPECT_EQ(ShowBytes(client->Command(noscript)), ShowBytes(ref.Command(noscript)));

  // PTTL cannot be compared byte for byte: check the range.
  ASSERT_EQ(client->Command({"PEXPIRE", "ex:2", "100000"}), ":0\r\n");
  ASSERT_EQ(client->Command({"SET", "ex:2", "v", "PX", "100000"}), kOk);
  const std::string pttl = client->Command({"PTTL", "ex:2"});
  int64_t ms = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripSuffix(absl::StripPrefix(pttl, ":"), "\r\n"), &ms))
      << ShowBytes(pttl);
  EXPECT_GT(ms, 90000);
  EXPECT_LE(ms, 100000);

  // COMMAND is forwarded: the whole table of the backend it went to (the table's order varies
  // between redis processes, so it matches exactly one of them or at least one).
  const std::string table = client->Command({"COMMAND"});
  EXPECT_TRUE(absl::StartsWith(table, "*")) << ShowBytes(table);
  EXPECT_GT(table.size(), 10000u) << ShowBytes(table);
  bool matched = false;
  for (size_t i = 0; i < cluster.size(); ++i) {
    matched |= cluster.backend(i).Command({"COMMAND"}) == table;
  }
  EXPECT_TRUE(matched) << "COMMAND's reply is not any backend's own: " << ShowBytes(table);

  // Every key that redis still has lives on exactly one backend, with the same contents.
  std::set<int> owners;
  for (const std::string& key : keys) {
    const bool exists = ref.Command({"EXISTS", key}) == ":1\r\n";
    const int owner = cluster.OwnerOf(key);
    if (!exists) {
      EXPECT_EQ(owner, -1) << "deleted key " << ShowBytes(key) << " is still on a backend";
      continue;
    }
    ASSERT_GE(owner, 0) << "key " << ShowBytes(key) << " is on " << (owner == -1 ? "no" : "several")
                        << " backends";
    owners.insert(owner);
    const std::string type = ref.Command({"TYPE", key});
    EXPECT_EQ(cluster.backend(owner).Command({"TYPE", key}), type) << ShowBytes(key);
    if (type != "+set\r\n") {  // a hashtable set's DUMP order depends on the process's seed
      EXPECT_EQ(ShowBytes(cluster.backend(owner).Command({"DUMP", key})),
                ShowBytes(ref.Command({"DUMP", key})))
          << "contents of " << ShowBytes(key);
    }
  }
  EXPECT_EQ(owners.size(), cluster.size()) << "the keys did not spread over every backend";
}

// ---------------------------------------------------------------------------------------------
// Split commands (4.3): MSET/MGET/DEL/UNLINK/TOUCH/EXISTS over 3 servers, merged in key order.

TEST(RedisCommandsTest, MultiKeyCommandsSplitAcrossServersAndMergeInKeyOrder) {
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start());
  auto client = cluster.Connect();
  constexpr int kKeys = 30;
  // fnv1a_64 clusters keys that differ only in their last bytes ("multi:1", "multi:2"...
  // all land on one server); a suffix after the number spreads them.
  auto key = [](int i) { return absl::StrCat("multi:", i, ":k"); };
  auto value = [](int i) { return absl::StrCat("value-", i, std::string(i, 'x')); };

  std::vector<std::string> mset = {"MSET"};
  for (int i = 0; i < kKeys; ++i) {
    mset.push_back(key(i));
    mset.push_back(value(i));
  }
  ASSERT_EQ(client->Command(mset), kOk);

  // Each key on exactly one backend, with its value; all backends used.
  std::map<int, int> per_backend;
  for (int i = 0; i < kKeys; ++i) {
    const int owner = cluster.OwnerOf(key(i));
    ASSERT_GE(owner, 0) << key(i);
    ++per_backend[owner];
    EXPECT_EQ(cluster.backend(owner).Command({"GET", key(i)}), Bulk(value(i)));
  }
  EXPECT_EQ(per_backend.size(), cluster.size()) << "MSET did not spread over every backend";

  // MGET: shuffled order, missing keys and duplicates, reply in request order.
  std::vector<std::string> mget = {"MGET"};
  std::vector<std::string> want;
  for (int j = 0; j < kKeys; ++j) {
    const int i = (j * 7 + 3) % kKeys;
    mget.push_back(key(i));
    want.push_back(Bulk(value(i)));
    if (j % 5 == 0) {
      mget.push_back(absl::StrCat("missing:", j));
      want.push_back(kNil);
    }
    if (j % 6 == 0) {
      mget.push_back(key(i));
      want.push_back(Bulk(value(i)));
    }
  }
  EXPECT_EQ(ShowBytes(client->Command(mget), 2000), ShowBytes(Array(want), 2000));
  EXPECT_EQ(client->Command({"MGET", key(4)}), Array({Bulk(value(4))}));
  EXPECT_EQ(client->Command({"mget", "missing:x", "missing:y"}), Array({kNil, kNil}));

  // EXISTS counts every argument (duplicates included), summed over servers.
  std::vector<std::string> exists = {"EXISTS"};
  for (int i = 0; i < kKeys; ++i) exists.push_back(key(i));
  exists.push_back(key(0));
  exists.push_back(key(17));
  exists.push_back("missing:1");
  EXPECT_EQ(client->Command(exists), Int(kKeys + 2));

  std::vector<std::string> touch = {"TOUCH", "missing:1"};
  for (int i = 0; i < 10; ++i) touch.push_back(key(i));
  EXPECT_EQ(client->Command(touch), Int(10));
  std::vector<std::string> unlink = {"UNLINK"};
  for (int i = 0; i < 10; ++i) unlink.push_back(key(i));
  unlink.push_back("missing:2");
  EXPECT_EQ(client->Command(unlink), Int(10));
  std::vector<std::string> del = {"DEL"};
  for (int i = 10; i < kKeys; ++i) del.push_back(key(i));
  del.push_back("missing:3");
  EXPECT_EQ(client->Command(del), Int(kKeys - 10));
  EXPECT_EQ(client->Command(del), Int(0));
  for (int i = 0; i < kKeys; ++i) EXPECT_EQ(cluster.OwnerOf(key(i)), -1) << key(i);
  std::vector<std::string> all_nil(kKeys, kNil);
  std::vector<std::string> mget_all = {"MGET"};
  for (int i = 0; i < kKeys; ++i) mget_all.push_back(key(i));
  EXPECT_EQ(client->Command(mget_all), Array(all_nil));

  // A repeated key in one MSET: the last value wins, as in redis.
  EXPECT_EQ(client->Command({"MSET", "dup", "1", key(1), "a", "dup", "2"}), kOk);
  EXPECT_EQ(client->Command({"MGET", "dup", key(1)}), Array({Bulk("2"), Bulk("a")}));
  // Odd MSET arguments: redis's arity error, connection open.
  EXPECT_EQ(client->Command({"MSET", "a", "1", "b"}),
            "-ERR wrong number of arguments for 'mset' command\r\n");
  EXPECT_EQ(client->Command({"DEL"}), "-ERR wrong number of arguments for 'del' command\r\n");
  EXPECT_EQ(client->Command({"PING"}), kPong);
}

// Commands whose keys must be on one server: refused with -ERR when they are not (twemproxy
// answers from the first key's server), executed when a hash tag keeps them together.
TEST(RedisCommandsTest, CrossServerMultiKeyCommandsAreRefusedUnlessColocated) {
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start());
  auto client = cluster.Connect();
  const std::vector<std::string> keys = cluster.KeysOnDistinctServers(*client, "apart:", 2);
  ASSERT_EQ(keys.size(), 2u);
  const std::string& a = keys[0];
  const std::string& b = keys[1];
  ASSERT_EQ(client->Command({"RPUSH", a, "1"}), ":1\r\n");
  ASSERT_EQ(client->Command({"RPUSH", b, "2"}), ":1\r\n");

  const std::vector<std::vector<std::string>> refused = {
      {"SINTER", a, b},
      {"SUNIONSTORE", a, b},
      {"RENAME", a, b},
      {"RPOPLPUSH", a, b},
      {"LMOVE", a, b, "LEFT", "RIGHT"},
      {"SMOVE", a, b, "1"},
      {"PFCOUNT", a, b},
      {"MSETNX", a, "1", b, "2"},
      {"ZUNIONSTORE", a, "1", b},
      {"EVAL", "return redis.call('RPOPLPUSH', KEYS[1], KEYS[2])", "2", a, b},
  };
  for (const auto& args : refused) {
    const std::string reply = client->Command(args);
    EXPECT_TRUE(absl::StartsWith(reply, "-ERR ") && absl::StrContains(reply, "different servers"))
        << ShowArgs(args) << " -> " << ShowBytes(reply);
    const std::string ping = client->Command({"PING"});
    EXPECT_EQ(ping, kPong) << "connection out of step after the refusal of " << ShowArgs(args);
    if (ping != kPong) break;  // the rest would only repeat the same failure
  }
  // Nothing was executed.
  EXPECT_EQ(client->Command({"LRANGE", a, "0", "-1"}), Array({Bulk("1")}));
  EXPECT_EQ(client->Command({"LRANGE", b, "0", "-1"}), Array({Bulk("2")}));

  // The same commands on colocated keys work.
  ASSERT_EQ(client->Command({"RPUSH", "{t}a", "1", "2"}), ":2\r\n");
  EXPECT_EQ(client->Command({"RPOPLPUSH", "{t}a", "{t}b"}), Bulk("2"));
  EXPECT_EQ(client->Command({"RENAME", "{t}b", "{t}c"}), kOk);
  EXPECT_EQ(client->Command(
                {"EVAL", "return redis.call('RPOPLPUSH', KEYS[1], KEYS[2])", "2", "{t}a", "{t}c"}),
            Bulk("1"));
  EXPECT_EQ(client->Command({"LRANGE", "{t}c", "0", "-1"}), Array({Bulk("1"), Bulk("2")}));
  const int owner = cluster.OwnerOf("{t}c");
  ASSERT_GE(owner, 0);
  EXPECT_EQ(cluster.backend(owner).Command({"LRANGE", "{t}c", "0", "-1"}),
            Array({Bulk("1"), Bulk("2")}));
}

// ---------------------------------------------------------------------------------------------
// 10,000 mixed commands written in one go on one connection; replies in order and correct.

TEST(RedisCommandsTest, PipelineOfTenThousandMixedCommands) {
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start());
  auto client = cluster.Connect(milliseconds(20000));
  constexpr int kCommands = 10000;
  std::map<std::string, std::string> strings;  // the model of what redis holds
  std::map<std::string, int64_t> counters;
  auto skey = [](int n) { return absl::StrCat("pipe:s:", n % 53, ":k"); };
  std::string wire;
  std::vector<std::string> want;
  want.reserve(kCommands);
  for (int i = 0; i < kCommands; ++i) {
    std::vector<std::string> args;
    switch (i % 9) {
      case 0:
      case 1: {
        const std::string k = skey(i * 31);
        const std::string v = absl::StrCat("v", i);
        args = {"SET", k, v};
        strings[k] = v;
        want.push_back(kOk);
        break;
      }
      case 2: {
        const std::string k = skey(i * 17);
        args = {"GET", k};
        auto it = strings.find(k);
        want.push_back(it == strings.end() ? kNil : Bulk(it->second));
        break;
      }
      case 3: {
        const std::string k = absl::StrCat("pipe:c:", i % 13);
        args = {"INCR", k};
        want.push_back(Int(++counters[k]));
        break;
      }
      case 4: {
        args = {"MGET"};
        std::vector<std::string> elements;
        for (int j = 0; j < 1 + i % 6; ++j) {
          const std::string k = skey(i + j * 11);
          args.push_back(k);
          auto it = strings.find(k);
          elements.push_back(it == strings.end() ? kNil : Bulk(it->second));
        }
        want.push_back(Array(elements));
        break;
      }
      case 5: {
        const std::string k = skey(i * 7);
        args = {"DEL", k, skey(i * 7 + 1)};
        int64_t n = strings.erase(k);
        if (skey(i * 7 + 1) != k) n += strings.erase(skey(i * 7 + 1));
        want.push_back(Int(n));
        break;
      }
      case 6:
        args = {"PING"};
        want.push_back(kPong);
        break;
      case 7: {
        args = {"MSET", skey(i), absl::StrCat("m", i), skey(i + 5), absl::StrCat("n", i)};
        strings[skey(i)] = absl::StrCat("m", i);
        strings[skey(i + 5)] = absl::StrCat("n", i);
        want.push_back(kOk);
        break;
      }
      default: {
        args = {"EXISTS", skey(i), skey(i + 20), "pipe:none"};
        want.push_back(
            Int(static_cast<int64_t>(strings.count(skey(i)) + strings.count(skey(i + 20)))));
        break;
      }
    }
    wire += Resp(args);
  }

  bool sent = false;
  std::thread sender([&] { sent = client->Send(wire); });  // one write while we read
  int mismatches = 0;
  int received = 0;
  for (int i = 0; i < kCommands; ++i) {
    const std::string reply = client->ReadReply();
    if (reply.empty()) break;
    ++received;
    if (reply != want[i] && ++mismatches <= 5) {
      ADD_FAILURE() << "reply " << i << ": got " << ShowBytes(reply) << ", expected "
                    << ShowBytes(want[i]);
    }
  }
  sender.join();
  EXPECT_TRUE(sent);
  EXPECT_EQ(received, kCommands);
  EXPECT_EQ(mismatches, 0);
  // And the backends hold the model's final state.
  for (const auto& [k, v] : strings) {
    const int owner = cluster.OwnerOf(k);
    ASSERT_GE(owner, 0) << k;
    EXPECT_EQ(cluster.backend(owner).Command({"GET", k}), Bulk(v)) << k;
  }
}

// Replies that come back before the replies ahead of them wait in the proxy: short ones as a
// copy, long ones as buffer chains (core/proxy/tuning.h, kHeldReplyCopyBytes). The first
// server is stopped so that every other reply of the pipeline must wait, whatever its size
// around that threshold, and the client still gets each reply whole and in order.
TEST(RedisCommandsTest, RepliesHeldForOrderingKeepTheirBytesAtEverySize) {
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start());
  auto client = cluster.Connect(milliseconds(20000));
  const std::vector<std::string> keys = cluster.KeysOnDistinctServers(*client, "held:", 3);
  ASSERT_EQ(keys.size(), 3u);
  // Values whose replies ("$N\r\n" + N bytes + "\r\n") fall on both sides of 512 bytes, and
  // one far beyond it.
  std::vector<size_t> sizes;
  for (size_t n = 480; n <= 520; ++n) sizes.push_back(n);
  sizes.push_back(0);
  sizes.push_back(1);
  sizes.push_back(4096);
  sizes.push_back(300000);
  std::string wire = Resp({"SET", keys[0], "head"});
  std::vector<std::string> values;
  for (size_t i = 0; i < sizes.size(); ++i) {
    values.push_back(std::string(sizes[i], static_cast<char>('a' + i % 26)));
    wire += Resp({"SET", absl::StrCat(keys[1 + i % 2], ":", i), values.back()});
  }
  ASSERT_TRUE(client->Send(wire));
  for (size_t i = 0; i <= sizes.size(); ++i) ASSERT_EQ(client->ReadReply(), kOk) << i;
  // The keys with a ":i" suffix are placed by their own hash: find where each lives.
  std::vector<int> owners;
  for (size_t i = 0; i < sizes.size(); ++i) {
    owners.push_back(cluster.OwnerOf(absl::StrCat(keys[1 + i % 2], ":", i)));
    ASSERT_GE(owners.back(), 0);
  }
  const int stopped = cluster.OwnerOf(keys[0]);
  ASSERT_GE(stopped, 0);
  // GET of the stopped server's key first, then every value; the replies of the other servers
  // arrive first and are held.
  int64_t before[8] = {};
  for (size_t s = 0; s < cluster.size(); ++s) {
    before[s] = RedisInfoField(cluster.backend(s), "stats", "total_commands_processed");
  }
  int64_t expected[8] = {};
  wire = Resp({"GET", keys[0]});
  for (size_t i = 0; i < sizes.size(); ++i) {
    wire += Resp({"GET", absl::StrCat(keys[1 + i % 2], ":", i)});
    ++expected[owners[i]];
  }
  cluster.redis(static_cast<size_t>(stopped)).process().Kill(SIGSTOP);
  ASSERT_TRUE(client->Send(wire));
  // Every running server has answered its GETs (its count includes our INFO requests too).
  for (size_t s = 0; s < cluster.size(); ++s) {
    if (static_cast<int>(s) == stopped || expected[s] == 0) continue;
    EXPECT_TRUE(WaitUntil(
        [&] {
          return RedisInfoField(cluster.backend(s), "stats", "total_commands_processed") >=
                 before[s] + expected[s];
        },
        seconds(10)))
        << "server " << s;
  }
  cluster.redis(static_cast<size_t>(stopped)).process().Kill(SIGCONT);
  EXPECT_EQ(client->ReadReply(), Bulk("head"));
  for (size_t i = 0; i < sizes.size(); ++i) {
    const std::string reply = client->ReadReply();
    EXPECT_EQ(reply.size(), Bulk(values[i]).size()) << "value of " << sizes[i] << " bytes";
    EXPECT_TRUE(reply == Bulk(values[i])) << "value of " << sizes[i] << " bytes";
  }
}

// ---------------------------------------------------------------------------------------------
// Large and binary values.

TEST(RedisCommandsTest, SixtyFourMebibyteValuesRoundTrip) {
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start());
  auto client = cluster.Connect(milliseconds(60000));
  const std::string big = PatternBytes(64u << 20, 1);
  ASSERT_EQ(client->Command({"SET", "big:1", big}), kOk);
  EXPECT_TRUE(SameBytes(client->Command({"GET", "big:1"}), Bulk(big)));
  const int owner = cluster.OwnerOf("big:1");
  ASSERT_GE(owner, 0);
  EXPECT_EQ(cluster.backend(owner).Command({"STRLEN", "big:1"}), Int(64 << 20));
  EXPECT_EQ(client->Command({"DEL", "big:1"}), ":1\r\n");

  // MSET/MGET of 2 x 16 MiB on two different servers (a split request and a merged reply).
  const std::vector<std::string> keys = cluster.KeysOnDistinctServers(*client, "big:", 2);
  ASSERT_EQ(keys.size(), 2u);
  const std::string v0 = PatternBytes(16u << 20, 2);
  const std::string v1 = PatternBytes(16u << 20, 3);
  ASSERT_EQ(client->Command({"MSET", keys[0], v0, keys[1], v1}), kOk);
  EXPECT_TRUE(SameBytes(client->Command({"MGET", keys[1], "big:none", keys[0]}),
                        Array({Bulk(v1), kNil, Bulk(v0)})));
  for (size_t i = 0; i < 2; ++i) {
    const int o = cluster.OwnerOf(keys[i]);
    ASSERT_GE(o, 0);
    EXPECT_TRUE(SameBytes(cluster.backend(o).Command({"GET", keys[i]}), Bulk(i == 0 ? v0 : v1)));
  }
  EXPECT_EQ(client->Command({"PING"}), kPong);
}

TEST(RedisCommandsTest, BinaryKeysAndValuesRoundTrip) {
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start());
  auto client = cluster.Connect();
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  const std::vector<std::string> keys = {
      all_bytes, "bin:\r\n:key",         Lit("bin:\0:key"),
      Lit("\0"), "*1\r\n$4\r\nPING\r\n", Lit("bin:\xff\xfe{\0}"),
  };
  const std::string value =
      absl::StrCat(all_bytes, "\r\n", Lit("\0\0\r\n\0"), "$-1\r\n", all_bytes);
  std::set<int> owners;
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string v = absl::StrCat(value, i);
    ASSERT_EQ(client->Command({"SET", keys[i], v}), kOk) << ShowBytes(keys[i]);
    EXPECT_EQ(ShowBytes(client->Command({"GET", keys[i]})), ShowBytes(Bulk(v)));
    const int owner = cluster.OwnerOf(keys[i]);
    ASSERT_GE(owner, 0) << ShowBytes(keys[i]);
    owners.insert(owner);
    EXPECT_EQ(ShowBytes(cluster.backend(owner).Command({"GET", keys[i]})), ShowBytes(Bulk(v)));
  }
  EXPECT_GT(owners.size(), 1u);
  // The same keys through the split path.
  std::vector<std::string> mget = {"MGET"};
  std::vector<std::string> want;
  for (size_t i = keys.size(); i-- > 0;) {
    mget.push_back(keys[i]);
    want.push_back(Bulk(absl::StrCat(value, i)));
  }
  EXPECT_EQ(ShowBytes(client->Command(mget), 4000), ShowBytes(Array(want), 4000));
  std::vector<std::string> mset = {"MSET"};
  for (size_t i = 0; i < keys.size(); ++i) {
    mset.push_back(keys[i]);
    mset.push_back(absl::StrCat(all_bytes, "#", i));
  }
  EXPECT_EQ(client->Command(mset), kOk);
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(ShowBytes(client->Command({"GET", keys[i]})),
              ShowBytes(Bulk(absl::StrCat(all_bytes, "#", i))));
  }
  // Binary hash fields and members.
  const std::string hash = absl::StrCat(all_bytes, ":hash");
  EXPECT_EQ(client->Command({"HSET", hash, Lit("f\0\r\n"), value}), ":1\r\n");
  EXPECT_EQ(ShowBytes(client->Command({"HGET", hash, Lit("f\0\r\n")})), ShowBytes(Bulk(value)));
  EXPECT_EQ(client->Command({"SADD", hash + "s", Lit("\0"), "\r\n", all_bytes}), ":3\r\n");
  EXPECT_EQ(client->Command({"SISMEMBER", hash + "s", Lit("\0")}), ":1\r\n");
  EXPECT_EQ(client->Command({"DEL", hash, hash + "s"}), ":2\r\n");
  std::vector<std::string> del = {"DEL"};
  del.insert(del.end(), keys.begin(), keys.end());
  EXPECT_EQ(client->Command(del), Int(static_cast<int64_t>(keys.size())));
}

// ---------------------------------------------------------------------------------------------
// AUTH and redis_auth (4.5), redis_db (4.6).

TEST(RedisCommandsTest, RedisAuthAgainstPasswordProtectedBackends) {
  ProxiedRedis cluster;
  ProxiedRedisOptions options;
  options.redis_args = {"--requirepass", "s3cret"};
  options.password = "s3cret";
  options.pool_yaml = "  redis_auth: s3cret\n";
  ASSERT_TRUE(cluster.Start(options));
  // The backends really require it.
  Client raw(cluster.redis(0).port());
  EXPECT_EQ(raw.Command({"GET", "x"}), "-NOAUTH Authentication required.\r\n");

  auto client = cluster.Connect();
  EXPECT_EQ(client->Command({"PING"}), kNoAuth);
  EXPECT_EQ(client->Command({"GET", "auth:1"}), kNoAuth);
  EXPECT_EQ(client->Command({"SET", "auth:1", "v"}), kNoAuth);
  EXPECT_EQ(client->Command({"MGET", "auth:1", "auth:2", "auth:3"}), kNoAuth);
  EXPECT_EQ(client->Command({"KEYS", "*"}), kNoAuth);
  EXPECT_EQ(client->Command({"AUTH", "wrong"}), kInvalidPassword);
  EXPECT_EQ(client->Command({"GET", "auth:1"}), kNoAuth);
  EXPECT_EQ(client->Command({"AUTH", "s3cret"}), kOk);
  EXPECT_EQ(client->Command({"PING"}), kPong);

  // Authenticated: single keys and splits reach every backend (each one authenticated).
  std::vector<std::string> mset = {"MSET"};
  std::vector<std::string> mget = {"MGET"};
  std::vector<std::string> want;
  for (int i = 0; i < 20; ++i) {
    mset.push_back(absl::StrCat("auth:", i, ":k"));
    mset.push_back(absl::StrCat("v", i));
    mget.push_back(absl::StrCat("auth:", i, ":k"));
    want.push_back(Bulk(absl::StrCat("v", i)));
  }
  EXPECT_EQ(client->Command(mset), kOk);
  EXPECT_EQ(client->Command(mget), Array(want));
  EXPECT_EQ(client->Command({"SET", "auth:x", "y"}), kOk);
  EXPECT_EQ(client->Command({"GET", "auth:x"}), Bulk("y"));
  std::set<int> owners;
  for (int i = 0; i < 20; ++i) owners.insert(cluster.OwnerOf(absl::StrCat("auth:", i, ":k")));
  EXPECT_EQ(owners, (std::set<int>{0, 1, 2}));

  // A wrong password keeps the connection authenticated (as redis 7 does).
  EXPECT_EQ(client->Command({"AUTH", "s3cre"}), kInvalidPassword);
  EXPECT_EQ(client->Command({"GET", "auth:x"}), Bulk("y"));
  EXPECT_EQ(client->Command({"AUTH", "s3cret"}), kOk);
  EXPECT_EQ(client->Command({"GET", "auth:x"}), Bulk("y"));

  // Other clients are not authenticated by this one; QUIT needs no AUTH.
  auto other = cluster.Connect();
  EXPECT_EQ(other->Command({"GET", "auth:x"}), kNoAuth);
  EXPECT_EQ(other->Command({"QUIT"}), kOk);
  EXPECT_TRUE(other->WaitForClose());
}

TEST(RedisCommandsTest, AuthWithoutRedisAuthIsAnsweredLocally) {
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start());
  auto client = cluster.Connect();
  EXPECT_EQ(client->Command({"AUTH", "anything"}),
            "-ERR Client sent AUTH, but no password is set\r\n");
  EXPECT_EQ(client->Command({"SET", "k", "v"}), kOk);
  EXPECT_EQ(client->Command({"GET", "k"}), Bulk("v"));
}

// Writes through the proxy must land in `db` on the backends, and nothing in DB 0.
void CheckKeysLandInDb(ProxiedRedis& cluster, Client& client, int db) {
  std::vector<std::string> mset = {"MSET"};
  for (int i = 0; i < 20; ++i) {
    mset.push_back(absl::StrCat("db:", i, ":k"));
    mset.push_back(absl::StrCat("v", i));
  }
  ASSERT_EQ(client.Command(mset), kOk);
  ASSERT_EQ(client.Command({"SET", "db:single", "s"}), kOk);
  ASSERT_EQ(client.Command({"HSET", "db:hash", "f", "1"}), ":1\r\n");
  EXPECT_EQ(client.Command({"GET", "db:single"}), Bulk("s"));
  std::set<int> owners;
  for (int i = 0; i < 20; ++i) {
    const int owner = cluster.OwnerOf(absl::StrCat("db:", i, ":k"));  // direct clients SELECT db
    EXPECT_GE(owner, 0) << "db:" << i << " is not in DB " << db << " of exactly one backend";
    owners.insert(owner);
  }
  EXPECT_EQ(owners.size(), cluster.size());
  EXPECT_GE(cluster.OwnerOf("db:single"), 0);
  EXPECT_GE(cluster.OwnerOf("db:hash"), 0);
  for (size_t i = 0; i < cluster.size(); ++i) {
    auto direct = cluster.Direct(i);
    EXPECT_EQ(direct->Command({"SELECT", "0"}), kOk);
    EXPECT_EQ(direct->Command({"DBSIZE"}), ":0\r\n") << "backend " << i << " has keys in DB 0";
  }
  // SELECT of the pool's own db is accepted, any other refused; the connection stays usable.
  EXPECT_EQ(client.Command({"SELECT", std::to_string(db)}), kOk);
  const std::string other = client.Command({"SELECT", "0"});
  EXPECT_TRUE(absl::StartsWith(other, "-ERR ")) << ShowBytes(other);
  EXPECT_EQ(client.Command({"GET", "db:single"}), Bulk("s"));
}

TEST(RedisCommandsTest, RedisDbSelectsTheDatabaseOnEveryBackend) {
  ProxiedRedis cluster;
  ProxiedRedisOptions options;
  options.db = 3;
  options.pool_yaml = "  redis_db: 3\n";
  ASSERT_TRUE(cluster.Start(options));
  auto client = cluster.Connect();
  CheckKeysLandInDb(cluster, *client, 3);
}

// twemproxy sends SELECT before AUTH here, so its data lands in DB 0.
TEST(RedisCommandsTest, RedisAuthAndRedisDbTogether) {
  ProxiedRedis cluster;
  ProxiedRedisOptions options;
  options.redis_args = {"--requirepass", "pw"};
  options.password = "pw";
  options.db = 2;
  options.pool_yaml = "  redis_auth: pw\n  redis_db: 2\n";
  ASSERT_TRUE(cluster.Start(options));
  auto client = cluster.Connect();
  EXPECT_EQ(client->Command({"SET", "db:0", "v"}), kNoAuth);
  EXPECT_EQ(client->Command({"AUTH", "pw"}), kOk);
  CheckKeysLandInDb(cluster, *client, 2);
}

// ---------------------------------------------------------------------------------------------
// The proxy's own replies: unsupported commands, wrong arity, local commands.

TEST(RedisCommandsTest, UnsupportedCommandsGetAnErrorAndTheConnectionStaysOpen) {
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start());
  auto client = cluster.Connect(milliseconds(5000));
  ASSERT_EQ(client->Command({"SET", "u:1", "v"}), kOk);
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"KEYS", "*"}, "-ERR unsupported command 'KEYS': "},
      {{"keys", "*"}, "-ERR unsupported command 'KEYS': "},
      {{"SCAN", "0"}, "-ERR unsupported command 'SCAN': "},
      {{"SUBSCRIBE", "ch"}, "-ERR unsupported command 'SUBSCRIBE': "},
      {{"BLPOP", "u:list", "0"}, "-ERR unsupported command 'BLPOP': "},
      {{"FLUSHALL"}, "-ERR unsupported command 'FLUSHALL': "},
      {{"MOVE", "u:1", "1"}, "-ERR unsupported command 'MOVE': "},
      {{"CLIENT", "LIST"}, "-ERR unsupported command 'CLIENT LIST': "},
      {{"CLIENT", "KILL", "ID", "1"}, "-ERR unsupported command 'CLIENT KILL': "},
      {{"CLIENT", "REPLY", "OFF"}, "-ERR unsupported command 'CLIENT REPLY': "},
      {{"FOO"}, "-ERR unknown or unsupported command 'FOO'\r\n"},
      {{"foobar", "a", "b"}, "-ERR unknown or unsupported command 'FOOBAR'\r\n"},
  };
  for (const auto& [args, prefix] : cases) {
    const std::string reply = client->Command(args);
    EXPECT_TRUE(absl::StartsWith(reply, prefix) && absl::EndsWith(reply, "\r\n"))
        << ShowArgs(args) << " -> " << ShowBytes(reply) << ", expected " << ShowBytes(prefix)
        << "...";
    const std::string ping = client->Command({"PING"});
    EXPECT_EQ(ping, kPong) << "after " << ShowArgs(args);
    if (ping != kPong) break;  // the connection is out of step: the rest would only repeat
  }
  EXPECT_EQ(client->Command({"GET", "u:1"}), Bulk("v"));
  // Nothing reached the backends: the key is still there, FLUSHALL did not run.
  EXPECT_GE(cluster.OwnerOf("u:1"), 0);
}

TEST(RedisCommandsTest, WrongArityAndLocalCommandsAnswerLikeRedis) {
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start());
  auto client = cluster.Connect();
  EXPECT_EQ(client->Command({"GET"}), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(client->Command({"GET", "a", "b"}),
            "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(client->Command({"hget", "h"}),
            "-ERR wrong number of arguments for 'hget' command\r\n");
  EXPECT_EQ(client->Command({"EXPIRE", "k"}),
            "-ERR wrong number of arguments for 'expire' command\r\n");
  EXPECT_EQ(client->Command({"PING", "a", "b"}),
            "-ERR wrong number of arguments for 'ping' command\r\n");
  EXPECT_EQ(client->Command({"ECHO"}), "-ERR wrong number of arguments for 'echo' command\r\n");
  EXPECT_EQ(client->Command({"PING"}), kPong);
  EXPECT_EQ(client->Command({"PING", "msg"}), Bulk("msg"));
  EXPECT_EQ(client->Command({"ECHO", "hello\r\nworld"}), Bulk("hello\r\nworld"));
  EXPECT_EQ(client->Command({"SELECT", "0"}), kOk);
  const std::string select = client->Command({"SELECT", "1"});
  EXPECT_TRUE(absl::StartsWith(select, "-ERR ")) << ShowBytes(select);
  EXPECT_EQ(client->Command({"EXPIRE", "k", "10", "NX"}), ":0\r\n");  // redis 7 options pass
  // EVAL with numkeys 0 cannot be routed: an error, the connection stays open.
  const std::string eval0 = client->Command({"EVAL", "return 1", "0"});
  EXPECT_TRUE(absl::StartsWith(eval0, "-ERR ")) << ShowBytes(eval0);
  EXPECT_EQ(client->Command({"EVAL", "return 1", "2", "onlyone"}),
            "-ERR Number of keys can't be greater than number of args\r\n");
  // Three pipelined PINGs, inline and multibulk.
  ASSERT_TRUE(client->Send("PING\r\n*1\r\n$4\r\nping\r\nPING\r\n"));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client->ReadReply(), kPong);
  EXPECT_EQ(client->Command({"SET", "k", "v"}), kOk);
}

// What today's clients send when they connect (ioredis's INFO ready check, node-redis's and
// redis-py's CLIENT SETINFO / SETNAME, HELLO), answered by the proxy as redis answers them.
TEST(RedisCommandsTest, ConnectionHandshakesOfTodaysClientsAreAnswered) {
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start());
  auto client = cluster.Connect();
  ASSERT_EQ(client->Command({"SET", "hs:1", "v"}), kOk);
  EXPECT_EQ(client->Command({"CLIENT", "SETINFO", "LIB-NAME", "redis-py"}), kOk);
  EXPECT_EQ(client->Command({"CLIENT", "SETINFO", "LIB-VER", "5.0.1"}), kOk);
  EXPECT_EQ(client->Command({"CLIENT", "SETNAME", "app"}), kOk);
  EXPECT_EQ(client->Command({"CLIENT", "GETNAME"}), Bulk("app"));
  const std::string id = client->Command({"CLIENT", "ID"});
  EXPECT_TRUE(absl::StartsWith(id, ":")) << ShowBytes(id);
  const std::string hello = client->Command({"HELLO", "2"});
  EXPECT_TRUE(absl::StartsWith(hello, "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n"))
      << ShowBytes(hello);
  EXPECT_NE(hello.find(absl::StrCat("$2\r\nid\r\n", id)), std::string::npos) << ShowBytes(hello);
  EXPECT_EQ(client->Command({"HELLO", "4"}), "-NOPROTO unsupported protocol version\r\n");
  EXPECT_EQ(client->Command({"READONLY"}), kOk);
  EXPECT_EQ(client->Command({"READWRITE"}), kOk);
  // ioredis's ready check: INFO, then it reads `loading`.
  const std::string info = client->Command({"INFO"});
  EXPECT_TRUE(absl::StartsWith(info, "$")) << ShowBytes(info);
  EXPECT_NE(info.find("\r\nloading:0\r\n"), std::string::npos) << ShowBytes(info, 2000);
  EXPECT_NE(info.find("\r\nredis_version:"), std::string::npos) << ShowBytes(info, 2000);
  EXPECT_NE(info.find("\r\nrole:master\r\n"), std::string::npos) << ShowBytes(info, 2000);
  const std::string keyspace = client->Command({"INFO", "keyspace"});
  EXPECT_EQ(keyspace, Bulk("# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n"))
      << ShowBytes(keyspace);
  EXPECT_EQ(client->Command({"RESET"}), "+RESET\r\n");
  EXPECT_EQ(client->Command({"CLIENT", "GETNAME"}), kNil);
  EXPECT_EQ(client->Command({"GET", "hs:1"}), Bulk("v"));
}

// Keys up to twemproxy's limit (16384-byte buffers minus 49) work; a longer one is refused with
// an error (twemproxy closes the connection) and the connection stays usable.
TEST(RedisCommandsTest, OversizedKeysAreRefusedAndTheConnectionStaysOpen) {
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start());
  auto client = cluster.Connect();
  const std::string longest = PatternBytes(16335, 7);
  EXPECT_EQ(client->Command({"SET", longest, "v"}), kOk);
  EXPECT_EQ(client->Command({"GET", longest}), Bulk("v"));
  EXPECT_GE(cluster.OwnerOf(longest), 0);
  const std::string too_long = longest + "x";
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"SET", too_long, "v"}, {"GET", too_long}, {"MGET", "a", too_long}}) {
    const std::string reply = client->Command(args);
    EXPECT_TRUE(absl::StartsWith(reply, "-ERR ")) << args[0] << " -> " << ShowBytes(reply);
    EXPECT_EQ(client->Command({"PING"}), kPong) << "after " << args[0];
  }
  EXPECT_EQ(cluster.OwnerOf(too_long), -1);
  // Values have no such limit.
  EXPECT_EQ(client->Command({"SET", "k", too_long}), kOk);
}

// Requests trickling in one byte per write are reassembled (the decoder resumes anywhere).
TEST(RedisCommandsTest, RequestsArrivingOneByteAtATime) {
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start());
  auto client = cluster.Connect();
  const std::string wire = Resp({"SET", "trickle:1:k", "a\r\nb"}) +
                           Resp({"MSET", "trickle:2:k", "x", "trickle:3:k", "y"}) + "PING\r\n" +
                           Resp({"MGET", "trickle:1:k", "trickle:3:k", "nope"}) +
                           Resp({"GET", "trickle:2:k"});
  for (char c : wire) ASSERT_TRUE(client->Send(absl::string_view(&c, 1)));
  EXPECT_EQ(client->ReadReply(), kOk);
  EXPECT_EQ(client->ReadReply(), kOk);
  EXPECT_EQ(client->ReadReply(), kPong);
  EXPECT_EQ(client->ReadReply(), Array({Bulk("a\r\nb"), Bulk("y"), kNil}));
  EXPECT_EQ(client->ReadReply(), Bulk("x"));
}

// ---------------------------------------------------------------------------------------------
// Malformed RESP: an error reply, then that connection closes; other clients are unaffected.

TEST(RedisCommandsTest, MalformedRequestsGetAProtocolErrorAndCloseOnlyThatConnection) {
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start());
  auto other = cluster.Connect();
  ASSERT_EQ(other->Command({"SET", "m:1", "v"}), kOk);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"bad bulk length", "*1\r\n$x\r\n"},
      {"bad multibulk length", "*x\r\n"},
      {"negative bulk length", "*1\r\n$-1\r\n"},
      {"negative multibulk length", "*-2\r\n"},
      {"empty multibulk", "*0\r\n"},
      {"missing CRLF after the payload", "*1\r\n$4\r\nPINGxx\r\n"},
      {"bulk longer than declared", "*2\r\n$3\r\nGET\r\n$1\r\nab\r\n"},
      {"missing LF after the length", "*1\r$4\r\nPING\r\n"},
      {"not a bulk string", "*1\r\n:4\r\n"},
      {"huge bulk length", "*1\r\n$99999999999999999999\r\n"},
      {"earlier reply first", "*1\r\n$4\r\nPING\r\n*1\r\n$y\r\n"},
  };
  for (const auto& [name, bytes] : cases) {
    SCOPED_TRACE(name);
    auto client = cluster.Connect(milliseconds(5000));
    ASSERT_TRUE(client->Send(bytes));
    std::string reply = client->ReadReply();
    if (name == "earlier reply first") {
      EXPECT_EQ(reply, kPong);
      reply = client->ReadReply();
    }
    EXPECT_TRUE(absl::StartsWith(reply, "-ERR Protocol error"))
        << ShowBytes(bytes) << " -> " << ShowBytes(reply);
    EXPECT_TRUE(client->WaitForClose()) << ShowBytes(bytes) << ": the connection stayed open";
    // The other connection keeps working meanwhile.
    EXPECT_EQ(other->Command({"GET", "m:1"}), Bulk("v"));
  }
  EXPECT_EQ(other->Command({"PING"}), kPong);
}

// ---------------------------------------------------------------------------------------------
// client_connections: the N+1th concurrent client is refused.

TEST(RedisCommandsTest, ClientConnectionsLimitIsEnforced) {
  ProxiedRedis cluster;
  ProxiedRedisOptions options;
  options.pool_yaml = "  client_connections: 3\n";
  ASSERT_TRUE(cluster.Start(options));
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(cluster.Connect(milliseconds(5000)));
    ASSERT_EQ(clients.back()->Command({"PING"}), kPong) << "client " << i;
  }
  auto extra = cluster.Connect(milliseconds(5000));
  ASSERT_TRUE(extra->connected());
  EXPECT_EQ(extra->ReadReply(), "-ERR max number of clients reached\r\n");
  EXPECT_TRUE(extra->WaitForClose());
  for (auto& c : clients) EXPECT_EQ(c->Command({"SET", "cc", "1"}), kOk);

  // Once one leaves, a new client gets in (the proxy notices the close asynchronously).
  clients.pop_back();
  std::string last;
  EXPECT_TRUE(WaitUntil([&] {
    auto next = cluster.Connect(milliseconds(5000));
    last = next->Command({"PING"});
    if (last != kPong) return false;
    clients.push_back(std::move(next));
    return true;
  })) << "last reply: "
      << ShowBytes(last);
  for (auto& c : clients) EXPECT_EQ(c->Command({"GET", "cc"}), Bulk("1"));
}

// ---------------------------------------------------------------------------------------------
// QUIT and half-close.

TEST(RedisCommandsTest, QuitAnswersOkThenCloses) {
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start());
  auto client = cluster.Connect();
  ASSERT_EQ(client->Command({"SET", "q", "v"}), kOk);
  // GET, QUIT, GET in one write: the first GET's reply, +OK, then the close.
  ASSERT_TRUE(client->Send(Resp({"GET", "q"}) + Resp({"QUIT"}) + Resp({"GET", "q"})));
  EXPECT_EQ(ShowBytes(client->ReadAll()), ShowBytes(Bulk("v") + kOk));
  auto again = cluster.Connect();
  EXPECT_EQ(again->Command({"quit"}), kOk);
  EXPECT_TRUE(again->WaitForClose());
}

TEST(RedisCommandsTest, HalfCloseDeliversEveryReplyThenCloses) {
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start());
  auto client = cluster.Connect();
  ASSERT_TRUE(client->Send(Resp({"SET", "hc", "value"}) + Resp({"GET", "hc"}) +
                           Resp({"MGET", "hc", "hc:2", "hc:3", "hc"})));
  client->ShutdownWrite();
  EXPECT_EQ(ShowBytes(client->ReadAll()),
            ShowBytes(absl::StrCat(kOk, Bulk("value"),
                                   Array({Bulk("value"), kNil, kNil, Bulk("value")}))));
  // A request left incomplete at EOF is dropped without a reply.
  auto partial = cluster.Connect();
  ASSERT_TRUE(partial->Send(Resp({"PING"}) + "*2\r\n$3\r\nGET\r\n$2\r\nh"));
  partial->ShutdownWrite();
  EXPECT_EQ(ShowBytes(partial->ReadAll()), ShowBytes(kPong));
}

// ---------------------------------------------------------------------------------------------
// Real clients: redis-cli and redis-benchmark.

TEST(RedisCommandsTest, RedisCliWorksThroughTheProxy) {
  ASSERT_TRUE(HaveRedisTool("redis-cli"));
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start());
  const std::vector<std::string> base = {"redis-cli", "-h", "127.0.0.1", "-p",
                                         std::to_string(cluster.port())};
  auto cli = [&](std::vector<std::string> args, absl::string_view input = "") {
    std::vector<std::string> argv = base;
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, seconds(30), input);
  };
  auto expect_output = [&](std::vector<std::string> args, absl::string_view want) {
    const CommandResult r = cli(args);
    EXPECT_FALSE(r.timed_out) << absl::StrJoin(args, " ");
    EXPECT_EQ(r.exit_code, 0) << absl::StrJoin(args, " ") << ": " << r.output;
    EXPECT_EQ(r.output, want) << absl::StrJoin(args, " ");
  };
  expect_output({"ping"}, "PONG\n");
  expect_output({"set", "cli:k", "v1"}, "OK\n");
  expect_output({"get", "cli:k"}, "v1\n");
  expect_output({"mset", "cli:a", "1", "cli:b", "2", "cli:c", "3"}, "OK\n");
  expect_output({"mget", "cli:a", "cli:b", "cli:none", "cli:c"}, "1\n2\n\n3\n");
  expect_output({"incr", "cli:a"}, "2\n");
  expect_output({"del", "cli:a", "cli:b", "cli:c", "cli:k"}, "4\n");

  // --pipe: raw RESP on stdin; redis-cli ends it with an ECHO of a random marker.
  std::string input;
  for (int i = 0; i < 1000; ++i) input += Resp({"SET", absl::StrCat("pipe:", i), "x"});
  const CommandResult pipe = cli({"--pipe"}, input);
  EXPECT_FALSE(pipe.timed_out);
  EXPECT_EQ(pipe.exit_code, 0) << pipe.output;
  EXPECT_TRUE(absl::StrContains(pipe.output, "errors: 0, replies: 1000")) << pipe.output;
  auto client = cluster.Connect();
  EXPECT_EQ(client->Command({"EXISTS", "pipe:0", "pipe:500", "pipe:999"}), Int(3));
}

TEST(RedisCommandsTest, RedisBenchmarkRunsWithoutErrors) {
  ASSERT_TRUE(HaveRedisTool("redis-benchmark"));
  ProxiedRedis cluster;
  ASSERT_TRUE(cluster.Start());
  const std::vector<std::string> base = {
      "redis-benchmark", "-h", "127.0.0.1", "-p", std::to_string(cluster.port()), "-P", "16", "-n",
      "20000",           "-q"};
  auto check = [](const CommandResult& r, const std::vector<std::string>& tests) {
    EXPECT_FALSE(r.timed_out) << r.output;
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_FALSE(absl::StrContains(absl::AsciiStrToLower(r.output), "error")) << r.output;
    for (const std::string& test : tests) {
      // -q prints "<TEST>: <N> requests per second, ..." once the test is done.
      const size_t at = r.output.rfind(absl::StrCat(test, ": "));
      ASSERT_NE(at, std::string::npos) << test << " missing from:\n" << r.output;
      const size_t eol = r.output.find('\n', at);
      const std::string line = r.output.substr(at, eol == std::string::npos ? eol : eol - at);
      EXPECT_TRUE(absl::StrContains(line, " requests per second")) << line;
    }
  };
  std::vector<std::string> get_set = base;
  get_set.insert(get_set.end(), {"-t", "get,set"});
  check(RunCommand(get_set, seconds(60)), {"SET", "GET"});
  std::vector<std::string> mget = base;
  mget.insert(mget.end(),
              {"-r", "1000", "MGET", "key:__rand_int__", "key:__rand_int__", "key:__rand_int__"});
  check(RunCommand(mget, seconds(60)), {"MGET key:__rand_int__ key:__rand_int__ key:__rand_int__"});
  // The proxy is still healthy afterwards.
  auto client = cluster.Connect();
  EXPECT_EQ(client->Command({"PING"}), kPong);
  EXPECT_TRUE(cluster.proxy().process().Running());
}

}  // namespace
}  // namespace proxy::test

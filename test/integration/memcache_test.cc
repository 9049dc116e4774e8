// End-to-end tests of memcache pools: real memcached backends on free 127.0.0.1 ports behind the
// real //:proxy binary (twemproxy 0.5.0's behaviour plus the improvements README.md lists):
//   * placement: every memcache-valid key of the golden distribution vectors (server set
//     s3_named, ketama and modula x 4 hashes x hash_tag none / "{}") is stored on the memcached
//     the vectors name;
//   * every command through a 4-server pool: storage, cas with gets uniques, incr/decr, touch,
//     delete, version, quit, gat/gats, the meta commands (mn answered in order), noreply
//     pipelines, values up to memcached's item size limit and beyond it, the proxy's own size
//     limit, requests arriving one byte at a time, half-close, and a 1,000-key multi-get merged
//     in request order with one END;
//   * malformed input: memcached's own ERROR / CLIENT_ERROR replies where the stream can be
//     resynchronised (the connection stays usable), an error and a close of only that
//     connection where it cannot;
//   * a backend killed and restarted under traffic (only its keys fail, noreply stays silent),
//     auto_eject_hosts moving its keys to live servers and back after the retry timeout, and
//     noreply staying silent even when every server is ejected;
//   * memcslap (libmemcached-tools, ASCII protocol) running against the proxy without errors.
//
// Every process is started by the test itself and stopped by the harness destructors; waits
// are polls with deadlines, sleeps only where elapsed time is the behaviour (retry timeout).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "test/integration/backend_pools.h"
#include "test/integration/harness.h"
#include "test/integration/traffic_loop.h"

namespace proxy::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr char kStored[] = "STORED\r\n";
constexpr char kNotStored[] = "NOT_STORED\r\n";
constexpr char kExists[] = "EXISTS\r\n";
constexpr char kNotFound[] = "NOT_FOUND\r\n";
constexpr char kDeleted[] = "DELETED\r\n";
constexpr char kTouched[] = "TOUCHED\r\n";
constexpr char kEnd[] = "END\r\n";
constexpr char kMn[] = "MN\r\n";
constexpr char kError[] = "ERROR\r\n";
constexpr char kBadFormat[] = "CLIENT_ERROR bad command line format\r\n";
constexpr char kRefused[] = "SERVER_ERROR Connection refused\r\n";
constexpr char kReset[] = "SERVER_ERROR Connection reset by peer\r\n";
constexpr char kUnknown[] = "SERVER_ERROR unknown\r\n";
constexpr char kTooLargeForCache[] = "SERVER_ERROR object too large for cache\r\n";

// memcached's item size limit in the pool tests (-I 2m), and a value that fits under it.
constexpr size_t kItemSizeLimit = 2u << 20;
constexpr size_t kNearLimitValue = 1992294;  // ~1.9 MiB

// ---------------------------------------------------------------------------------------------
// Small helpers

::testing::AssertionResult ToolInstalled(absl::string_view tool, absl::string_view package) {
  if (!FindExecutable(tool).empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << tool << " is not installed (not found in $PATH, /usr/bin, /usr/sbin); these "
         << "integration tests need it: apt-get install " << package;
}

::testing::AssertionResult MemcachedInstalled() { return ToolInstalled("memcached", "memcached"); }

// ---------------------------------------------------------------------------------------------
// The memcache wire format

// A storage command with its data block: "<verb> <key> <flags> <exptime> <bytes>[ noreply]".
std::string Store(absl::string_view verb, absl::string_view key, absl::string_view value,
                  uint32_t flags = 0, int64_t exptime = 0, bool noreply = false) {
  return absl::StrCat(verb, " ", key, " ", flags, " ", exptime, " ", value.size(),
                      noreply ? " noreply" : "", "\r\n", value, "\r\n");
}

std::string Set(absl::string_view key, absl::string_view value, uint32_t flags = 0) {
  return Store("set", key, value, flags);
}

std::string SetNoreply(absl::string_view key, absl::string_view value) {
  return Store("set", key, value, 0, 0, /*noreply=*/true);
}

std::string Get(absl::string_view key) { return absl::StrCat("get ", key, "\r\n"); }

// One VALUE block of a get/gat reply.
std::string Value(absl::string_view key, absl::string_view value, uint32_t flags = 0) {
  return absl::StrCat("VALUE ", key, " ", flags, " ", value.size(), "\r\n", value, "\r\n");
}

// The whole reply of a one-key get that finds `value`.
std::string Hit(absl::string_view key, absl::string_view value, uint32_t flags = 0) {
  return absl::StrCat(Value(key, value, flags), kEnd);
}

// The VALUE blocks of a retrieval reply: key, data and the cas unique (0 without one). False
// when the reply is not VALUE blocks followed by exactly one END.
struct ValueBlock {
  std::string key;
  std::string data;
  uint64_t cas = 0;
};
bool ParseRetrieval(absl::string_view reply, std::vector<ValueBlock>* blocks) {
  blocks->clear();
  size_t pos = 0;
  while (absl::StartsWith(reply.substr(pos), "VALUE ")) {
    const size_t eol = reply.find("\r\n", pos);
    if (eol == absl::string_view::npos) return false;
    const std::vector<std::string> parts =
        absl::StrSplit(reply.substr(pos, eol - pos), ' ', absl::SkipEmpty());
    size_t size = 0;
    ValueBlock block;
    if (parts.size() < 4 || parts.size() > 5 || !absl::SimpleAtoi(parts[3], &size) ||
        (parts.size() == 5 && !absl::SimpleAtoi(parts[4], &block.cas))) {
      return false;
    }
    if (reply.size() < eol + 2 + size + 2 || reply.substr(eol + 2 + size, 2) != "\r\n") {
      return false;
    }
    block.key = parts[1];
    block.data = std::string(reply.substr(eol + 2, size));
    blocks->push_back(std::move(block));
    pos = eol + 2 + size + 2;
  }
  return reply.substr(pos) == kEnd;
}

// Sends `bytes` and reads one reply (a line, or VALUE blocks up to END); "" on timeout/close.
std::string Roundtrip(Client& client, absl::string_view bytes) {
  if (!client.Send(bytes)) return "";
  return client.ReadMemcacheReply();
}

// One meta-command reply: its line, plus the data block after a "VA <size> ..." line.
std::string ReadMetaReply(Client& client) {
  std::string reply = client.ReadMemcacheReply();
  if (!absl::StartsWith(reply, "VA ")) return reply;
  const std::vector<std::string> parts = absl::StrSplit(reply, absl::ByAnyChar(" \r\n"));
  size_t size = 0;
  if (parts.size() < 2 || !absl::SimpleAtoi(parts[1], &size)) return reply;
  return reply + client.ReadExactly(size + 2);
}

std::string MetaRoundtrip(Client& client, absl::string_view bytes) {
  if (!client.Send(bytes)) return "";
  return ReadMetaReply(client);
}

// Sends all requests in one write, then reads `replies` replies ("" for missing ones).
std::vector<std::string> Pipeline(Client& client, absl::string_view bytes, size_t replies) {
  std::vector<std::string> out(replies);
  if (!client.Send(bytes)) return out;
  for (size_t i = 0; i < replies; ++i) {
    out[i] = client.ReadMemcacheReply();
    if (out[i].empty()) break;
  }
  return out;
}

// The lines of a memcached `stats` reply, up to END, as name -> value.
std::map<std::string, std::string> Stats(Client& direct) {
  std::map<std::string, std::string> stats;
  if (!direct.Send("stats\r\n")) return stats;
  for (int i = 0; i < 1000; ++i) {
    const std::string line = direct.ReadMemcacheReply();
    if (line.empty() || line == kEnd) break;
    const std::vector<std::string> parts = absl::StrSplit(absl::StripAsciiWhitespace(line), ' ');
    if (parts.size() == 3 && parts[0] == "STAT") stats[parts[1]] = parts[2];
  }
  return stats;
}

// ---------------------------------------------------------------------------------------------
// Backends, pools and the golden distribution vectors (test/integration/backend_pools.h)

// A memcache pool is one without `redis: true`.
std::string Yaml(const std::vector<TestPool>& pools) { return PoolsYaml(pools, /*redis=*/false); }

// What memcache accepts as a key: non-empty, at most 250 bytes, no whitespace or control bytes.
bool MemcacheKey(absl::string_view key) {
  if (key.empty() || key.size() > 250) return false;
  return std::none_of(key.begin(), key.end(), [](char c) {
    const unsigned char u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

// ---------------------------------------------------------------------------------------------
// 1. Placement end to end

TEST(MemcachePlacement, EveryValidGoldenKeyIsStoredOnTheBackendTheVectorsName) {
  ASSERT_TRUE(MemcachedInstalled());
  auto memcached = StartServers<MemcachedServer>(3);
  ASSERT_TRUE(AllOk(memcached));
  const std::vector<int> ports = Ports(memcached);

  // Every s3_named combination: ketama and modula x 4 hashes x hash_tag none / "{}".
  const std::vector<Combination>& combos = Named3();
  ASSERT_EQ(combos.size(), 16u) << "expected 2 distributions x 4 hashes x 2 hash tags";
  std::vector<TestPool> pools;
  std::vector<int> listen_ports;
  for (size_t i = 0; i < combos.size(); ++i) {
    const Combination& c = combos[i];
    TestPool pool{absl::StrCat("p", i), FreePort(), {}, NamedServers(c, ports)};
    pool.options = {{"distribution", c.distribution}, {"hash", c.hash}};
    if (!c.hash_tag.empty()) {
      pool.options.emplace_back("hash_tag", absl::StrCat("\"", c.hash_tag, "\""));
    }
    listen_ports.push_back(pool.port);
    pools.push_back(std::move(pool));
  }
  ProxyProcess proxy(Yaml(pools), listen_ports);
  ASSERT_TRUE(proxy.ok()) << proxy.Log();

  std::vector<std::unique_ptr<Client>> direct;
  for (int port : ports) direct.push_back(std::make_unique<Client>(port));

  size_t longest_key = 0;
  bool saw_tagged_key = false;
  for (size_t ci = 0; ci < combos.size(); ++ci) {
    const Combination& c = combos[ci];
    SCOPED_TRACE(absl::StrCat(c.distribution, "/", c.hash, "/hash_tag=\"", c.hash_tag, "\""));
    for (auto& d : direct) ASSERT_EQ(Roundtrip(*d, "flush_all\r\n"), "OK\r\n");

    std::vector<std::pair<std::string, int>> rows;
    for (const auto& row : c.rows) {
      if (MemcacheKey(row.first)) rows.push_back(row);
    }
    ASSERT_EQ(rows.size(), 197u) << "200 vector keys minus the empty key and 2 keys over 250 bytes";
    auto value_of = [&](size_t r) { return absl::StrCat("value-", ci, "-", r); };

    // Write every key through the proxy, in one pipeline.
    Client client(pools[ci].port);
    ASSERT_TRUE(client.connected());
    std::string sets;
    for (size_t r = 0; r < rows.size(); ++r) {
      absl::StrAppend(&sets, Set(rows[r].first, value_of(r)));
    }
    const std::vector<std::string> stored = Pipeline(client, sets, rows.size());
    for (size_t r = 0; r < rows.size(); ++r) {
      ASSERT_EQ(stored[r], kStored) << "set of key " << ShowBytes(rows[r].first);
    }

    // Read every key back from each memcached directly.
    std::string gets;
    for (const auto& row : rows) absl::StrAppend(&gets, Get(row.first));
    std::vector<std::vector<std::string>> found(direct.size());
    for (size_t b = 0; b < direct.size(); ++b) found[b] = Pipeline(*direct[b], gets, rows.size());

    for (size_t r = 0; r < rows.size(); ++r) {
      const auto& [key, owner] = rows[r];
      std::vector<int> holders;
      for (size_t b = 0; b < direct.size(); ++b) {
        if (found[b][r] != kEnd) holders.push_back(static_cast<int>(b));
      }
      ASSERT_EQ(holders, std::vector<int>{owner})
          << "key " << ShowBytes(key) << " (length " << key.size() << ") should be only on "
          << c.servers[static_cast<size_t>(owner)];
      EXPECT_EQ(found[static_cast<size_t>(owner)][r], Hit(key, value_of(r)));
      longest_key = std::max(longest_key, key.size());
      saw_tagged_key = saw_tagged_key || absl::StrContains(key, '{');
    }

    // Reads through the proxy find every value, also as one multi-get in request order.
    std::string multi = "get";
    std::string expected;
    for (size_t r = 0; r < rows.size(); ++r) {
      absl::StrAppend(&multi, " ", rows[r].first);
      absl::StrAppend(&expected, Value(rows[r].first, value_of(r)));
    }
    absl::StrAppend(&multi, "\r\n");
    absl::StrAppend(&expected, kEnd);
    EXPECT_TRUE(SameBytes(Roundtrip(client, multi), expected)) << "multi-get of every key";
  }
  EXPECT_EQ(longest_key, 250u);
  EXPECT_TRUE(saw_tagged_key);
}

// ---------------------------------------------------------------------------------------------
// 2. Every command through a 4-server pool

// Four memcached (-I 2m) behind one ketama/md5 pool with node names mc-0..mc-3.
class MemcachePool : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(MemcachedInstalled());
    memcached_ = StartServers<MemcachedServer>(4, {"-I", "2m"});
    ASSERT_TRUE(AllOk(memcached_));
    std::vector<std::string> servers;
    for (size_t i = 0; i < memcached_.size(); ++i) {
      servers.push_back(absl::StrCat("127.0.0.1:", memcached_[i]->port(), ":1 mc-", i));
    }
    listen_ = FreePort();
    proxy_ = std::make_unique<ProxyProcess>(
        Yaml({{"alpha", listen_, {{"hash", "md5"}, {"distribution", "ketama"}}, servers}}),
        std::vector<int>{listen_});
    ASSERT_TRUE(proxy_->ok()) << proxy_->Log();
    for (const auto& m : memcached_) {
      direct_.push_back(std::make_unique<Client>(m->port(), milliseconds(5000)));
      ASSERT_TRUE(direct_.back()->connected());
    }
  }

  std::unique_ptr<Client> Connect(milliseconds timeout = milliseconds(5000)) {
    auto client = std::make_unique<Client>(listen_, timeout);
    EXPECT_TRUE(client->connected()) << "cannot connect to the proxy on port " << listen_;
    return client;
  }

  // The backend each key is stored on (looked up directly, one multi-get per backend); -1 when
  // none has it, -2 when several do.
  std::vector<int> Locate(const std::vector<std::string>& keys) {
    std::vector<int> owners(keys.size(), -1);
    std::map<std::string, std::vector<size_t>> positions;
    for (size_t i = 0; i < keys.size(); ++i) positions[keys[i]].push_back(i);
    for (size_t b = 0; b < direct_.size(); ++b) {
      std::vector<ValueBlock> blocks;
      const std::string reply =
          Roundtrip(*direct_[b], absl::StrCat("get ", absl::StrJoin(keys, " "), "\r\n"));
      EXPECT_TRUE(ParseRetrieval(reply, &blocks)) << ShowBytes(reply);
      for (const ValueBlock& block : blocks) {
        for (size_t i : positions[block.key]) {
          owners[i] = owners[i] == -1 ? static_cast<int>(b) : -2;
        }
      }
    }
    return owners;
  }

  // `n` keys "<prefix>:<i>" stored through the proxy (value "<key>-value") and their backends.
  std::vector<std::pair<std::string, int>> StoreKeys(Client& client, absl::string_view prefix,
                                                     size_t n) {
    std::vector<std::string> keys;
    std::string sets;
    for (size_t i = 0; i < n; ++i) {
      keys.push_back(absl::StrCat(prefix, ":", i));
      absl::StrAppend(&sets, Set(keys.back(), absl::StrCat(keys.back(), "-value")));
    }
    const std::vector<std::string> replies = Pipeline(client, sets, n);
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(replies[i], kStored) << keys[i];
    const std::vector<int> owners = Locate(keys);
    std::vector<std::pair<std::string, int>> out;
    for (size_t i = 0; i < n; ++i) out.emplace_back(keys[i], owners[i]);
    return out;
  }

  // One stored key per backend (index = backend), found among "<prefix>:<i>".
  std::vector<std::string> OneKeyPerServer(Client& client, absl::string_view prefix) {
    std::vector<std::string> picked(memcached_.size());
    for (const auto& [key, owner] : StoreKeys(client, prefix, 64)) {
      if (owner >= 0 && picked[static_cast<size_t>(owner)].empty()) {
        picked[static_cast<size_t>(owner)] = key;
      }
    }
    for (size_t b = 0; b < picked.size(); ++b) {
      EXPECT_FALSE(picked[b].empty()) << "no key of 64 landed on backend " << b;
    }
    return picked;
  }

  std::vector<std::unique_ptr<MemcachedServer>> memcached_;
  std::vector<std::unique_ptr<Client>> direct_;
  std::unique_ptr<ProxyProcess> proxy_;
  int listen_ = 0;
};

TEST_F(MemcachePool, StorageCommandsGiveMemcachedsReplies) {
  auto client = Connect();
  EXPECT_EQ(Roundtrip(*client, Set("foo", "bar", 5)), kStored);
  EXPECT_EQ(Roundtrip(*client, Get("foo")), Hit("foo", "bar", 5));
  const std::string gets = Roundtrip(*client, "gets foo\r\n");
  std::vector<ValueBlock> blocks;
  ASSERT_TRUE(ParseRetrieval(gets, &blocks)) << ShowBytes(gets);
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].key, "foo");
  EXPECT_EQ(blocks[0].data, "bar");
  EXPECT_GT(blocks[0].cas, 0u);
  EXPECT_EQ(Roundtrip(*client, Get("nokey")), kEnd);

  EXPECT_EQ(Roundtrip(*client, Store("add", "foo", "new")), kNotStored);
  EXPECT_EQ(Roundtrip(*client, Store("add", "fresh", "one", 7)), kStored);
  EXPECT_EQ(Roundtrip(*client, Get("fresh")), Hit("fresh", "one", 7));
  EXPECT_EQ(Roundtrip(*client, Store("replace", "missing", "x")), kNotStored);
  EXPECT_EQ(Roundtrip(*client, Store("replace", "foo", "baz", 9)), kStored);
  EXPECT_EQ(Roundtrip(*client, Store("append", "foo", "-tail")), kStored);
  EXPECT_EQ(Roundtrip(*client, Store("prepend", "foo", "head-")), kStored);
  EXPECT_EQ(Roundtrip(*client, Get("foo")), Hit("foo", "head-baz-tail", 9));
  EXPECT_EQ(Roundtrip(*client, Store("append", "missing", "x")), kNotStored);
  EXPECT_EQ(Roundtrip(*client, Store("prepend", "missing", "x")), kNotStored);

  // Empty values, binary data and the largest flags value.
  EXPECT_EQ(Roundtrip(*client, Set("empty", "")), kStored);
  EXPECT_EQ(Roundtrip(*client, Get("empty")), Hit("empty", ""));
  const std::string binary("a\r\nEND\r\n\0\xff b", 12);
  EXPECT_EQ(Roundtrip(*client, Set("binary", binary, 4294967295u)), kStored);
  EXPECT_EQ(Roundtrip(*client, Get("binary")), Hit("binary", binary, 4294967295u));

  // A negative exptime is accepted, as memcached does: the item expires at once.
  EXPECT_EQ(Roundtrip(*client, Store("set", "ne", "x", 0, -1)), kStored);
  EXPECT_EQ(Roundtrip(*client, Get("ne")), kEnd);
  EXPECT_EQ(Roundtrip(*client, Store("set", "later", "x", 0, 3600)), kStored);
  EXPECT_EQ(Roundtrip(*client, Get("later")), Hit("later", "x"));

  // The leading-spaces and bare-LF forms memcached accepts.
  EXPECT_EQ(Roundtrip(*client, "   get foo\r\n"), Hit("foo", "head-baz-tail", 9));
  EXPECT_EQ(Roundtrip(*client, "get foo\n"), Hit("foo", "head-baz-tail", 9));
  EXPECT_EQ(Roundtrip(*client, "set lf 0 0 2\nhi\r\n"), kStored);
  EXPECT_EQ(Roundtrip(*client, Get("lf")), Hit("lf", "hi"));
}

TEST_F(MemcachePool, CasFollowsGetsUniques) {
  auto client = Connect();
  ASSERT_EQ(Roundtrip(*client, Set("c", "v1")), kStored);
  std::vector<ValueBlock> blocks;
  const std::string gets = Roundtrip(*client, "gets c\r\n");
  ASSERT_TRUE(ParseRetrieval(gets, &blocks) && blocks.size() == 1) << ShowBytes(gets);
  const uint64_t unique = blocks[0].cas;
  ASSERT_GT(unique, 0u);

  auto cas = [](absl::string_view key, absl::string_view value, uint64_t unique,
                bool noreply = false) {
    return absl::StrCat("cas ", key, " 3 0 ", value.size(), " ", unique, noreply ? " noreply" : "",
                        "\r\n", value, "\r\n");
  };
  EXPECT_EQ(Roundtrip(*client, cas("c", "wrong", unique + 1000)), kExists);
  EXPECT_EQ(Roundtrip(*client, Get("c")), Hit("c", "v1"));
  EXPECT_EQ(Roundtrip(*client, cas("c", "v2", unique)), kStored);
  EXPECT_EQ(Roundtrip(*client, Get("c")), Hit("c", "v2", 3));
  EXPECT_EQ(Roundtrip(*client, cas("c", "v3", unique)), kExists) << "the unique changed";
  EXPECT_EQ(Roundtrip(*client, cas("nokey", "v", unique)), kNotFound);

  // A new unique from gets works again; with noreply nothing comes back.
  ASSERT_TRUE(ParseRetrieval(Roundtrip(*client, "gets c\r\n"), &blocks) && blocks.size() == 1);
  EXPECT_GT(blocks[0].cas, unique);
  ASSERT_TRUE(client->Send(cas("c", "v4", blocks[0].cas, /*noreply=*/true) +
                           cas("c", "v5", 1, /*noreply=*/true) + Get("c")));
  EXPECT_EQ(client->ReadMemcacheReply(), Hit("c", "v4", 3));

  // gets of several keys on different servers keeps each key's unique.
  const std::vector<std::string> keys = OneKeyPerServer(*client, "casmulti");
  std::vector<uint64_t> uniques;
  for (const std::string& key : keys) {
    ASSERT_TRUE(ParseRetrieval(Roundtrip(*client, absl::StrCat("gets ", key, "\r\n")), &blocks));
    ASSERT_EQ(blocks.size(), 1u);
    uniques.push_back(blocks[0].cas);
  }
  const std::string multi =
      Roundtrip(*client, absl::StrCat("gets ", absl::StrJoin(keys, " "), " nokey\r\n"));
  ASSERT_TRUE(ParseRetrieval(multi, &blocks)) << ShowBytes(multi);
  ASSERT_EQ(blocks.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(blocks[i].key, keys[i]);
    EXPECT_EQ(blocks[i].cas, uniques[i]);
    EXPECT_EQ(Roundtrip(*client, cas(keys[i], "swapped", blocks[i].cas)), kStored);
  }
}

TEST_F(MemcachePool, IncrDecrTouchDeleteGiveMemcachedsReplies) {
  auto client = Connect();
  ASSERT_EQ(Roundtrip(*client, Set("n", "10")), kStored);
  EXPECT_EQ(Roundtrip(*client, "incr n 5\r\n"), "15\r\n");
  EXPECT_EQ(Roundtrip(*client, "decr n 3\r\n"), "12\r\n");
  EXPECT_EQ(Roundtrip(*client, "decr n 100\r\n"), "0\r\n") << "decr stops at 0";
  EXPECT_EQ(Roundtrip(*client, "incr n 18446744073709551615\r\n"), "18446744073709551615\r\n");
  EXPECT_EQ(Roundtrip(*client, "incr n 1\r\n"), "0\r\n") << "incr wraps around at 2^64";
  EXPECT_EQ(Roundtrip(*client, "incr nokey 1\r\n"), kNotFound);
  EXPECT_EQ(Roundtrip(*client, "incr n -1\r\n"), "CLIENT_ERROR invalid numeric delta argument\r\n");
  ASSERT_EQ(Roundtrip(*client, Set("text", "abc")), kStored);
  EXPECT_EQ(Roundtrip(*client, "incr text 1\r\n"),
            "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");

  EXPECT_EQ(Roundtrip(*client, "touch n 100\r\n"), kTouched);
  EXPECT_EQ(Roundtrip(*client, "touch nokey 100\r\n"), kNotFound);
  ASSERT_EQ(Roundtrip(*client, Set("expiring", "x")), kStored);
  EXPECT_EQ(Roundtrip(*client, "touch expiring -1\r\n"), kTouched) << "negative exptime";
  EXPECT_EQ(Roundtrip(*client, Get("expiring")), kEnd);

  EXPECT_EQ(Roundtrip(*client, "delete n\r\n"), kDeleted);
  EXPECT_EQ(Roundtrip(*client, "delete n\r\n"), kNotFound);
  ASSERT_EQ(Roundtrip(*client, Set("legacy", "x")), kStored);
  EXPECT_EQ(Roundtrip(*client, "delete legacy 0\r\n"), kDeleted) << "memcached 1.6 accepts 0";
  EXPECT_EQ(Roundtrip(*client, "delete legacy 5\r\n"),
            "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n");
  EXPECT_EQ(Roundtrip(*client, Get("text")), Hit("text", "abc")) << "the connection is usable";
}

TEST_F(MemcachePool, VersionIsForwardedAndQuitClosesAfterEarlierReplies) {
  auto client = Connect();
  const std::string version = Roundtrip(*direct_[0], "version\r\n");
  ASSERT_TRUE(absl::StartsWith(version, "VERSION ")) << ShowBytes(version);
  EXPECT_EQ(Roundtrip(*client, "version\r\n"), version);

  // quit: the replies before it are delivered, nothing for quit itself, later bytes ignored.
  ASSERT_TRUE(client->Send(Set("q", "x") + Get("q") + "quit\r\n" + Set("after", "y")));
  EXPECT_EQ(client->ReadAll(), absl::StrCat(kStored, Hit("q", "x")));
  EXPECT_TRUE(client->WaitForClose());
  auto other = Connect();
  EXPECT_EQ(Roundtrip(*other, Get("after")), kEnd) << "bytes after quit were executed";
  EXPECT_EQ(Roundtrip(*other, "quit extra tokens\r\n"), "") << "no reply to quit";
  EXPECT_TRUE(other->WaitForClose());
}

TEST_F(MemcachePool, GatAndGatsReturnAndTouchValuesAlsoAcrossServers) {
  auto client = Connect();
  const std::vector<std::string> keys = OneKeyPerServer(*client, "gat");
  auto value_of = [](const std::string& key) { return absl::StrCat(key, "-value"); };
  EXPECT_EQ(Roundtrip(*client, absl::StrCat("gat 100 ", keys[0], "\r\n")),
            Hit(keys[0], value_of(keys[0])));
  std::vector<ValueBlock> blocks;
  const std::string gats = Roundtrip(*client, absl::StrCat("gats 100 ", keys[1], "\r\n"));
  ASSERT_TRUE(ParseRetrieval(gats, &blocks) && blocks.size() == 1) << ShowBytes(gats);
  EXPECT_EQ(blocks[0].key, keys[1]);
  EXPECT_GT(blocks[0].cas, 0u);
  EXPECT_EQ(Roundtrip(*client, "gat 100 nokey\r\n"), kEnd);

  // Several servers, a missing and a repeated key: request order, one END.
  const std::vector<std::string> request = {keys[3], "nokey", keys[0], keys[2], keys[1], keys[3]};
  std::string expected;
  for (const std::string& key : request) {
    if (key != "nokey") absl::StrAppend(&expected, Value(key, value_of(key)));
  }
  absl::StrAppend(&expected, kEnd);
  EXPECT_EQ(Roundtrip(*client, absl::StrCat("gat 3600 ", absl::StrJoin(request, " "), "\r\n")),
            expected);
  const std::string multi =
      Roundtrip(*client, absl::StrCat("gats 3600 ", absl::StrJoin(request, " "), "\r\n"));
  ASSERT_TRUE(ParseRetrieval(multi, &blocks)) << ShowBytes(multi);
  std::vector<std::string> got;
  for (const ValueBlock& b : blocks) got.push_back(b.key);
  EXPECT_EQ(got, std::vector<std::string>({keys[3], keys[0], keys[2], keys[1], keys[3]}));

  // gat with a negative exptime expires every key it finds, on every server.
  EXPECT_EQ(
      Roundtrip(*client, absl::StrCat("gat -1 ", absl::StrJoin(keys, " "), "\r\n")),
      absl::StrCat(Value(keys[0], value_of(keys[0])), Value(keys[1], value_of(keys[1])),
                   Value(keys[2], value_of(keys[2])), Value(keys[3], value_of(keys[3])), kEnd));
  EXPECT_EQ(Roundtrip(*client, absl::StrCat("get ", absl::StrJoin(keys, " "), "\r\n")), kEnd);

  EXPECT_EQ(Roundtrip(*client, "gat abc foo\r\n"), "CLIENT_ERROR invalid exptime argument\r\n");
  EXPECT_EQ(Roundtrip(*client, "version\r\n").substr(0, 8), "VERSION ") << "still usable";
}

TEST_F(MemcachePool, MetaCommandsAreForwardedAndMnIsAnsweredInOrder) {
  auto client = Connect();
  EXPECT_EQ(MetaRoundtrip(*client, "ms mk 3 T0\r\nabc\r\n"), "HD\r\n");
  EXPECT_EQ(MetaRoundtrip(*client, "mg mk v\r\n"), "VA 3\r\nabc\r\n");
  EXPECT_EQ(MetaRoundtrip(*client, "mg mk s v f t\r\n"), "VA 3 s3 f0 t-1\r\nabc\r\n");
  EXPECT_EQ(MetaRoundtrip(*client, "mg mk k v\r\n"), "VA 3 kmk\r\nabc\r\n");
  EXPECT_EQ(MetaRoundtrip(*client, "mg mk\r\n"), "HD\r\n");
  EXPECT_EQ(MetaRoundtrip(*client, "mg nokey v\r\n"), "EN\r\n");
  EXPECT_EQ(Roundtrip(*client, Get("mk")), Hit("mk", "abc")) << "ms stores a normal item";

  EXPECT_EQ(MetaRoundtrip(*client, "ms cnt 2\r\n10\r\n"), "HD\r\n");
  EXPECT_EQ(MetaRoundtrip(*client, "ma cnt v\r\n"), "VA 2\r\n11\r\n");
  EXPECT_EQ(MetaRoundtrip(*client, "ma cnt MD D5 v\r\n"), "VA 1\r\n6\r\n");
  EXPECT_EQ(MetaRoundtrip(*client, "ma nocnt\r\n"), "NF\r\n");
  EXPECT_EQ(MetaRoundtrip(*client, "ma newcnt N0 J7 v\r\n"), "VA 1\r\n7\r\n");

  const std::string me = MetaRoundtrip(*client, "me cnt\r\n");
  EXPECT_TRUE(absl::StartsWith(me, "ME cnt ") && absl::EndsWith(me, "\r\n")) << ShowBytes(me);
  EXPECT_EQ(MetaRoundtrip(*client, "me nokey\r\n"), "EN\r\n");

  EXPECT_EQ(MetaRoundtrip(*client, "md mk\r\n"), "HD\r\n");
  EXPECT_EQ(MetaRoundtrip(*client, "md mk\r\n"), "NF\r\n");
  EXPECT_EQ(MetaRoundtrip(*client, "mn\r\n"), kMn);

  // The q flag cannot be supported by a proxy (it would reorder replies): refused, usable.
  EXPECT_EQ(MetaRoundtrip(*client, "mg mk v q\r\n"),
            "CLIENT_ERROR quiet mode (q flag) is not supported by the proxy\r\n");
  EXPECT_EQ(MetaRoundtrip(*client, "ms qk 1 q\r\nx\r\n"),
            "CLIENT_ERROR quiet mode (q flag) is not supported by the proxy\r\n");
  EXPECT_EQ(Roundtrip(*client, Get("qk")), kEnd) << "a refused ms must not be stored";

  // mn is answered by the proxy, in order with the replies of the servers around it.
  const std::vector<std::string> keys = OneKeyPerServer(*client, "meta");
  std::string pipeline = "mn\r\n";
  std::vector<std::string> expected = {std::string(kMn)};
  for (int round = 0; round < 3; ++round) {
    for (const std::string& key : keys) {
      const std::string value = absl::StrCat(key, "-", round);
      absl::StrAppend(&pipeline, "ms ", key, " ", value.size(), "\r\n", value, "\r\n", "mg ", key,
                      " v\r\n", "mn\r\n");
      expected.push_back("HD\r\n");
      expected.push_back(absl::StrCat("VA ", value.size(), "\r\n", value, "\r\n"));
      expected.push_back(std::string(kMn));
    }
    absl::StrAppend(&pipeline, "mg nokey v\r\nmn\r\n");
    expected.push_back("EN\r\n");
    expected.push_back(std::string(kMn));
  }
  ASSERT_TRUE(client->Send(pipeline));
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(ReadMetaReply(*client), expected[i]) << "reply " << i << " of the pipeline";
  }
}

TEST_F(MemcachePool, NoreplyPipelineProducesOnlyTheFinalGetsReply) {
  auto client = Connect();
  std::string pipeline;
  for (int i = 0; i < 100; ++i) {
    absl::StrAppend(&pipeline, SetNoreply(absl::StrCat("np:", i), absl::StrCat("value-", i)));
  }
  absl::StrAppend(&pipeline, Get("np:99"));
  ASSERT_TRUE(client->Send(pipeline));
  EXPECT_EQ(client->ReadMemcacheReply(), Hit("np:99", "value-99"));
  EXPECT_EQ(Roundtrip(*client, "mn\r\n"), kMn) << "a stray reply came before mn's";

  // Every other command with noreply, including ones whose reply would be a failure
  // (NOT_STORED, NOT_FOUND, EXISTS) and ones the proxy itself refuses (bad keys).
  const std::string long_key(251, 'k');
  pipeline = absl::StrCat(
      Store("add", "np:0", "x", 0, 0, true), Store("add", "np:new", "added", 0, 0, true),
      Store("replace", "np:nokey", "x", 0, 0, true),
      Store("replace", "np:2", "replaced", 0, 0, true), Store("append", "np:3", "+a", 0, 0, true),
      Store("prepend", "np:3", "p+", 0, 0, true), Store("append", "np:nokey", "x", 0, 0, true),
      SetNoreply("np:cnt", "5"), "incr np:cnt 10 noreply\r\n", "decr np:cnt 3 noreply\r\n",
      "incr np:nokey 1 noreply\r\n", "touch np:4 100 noreply\r\n", "touch np:nokey 100 noreply\r\n",
      "delete np:5 noreply\r\n", "delete np:nokey noreply\r\n", "delete np:6 0 noreply\r\n",
      "cas np:7 0 0 1 1 noreply\r\nx\r\n", "cas np:nokey 0 0 1 1 noreply\r\nx\r\n",
      Store("set", long_key, "x", 0, 0, true), "touch ", long_key, " 10 noreply\r\n",
      "incr np:\x01 1 noreply\r\n", "delete ", long_key, " noreply\r\n",
      "get np:0 np:new np:nokey np:2 np:3 np:cnt np:4 np:5 np:6 np:7 np:8\r\n", "mn\r\n");
  ASSERT_TRUE(client->Send(pipeline));
  EXPECT_EQ(
      client->ReadMemcacheReply(),
      absl::StrCat(Value("np:0", "value-0"), Value("np:new", "added"), Value("np:2", "replaced"),
                   Value("np:3", "p+value-3+a"), Value("np:cnt", "12"), Value("np:4", "value-4"),
                   Value("np:7", "value-7"), Value("np:8", "value-8"), kEnd));
  EXPECT_EQ(client->ReadMemcacheReply(), kMn) << "a stray reply came before mn's";
  EXPECT_EQ(Roundtrip(*client, Get(long_key)), kBadFormat) << "without noreply it is refused";

  // The 100 keys are all stored, on every backend.
  std::vector<std::string> keys;
  for (int i = 10; i < 100; ++i) keys.push_back(absl::StrCat("np:", i));
  const std::vector<int> owners = Locate(keys);
  for (size_t b = 0; b < memcached_.size(); ++b) {
    EXPECT_GT(std::count(owners.begin(), owners.end(), static_cast<int>(b)), 0)
        << "no key on backend " << b;
  }
  EXPECT_EQ(std::count(owners.begin(), owners.end(), -1), 0) << "a noreply set was lost";
}

TEST_F(MemcachePool, ValuesUpToTheItemSizeLimitRoundTripAndLargerOnesGetMemcachedsError) {
  auto client = Connect(milliseconds(15000));
  std::string big(kNearLimitValue, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 7919) % 26);
  const std::vector<std::string> keys = OneKeyPerServer(*client, "big");
  for (const std::string& key : keys) {
    SCOPED_TRACE(key);
    ASSERT_EQ(Roundtrip(*client, Set(key, big)), kStored);
    EXPECT_TRUE(SameBytes(Roundtrip(*client, Get(key)), Hit(key, big)));
  }
  // All four near-limit values in one multi-get, in request order.
  std::string expected;
  for (size_t i = keys.size(); i-- > 0;) absl::StrAppend(&expected, Value(keys[i], big));
  absl::StrAppend(&expected, kEnd);
  std::vector<std::string> reversed(keys.rbegin(), keys.rend());
  EXPECT_TRUE(SameBytes(
      Roundtrip(*client, absl::StrCat("get ", absl::StrJoin(reversed, " "), "\r\n")), expected));

  // Over memcached's item size limit: memcached's own error, and every connection goes on.
  const std::string huge(kItemSizeLimit + (512u << 10), 'h');
  for (const std::string& key : keys) {
    SCOPED_TRACE(key);
    EXPECT_EQ(Roundtrip(*client, Set(key, huge)), kTooLargeForCache);
    // memcached drops the old value of a key whose set was too large.
    EXPECT_EQ(Roundtrip(*client, Get(key)), kEnd);
    EXPECT_EQ(Roundtrip(*client, Set(absl::StrCat(key, "-small"), "s")), kStored);
    EXPECT_EQ(Roundtrip(*client, Get(absl::StrCat(key, "-small"))),
              Hit(absl::StrCat(key, "-small"), "s"));
  }
  // Also pipelined between other requests, on the same and on other servers.
  ASSERT_TRUE(client->Send(absl::StrCat(Set(keys[0], "before"), Set(keys[1], huge), Get(keys[0]),
                                        Set(keys[3], big), Set(keys[2], huge), Set(keys[2], "ok"),
                                        Get(keys[3]), Get(keys[2]))));
  EXPECT_EQ(client->ReadMemcacheReply(), kStored);
  EXPECT_EQ(client->ReadMemcacheReply(), kTooLargeForCache);
  EXPECT_EQ(client->ReadMemcacheReply(), Hit(keys[0], "before"));
  EXPECT_EQ(client->ReadMemcacheReply(), kStored);
  EXPECT_EQ(client->ReadMemcacheReply(), kTooLargeForCache);
  EXPECT_EQ(client->ReadMemcacheReply(), kStored);
  EXPECT_TRUE(SameBytes(client->ReadMemcacheReply(), Hit(keys[3], big)));
  EXPECT_EQ(client->ReadMemcacheReply(), Hit(keys[2], "ok"));
  // With noreply memcached swallows the value silently, and so does the proxy.
  ASSERT_TRUE(client->Send(
      absl::StrCat(Store("set", keys[1], huge, 0, 0, /*noreply=*/true), Get(keys[2]), "mn\r\n")));
  EXPECT_EQ(client->ReadMemcacheReply(), Hit(keys[2], "ok"));
  EXPECT_EQ(client->ReadMemcacheReply(), kMn);
  // Several clients storing near-limit and too-large values at once.
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Client c(listen_, milliseconds(15000));
      const std::string key = absl::StrCat("big-thread:", t);
      if (Roundtrip(c, Set(key, huge)) != kTooLargeForCache) return;
      if (Roundtrip(c, Set(key, big)) != kStored) return;
      if (Roundtrip(c, Get(key)) == Hit(key, big)) ++good;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(good.load(), 4);
}

TEST_F(MemcachePool, RequestsArrivingOneByteAtATimeAndHalfCloseGetEveryReply) {
  auto setup = Connect();
  const std::vector<std::string> keys = OneKeyPerServer(*setup, "bytes");
  const std::string all_keys = absl::StrJoin(keys, " ");
  const std::string pipeline =
      absl::StrCat(Set("bytes:new", "fresh\r\nEND\r\n", 12), "get ", all_keys,
                   " bytes:new nokey\r\n", SetNoreply("bytes:quiet", "q"),
                   "ms bytes:meta 4 T0\r\nmeta\r\n", "mn\r\n", "mg bytes:meta v\r\n", "gat 100 ",
                   all_keys, "\r\n", "incr bytes:new 1\r\n", "bogus\r\n", "   get bytes:quiet\n");
  std::string values;
  for (const std::string& key : keys) absl::StrAppend(&values, Value(key, key + "-value"));
  const std::string expected =
      absl::StrCat(kStored, values, Value("bytes:new", "fresh\r\nEND\r\n", 12), kEnd, "HD\r\n", kMn,
                   "VA 4\r\nmeta\r\n", values, kEnd,
                   "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n", kError,
                   Hit("bytes:quiet", "q"));

  // One byte per write.
  auto client = Connect();
  for (char c : pipeline) ASSERT_TRUE(client->Send(absl::string_view(&c, 1)));
  EXPECT_TRUE(SameBytes(client->ReadExactly(expected.size()), expected));
  EXPECT_EQ(Roundtrip(*client, "mn\r\n"), kMn) << "nothing more than the expected replies";

  // All at once, then a half-close: every reply arrives, then the proxy closes. A request left
  // incomplete at the half-close is discarded.
  auto half = Connect();
  ASSERT_TRUE(half->Send(pipeline + pipeline + "get bytes:new"));
  half->ShutdownWrite();
  EXPECT_TRUE(SameBytes(half->ReadAll(), absl::StrCat(expected, expected)));
  EXPECT_TRUE(half->WaitForClose());
}

TEST_F(MemcachePool, ThousandKeyMultiGetIsMergedInRequestOrderWithOneEnd) {
  auto client = Connect();
  constexpr size_t kStoredKeys = 700;
  std::vector<std::string> stored;
  std::string sets;
  for (size_t i = 0; i < kStoredKeys; ++i) {
    stored.push_back(absl::StrCat("mk:", i));
    // Values of varied sizes, some containing "END\r\n" and "VALUE " themselves.
    std::string value = absl::StrCat("v", i, "-", std::string(i % 97, 'x'));
    if (i % 50 == 0) absl::StrAppend(&value, "\r\nEND\r\nVALUE mk:1 0 1\r\n");
    absl::StrAppend(&sets, Set(stored.back(), value, static_cast<uint32_t>(i)));
  }
  const std::vector<std::string> replies = Pipeline(*client, sets, kStoredKeys);
  for (size_t i = 0; i < kStoredKeys; ++i) ASSERT_EQ(replies[i], kStored) << stored[i];
  const std::vector<int> owners = Locate(stored);
  for (size_t b = 0; b < memcached_.size(); ++b) {
    EXPECT_GT(std::count(owners.begin(), owners.end(), static_cast<int>(b)), 50)
        << "too few keys on backend " << b;
  }

  // 1,000 keys: stored ones in random order, some requested several times, some missing.
  std::mt19937 random(20240601);
  std::vector<std::string> request;
  size_t missing = 0;
  size_t duplicates = 0;
  std::map<std::string, int> times;
  for (size_t i = 0; i < 1000; ++i) {
    if (random() % 100 < 15) {
      request.push_back(absl::StrCat("missing:", i));
      ++missing;
    } else {
      request.push_back(stored[random() % kStoredKeys]);
      if (++times[request.back()] == 2) ++duplicates;
    }
  }
  ASSERT_GT(missing, 100u);
  ASSERT_GT(duplicates, 50u);
  std::string expected;
  for (const std::string& key : request) {
    if (absl::StartsWith(key, "missing:")) continue;
    size_t i = 0;
    ASSERT_TRUE(absl::SimpleAtoi(key.substr(3), &i));
    std::string value = absl::StrCat("v", i, "-", std::string(i % 97, 'x'));
    if (i % 50 == 0) absl::StrAppend(&value, "\r\nEND\r\nVALUE mk:1 0 1\r\n");
    absl::StrAppend(&expected, Value(key, value, static_cast<uint32_t>(i)));
  }
  absl::StrAppend(&expected, kEnd);

  const std::string line = absl::StrCat("get ", absl::StrJoin(request, " "), "\r\n");
  ASSERT_GT(line.size(), 2048u) << "longer than memcached's limit for other lines";
  EXPECT_TRUE(SameBytes(Roundtrip(*client, line), expected));

  // gets: same keys in the same order, each with its unique.
  const std::string gets =
      Roundtrip(*client, absl::StrCat("gets ", absl::StrJoin(request, " "), "\r\n"));
  std::vector<ValueBlock> blocks;
  ASSERT_TRUE(ParseRetrieval(gets, &blocks)) << ShowBytes(gets);
  std::vector<std::string> got;
  for (const ValueBlock& b : blocks) {
    got.push_back(b.key);
    EXPECT_GT(b.cas, 0u);
  }
  std::vector<std::string> want;
  for (const std::string& key : request) {
    if (!absl::StartsWith(key, "missing:")) want.push_back(key);
  }
  EXPECT_EQ(got, want);

  // Three clients at once, pipelined twice each: every reply complete and in order.
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      Client c(listen_, milliseconds(10000));
      if (!c.Send(line + line)) return;
      if (c.ReadMemcacheReply() == expected && c.ReadMemcacheReply() == expected) ++good;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(good.load(), 3);
}

// ---------------------------------------------------------------------------------------------
// 3. Malformed input

class MemcacheMalformed : public MemcachePool {};

TEST_F(MemcacheMalformed, UnknownCommandGetsErrorAndTheConnectionStaysUsable) {
  auto client = Connect();
  ASSERT_EQ(Roundtrip(*client, Set("ok", "fine")), kStored);
  EXPECT_EQ(Roundtrip(*client, "bogus foo\r\n"), kError);
  EXPECT_EQ(Roundtrip(*client, "GET ok\r\n"), kError) << "command names are lower case only";
  EXPECT_EQ(Roundtrip(*client, "\r\n"), kError) << "an empty line";
  EXPECT_EQ(Roundtrip(*client, "get\r\n"), kError) << "get without a key";
  EXPECT_EQ(Roundtrip(*client, "incr ok\r\n"), kError) << "wrong token count";
  EXPECT_EQ(Roundtrip(*client, Get("ok")), Hit("ok", "fine"));
  // Pipelined: each bad line gets its own error, in order.
  ASSERT_TRUE(client->Send("nope\r\n" + Get("ok") + "nope again\r\n" + Get("ok")));
  EXPECT_EQ(client->ReadMemcacheReply(), kError);
  EXPECT_EQ(client->ReadMemcacheReply(), Hit("ok", "fine"));
  EXPECT_EQ(client->ReadMemcacheReply(), kError);
  EXPECT_EQ(client->ReadMemcacheReply(), Hit("ok", "fine"));
}

TEST_F(MemcacheMalformed, UnsupportedCommandsGetClientErrorAndTheConnectionStaysUsable) {
  auto client = Connect();
  ASSERT_EQ(Roundtrip(*client, Set("ok", "fine")), kStored);
  for (const char* command : {"stats", "flush_all", "verbosity 1", "stats items"}) {
    SCOPED_TRACE(command);
    const std::string reply = Roundtrip(*client, absl::StrCat(command, "\r\n"));
    EXPECT_TRUE(absl::StartsWith(reply, "CLIENT_ERROR unsupported command ") &&
                absl::EndsWith(reply, "\r\n"))
        << ShowBytes(reply);
    EXPECT_EQ(Roundtrip(*client, Get("ok")), Hit("ok", "fine"));
  }
  // flush_all was not forwarded to any backend.
  EXPECT_GE(Locate({"ok"})[0], 0) << "flush_all reached a backend";
}

TEST_F(MemcacheMalformed, BadKeysGetClientErrorAndTheConnectionStaysUsable) {
  auto client = Connect();
  ASSERT_EQ(Roundtrip(*client, Set("ok", "fine")), kStored);
  const std::string key250(250, 'k');
  const std::string key251(251, 'k');
  EXPECT_EQ(Roundtrip(*client, Get(key250)), kEnd) << "250 bytes is a valid key";
  EXPECT_EQ(Roundtrip(*client, Set(key250, "long")), kStored);
  EXPECT_EQ(Roundtrip(*client, Get(key250)), Hit(key250, "long"));

  EXPECT_EQ(Roundtrip(*client, Get(key251)), kBadFormat);
  EXPECT_EQ(Roundtrip(*client, absl::StrCat("get ok ", key251, "\r\n")), kBadFormat);
  EXPECT_EQ(Roundtrip(*client, Set(key251, "x")), kBadFormat) << "data block skipped";
  EXPECT_EQ(Roundtrip(*client, Get("ok")), Hit("ok", "fine"));
  EXPECT_EQ(Roundtrip(*client, "get a\x01z\r\n"), kBadFormat) << "control character";
  EXPECT_EQ(Roundtrip(*client, "get a\x7fz\r\n"), kBadFormat) << "DEL character";
  EXPECT_EQ(Roundtrip(*client, "get a\tz\r\n"), kBadFormat) << "tab";
  EXPECT_EQ(Roundtrip(*client, Set("a\x02z", "x")), kBadFormat);
  EXPECT_EQ(Roundtrip(*client, absl::StrCat("incr ", key251, " 1\r\n")), kBadFormat);
  EXPECT_EQ(Roundtrip(*client, absl::StrCat("delete ", key251, "\r\n")), kBadFormat);
  EXPECT_EQ(Roundtrip(*client, absl::StrCat("touch ", key251, " 1\r\n")), kBadFormat);
  EXPECT_EQ(MetaRoundtrip(*client, absl::StrCat("mg ", key251, " v\r\n")), kBadFormat);
  // Bad numbers with a known data length: the block is skipped, the stream goes on.
  EXPECT_EQ(Roundtrip(*client, "set badflags x 0 1\r\nz\r\n"), kBadFormat);
  EXPECT_EQ(Roundtrip(*client, "set badexp 0 x 1\r\nz\r\n"), kBadFormat);
  EXPECT_EQ(Roundtrip(*client, "cas badcas 0 0 1 x\r\nz\r\n"), kBadFormat);
  EXPECT_EQ(Roundtrip(*client, Get("ok")), Hit("ok", "fine"));
  // Pipelined after a bad key, the next request is answered normally.
  ASSERT_TRUE(client->Send(Get(key251) + Get("ok")));
  EXPECT_EQ(client->ReadMemcacheReply(), kBadFormat);
  EXPECT_EQ(client->ReadMemcacheReply(), Hit("ok", "fine"));
  EXPECT_EQ(Locate({"badflags", "badexp", "badcas"}), std::vector<int>({-1, -1, -1}));
}

TEST_F(MemcacheMalformed, BadDataChunkClosesOnlyThatConnection) {
  auto bystander = Connect();
  ASSERT_EQ(Roundtrip(*bystander, Set("ok", "fine")), kStored);
  auto client = Connect();
  ASSERT_EQ(Roundtrip(*client, Set("before", "b")), kStored);
  ASSERT_TRUE(client->Send("set k 0 0 3\r\nabcdef\r\n" + Get("ok")));
  EXPECT_EQ(client->ReadMemcacheReply(), "CLIENT_ERROR bad data chunk\r\n");
  EXPECT_EQ(client->ReadAll(), "") << "nothing after the error";
  EXPECT_TRUE(client->WaitForClose());

  // Everybody else goes on, and the half-received set was not executed.
  EXPECT_EQ(Roundtrip(*bystander, Get("ok")), Hit("ok", "fine"));
  EXPECT_EQ(Roundtrip(*bystander, Get("k")), kEnd);
  EXPECT_EQ(Locate({"k"}), std::vector<int>{-1});
  auto later = Connect();
  EXPECT_EQ(Roundtrip(*later, Get("before")), Hit("before", "b"));

  // The same with noreply: the error is still reported (the stream is lost), then the close.
  auto quiet = Connect();
  ASSERT_TRUE(quiet->Send("set k 0 0 3 noreply\r\nabcd"));
  EXPECT_EQ(quiet->ReadMemcacheReply(), "CLIENT_ERROR bad data chunk\r\n");
  EXPECT_TRUE(quiet->WaitForClose());
  EXPECT_EQ(Roundtrip(*bystander, Get("ok")), Hit("ok", "fine"));
}

TEST_F(MemcacheMalformed, OverlongLineWithoutEndGetsAnErrorAndCloses) {
  auto bystander = Connect();
  auto client = Connect();
  ASSERT_EQ(Roundtrip(*client, Set("ok", "fine")), kStored);
  ASSERT_TRUE(client->Send(absl::StrCat("set ", std::string(4096, 'x'))));
  EXPECT_EQ(client->ReadMemcacheReply(), "CLIENT_ERROR line too long\r\n");
  EXPECT_TRUE(client->WaitForClose());

  // Also a garbage line without any known command.
  auto garbage = Connect();
  ASSERT_TRUE(garbage->Send(std::string(64 << 10, 'g')));
  EXPECT_EQ(garbage->ReadMemcacheReply(), "CLIENT_ERROR line too long\r\n");
  EXPECT_TRUE(garbage->WaitForClose());

  EXPECT_EQ(Roundtrip(*bystander, Get("ok")), Hit("ok", "fine"));
}

TEST_F(MemcacheMalformed, UnframableRequestsGetAnErrorAndClose) {
  auto bystander = Connect();
  ASSERT_EQ(Roundtrip(*bystander, Set("ok", "fine")), kStored);
  struct Case {
    const char* what;
    std::string bytes;
    std::string reply_prefix;
  };
  const std::vector<Case> cases = {
      {"data length not a number", "set k 0 0 abc\r\nabc\r\n", std::string(kBadFormat)},
      {"negative data length", "set k 0 0 -1\r\n\r\n", std::string(kBadFormat)},
      {"storage line missing a token", "set k 0 3\r\nabc\r\n", std::string(kBadFormat)},
      {"admin command with noreply", "flush_all noreply\r\n",
       "CLIENT_ERROR command 'flush_all' is not supported by the proxy"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto client = Connect();
    ASSERT_TRUE(client->Send(c.bytes));
    const std::string reply = client->ReadMemcacheReply();
    EXPECT_TRUE(absl::StartsWith(reply, c.reply_prefix) && absl::EndsWith(reply, "\r\n"))
        << ShowBytes(reply);
    EXPECT_TRUE(client->WaitForClose());
    EXPECT_EQ(Roundtrip(*bystander, Get("ok")), Hit("ok", "fine"));
  }
  {
    // A connection speaks the protocol of its first byte: binary magic (0x80) after an ASCII
    // request cannot be framed (a connection starting with 0x80 is a binary client,
    // test/binary/).
    SCOPED_TRACE("binary magic after an ASCII request");
    auto client = Connect();
    ASSERT_TRUE(client->Send("mn\r\n" + std::string("\x80\x01\x00\x03\x00\x00\x00\x00", 8) +
                             "foo"));
    EXPECT_EQ(client->ReadMemcacheReply(), "MN\r\n");
    const std::string reply = client->ReadMemcacheReply();
    EXPECT_TRUE(absl::StartsWith(reply, "SERVER_ERROR ") && absl::EndsWith(reply, "\r\n"))
        << ShowBytes(reply);
    EXPECT_TRUE(client->WaitForClose());
    EXPECT_EQ(Roundtrip(*bystander, Get("ok")), Hit("ok", "fine"));
  }
  EXPECT_EQ(Locate({"k"}), std::vector<int>{-1});
}

// The proxy's own size limit (--max-request-bytes): refused with a clear error before any byte
// reaches a backend.
TEST(MemcacheProxyLimit, ValueOverMaxRequestBytesIsRefusedWithAClearError) {
  ASSERT_TRUE(MemcachedInstalled());
  MemcachedServer memcached({"-I", "4m"});
  ASSERT_TRUE(memcached.ok());
  const int listen = FreePort();
  ProxyProcess proxy(
      Yaml({{"alpha", listen, {}, {absl::StrCat("127.0.0.1:", memcached.port(), ":1")}}}), {listen},
      {"--max-request-bytes=1048576"});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Client bystander(listen, milliseconds(5000));
  ASSERT_EQ(Roundtrip(bystander, Set("ok", std::string(1000000, 'o'))), kStored)
      << "under the limit";

  Client client(listen, milliseconds(5000));
  ASSERT_TRUE(client.Send(absl::StrCat("set big 0 0 2000000\r\n", std::string(1000, 'b'))));
  const std::string reply = client.ReadMemcacheReply();
  EXPECT_TRUE(absl::StartsWith(reply, "SERVER_ERROR object too large for the proxy") &&
              absl::StrContains(reply, "2000000") && absl::StrContains(reply, "1048576"))
      << ShowBytes(reply);
  EXPECT_TRUE(client.WaitForClose());
  EXPECT_EQ(Roundtrip(bystander, Get("big")), kEnd);
  EXPECT_EQ(Roundtrip(bystander, Get("ok")), Hit("ok", std::string(1000000, 'o')));
}

// ---------------------------------------------------------------------------------------------
// 4. A backend killed under traffic

// set then get on each key, round and round.
bool MemcacheSetGet(TrafficLoop::Turn& t) {
  int sent = t.phase();
  std::string reply = Roundtrip(t.client, Set(t.key, t.value));
  const bool set_ok = reply == kStored;
  if (!t.record(sent, "set", reply, set_ok)) return false;
  sent = t.phase();
  reply = Roundtrip(t.client, Get(t.key));
  // After a failed set the value may be older (or gone after a restart).
  const bool get_ok = set_ok ? reply == Hit(t.key, t.value)
                             : (absl::StartsWith(reply, "VALUE ") || reply == kEnd);
  return t.record(sent, "get", reply, get_ok);
}

TEST(MemcacheBackendFailure, KilledBackendFailsOnlyItsOwnKeysAndNoreplyStaysSilent) {
  ASSERT_TRUE(MemcachedInstalled());
  auto memcached = StartServers<MemcachedServer>(3);
  ASSERT_TRUE(AllOk(memcached));
  const Combination* combo = FindNamed3("ketama", "md5", "");
  ASSERT_NE(combo, nullptr);
  constexpr int kVictim = 1;  // cache-b

  // Client A: keys of all three servers. Client B: disjoint keys of the two others only.
  // Probe keys, untouched by the traffic, for the noreply and multi-get checks.
  const DrillKeys keys = PickDrillKeys(*combo, kVictim, MemcacheKey);
  ASSERT_TRUE(keys.Complete());
  const std::string& victim_probe = keys.victim_probe;
  const std::string& live_probe = keys.live_probe;

  const int listen = FreePort();
  ProxyProcess proxy(Yaml({{"alpha",
                            listen,
                            {{"hash", "md5"}, {"auto_eject_hosts", "false"}},
                            NamedServers(*combo, Ports(memcached))}}),
                     {listen});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Client probe(listen, milliseconds(5000));
  ASSERT_EQ(Roundtrip(probe, Set(live_probe, "probe")), kStored);
  ASSERT_EQ(Roundtrip(probe, Set(victim_probe, "probe")), kStored);

  KillDrill drill(listen, keys, &MemcacheSetGet, {kRefused, kReset, kUnknown});
  // Everything works before the kill.
  ASSERT_TRUE(drill.StartAndWaitWorking());

  drill.Killing();
  memcached[kVictim]->Kill();
  const int victim_port = memcached[kVictim]->port();
  ASSERT_TRUE(WaitUntil([&] { return PortRefuses(victim_port); }, milliseconds(5000)));
  // Its keys fail with "Connection refused" while the other keys keep working.
  EXPECT_TRUE(drill.WaitFailedOver())
      << "refused victim requests: " << drill.mixed().Count(true, kKilled, false, kRefused);

  // noreply requests to the dead server get no reply at all, not even an error.
  {
    Client quiet(listen, milliseconds(5000));
    std::string pipeline;
    for (int i = 0; i < 5; ++i) {
      absl::StrAppend(&pipeline, SetNoreply(victim_probe, absl::StrCat("lost-", i)));
      absl::StrAppend(&pipeline, "delete ", victim_probe, " noreply\r\n");
      absl::StrAppend(&pipeline, "incr ", victim_probe, " 1 noreply\r\n");
      absl::StrAppend(&pipeline, "touch ", victim_probe, " 10 noreply\r\n");
      absl::StrAppend(&pipeline, SetNoreply(live_probe, "probe"));
    }
    absl::StrAppend(&pipeline, Get(live_probe), "mn\r\n");
    ASSERT_TRUE(quiet.Send(pipeline));
    EXPECT_EQ(quiet.ReadMemcacheReply(), Hit(live_probe, "probe"))
        << "the first reply must be the get's: noreply requests answer nothing";
    EXPECT_EQ(quiet.ReadMemcacheReply(), kMn);

    // A multi-get over the dead and a live server: one error reply, the connection goes on.
    EXPECT_EQ(Roundtrip(quiet, absl::StrCat("get ", live_probe, " ", victim_probe, "\r\n")),
              kRefused);
    EXPECT_EQ(Roundtrip(quiet, Get(live_probe)), Hit(live_probe, "probe"));
    EXPECT_EQ(Roundtrip(quiet, Get(victim_probe)), kRefused);
    EXPECT_EQ(Roundtrip(quiet, "mn\r\n"), kMn);
  }

  ASSERT_TRUE(memcached[kVictim]->Restart());
  drill.Restarted();
  // The next request makes a new connection: its keys succeed again.
  EXPECT_TRUE(drill.WaitRecovered());
  drill.StopAndCheck();
  EXPECT_EQ(Roundtrip(probe, Get(victim_probe)), kEnd) << "the restarted memcached is empty";
  EXPECT_EQ(Roundtrip(probe, Set(victim_probe, "again")), kStored);
}

// ---------------------------------------------------------------------------------------------
// 5. Ejection and return

TEST(MemcacheEjection, DeadServersKeysMoveToLiveServersAndReturnAfterTheRetryTimeout) {
  ASSERT_TRUE(MemcachedInstalled());
  auto memcached = StartServers<MemcachedServer>(3);
  ASSERT_TRUE(AllOk(memcached));
  const Combination* combo = FindNamed3("ketama", "md5", "");
  ASSERT_NE(combo, nullptr);
  constexpr int kVictim = 1;  // cache-b
  const std::vector<std::string> victim_keys =
      KeysOf(*combo, kVictim, /*others=*/false, MemcacheKey);
  const std::vector<std::string> live_keys = KeysOf(*combo, kVictim, /*others=*/true, MemcacheKey);
  ASSERT_GE(victim_keys.size(), 10u);
  ASSERT_GE(live_keys.size(), 10u);
  const std::string victim_key = victim_keys[0];
  const std::string live_key = live_keys[0];

  const int listen = FreePort();
  ProxyProcess proxy(Yaml({{"alpha",
                            listen,
                            {{"hash", "md5"},
                             {"auto_eject_hosts", "true"},
                             {"server_failure_limit", "1"},
                             {"server_retry_timeout", "1000"}},
                            NamedServers(*combo, Ports(memcached))}}),
                     {listen});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Client client(listen, milliseconds(5000));
  std::vector<std::unique_ptr<Client>> direct;
  for (const auto& m : memcached) direct.push_back(std::make_unique<Client>(m->port()));

  ASSERT_EQ(Roundtrip(client, Set(victim_key, "before")), kStored);
  ASSERT_EQ(Roundtrip(*direct[kVictim], Get(victim_key)), Hit(victim_key, "before"));
  ASSERT_EQ(Roundtrip(client, Set(live_key, "live")), kStored);

  const auto killed_at = Clock::now();
  memcached[kVictim]->Kill();
  ASSERT_TRUE(
      WaitUntil([&] { return PortRefuses(memcached[kVictim]->port()); }, milliseconds(5000)));

  // server_failure_limit 1: at most one request fails (the close of the idle connection may
  // already have counted), then the victim's keys are served by the live servers.
  int failures = 0;
  std::string last;
  const bool moved = WaitUntil(
      [&] {
        last = Roundtrip(client, Set(victim_key, "moved"));
        if (last != kStored) ++failures;
        return last == kStored || last.empty();
      },
      milliseconds(3000));
  ASSERT_TRUE(moved && last == kStored) << "last reply " << ShowBytes(last);
  EXPECT_LE(failures, 1) << "more than server_failure_limit requests failed";
  std::vector<int> holders;
  for (int b : {0, 2}) {
    if (Roundtrip(*direct[static_cast<size_t>(b)], Get(victim_key)) == Hit(victim_key, "moved")) {
      holders.push_back(b);
    }
  }
  EXPECT_EQ(holders.size(), 1u) << "the moved key must be on exactly one live server";
  EXPECT_EQ(Roundtrip(client, Get(victim_key)), Hit(victim_key, "moved"));
  EXPECT_EQ(Roundtrip(client, Get(live_key)), Hit(live_key, "live"));
  // Every key of the dead server is served meanwhile; noreply ones too, silently.
  std::string pipeline;
  for (size_t i = 0; i < 10; ++i) absl::StrAppend(&pipeline, SetNoreply(victim_keys[i], "nr"));
  absl::StrAppend(&pipeline, "get");
  for (size_t i = 0; i < 10; ++i) absl::StrAppend(&pipeline, " ", victim_keys[i]);
  absl::StrAppend(&pipeline, "\r\n");
  std::string expected;
  for (size_t i = 0; i < 10; ++i) absl::StrAppend(&expected, Value(victim_keys[i], "nr"));
  absl::StrAppend(&expected, kEnd);
  EXPECT_EQ(Roundtrip(client, pipeline), expected);

  // Still ejected shortly before the retry timeout (elapsed time is the behaviour here).
  std::this_thread::sleep_until(killed_at + milliseconds(600));
  EXPECT_EQ(Roundtrip(client, Get(victim_key)), Hit(victim_key, "nr"));

  // Restarted before the retry timeout: after it, the server gets its keys again.
  ASSERT_TRUE(memcached[kVictim]->Restart());
  Client victim_direct(memcached[kVictim]->port());
  int errors = 0;
  int attempt = 0;
  const bool back = WaitUntil(
      [&] {
        const std::string value = absl::StrCat("back-", ++attempt);
        const std::string reply = Roundtrip(client, Set(victim_key, value));
        if (reply != kStored) {
          ++errors;
          ADD_FAILURE() << "set while the server returns: " << ShowBytes(reply);
          return reply.empty();
        }
        return Roundtrip(victim_direct, Get(victim_key)) == Hit(victim_key, value);
      },
      milliseconds(5000));
  const auto back_at = Clock::now();
  EXPECT_TRUE(back) << "the restarted server never got its key back";
  EXPECT_EQ(errors, 0);
  EXPECT_GE(back_at - killed_at, milliseconds(1000)) << "returned before server_retry_timeout";
  EXPECT_EQ(Roundtrip(client, Get(live_key)), Hit(live_key, "live"));
  EXPECT_EQ(Roundtrip(client, Get(victim_keys[1])), kEnd) << "read from the restarted server";
}

// With every server ejected the proxy fails requests at once ("Connection refused"), but a
// request that said noreply must still get nothing: a reply would be read as the answer to the
// client's next request.
TEST(MemcacheEjection, NoreplyRequestsGetNoReplyEvenWhenEveryServerIsEjected) {
  ASSERT_TRUE(MemcachedInstalled());
  auto memcached = StartServers<MemcachedServer>(2);
  ASSERT_TRUE(AllOk(memcached));
  const int listen = FreePort();
  ProxyProcess proxy(Yaml({{"alpha",
                            listen,
                            {{"auto_eject_hosts", "true"},
                             {"server_failure_limit", "1"},
                             {"server_retry_timeout", "30000"}},
                            {absl::StrCat("127.0.0.1:", memcached[0]->port(), ":1 node-a"),
                             absl::StrCat("127.0.0.1:", memcached[1]->port(), ":1 node-b")}}}),
                     {listen});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  Client client(listen, milliseconds(5000));
  ASSERT_EQ(Roundtrip(client, Set("k", "v")), kStored);

  for (auto& m : memcached) m->Kill();
  for (auto& m : memcached) {
    const int port = m->port();
    ASSERT_TRUE(WaitUntil([&] { return PortRefuses(port); }, milliseconds(5000)));
  }
  // One failure ejects a server: after these, both are out for 30 s.
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(Roundtrip(client, Get(absl::StrCat("probe:", i))), kRefused) << "request " << i;
  }
  ASSERT_TRUE(client.Send(absl::StrCat(SetNoreply("k", "x"), "delete k noreply\r\n",
                                       "incr k 1 noreply\r\n", "touch k 10 noreply\r\n",
                                       Store("add", "k2", "y", 0, 0, true), "mn\r\n")));
  EXPECT_EQ(client.ReadMemcacheReply(), kMn) << "a noreply request was answered";
  EXPECT_EQ(Roundtrip(client, Get("k")), kRefused);
  EXPECT_EQ(Roundtrip(client, "mn\r\n"), kMn);
}

// ---------------------------------------------------------------------------------------------
// 6. memcslap

TEST(MemcacheMemcslap, RunsAgainstTheProxyWithoutErrors) {
  ASSERT_TRUE(MemcachedInstalled());
  ASSERT_TRUE(ToolInstalled("memcslap", "libmemcached-tools"));
  auto memcached = StartServers<MemcachedServer>(3);
  ASSERT_TRUE(AllOk(memcached));
  std::vector<std::string> servers;
  for (size_t i = 0; i < memcached.size(); ++i) {
    servers.push_back(absl::StrCat("127.0.0.1:", memcached[i]->port(), ":1 slap-", i));
  }
  const int listen = FreePort();
  ProxyProcess proxy(Yaml({{"alpha", listen, {}, servers}}), {listen});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();

  constexpr int kConcurrency = 4;
  constexpr int kExecute = 2000;
  for (const char* test : {"set", "get", "mget"}) {
    SCOPED_TRACE(test);
    const CommandResult run =
        RunCommand({FindExecutable("memcslap"), absl::StrCat("--servers=127.0.0.1:", listen),
                    absl::StrCat("--concurrency=", kConcurrency),
                    absl::StrCat("--execute-number=", kExecute), absl::StrCat("--test=", test)},
                   milliseconds(60000));
    EXPECT_FALSE(run.timed_out) << run.output;
    EXPECT_EQ(run.exit_code, 0) << run.output;
    const std::string lower = absl::AsciiStrToLower(run.output);
    EXPECT_FALSE(absl::StrContains(lower, "error") || absl::StrContains(lower, "fail"))
        << run.output;
    // "Time to <test> <N> keys by 4 threads": every operation was done.
    const std::string done = absl::StrCat("Time to ", test, " ");
    const size_t at = run.output.find(done);
    ASSERT_NE(at, std::string::npos) << run.output;
    const std::vector<std::string> words =
        absl::StrSplit(run.output.substr(at + done.size(), 40), ' ', absl::SkipEmpty());
    int64_t keys = 0;
    ASSERT_TRUE(!words.empty() && absl::SimpleAtoi(words[0], &keys)) << run.output;
    EXPECT_EQ(keys, kConcurrency * kExecute) << run.output;
  }
  // The keys were spread over all three backends.
  for (const auto& m : memcached) {
    Client direct(m->port());
    int64_t items = 0;
    EXPECT_TRUE(absl::SimpleAtoi(Stats(direct)["curr_items"], &items));
    EXPECT_GT(items, 100) << "memcached on port " << m->port();
  }
  Client client(listen);
  EXPECT_EQ(Roundtrip(client, "mn\r\n"), kMn) << "the proxy still answers";
}

}  // namespace
}  // namespace proxy::test

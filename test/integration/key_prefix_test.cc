// The key_prefix filter end to end: real redis-server and memcached backends on free 127.0.0.1
// ports behind the real //:proxy binary, with pools whose chain is [key_prefix, hash_tag,
// router, stats]. Every key lands on the backends under its prefix (checked with direct
// connections), split multi-key commands and pipelines still answer in order, two pools with
// different prefixes on the same backends do not see each other's keys, memcache clients get
// their own keys back in VALUE lines, and `proxyctl check` / `proxy -t` reject a bad prefix
// with file:line:col.
//
// Every process is started by the test itself and stopped by the harness destructors.
#include <limits.h>
#include <stdlib.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"

namespace proxy::test {
namespace {

using std::chrono::milliseconds;

constexpr char kOk[] = "+OK\r\n";
constexpr char kNil[] = "$-1\r\n";

std::string Bulk(absl::string_view s) { return absl::StrCat("$", s.size(), "\r\n", s, "\r\n"); }
std::string Int(int64_t n) { return absl::StrCat(":", n, "\r\n"); }

::testing::AssertionResult HaveTool(absl::string_view name) {
  if (!FindExecutable(name).empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "'" << name << "' was not found in PATH nor /usr/bin: these integration tests need "
         << "Debian's redis-server and memcached packages (tools/setup.sh installs them)";
}

// One pool's YAML: the chain [key_prefix {prefix}, hash_tag, router, stats] over `servers`
// (named s1..sN so that placement does not depend on the ports).
std::string PoolYaml(absl::string_view name, int port, bool redis, absl::string_view prefix,
                     const std::vector<int>& servers) {
  std::string yaml =
      absl::StrCat(name, ":\n  listen: 127.0.0.1:", port, "\n  redis: ", redis ? "true" : "false",
                   "\n  hash: fnv1a_64\n  distribution: ketama\n"
                   "  hash_tag: \"{}\"\n  timeout: 30000\n"
                   "  filters:\n"
                   "    - name: key_prefix\n"
                   "      config:\n"
                   "        prefix: \"",
                   prefix,
                   "\"\n"
                   "    - hash_tag\n"
                   "    - router\n"
                   "    - stats\n"
                   "  servers:\n");
  for (size_t i = 0; i < servers.size(); ++i) {
    absl::StrAppend(&yaml, "   - 127.0.0.1:", servers[i], ":1 s", i + 1, "\n");
  }
  return yaml;
}

// ---------------------------------------------------------------------------------------------
// redis: three redis-servers, pools "app1" (prefix app1:) and "app2" (prefix app2:).

class RedisKeyPrefixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(HaveTool("redis-server"));
    std::vector<int> ports;
    for (int i = 0; i < 3; ++i) {
      redis_.push_back(std::make_unique<RedisServer>());
      ASSERT_TRUE(redis_.back()->ok()) << "redis-server did not start";
      ports.push_back(redis_.back()->port());
    }
    app1_port_ = FreePort();
    app2_port_ = FreePort();
    const std::string yaml = PoolYaml("app1", app1_port_, true, "app1:", ports) +
                             PoolYaml("app2", app2_port_, true, "app2:", ports);
    proxy_ = std::make_unique<ProxyProcess>(yaml, std::vector<int>{app1_port_, app2_port_});
    ASSERT_TRUE(proxy_->ok()) << yaml << proxy_->Log();
    for (const auto& server : redis_) {
      direct_.push_back(std::make_unique<Client>(server->port()));
      ASSERT_TRUE(direct_.back()->connected());
    }
    app1_ = std::make_unique<Client>(app1_port_);
    app2_ = std::make_unique<Client>(app2_port_);
    ASSERT_TRUE(app1_->connected() && app2_->connected());
  }

  // The backends holding `key` (asked directly).
  std::vector<int> Owners(absl::string_view key) {
    std::vector<int> owners;
    for (size_t i = 0; i < direct_.size(); ++i) {
      if (direct_[i]->Command({"EXISTS", std::string(key)}) == Int(1)) {
        owners.push_back(static_cast<int>(i));
      }
    }
    return owners;
  }

  // `value` of `key` on the one backend that holds it; "" when none or several do.
  std::string BackendGet(absl::string_view key) {
    const std::vector<int> owners = Owners(key);
    if (owners.size() != 1) return "";
    return direct_[owners[0]]->Command({"GET", std::string(key)});
  }

  std::vector<std::unique_ptr<RedisServer>> redis_;
  std::vector<std::unique_ptr<Client>> direct_;
  std::unique_ptr<ProxyProcess> proxy_;
  std::unique_ptr<Client> app1_;
  std::unique_ptr<Client> app2_;
  int app1_port_ = 0;
  int app2_port_ = 0;
};

TEST_F(RedisKeyPrefixTest, SingleKeyCommandsLandUnderThePrefixedKey) {
  Client& c = *app1_;
  EXPECT_EQ(c.Command({"SET", "user:1", "alice"}), kOk);
  EXPECT_EQ(Owners("user:1").size(), 0u) << "the unprefixed key reached a backend";
  EXPECT_EQ(Owners("app1:user:1").size(), 1u);
  EXPECT_EQ(BackendGet("app1:user:1"), Bulk("alice"));
  EXPECT_EQ(c.Command({"GET", "user:1"}), Bulk("alice"));
  EXPECT_EQ(c.Command({"GET", "app1:user:1"}), kNil);  // would be app1:app1:user:1

  EXPECT_EQ(c.Command({"INCR", "counter"}), Int(1));
  EXPECT_EQ(c.Command({"INCR", "counter"}), Int(2));
  EXPECT_EQ(BackendGet("app1:counter"), Bulk("2"));

  EXPECT_EQ(c.Command({"EXPIRE", "user:1", "1000"}), Int(1));
  const std::vector<int> owners = Owners("app1:user:1");
  ASSERT_EQ(owners.size(), 1u);
  const std::string ttl = direct_[owners[0]]->Command({"TTL", "app1:user:1"});
  EXPECT_TRUE(absl::StartsWith(ttl, ":") && ttl != ":-1\r\n" && ttl != ":-2\r\n") << ttl;
  EXPECT_EQ(c.Command({"TTL", "user:1"}), ttl);

  EXPECT_EQ(c.Command({"DEL", "user:1"}), Int(1));
  EXPECT_TRUE(Owners("app1:user:1").empty());
  EXPECT_EQ(c.Command({"GET", "user:1"}), kNil);

  // Inline requests are re-encoded with the prefixed key too.
  ASSERT_TRUE(c.Send("SET inline:k \"v w\"\r\n"));
  EXPECT_EQ(c.ReadReply(), kOk);
  EXPECT_EQ(BackendGet("app1:inline:k"), Bulk("v w"));
}

TEST_F(RedisKeyPrefixTest, SplitCommandsStillWorkAcrossServersInOrder) {
  Client& c = *app1_;
  std::vector<std::string> mset = {"MSET"};
  for (int i = 0; i < 30; ++i) {
    mset.push_back(absl::StrCat("m", i));
    mset.push_back(absl::StrCat("value-", i));
  }
  EXPECT_EQ(c.Command(mset), kOk);
  std::set<int> servers;
  for (int i = 0; i < 30; ++i) {
    const std::vector<int> owners = Owners(absl::StrCat("app1:m", i));
    ASSERT_EQ(owners.size(), 1u) << "m" << i;
    servers.insert(owners[0]);
    EXPECT_TRUE(Owners(absl::StrCat("m", i)).empty());
  }
  EXPECT_GT(servers.size(), 1u) << "the keys did not spread: the split was not exercised";

  std::vector<std::string> mget = {"MGET"};
  std::string expected;
  int elements = 0;
  for (int i = 29; i >= 0; i -= 2) {
    mget.push_back(absl::StrCat("m", i));
    absl::StrAppend(&expected, Bulk(absl::StrCat("value-", i)));
    mget.push_back(absl::StrCat("missing", i));
    absl::StrAppend(&expected, kNil);
    elements += 2;
  }
  EXPECT_EQ(c.Command(mget), absl::StrCat("*", elements, "\r\n", expected));

  EXPECT_EQ(c.Command({"EXISTS", "m0", "m1", "nope", "m2", "m0"}), Int(4));
  std::vector<std::string> del = {"DEL"};
  for (int i = 0; i < 30; ++i) del.push_back(absl::StrCat("m", i));
  del.push_back("nope");
  EXPECT_EQ(c.Command(del), Int(30));
  for (int i = 0; i < 30; ++i) EXPECT_TRUE(Owners(absl::StrCat("app1:m", i)).empty());
}

TEST_F(RedisKeyPrefixTest, ScriptsHashTagsAndPipelines) {
  Client& c = *app1_;
  // EVAL: a script can reach any key (redis.call with a name built at run time), so key_prefix
  // refuses scripts outright; nothing reaches the backend.
  EXPECT_EQ(c.Command({"EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", "1", "script:k",
                       "script:k"}),
            "-ERR key_prefix: 'EVAL' can reach keys outside the pool's prefix\r\n");
  EXPECT_TRUE(Owners("app1:script:k").empty()) << "no backend holds the key";
  EXPECT_EQ(c.Command({"EVAL", "return KEYS[1]", "1", "script:k"}),
            "-ERR key_prefix: 'EVAL' can reach keys outside the pool's prefix\r\n");

  // Colocated keys through the hash tag: the tag is still found inside the prefixed key.
  EXPECT_EQ(c.Command({"SADD", "{team}:a", "x", "y"}), Int(2));
  EXPECT_EQ(c.Command({"SADD", "{team}:b", "y", "z"}), Int(2));
  EXPECT_EQ(c.Command({"SINTER", "{team}:a", "{team}:b"}), "*1\r\n" + Bulk("y"));
  EXPECT_EQ(c.Command({"SINTERSTORE", "{team}:c", "{team}:a", "{team}:b"}), Int(1));
  const std::vector<int> owner = Owners("app1:{team}:c");
  ASSERT_EQ(owner.size(), 1u);
  EXPECT_EQ(Owners("app1:{team}:a"), owner);

  // A pipeline of 500 commands sent at once: replies in order.
  std::string pipeline;
  std::string expected;
  for (int i = 0; i < 250; ++i) {
    absl::StrAppend(&pipeline, Resp({"SET", absl::StrCat("p", i), absl::StrCat("v", i)}),
                    Resp({"GET", absl::StrCat("p", i)}));
    absl::StrAppend(&expected, kOk, Bulk(absl::StrCat("v", i)));
  }
  ASSERT_TRUE(c.Send(pipeline));
  EXPECT_EQ(c.ReadExactly(expected.size()), expected);
  EXPECT_EQ(BackendGet("app1:p249"), Bulk("v249"));

  // What the prefix cannot cover is refused, not forwarded unprefixed.
  EXPECT_EQ(c.Command({"KEYS", "*"}), "-ERR key_prefix: cannot rewrite 'KEYS'\r\n");
}

TEST_F(RedisKeyPrefixTest, PoolsWithDifferentPrefixesDoNotSeeEachOthersKeys) {
  EXPECT_EQ(app1_->Command({"SET", "shared", "one"}), kOk);
  EXPECT_EQ(app2_->Command({"SET", "shared", "two"}), kOk);
  EXPECT_EQ(app1_->Command({"GET", "shared"}), Bulk("one"));
  EXPECT_EQ(app2_->Command({"GET", "shared"}), Bulk("two"));
  EXPECT_EQ(BackendGet("app1:shared"), Bulk("one"));
  EXPECT_EQ(BackendGet("app2:shared"), Bulk("two"));
  EXPECT_TRUE(Owners("shared").empty());

  EXPECT_EQ(app1_->Command({"MSET", "only1:a", "1", "only1:b", "2"}), kOk);
  EXPECT_EQ(app2_->Command({"MGET", "only1:a", "only1:b"}), absl::StrCat("*2\r\n", kNil, kNil));
  EXPECT_EQ(app2_->Command({"EXISTS", "only1:a", "only1:b"}), Int(0));
  EXPECT_EQ(app2_->Command({"DEL", "shared", "only1:a"}), Int(1));  // app2's own shared only
  EXPECT_EQ(app1_->Command({"GET", "shared"}), Bulk("one"));
  EXPECT_EQ(app1_->Command({"MGET", "only1:a", "only1:b"}),
            absl::StrCat("*2\r\n", Bulk("1"), Bulk("2")));
}

// ---------------------------------------------------------------------------------------------
// memcache: three memcached, pool "mc" (prefix mc1:) and pool "mc2" (prefix mc2:).

class MemcacheKeyPrefixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(HaveTool("memcached"));
    std::vector<int> ports;
    for (int i = 0; i < 3; ++i) {
      memcached_.push_back(std::make_unique<MemcachedServer>());
      ASSERT_TRUE(memcached_.back()->ok()) << "memcached did not start";
      ports.push_back(memcached_.back()->port());
    }
    port_ = FreePort();
    port2_ = FreePort();
    const std::string yaml =
        PoolYaml("mc", port_, false, "mc1:", ports) + PoolYaml("mc2", port2_, false, "mc2:", ports);
    proxy_ = std::make_unique<ProxyProcess>(yaml, std::vector<int>{port_, port2_});
    ASSERT_TRUE(proxy_->ok()) << yaml << proxy_->Log();
    for (const auto& server : memcached_) {
      direct_.push_back(std::make_unique<Client>(server->port()));
      ASSERT_TRUE(direct_.back()->connected());
    }
    client_ = std::make_unique<Client>(port_);
    ASSERT_TRUE(client_->connected());
  }

  std::string Ask(Client& client, absl::string_view request) {
    if (!client.Send(request)) return "<send failed>";
    return client.ReadMemcacheReply();
  }
  std::string Ask(absl::string_view request) { return Ask(*client_, request); }

  // The backends that hold `key`, with the reply of the one that does (asked directly).
  std::vector<int> Owners(absl::string_view key, std::string* reply = nullptr) {
    std::vector<int> owners;
    for (size_t i = 0; i < direct_.size(); ++i) {
      const std::string got = Ask(*direct_[i], absl::StrCat("get ", key, "\r\n"));
      if (got != "END\r\n") {
        owners.push_back(static_cast<int>(i));
        if (reply != nullptr) *reply = got;
      }
    }
    return owners;
  }

  std::vector<std::unique_ptr<MemcachedServer>> memcached_;
  std::vector<std::unique_ptr<Client>> direct_;
  std::unique_ptr<ProxyProcess> proxy_;
  std::unique_ptr<Client> client_;
  int port_ = 0;
  int port2_ = 0;
};

TEST_F(MemcacheKeyPrefixTest, StorageAndRetrievalUseThePrefixedKey) {
  EXPECT_EQ(Ask("set a 5 0 3\r\nabc\r\n"), "STORED\r\n");
  std::string backend;
  EXPECT_EQ(Owners("mc1:a", &backend).size(), 1u);
  EXPECT_EQ(backend, "VALUE mc1:a 5 3\r\nabc\r\nEND\r\n");
  EXPECT_TRUE(Owners("a").empty()) << "the unprefixed key reached a backend";
  EXPECT_EQ(Ask("get a\r\n"), "VALUE a 5 3\r\nabc\r\nEND\r\n");

  // gets / cas: the client sees its own key, and cas works with the returned unique.
  const std::string gets = Ask("gets a\r\n");
  ASSERT_TRUE(absl::StartsWith(gets, "VALUE a 5 3 ")) << gets;
  const std::string unique = gets.substr(12, gets.find("\r\n") - 12);
  EXPECT_EQ(Ask(absl::StrCat("cas a 0 0 3 ", unique, "\r\nxyz\r\n")), "STORED\r\n");
  EXPECT_EQ(Ask(absl::StrCat("cas a 0 0 3 ", unique, "\r\nzzz\r\n")), "EXISTS\r\n");
  EXPECT_EQ(Ask("get a\r\n"), "VALUE a 0 3\r\nxyz\r\nEND\r\n");

  // incr/decr/touch/delete.
  EXPECT_EQ(Ask("set n 0 0 2\r\n40\r\n"), "STORED\r\n");
  EXPECT_EQ(Ask("incr n 2\r\n"), "42\r\n");
  EXPECT_EQ(Ask("decr n 1\r\n"), "41\r\n");
  EXPECT_EQ(Owners("mc1:n", &backend).size(), 1u);
  EXPECT_EQ(backend, "VALUE mc1:n 0 2\r\n41\r\nEND\r\n");
  EXPECT_EQ(Ask("touch n 1000\r\n"), "TOUCHED\r\n");
  EXPECT_EQ(Ask("delete a\r\n"), "DELETED\r\n");
  EXPECT_TRUE(Owners("mc1:a").empty());
  EXPECT_EQ(Ask("get a\r\n"), "END\r\n");

  // noreply: stored silently under the prefixed key.
  ASSERT_TRUE(client_->Send("set quiet 0 0 1 noreply\r\nq\r\n"));
  EXPECT_EQ(Ask("get quiet\r\n"), "VALUE quiet 0 1\r\nq\r\nEND\r\n");
  EXPECT_EQ(Owners("mc1:quiet").size(), 1u);

  // Meta commands: mg with the k flag returns the client's own key.
  EXPECT_EQ(Ask("ms m 2 T0\r\nhi\r\n"), "HD\r\n");
  const std::string meta_value = "VA 2 km\r\nhi\r\n";
  ASSERT_TRUE(client_->Send("mg m k v\r\n"));
  EXPECT_EQ(client_->ReadExactly(meta_value.size()), meta_value);
  EXPECT_EQ(Owners("mc1:m").size(), 1u);
}

TEST_F(MemcacheKeyPrefixTest, MultiGetAcrossServersReturnsTheClientsKeysInOrder) {
  std::string get = "get";
  std::string expected;
  std::set<int> servers;
  for (int i = 0; i < 30; ++i) {
    const std::string key = absl::StrCat("k", i);
    ASSERT_EQ(Ask(absl::StrCat("set ", key, " ", i, " 0 ", key.size(), "\r\n", key, "\r\n")),
              "STORED\r\n");
    const std::vector<int> owners = Owners("mc1:" + key);
    ASSERT_EQ(owners.size(), 1u) << key;
    servers.insert(owners[0]);
  }
  EXPECT_GT(servers.size(), 1u) << "the keys did not spread: the split was not exercised";
  for (int i = 29; i >= 0; --i) {
    const std::string key = absl::StrCat("k", i);
    absl::StrAppend(&get, " ", key, " missing", i);
    absl::StrAppend(&expected, "VALUE ", key, " ", i, " ", key.size(), "\r\n", key, "\r\n");
  }
  EXPECT_EQ(Ask(get + "\r\n"), expected + "END\r\n");

  // gets across servers: every VALUE line carries the client's key and a cas unique.
  const std::string gets = Ask("gets k1 k2 k3 k4 k5 k6\r\n");
  for (int i = 1; i <= 6; ++i) {
    EXPECT_TRUE(absl::StrContains(gets, absl::StrCat("VALUE k", i, " ", i, " 2 "))) << gets;
  }
  EXPECT_FALSE(absl::StrContains(gets, "mc1:")) << gets;
}

TEST_F(MemcacheKeyPrefixTest, PrefixesIsolatePoolsAndLongKeysAreRefused) {
  Client other(port2_);
  ASSERT_TRUE(other.connected());
  EXPECT_EQ(Ask("set same 0 0 3\r\none\r\n"), "STORED\r\n");
  EXPECT_EQ(Ask(other, "get same\r\n"), "END\r\n");
  EXPECT_EQ(Ask(other, "set same 0 0 3\r\ntwo\r\n"), "STORED\r\n");
  EXPECT_EQ(Ask("get same\r\n"), "VALUE same 0 3\r\none\r\nEND\r\n");
  EXPECT_EQ(Ask(other, "get same\r\n"), "VALUE same 0 3\r\ntwo\r\nEND\r\n");

  // 250 bytes with the 4-byte prefix is the limit.
  const std::string longest(246, 'L');
  EXPECT_EQ(Ask(absl::StrCat("set ", longest, " 0 0 1\r\nx\r\n")), "STORED\r\n");
  EXPECT_EQ(Ask(absl::StrCat("get ", longest, "\r\n")),
            absl::StrCat("VALUE ", longest, " 0 1\r\nx\r\nEND\r\n"));
  EXPECT_EQ(Ask(absl::StrCat("set ", longest, "L 0 0 1\r\nx\r\n")),
            "CLIENT_ERROR key too long with the pool's key prefix\r\n");
  EXPECT_EQ(Ask(absl::StrCat("get a ", longest, "L\r\n")),
            "CLIENT_ERROR key too long with the pool's key prefix\r\n");
  // The connection is still usable.
  EXPECT_EQ(Ask("get same\r\n"), "VALUE same 0 3\r\none\r\nEND\r\n");
}

// ---------------------------------------------------------------------------------------------
// Config checking: an empty prefix is reported with file:line:col.

TEST(KeyPrefixConfigTest, EmptyPrefixIsRejectedWithItsLocation) {
  const std::string conf = TempPath("key_prefix_empty.yml");
  std::ofstream(conf) << "app1:\n"
                         "  listen: 127.0.0.1:22121\n"
                         "  redis: true\n"
                         "  filters:\n"
                         "    - name: key_prefix\n"
                         "      config:\n"
                         "        prefix: \"\"\n"
                         "    - router\n"
                         "  servers:\n"
                         "   - 127.0.0.1:6379:1 s1\n";
  const std::string location = absl::StrCat(conf, ":7:9: ");
  const std::string message = "filters: key_prefix: prefix: must not be empty";

  const CommandResult test_conf =
      RunCommand({Runfile("proxy"), "-t", "-c", conf}, milliseconds(20000));
  EXPECT_NE(test_conf.exit_code, 0) << test_conf.output;
  EXPECT_TRUE(absl::StrContains(test_conf.output, location)) << test_conf.output;
  EXPECT_TRUE(absl::StrContains(test_conf.output, message)) << test_conf.output;

  const CommandResult check =
      RunCommand({Runfile("proxyctl"), "check", "--conf-file", conf}, milliseconds(20000));
  EXPECT_EQ(check.exit_code, 1) << check.output;
  EXPECT_TRUE(absl::StrContains(check.output, location)) << check.output;
  EXPECT_TRUE(absl::StrContains(check.output, message)) << check.output;
}

}  // namespace
}  // namespace proxy::test

// Client libraries with their default options through the proxy, against real redis-servers and
// memcacheds started here: ioredis 5 and 6, node-redis 4 and 6, memjs (memcached's binary
// protocol), redis-py (with client_name= and its transactional pipeline()) and pymemcache. Each
// client is one script in this directory that prints a transcript ("<step> <result>" per line,
// "FAIL <step>: <error>" on the first failure); the test compares it and then checks on the
// backends that the keys were really sharded.
//
// Where the clients come from:
//   node:        `node` on PATH (bazel's test PATH includes /usr/bin); the npm packages pinned in
//                test/clients/package.json are installed by tools/setup.sh into .clients/ at the
//                workspace root. The test finds that folder by following the runfiles symlink
//                of test/clients/package.json back to the source tree; CLIENTS_NODE_MODULES
//                (an absolute node_modules path, e.g. via --test_env) overrides it.
//   python:      /usr/bin/python3 with Debian's python3-redis and python3-pymemcache.
//
// Environment knobs, for running the same matrix by hand (the README's client table):
//   CLIENT_MATRIX_PROXY=/usr/sbin/nutcracker   run another proxy binary (twemproxy) instead of
//                                              //:proxy, with the same YAML and -c/-s/-a flags
//   CLIENT_MATRIX_TARGET=direct                clients talk to one backend directly (checks the
//                                              scripts themselves)
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"

namespace proxy::test {
namespace {

constexpr char kRedisTranscript[] =
    "connect ok\n"
    "set OK\n"
    "get v1\n"
    "mset OK\n"
    "mget val0,val1,val2,val3,val4,val5,val6,val7,val8,val9\n"
    "hset 2\n"
    "hgetall f1=a,f2=b\n"
    "pipeline OK,1,x\n"
    "multi OK,5,1\n"
    "after-multi 1,5\n"
    "del 1\n"
    "quit OK\n"
    "done\n";

constexpr char kMemcacheTranscript[] =
    "set OK\n"
    "get v1\n"
    "setmany OK\n"
    "getmulti m0=val0,m1=val1,m2=val2,m3=val3,m4=val4,m5=val5\n"
    "incr 6\n"
    "delete OK\n"
    "get-deleted MISS\n"
    "quit OK\n"
    "done\n";

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

std::string RealPath(const std::string& path) {
  char resolved[PATH_MAX];
  return realpath(path.c_str(), resolved) != nullptr ? resolved : "";
}

// .clients/node_modules in the source tree this test was built from (see the top comment).
std::string NodeModules() {
  std::string dir = Env("CLIENTS_NODE_MODULES");
  if (dir.empty()) {
    const std::string package = RealPath(Runfile("test/clients/package.json"));
    const std::string suffix = "/test/clients/package.json";
    if (absl::EndsWith(package, suffix)) {
      dir = package.substr(0, package.size() - suffix.size()) + "/.clients/node_modules";
    }
  }
  return dir;
}

// The transcript lines of a script's output (stderr may add warnings between them).
std::string Transcript(const std::string& output) {
  static const std::set<std::string> kSteps = {
      "connect", "set",  "get",      "mset",  "mget",   "hset",     "hgetall",     "pipeline",
      "multi",   "after-multi", "del", "quit", "setmany", "getmulti", "incr", "delete",
      "get-deleted"};
  std::string out;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    const std::string word(line.substr(0, line.find(' ')));
    if (line == "done" || absl::StartsWith(line, "FAIL ") || kSteps.count(word) > 0) {
      absl::StrAppend(&out, line, "\n");
    }
  }
  return out;
}

class ClientMatrixTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (int i = 0; i < 3; ++i) {
      redis_.push_back(std::make_unique<RedisServer>());
      memcached_.push_back(std::make_unique<MemcachedServer>());
    }
    direct_ = Env("CLIENT_MATRIX_TARGET") == "direct";
    if (direct_) {
      redis_port_ = redis_[0]->port();
      memcache_port_ = memcached_[0]->port();
      return;
    }
    redis_port_ = FreePort();
    memcache_port_ = FreePort();
    // murmur: with fnv1a_64, keys that differ only in their last byte (prefix:m0 ... m9) hash
    // close together and land on one ketama arc, which would not exercise the splits.
    std::string yaml = absl::StrCat("redis_pool:\n  listen: 127.0.0.1:", redis_port_,
                                    "\n  hash: murmur\n  hash_tag: \"{}\"\n"
                                    "  distribution: ketama\n  redis: true\n  servers:\n");
    for (int i = 0; i < 3; ++i) {
      absl::StrAppend(&yaml, "   - 127.0.0.1:", redis_[i]->port(), ":1 redis", i, "\n");
    }
    absl::StrAppend(&yaml, "memcache_pool:\n  listen: 127.0.0.1:", memcache_port_,
                    "\n  hash: murmur\n  distribution: ketama\n  servers:\n");
    for (int i = 0; i < 3; ++i) {
      absl::StrAppend(&yaml, "   - 127.0.0.1:", memcached_[i]->port(), ":1 mc", i, "\n");
    }
    const std::string conf = TempPath(absl::StrCat("client-matrix-", getpid(), ".yml"));
    FILE* f = fopen(conf.c_str(), "w");
    if (f == nullptr) return;
    fputs(yaml.c_str(), f);
    fclose(f);
    std::string binary = Env("CLIENT_MATRIX_PROXY");
    if (binary.empty()) binary = Runfile("proxy");
    proxy_log_ = conf + ".log";
    proxy_ = std::make_unique<Process>();
    if (!proxy_->Start({binary, "-c", conf, "-s", std::to_string(FreePort()), "-a", "127.0.0.1",
                        "-v", "6"},
                       proxy_log_)) {
      return;
    }
    proxy_ok_ = WaitForPortWhileRunning(*proxy_, redis_port_, std::chrono::seconds(10)) &&
                WaitForPortWhileRunning(*proxy_, memcache_port_, std::chrono::seconds(10));
  }

  static void TearDownTestSuite() {
    proxy_.reset();
    redis_.clear();
    memcached_.clear();
  }

  void SetUp() override {
    for (const auto& server : redis_) ASSERT_TRUE(server->ok());
    for (const auto& server : memcached_) ASSERT_TRUE(server->ok());
    if (!direct_) {
      ASSERT_TRUE(proxy_ok_) << "the proxy did not start; log: " << proxy_log_;
    }
  }

  void TearDown() override {
    if (!direct_) {
      EXPECT_TRUE(proxy_->Running()) << "the proxy exited; log: " << proxy_log_;
    }
  }

  // Runs a node script with `module` (an alias in test/clients/package.json).
  static void RunNode(const std::string& script, const std::string& module, int port,
                      const std::string& expected) {
    const std::string node = FindExecutable("node");
    ASSERT_FALSE(node.empty()) << "node is not installed (tools/setup.sh installs it)";
    const std::string modules = NodeModules();
    ASSERT_EQ(access((modules + "/" + module + "/package.json").c_str(), R_OK), 0)
        << modules << "/" << module
        << " is missing: run tools/setup.sh (npm ci --prefix .clients test/clients/package.json)"
        << " or set CLIENTS_NODE_MODULES";
    setenv("NODE_PATH", modules.c_str(), 1);
    Check(RunCommand({node, Runfile("test/clients/" + script), module, "127.0.0.1",
                      std::to_string(port), module},
                     std::chrono::seconds(60)),
          expected);
  }

  static void RunPython(const std::string& script, const std::string& prefix, int port,
                        const std::string& expected) {
    std::string python = "/usr/bin/python3";  // Debian's, where python3-redis is installed
    setenv("PYTHONDONTWRITEBYTECODE", "1", 1);  // no __pycache__ next to the scripts
    if (access(python.c_str(), X_OK) != 0) python = FindExecutable("python3");
    Check(RunCommand({python, Runfile("test/clients/" + script), "127.0.0.1",
                      std::to_string(port), prefix},
                     std::chrono::seconds(60)),
          expected);
  }

  static void Check(const CommandResult& result, const std::string& expected) {
    EXPECT_FALSE(result.timed_out);
    EXPECT_EQ(Transcript(result.output), expected) << "full output:\n" << result.output;
    EXPECT_EQ(result.exit_code, 0) << result.output;
  }

  // Through the proxy: the 10 MSET keys of `prefix` live on one redis each and on at least two
  // of the three, and the transaction's {user1} keys share one.
  static void ExpectRedisSharding(const std::string& prefix) {
    if (direct_ || HasFailure()) return;  // a failed script's keys prove nothing
    std::set<int> used;
    for (int k = 0; k < 10; ++k) {
      const std::string key = absl::StrCat(prefix, ":m", k);
      int holders = 0;
      for (int i = 0; i < 3; ++i) {
        Client c(redis_[i]->port());
        if (c.Command({"EXISTS", key}) == ":1\r\n") {
          ++holders;
          used.insert(i);
        }
      }
      EXPECT_EQ(holders, 1) << key;
    }
    EXPECT_GE(used.size(), 2u) << "MSET keys were not spread over the servers";
    for (int i = 0; i < 3; ++i) {
      Client c(redis_[i]->port());
      const std::string a = c.Command({"GET", prefix + ":{user1}:a"});
      const std::string b = c.Command({"GET", prefix + ":{user1}:b"});
      EXPECT_EQ(a == "$1\r\n1\r\n", b == "$1\r\n5\r\n") << "server " << i;
    }
  }

  static void ExpectMemcacheSharding(const std::string& prefix) {
    if (direct_ || HasFailure()) return;
    std::set<int> used;
    for (int k = 0; k < 6; ++k) {
      const std::string key = absl::StrCat(prefix, ":m", k);
      int holders = 0;
      for (int i = 0; i < 3; ++i) {
        Client c(memcached_[i]->port());
        c.Send("get " + key + "\r\n");
        if (absl::StartsWith(c.ReadMemcacheReply(), "VALUE ")) {
          ++holders;
          used.insert(i);
        }
      }
      EXPECT_EQ(holders, 1) << key;
    }
    EXPECT_GE(used.size(), 2u) << "keys were not spread over the servers";
  }

  static inline std::vector<std::unique_ptr<RedisServer>> redis_;
  static inline std::vector<std::unique_ptr<MemcachedServer>> memcached_;
  static inline std::unique_ptr<Process> proxy_;
  static inline std::string proxy_log_;
  static inline bool proxy_ok_ = false;
  static inline bool direct_ = false;
  static inline int redis_port_ = 0;
  static inline int memcache_port_ = 0;
};

TEST_F(ClientMatrixTest, Ioredis5) {
  RunNode("ioredis.js", "ioredis5", redis_port_, kRedisTranscript);
  ExpectRedisSharding("ioredis5");
}

TEST_F(ClientMatrixTest, Ioredis6) {
  RunNode("ioredis.js", "ioredis6", redis_port_, kRedisTranscript);
  ExpectRedisSharding("ioredis6");
}

TEST_F(ClientMatrixTest, NodeRedis4) {
  RunNode("node_redis.js", "redis4", redis_port_, kRedisTranscript);
  ExpectRedisSharding("redis4");
}

TEST_F(ClientMatrixTest, NodeRedis6) {
  RunNode("node_redis.js", "redis6", redis_port_, kRedisTranscript);
  ExpectRedisSharding("redis6");
}

TEST_F(ClientMatrixTest, RedisPy) {
  RunPython("redis_py.py", "redispy", redis_port_, kRedisTranscript);
  ExpectRedisSharding("redispy");
}

TEST_F(ClientMatrixTest, Memjs) {
  RunNode("memjs.js", "memjs", memcache_port_, kMemcacheTranscript);
  ExpectMemcacheSharding("memjs");
}

TEST_F(ClientMatrixTest, Pymemcache) {
  RunPython("pymemcache_client.py", "pymemcache", memcache_port_, kMemcacheTranscript);
  ExpectMemcacheSharding("pymemcache");
}

}  // namespace
}  // namespace proxy::test

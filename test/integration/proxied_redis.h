// N redis-servers behind one pool of the real //:proxy, with direct connections to each backend
// to see where keys really are: the fixture of the command tests over RESP2
// (test/integration/redis_commands_test.cc) and RESP3 (test/resp3/resp3_commands_test.cc).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"

namespace proxy::test {

// Success when `name` (redis-server, redis-cli, redis-benchmark) is installed; otherwise a
// failure that says which Debian packages to install.
::testing::AssertionResult HaveRedisTool(absl::string_view name);

struct ProxiedRedisOptions {
  int servers = 3;
  std::vector<std::string> redis_args;  // more redis-server arguments (e.g. --requirepass)
  std::string password;                 // the backends' password (direct connections use it)
  int db = 0;                           // the pool's redis_db (direct connections select it)
  std::string pool_yaml;                // more pool keys, each "  key: value\n"
  bool resp3 = false;                   // direct connections speak RESP3 (HELLO 3)
};

// The pool is ketama over named servers s1..sN (fnv1a_64, hash_tag "{}", timeout 30 s), so that
// placement does not depend on the ports.
class ProxiedRedis {
 public:
  ::testing::AssertionResult Start(const ProxiedRedisOptions& options = {});

  int port() const { return port_; }
  size_t size() const { return redis_.size(); }
  RedisServer& redis(size_t i) { return *redis_[i]; }
  ProxyProcess& proxy() { return *proxy_; }
  // The shared direct connection to backend i.
  Client& backend(size_t i) { return *direct_[i]; }

  // A new direct connection to backend i: authenticated, on the pool's redis_db, and in RESP3
  // when the options say so.
  std::unique_ptr<Client> Direct(
      size_t i, std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
  // A new client of the proxy.
  std::unique_ptr<Client> Connect(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
    return std::make_unique<Client>(port_, timeout);
  }

  // Index of the backend holding `key` (asked directly), -1 if none, -2 if several.
  int OwnerOf(absl::string_view key);
  // `count` keys named prefix<N>, each on a different backend (found by writing them through
  // `client` and asking the backends), left deleted.
  std::vector<std::string> KeysOnDistinctServers(Client& client, absl::string_view prefix,
                                                 size_t count);

 private:
  ProxiedRedisOptions options_;
  std::vector<std::unique_ptr<RedisServer>> redis_;
  std::unique_ptr<ProxyProcess> proxy_;
  std::vector<std::unique_ptr<Client>> direct_;
  int port_ = 0;
};

}  // namespace proxy::test

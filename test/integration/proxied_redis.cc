#include "test/integration/proxied_redis.h"

#include <cstdlib>
#include <set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace proxy::test {

::testing::AssertionResult HaveRedisTool(absl::string_view name) {
  if (!FindExecutable(name).empty()) return ::testing::AssertionSuccess();
  const char* path = std::getenv("PATH");
  return ::testing::AssertionFailure()
         << "'" << name << "' was not found in PATH (" << (path != nullptr ? path : "")
         << ") nor /usr/bin: these integration tests need Debian's redis-server and redis-tools "
            "packages (tools/setup.sh installs them: apt-get install redis-server redis-tools)";
}

::testing::AssertionResult ProxiedRedis::Start(const ProxiedRedisOptions& options) {
  options_ = options;
  ::testing::AssertionResult tool = HaveRedisTool("redis-server");
  if (!tool) return tool;
  std::string servers;
  for (int i = 0; i < options.servers; ++i) {
    auto server = std::make_unique<RedisServer>(options.redis_args);
    if (!server->ok()) {
      return ::testing::AssertionFailure()
             << "redis-server did not start on 127.0.0.1:" << server->port()
             << " (log: " << TempPath(absl::StrCat("redis-", server->port(), ".log")) << ")";
    }
    absl::StrAppend(&servers, "   - 127.0.0.1:", server->port(), ":1 s", i + 1, "\n");
    redis_.push_back(std::move(server));
  }
  port_ = FreePort();
  const std::string yaml = absl::StrCat("pool:\n  listen: 127.0.0.1:", port_,
                                        "\n  redis: true\n  hash: fnv1a_64\n"
                                        "  distribution: ketama\n  hash_tag: \"{}\"\n"
                                        "  timeout: 30000\n",
                                        options.pool_yaml, "  servers:\n", servers);
  proxy_ = std::make_unique<ProxyProcess>(yaml, std::vector<int>{port_});
  if (!proxy_->ok()) {
    return ::testing::AssertionFailure()
           << "the proxy did not start on 127.0.0.1:" << port_ << " with\n"
           << yaml << "log:\n"
           << proxy_->Log();
  }
  for (size_t i = 0; i < redis_.size(); ++i) {
    direct_.push_back(Direct(i));
    if (!direct_.back()->connected()) {
      return ::testing::AssertionFailure() << "cannot connect to backend " << i;
    }
  }
  return ::testing::AssertionSuccess();
}

std::unique_ptr<Client> ProxiedRedis::Direct(size_t i, std::chrono::milliseconds timeout) {
  auto client = std::make_unique<Client>(redis_[i]->port(), timeout);
  if (options_.resp3) {
    std::vector<std::string> hello = {"HELLO", "3"};
    if (!options_.password.empty()) {
      hello.insert(hello.end(), {"AUTH", "default", options_.password});
    }
    const std::string reply = client->Command(hello);
    EXPECT_TRUE(absl::StartsWith(reply, "%7\r\n")) << absl::CHexEscape(reply);
  } else if (!options_.password.empty()) {
    EXPECT_EQ(client->Command({"AUTH", options_.password}), "+OK\r\n");
  }
  if (options_.db != 0) {
    EXPECT_EQ(client->Command({"SELECT", std::to_string(options_.db)}), "+OK\r\n");
  }
  return client;
}

int ProxiedRedis::OwnerOf(absl::string_view key) {
  int owner = -1;
  for (size_t i = 0; i < direct_.size(); ++i) {
    if (direct_[i]->Command({"EXISTS", std::string(key)}) == ":1\r\n") {
      owner = owner == -1 ? static_cast<int>(i) : -2;
    }
  }
  return owner;
}

std::vector<std::string> ProxiedRedis::KeysOnDistinctServers(Client& client,
                                                             absl::string_view prefix,
                                                             size_t count) {
  std::vector<std::string> keys;
  std::set<int> owners;
  for (int n = 0; n < 1000 && keys.size() < count; ++n) {
    const std::string key = absl::StrCat(prefix, n);
    EXPECT_EQ(client.Command({"SET", key, "probe"}), "+OK\r\n");
    const int owner = OwnerOf(key);
    EXPECT_EQ(client.Command({"DEL", key}), ":1\r\n");
    if (owner >= 0 && owners.insert(owner).second) keys.push_back(key);
  }
  EXPECT_EQ(keys.size(), count) << "could not find keys on " << count << " distinct servers";
  return keys;
}

}  // namespace proxy::test

// `max_server_connections:` end to end (issue 15; docs/configuration.md): under --workers 4 and
// server_connections: 2 each redis-server would see up to 4 x 2 = 8 shared connections from the
// proxy; with max_server_connections: 3 it sees at most 3 under the same traffic, counted by
// the redis-servers themselves (INFO clients), and /servers reports the connections and the
// limits. With reuseport only the serving workers' sockets exist.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"

namespace proxy::test {
namespace {

constexpr int kWorkers = 4;
constexpr int kServerConnections = 2;
constexpr int kCap = 3;
constexpr int kClients = 40;
// Turns of SET + GET per client, each on a key of its own; the keys of one client cover every
// server (PickServerTags), so every worker that got a client opens its whole quota to every
// server.
constexpr int kTurns = 20;

std::string PoolYaml(int listen, const std::vector<int>& servers, const std::string& extra) {
  std::string yaml = absl::StrCat("capped:\n  listen: 127.0.0.1:", listen,
                                  "\n  redis: true\n  hash_tag: \"{}\"\n  server_connections: ",
                                  kServerConnections, "\n", extra, "  servers:\n");
  for (size_t i = 0; i < servers.size(); ++i) {
    absl::StrAppend(&yaml, "   - 127.0.0.1:", servers[i], ":1 s", i, "\n");
  }
  return yaml;
}

// Hash tags that land on each server, kTagsPerServer per server in server order, found through
// the proxy (placement is by the servers' names s0, s1, s2, so it is the same in every run).
constexpr int kTagsPerServer = 3;
std::vector<std::string> PickServerTags(int port, const std::vector<RedisServer*>& redis) {
  std::vector<std::vector<std::string>> by_server(redis.size());
  Client probe(port);
  for (int i = 0; i < 200; ++i) {
    const std::string tag = absl::StrCat("t", i);
    if (probe.Command({"SET", absl::StrCat("{", tag, "}"), "p"}) != "+OK\r\n") continue;
    for (size_t r = 0; r < redis.size(); ++r) {
      Client direct(redis[r]->port());
      if (direct.Command({"EXISTS", absl::StrCat("{", tag, "}")}) == ":1\r\n" &&
          by_server[r].size() < kTagsPerServer) {
        by_server[r].push_back(tag);
      }
    }
  }
  std::vector<std::string> tags;
  for (size_t r = 0; r < redis.size(); ++r) {
    EXPECT_EQ(by_server[r].size(), static_cast<size_t>(kTagsPerServer)) << "server " << r;
    Client direct(redis[r]->port());
    EXPECT_EQ(direct.Command({"FLUSHALL"}), "+OK\r\n");
  }
  for (int k = 0; k < kTagsPerServer; ++k) {
    for (const std::vector<std::string>& tags_of : by_server) {
      if (k < static_cast<int>(tags_of.size())) tags.push_back(tags_of[k]);
    }
  }
  return tags;
}

struct Observed {
  std::vector<int> backend;  // per redis-server: connections from the proxy, its own count
  std::string servers_json;  // /servers after the traffic
  int listeners = 0;
};

// Starts the proxy (--workers 4) on `extra`, connects kClients clients that stay open and
// sends from each of them, in turns, SET and GET of keys spread over every server; then reads
// what each redis-server counts and what /servers says.
Observed Run(const std::vector<RedisServer*>& redis, const std::string& extra) {
  Observed observed;
  const int port = FreePort();
  const int admin = FreePort();
  std::vector<int> ports;
  for (RedisServer* server : redis) ports.push_back(server->port());
  ProxyProcess proxy(PoolYaml(port, ports, extra), {port, admin},
                     {"--workers", std::to_string(kWorkers), "--admin-port",
                      std::to_string(admin)});
  EXPECT_TRUE(proxy.ok()) << proxy.Log();
  if (!proxy.ok()) return observed;
  observed.listeners = ListeningSocketsAt(port);
  const std::vector<std::string> tags = PickServerTags(port, redis);
  if (tags.empty()) return observed;
  std::vector<std::unique_ptr<Client>> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.push_back(std::make_unique<Client>(port));
    EXPECT_TRUE(clients.back()->connected()) << c;
  }
  // Every client in turn (all of them open, spread by the kernel over the accepting workers).
  for (int turn = 0; turn < kTurns; ++turn) {
    for (int c = 0; c < kClients; ++c) {
      // Turn by turn a client goes over every tag, so over every server.
      const std::string key =
          absl::StrCat("{", tags[(c + turn) % tags.size()], "}:", c, ":", turn);
      EXPECT_EQ(clients[c]->Command({"SET", key, "v"}), "+OK\r\n") << key;
      EXPECT_EQ(clients[c]->Command({"GET", key}), "$1\r\nv\r\n") << key;
    }
  }
  for (RedisServer* server : redis) observed.backend.push_back(BackendClients(server->port()));
  observed.servers_json = HttpGet(admin, "/servers").second;
  // Every key went through the proxy to some server: the data is there.
  int found = 0;
  for (RedisServer* server : redis) {
    Client direct(server->port());
    const std::string reply = direct.Command({"DBSIZE"});
    int64_t keys = 0;
    if (reply.size() > 3 && absl::SimpleAtoi(reply.substr(1, reply.size() - 3), &keys)) {
      found += static_cast<int>(keys);
    }
  }
  EXPECT_EQ(found, kClients * kTurns);
  for (RedisServer* server : redis) {
    Client direct(server->port());
    EXPECT_EQ(direct.Command({"FLUSHALL"}), "+OK\r\n");
  }
  clients.clear();
  EXPECT_EQ(proxy.Stop(), 0) << proxy.Log();
  return observed;
}

class ConnectionCapTest : public testing::Test {
 protected:
  void SetUp() override {
    for (auto& server : redis_) {
      server = std::make_unique<RedisServer>();
      ASSERT_TRUE(server->ok()) << "redis-server must be installed (tools/setup.sh)";
    }
  }
  std::vector<RedisServer*> Redis() {
    std::vector<RedisServer*> out;
    for (auto& server : redis_) out.push_back(server.get());
    return out;
  }
  std::unique_ptr<RedisServer> redis_[3];
};

// The same traffic with and without the key, on one socket per serving worker (reuseport: true)
// or a listener every serving worker shares. With reuseport the kernel spreads the 40 clients
// over the workers by their 4-tuple, so without the key several workers each open their 2
// connections to every server (more than 3: what the cap prevents). On a shared socket every
// client may go to one worker (whichever wakes first; seen in practice), so there the run
// without the key only shows one worker's full server_connections, and the cap still holds.
void ExpectCapBounds(const std::vector<RedisServer*>& redis, bool reuseport) {
  SCOPED_TRACE(reuseport ? "reuseport" : "shared listener");
  const std::string extra = reuseport ? "  reuseport: true\n" : "";
  const Observed uncapped = Run(redis, extra);
  const Observed capped =
      Run(redis, absl::StrCat(extra, "  max_server_connections: ", kCap, "\n"));
  ASSERT_EQ(uncapped.backend.size(), redis.size());
  ASSERT_EQ(capped.backend.size(), redis.size());
  for (size_t i = 0; i < redis.size(); ++i) {
    const std::string name = absl::StrCat("s", i);
    SCOPED_TRACE(name);
    // Without the key: every worker with clients opened server_connections: 2 (up to 8).
    if (reuseport) {
      EXPECT_GT(uncapped.backend[i], kCap) << uncapped.servers_json;
    } else {
      EXPECT_GE(uncapped.backend[i], kServerConnections) << uncapped.servers_json;
    }
    EXPECT_LE(uncapped.backend[i], kWorkers * kServerConnections);
    EXPECT_EQ(ServersField(uncapped.servers_json, "connections", name), uncapped.backend[i])
        << uncapped.servers_json;
    EXPECT_EQ(ServersField(uncapped.servers_json, "connection_limit", name),
              kWorkers * kServerConnections)
        << uncapped.servers_json;
    EXPECT_EQ(ServersField(uncapped.servers_json, "pinned_connection_limit", name),
              kWorkers * 64)
        << uncapped.servers_json;
    // With it: the same traffic opens at most 3, whichever workers took the clients.
    EXPECT_GE(capped.backend[i], 1);
    EXPECT_LE(capped.backend[i], kCap) << capped.servers_json;
    EXPECT_EQ(ServersField(capped.servers_json, "connections", name), capped.backend[i])
        << capped.servers_json;
    EXPECT_EQ(ServersField(capped.servers_json, "connection_limit", name), kCap)
        << capped.servers_json;
    // min(4, 3) = 3 workers accept clients, each may pin up to 64 (core/proxy/shared_pool.h
    // ProxyLimits::max_pinned_connections).
    EXPECT_EQ(ServersField(capped.servers_json, "pinned_connection_limit", name), kCap * 64)
        << capped.servers_json;
  }
  // The existing fields are still there.
  EXPECT_NE(capped.servers_json.find("\"state\": \"live\""), std::string::npos);
  EXPECT_NE(capped.servers_json.find("\"role\": \"master\", \"replicas\": []"),
            std::string::npos)
      << capped.servers_json;
  if (reuseport) {
    // One SO_REUSEPORT socket per serving worker: none the kernel could hand a client to that
    // no worker watches.
    EXPECT_EQ(uncapped.listeners, kWorkers);
    EXPECT_EQ(capped.listeners, kCap);
  } else {
    EXPECT_EQ(uncapped.listeners, 1);
    EXPECT_EQ(capped.listeners, 1);
  }
}

TEST_F(ConnectionCapTest, MaxServerConnectionsBoundsEveryBackendUnderFourWorkers) {
  // reuseport: true also shows that only the 3 serving workers have a socket.
  ExpectCapBounds(Redis(), /*reuseport=*/true);
}

TEST_F(ConnectionCapTest, OnASharedListenerTheCapHoldsWhicheverWorkersAccept) {
  ExpectCapBounds(Redis(), /*reuseport=*/false);
}

}  // namespace
}  // namespace proxy::test

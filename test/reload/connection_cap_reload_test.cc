// `max_server_connections:` across reloads (issue 15; docs/live-changes.md): under --workers 4
// a new cap gives every worker its new quota for the connections it opens from then on (shown
// at once by /servers, and by the backend's own count once its old connections are gone), while
// a change of the workers that accept clients waits for a restart and is logged.
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"
#include "test/reload/reload_util.h"

namespace proxy::test {
namespace {

constexpr int kClients = 24;

// `rounds` SETs from every client; the first `tolerated` rounds may fail (a backend restarted).
void Traffic(std::vector<std::unique_ptr<Client>>& clients, int rounds, int tolerated,
             const std::string& tag) {
  for (int round = 0; round < rounds; ++round) {
    for (size_t c = 0; c < clients.size(); ++c) {
      const std::string reply =
          clients[c]->Command({"SET", absl::StrCat(tag, ":", c, ":", round), "v"});
      if (round >= tolerated) {
        EXPECT_EQ(reply, "+OK\r\n") << tag << " client " << c;
      }
    }
  }
}

TEST(ConnectionCapReloadTest, ANewCapAppliesToNewConnectionsAndTheServingWorkersAtRestart) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  const int port = FreePort();
  auto config = [&](int cap) {
    return ConfigYaml({PoolSpec{"capped", port, true, {ServerLine(redis.port(), 1, "r1")},
                                absl::StrCat("  server_connections: 2\n  reuseport: true\n"
                                             "  max_server_connections: ",
                                             cap, "\n")}});
  };
  ReloadableProxy proxy("cap", config(8), {port}, {"--workers", "4"});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  const int admin = proxy.admin_port();
  EXPECT_EQ(ListeningSocketsAt(port), 4);

  // Clients on every worker (reuseport: the kernel spreads them by their 4-tuple).
  std::vector<std::unique_ptr<Client>> clients;
  for (int c = 0; c < kClients; ++c) clients.push_back(std::make_unique<Client>(port));
  Traffic(clients, 4, 0, "before");
  const int before = BackendClients(redis.port());
  EXPECT_GT(before, 4) << "4 workers with server_connections: 2 under a cap of 8";
  EXPECT_LE(before, 8);
  std::string servers = HttpGet(admin, "/servers").second;
  EXPECT_EQ(ServersField(servers, "connection_limit"), 8) << servers;
  EXPECT_EQ(ServersField(servers, "connections"), before) << servers;

  // Cap 4 with the same 4 serving workers: one connection each from now on.
  auto [code, body] = proxy.Apply(config(4));
  ASSERT_EQ(code, 200) << body << proxy.Log();
  EXPECT_NE(body.find("max_server_connections"), std::string::npos) << body;
  servers = HttpGet(admin, "/servers").second;
  EXPECT_EQ(ServersField(servers, "connection_limit"), 4) << servers;
  EXPECT_EQ(ServersField(servers, "pinned_connection_limit"), 4 * 64) << servers;
  EXPECT_EQ(proxy.Log().find("applies at the next restart"), std::string::npos) << proxy.Log();
  // The connections already open are kept (as with a lowered server_connections) ...
  Traffic(clients, 2, 0, "kept");
  EXPECT_EQ(BackendClients(redis.port()), before);
  // ... and once they are gone, the workers open their new quota only.
  ASSERT_TRUE(redis.Restart());
  Traffic(clients, 4, 1, "after");
  const int after = BackendClients(redis.port());
  EXPECT_GE(after, 1);
  EXPECT_LE(after, 4) << proxy.Log();
  servers = HttpGet(admin, "/servers").second;
  EXPECT_EQ(ServersField(servers, "connections"), after) << servers;

  // Cap 2 would mean 2 serving workers: that waits for a restart (logged); until then each of
  // the 4 keeps one connection.
  std::tie(code, body) = proxy.Apply(config(2));
  ASSERT_EQ(code, 200) << body << proxy.Log();
  EXPECT_NE(proxy.Log().find("reload: pool capped: max_server_connections 2 means 2 of the 4 "
                             "workers accept clients; the change applies at the next restart "
                             "(4 accept until then)"),
            std::string::npos)
      << proxy.Log();
  servers = HttpGet(admin, "/servers").second;
  EXPECT_EQ(ServersField(servers, "connection_limit"), 4) << servers;
  EXPECT_EQ(ListeningSocketsAt(port), 4);
  Traffic(clients, 2, 0, "last");
  EXPECT_LE(BackendClients(redis.port()), 4);
}

}  // namespace
}  // namespace proxy::test

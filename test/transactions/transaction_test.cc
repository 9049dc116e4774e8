// MULTI/EXEC/DISCARD/WATCH/UNWATCH through the proxy, with three real redis-servers behind a
// pool that hashes `{tag}`s: a transaction whose keys share a tag runs on that tag's server
// over a dedicated connection; a key elsewhere aborts it as redis aborts a bad queued command;
// a client that leaves mid-transaction never leaves its queued commands for the next user of
// the connection; WATCH is honoured (and a lost WATCH never lets EXEC run unprotected).
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"

namespace proxy::test {
namespace {

constexpr absl::string_view kOk = "+OK\r\n";
constexpr absl::string_view kQueued = "+QUEUED\r\n";

std::string Bulk(absl::string_view value) {
  return absl::StrCat("$", value.size(), "\r\n", value, "\r\n");
}

std::string Shown(absl::string_view reply) {
  return absl::StrReplaceAll(reply.substr(0, 200), {{"\r\n", "\\r\\n"}});
}

class TransactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 3; ++i) {
      servers_.push_back(std::make_unique<RedisServer>());
      ASSERT_TRUE(servers_.back()->ok());
    }
    port_ = FreePort();
    std::string yaml = absl::StrCat("tx:\n  listen: 127.0.0.1:", port_,
                                    "\n  redis: true\n  hash: fnv1a_64\n  hash_tag: \"{}\"\n"
                                    "  distribution: ketama\n  timeout: 2000\n  servers:\n");
    for (size_t i = 0; i < servers_.size(); ++i) {
      absl::StrAppend(&yaml, "   - 127.0.0.1:", servers_[i]->port(), ":1 s", i, "\n");
    }
    proxy_ = std::make_unique<ProxyProcess>(yaml, std::vector<int>{port_});
    ASSERT_TRUE(proxy_->ok()) << proxy_->Log();
  }

  // The index of the server that holds `key` (set through the proxy beforehand), or -1.
  int ServerOf(const std::string& key) {
    for (size_t i = 0; i < servers_.size(); ++i) {
      Client direct(servers_[i]->port());
      if (direct.Command({"EXISTS", key}) == ":1\r\n") return static_cast<int>(i);
    }
    return -1;
  }
  // True when no server holds `key`.
  bool Nowhere(const std::string& key) { return ServerOf(key) < 0; }

  // Two tags that the proxy places on different servers.
  void TwoTagsOnDifferentServers(std::string* a, std::string* b) {
    Client c(port_);
    ASSERT_EQ(c.Command({"SET", "{t0}:probe", "1"}), kOk);
    const int first = ServerOf("{t0}:probe");
    ASSERT_GE(first, 0);
    for (int i = 1; i < 100; ++i) {
      const std::string key = absl::StrCat("{t", i, "}:probe");
      ASSERT_EQ(c.Command({"SET", key, "1"}), kOk);
      if (ServerOf(key) != first) {
        *a = "{t0}";
        *b = absl::StrCat("{t", i, "}");
        return;
      }
    }
    FAIL() << "no two tags on different servers";
  }

  std::vector<std::unique_ptr<RedisServer>> servers_;
  int port_ = 0;
  std::unique_ptr<ProxyProcess> proxy_;
};

TEST_F(TransactionTest, MultiExecRunsOnTheTagsServer) {
  Client c(port_);
  ASSERT_EQ(c.Command({"MULTI"}), kOk);
  EXPECT_EQ(c.Command({"SET", "{user1}:a", "x"}), kQueued);
  EXPECT_EQ(c.Command({"INCR", "{user1}:b"}), kQueued);
  EXPECT_EQ(c.Command({"PING"}), kQueued);
  EXPECT_EQ(c.Command({"GET", "{user1}:a"}), kQueued);
  EXPECT_EQ(c.Command({"EXEC"}), absl::StrCat("*4\r\n+OK\r\n:1\r\n+PONG\r\n", Bulk("x")));
  const int server = ServerOf("{user1}:a");
  ASSERT_GE(server, 0);
  EXPECT_EQ(ServerOf("{user1}:b"), server);
  // The connection is usable as before.
  EXPECT_EQ(c.Command({"GET", "{user1}:a"}), Bulk("x"));
}

TEST_F(TransactionTest, PipelinedTransactionLikeRedisPy) {
  Client c(port_);
  ASSERT_TRUE(c.Send(absl::StrCat(Resp({"MULTI"}), Resp({"SET", "{p}:a", "1"}),
                                  Resp({"INCRBY", "{p}:a", "41"}), Resp({"GET", "{p}:a"}),
                                  Resp({"EXEC"}))));
  EXPECT_EQ(c.ReadReply(), kOk);
  EXPECT_EQ(c.ReadReply(), kQueued);
  EXPECT_EQ(c.ReadReply(), kQueued);
  EXPECT_EQ(c.ReadReply(), kQueued);
  EXPECT_EQ(c.ReadReply(), absl::StrCat("*3\r\n+OK\r\n:42\r\n", Bulk("42")));
}

TEST_F(TransactionTest, EmptyAndMisplacedCommands) {
  Client c(port_);
  EXPECT_EQ(c.Command({"EXEC"}), "-ERR EXEC without MULTI\r\n");
  EXPECT_EQ(c.Command({"DISCARD"}), "-ERR DISCARD without MULTI\r\n");
  ASSERT_EQ(c.Command({"MULTI"}), kOk);
  EXPECT_EQ(c.Command({"MULTI"}), "-ERR MULTI calls can not be nested\r\n");
  EXPECT_EQ(c.Command({"EXEC"}), "*0\r\n");
  ASSERT_EQ(c.Command({"MULTI"}), kOk);
  EXPECT_EQ(c.Command({"DISCARD"}), kOk);
  EXPECT_EQ(c.Command({"UNWATCH"}), kOk);
}

TEST_F(TransactionTest, DiscardAppliesNothing) {
  Client c(port_);
  ASSERT_EQ(c.Command({"MULTI"}), kOk);
  EXPECT_EQ(c.Command({"SET", "{d}:a", "1"}), kQueued);
  EXPECT_EQ(c.Command({"DISCARD"}), kOk);
  EXPECT_TRUE(Nowhere("{d}:a"));
  // The dedicated connection is clean for the next transaction.
  ASSERT_EQ(c.Command({"MULTI"}), kOk);
  EXPECT_EQ(c.Command({"SET", "{d}:b", "2"}), kQueued);
  EXPECT_EQ(c.Command({"EXEC"}), "*1\r\n+OK\r\n");
  EXPECT_TRUE(Nowhere("{d}:a"));
  EXPECT_GE(ServerOf("{d}:b"), 0);
}

TEST_F(TransactionTest, KeyOnAnotherServerAbortsLikeRedis) {
  std::string a, b;
  TwoTagsOnDifferentServers(&a, &b);
  Client c(port_);
  ASSERT_EQ(c.Command({"MULTI"}), kOk);
  EXPECT_EQ(c.Command({"SET", a + ":x", "1"}), kQueued);
  const std::string refused = c.Command({"SET", b + ":y", "2"});
  EXPECT_EQ(refused.rfind("-ERR key lives on server", 0), 0u) << Shown(refused);
  EXPECT_EQ(c.Command({"SET", a + ":z", "3"}), kQueued);
  EXPECT_EQ(c.Command({"EXEC"}),
            "-EXECABORT Transaction discarded because of previous errors.\r\n");
  EXPECT_TRUE(Nowhere(a + ":x"));
  EXPECT_TRUE(Nowhere(b + ":y"));
  EXPECT_TRUE(Nowhere(a + ":z"));
  // The aborted transaction's connection was reset: a new transaction on it runs alone.
  ASSERT_EQ(c.Command({"MULTI"}), kOk);
  EXPECT_EQ(c.Command({"SET", a + ":w", "4"}), kQueued);
  EXPECT_EQ(c.Command({"EXEC"}), "*1\r\n+OK\r\n");
  EXPECT_TRUE(Nowhere(a + ":x"));
}

TEST_F(TransactionTest, SplitCommandAndBadArityAbort) {
  std::string a, b;
  TwoTagsOnDifferentServers(&a, &b);
  Client c(port_);
  ASSERT_EQ(c.Command({"MULTI"}), kOk);
  EXPECT_EQ(c.Command({"SET", a + ":x", "1"}), kQueued);
  const std::string split = c.Command({"MGET", a + ":x", b + ":y"});
  EXPECT_EQ(split.rfind("-ERR", 0), 0u) << Shown(split);
  EXPECT_EQ(c.Command({"EXEC"}).rfind("-EXECABORT", 0), 0u);
  EXPECT_TRUE(Nowhere(a + ":x"));

  ASSERT_EQ(c.Command({"MULTI"}), kOk);
  EXPECT_EQ(c.Command({"SET", a + ":x", "1"}), kQueued);
  const std::string arity = c.Command({"GET", a + ":x", "extra"});
  EXPECT_EQ(arity.rfind("-ERR wrong number of arguments", 0), 0u) << Shown(arity);
  EXPECT_EQ(c.Command({"EXEC"}).rfind("-EXECABORT", 0), 0u);
  EXPECT_TRUE(Nowhere(a + ":x"));

  // A keyless command before the first key cannot choose the server.
  ASSERT_EQ(c.Command({"MULTI"}), kOk);
  EXPECT_EQ(c.Command({"PING"}).rfind("-ERR", 0), 0u);
  EXPECT_EQ(c.Command({"SET", a + ":x", "1"}), kQueued);
  EXPECT_EQ(c.Command({"EXEC"}).rfind("-EXECABORT", 0), 0u);
  EXPECT_TRUE(Nowhere(a + ":x"));
}

TEST_F(TransactionTest, WatchDetectsAConcurrentWrite) {
  Client c(port_);
  Client other(port_);
  ASSERT_EQ(c.Command({"SET", "{w}:balance", "10"}), kOk);
  ASSERT_EQ(c.Command({"WATCH", "{w}:balance"}), kOk);
  EXPECT_EQ(c.Command({"GET", "{w}:balance"}), Bulk("10"));
  ASSERT_EQ(other.Command({"SET", "{w}:balance", "99"}), kOk);
  ASSERT_EQ(c.Command({"MULTI"}), kOk);
  EXPECT_EQ(c.Command({"SET", "{w}:balance", "11"}), kQueued);
  EXPECT_EQ(c.Command({"EXEC"}), "*-1\r\n");
  EXPECT_EQ(other.Command({"GET", "{w}:balance"}), Bulk("99"));

  // Without a concurrent write the same sequence commits.
  ASSERT_EQ(c.Command({"WATCH", "{w}:balance"}), kOk);
  ASSERT_EQ(c.Command({"MULTI"}), kOk);
  EXPECT_EQ(c.Command({"SET", "{w}:balance", "12"}), kQueued);
  EXPECT_EQ(c.Command({"EXEC"}), "*1\r\n+OK\r\n");
  EXPECT_EQ(other.Command({"GET", "{w}:balance"}), Bulk("12"));
}

TEST_F(TransactionTest, WatchThenOtherServersAndUnwatch) {
  std::string a, b;
  TwoTagsOnDifferentServers(&a, &b);
  Client c(port_);
  ASSERT_EQ(c.Command({"WATCH", a + ":k"}), kOk);
  // Between WATCH and MULTI other servers' keys are ordinary requests.
  EXPECT_EQ(c.Command({"SET", b + ":k", "v"}), kOk);
  EXPECT_EQ(c.Command({"GET", b + ":k"}), Bulk("v"));
  const std::string second = c.Command({"WATCH", b + ":k"});
  EXPECT_EQ(second.rfind("-ERR", 0), 0u) << Shown(second);
  EXPECT_EQ(c.Command({"UNWATCH"}), kOk);
  // Unpinned again: a new WATCH may pick any server.
  EXPECT_EQ(c.Command({"WATCH", b + ":k"}), kOk);
  EXPECT_EQ(c.Command({"UNWATCH"}), kOk);
  // WATCH of keys on several servers is refused.
  const std::string spread = c.Command({"WATCH", a + ":k", b + ":k"});
  EXPECT_EQ(spread.rfind("-ERR", 0), 0u) << Shown(spread);
  ASSERT_EQ(c.Command({"MULTI"}), kOk);
  EXPECT_EQ(c.Command({"WATCH", a + ":k"}), "-ERR WATCH inside MULTI is not allowed\r\n");
  EXPECT_EQ(c.Command({"DISCARD"}), kOk);
}

TEST_F(TransactionTest, ClientLeavingMidTransactionLeavesNothingBehind) {
  for (int round = 0; round < 5; ++round) {
    {
      Client gone(port_);
      ASSERT_EQ(gone.Command({"MULTI"}), kOk);
      ASSERT_EQ(gone.Command({"SET", "{gone}:leftover", "1"}), kQueued);
      ASSERT_EQ(gone.Command({"WATCH", "{gone}:x"}), "-ERR WATCH inside MULTI is not allowed\r\n");
    }  // closed without EXEC
    Client next(port_);
    ASSERT_EQ(next.Command({"MULTI"}), kOk);
    ASSERT_EQ(next.Command({"SET", "{gone}:mine", "2"}), kQueued);
    // Only this client's command runs: the previous one's queue was discarded.
    EXPECT_EQ(next.Command({"EXEC"}), "*1\r\n+OK\r\n");
    EXPECT_TRUE(Nowhere("{gone}:leftover"));
  }
}

TEST_F(TransactionTest, DedicatedConnectionsAreBoundedAndReused) {
  // 64 clients may hold a transaction's connection to one server at once; the 65th is told.
  std::vector<std::unique_ptr<Client>> holders;
  for (int i = 0; i < 64; ++i) {
    holders.push_back(std::make_unique<Client>(port_));
    ASSERT_EQ(holders.back()->Command({"WATCH", "{bound}:k"}), kOk) << i;
  }
  Client extra(port_);
  const std::string refused = extra.Command({"WATCH", "{bound}:k"});
  EXPECT_EQ(refused.rfind("-ERR too many transactions in progress", 0), 0u) << Shown(refused);
  // Freed connections are reused.
  ASSERT_EQ(holders[0]->Command({"UNWATCH"}), kOk);
  EXPECT_EQ(extra.Command({"WATCH", "{bound}:k"}), kOk);
  // The server sees 64 dedicated connections plus the shared one at most.
  const int server = [&] {
    Client c(port_);
    EXPECT_EQ(c.Command({"SET", "{bound}:k", "1"}), kOk);
    return ServerOf("{bound}:k");
  }();
  ASSERT_GE(server, 0);
  Client direct(servers_[server]->port());
  const int64_t clients = RedisInfoField(direct, "clients", "connected_clients");
  ASSERT_GE(clients, 0);
  EXPECT_LE(clients, 64 + 1 + 1 + 1);  // + shared + direct + slack
}

TEST_F(TransactionTest, LostServerFailsTheTransaction) {
  Client c(port_);
  ASSERT_EQ(c.Command({"SET", "{lost}:k", "1"}), kOk);
  const int server = ServerOf("{lost}:k");
  ASSERT_GE(server, 0);
  ASSERT_EQ(c.Command({"MULTI"}), kOk);
  ASSERT_EQ(c.Command({"INCR", "{lost}:k"}), kQueued);
  servers_[server]->Kill();
  const std::string exec = c.Command({"EXEC"});
  EXPECT_EQ(exec.rfind("-", 0), 0u) << Shown(exec);
  ASSERT_TRUE(servers_[server]->Restart());
  // The client goes on: a new transaction works once the server is back.
  std::string reply;
  ASSERT_TRUE(WaitUntil(
      [&] {
        EXPECT_EQ(c.Command({"MULTI"}), kOk);
        reply = c.Command({"SET", "{lost}:k", "2"});
        if (reply == kQueued) return true;
        c.Command({"DISCARD"});
        return false;
      },
      std::chrono::milliseconds(5000), std::chrono::milliseconds(100)))
      << reply;
  EXPECT_EQ(c.Command({"EXEC"}), "*1\r\n+OK\r\n");
}

}  // namespace
}  // namespace proxy::test

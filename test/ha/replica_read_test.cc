// Replica reads end to end (issue 12; the contract is docs/configuration.md's `read_from:`):
// real redis-server masters and replicas on 127.0.0.1, two shards, the replicas listed under
// `replicas:` (or reported by Sentinel). Where each command went is counted on the backends
// themselves (INFO commandstats, reset with CONFIG RESETSTAT), not taken from the proxy's word:
// reads spread over the replicas per policy, writes only on masters; a killed or lagging replica
// is skipped and a lagging one used again once back in sync; `read_from: replica` with no live
// replica fails with a clear error; /servers, /metrics and the stats port show the replicas.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"
#include "test/sentinel/sentinel_cluster.h"

namespace proxy::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Every wait is bounded by one of these.
constexpr milliseconds kLinkWait(15000);  // a replica's first sync with its master
constexpr milliseconds kCheckWait(3000);  // the proxy's checks run every 200 ms
constexpr milliseconds kSentinelWait(20000);

std::string Bulk(const std::string& value) {
  return absl::StrCat("$", value.size(), "\r\n", value, "\r\n");
}

// The value the key finders below write under a key: "k17" -> "v17".
std::string ValueOf(const std::string& key) { return absl::StrCat("v", key.substr(1)); }

// The /servers entry (one JSON object per line) that contains `needle`; "" when none.
std::string Entry(int admin_port, const std::string& needle) {
  const auto [code, body] = HttpGet(admin_port, "/servers");
  if (code != 200) return "";
  const size_t at = body.find(needle);
  if (at == std::string::npos) return "";
  const size_t start = body.rfind('{', at);
  return body.substr(start, body.find('}', at) - start + 1);
}

std::string ServerLine(int admin_port, const std::string& server) {
  return Entry(admin_port, absl::StrCat("\"server\": \"", server, "\""));
}

bool HasState(const std::string& line, const std::string& state) {
  return absl::StrContains(line, absl::StrCat("\"state\": \"", state, "\""));
}

// `name:N` in an INFO reply, -1 when absent.
long long InfoNumber(const std::string& info, const std::string& name) {
  const std::string tag = absl::StrCat("\r\n", name, ":");
  const size_t at = info.find(tag);
  if (at == std::string::npos) return -1;
  return std::atoll(info.c_str() + at + tag.size());
}

// How many times the backend on `port` ran `command` since its last CONFIG RESETSTAT
// (cmdstat_<command>:calls=N; 0 when the command never ran), -1 when it cannot be asked.
long long Calls(int port, const std::string& command) {
  Client client(port, milliseconds(3000));
  const std::string info = client.Command({"INFO", "commandstats"});
  if (!absl::StartsWith(info, "$")) return -1;
  const std::string tag = absl::StrCat("cmdstat_", command, ":calls=");
  const size_t at = info.find(tag);
  if (at == std::string::npos) return 0;
  return std::atoll(info.c_str() + at + tag.size());
}

bool ResetStats(int port) {
  Client client(port, milliseconds(3000));
  return client.Command({"CONFIG", "RESETSTAT"}) == "+OK\r\n";
}

std::string Replication(int port) {
  Client client(port, milliseconds(3000));
  return client.Command({"INFO", "replication"});
}

bool LinkUp(int replica_port) {
  return absl::StrContains(Replication(replica_port), "master_link_status:up");
}

// The replica has applied everything its master has sent (same replication offset; the master
// is read first, so a write landing between the two reads only delays the answer).
bool CaughtUp(int master_port, int replica_port) {
  const long long master = InfoNumber(Replication(master_port), "master_repl_offset");
  const std::string replica = Replication(replica_port);
  return master > 0 && absl::StrContains(replica, "master_link_status:up") &&
         InfoNumber(replica, "master_repl_offset") == master;
}

// Keys "k<i>" written through the proxy (value "v<i>") until every master holds at least
// `per_shard` of them; result[s] are the keys found on master s. Each key is written once.
std::vector<std::vector<std::string>> WriteKeys(int proxy_port, const std::vector<int>& masters,
                                                size_t per_shard) {
  std::vector<std::vector<std::string>> keys(masters.size());
  Client client(proxy_port);
  std::vector<std::unique_ptr<Client>> direct;
  for (int port : masters) direct.push_back(std::make_unique<Client>(port));
  auto done = [&] {
    for (const auto& shard : keys) {
      if (shard.size() < per_shard) return false;
    }
    return true;
  };
  for (int i = 0; i < 2000 && !done(); ++i) {
    const std::string key = absl::StrCat("k", i);
    if (client.Command({"SET", key, ValueOf(key)}) != "+OK\r\n") return {};
    for (size_t s = 0; s < masters.size(); ++s) {
      if (direct[s]->Command({"EXISTS", key}) == ":1\r\n") keys[s].push_back(key);
    }
  }
  return keys;
}

// Sends `count` GETs through `client`, cycling over `keys`; returns the replies that were not
// the key's value (empty when every read was answered right).
std::vector<std::string> Reads(Client& client, const std::vector<std::string>& keys, int count) {
  std::vector<std::string> wrong;
  for (int i = 0; i < count; ++i) {
    const std::string& key = keys[static_cast<size_t>(i) % keys.size()];
    const std::string reply = client.Command({"GET", key});
    if (reply != Bulk(ValueOf(key))) wrong.push_back(absl::StrCat(key, " -> ", reply));
  }
  return wrong;
}

// Two shards (pool alpha: shard-a, shard-b), each a master with replicas listed under
// `replicas:` (shard-a's "a-r1", "a-r2", ..., shard-b's "b-r1"), checked every 200 ms.
class ReplicaReadTest : public ::testing::Test {
 protected:
  static constexpr size_t kKeysPerShard = 20;

  // `replicas_a` replicas for shard-a, one for shard-b; returns once every link is up.
  void StartBackends(int replicas_a) {
    replicas_.resize(2);
    for (int s = 0; s < 2; ++s) {
      masters_.push_back(std::make_unique<RedisServer>());
      ASSERT_TRUE(masters_.back()->ok()) << "redis-server must be installed (tools/setup.sh)";
      for (int r = 0; r < (s == 0 ? replicas_a : 1); ++r) {
        replicas_[s].push_back(std::make_unique<RedisServer>(std::vector<std::string>{
            "--replicaof", "127.0.0.1", std::to_string(masters_.back()->port())}));
        ASSERT_TRUE(replicas_[s].back()->ok());
      }
    }
    for (const auto& shard : replicas_) {
      for (const auto& replica : shard) {
        ASSERT_TRUE(WaitUntil([&] { return LinkUp(replica->port()); }, kLinkWait))
            << "replica " << replica->port() << " never linked: " << Replication(replica->port());
      }
    }
  }

  // The replica's node name (/servers "server", the stats port's object, the metrics' replica
  // label): the name given in the YAML, or its host:port when `unnamed_b_` leaves shard-b's
  // replica without one.
  std::string ReplicaName(int shard, int r) const {
    if (shard == 1 && unnamed_b_) return absl::StrCat("127.0.0.1:", replica_port(1, r));
    return absl::StrCat(shard == 0 ? "a" : "b", "-r", r + 1);
  }

  // Pool alpha on `listen`; `read_from` "" leaves the key out (the default).
  std::string Yaml(int listen, const std::string& read_from) const {
    std::string yaml = absl::StrCat("alpha:\n  listen: 127.0.0.1:", listen,
                                    "\n  redis: true\n  hash: fnv1a_64\n  timeout: 2000\n"
                                    "  health_check_interval: 200\n");
    if (!read_from.empty()) absl::StrAppend(&yaml, "  read_from: ", read_from, "\n");
    absl::StrAppend(&yaml, "  servers:\n   - 127.0.0.1:", masters_[0]->port(),
                    ":1 shard-a\n   - 127.0.0.1:", masters_[1]->port(), ":1 shard-b\n",
                    "  replicas:\n");
    for (int s = 0; s < 2; ++s) {
      absl::StrAppend(&yaml, "    ", s == 0 ? "shard-a" : "shard-b", ": [");
      for (size_t r = 0; r < replicas_[s].size(); ++r) {
        absl::StrAppend(&yaml, r == 0 ? "" : ", ", "127.0.0.1:", replicas_[s][r]->port());
        if (s == 0 || !unnamed_b_) absl::StrAppend(&yaml, " ", ReplicaName(s, static_cast<int>(r)));
      }
      absl::StrAppend(&yaml, "]\n");
    }
    return yaml;
  }

  // The proxy; then keys of both shards written through it and replicated, every replica in
  // the state `replica_state` on /servers, and the backends' counters reset.
  void StartProxy(const std::string& read_from, const std::string& replica_state = "in_sync") {
    port_ = FreePort();
    admin_ = FreePort();
    stats_ = FreePort();
    proxy_ = std::make_unique<ProxyProcess>(
        Yaml(port_, read_from), std::vector<int>{port_, stats_},
        std::vector<std::string>{"--admin-port", std::to_string(admin_), "--stats-port",
                                 std::to_string(stats_)});
    ASSERT_TRUE(proxy_->ok()) << proxy_->Log();
    keys_ = WriteKeys(port_, {masters_[0]->port(), masters_[1]->port()}, kKeysPerShard);
    ASSERT_EQ(keys_.size(), 2u) << "a SET through the proxy failed: " << proxy_->Log();
    ASSERT_GE(keys_[0].size(), kKeysPerShard);
    ASSERT_GE(keys_[1].size(), kKeysPerShard);
    ASSERT_NO_FATAL_FAILURE(WaitReplicated());
    for (int s = 0; s < 2; ++s) {
      for (size_t r = 0; r < replicas_[s].size(); ++r) {
        const std::string name = ReplicaName(s, static_cast<int>(r));
        ASSERT_TRUE(WaitUntil([&] { return HasState(ServerLine(admin_, name), replica_state); },
                              kCheckWait))
            << name << ": " << ServerLine(admin_, name) << "\n"
            << proxy_->Log();
      }
    }
    ASSERT_NO_FATAL_FAILURE(ResetAll());
  }

  void WaitReplicated() {
    for (int s = 0; s < 2; ++s) {
      for (const auto& replica : replicas_[s]) {
        if (!replica->process().Running()) continue;
        ASSERT_TRUE(
            WaitUntil([&] { return CaughtUp(masters_[s]->port(), replica->port()); }, kLinkWait))
            << Replication(masters_[s]->port()) << "\n"
            << Replication(replica->port());
      }
    }
  }

  // CONFIG RESETSTAT on every running backend.
  void ResetAll() {
    for (int s = 0; s < 2; ++s) {
      ASSERT_TRUE(ResetStats(masters_[s]->port()));
      for (const auto& replica : replicas_[s]) {
        if (replica->process().Running()) {
          ASSERT_TRUE(ResetStats(replica->port()));
        }
      }
    }
  }

  int master_port(int s) const { return masters_[static_cast<size_t>(s)]->port(); }
  int replica_port(int s, int r) const {
    return replicas_[static_cast<size_t>(s)][static_cast<size_t>(r)]->port();
  }

  std::vector<std::unique_ptr<RedisServer>> masters_;
  std::vector<std::vector<std::unique_ptr<RedisServer>>> replicas_;
  std::unique_ptr<ProxyProcess> proxy_;
  int port_ = 0;
  int admin_ = 0;
  int stats_ = 0;
  bool unnamed_b_ = false;
  std::vector<std::vector<std::string>> keys_;
};

TEST_F(ReplicaReadTest, PreferReplicaReadsOnReplicasAndWritesOnMasters) {
  ASSERT_NO_FATAL_FAILURE(StartBackends(1));
  ASSERT_NO_FATAL_FAILURE(StartProxy("prefer_replica"));
  Client client(port_);
  // 50 GETs per shard, every one answered with the value written through the proxy.
  for (int s = 0; s < 2; ++s) {
    const std::vector<std::string> wrong = Reads(client, keys_[s], 50);
    EXPECT_TRUE(wrong.empty()) << wrong.size() << " wrong, first: " << wrong[0];
  }
  for (int s = 0; s < 2; ++s) {
    EXPECT_EQ(Calls(replica_port(s, 0), "get"), 50) << "shard " << s;
    EXPECT_EQ(Calls(master_port(s), "get"), 0) << "shard " << s;
  }
  // An MGET over keys of both shards: one fragment per shard, each on that shard's replica.
  const std::vector<std::string> mget = {"MGET", keys_[0][0], keys_[1][0], keys_[0][1],
                                         keys_[1][1]};
  EXPECT_EQ(client.Command(mget),
            absl::StrCat("*4\r\n", Bulk(ValueOf(keys_[0][0])), Bulk(ValueOf(keys_[1][0])),
                         Bulk(ValueOf(keys_[0][1])), Bulk(ValueOf(keys_[1][1]))));
  for (int s = 0; s < 2; ++s) {
    EXPECT_EQ(Calls(replica_port(s, 0), "mget"), 1) << "shard " << s;
    EXPECT_EQ(Calls(master_port(s), "mget"), 0) << "shard " << s;
  }

  // Writes: only on the masters. A replica is read-only, so a write sent to one would be
  // refused (-READONLY, counted in its errorstats) rather than answered +OK.
  std::vector<std::string> written[2];
  for (int s = 0; s < 2; ++s) {
    for (size_t i = 0; i < 10; ++i) {
      const std::string& key = keys_[s][i];
      ASSERT_EQ(client.Command({"SET", key, absl::StrCat("new-", key)}), "+OK\r\n") << key;
      written[s].push_back(key);
    }
    ASSERT_EQ(client.Command({"DEL", keys_[s][10]}), ":1\r\n");
    ASSERT_EQ(client.Command({"INCR", absl::StrCat(keys_[s][11], ":counter")}).front(), ':');
  }
  long long sets_on_masters = 0;
  for (int s = 0; s < 2; ++s) {
    sets_on_masters += Calls(master_port(s), "set");
    EXPECT_EQ(Calls(master_port(s), "set"), 10) << "shard " << s;
    EXPECT_EQ(Calls(master_port(s), "del"), 1) << "shard " << s;
    Client replica(replica_port(s, 0));
    const std::string errors = replica.Command({"INFO", "errorstats"});
    EXPECT_FALSE(absl::StrContains(errors, "READONLY")) << "a write reached a replica: " << errors;
  }
  EXPECT_EQ(sets_on_masters, 20);
  EXPECT_EQ(Calls(master_port(0), "incr") + Calls(master_port(1), "incr"), 2);

  // Once replication has caught up, the new values are read back through the proxy (from the
  // replicas: the counts go on rising there only).
  ASSERT_NO_FATAL_FAILURE(WaitReplicated());
  ASSERT_NO_FATAL_FAILURE(ResetAll());
  for (int s = 0; s < 2; ++s) {
    for (const std::string& key : written[s]) {
      EXPECT_EQ(client.Command({"GET", key}), Bulk(absl::StrCat("new-", key)));
    }
    EXPECT_EQ(client.Command({"GET", keys_[s][10]}), "$-1\r\n") << "deleted";
    EXPECT_EQ(Calls(replica_port(s, 0), "get"), 11) << "shard " << s;
    EXPECT_EQ(Calls(master_port(s), "get"), 0) << "shard " << s;
  }
}

TEST_F(ReplicaReadTest, ReadsAreSpreadOverTwoReplicasOfAShard) {
  ASSERT_NO_FATAL_FAILURE(StartBackends(2));
  ASSERT_NO_FATAL_FAILURE(StartProxy("prefer_replica"));
  Client client(port_);
  const std::vector<std::string> wrong = Reads(client, keys_[0], 200);
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " wrong, first: " << wrong[0];
  const long long first = Calls(replica_port(0, 0), "get");
  const long long second = Calls(replica_port(0, 1), "get");
  std::printf("200 reads of shard-a: %lld on a-r1, %lld on a-r2\n", first, second);
  EXPECT_EQ(first + second, 200);
  EXPECT_GT(first, 50) << "a fair share of 200 reads (round robin gives 100)";
  EXPECT_GT(second, 50) << "a fair share of 200 reads (round robin gives 100)";
  EXPECT_EQ(Calls(master_port(0), "get"), 0);
  // The other shard is untouched.
  EXPECT_EQ(Calls(master_port(1), "get") + Calls(replica_port(1, 0), "get"), 0);
  // The master's entry lists both replicas, each of which has an entry of its own.
  const std::string master = ServerLine(admin_, "shard-a");
  EXPECT_TRUE(absl::StrContains(master, "\"role\": \"master\"")) << master;
  EXPECT_TRUE(
      absl::StrContains(master, absl::StrCat("\"replicas\": [\"127.0.0.1:", replica_port(0, 0),
                                             "\", \"127.0.0.1:", replica_port(0, 1), "\"]")))
      << master;
  for (int r = 0; r < 2; ++r) {
    const std::string line = ServerLine(admin_, ReplicaName(0, r));
    EXPECT_TRUE(absl::StrContains(line, "\"role\": \"replica\"")) << line;
    EXPECT_TRUE(absl::StrContains(line, "\"master\": \"shard-a\"")) << line;
    EXPECT_TRUE(absl::StrContains(
        line, absl::StrCat("\"address\": \"127.0.0.1:", replica_port(0, r), "\"")))
        << line;
  }
}

TEST_F(ReplicaReadTest, AnySpreadsReadsOverTheMasterAndTheReplica) {
  ASSERT_NO_FATAL_FAILURE(StartBackends(1));
  ASSERT_NO_FATAL_FAILURE(StartProxy("any"));
  Client client(port_);
  const std::vector<std::string> wrong = Reads(client, keys_[0], 200);
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " wrong, first: " << wrong[0];
  const long long master = Calls(master_port(0), "get");
  const long long replica = Calls(replica_port(0, 0), "get");
  std::printf("read_from any, 200 reads of shard-a: %lld on the master, %lld on the replica\n",
              master, replica);
  EXPECT_EQ(master + replica, 200);
  EXPECT_GT(master, 50) << "a fair share of 200 reads (round robin gives 100)";
  EXPECT_GT(replica, 50) << "a fair share of 200 reads (round robin gives 100)";
  // Writes still go only to the master (a replica refuses them).
  EXPECT_EQ(client.Command({"SET", keys_[0][0], "w"}), "+OK\r\n");
  EXPECT_EQ(Calls(master_port(0), "set"), 1);
}

TEST_F(ReplicaReadTest, MasterIsTheDefaultAndReplicasGetNoRead) {
  ASSERT_NO_FATAL_FAILURE(StartBackends(1));
  // No read_from: key. The replicas are listed but unused.
  ASSERT_NO_FATAL_FAILURE(StartProxy("", "unused"));
  Client client(port_);
  for (int s = 0; s < 2; ++s) {
    const std::vector<std::string> wrong = Reads(client, keys_[s], 50);
    EXPECT_TRUE(wrong.empty()) << wrong.size() << " wrong, first: " << wrong[0];
  }
  EXPECT_EQ(client.Command({"MGET", keys_[0][0], keys_[1][0]}),
            absl::StrCat("*2\r\n", Bulk(ValueOf(keys_[0][0])), Bulk(ValueOf(keys_[1][0]))));
  for (int s = 0; s < 2; ++s) {
    EXPECT_EQ(Calls(master_port(s), "get"), 50) << "shard " << s;
    EXPECT_EQ(Calls(master_port(s), "mget"), 1) << "shard " << s;
    EXPECT_EQ(Calls(replica_port(s, 0), "get"), 0) << "shard " << s;
    EXPECT_EQ(Calls(replica_port(s, 0), "mget"), 0) << "shard " << s;
    const std::string line = ServerLine(admin_, ReplicaName(s, 0));
    EXPECT_TRUE(absl::StrContains(line, "\"reads\": 0")) << line;
  }
}

TEST_F(ReplicaReadTest, AKilledReplicaIsSkippedAndReadFromReplicaFailsClearly) {
  ASSERT_NO_FATAL_FAILURE(StartBackends(1));
  ASSERT_NO_FATAL_FAILURE(StartProxy("prefer_replica"));
  Client client(port_);
  ASSERT_EQ(client.Command({"GET", keys_[0][0]}), Bulk(ValueOf(keys_[0][0])));
  ASSERT_EQ(Calls(replica_port(0, 0), "get"), 1) << "served by the replica before the kill";

  const auto killed = steady_clock::now();
  replicas_[0][0]->Kill();
  // Reads go on while the proxy finds out; per the contract only a request that meets the dead
  // replica's connection may fail (the replica is skipped from then on), and the next check
  // (every 200 ms) marks it out of sync.
  int errors = 0;
  std::string first_error;
  size_t i = 0;
  const bool detected = WaitUntil(
      [&] {
        const std::string& key = keys_[0][i++ % keys_[0].size()];
        const std::string reply = client.Command({"GET", key});
        if (reply != Bulk(ValueOf(key))) {
          if (errors++ == 0) first_error = reply;
        }
        return HasState(ServerLine(admin_, "a-r1"), "out_of_sync");
      },
      kCheckWait);
  const auto detection =
      std::chrono::duration_cast<milliseconds>(steady_clock::now() - killed).count();
  ASSERT_TRUE(detected) << ServerLine(admin_, "a-r1") << "\n" << proxy_->Log();
  std::printf(
      "killed replica: out_of_sync on /servers after %lld ms; %zu reads meanwhile, "
      "%d not answered with the value (first: %s)\n",
      static_cast<long long>(detection), i, errors, first_error.c_str());
  EXPECT_LE(detection, 1000) << "a check every 200 ms fails at once on a refused connection";
  EXPECT_LE(errors, 1) << "first: " << first_error;
  EXPECT_FALSE(HasState(ServerLine(admin_, "a-r1"), "in_sync"));

  // From now on every read of shard-a is answered, by its master.
  ASSERT_NO_FATAL_FAILURE(ResetAll());
  std::vector<std::string> wrong = Reads(client, keys_[0], 100);
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " wrong, first: " << wrong[0];
  EXPECT_EQ(Calls(master_port(0), "get"), 100);
  // shard-b still reads from its replica.
  wrong = Reads(client, keys_[1], 20);
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " wrong, first: " << wrong[0];
  EXPECT_EQ(Calls(replica_port(1, 0), "get"), 20);
  EXPECT_EQ(Calls(master_port(1), "get"), 0);
  const auto [code, metrics] = HttpGet(admin_, "/metrics");
  EXPECT_TRUE(absl::StrContains(
      metrics, absl::StrCat("shardproxy_replica_in_sync{pool=\"alpha\",server=\"shard-a\","
                            "replica=\"a-r1\"} 0\n")))
      << metrics;

  // read_from: replica on the same backends (shard-a's replica still dead).
  const int strict_port = FreePort();
  const int strict_admin = FreePort();
  ProxyProcess strict(Yaml(strict_port, "replica"), {strict_port},
                      {"--admin-port", std::to_string(strict_admin)});
  ASSERT_TRUE(strict.ok()) << strict.Log();
  ASSERT_TRUE(WaitUntil(
      [&] {
        return HasState(ServerLine(strict_admin, "a-r1"), "out_of_sync") &&
               HasState(ServerLine(strict_admin, "b-r1"), "in_sync");
      },
      kCheckWait))
      << ServerLine(strict_admin, "a-r1") << "\n"
      << ServerLine(strict_admin, "b-r1") << "\n"
      << strict.Log();
  ASSERT_NO_FATAL_FAILURE(ResetAll());
  Client strict_client(strict_port);
  EXPECT_EQ(strict_client.Command({"GET", keys_[0][0]}),
            "-ERR no live replica of server 'shard-a' to read from (read_from: replica)\r\n");
  // A split read touching shard-a fails as a whole, with the split-read text.
  EXPECT_EQ(strict_client.Command({"MGET", keys_[1][0], keys_[0][0]}),
            "-ERR no live replica to read from (read_from: replica)\r\n");
  EXPECT_EQ(Calls(master_port(0), "get") + Calls(master_port(0), "mget"), 0)
      << "read_from: replica never reads from the master";
  // shard-b's keys are read from its replica meanwhile, and writes to shard-a still work.
  wrong = Reads(strict_client, keys_[1], 20);
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " wrong, first: " << wrong[0];
  EXPECT_EQ(Calls(replica_port(1, 0), "get"), 20);
  EXPECT_EQ(Calls(master_port(1), "get"), 0);
  EXPECT_EQ(strict_client.Command({"SET", keys_[0][0], "still-writable"}), "+OK\r\n");
  EXPECT_EQ(Calls(master_port(0), "set"), 1);
}

// With no client traffic to meet the dead connection, the checks alone find a killed replica
// within about one interval; no read fails then, and the restarted replica is used again.
TEST_F(ReplicaReadTest, TheChecksAloneFindAKilledReplica) {
  ASSERT_NO_FATAL_FAILURE(StartBackends(1));
  ASSERT_NO_FATAL_FAILURE(StartProxy("prefer_replica"));
  Client client(port_);
  // The proxy holds a connection to the replica when it dies.
  ASSERT_EQ(client.Command({"GET", keys_[0][0]}), Bulk(ValueOf(keys_[0][0])));
  ASSERT_EQ(Calls(replica_port(0, 0), "get"), 1);
  const auto killed = steady_clock::now();
  replicas_[0][0]->Kill();
  ASSERT_TRUE(
      WaitUntil([&] { return HasState(ServerLine(admin_, "a-r1"), "out_of_sync"); }, kCheckWait))
      << ServerLine(admin_, "a-r1") << "\n"
      << proxy_->Log();
  const auto detection =
      std::chrono::duration_cast<milliseconds>(steady_clock::now() - killed).count();
  std::printf("killed replica, no traffic: out_of_sync after %lld ms (checks every 200 ms)\n",
              static_cast<long long>(detection));
  EXPECT_LE(detection, 1000) << "about one check interval";
  ASSERT_NO_FATAL_FAILURE(ResetAll());
  std::vector<std::string> wrong = Reads(client, keys_[0], 100);
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " wrong, first: " << wrong[0];
  EXPECT_EQ(Calls(master_port(0), "get"), 100);

  // Restarted on the same port (still --replicaof its master): in sync again, read again.
  ASSERT_TRUE(replicas_[0][0]->Restart());
  ASSERT_TRUE(WaitUntil([&] { return CaughtUp(master_port(0), replica_port(0, 0)); }, kLinkWait))
      << Replication(replica_port(0, 0));
  ASSERT_TRUE(
      WaitUntil([&] { return HasState(ServerLine(admin_, "a-r1"), "in_sync"); }, kCheckWait))
      << ServerLine(admin_, "a-r1") << "\n"
      << proxy_->Log();
  ASSERT_NO_FATAL_FAILURE(ResetAll());
  wrong = Reads(client, keys_[0], 20);
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " wrong, first: " << wrong[0];
  EXPECT_EQ(Calls(replica_port(0, 0), "get"), 20);
  EXPECT_EQ(Calls(master_port(0), "get"), 0);
}

TEST_F(ReplicaReadTest, ALaggingReplicaIsSkippedUntilBackInSync) {
  ASSERT_NO_FATAL_FAILURE(StartBackends(1));
  ASSERT_NO_FATAL_FAILURE(StartProxy("prefer_replica"));
  Client client(port_);
  // Point the replica at a port where nothing listens: its link to a master goes down while
  // it keeps running (and answering).
  {
    Client direct(replica_port(0, 0));
    ASSERT_EQ(direct.Command({"REPLICAOF", "127.0.0.1", std::to_string(FreePort())}), "+OK\r\n");
  }
  ASSERT_TRUE(WaitUntil([&] { return !LinkUp(replica_port(0, 0)); }, kCheckWait));
  const auto lagging = steady_clock::now();
  ASSERT_TRUE(
      WaitUntil([&] { return HasState(ServerLine(admin_, "a-r1"), "out_of_sync"); }, kCheckWait))
      << ServerLine(admin_, "a-r1") << "\n"
      << proxy_->Log();
  std::printf("lagging replica: out_of_sync after %lld ms\n",
              static_cast<long long>(
                  std::chrono::duration_cast<milliseconds>(steady_clock::now() - lagging).count()));
  ASSERT_NO_FATAL_FAILURE(ResetAll());
  std::vector<std::string> wrong = Reads(client, keys_[0], 50);
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " wrong, first: " << wrong[0];
  EXPECT_EQ(Calls(master_port(0), "get"), 50);
  EXPECT_EQ(Calls(replica_port(0, 0), "get"), 0) << "the lagging replica was read from";

  // Back to its master: used again once in sync.
  {
    Client direct(replica_port(0, 0));
    ASSERT_EQ(direct.Command({"REPLICAOF", "127.0.0.1", std::to_string(master_port(0))}),
              "+OK\r\n");
  }
  ASSERT_TRUE(WaitUntil([&] { return CaughtUp(master_port(0), replica_port(0, 0)); }, kLinkWait))
      << Replication(replica_port(0, 0));
  ASSERT_TRUE(
      WaitUntil([&] { return HasState(ServerLine(admin_, "a-r1"), "in_sync"); }, kCheckWait))
      << ServerLine(admin_, "a-r1") << "\n"
      << proxy_->Log();
  ASSERT_NO_FATAL_FAILURE(ResetAll());
  wrong = Reads(client, keys_[0], 50);
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " wrong, first: " << wrong[0];
  EXPECT_EQ(Calls(replica_port(0, 0), "get"), 50);
  EXPECT_EQ(Calls(master_port(0), "get"), 0);
}

// The value of "key" inside the stats JSON object named `object` (first match after it), -1
// when absent.
long long StatsField(const std::string& json, const std::string& object, const std::string& key) {
  size_t at = json.find(absl::StrCat("\"", object, "\": {"));
  if (at == std::string::npos) return -1;
  at = json.find(absl::StrCat("\"", key, "\":"), at);
  if (at == std::string::npos) return -1;
  return std::atoll(json.c_str() + at + key.size() + 3);
}

TEST_F(ReplicaReadTest, ReplicaReadsAreCountedOnMetricsServersAndTheStatsPort) {
  ASSERT_NO_FATAL_FAILURE(StartBackends(1));
  // shard-b's replica has no name: its node name is its host:port (the labels of the contract's
  // example, docs/high-availability.md).
  unnamed_b_ = true;
  // No read through the proxy before this point: the counters start at 0.
  ASSERT_NO_FATAL_FAILURE(StartProxy("prefer_replica"));
  Client client(port_);
  std::vector<std::string> wrong = Reads(client, keys_[0], 30);
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " wrong, first: " << wrong[0];
  wrong = Reads(client, keys_[1], 20);
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " wrong, first: " << wrong[0];
  ASSERT_EQ(Calls(replica_port(0, 0), "get"), 30);
  ASSERT_EQ(Calls(replica_port(1, 0), "get"), 20);

  const auto [code, metrics] = HttpGet(admin_, "/metrics");
  ASSERT_EQ(code, 200);
  const int expected[2] = {30, 20};
  for (int s = 0; s < 2; ++s) {
    const std::string labels =
        absl::StrCat("{pool=\"alpha\",server=\"", s == 0 ? "shard-a" : "shard-b", "\",replica=\"",
                     ReplicaName(s, 0), "\"}");
    EXPECT_TRUE(absl::StrContains(
        metrics, absl::StrCat("shardproxy_replica_reads_total", labels, " ", expected[s], "\n")))
        << metrics;
    EXPECT_TRUE(
        absl::StrContains(metrics, absl::StrCat("shardproxy_replica_in_sync", labels, " 1\n")))
        << metrics;
    const std::string line = ServerLine(admin_, ReplicaName(s, 0));
    EXPECT_TRUE(absl::StrContains(line, absl::StrCat("\"reads\": ", expected[s]))) << line;
  }
  EXPECT_TRUE(absl::StrContains(metrics, "# TYPE shardproxy_replica_reads_total counter"))
      << metrics;
  EXPECT_TRUE(absl::StrContains(metrics, "# TYPE shardproxy_replica_in_sync gauge")) << metrics;

  // The stats port: each replica is one more server object, named by its node name; the
  // masters got the SETs only.
  std::string json;
  {
    Client stats(stats_);
    ASSERT_TRUE(stats.connected());
    json = stats.ReadAll();
  }
  EXPECT_EQ(StatsField(json, "a-r1", "requests"), 30) << json;
  EXPECT_EQ(StatsField(json, ReplicaName(1, 0), "requests"), 20) << json;
  EXPECT_EQ(StatsField(json, "a-r1", "responses"), 30) << json;
  EXPECT_EQ(StatsField(json, "shard-a", "requests"), static_cast<long long>(keys_[0].size()))
      << json;
  EXPECT_EQ(StatsField(json, "shard-b", "requests"), static_cast<long long>(keys_[1].size()))
      << json;
}

// The /servers entry of the replica at 127.0.0.1:port (a Sentinel-reported replica has no
// name of its own).
std::string ReplicaAt(int admin_port, int port) {
  const std::string line = Entry(admin_port, absl::StrCat("\"address\": \"127.0.0.1:", port, "\""));
  return absl::StrContains(line, "\"role\": \"replica\"") ? line : "";
}

TEST(ReplicaReadSentinelTest, ReadFromReplicaUsesTheReplicasSentinelReports) {
  SentinelCluster cluster(SentinelClusterOptions{});
  ASSERT_TRUE(cluster.error().empty()) << cluster.error();
  const int port = FreePort();
  const int admin = FreePort();
  std::string yaml = absl::StrCat("ha:\n  listen: 127.0.0.1:", port,
                                  "\n  redis: true\n  timeout: 2000\n  read_from: replica\n"
                                  "  health_check_interval: 200\n  sentinels:\n");
  for (size_t j = 0; j < cluster.sentinel_count(); ++j) {
    absl::StrAppend(&yaml, "   - 127.0.0.1:", cluster.sentinel_port(j), "\n");
  }
  // No replicas: key: the replicas come from Sentinel only.
  absl::StrAppend(&yaml, "  servers:\n   - 127.0.0.1:", cluster.master_port(0),
                  ":1 shard-a\n   - 127.0.0.1:", cluster.master_port(1), ":1 shard-b\n");
  ProxyProcess proxy(yaml, {port}, {"--admin-port", std::to_string(admin)});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  for (size_t s = 0; s < 2; ++s) {
    ASSERT_TRUE(
        WaitUntil([&] { return HasState(ReplicaAt(admin, cluster.replica_port(s)), "in_sync"); },
                  kSentinelWait))
        << HttpGet(admin, "/servers").second << "\n"
        << proxy.Log();
    const std::string line = ReplicaAt(admin, cluster.replica_port(s));
    EXPECT_TRUE(absl::StrContains(
        line, absl::StrCat("\"master\": \"", s == 0 ? "shard-a" : "shard-b", "\"")))
        << line;
  }
  const std::vector<std::vector<std::string>> keys =
      WriteKeys(port, {cluster.master_port(0), cluster.master_port(1)}, 20);
  ASSERT_EQ(keys.size(), 2u) << proxy.Log();
  ASSERT_GE(keys[0].size(), 20u);
  ASSERT_GE(keys[1].size(), 20u);
  for (size_t s = 0; s < 2; ++s) {
    ASSERT_TRUE(WaitUntil([&] { return CaughtUp(cluster.master_port(s), cluster.replica_port(s)); },
                          kLinkWait))
        << Replication(cluster.replica_port(s));
    ASSERT_TRUE(ResetStats(cluster.master_port(s)));
    ASSERT_TRUE(ResetStats(cluster.replica_port(s)));
  }
  Client client(port);
  for (size_t s = 0; s < 2; ++s) {
    const std::vector<std::string> wrong = Reads(client, keys[s], 20);
    EXPECT_TRUE(wrong.empty()) << wrong.size() << " wrong, first: " << wrong[0];
  }
  for (size_t s = 0; s < 2; ++s) {
    EXPECT_EQ(Calls(cluster.replica_port(s), "get"), 20) << "shard " << s;
    EXPECT_EQ(Calls(cluster.master_port(s), "get"), 0) << "shard " << s;
  }
  // Writes still go to the masters Sentinel names.
  EXPECT_EQ(client.Command({"SET", keys[0][0], "w"}), "+OK\r\n");
  EXPECT_EQ(Calls(cluster.master_port(0), "set"), 1);
}

}  // namespace
}  // namespace proxy::test

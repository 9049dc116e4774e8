#include "test/sentinel/sentinel_cluster.h"

#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "protocols/redis/sentinel/connection.h"

namespace proxy::test {
namespace {

using protocols::redis::sentinel::RespValue;
using protocols::redis::sentinel::SentinelConnection;

// A field of a flat RESP2 map reply (SENTINEL master), "" when absent.
std::string Field(const RespValue& value, const std::string& name) {
  if (!value.is_array()) return "";
  for (size_t i = 0; i + 1 < value.elements.size(); i += 2) {
    if (value.elements[i].text == name) return value.elements[i + 1].text;
  }
  return "";
}

bool ReplicationUp(int replica_port) {
  Client client(replica_port, std::chrono::milliseconds(2000));
  return client.connected() &&
         absl::StrContains(client.Command({"INFO", "replication"}), "master_link_status:up");
}

}  // namespace

SentinelCluster::SentinelCluster(SentinelClusterOptions options) : options_(std::move(options)) {
  for (size_t i = 0; i < options_.masters.size(); ++i) {
    masters_.push_back(std::make_unique<RedisServer>());
    if (!masters_.back()->ok()) {
      error_ = "a master did not start";
      return;
    }
    if (options_.replicas) {
      replicas_.push_back(std::make_unique<RedisServer>(std::vector<std::string>{
          "--replicaof", "127.0.0.1", std::to_string(masters_.back()->port())}));
      if (!replicas_.back()->ok()) {
        error_ = "a replica did not start";
        return;
      }
    }
  }
  // The replicas must be attached before the sentinels first ask the masters' INFO (they list
  // replicas from it; the next INFO would come only 10 s later).
  for (const auto& replica : replicas_) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!ReplicationUp(replica->port())) {
      if (absl::Now() > deadline) {
        error_ = absl::StrCat("replica ", replica->port(), " never linked to its master");
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  const std::string redis = FindExecutable("redis-server");
  for (int j = 0; j < options_.sentinels; ++j) {
    const int port = FreePort();
    const std::string conf = TempPath(absl::StrCat("sentinel-", port, ".conf"));
    std::ofstream out(conf, std::ios::trunc);
    out << "port " << port << "\nbind 127.0.0.1\nprotected-mode no\ndaemonize no\n"
        << "dir " << TempPath("") << "\n";
    if (!options_.password.empty()) {
      out << "requirepass " << options_.password << "\nsentinel sentinel-pass "
          << options_.password << "\n";
    }
    for (size_t i = 0; i < options_.masters.size(); ++i) {
      const std::string& name = options_.masters[i];
      out << "sentinel monitor " << name << " 127.0.0.1 " << masters_[i]->port() << " "
          << options_.quorum << "\n"
          << "sentinel down-after-milliseconds " << name << " 1000\n"
          << "sentinel failover-timeout " << name << " 3000\n"
          << "sentinel parallel-syncs " << name << " 1\n";
    }
    out.close();
    sentinel_ports_.push_back(port);
    sentinels_.push_back(std::make_unique<Process>());
    if (!sentinels_.back()->Start({redis, conf, "--sentinel"},
                                  TempPath(absl::StrCat("sentinel-", port, ".log"))) ||
        !WaitForPortWhileRunning(*sentinels_.back(), port, std::chrono::milliseconds(10000))) {
      error_ = absl::StrCat("sentinel on port ", port, " did not start (see its log in ",
                            TempPath(""), ")");
      return;
    }
  }
  if (!WaitReady(absl::Seconds(30))) return;
}

SentinelCluster::~SentinelCluster() {
  for (auto& sentinel : sentinels_) {
    sentinel->Kill(SIGCONT);  // a test may have paused it
    sentinel->Stop();
  }
}

bool SentinelCluster::WaitReady(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    std::string missing;
    for (size_t j = 0; j < sentinels_.size() && missing.empty(); ++j) {
      SentinelConnection conn("127.0.0.1", sentinel_ports_[j], -1);
      absl::Status connected = conn.Connect(options_.password, absl::Now() + absl::Seconds(1));
      if (!connected.ok()) {
        missing = connected.ToString();
        break;
      }
      for (size_t i = 0; i < options_.masters.size() && missing.empty(); ++i) {
        const std::string& name = options_.masters[i];
        auto master = conn.Command({"SENTINEL", "master", name}, absl::Now() + absl::Seconds(1));
        if (!master.ok()) {
          missing = master.status().ToString();
          break;
        }
        if (Field(*master, "num-other-sentinels") != std::to_string(sentinels_.size() - 1)) {
          missing = absl::StrCat("sentinel ", j, " knows ", Field(*master, "num-other-sentinels"),
                                 " other sentinels for ", name);
          break;
        }
        if (!options_.replicas) continue;
        auto replicas =
            conn.Command({"SENTINEL", "replicas", name}, absl::Now() + absl::Seconds(1));
        bool linked = false;
        if (replicas.ok() && replicas->is_array()) {
          for (const RespValue& replica : replicas->elements) {
            linked = linked || (Field(replica, "master-link-status") == "ok" &&
                                Field(replica, "flags") == "slave");
          }
        }
        if (!linked) missing = absl::StrCat("sentinel ", j, " sees no linked replica of ", name);
      }
    }
    if (missing.empty()) return true;
    if (absl::Now() > deadline) {
      error_ = absl::StrCat("sentinels not ready after ", absl::FormatDuration(timeout), ": ",
                            missing);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string SentinelCluster::SentinelCommand(size_t j, const std::vector<std::string>& args) {
  Client client(sentinel_ports_[j], std::chrono::milliseconds(5000));
  if (!options_.password.empty()) client.Command({"AUTH", options_.password});
  return client.Command(args);
}

}  // namespace proxy::test

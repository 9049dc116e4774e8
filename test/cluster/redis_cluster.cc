#include "test/cluster/redis_cluster.h"

#include <unistd.h>

#include <cstdlib>
#include <map>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace proxy::test {
namespace {

using std::chrono::milliseconds;

uint16_t Crc16(absl::string_view data) {
  uint16_t crc = 0;
  for (unsigned char byte : data) {
    crc = static_cast<uint16_t>(crc ^ (byte << 8));
    for (int bit = 0; bit < 8; ++bit) {
      crc = static_cast<uint16_t>((crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
  }
  return crc;
}

}  // namespace

int KeySlot(absl::string_view key) {
  const size_t open = key.find('{');
  if (open != absl::string_view::npos) {
    const size_t close = key.find('}', open + 1);
    if (close != absl::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return Crc16(key) & (kClusterSlots - 1);
}

std::string BulkPayload(const std::string& reply) {
  if (!absl::StartsWith(reply, "$")) return "";
  const size_t line_end = reply.find("\r\n");
  if (line_end == std::string::npos) return "";
  long long size = std::atoll(reply.c_str() + 1);
  if (size < 0 || line_end + 2 + static_cast<size_t>(size) > reply.size()) return "";
  return reply.substr(line_end + 2, static_cast<size_t>(size));
}

std::vector<std::string> BulkArray(const std::string& reply) {
  std::vector<std::string> items;
  if (!absl::StartsWith(reply, "*")) return items;
  size_t at = reply.find("\r\n");
  while (at != std::string::npos && at + 2 < reply.size()) {
    const std::string rest = reply.substr(at + 2);
    const size_t length = RespLength(rest);
    if (length == 0) break;
    items.push_back(BulkPayload(rest.substr(0, length)));
    at += length;
  }
  return items;
}

long long InfoNumber(const std::string& info, const std::string& name) {
  const std::string tag = absl::StrCat("\n", name, ":");
  const size_t at = info.find(tag);
  if (at == std::string::npos) return -1;
  return std::atoll(info.c_str() + at + tag.size());
}

long long Calls(int port, const std::string& command) {
  const std::string info = RedisCluster::Ask(port, {"INFO", "commandstats"});
  if (!absl::StartsWith(info, "$")) return -1;
  const std::string tag = absl::StrCat("cmdstat_", command, ":calls=");
  const size_t at = info.find(tag);
  if (at == std::string::npos) return 0;
  return std::atoll(info.c_str() + at + tag.size());
}

bool ResetStats(int port) { return RedisCluster::Ask(port, {"CONFIG", "RESETSTAT"}) == "+OK\r\n"; }

double MetricValue(const std::string& metrics, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (!absl::StartsWith(line, series)) continue;
    absl::string_view rest = line.substr(series.size());
    if (rest.empty() || rest[0] != ' ') continue;
    double value = 0;
    if (absl::SimpleAtod(rest.substr(1), &value)) return value;
  }
  return -1;
}

double Metric(int admin_port, const std::string& series) {
  const auto [code, body] = HttpGet(admin_port, "/metrics");
  if (code != 200) return -1;
  return MetricValue(body, series);
}

std::string RedisCluster::Ask(int port, const std::vector<std::string>& args,
                              milliseconds timeout) {
  Client client(port, timeout);
  if (!client.connected()) return "";
  return client.Command(args);
}

RedisCluster::RedisCluster(int masters, int replicas_per_master) {
  static int counter = 0;
  const int total = masters * (1 + replicas_per_master);
  for (int i = 0; i < total; ++i) {
    // The cluster bus listens on its own port (client port + 10000 by default, which is out of
    // range for most ephemeral ports): pick it too. Each node has its own nodes.conf.
    const int bus_port = FreePort();
    const std::string conf =
        TempPath(absl::StrCat("nodes-", getpid(), "-", ++counter, "-", bus_port, ".conf"));
    unlink(conf.c_str());
    servers_.push_back(std::make_unique<RedisServer>(std::vector<std::string>{
        "--cluster-enabled", "yes", "--cluster-config-file", conf, "--cluster-port",
        std::to_string(bus_port), "--cluster-node-timeout", "1000"}));
    if (!servers_.back()->ok()) {
      error_ = absl::StrCat("redis-server (cluster node ", i, ") did not start; see ",
                            TempPath(absl::StrCat("redis-", servers_.back()->port(), ".log")));
      return;
    }
  }
  ok_ = Form(replicas_per_master);
}

RedisCluster::~RedisCluster() {
  for (auto& server : servers_) server->Stop();
}

bool RedisCluster::Form(int replicas_per_master) {
  std::vector<std::string> argv = {"redis-cli", "--cluster", "create"};
  for (const auto& server : servers_) argv.push_back(absl::StrCat("127.0.0.1:", server->port()));
  argv.insert(argv.end(), {"--cluster-replicas", std::to_string(replicas_per_master),
                           "--cluster-yes"});
  const CommandResult created = RunCommand(argv, milliseconds(60000));
  if (created.exit_code != 0) {
    error_ = absl::StrCat("redis-cli --cluster create failed (", created.exit_code,
                          "):\n", created.output);
    return false;
  }
  // Every node must have learned every other and its role, agree on the slots, and say ok.
  const size_t total = servers_.size();
  const size_t masters = total / static_cast<size_t>(1 + replicas_per_master);
  const bool formed = WaitUntil(
      [&] {
        if (!Healthy()) return false;
        for (const auto& server : servers_) {
          const std::vector<Node> nodes = Nodes(server->port());
          if (nodes.size() != total) return false;
          size_t master_count = 0;
          for (const Node& node : nodes) master_count += node.master ? 1 : 0;
          if (master_count != masters) return false;
        }
        return ReplicasCaughtUp();
      },
      milliseconds(30000));
  if (!formed) {
    error_ = absl::StrCat("the cluster did not become healthy; CLUSTER NODES:\n",
                          BulkPayload(Ask(servers_[0]->port(), {"CLUSTER", "NODES"})));
  }
  return formed;
}

std::vector<int> RedisCluster::ports() const {
  std::vector<int> ports;
  for (const auto& server : servers_) ports.push_back(server->port());
  return ports;
}

RedisServer& RedisCluster::server(int port) {
  for (auto& server : servers_) {
    if (server->port() == port) return *server;
  }
  std::abort();
}

bool RedisCluster::Running(int port) const {
  for (const auto& server : servers_) {
    if (server->port() == port) return server->process().Running();
  }
  return false;
}

std::vector<RedisCluster::Node> RedisCluster::Nodes(int port) const {
  std::vector<Node> nodes;
  const std::string text = BulkPayload(Ask(port, {"CLUSTER", "NODES"}));
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    // <id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot>...
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() < 8) continue;
    Node node;
    node.id = std::string(fields[0]);
    absl::string_view address = fields[1].substr(0, fields[1].find('@'));
    absl::SimpleAtoi(address.substr(address.rfind(':') + 1), &node.port);
    const std::vector<absl::string_view> flags = absl::StrSplit(fields[2], ',');
    for (absl::string_view flag : flags) {
      if (flag == "master") node.master = true;
      if (flag == "fail" || flag == "fail?") node.failed = true;
    }
    if (fields[3] != "-") node.master_id = std::string(fields[3]);
    for (size_t i = 8; i < fields.size(); ++i) {
      if (absl::StartsWith(fields[i], "[")) continue;  // a slot being imported or migrated
      const std::vector<absl::string_view> range = absl::StrSplit(fields[i], '-');
      int from = 0;
      int to = 0;
      if (!absl::SimpleAtoi(range[0], &from)) continue;
      to = from;
      if (range.size() == 2 && !absl::SimpleAtoi(range[1], &to)) continue;
      node.slots.emplace_back(from, to);
    }
    nodes.push_back(std::move(node));
  }
  return nodes;
}

std::vector<RedisCluster::Node> RedisCluster::Nodes() const {
  for (const auto& server : servers_) {
    if (!server->process().Running()) continue;
    std::vector<Node> nodes = Nodes(server->port());
    if (!nodes.empty()) return nodes;
  }
  return {};
}

std::vector<int> RedisCluster::MasterPorts() const {
  std::vector<int> ports;
  for (const Node& node : Nodes()) {
    if (node.master && !node.failed) ports.push_back(node.port);
  }
  return ports;
}

std::vector<int> RedisCluster::ReplicaPorts() const {
  std::vector<int> ports;
  for (const Node& node : Nodes()) {
    if (!node.master && !node.failed) ports.push_back(node.port);
  }
  return ports;
}

int RedisCluster::OwnerOf(int slot) const {
  for (const Node& node : Nodes()) {
    if (!node.master) continue;
    for (const auto& [from, to] : node.slots) {
      if (slot >= from && slot <= to) return node.port;
    }
  }
  return 0;
}

std::string RedisCluster::IdOf(int port) const {
  for (const Node& node : Nodes()) {
    if (node.port == port) return node.id;
  }
  return "";
}

std::vector<int> RedisCluster::ReplicasOf(int master_port) const {
  const std::vector<Node> nodes = Nodes();
  std::string id;
  for (const Node& node : nodes) {
    if (node.port == master_port) id = node.id;
  }
  std::vector<int> ports;
  for (const Node& node : nodes) {
    if (!id.empty() && node.master_id == id && !node.failed) ports.push_back(node.port);
  }
  return ports;
}

bool RedisCluster::Healthy() const {
  std::string first_view;
  for (const auto& server : servers_) {
    if (!server->process().Running()) continue;
    const std::string info = BulkPayload(Ask(server->port(), {"CLUSTER", "INFO"}));
    if (!absl::StrContains(info, "cluster_state:ok")) return false;
    // Who owns what, as this node sees it: "port:from-to" for every master, sorted by node.
    std::map<int, std::string> view;
    for (const Node& node : Nodes(server->port())) {
      if (!node.master || node.failed) continue;
      std::string& ranges = view[node.port];
      for (const auto& [from, to] : node.slots) absl::StrAppend(&ranges, from, "-", to, ",");
    }
    std::string text;
    for (const auto& [port, ranges] : view) absl::StrAppend(&text, port, ":", ranges, ";");
    if (first_view.empty()) {
      first_view = text;
    } else if (text != first_view) {
      return false;
    }
  }
  return !first_view.empty();
}

bool RedisCluster::ReplicasCaughtUp() const {
  const std::vector<Node> nodes = Nodes();
  std::map<std::string, int> port_of;
  for (const Node& node : nodes) port_of[node.id] = node.port;
  for (const Node& node : nodes) {
    if (node.master || node.failed) continue;
    const auto master = port_of.find(node.master_id);
    if (master == port_of.end()) return false;
    const long long offset =
        InfoNumber(BulkPayload(Ask(master->second, {"INFO", "replication"})), "master_repl_offset");
    const std::string replica = BulkPayload(Ask(node.port, {"INFO", "replication"}));
    if (offset < 0 || !absl::StrContains(replica, "master_link_status:up") ||
        InfoNumber(replica, "master_repl_offset") != offset) {
      return false;
    }
  }
  return true;
}

ClusterProxy::ClusterProxy(const std::vector<int>& seeds, const std::string& read_from) {
  port = FreePort();
  admin = FreePort();
  std::string yaml = absl::StrCat("c:\n  listen: 127.0.0.1:", port,
                                  "\n  redis: true\n  redis_cluster: true\n  timeout: 5000\n");
  if (!read_from.empty()) absl::StrAppend(&yaml, "  read_from: ", read_from, "\n");
  absl::StrAppend(&yaml, "  servers:\n");
  for (int seed : seeds) absl::StrAppend(&yaml, "   - 127.0.0.1:", seed, ":1\n");
  process = std::make_unique<ProxyProcess>(
      yaml, std::vector<int>{port, admin},
      std::vector<std::string>{"--admin-port", std::to_string(admin)});
}

std::string ClusterProxy::Servers() const { return HttpGet(admin, "/servers").second; }

double ClusterProxy::Redirects() const {
  return Metric(admin, "shardproxy_redirects_total{pool=\"c\"}");
}

double ClusterProxy::TopologyChanges() const {
  return Metric(admin, "shardproxy_cluster_topology_changes_total");
}

bool ClusterProxy::Knows(const std::vector<int>& masters) const {
  const std::string servers = Servers();
  for (int port : masters) {
    if (!absl::StrContains(servers, absl::StrCat("127.0.0.1:", port))) return false;
  }
  return true;
}

}  // namespace proxy::test

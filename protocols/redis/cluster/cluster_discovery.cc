#include "protocols/redis/cluster/cluster_discovery.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iostream>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "protocols/redis/sentinel/connection.h"

namespace proxy::protocols::redis::cluster {

using sentinel::RespValue;

ClusterOptions OptionsFromPool(const config::v1::Pool& pool) {
  ClusterOptions options;
  for (const config::v1::Server& server : pool.servers()) {
    if (server.has_tcp()) options.seeds.emplace_back(server.tcp().host(), server.tcp().port());
  }
  options.password = pool.redis_auth();
  if (pool.has_server_auth() && pool.server_auth().credential().has_password()) {
    options.username = pool.server_auth().credential().username();
    options.password = pool.server_auth().credential().password().value();
  }
  return options;
}

namespace {

// [ip, port, id, ...] of a CLUSTER SLOTS entry; an empty IP is the node asked.
bool NodeAddress(const RespValue& node, const Address& asked, Address* out) {
  if (!node.is_array() || node.elements.size() < 2 || !node.elements[0].is_string() ||
      node.elements[1].type != RespValue::Type::kInteger) {
    return false;
  }
  const int64_t port = node.elements[1].integer;
  if (port <= 0 || port > 65535) return false;
  *out = Address(node.elements[0].text.empty() ? asked.first : node.elements[0].text,
                 static_cast<uint32_t>(port));
  return true;
}

}  // namespace

absl::StatusOr<DiscoveredTopology> ParseClusterSlots(const RespValue& reply,
                                                     const Address& asked) {
  if (reply.is_error()) return absl::FailedPreconditionError(reply.text.substr(0, 200));
  if (!reply.is_array()) return absl::InvalidArgumentError("CLUSTER SLOTS: not an array");
  struct Node {
    std::vector<std::pair<uint32_t, uint32_t>> slots;
    std::set<Address> replicas;
  };
  std::map<Address, Node> masters;
  for (const RespValue& entry : reply.elements) {
    if (!entry.is_array() || entry.elements.size() < 3 ||
        entry.elements[0].type != RespValue::Type::kInteger ||
        entry.elements[1].type != RespValue::Type::kInteger) {
      return absl::InvalidArgumentError("CLUSTER SLOTS: an entry is not [first, last, node...]");
    }
    const int64_t first = entry.elements[0].integer;
    const int64_t last = entry.elements[1].integer;
    if (first < 0 || last < first || last > 16383) {
      return absl::InvalidArgumentError(
          absl::StrCat("CLUSTER SLOTS: bad slot range ", first, "-", last));
    }
    Address master;
    if (!NodeAddress(entry.elements[2], asked, &master)) {
      return absl::InvalidArgumentError("CLUSTER SLOTS: a node is not [ip, port, id...]");
    }
    Node& node = masters[master];
    node.slots.emplace_back(static_cast<uint32_t>(first), static_cast<uint32_t>(last));
    for (size_t i = 3; i < entry.elements.size(); ++i) {
      Address replica;
      if (!NodeAddress(entry.elements[i], asked, &replica)) {
        return absl::InvalidArgumentError("CLUSTER SLOTS: a node is not [ip, port, id...]");
      }
      node.replicas.insert(replica);
    }
  }
  DiscoveredTopology topology;
  for (auto& [address, node] : masters) {
    DiscoveredNode& out = topology.masters.emplace_back();
    out.host = address.first;
    out.port = address.second;
    std::sort(node.slots.begin(), node.slots.end());
    for (const auto& range : node.slots) {
      if (!out.slots.empty() && out.slots.back().second + 1 >= range.first) {
        out.slots.back().second = std::max(out.slots.back().second, range.second);
      } else {
        out.slots.push_back(range);
      }
    }
    out.replicas.assign(node.replicas.begin(), node.replicas.end());
  }
  return topology;
}

ClusterDiscovery::ClusterDiscovery(ClusterOptions options) : options_(std::move(options)) {
  cancel_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

ClusterDiscovery::~ClusterDiscovery() {
  Stop();
  if (cancel_fd_ >= 0) ::close(cancel_fd_);
}

void ClusterDiscovery::SetLogSink(std::function<void(absl::string_view)> sink) {
  options_.log = std::move(sink);
}

void ClusterDiscovery::Log(absl::string_view message) const {
  if (options_.log) {
    options_.log(message);
  } else {
    std::cerr << "cluster: " << message << "\n";
  }
}

absl::StatusOr<DiscoveredTopology> ClusterDiscovery::Query(absl::Time deadline, int cancel_fd) {
  std::vector<Address> order = known_;
  for (const Address& seed : options_.seeds) {
    if (std::find(order.begin(), order.end(), seed) == order.end()) order.push_back(seed);
  }
  std::string errors;
  for (const Address& node : order) {
    const absl::Time step = std::min(deadline, absl::Now() + options_.io_timeout);
    sentinel::SentinelConnection conn(node.first, node.second, cancel_fd);
    // AUTH password (Connect's), or AUTH user password for an ACL user.
    absl::Status status = conn.Connect(options_.username.empty() ? options_.password : "", step);
    if (status.ok() && !options_.username.empty()) {
      absl::StatusOr<RespValue> auth =
          conn.Command({"AUTH", options_.username, options_.password}, step);
      if (!auth.ok()) {
        status = auth.status();
      } else if (auth->is_error()) {
        status = absl::PermissionDeniedError(auth->text.substr(0, 200));
      }
    }
    absl::StatusOr<RespValue> reply =
        status.ok() ? conn.Command({"CLUSTER", "SLOTS"}, step) : absl::StatusOr<RespValue>(status);
    if (reply.ok()) {
      absl::StatusOr<DiscoveredTopology> topology = ParseClusterSlots(*reply, node);
      if (topology.ok() && !topology->masters.empty()) {
        known_.clear();
        for (const DiscoveredNode& master : topology->masters) {
          known_.emplace_back(master.host, master.port);
        }
        return topology;
      }
      status = topology.ok() ? absl::UnavailableError("no slot is served") : topology.status();
    } else {
      status = reply.status();
    }
    if (status.code() == absl::StatusCode::kCancelled) return status;
    absl::StrAppend(&errors, errors.empty() ? "" : "; ", node.first, ":", node.second, ": ",
                    status.message());
    if (absl::Now() >= deadline) break;
  }
  return absl::UnavailableError(absl::StrCat("no cluster node answered CLUSTER SLOTS (", errors,
                                             ")"));
}

absl::StatusOr<DiscoveredTopology> ClusterDiscovery::Resolve(absl::Duration timeout) {
  absl::StatusOr<DiscoveredTopology> topology = Query(absl::Now() + timeout, -1);
  if (topology.ok()) last_ = *topology;
  return topology;
}

absl::Status ClusterDiscovery::Start(std::function<void(const DiscoveredTopology&)> changed) {
  if (cancel_fd_ < 0) return absl::InternalError("eventfd failed");
  if (thread_.joinable()) return absl::FailedPreconditionError("already started");
  changed_ = std::move(changed);
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void ClusterDiscovery::Refresh() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    refresh_ = true;
  }
  cv_.notify_one();
}

void ClusterDiscovery::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_one();
  if (cancel_fd_ >= 0) {
    const uint64_t one = 1;
    while (::write(cancel_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
    }
  }
  if (thread_.joinable()) thread_.join();
}

void ClusterDiscovery::Run() {
  absl::Time last_query = absl::InfinitePast();
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, absl::ToChronoMilliseconds(options_.requery_interval),
                   [this] { return stop_ || refresh_; });
      if (stop_) return;
      refresh_ = false;
    }
    // Redirections come in bursts (every request to a moved slot): one look per interval.
    const absl::Duration since = absl::Now() - last_query;
    if (since < options_.min_refresh_interval) {
      absl::SleepFor(options_.min_refresh_interval - since);
    }
    last_query = absl::Now();
    absl::StatusOr<DiscoveredTopology> topology =
        Query(absl::Now() + 2 * options_.io_timeout, cancel_fd_);
    if (!topology.ok()) {
      if (topology.status().code() == absl::StatusCode::kCancelled) return;
      if (!failing_) Log(topology.status().message());
      failing_ = true;
      continue;
    }
    if (failing_) Log("a cluster node answers CLUSTER SLOTS again");
    failing_ = false;
    if (*topology == last_) continue;
    last_ = *topology;
    changed_(last_);
  }
}

}  // namespace proxy::protocols::redis::cluster

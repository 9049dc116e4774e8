// Admin endpoint handlers and the Prometheus exposition.
#include "core/admin/admin_server.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "api/placement.h"
#include "api/stats_names.h"
#include "core/common/log.h"
#include "core/net/accept_failures.h"
#include "core/proxy/clock.h"
#include "core/stats/stats_server.h"

namespace proxy {
namespace {

// Prometheus label values: backslash, double quote and newline are escaped.
std::string Label(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Header(std::string* out, absl::string_view name, absl::string_view type,
            absl::string_view help) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

// The admin server of each listener: libevent hands the error callback evhttp's pointer, not
// ours.
struct ListenerRegistry {
  std::mutex mu;
  std::map<const evconnlistener*, AdminServer*> by_listener;
};
ListenerRegistry& Registry() {
  static auto* registry = new ListenerRegistry();
  return *registry;
}

// A bucket bound in seconds ("0.0001"): short, exact for the bounds we use.
std::string Seconds(double us) { return absl::StrFormat("%.6g", us / 1e6); }
// A total or a time in seconds, to the microsecond ("%g" would round 1796611036 to 1.79661e+09).
std::string ExactSeconds(uint64_t us) {
  return absl::StrFormat("%llu.%06llu", static_cast<unsigned long long>(us / 1000000u),
                         static_cast<unsigned long long>(us % 1000000u));
}

// Sums a histogram over workers and writes its series.
template <class Get>
void WriteHistogram(std::string* out, absl::string_view name, const std::string& labels,
                    const std::vector<Worker*>& workers, Get get) {
  int64_t buckets[kLatencyBucketCount] = {};
  int64_t count = 0;
  int64_t sum = 0;
  bool any = false;
  for (Worker* w : workers) {
    const LatencyHistogram* h = get(w);
    if (h == nullptr) continue;
    any = true;
    for (size_t i = 0; i < kLatencyBucketCount; ++i) buckets[i] += h->bucket(i);
    count += h->count();
    sum += h->sum_us();
  }
  if (!any) return;
  int64_t cumulative = 0;
  for (size_t i = 0; i < kLatencyBucketCount; ++i) {
    cumulative += buckets[i];
    const std::string le =
        i + 1 < kLatencyBucketCount ? Seconds(static_cast<double>(kLatencyBucketsUs[i])) : "+Inf";
    absl::StrAppend(out, name, "_bucket{", labels, ",le=\"", le, "\"} ", cumulative, "\n");
  }
  absl::StrAppend(out, name, "_sum{", labels, "} ",
                  ExactSeconds(static_cast<uint64_t>(std::max<int64_t>(sum, 0))), "\n");
  absl::StrAppend(out, name, "_count{", labels, "} ", count, "\n");
}

}  // namespace

std::string PrometheusText(const std::vector<Worker*>& workers, uint64_t start_wall_us,
                           const ConfigStats* config) {
  std::string out;
  if (workers.empty()) return out;
  std::shared_lock<std::shared_mutex> topology(TopologyMutex());
  auto& pools = workers[0]->pools();
  int64_t total = 0;
  int64_t current = 0;
  for (Worker* w : workers) {
    total += w->total_connections();
    current += w->curr_connections();
  }
  Header(&out, "shardproxy_uptime_seconds", "gauge", "Seconds since the proxy started.");
  absl::StrAppend(&out, "shardproxy_uptime_seconds ",
                  (WallMicros() - start_wall_us) / 1000000u, "\n");
  Header(&out, "shardproxy_connections_total", "counter",
         "Connections ever created (listeners, clients, servers).");
  absl::StrAppend(&out, "shardproxy_connections_total ", total, "\n");
  Header(&out, "shardproxy_connections", "gauge", "Connections open now.");
  absl::StrAppend(&out, "shardproxy_connections ", current, "\n");
  if (config != nullptr) {
    Header(&out, "shardproxy_config_generation", "gauge",
           "The configuration in force: 1 at start, +1 per applied reload.");
    absl::StrAppend(&out, "shardproxy_config_generation ", config->generation.load(), "\n");
    Header(&out, "shardproxy_config_reloads_total", "counter",
           "Reloads of the configuration file (SIGUSR1, POST /reload), by result.");
    absl::StrAppend(&out, "shardproxy_config_reloads_total{result=\"success\"} ",
                    config->reloads_succeeded.load(), "\n");
    absl::StrAppend(&out, "shardproxy_config_reloads_total{result=\"failure\"} ",
                    config->reloads_failed.load(), "\n");
    Header(&out, "shardproxy_config_last_reload_timestamp_seconds", "gauge",
           "When the last reload was attempted (Unix time; 0 = never).");
    absl::StrAppend(&out, "shardproxy_config_last_reload_timestamp_seconds ",
                    ExactSeconds(config->last_reload_wall_us.load()), "\n");
    Header(&out, "shardproxy_config_last_reload_success", "gauge",
           "1 if the last reload was applied (or none was tried), 0 if it failed.");
    absl::StrAppend(&out, "shardproxy_config_last_reload_success ",
                    config->last_reload_ok.load() ? 1 : 0, "\n");
    Header(&out, "shardproxy_failovers_total", "counter",
           "Servers moved to a new address by Sentinel (+switch-master) and applied.");
    absl::StrAppend(&out, "shardproxy_failovers_total ", config->failovers.load(), "\n");
    Header(&out, "shardproxy_cluster_topology_changes_total", "counter",
           "Redis Cluster slot maps applied (CLUSTER SLOTS differed from the map in force).");
    absl::StrAppend(&out, "shardproxy_cluster_topology_changes_total ",
                    config->topology_changes.load(), "\n");
  }

  // twemproxy's pool metrics, one family each.
#define PROXY_POOL_FAMILY_(field, type, suffix, help)                                  \
  Header(&out, "shardproxy_" #field suffix, type, help);                               \
  for (size_t p = 0; p < pools.size(); ++p) {                                          \
    int64_t sum = 0;                                                                   \
    for (Worker* w : workers) sum += w->pools()[p]->stats().field.Get();               \
    absl::StrAppend(&out, "shardproxy_" #field suffix "{pool=\"", Label(pools[p]->Name()), \
                    "\"} ", sum, "\n");                                                \
  }
  PROXY_POOL_FAMILY_(client_eof, "counter", "_total", "Client connections closed by the client.")
  PROXY_POOL_FAMILY_(client_err, "counter", "_total", "Client connections closed on an error.")
  PROXY_POOL_FAMILY_(client_connections, "gauge", "", "Active client connections.")
  PROXY_POOL_FAMILY_(server_ejects, "counter", "_total", "Times a server was ejected.")
  PROXY_POOL_FAMILY_(forward_error, "counter", "_total", "Error replies made by the proxy.")
  PROXY_POOL_FAMILY_(fragments, "counter", "_total", "Fragments of split requests.")
  PROXY_POOL_FAMILY_(slow_requests, "counter", "_total",
                     "Requests slower than the slow-log threshold.")
  PROXY_POOL_FAMILY_(accept_refused, "counter", "_total",
                     "Client connections not accepted for lack of file descriptors or memory.")
  PROXY_POOL_FAMILY_(unsupported_refused, "counter", "_total",
                     "Unsupported commands the filter chain let through, refused by the core.")
  PROXY_POOL_FAMILY_(client_output_overflow, "counter", "_total",
                     "Clients closed for exceeding the client output limit.")
  PROXY_POOL_FAMILY_(client_eof_pending, "counter", "_total",
                     "Hung-up clients closed with requests still pending.")
  PROXY_POOL_FAMILY_(server_backpressure, "counter", "_total",
                     "Times a client was paused because a server connection had too much unsent.")
  PROXY_POOL_FAMILY_(redirects, "counter", "_total",
                     "Redis Cluster redirections (MOVED/ASK) followed by resending the request.")
  PROXY_POOL_FAMILY_(tls_handshake_failed, "counter", "_total",
                     "TLS handshakes with clients that failed (tls: pools).")
#undef PROXY_POOL_FAMILY_

  // Server metrics.
#define PROXY_SERVER_FAMILY_(field, type, suffix, help)                                     \
  Header(&out, "shardproxy_server_" #field suffix, type, help);                             \
  for (size_t p = 0; p < pools.size(); ++p) {                                               \
    const config::v1::Pool& config = pools[p]->Config();                                    \
    for (uint32_t s : SortedServerOrder(config)) {                                          \
      int64_t sum = 0;                                                                      \
      for (Worker* w : workers) sum += w->pools()[p]->server(s).stats.field.Get();          \
      absl::StrAppend(&out, "shardproxy_server_" #field suffix "{pool=\"",                  \
                      Label(config.name()), "\",server=\"",                                 \
                      Label(config.servers(s).node_name()), "\"} ", sum, "\n");             \
    }                                                                                       \
  }
  PROXY_SERVER_FAMILY_(server_eof, "counter", "_total", "Server connections closed by EOF.")
  PROXY_SERVER_FAMILY_(server_err, "counter", "_total", "Server connections closed on errors.")
  PROXY_SERVER_FAMILY_(server_timedout, "counter", "_total", "Server connections timed out.")
  PROXY_SERVER_FAMILY_(server_connections, "gauge", "", "Active server connections.")
  PROXY_SERVER_FAMILY_(requests, "counter", "_total", "Requests forwarded.")
  PROXY_SERVER_FAMILY_(request_bytes, "counter", "_total", "Request bytes forwarded.")
  PROXY_SERVER_FAMILY_(responses, "counter", "_total", "Replies received.")
  PROXY_SERVER_FAMILY_(response_bytes, "counter", "_total", "Reply bytes received.")
  PROXY_SERVER_FAMILY_(in_queue, "gauge", "", "Requests queued, not yet written.")
  PROXY_SERVER_FAMILY_(in_queue_bytes, "gauge", "", "Bytes queued, not yet written.")
  PROXY_SERVER_FAMILY_(out_queue, "gauge", "", "Requests written, awaiting a reply.")
  PROXY_SERVER_FAMILY_(out_queue_bytes, "gauge", "", "Bytes written, awaiting a reply.")
#undef PROXY_SERVER_FAMILY_
  Header(&out, "shardproxy_server_up", "gauge",
         "1 when the server is in the distribution in every worker, 0 while ejected.");
  for (size_t p = 0; p < pools.size(); ++p) {
    const config::v1::Pool& config = pools[p]->Config();
    for (uint32_t s : SortedServerOrder(config)) {
      bool up = true;
      for (Worker* w : workers) up = up && !w->pools()[p]->server(s).ejected;
      absl::StrAppend(&out, "shardproxy_server_up{pool=\"", Label(config.name()),
                      "\",server=\"", Label(config.servers(s).node_name()), "\"} ", up ? 1 : 0,
                      "\n");
    }
  }
  // Active health checks (pools with health_check_interval only).
  std::string checks;
  for (size_t p = 0; p < pools.size(); ++p) {
    const config::v1::Pool& config = pools[p]->Config();
    if (config.health_check_interval_ms() == 0) continue;
    for (uint32_t s : SortedServerOrder(config)) {
      int64_t passed = 0;
      int64_t failed = 0;
      for (Worker* w : workers) {
        passed += w->pools()[p]->server(s).checks_passed.Get();
        failed += w->pools()[p]->server(s).checks_failed.Get();
      }
      const std::string labels = absl::StrCat("pool=\"", Label(config.name()), "\",server=\"",
                                              Label(config.servers(s).node_name()), "\"");
      absl::StrAppend(&checks, "shardproxy_server_health_checks_total{", labels,
                      ",result=\"pass\"} ", passed, "\n", "shardproxy_server_health_checks_total{",
                      labels, ",result=\"fail\"} ", failed, "\n");
    }
  }
  if (!checks.empty()) {
    Header(&out, "shardproxy_server_health_checks_total", "counter",
           "Active health checks (health_check_interval) by result.");
    out += checks;
  }
  // Replica reads (pools with replicas).
  std::string replica_reads;
  std::string replica_in_sync;
  for (size_t p = 0; p < pools.size(); ++p) {
    const config::v1::Pool& config = pools[p]->Config();
    for (uint32_t s : SortedServerOrder(config)) {
      const std::vector<ServerState*>& replicas = pools[p]->replicas_of(s);
      for (size_t r = 0; r < replicas.size(); ++r) {
        int64_t reads = 0;
        bool in_sync = true;
        for (Worker* w : workers) {
          const ServerState& replica = *w->pools()[p]->replicas_of(s)[r];
          reads += replica.stats.requests.Get();
          in_sync = in_sync && replica.in_sync;
        }
        const std::string labels =
            absl::StrCat("pool=\"", Label(config.name()), "\",server=\"",
                         Label(config.servers(s).node_name()), "\",replica=\"",
                         Label(replicas[r]->name), "\"");
        absl::StrAppend(&replica_reads, "shardproxy_replica_reads_total{", labels, "} ", reads,
                        "\n");
        absl::StrAppend(&replica_in_sync, "shardproxy_replica_in_sync{", labels, "} ",
                        in_sync ? 1 : 0, "\n");
      }
    }
  }
  if (!replica_reads.empty()) {
    Header(&out, "shardproxy_replica_reads_total", "counter",
           "Read-only requests sent to a replica (read_from:).");
    out += replica_reads;
    Header(&out, "shardproxy_replica_in_sync", "gauge",
           "1 while the replica passes its checks (role:slave, master_link_status:up) in every "
           "worker and gets reads.");
    out += replica_in_sync;
  }

  // Per-command counters and latency (the stats filter's scope, api/stats_names.h).
  Header(&out, "shardproxy_requests_total", "counter", "Requests completed, per command.");
  std::string errors;
  std::string latency;
  Header(&errors, "shardproxy_request_errors_total", "counter",
         "Requests answered with a proxy error, per command.");
  Header(&latency, "shardproxy_request_duration_seconds", "histogram",
         "Client-observed latency: request decoded to reply queued, per command.");
  for (size_t p = 0; p < pools.size(); ++p) {
    // The command names seen by any worker.
    std::set<std::string> commands;
    for (Worker* w : workers) {
      const ScopeImpl* cmd = w->pools()[p]->scope().FindChild(stats_names::kCommandScope);
      if (cmd == nullptr) continue;
      cmd->ForEachHistogram("", [&](const std::string& name, const LatencyHistogram&) {
        if (absl::EndsWith(name, stats_names::kLatencySuffix)) {
          commands.insert(name.substr(0, name.size() - stats_names::kLatencySuffix.size()));
        }
      });
    }
    const std::string pool_label = Label(pools[p]->Name());
    for (const std::string& command : commands) {
      int64_t requests = 0;
      int64_t failed = 0;
      for (Worker* w : workers) {
        const ScopeImpl* cmd = w->pools()[p]->scope().FindChild(stats_names::kCommandScope);
        if (cmd == nullptr) continue;
        requests += cmd->CounterValue(absl::StrCat(command, stats_names::kRequestsSuffix));
        failed += cmd->CounterValue(absl::StrCat(command, stats_names::kErrorsSuffix));
      }
      const std::string labels =
          absl::StrCat("pool=\"", pool_label, "\",command=\"", Label(command), "\"");
      absl::StrAppend(&out, "shardproxy_requests_total{", labels, "} ", requests, "\n");
      absl::StrAppend(&errors, "shardproxy_request_errors_total{", labels, "} ", failed, "\n");
      WriteHistogram(&latency, "shardproxy_request_duration_seconds", labels, workers,
                     [&](Worker* w) -> const LatencyHistogram* {
                       const ScopeImpl* cmd =
                           w->pools()[p]->scope().FindChild(stats_names::kCommandScope);
                       return cmd == nullptr ? nullptr
                                             : cmd->FindHistogram(absl::StrCat(
                                                   command, stats_names::kLatencySuffix));
                     });
    }
  }
  out += errors;
  out += latency;

  // Every other metric a filter records in its pool scope (e.g. command_policy's refusals),
  // summed over workers, named by its dotted path.
  std::string filter_counters;
  std::string filter_gauges;
  Header(&filter_counters, "shardproxy_filter_counter_total", "counter",
         "Counters recorded by filters in their pool scope, by name.");
  Header(&filter_gauges, "shardproxy_filter_gauge", "gauge",
         "Gauges recorded by filters in their pool scope, by name.");
  for (size_t p = 0; p < pools.size(); ++p) {
    std::map<std::string, int64_t> counters;
    std::map<std::string, int64_t> gauges;
    for (Worker* w : workers) {
      const ScopeImpl& scope = w->pools()[p]->scope();
      for (const std::string& child : scope.ChildNames()) {
        if (child == stats_names::kCommandScope || child == stats_names::kRefusedScope) {
          continue;  // exported on their own
        }
        const ScopeImpl* sub = scope.FindChild(child);
        if (sub == nullptr) continue;
        sub->ForEachCounter(child + ".", [&](const std::string& n, int64_t v) { counters[n] += v; });
        sub->ForEachGauge(child + ".", [&](const std::string& n, int64_t v) { gauges[n] += v; });
      }
      scope.ForEachCounter("", [&](const std::string& n, int64_t v) {
        if (n.find('.') == std::string::npos) counters[n] += v;
      });
    }
    const std::string pool_label = Label(pools[p]->Name());
    for (const auto& [name, value] : counters) {
      absl::StrAppend(&filter_counters, "shardproxy_filter_counter_total{pool=\"", pool_label,
                      "\",name=\"", Label(name), "\"} ", value, "\n");
    }
    for (const auto& [name, value] : gauges) {
      absl::StrAppend(&filter_gauges, "shardproxy_filter_gauge{pool=\"", pool_label,
                      "\",name=\"", Label(name), "\"} ", value, "\n");
    }
  }
  out += filter_counters;
  out += filter_gauges;
  // Requests the proxy refused, per command (the core's scope, api/stats_names.h).
  Header(&out, "shardproxy_refused_total", "counter",
         "Valid requests refused by the proxy (unsupported, a filter's or the session's "
         "refusal), per command.");
  for (size_t p = 0; p < pools.size(); ++p) {
    std::map<std::string, int64_t> refused;
    for (Worker* w : workers) {
      const ScopeImpl* sub = w->pools()[p]->scope().FindChild(stats_names::kRefusedScope);
      if (sub == nullptr) continue;
      sub->ForEachCounter("", [&](const std::string& n, int64_t v) { refused[n] += v; });
    }
    const std::string pool_label = Label(pools[p]->Name());
    for (const auto& [command, value] : refused) {
      absl::StrAppend(&out, "shardproxy_refused_total{pool=\"", pool_label, "\",command=\"",
                      Label(command), "\"} ", value, "\n");
    }
  }
  Header(&out, "shardproxy_server_duration_seconds", "histogram",
         "Server latency: request queued on a server connection to its reply.");
  for (size_t p = 0; p < pools.size(); ++p) {
    const config::v1::Pool& config = pools[p]->Config();
    for (uint32_t s : SortedServerOrder(config)) {
      const std::string labels = absl::StrCat("pool=\"", Label(config.name()), "\",server=\"",
                                              Label(config.servers(s).node_name()), "\"");
      WriteHistogram(&out, "shardproxy_server_duration_seconds", labels, workers,
                     [&](Worker* w) { return &w->pools()[p]->server(s).stats.latency; });
    }
  }
  return out;
}

std::string HealthText(const std::vector<Worker*>& workers, bool* healthy) {
  std::shared_lock<std::shared_mutex> topology(TopologyMutex());
  *healthy = true;
  std::string down;
  if (!workers.empty()) {
    auto& pools = workers[0]->pools();
    for (size_t p = 0; p < pools.size(); ++p) {
      bool live = false;
      for (Worker* w : workers) live = live || !w->pools()[p]->AllEjectedShared();
      if (!live) {
        *healthy = false;
        absl::StrAppend(&down, down.empty() ? "" : ", ", pools[p]->Name());
      }
    }
  }
  return *healthy ? "ok\n" : absl::StrCat("no live server in pool(s): ", down, "\n");
}

std::string ServersJson(const std::vector<Worker*>& workers) {
  std::shared_lock<std::shared_mutex> topology(TopologyMutex());
  std::string out = "[";
  if (!workers.empty()) {
    const uint64_t now = MonotonicMicros();
    auto& pools = workers[0]->pools();
    bool first = true;
    for (size_t p = 0; p < pools.size(); ++p) {
      const config::v1::Pool& config = pools[p]->Config();
      for (uint32_t s : SortedServerOrder(config)) {
        const config::v1::Server& server = config.servers(s);
        bool ejected = false;
        uint32_t failures = 0;
        uint64_t retry_in_ms = 0;
        int64_t ejected_at = 0;
        // Active health checks: "off", "unchecked" (no check completed yet), "up", "down".
        const char* health = config.health_check_interval_ms() > 0 ? "unchecked" : "off";
        bool any_checked = false;
        bool any_down = false;
        // Connections: established ones (shared of every connection class, and pinned), all
        // workers together; the limits are per connection class (README.md, Observability).
        int64_t connections = 0;
        uint64_t connection_limit = 0;
        uint64_t pinned_limit = 0;
        for (Worker* w : workers) {
          const PoolRuntime& pool = *w->pools()[p];
          connection_limit += pool.connection_quota();
          if (pool.serving()) pinned_limit += pool.shared().limits.max_pinned_connections;
          const ServerState& state = w->pools()[p]->server(s);
          connections += state.stats.server_connections.Get();
          failures = std::max<uint32_t>(failures, state.failures);
          ejected_at = std::max<int64_t>(ejected_at, state.stats.server_ejected_at.Get());
          any_checked = any_checked || state.checked;
          any_down = any_down || state.health_down;
          if (state.ejected) {
            ejected = true;
            // A server down by health check waits for a passing check, not a time.
            const uint64_t at = state.health_down ? now : uint64_t{state.retry_at_us};
            retry_in_ms = std::max<uint64_t>(retry_in_ms, at > now ? (at - now) / 1000 : 0);
          }
        }
        if (config.health_check_interval_ms() > 0 && any_checked) health = any_down ? "down" : "up";
        const std::string address =
            server.has_tcp() ? absl::StrCat(server.tcp().host(), ":", server.tcp().port())
                             : server.unix_path();
        const std::vector<ServerState*>& replicas = pools[p]->replicas_of(s);
        std::vector<std::string> replica_addresses;
        for (const ServerState* replica : replicas) {
          replica_addresses.push_back(absl::StrCat("\"", replica->where, "\""));
        }
        absl::StrAppend(&out, first ? "" : ",", "\n  {\"pool\": \"", config.name(),
                        "\", \"server\": \"", server.node_name(), "\", \"address\": \"", address,
                        "\", \"weight\": ", server.weight(), ", \"state\": \"",
                        ejected ? "ejected" : "live", "\", \"failures\": ", failures,
                        ", \"ejected_at_us\": ", ejected_at, ", \"retry_in_ms\": ", retry_in_ms,
                        ", \"health\": \"", health, "\", \"role\": \"master\", \"replicas\": [",
                        absl::StrJoin(replica_addresses, ", "), "], \"connections\": ",
                        connections, ", \"connection_limit\": ", connection_limit,
                        ", \"pinned_connection_limit\": ", pinned_limit, "}");
        first = false;
        // Its replicas, one entry each: whether they serve reads now (read_from:).
        for (size_t r = 0; r < replicas.size(); ++r) {
          const char* state = "unused";  // read_from: master
          if (config.read_from() != config::v1::READ_FROM_MASTER) {
            bool all_in_sync = true;
            bool any_checked = false;
            for (Worker* w : workers) {
              const ServerState& replica = *w->pools()[p]->replicas_of(s)[r];
              all_in_sync = all_in_sync && replica.in_sync;
              any_checked = any_checked || replica.checked;
            }
            state = all_in_sync ? "in_sync" : any_checked ? "out_of_sync" : "unchecked";
          }
          int64_t reads = 0;
          int64_t replica_connections = 0;
          for (Worker* w : workers) {
            const ServerState& replica = *w->pools()[p]->replicas_of(s)[r];
            reads += replica.stats.requests.Get();
            replica_connections += replica.stats.server_connections.Get();
          }
          absl::StrAppend(&out, ",\n  {\"pool\": \"", config.name(), "\", \"server\": \"",
                          replicas[r]->name, "\", \"address\": \"", replicas[r]->where,
                          "\", \"role\": \"replica\", \"master\": \"", server.node_name(),
                          "\", \"state\": \"", state, "\", \"reads\": ", reads,
                          ", \"connections\": ", replica_connections,
                          ", \"connection_limit\": ", connection_limit, "}");
        }
      }
    }
  }
  out += "\n]\n";
  return out;
}

AdminServer::AdminServer(std::vector<Worker*> workers, uint64_t start_wall_us)
    : workers_(std::move(workers)), start_wall_us_(start_wall_us) {}

AdminServer::~AdminServer() { Stop(); }

absl::Status AdminServer::Start(const std::string& addr, uint16_t port, int inherited) {
  base_ = event_base_new();
  http_ = evhttp_new(base_);
  evhttp_bound_socket* bound =
      inherited >= 0 ? evhttp_accept_socket_with_handle(http_, inherited)
                     : evhttp_bind_socket_with_handle(http_, addr.c_str(), port);
  if (bound == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("bind of the admin endpoint to '", addr, ":", port, "' failed: ",
                     std::strerror(errno)));
  }
  // Only small GETs are served: anything bigger is refused as it arrives (never buffered), and
  // a connection that does not finish its request (or read its reply) in time is closed.
  evhttp_set_max_headers_size(http_, kMaxHeadersBytes);
  evhttp_set_max_body_size(http_, kMaxBodyBytes);
  evhttp_set_timeout(http_, kRequestTimeoutSeconds);
  listener_ = evhttp_bound_socket_get_listener(bound);
  evconnlistener_set_error_cb(listener_, &OnAcceptError);
  resume_event_ = evtimer_new(base_, &OnResume, this);
  {
    std::lock_guard<std::mutex> lock(Registry().mu);
    Registry().by_listener[listener_] = this;
  }
  evhttp_set_gencb(http_, &Handle, this);
  stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  stop_event_ = event_new(base_, stop_fd_, EV_READ, [](evutil_socket_t, short, void* arg) {
    event_base_loopbreak(static_cast<event_base*>(arg));
  }, base_);
  event_add(stop_event_, nullptr);
  thread_ = std::thread([this] { event_base_dispatch(base_); });
  return absl::OkStatus();
}

void AdminServer::Stop() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    ssize_t ignored = write(stop_fd_, &one, sizeof(one));
    (void)ignored;
    thread_.join();
  }
  if (stop_event_ != nullptr) event_free(stop_event_);
  if (listener_ != nullptr) {
    std::lock_guard<std::mutex> lock(Registry().mu);
    Registry().by_listener.erase(listener_);
  }
  if (resume_event_ != nullptr) event_free(resume_event_);
  resume_event_ = nullptr;
  listener_ = nullptr;
  if (http_ != nullptr) evhttp_free(http_);
  if (base_ != nullptr) event_base_free(base_);
  if (stop_fd_ >= 0) close(stop_fd_);
  stop_event_ = nullptr;
  http_ = nullptr;
  base_ = nullptr;
  stop_fd_ = -1;
}

void AdminServer::OnAcceptError(evconnlistener* listener, void* /*arg*/) {
  const int error = EVUTIL_SOCKET_ERROR();
  // The listener's user data is evhttp's; ours is found through the base's only admin server.
  AdminServer* self = nullptr;
  {
    std::lock_guard<std::mutex> lock(Registry().mu);
    auto it = Registry().by_listener.find(listener);
    if (it != Registry().by_listener.end()) self = it->second;
  }
  if (self == nullptr) return;
  self->PauseAccepting(error);
}

void AdminServer::PauseAccepting(int error) {
  refused_accepts_.fetch_add(1, std::memory_order_relaxed);
  accept_failures_.Record("admin", error, WallMicros());
  // The pending connection waits in the backlog; accepting resumes after a short pause.
  evconnlistener_disable(listener_);
  timeval pause{0, AcceptFailureLog::kPauseMs * 1000};
  evtimer_add(resume_event_, &pause);
}

void AdminServer::OnResume(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<AdminServer*>(arg);
  if (self->listener_ != nullptr) evconnlistener_enable(self->listener_);
}

void AdminServer::Handle(evhttp_request* request, void* arg) {
  auto* self = static_cast<AdminServer*>(arg);
  const char* uri = evhttp_request_get_uri(request);
  std::string path = uri != nullptr ? uri : "/";
  const size_t query = path.find('?');
  if (query != std::string::npos) path.resize(query);
  int code = 200;
  std::string body;
  const char* type = "text/plain; charset=utf-8";
  const evhttp_cmd_type method = evhttp_request_get_command(request);
  if (path == "/reload") {
    if (method != EVHTTP_REQ_POST) {
      code = 405;
      body = "POST /reload reloads the configuration file\n";
    } else if (!self->reload_) {
      code = 404;
      body = "reload is not available\n";
    } else {
      std::tie(code, body) = self->reload_();
    }
  } else if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
    code = 405;
    body = "only GET (and POST /reload)\n";
  } else if (path == "/metrics") {
    body = PrometheusText(self->workers_, self->start_wall_us_, self->config_);
    type = "text/plain; version=0.0.4; charset=utf-8";
  } else if (path == "/stats") {
    body = StatsJson(self->workers_, self->start_wall_us_);
    type = "application/json";
  } else if (path == "/healthz") {
    bool healthy = true;
    body = HealthText(self->workers_, &healthy);
    code = healthy ? 200 : 503;
  } else if (path == "/servers") {
    body = ServersJson(self->workers_);
    type = "application/json";
  } else {
    code = 404;
    body = "not found: try /metrics, /stats, /healthz, /servers or POST /reload\n";
  }
  evkeyvalq* headers = evhttp_request_get_output_headers(request);
  evhttp_add_header(headers, "Content-Type", type);
  evbuffer* out = evbuffer_new();
  evbuffer_add(out, body.data(), body.size());
  evhttp_send_reply(request, code, code == 200 ? "OK" : (code == 409 ? "Conflict" : "Error"), out);
  evbuffer_free(out);
}

}  // namespace proxy

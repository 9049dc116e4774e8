// Helpers for the live-reload tests (test/reload/): a proxy whose config file the test rewrites
// and reloads (POST /reload on the admin endpoint, or SIGUSR1), config builders, the config
// metrics, `proxyctl route`, direct reads of the backends and /proc figures of the proxy.
// Built on test/integration/harness.h; nothing here is specific to one test.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "test/integration/harness.h"

namespace proxy::test {

// POST `path` with `body` to the HTTP endpoint on 127.0.0.1:port: the status code and the
// body; {0, ""} when no connection could be made.
std::pair<int, std::string> HttpPost(int port, const std::string& path,
                                     const std::string& body = "");

// The value of one sample of a Prometheus text document: `series` is the metric name with its
// labels exactly as printed, e.g. `shardproxy_config_reloads_total{result="success"}`.
std::optional<double> MetricValue(absl::string_view metrics, absl::string_view series);

// ---------------------------------------------------------------------------------------------
// Config builders (twemproxy's nutcracker.yml format).

struct PoolSpec {
  std::string name;
  int listen_port = 0;
  bool redis = true;
  // Server lines as written in the file, e.g. "127.0.0.1:6379:1 r1" (see ServerLine).
  std::vector<std::string> servers;
  // More keys of the pool, each a full line with its two-space indent, e.g. "  hash: murmur\n".
  std::string extra;
};

// "127.0.0.1:<port>:<weight>" and " <name>" when a name is given.
std::string ServerLine(int port, int weight, const std::string& name = "");
std::string PoolYaml(const PoolSpec& pool);
std::string ConfigYaml(const std::vector<PoolSpec>& pools);

// ---------------------------------------------------------------------------------------------
// The proxy under test.

// //:proxy started on a config file at a path the test knows (so it can rewrite it), with the
// stats port and the admin endpoint on free 127.0.0.1 ports. Stopped by its destructor.
class ReloadableProxy {
 public:
  // `name` makes the file names unique within the test (conf: TEST_TMPDIR/<name>.yml). Waits
  // until every port of `listen_ports` and the admin port accept connections.
  ReloadableProxy(const std::string& name, const std::string& yaml,
                  const std::vector<int>& listen_ports,
                  std::vector<std::string> extra_args = {});
  ReloadableProxy(const ReloadableProxy&) = delete;
  ReloadableProxy& operator=(const ReloadableProxy&) = delete;

  bool ok() const { return ok_; }
  const std::string& conf_path() const { return conf_path_; }
  int admin_port() const { return admin_port_; }
  int stats_port() const { return stats_port_; }
  pid_t pid() const { return process_.pid(); }
  bool Running() { return process_.Running(); }
  int Stop() { return process_.Stop(); }
  std::string Log() const;

  // Replaces the config file atomically (a temp file renamed over it), as a deployment would.
  void WriteConfig(const std::string& yaml);
  // POST /reload.
  std::pair<int, std::string> PostReload();
  // WriteConfig + PostReload.
  std::pair<int, std::string> Apply(const std::string& yaml);

  // SIGUSR1, then polls /metrics until the generation or the failure counter changes.
  enum class SignalOutcome { kApplied, kFailed, kTimedOut };
  SignalOutcome ReloadBySignal(std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

  std::string Metrics();
  // The config metrics; -1 when missing from /metrics (the feature is not there).
  int64_t Generation();
  int64_t Reloads(bool success);
  // The twemproxy stats JSON from the stats port.
  std::string StatsJson();

  // /proc/<pid>/fd entries, those of them that are sockets, VmRSS in KiB.
  int FdCount() const;
  int SocketCount() const;
  long RssKb() const;

 private:
  bool ok_ = false;
  std::string conf_path_;
  std::string log_path_;
  int admin_port_ = 0;
  int stats_port_ = 0;
  Process process_;
};

// ---------------------------------------------------------------------------------------------
// Placement and backends.

// `proxyctl route --conf-file conf --pool pool` for `keys` (fed on stdin): key → "host:port".
// Empty with `*error` set when proxyctl fails.
std::map<std::string, std::string> RouteKeys(const std::string& conf, const std::string& pool,
                                             const std::vector<std::string>& keys,
                                             std::string* error);

// "127.0.0.1:<port>".
std::string Address(int port);

// A direct connection to one backend, to see where keys really are.
class Backend {
 public:
  Backend(int port, bool redis);
  int port() const { return port_; }
  bool connected() const { return client_.connected(); }
  // The value stored under `key`, or nullopt when the backend does not have it (or on error,
  // which `error()` then says).
  std::optional<std::string> Get(const std::string& key);
  const std::string& error() const { return error_; }
  // redis only: the ids of the clients connected now other than this checker (named
  // "reload-checker"); empty when not redis.
  std::vector<int64_t> OtherClientIds();

 private:
  int port_;
  bool redis_;
  Client client_;
  std::string error_;
};

// Encoders and exact expected replies.
std::string RedisSet(const std::string& key, const std::string& value);
std::string RedisGet(const std::string& key);
std::string RedisBulk(const std::string& value);
std::string MemcacheSet(const std::string& key, const std::string& value);
std::string MemcacheGet(const std::string& key);
std::string MemcacheValue(const std::string& key, const std::string& value);

// Writes `keys` (value = "<key>=<tag>") through `client` in one pipeline and checks every
// reply; returns "" or a description of the first wrong reply.
std::string WriteKeys(Client& client, bool redis, const std::vector<std::string>& keys,
                      const std::string& tag);

// For every key: the backend `route` names has value "<key>=<tag>" and no other backend in
// `backends` has the key. Returns "" or a description of every misplaced key (up to 10).
std::string CheckPlacement(const std::map<std::string, std::string>& route,
                           std::vector<Backend*> backends, const std::string& tag);

}  // namespace proxy::test

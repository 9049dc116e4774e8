// Semantic checks that need a whole pool or the whole file (twemproxy's, in its order, then ours; README "Compatibility").
#include "core/config/validator.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/codec.h"
#include "api/filter.h"
#include "api/registry.h"
#include "core/config/filter_chain.h"
#include "core/config/values.h"
#include "core/tls/tls_context.h"

namespace proxy::config {
namespace {

using config::v1::Pool;

// The resolved address of a TCP listen value, "family/bytes", for duplicate detection; empty on
// failure with `error` set to getaddrinfo's message.
std::string ResolveListen(const config::v1::TcpAddress& tcp, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* result = nullptr;
  const std::string port = std::to_string(tcp.port());
  int rc = getaddrinfo(tcp.host().c_str(), port.c_str(), &hints, &result);
  if (rc != 0 || result == nullptr) {
    *error = gai_strerror(rc);
    return "";
  }
  char host[NI_MAXHOST];
  char serv[NI_MAXSERV];
  std::string key;
  if (getnameinfo(result->ai_addr, result->ai_addrlen, host, sizeof(host), serv, sizeof(serv),
                  NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    key = absl::StrCat(host, "|", serv);
  }
  freeaddrinfo(result);
  return key;
}

// What CodecFactory::ValidatePool may know of how the pool was written (api/codec.h).
class SourceView final : public PoolSourceView {
 public:
  explicit SourceView(const PoolSource& source) : source_(source) {}
  bool Written(absl::string_view key) const override { return source_.keys.contains(key); }
  std::vector<std::string> Names(absl::string_view mapping) const override {
    if (mapping != "server_auth.servers") return {};
    std::vector<std::pair<SourcePos, std::string>> named;
    for (const auto& [name, pos] : source_.server_auth_servers) named.emplace_back(pos, name);
    std::sort(named.begin(), named.end(), [](const auto& a, const auto& b) {
      return std::make_pair(a.first.line, a.first.column) <
             std::make_pair(b.first.line, b.first.column);
    });
    std::vector<std::string> names;
    for (auto& [pos, name] : named) names.push_back(std::move(name));
    return names;
  }
  int Line(absl::string_view list, int index, int replica) const override {
    const SourcePos* pos = Entry(list, index, replica);
    return pos == nullptr ? 0 : pos->line;
  }
  // Where an issue is reported: its entry, else the value of its key (or the pool's name).
  SourcePos PositionOf(const PoolConfigIssue& issue) const {
    if (!issue.entry.empty()) {
      auto it = source_.server_auth_servers.find(issue.entry);
      if (issue.at == "server_auth.servers" && it != source_.server_auth_servers.end()) {
        return it->second;
      }
    } else if (const SourcePos* pos = Entry(issue.at, issue.index, issue.replica)) {
      return *pos;
    }
    return source_.KeyOrPool(issue.at.empty() ? issue.key : issue.at);
  }

 private:
  // The position of entry `index` of `list` (replicas: the set, or its replica `replica`).
  const SourcePos* Entry(absl::string_view list, int index, int replica) const {
    if (index < 0) return nullptr;
    const auto i = static_cast<size_t>(index);
    if (list == "servers") return i < source_.servers.size() ? &source_.servers[i] : nullptr;
    if (list == "sentinels") return i < source_.sentinels.size() ? &source_.sentinels[i] : nullptr;
    if (list != "replicas" || i >= source_.replicas.size()) return nullptr;
    const PoolSource::ReplicaSetSource& set = source_.replicas[i];
    if (replica < 0) return &set.server;
    const auto j = static_cast<size_t>(replica);
    return j < set.replicas.size() ? &set.replicas[j] : nullptr;
  }

  const PoolSource& source_;
};

// The pool protocol's checks (CodecFactory::ValidatePool).
std::vector<PoolConfigIssue> ProtocolIssues(const Pool& pool, const PoolSource& source) {
  const CodecFactory* protocol = Registry<CodecFactory>::Find(pool.protocol());
  if (protocol == nullptr) return {};  // reported by LoadYaml
  return protocol->ValidatePool(pool, SourceView(source));
}

// Reports the protocol's issues that are (`not_taken`) or are not about keys it does not take,
// each at its position.
void ReportProtocolIssues(const Pool& pool, const PoolSource& source,
                          std::vector<PoolConfigIssue>& issues, bool not_taken,
                          DiagnosticSink* sink) {
  const SourceView view(source);
  for (PoolConfigIssue& issue : issues) {
    if (issue.not_taken != not_taken) continue;
    const SourcePos pos = view.PositionOf(issue);
    if (issue.severity == PoolConfigIssue::Severity::kWarning) {
      sink->Warning(pos, pool.name(), std::move(issue.key), std::move(issue.message));
    } else {
      sink->Error(pos, pool.name(), std::move(issue.key), std::move(issue.message));
    }
  }
}

// Warnings about a `filters:` chain that loads but does nothing useful (proxy -t and proxyctl
// check print them; the proxy logs them at start).
void CheckFilterChain(const Pool& pool, const PoolSource& source, DiagnosticSink* sink) {
  if (pool.filters_size() == 0) return;  // the default chain
  const std::string& name = pool.name();
  auto pos_of = [&source](int i) {
    return static_cast<size_t>(i) < source.filters.size() ? source.filters[i] : source.name;
  };
  const SourcePos chain_pos = source.KeyOrPool("filters");
  int router = -1;
  int reject_unsupported = -1;
  int hash_tag = -1;
  absl::flat_hash_map<std::string, int> first_of;
  for (int i = 0; i < pool.filters_size(); ++i) {
    const config::v1::Filter& filter = pool.filters(i);
    auto [it, inserted] = first_of.emplace(filter.name(), i);
    if (!inserted) {
      const config::v1::Filter& first = pool.filters(it->second);
      sink->Warning(
          pos_of(i), name, absl::StrCat("filters: ", filter.name()),
          absl::StrCat("is listed twice (first at line ", pos_of(it->second).line, ")",
                       first.typed_config() == filter.typed_config()
                           ? " with the same config: the second one has no further effect"
                           : ": every request passes through both"));
    }
    if (filter.name() == "router" && router < 0) router = i;
    if (filter.name() == "reject_unsupported" && reject_unsupported < 0) reject_unsupported = i;
    if (filter.name() == "hash_tag" && hash_tag < 0) hash_tag = i;
  }
  if (router < 0) {
    sink->Warning(chain_pos, name, "filters",
                  "has no router: no request is ever sent to a server, every one fails with an "
                  "error; add router (the default chain is [reject_unsupported, hash_tag, "
                  "router, stats])");
  }
  if (hash_tag >= 0 && router >= 0 && hash_tag > router) {
    sink->Warning(pos_of(hash_tag), name, "filters: hash_tag",
                  "comes after router, which has already chosen the server: it has no effect; "
                  "put hash_tag before router");
  }
  if (hash_tag < 0 && !pool.hash_tag().empty()) {
    sink->Warning(source.KeyOrPool("hash_tag"), name, "hash_tag",
                  absl::StrCat("\"", pool.hash_tag(), "\" has no effect: the pool's filters: "
                               "chain has no hash_tag filter, so keys are hashed whole"));
  }
  if (reject_unsupported < 0) {
    sink->Warning(chain_pos, name, "filters",
                  "has no reject_unsupported: the proxy itself still refuses the commands it "
                  "cannot proxy safely (transactions, pub/sub, blocking and connection-state "
                  "commands), but no deny_commands list of reject_unsupported applies to this "
                  "pool");
  }
}

// The high-availability keys every protocol may have (shardproxy extensions):
// health_check_interval, auto_eject_drop. Sentinel, replicas and read_from are redis's
// (protocols/redis/config.cc).
void CheckHighAvailability(const Pool& pool, const PoolSource& source, DiagnosticSink* sink) {
  const std::string& name = pool.name();
  // health_check_interval needs a protocol whose codec has a check request (Codec::
  // HealthCheckRequest): redis PING and memcache `version` are the ones there are.
  if (pool.health_check_interval_ms() > 0 && pool.protocol() != "redis" &&
      pool.protocol() != "memcache") {
    sink->Error(source.KeyOrPool("health_check_interval"), name, "health_check_interval",
                absl::StrCat("protocol '", pool.protocol(), "' has no health check request; "
                             "active checks are only available for redis and memcache pools"));
  }
  if (pool.auto_eject_drop() && !pool.auto_eject_hosts()) {
    sink->Warning(source.KeyOrPool("auto_eject_drop"), name, "auto_eject_drop",
                  "has no effect without auto_eject_hosts: true: no server is ever ejected, so "
                  "there are no keys to fail fast");
  }
}

// The redis_cluster distribution places keys by a cluster's slot map, which only a pool that is
// a Redis Cluster has (the rest of `redis_cluster:` is redis's: protocols/redis/config.cc).
void CheckClusterDistribution(const Pool& pool, const PoolSource& source, DiagnosticSink* sink) {
  if (pool.redis_cluster() || pool.distribution() != "redis_cluster") return;
  sink->Error(source.KeyOrPool("distribution"), pool.name(), "distribution",
              "'redis_cluster' places keys by a Redis Cluster's slot map: add redis_cluster: "
              "true (and list seed nodes under servers:)");
}

// `tls:` and `server_tls:` (docs/tls.md): what each side needs, files that exist and are
// readable, and then the PEM files loaded exactly as the proxy loads them (core/tls), so that a
// bad certificate or a key that does not match fails `check` and a reload, not the first client.
void CheckTls(const Pool& pool, const PoolSource& source, DiagnosticSink* sink) {
  const std::string& name = pool.name();
  auto check_side = [&](const config::v1::Tls& tls, const std::string& key, tls::Side side) {
    if (!tls.enabled()) return;
    auto pos = [&](const char* field) {
      const std::string sub = absl::StrCat(key, ".", field);
      return source.keys.contains(sub) ? source.keys.at(sub) : source.KeyOrPool(key);
    };
    bool ok = true;
    auto error = [&](const char* field, std::string message) {
      sink->Error(pos(field), name, absl::StrCat(key, ": ", field), std::move(message));
      ok = false;
    };
    if (side == tls::Side::kAccept) {
      if (tls.cert().empty()) error("cert", "missing: clients need the proxy's certificate chain");
      if (tls.key().empty()) error("key", "missing: the private key of cert");
      if (tls.require_client_cert() && tls.ca().empty()) {
        error("require_client_cert",
              "needs ca (the CA bundle that verifies client certificates)");
      }
    } else {
      if (tls.cert().empty() != tls.key().empty()) {
        error(tls.cert().empty() ? "cert" : "key",
              "cert and key go together (the proxy's client certificate for mutual TLS)");
      }
      if (!tls.verify()) {
        sink->Warning(pos("verify"), name, absl::StrCat(key, ": verify"),
                      "servers' certificates are not verified: anyone on the path can read and "
                      "change the traffic");
      }
    }
    using Named = std::pair<const char*, const std::string&>;
    for (const auto& [field, path] :
         {Named{"cert", tls.cert()}, Named{"key", tls.key()}, Named{"ca", tls.ca()}}) {
      if (path.empty()) continue;
      struct stat st;
      if (stat(path.c_str(), &st) != 0) {
        error(field, absl::StrCat("'", path, "': ", std::strerror(errno)));
      } else if (!S_ISREG(st.st_mode)) {
        error(field, absl::StrCat("'", path, "' is not a regular file"));
      } else if (access(path.c_str(), R_OK) != 0) {
        error(field, absl::StrCat("'", path, "' is not readable: ", std::strerror(errno)));
      }
    }
    if (!ok) return;
    absl::StatusOr<tls::TlsContextPtr> context = tls::TlsContext::Create(tls, side);
    if (!context.ok()) {
      // TlsContext's message starts with the key, which the diagnostic already names.
      std::string message(context.status().message());
      if (absl::StartsWith(message, key + ": ")) message.erase(0, key.size() + 2);
      // Placed at the file the message is about.
      const char* field = absl::StrContains(message, "cannot load cert '")   ? "cert"
                          : absl::StrContains(message, "cannot load ca '") ? "ca"
                                                                           : "key";
      sink->Error(pos(field), name, key, message);
    }
  };
  check_side(pool.tls(), "tls", tls::Side::kAccept);
  check_side(pool.server_tls(), "server_tls", tls::Side::kConnect);
}

void ValidatePool(const Pool& pool, const PoolSource& source, DiagnosticSink* sink) {
  const std::string& name = pool.name();
  // 1. listen is required.
  if (!pool.has_listen() && !source.keys.contains("listen")) {
    sink->Error(source.name, name, "listen",
                "missing: every pool needs listen: host:port or /path/to/socket [permission]");
  }
  // 3. server_connections >= 1.
  if (pool.server_connections() == 0 && source.keys.contains("server_connections")) {
    sink->Error(source.KeyOrPool("server_connections"), name, "server_connections",
                "cannot be 0 (at least 1 connection per server)");
  }
  // 4. keys the pool's protocol does not take (twemproxy: redis_auth, redis_db on a memcache
  // pool); the rules of the keys it does take come after the core's checks of shared keys.
  std::vector<PoolConfigIssue> protocol_issues = ProtocolIssues(pool, source);
  ReportProtocolIssues(pool, source, protocol_issues, /*not_taken=*/true, sink);
  if (pool.client_connections() > 0) {
    sink->Warning(source.KeyOrPool("client_connections"), name, "client_connections",
                  absl::StrCat("shardproxy enforces this limit (twemproxy ignores it): at most ",
                               pool.client_connections(), " concurrent clients per worker",
                               // Fewer workers accept the pool's clients under the cap.
                               pool.max_server_connections() > 0
                                   ? absl::StrCat(", and only min(--workers, ",
                                                  pool.max_server_connections(),
                                                  ") workers accept them "
                                                  "(max_server_connections)")
                                   : ""));
  }
  // 5. at least one server (unless every entry was already reported as broken).
  if (pool.servers().empty() && !source.keys.contains("servers")) {
    sink->Error(source.name, name, "servers",
                "missing: the pool has no servers (servers: followed by \"- host:port:weight\" "
                "lines)");
  }
  // 6. node names must be unique (they are the ketama identity and the stats key).
  absl::flat_hash_map<std::string, int> by_node;
  for (int i = 0; i < pool.servers_size(); ++i) {
    const config::v1::Server& server = pool.servers(i);
    auto [it, inserted] = by_node.emplace(server.node_name(), i);
    if (!inserted) {
      const config::v1::Server& first = pool.servers(it->second);
      SourcePos first_pos = source.servers[it->second];
      sink->Error(source.servers[i], name, "servers",
                  absl::StrCat("'", server.raw(), "' has the same node name '",
                               server.node_name(), "' as '", first.raw(), "' (line ",
                               first_pos.line, "); give each server a distinct name"));
    }
  }
  // listen must resolve (twemproxy resolves it at load time too).
  if (pool.listen().has_tcp()) {
    std::string error;
    if (ResolveListen(pool.listen().tcp(), &error).empty() && !error.empty()) {
      sink->Error(source.KeyOrPool("listen"), name, "listen",
                  absl::StrCat("cannot resolve host '", pool.listen().tcp().host(), "': ", error));
    }
  }
  CheckHighAvailability(pool, source, sink);
  // The rules of the protocol's own keys (api/codec.h CodecFactory::ValidatePool): for redis,
  // Sentinel, replicas, read_from, Redis Cluster and the credential keys.
  ReportProtocolIssues(pool, source, protocol_issues, /*not_taken=*/false, sink);
  CheckClusterDistribution(pool, source, sink);
  CheckTls(pool, source, sink);
  CheckFilterChain(pool, source, sink);
  // Filters validate their own configs: the chain the proxy would build (core/config/
  // filter_chain.h), each filter's Create() in validate-only mode.
  std::vector<FilterChainIssue> issues;
  const std::vector<ResolvedFilter> chain = ResolveFilterChain(pool, &issues);
  CreateFilterChain(pool, chain, /*validate_only=*/true, /*stats=*/nullptr, &issues);
  for (const FilterChainIssue& issue : issues) {
    if (issue.kind == FilterChainIssue::Kind::kUnknown) continue;  // reported by LoadYaml
    const size_t entry = static_cast<size_t>(issue.entry);
    const std::vector<SourcePos>& at =
        issue.kind == FilterChainIssue::Kind::kBadConfig ? source.filters : source.filter_configs;
    sink->Error(issue.entry >= 0 && entry < at.size() ? at[entry] : source.KeyOrPool("filters"),
                name, absl::StrCat("filters: ", issue.filter), issue.message);
  }
}

// The `prefix` of a pool's key_prefix filter (read through the filter's own config message by
// reflection, so the core does not depend on the plugin), or false when it has none.
bool KeyPrefixOf(const Pool& pool, std::string* prefix) {
  std::vector<FilterChainIssue> reported_elsewhere;
  for (const ResolvedFilter& filter : ResolveFilterChain(pool, &reported_elsewhere)) {
    if (filter.factory->Name() != "key_prefix") continue;
    const google::protobuf::Message& config = *filter.config;
    const google::protobuf::FieldDescriptor* field =
        config.GetDescriptor()->FindFieldByName("prefix");
    if (field == nullptr || field->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
        field->is_repeated()) {
      return false;
    }
    *prefix = config.GetReflection()->GetString(config, field);
    return !prefix->empty();
  }
  return false;
}

// Tenants separated by key_prefix on shared backends must have prefixes that are not prefixes of
// one another: with "app1" and "app10", app1's key "0:x" IS app10's key "x".
void CheckPrefixOverlap(const config::v1::Bootstrap& bootstrap, const SourceMap& sources,
                        DiagnosticSink* sink) {
  struct Tenant {
    int pool;
    std::string prefix;
    absl::flat_hash_set<std::string> servers;  // host:port as written
  };
  std::vector<Tenant> tenants;
  tenants.reserve(static_cast<size_t>(bootstrap.pools_size()));
  for (int i = 0; i < bootstrap.pools_size(); ++i) {
    Tenant tenant{i, "", {}};
    if (!KeyPrefixOf(bootstrap.pools(i), &tenant.prefix)) continue;
    for (const config::v1::Server& server : bootstrap.pools(i).servers()) {
      tenant.servers.insert(server.has_tcp() ? absl::StrCat(server.tcp().host(), ":",
                                                             server.tcp().port())
                                             : server.unix_path());
    }
    tenants.push_back(std::move(tenant));
  }
  for (const Tenant& a : tenants) {
    for (const Tenant& b : tenants) {
      if (a.pool == b.pool || a.prefix == b.prefix || !absl::StartsWith(b.prefix, a.prefix)) {
        continue;
      }
      std::string shared;
      for (const std::string& server : a.servers) {
        if (b.servers.contains(server)) {
          shared = server;
          break;
        }
      }
      if (shared.empty()) continue;
      const Pool& pool_a = bootstrap.pools(a.pool);
      const Pool& pool_b = bootstrap.pools(b.pool);
      sink->Error(sources.pools[b.pool].KeyOrPool("filters"), pool_b.name(),
                  "filters: key_prefix",
                  absl::StrCat("prefix '", b.prefix, "' starts with the prefix '", a.prefix,
                               "' of pool '", pool_a.name(), "', which shares server ", shared,
                               ": its clients could read and write this pool's keys (their key '",
                               b.prefix.substr(a.prefix.size()), "x' is this pool's 'x'); end "
                               "every prefix with a separator no prefix contains, e.g. 'app1:'"));
    }
  }
}

}  // namespace

void ValidateBootstrap(const config::v1::Bootstrap& bootstrap, const SourceMap& sources,
                       DiagnosticSink* sink) {
  for (int i = 0; i < bootstrap.pools_size(); ++i) {
    ValidatePool(bootstrap.pools(i), sources.pools[i], sink);
  }
  CheckPrefixOverlap(bootstrap, sources, sink);
  // 7. listen addresses must differ: as written (twemproxy's check) and as resolved (ours:
  // localhost:X and 127.0.0.1:X would otherwise fail only at bind time).
  absl::flat_hash_map<std::string, int> by_raw;
  absl::flat_hash_map<std::string, int> by_address;
  for (int i = 0; i < bootstrap.pools_size(); ++i) {
    const Pool& pool = bootstrap.pools(i);
    if (!pool.has_listen()) continue;
    const SourcePos pos = sources.pools[i].KeyOrPool("listen");
    auto [raw_it, raw_new] = by_raw.emplace(pool.listen().raw(), i);
    if (!raw_new) {
      sink->Error(pos, pool.name(), "listen",
                  absl::StrCat("'", pool.listen().raw(), "' is also the listen address of pool '",
                               bootstrap.pools(raw_it->second).name(), "'"));
      continue;
    }
    std::string address;
    if (pool.listen().has_unix_socket()) {
      address = absl::StrCat("unix|", pool.listen().unix_socket().path());
    } else {
      std::string error;
      address = ResolveListen(pool.listen().tcp(), &error);
    }
    if (address.empty()) continue;
    auto [addr_it, addr_new] = by_address.emplace(address, i);
    if (!addr_new) {
      const Pool& other = bootstrap.pools(addr_it->second);
      sink->Error(pos, pool.name(), "listen",
                  absl::StrCat("'", pool.listen().raw(), "' is the same address as '",
                               other.listen().raw(), "' of pool '", other.name(), "'"));
    }
  }
}

}  // namespace proxy::config

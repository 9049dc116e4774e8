// Registers the redis protocol plugin: CodecFactory "redis", with the checks of a redis pool's
// own keys (Sentinel, replicas and read_from, Redis Cluster, the credential keys), which the
// core places at their file:line:col.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "api/codec.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/registry.h"
#include "protocols/redis/redis_codec.h"

namespace proxy::protocols::redis {
namespace {

// A server's or replica's address for comparisons: host:port as parsed (port 06379 is 6379),
// or the unix socket path.
std::string AddressOf(const config::v1::Server& server) {
  if (server.has_tcp()) return absl::StrCat(server.tcp().host(), ":", server.tcp().port());
  return server.unix_path();
}

// "replica" for READ_FROM_REPLICA: the value as written in YAML (the enum's name, lower case,
// without its prefix).
std::string ReadFromText(config::v1::ReadFrom read_from) {
  const std::string name = absl::AsciiStrToLower(config::v1::ReadFrom_Name(read_from));
  return std::string(absl::StripPrefix(name, "read_from_"));
}

// sentinels, sentinel_password, replicas, read_from (docs/high-availability.md).
void CheckHighAvailability(const config::v1::Pool& pool, const PoolSourceView& source,
                           std::vector<PoolConfigIssue>* issues) {
  // Every address the pool names (masters, replicas, sentinels), for duplicates.
  enum class Kind { kServer, kSentinel, kReplica };
  struct Named {
    Kind kind;
    std::string what;  // e.g. "server 'shard-a'"
    int line;
  };
  // "is listed twice (first at line 4)" for the same kind, else which other entry it is.
  auto same_as = [](Kind kind, const Named& first) {
    if (kind == first.kind) {
      return absl::StrCat("is listed twice (first at line ", first.line,
                          kind == Kind::kReplica ? absl::StrCat(", as ", first.what) : "", ")");
    }
    return absl::StrCat("is the same address as ", first.what, " (line ", first.line, ")",
                        first.kind == Kind::kServer && kind == Kind::kReplica
                            ? ", a master of this pool: a replica is another redis-server, "
                              "one that replicates its master"
                            : "");
  };
  absl::flat_hash_map<std::string, Named> addresses;
  for (int i = 0; i < pool.servers_size(); ++i) {
    const config::v1::Server& server = pool.servers(i);
    addresses.emplace(AddressOf(server),
                      Named{Kind::kServer, absl::StrCat("server '", server.node_name(), "'"),
                            source.Line("servers", i)});
  }
  // Sentinels: valid (LoadYaml), distinct, and every server named by its master name.
  for (int i = 0; i < pool.sentinels_size(); ++i) {
    const config::v1::Sentinel& sentinel = pool.sentinels(i);
    const std::string address =
        absl::StrCat(sentinel.tcp().host(), ":", sentinel.tcp().port());
    auto [it, inserted] = addresses.emplace(
        address, Named{Kind::kSentinel, absl::StrCat("sentinel '", sentinel.raw(), "'"),
                       source.Line("sentinels", i)});
    if (!inserted) {
      issues->push_back(
          PoolConfigIssue::Error("sentinels", absl::StrCat("'", sentinel.raw(), "' ",
                                                           same_as(Kind::kSentinel, it->second)))
              .AtEntry("sentinels", i));
    }
  }
  // Written, even when no entry could be read: the servers are meant for Sentinel either way,
  // and every error is reported at once.
  if (source.Written("sentinels")) {
    for (int i = 0; i < pool.servers_size(); ++i) {
      const config::v1::Server& server = pool.servers(i);
      if (!server.has_tcp()) {
        issues->push_back(
            PoolConfigIssue::Error(
                "servers", absl::StrCat("'", server.raw(), "' is a unix socket: with sentinels: "
                                        "every server is a redis master Sentinel can fail over, "
                                        "and Sentinel reports TCP addresses only"))
                .AtEntry("servers", i));
      } else if (server.name().empty()) {
        issues->push_back(
            PoolConfigIssue::Error(
                "servers",
                absl::StrCat("'", server.raw(), "' has no name: with sentinels: every server is "
                             "named by its Sentinel master name (e.g. '", server.raw(),
                             " mymaster'); its address is only the starting guess, and keys are "
                             "placed by the name, so a failover moves none"))
                .AtEntry("servers", i));
      }
    }
  } else if (!pool.sentinel_password().empty()) {
    issues->push_back(PoolConfigIssue::Warning("sentinel_password",
                                               "has no effect: the pool lists no sentinels:"));
  }
  // Replicas: each under a server of the pool, at an address of its own, named apart.
  absl::flat_hash_map<std::string, Named> names;
  std::vector<std::string> server_names;
  for (int i = 0; i < pool.servers_size(); ++i) {
    const config::v1::Server& server = pool.servers(i);
    server_names.push_back(server.node_name());
    names.emplace(server.node_name(),
                  Named{Kind::kServer, absl::StrCat("server '", server.node_name(), "'"),
                        source.Line("servers", i)});
  }
  for (int i = 0; i < pool.replicas_size(); ++i) {
    const config::v1::ReplicaSet& set = pool.replicas(i);
    if (std::find(server_names.begin(), server_names.end(), set.server()) ==
        server_names.end()) {
      issues->push_back(
          PoolConfigIssue::Error(
              "replicas",
              absl::StrCat("'", set.server(), "' is not a server of this pool (its servers: ",
                           server_names.empty() ? "none" : absl::StrJoin(server_names, ", "),
                           "); a replicas: entry is a server's name, then its replicas"))
              .AtEntry("replicas", i));
    }
    for (int j = 0; j < set.replicas_size(); ++j) {
      const config::v1::Server& replica = set.replicas(j);
      const std::string what =
          absl::StrCat("replica '", replica.raw(), "' of '", set.server(), "'");
      const int line = source.Line("replicas", i, j);
      auto [it, inserted] =
          addresses.emplace(AddressOf(replica), Named{Kind::kReplica, what, line});
      if (!inserted) {
        issues->push_back(
            PoolConfigIssue::Error("replicas", absl::StrCat("'", replica.raw(), "' ",
                                                            same_as(Kind::kReplica, it->second)))
                .AtEntry("replicas", i, j));
        continue;
      }
      if (replica.name().empty()) continue;  // its node name is its address: distinct
      auto [name_it, name_new] =
          names.emplace(replica.node_name(), Named{Kind::kReplica, what, line});
      if (!name_new) {
        issues->push_back(
            PoolConfigIssue::Error(
                "replicas",
                absl::StrCat("'", replica.raw(), "' has the same name '", replica.name(),
                             "' as ", name_it->second.what, " (line ", name_it->second.line,
                             "); give each replica a distinct name (it names the replica in "
                             "stats and logs)"))
                .AtEntry("replicas", i, j));
      }
    }
  }
  // read_from other than master needs replicas to read from.
  if (pool.read_from() != config::v1::READ_FROM_MASTER && pool.replicas_size() == 0 &&
      pool.sentinels_size() == 0 && !pool.redis_cluster()) {
    const bool fails = pool.read_from() == config::v1::READ_FROM_REPLICA;
    issues->push_back(PoolConfigIssue::Warning(
        "read_from", absl::StrCat("'", ReadFromText(pool.read_from()),
                                  "' but no replica is known: the pool has neither replicas: nor "
                                  "sentinels: to discover them, so ",
                                  fails ? "every read-only command fails with an error"
                                        : "every read goes to the master")));
  }
}

// Redis Cluster pools (`redis_cluster: true`, docs/redis-cluster.md): the cluster places the
// keys (slots) and fails over by itself, so the keys that would place or move them otherwise
// are refused.
void CheckCluster(const config::v1::Pool& pool, const PoolSourceView& source,
                  std::vector<PoolConfigIssue>* issues) {
  if (!pool.redis_cluster()) return;
  auto must_be = [&](const char* key, const std::string& value, const char* cluster_value,
                     const char* why) {
    if (!source.Written(key) || value == cluster_value) return;
    issues->push_back(PoolConfigIssue::Error(
        key, absl::StrCat("'", value, "' cannot place keys in a Redis Cluster: ", why,
                          " (leave the key out, or write '", cluster_value, "')")));
  };
  must_be("hash", pool.hash(), "crc16", "the cluster hashes keys with CRC16");
  must_be("distribution", pool.distribution(), "redis_cluster",
          "the cluster's slot map says which node serves a key");
  must_be("hash_tag", pool.hash_tag(), "{}", "the cluster's hash tags are {...}");
  if (pool.auto_eject_hosts()) {
    issues->push_back(PoolConfigIssue::Error(
        "auto_eject_hosts",
        "cannot be combined with redis_cluster: the cluster fails a node over itself; ejecting "
        "one would send its slots to nodes that do not serve them"));
  }
  if (pool.redis_db() > 0) {
    issues->push_back(PoolConfigIssue::Error("redis_db", "a Redis Cluster has only database 0"));
  }
  for (const char* key : {"sentinels", "replicas"}) {
    if (!source.Written(key)) continue;
    issues->push_back(PoolConfigIssue::Error(
        key, "cannot be combined with redis_cluster: the cluster reports its own masters and "
             "replicas (CLUSTER SLOTS)"));
  }
  for (int i = 0; i < pool.servers_size(); ++i) {
    if (pool.servers(i).has_tcp()) continue;
    issues->push_back(
        PoolConfigIssue::Error(
            "servers", absl::StrCat("'", pool.servers(i).raw(), "' is a unix socket: the servers "
                                    "of a Redis Cluster pool are seed nodes, and cluster nodes "
                                    "talk TCP"))
            .AtEntry("servers", i));
  }
}

// The credential keys (docs/authentication.md): client_auth and server_auth. Secrets are never
// part of a message.
void CheckCredentials(const config::v1::Pool& pool, const PoolSourceView& source,
                      std::vector<PoolConfigIssue>* issues) {
  const bool client_auth = source.Written("client_auth");
  const bool server_auth = source.Written("server_auth");
  // redis_auth keeps twemproxy's meaning for the side the new keys leave to it.
  if (!pool.redis_auth().empty()) {
    const char* for_clients =
        server_auth ? "replaces redis_auth for clients, and server_auth replaces it for servers: "
                      "redis_auth has no effect"
                    : "replaces redis_auth for clients: redis_auth no longer authenticates "
                      "clients (it is still sent to the servers)";
    const char* for_servers =
        client_auth ? "replaces redis_auth for servers: redis_auth is not sent to them (and "
                      "client_auth replaces it for clients)"
                    : "replaces redis_auth for servers: redis_auth is not sent to them (clients "
                      "still AUTH with it)";
    if (client_auth) issues->push_back(PoolConfigIssue::Warning("client_auth", for_clients));
    if (server_auth) issues->push_back(PoolConfigIssue::Warning("server_auth", for_servers));
  }
  if (!server_auth) return;
  const config::v1::ServerAuth& auth = pool.server_auth();
  std::vector<std::string> server_names;
  for (const config::v1::Server& server : pool.servers()) {
    server_names.push_back(server.node_name());
  }
  // Overrides name servers of the pool (in file order, for stable messages).
  const std::vector<std::string> overrides = source.Names("server_auth.servers");
  for (const std::string& server : overrides) {
    if (std::find(server_names.begin(), server_names.end(), server) != server_names.end()) {
      continue;
    }
    issues->push_back(
        PoolConfigIssue::Error(
            "server_auth",
            absl::StrCat("servers: '", server, "' is not a server of this pool (its servers: ",
                         server_names.empty() ? "none" : absl::StrJoin(server_names, ", "),
                         "); an entry is a server's name, then its credential"))
            .AtName("server_auth.servers", server));
  }
  // Without a pool-wide password, every server needs its own: the proxy never connects to a
  // server of a pool with server_auth without AUTH.
  if (auth.credential().has_password()) return;
  if (auth.per_server().empty()) return;  // reported by the loader (nothing was readable)
  for (int i = 0; i < pool.servers_size(); ++i) {
    const config::v1::Server& server = pool.servers(i);
    if (auth.per_server().contains(server.node_name()) ||
        std::find(overrides.begin(), overrides.end(), server.node_name()) != overrides.end()) {
      continue;
    }
    issues->push_back(
        PoolConfigIssue::Error(
            "server_auth",
            absl::StrCat("server '", server.node_name(), "' has no credential: server_auth has "
                         "no password: for the whole pool and no servers: entry for '",
                         server.node_name(), "'"))
            .AtEntry("servers", i));
  }
}

class RedisCodecFactory final : public CodecFactory {
 public:
  absl::string_view Name() const override { return "redis"; }
  absl::string_view Description() const override {
    return "Redis RESP2/RESP3 (HELLO 3) and inline requests: twemproxy's command set, local "
           "PING/ECHO/AUTH/SELECT/QUIT/HELLO/CLIENT/RESET, split MGET/DEL/UNLINK/TOUCH/EXISTS/"
           "MSET, INFO merged over the servers, MULTI/EXEC/WATCH on a pinned connection";
  }
  // The rules of the keys only redis pools take (the core places each issue at its key).
  using CodecFactory::ValidatePool;
  std::vector<PoolConfigIssue> ValidatePool(const config::v1::Pool& pool,
                                            const PoolSourceView& source) const override {
    std::vector<PoolConfigIssue> issues;
    CheckHighAvailability(pool, source, &issues);
    CheckCluster(pool, source, &issues);
    CheckCredentials(pool, source, &issues);
    return issues;
  }
  CodecPtr Create(const config::v1::Pool& pool) const override {
    return std::make_unique<RedisCodec>(RedisAuthConfig::FromPool(pool), pool.redis_db(),
                                        /*check_role=*/pool.sentinels_size() > 0,
                                        /*cluster=*/pool.redis_cluster());
  }
};

}  // namespace

PROXY_REGISTER_FACTORY(RedisCodecFactory, ::proxy::CodecFactory)

}  // namespace proxy::protocols::redis

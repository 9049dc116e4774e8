// The YAML → proto half of config loading. Semantic cross-checks live in validator.cc and in
// each protocol's CodecFactory::ValidatePool.
#include "core/config/yaml_loader.h"

#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/codec.h"
#include "api/distribution.h"
#include "api/filter.h"
#include "api/hash.h"
#include "api/registry.h"
#include "core/config/filter_chain.h"
#include "core/config/proto_yaml.h"
#include "core/config/values.h"

namespace proxy::config {
namespace {

using config::v1::Pool;

// The bounds of `health_check_interval:` (milliseconds; 0 = off). Below the minimum a check
// would be a request to every server from every worker every few milliseconds, and a server
// merely pausing for a moment (a fork for BGSAVE, a slow command) would count as failing; above
// the maximum a failure found only by checks would go unnoticed for hours.
constexpr uint32_t kMinHealthCheckIntervalMs = 10;
constexpr uint32_t kMaxHealthCheckIntervalMs = 3600000;

// Reports YAML features twemproxy's grammar does not allow, once per node. Returns true when
// `node` is plain (no alias, anchor, tag or flow style). `allow_flow` accepts flow style
// ([a, b], {a: b}) for our own list and mapping keys (sentinels:, replicas:), which twemproxy
// would reject anyway, so accepting both styles costs no compatibility.
bool CheckPlain(const YamlNode& node, const std::string& pool, const std::string& key,
                DiagnosticSink* sink, bool allow_flow = false) {
  if (node.alias) {
    sink->Error(node.pos, pool, key, "YAML aliases (*name) are not supported; write the value out");
    return false;
  }
  if (node.anchored) {
    sink->Error(node.pos, pool, key, "YAML anchors (&name) are not supported");
    return false;
  }
  if (!node.tag.empty()) {
    sink->Error(node.pos, pool, key,
                absl::StrCat("YAML tags (", node.tag, ") are not supported; remove the tag"));
    return false;
  }
  if (node.flow && !allow_flow) {
    if (key == "hash_tag" && node.kind == YamlNode::Kind::kMapping) {
      sink->Error(node.pos, pool, key,
                  "an unquoted {} is an empty YAML mapping; quote it: hash_tag: \"{}\"");
    } else if (node.kind == YamlNode::Kind::kSequence) {
      sink->Error(node.pos, pool, key,
                  "flow lists [a, b] are not supported (twemproxy rejects them); write one "
                  "\"- item\" per line");
    } else {
      sink->Error(node.pos, pool, key,
                  "flow mappings {a: b} are not supported (twemproxy rejects them); quote the "
                  "value if it is text");
    }
    return false;
  }
  return true;
}

// A non-empty plain scalar, or nullptr after reporting why not.
const YamlNode* RequireScalar(const YamlNode& node, const std::string& pool,
                              const std::string& key, DiagnosticSink* sink) {
  if (!CheckPlain(node, pool, key, sink)) return nullptr;
  if (node.kind == YamlNode::Kind::kNull) {
    sink->Error(node.pos, pool, key, "value is empty");
    return nullptr;
  }
  if (node.kind != YamlNode::Kind::kScalar) {
    sink->Error(node.pos, pool, key,
                absl::StrCat("expected a single value, found ", node.KindName()));
    return nullptr;
  }
  if (node.value.empty()) {
    sink->Error(node.pos, pool, key, "value is empty");
    return nullptr;
  }
  return &node;
}

template <class Factory>
void SetRegisteredName(const YamlNode& node, const std::string& pool, const std::string& key,
                       DiagnosticSink* sink, std::string* out) {
  const YamlNode* scalar = RequireScalar(node, pool, key, sink);
  if (scalar == nullptr) return;
  if (Registry<Factory>::Find(scalar->value) == nullptr) {
    sink->Error(node.pos, pool, key,
                absl::StrCat("'", scalar->value, "' is not a valid ", Factory::kCategory,
                             " (valid: ", Registry<Factory>::NamesForMessage(), ")"));
    return;
  }
  *out = scalar->value;
}

class PoolLoader {
 public:
  // `base_dir`: the config file's directory, for relative `{file: PATH}` secrets.
  PoolLoader(std::string name, Pool* pool, PoolSource* source, DiagnosticSink* sink,
             std::string base_dir = "")
      : name_(std::move(name)), pool_(pool), source_(source), sink_(sink),
        base_dir_(std::move(base_dir)) {}

  // One pool key: every list of keys (KnownPoolKeys(), the "unknown key" message, the dispatch
  // and the defaults) is derived from its row in Keys(), so a new key is one row there and
  // (for a structured value) one Load... method.
  struct Key {
    const char* name;
    // kScalar: `load` gets a checked non-empty plain scalar (RequireScalar reports anything
    // else); kNode: the raw node (lists, mappings and registered names check it themselves).
    enum Value { kScalar, kNode } value;
    void (PoolLoader::*load)(const std::string& key, const YamlNode& value);
    // The value of an unwritten key; nullptr = the proto's zero value.
    void (*set_default)(Pool* pool);
  };
  // twemproxy's keys in the order it documents them, then ours. Defaults are twemproxy 0.5.0's
  // (e.g. backlog 512, server_retry_timeout 30000 ms, server_failure_limit 2).
  static const std::vector<Key>& Keys();

  void LoadEntry(const Key& row, const YamlNode& value) {
    const std::string key = row.name;
    source_->keys[key] = value.pos;
    if (row.value == Key::kScalar && RequireScalar(value, name_, key, sink_) == nullptr) return;
    (this->*row.load)(key, value);
  }

  // After every key: the pool's protocol from `protocol:` (our extension) or twemproxy's
  // `redis: true|false`; both may be given when they agree.
  void Finish() {
    if (protocol_key_.has_value()) {
      pool_->set_protocol(protocol_key_->name);
      if (redis_key_.has_value() && redis_key_->name != protocol_key_->name) {
        sink_->Error(protocol_key_->pos, name_, "protocol",
                     absl::StrCat("'", protocol_key_->name, "' disagrees with 'redis: ",
                                  redis_key_->name == "redis" ? "true" : "false", "' (line ",
                                  redis_key_->pos.line, ", which means '", redis_key_->name,
                                  "'); remove one of the two keys"));
      }
    } else if (redis_key_.has_value()) {
      pool_->set_protocol(redis_key_->name);
    }
    // A cluster places keys its own way: the slot (crc16 of the {hash tag}ged key mod 16384)
    // and the node serving it. Written hash/distribution/hash_tag keys are checked by the
    // validator; the ones not written get the cluster's.
    if (pool_->redis_cluster()) {
      if (!source_->keys.contains("hash")) pool_->set_hash("crc16");
      if (!source_->keys.contains("distribution")) pool_->set_distribution("redis_cluster");
      if (!source_->keys.contains("hash_tag")) pool_->set_hash_tag("{}");
    }
  }

 private:
  struct NamedAt {
    std::string name;
    SourcePos pos;
  };

  void Error(const YamlNode& node, const std::string& key, std::string message) {
    sink_->Error(node.pos, name_, key, std::move(message));
  }

  // The loaders of Keys() rows.
  template <void (Pool::*kSetter)(bool)>
  void LoadBool(const std::string& key, const YamlNode& value) {
    SetBool(value, key, kSetter);
  }
  template <void (Pool::*kSetter)(uint32_t)>
  void LoadNumber(const std::string& key, const YamlNode& value) {
    SetNumber(value, key, kSetter);
  }
  template <class Factory, std::string* (Pool::*kField)()>
  void LoadRegisteredName(const std::string& key, const YamlNode& value) {
    SetRegisteredName<Factory>(value, name_, key, sink_, (pool_->*kField)());
  }
  void LoadProtocol(const std::string& key, const YamlNode& value) {
    // Any registered CodecFactory name: a new protocol plugin needs no change here.
    std::string protocol;
    SetRegisteredName<CodecFactory>(value, name_, key, sink_, &protocol);
    if (!protocol.empty()) protocol_key_ = NamedAt{protocol, value.pos};
  }
  void LoadRedis(const std::string& key, const YamlNode& value) {
    if (auto b = Bool(value, key)) redis_key_ = NamedAt{*b ? "redis" : "memcache", value.pos};
  }
  void LoadHashTag(const std::string& key, const YamlNode& value) {
    const std::string& text = value.value;
    if (text.size() != 2) {
      return Error(value, key,
                   absl::StrCat("'", text, "' is ", text.size(),
                                " bytes; a hash tag is exactly two characters, e.g. \"{}\""));
    }
    pool_->set_hash_tag(text);
  }
  void LoadRedisAuth(const std::string& /*key*/, const YamlNode& value) {
    pool_->set_redis_auth(value.value);
  }
  void LoadSentinelPassword(const std::string& /*key*/, const YamlNode& value) {
    pool_->set_sentinel_password(value.value);
  }
  void LoadReadFrom(const std::string& key, const YamlNode& value) {
    absl::StatusOr<config::v1::ReadFrom> read_from = ParseReadFrom(value.value);
    if (!read_from.ok()) return Error(value, key, std::string(read_from.status().message()));
    pool_->set_read_from(*read_from);
  }
  void LoadFilterList(const std::string& /*key*/, const YamlNode& value) { LoadFilters(value); }
  template <config::v1::Tls* (Pool::*kField)()>
  void LoadTlsKey(const std::string& key, const YamlNode& value) {
    LoadTls(value, key, (pool_->*kField)());
  }

  std::optional<bool> Bool(const YamlNode& node, const std::string& key) {
    absl::StatusOr<bool> parsed = ParseBool(node.value);
    if (!parsed.ok()) {
      Error(node, key, std::string(parsed.status().message()));
      return std::nullopt;
    }
    return *parsed;
  }

  void SetBool(const YamlNode& node, const std::string& key, void (Pool::*setter)(bool)) {
    if (auto b = Bool(node, key)) (pool_->*setter)(*b);
  }

  void SetNumber(const YamlNode& node, const std::string& key,
                 void (Pool::*setter)(uint32_t)) {
    absl::StatusOr<ParsedNumber> parsed = ParseNumber(node.value);
    if (!parsed.ok()) return Error(node, key, std::string(parsed.status().message()));
    if (parsed->wrapped) {
      sink_->Warning(node.pos, name_, key,
                     absl::StrCat(node.value, " exceeds 2147483647; twemproxy wraps it to ",
                                  parsed->value, ", which is used for compatibility"));
    }
    (pool_->*setter)(parsed->value);
  }

  void LoadListen(const std::string& /*key*/, const YamlNode& node) {
    std::string note;
    absl::StatusOr<config::v1::Listen> listen = ParseListen(node.value, &note);
    if (!listen.ok()) return Error(node, "listen", std::string(listen.status().message()));
    if (!note.empty()) sink_->Warning(node.pos, name_, "listen", note);
    *pool_->mutable_listen() = *std::move(listen);
  }

  void LoadServers(const std::string& /*key*/, const YamlNode& node) {
    if (!CheckPlain(node, name_, "servers", sink_)) return;
    if (node.kind != YamlNode::Kind::kSequence) {
      return Error(node, "servers",
                   absl::StrCat("expected a list (one \"- host:port:weight [name]\" per line), "
                                "found ",
                                node.KindName()));
    }
    for (const YamlNodePtr& item : node.items) {
      const YamlNode* scalar = RequireScalar(*item, name_, "servers", sink_);
      if (scalar == nullptr) continue;
      std::string note;
      absl::StatusOr<config::v1::Server> server = ParseServer(scalar->value, &note);
      if (!server.ok()) {
        Error(*item, "servers", std::string(server.status().message()));
        continue;
      }
      if (!note.empty()) sink_->Warning(item->pos, name_, "servers", note);
      *pool_->add_servers() = *std::move(server);
      source_->servers.push_back(item->pos);
    }
  }

  // A shardproxy key, so no twemproxy value has to keep working: a number that twemproxy would
  // wrap is out of range here, not wrapped.
  void LoadHealthCheckInterval(const std::string& key, const YamlNode& node) {
    absl::StatusOr<ParsedNumber> parsed = ParseNumber(node.value);
    if (!parsed.ok()) return Error(node, key, std::string(parsed.status().message()));
    const uint32_t ms = parsed->value;
    if (parsed->wrapped || ms > kMaxHealthCheckIntervalMs) {
      return Error(node, key,
                   absl::StrCat("'", node.value, "' is above ", kMaxHealthCheckIntervalMs,
                                " ms (one hour): a failure found only by the checks would go "
                                "unnoticed that long; use 0 to turn checks off"));
    }
    if (ms != 0 && ms < kMinHealthCheckIntervalMs) {
      return Error(node, key,
                   absl::StrCat("'", node.value, "' is below ", kMinHealthCheckIntervalMs,
                                " ms: every worker would send every server a check that often, "
                                "and a server merely pausing for a moment (a fork for BGSAVE, a "
                                "slow command) would count as failing; use at least ",
                                kMinHealthCheckIntervalMs,
                                " (1000 is typical), or 0 to turn checks off"));
    }
    pool_->set_health_check_interval_ms(ms);
  }

  // `sentinels:`: a list of `host:port`, block or flow style.
  void LoadSentinels(const std::string& key, const YamlNode& node) {
    if (!CheckPlain(node, name_, key, sink_, /*allow_flow=*/true)) return;
    if (node.kind != YamlNode::Kind::kSequence) {
      return Error(node, key,
                   absl::StrCat("expected a list of sentinels (one \"- host:port\" per line, or "
                                "[host:port, ...]), found ",
                                node.KindName()));
    }
    if (node.items.empty()) {
      return Error(node, key, "the list is empty: name at least one sentinel");
    }
    for (const YamlNodePtr& item : node.items) {
      const YamlNode* scalar = RequireScalar(*item, name_, key, sink_);
      if (scalar == nullptr) continue;
      absl::StatusOr<config::v1::TcpAddress> address = ParseSentinel(scalar->value);
      if (!address.ok()) {
        Error(*item, key, std::string(address.status().message()));
        continue;
      }
      config::v1::Sentinel* sentinel = pool_->add_sentinels();
      sentinel->set_raw(scalar->value);
      *sentinel->mutable_tcp() = *std::move(address);
      source_->sentinels.push_back(item->pos);
    }
  }

  // `replicas:`: a mapping from a server's name to its replicas, each a `servers:` entry
  // without the weight; block or flow style. Whether the names are servers of the pool is
  // checked by the validator (servers: may come after replicas:).
  void LoadReplicas(const std::string& key, const YamlNode& node) {
    if (!CheckPlain(node, name_, key, sink_, /*allow_flow=*/true)) return;
    if (node.kind != YamlNode::Kind::kMapping) {
      return Error(node, key,
                   absl::StrCat("expected a mapping from server names to lists of replicas "
                                "(\"shard-a:\" then one \"- host:port [name]\" per line), found ",
                                node.KindName()));
    }
    absl::flat_hash_map<std::string, SourcePos> seen;
    for (const auto& [k, v] : node.entries) {
      if (!CheckPlain(*k, name_, key, sink_)) continue;
      if (k->kind != YamlNode::Kind::kScalar || k->value.empty()) {
        Error(*k, key, "expected a server's name (its servers: name) before its replicas");
        continue;
      }
      const std::string& server = k->value;
      auto [it, first] = seen.emplace(server, k->pos);
      if (!first) {
        Error(*k, key,
              absl::StrCat("server '", server, "' is listed twice (first at line ",
                           it->second.line, "); list all its replicas under one entry"));
        continue;
      }
      if (!CheckPlain(*v, name_, key, sink_, /*allow_flow=*/true)) continue;
      if (v->kind != YamlNode::Kind::kSequence) {
        Error(*v, key,
              absl::StrCat("expected a list of replicas for server '", server,
                           "' (one \"- host:port [name]\" per line), found ", v->KindName()));
        continue;
      }
      if (v->items.empty()) {
        Error(*v, key,
              absl::StrCat("server '", server, "' has an empty list of replicas; list at least "
                           "one or remove the entry"));
        continue;
      }
      config::v1::ReplicaSet* set = pool_->add_replicas();
      set->set_server(server);
      PoolSource::ReplicaSetSource& set_source = source_->replicas.emplace_back();
      set_source.server = k->pos;
      for (const YamlNodePtr& item : v->items) {
        const YamlNode* scalar = RequireScalar(*item, name_, key, sink_);
        if (scalar == nullptr) continue;
        absl::StatusOr<config::v1::Server> replica = ParseReplica(scalar->value);
        if (!replica.ok()) {
          Error(*item, key, std::string(replica.status().message()));
          continue;
        }
        *set->add_replicas() = *std::move(replica);
        set_source.replicas.push_back(item->pos);
      }
    }
  }

  // `tls:` {cert, key, ca, require_client_cert} and `server_tls:` {ca, cert, key, sni, verify}
  // (docs/tls.md), block or flow style. Each value's position is recorded as "<key>.<name>"
  // for the validator, which checks the files and what each side requires.
  void LoadTls(const YamlNode& node, const std::string& key, config::v1::Tls* tls) {
    const bool client_side = key == "tls";
    const char* valid = client_side ? "cert, key, ca, require_client_cert"
                                    : "ca, cert, key, sni, verify";
    tls->set_enabled(true);
    tls->set_verify(!client_side);  // server_tls: verify defaults to true
    if (!CheckPlain(node, name_, key, sink_, /*allow_flow=*/true)) return;
    if (node.kind != YamlNode::Kind::kMapping) {
      return Error(node, key,
                   absl::StrCat("expected a mapping (", valid, "), found ", node.KindName()));
    }
    absl::flat_hash_map<std::string, SourcePos> seen;
    for (const auto& [k, v] : node.entries) {
      if (!CheckPlain(*k, name_, key, sink_)) continue;
      const std::string& name = k->value;
      const bool known = name == "cert" || name == "key" || name == "ca" ||
                         (client_side ? name == "require_client_cert"
                                      : name == "sni" || name == "verify");
      if (k->kind != YamlNode::Kind::kScalar || !known) {
        Error(*k, key, absl::StrCat("unknown key '", k->value, "' (valid: ", valid, ")"));
        continue;
      }
      auto [it, first] = seen.emplace(name, k->pos);
      if (!first) {
        Error(*k, key, absl::StrCat("'", name, "' is set twice (first at line ", it->second.line,
                                    ")"));
        continue;
      }
      const std::string sub = absl::StrCat(key, ": ", name);
      const YamlNode* scalar = RequireScalar(*v, name_, sub, sink_);
      if (scalar == nullptr) continue;
      source_->keys[absl::StrCat(key, ".", name)] = scalar->pos;
      if (name == "require_client_cert" || name == "verify") {
        absl::StatusOr<bool> b = ParseBool(scalar->value);
        if (!b.ok()) {
          sink_->Error(scalar->pos, name_, sub, std::string(b.status().message()));
          continue;
        }
        if (name == "verify") {
          tls->set_verify(*b);
        } else {
          tls->set_require_client_cert(*b);
        }
      } else if (name == "cert") {
        tls->set_cert(scalar->value);
      } else if (name == "key") {
        tls->set_key(scalar->value);
      } else if (name == "ca") {
        tls->set_ca(scalar->value);
      } else {
        tls->set_sni(scalar->value);
      }
    }
  }

  // `filters:` entries: a bare name, or a mapping {name: x, config: {...}}.
  void LoadFilters(const YamlNode& node) {
    if (!CheckPlain(node, name_, "filters", sink_)) return;
    if (node.kind != YamlNode::Kind::kSequence) {
      return Error(node, "filters",
                   absl::StrCat("expected a list of filters, found ", node.KindName()));
    }
    for (const YamlNodePtr& item : node.items) LoadFilter(*item);
  }

  void LoadFilter(const YamlNode& item) {
    const std::string key = "filters";
    const YamlNode* name_node = nullptr;
    const YamlNode* config_node = nullptr;
    if (item.kind == YamlNode::Kind::kScalar && item.tag.empty() && !item.anchored) {
      name_node = &item;
    } else if (item.kind == YamlNode::Kind::kMapping && item.tag.empty() && !item.anchored &&
               !item.alias) {
      for (const auto& [k, v] : item.entries) {
        if (k->kind != YamlNode::Kind::kScalar) {
          Error(*k, key, "filter entry keys must be 'name' or 'config'");
        } else if (k->value == "name") {
          name_node = RequireScalar(*v, name_, key, sink_);
          if (name_node == nullptr) return;
        } else if (k->value == "config") {
          config_node = v.get();
        } else {
          Error(*k, key,
                absl::StrCat("unknown filter entry key '", k->value, "' (valid: name, config)"));
        }
      }
      if (name_node == nullptr) return Error(item, key, "filter entry has no 'name'");
    } else {
      return Error(item, key,
                   absl::StrCat("expected a filter name or a mapping with 'name' and 'config', "
                                "found ",
                                item.KindName()));
    }
    const std::string& filter_name = name_node->value;
    const FilterFactory* factory = Registry<FilterFactory>::Find(filter_name);
    if (factory == nullptr) {
      return Error(*name_node, key, UnknownFilterMessage(filter_name));
    }
    std::unique_ptr<google::protobuf::Message> message = factory->NewConfigProto();
    config::v1::Filter* filter = pool_->add_filters();
    filter->set_name(filter_name);
    if (message != nullptr) {
      filter->set_config_type(message->GetDescriptor()->full_name());
      if (config_node != nullptr && config_node->kind != YamlNode::Kind::kNull) {
        std::vector<ProtoYamlError> errors;
        FillMessageFromYaml(*config_node, message.get(), &errors);
        for (const ProtoYamlError& e : errors) {
          sink_->Error(e.pos, name_, absl::StrCat("filters: ", filter_name), e.message);
        }
      }
      filter->set_typed_config(message->SerializeAsString());
    } else if (config_node != nullptr && config_node->kind != YamlNode::Kind::kNull) {
      Error(*config_node, key, absl::StrCat("filter '", filter_name, "' takes no config"));
    }
    source_->filters.push_back(name_node->pos);
    source_->filter_configs.push_back(config_node != nullptr ? config_node->pos : name_node->pos);
  }

  // ---- Credentials (`client_auth:`, `server_auth:`; docs/authentication.md). Both keys take
  // block or flow style, like the other shardproxy keys. Secret values never appear in a
  // diagnostic: messages name the key, the file or the variable.

  // A secret (a `password:`): a non-empty string, or {file: PATH} or {env: NAME}, resolved
  // here so that the validator, the codec and `proxyctl diff` all see the value. False after
  // reporting why not.
  bool LoadSecret(const YamlNode& node, const std::string& key, config::v1::Secret* out) {
    if (!CheckPlain(node, name_, key, sink_, /*allow_flow=*/true)) return false;
    if (node.kind == YamlNode::Kind::kScalar) {
      if (node.value.empty()) {
        Error(node, key, "the password is empty");
        return false;
      }
      if (node.value.size() > kMaxSecretBytes) {
        Error(node, key,
              absl::StrCat("the password is longer than ", kMaxSecretBytes,
                           " bytes (redis refuses longer arguments before authentication)"));
        return false;
      }
      out->set_value(node.value);
      return true;
    }
    if (node.kind != YamlNode::Kind::kMapping) {
      Error(node, key,
            absl::StrCat("expected a password: a string, {file: PATH} or {env: NAME}, found ",
                         node.kind == YamlNode::Kind::kNull ? "an empty value"
                                                            : node.KindName()));
      return false;
    }
    const YamlNode* file = nullptr;
    const YamlNode* env = nullptr;
    for (const auto& [k, v] : node.entries) {
      if (!CheckPlain(*k, name_, key, sink_)) return false;
      const bool is_file = k->kind == YamlNode::Kind::kScalar && k->value == "file";
      const bool is_env = k->kind == YamlNode::Kind::kScalar && k->value == "env";
      if (!is_file && !is_env) {
        Error(*k, key,
              absl::StrCat("unknown key '", k->value, "' in a password (valid: file, env)"));
        return false;
      }
      const YamlNode*& slot = is_file ? file : env;
      if (slot != nullptr) {
        Error(*k, key, absl::StrCat("'", k->value, "' is set twice in one password"));
        return false;
      }
      slot = RequireScalar(*v, name_, key, sink_);
      if (slot == nullptr) return false;
    }
    if ((file == nullptr) == (env == nullptr)) {
      Error(node, key,
            file == nullptr ? "a password mapping needs file: PATH or env: NAME"
                            : "give a password either file: or env:, not both");
      return false;
    }
    absl::StatusOr<std::string> secret =
        file != nullptr ? ReadSecretFile(file->value, base_dir_) : ReadSecretEnv(env->value);
    if (!secret.ok()) {
      Error(file != nullptr ? *file : *env, key, std::string(secret.status().message()));
      return false;
    }
    if (file != nullptr) out->set_file(file->value);
    if (env != nullptr) out->set_env(env->value);
    out->set_value(*std::move(secret));
    return true;
  }

  // A redis user name (ACL SETUSER's rule: no spaces, no control characters).
  const YamlNode* LoadUserName(const YamlNode& node, const std::string& key) {
    const YamlNode* scalar = RequireScalar(node, name_, key, sink_);
    if (scalar == nullptr) return nullptr;
    for (const char c : scalar->value) {
      if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
        Error(node, key,
              absl::StrCat("user name '", absl::CHexEscape(scalar->value),
                           "' has a space or a control character (redis user names have none)"));
        return nullptr;
      }
    }
    return scalar;
  }

  // `{<user_key>: NAME, password: SECRET}` with the user optional (redis's default user);
  // `what` names the mapping in messages. False after reporting.
  bool LoadCredential(const YamlNode& node, const std::string& key, const char* user_key,
                      const char* other_user_key, const std::string& what,
                      config::v1::Credential* out) {
    if (!CheckPlain(node, name_, key, sink_, /*allow_flow=*/true)) return false;
    if (node.kind != YamlNode::Kind::kMapping) {
      Error(node, key,
            absl::StrCat("expected ", what, " as a mapping {", user_key,
                         ": NAME, password: SECRET}, found ",
                         node.kind == YamlNode::Kind::kNull ? "an empty value"
                                                            : node.KindName()));
      return false;
    }
    bool ok = true;
    bool has_user = false;
    bool has_password = false;
    for (const auto& [k, v] : node.entries) {
      if (!CheckPlain(*k, name_, key, sink_)) return false;
      const std::string field = k->kind == YamlNode::Kind::kScalar ? k->value : "";
      if (field == user_key) {
        if (has_user) {
          Error(*k, key, absl::StrCat("'", field, "' is set twice in ", what));
          return false;
        }
        has_user = true;
        const YamlNode* user = LoadUserName(*v, key);
        if (user == nullptr) {
          ok = false;
        } else {
          out->set_username(user->value);
        }
      } else if (field == "password") {
        if (has_password) {
          Error(*k, key, absl::StrCat("'password' is set twice in ", what));
          return false;
        }
        has_password = true;
        ok = LoadSecret(*v, key, out->mutable_password()) && ok;
      } else if (field == other_user_key) {
        Error(*k, key,
              absl::StrCat("write '", user_key, ":' here ('", other_user_key, ":' is for ",
                           std::string(other_user_key) == "user" ? "client_auth" : "server_auth",
                           ")"));
        ok = false;
      } else {
        Error(*k, key,
              absl::StrCat("unknown key '", field, "' in ", what, " (valid: ", user_key,
                           ", password)"));
        ok = false;
      }
    }
    if (!has_password) {
      Error(node, key, absl::StrCat(what, " has no password:"));
      return false;
    }
    return ok;
  }

  // `client_auth:`: a list of passwords (redis's default user) and {user: NAME, password:
  // SECRET} entries; a client may AUTH with any of them (several at once to rotate a secret).
  void LoadClientAuth(const std::string& key, const YamlNode& node) {
    if (!CheckPlain(node, name_, key, sink_, /*allow_flow=*/true)) return;
    if (node.kind != YamlNode::Kind::kSequence) {
      return Error(node, key,
                   absl::StrCat("expected a list of passwords and {user: NAME, password: "
                                "SECRET} entries (one \"- ...\" per line), found ",
                                node.KindName()));
    }
    if (node.items.empty()) {
      return Error(node, key,
                   "the list is empty: list at least one password, or remove the key");
    }
    for (const YamlNodePtr& item : node.items) {
      config::v1::Credential credential;
      if (item->kind == YamlNode::Kind::kMapping) {
        // {file: PATH} alone would leave open which user the password is for.
        bool bare_secret = false;
        for (const auto& entry : item->entries) {
          bare_secret = bare_secret || entry.first->value == "file" || entry.first->value == "env";
        }
        if (bare_secret) {
          Error(*item, key,
                "a password from a file or the environment is written {user: NAME, password: "
                "{file: PATH}} (user: default for redis's default user)");
          continue;
        }
        if (!LoadCredential(*item, key, "user", "username", "a client_auth entry",
                            &credential)) {
          continue;
        }
      } else if (!LoadSecret(*item, key, credential.mutable_password())) {
        continue;
      }
      *pool_->add_client_auth() = std::move(credential);
    }
  }

  // `server_auth:`: {username: NAME, password: SECRET, servers: {<server name>: {username:
  // NAME, password: SECRET}}}; whether every server name is a server of the pool, and whether
  // every server gets a credential, is checked by the validator (servers: may come later).
  void LoadServerAuth(const std::string& key, const YamlNode& node) {
    if (!CheckPlain(node, name_, key, sink_, /*allow_flow=*/true)) return;
    if (node.kind != YamlNode::Kind::kMapping) {
      return Error(node, key,
                   absl::StrCat("expected a mapping {username: NAME, password: SECRET, servers: "
                                "{...}}, found ",
                                node.kind == YamlNode::Kind::kNull ? "an empty value"
                                                                   : node.KindName()));
    }
    config::v1::ServerAuth* auth = pool_->mutable_server_auth();
    const YamlNode* username = nullptr;
    const YamlNode* password = nullptr;
    const YamlNode* servers = nullptr;
    for (const auto& [k, v] : node.entries) {
      if (!CheckPlain(*k, name_, key, sink_)) continue;
      const std::string field = k->kind == YamlNode::Kind::kScalar ? k->value : "";
      const YamlNode** slot = field == "username"   ? &username
                              : field == "password" ? &password
                              : field == "servers"  ? &servers
                                                    : nullptr;
      if (slot == nullptr) {
        Error(*k, key,
              field == "user"
                  ? std::string("write 'username:' here ('user:' is for client_auth)")
                  : absl::StrCat("unknown key '", field,
                                 "' (valid: username, password, servers)"));
        continue;
      }
      if (*slot != nullptr) {
        Error(*k, key, absl::StrCat("'", field, "' is set twice"));
        continue;
      }
      *slot = v.get();
      if (slot == &username) {
        if (const YamlNode* user = LoadUserName(*v, key)) {
          auth->mutable_credential()->set_username(user->value);
        }
      } else if (slot == &password) {
        LoadSecret(*v, key, auth->mutable_credential()->mutable_password());
      } else {
        LoadServerOverrides(*v, auth);
      }
    }
    if (username != nullptr && password == nullptr) {
      Error(*username, key,
            "username: has no password: (give the pool's password: next to it, or the "
            "user under each server in servers:)");
    }
    if (password == nullptr && servers == nullptr) {
      Error(node, key,
            "needs a password: for every server, or servers: with a password per server");
    }
  }

  void LoadServerOverrides(const YamlNode& node, config::v1::ServerAuth* auth) {
    const std::string key = "server_auth";
    if (!CheckPlain(node, name_, key, sink_, /*allow_flow=*/true)) return;
    if (node.kind != YamlNode::Kind::kMapping || node.entries.empty()) {
      return Error(node, key,
                   absl::StrCat("expected servers: as a mapping of server names to {username: "
                                "NAME, password: SECRET}, found ",
                                node.kind == YamlNode::Kind::kNull ? "an empty value"
                                                                   : node.KindName()));
    }
    for (const auto& [k, v] : node.entries) {
      if (!CheckPlain(*k, name_, key, sink_)) continue;
      if (k->kind != YamlNode::Kind::kScalar || k->value.empty()) {
        Error(*k, key, "expected a server's name (its servers: name) before its credential");
        continue;
      }
      const std::string& server = k->value;
      auto [it, first] = source_->server_auth_servers.emplace(server, k->pos);
      if (!first) {
        Error(*k, key,
              absl::StrCat("server '", server, "' is listed twice (first at line ",
                           it->second.line, ")"));
        continue;
      }
      config::v1::Credential credential;
      if (LoadCredential(*v, key, "username", "user",
                         absl::StrCat("the credential of server '", server, "'"), &credential)) {
        (*auth->mutable_per_server())[server] = std::move(credential);
      }
    }
  }

  std::string name_;
  Pool* pool_;
  PoolSource* source_;
  DiagnosticSink* sink_;
  std::string base_dir_;
  std::optional<NamedAt> redis_key_;     // `redis:`, as the protocol name it means
  std::optional<NamedAt> protocol_key_;  // `protocol:`, when it names a registered protocol
};

const std::vector<PoolLoader::Key>& PoolLoader::Keys() {
  using L = PoolLoader;
  static const auto* keys = new std::vector<Key>{
      {"listen", Key::kScalar, &L::LoadListen, nullptr},
      {"hash", Key::kNode, &L::LoadRegisteredName<HashFunctionFactory, &Pool::mutable_hash>,
       [](Pool* p) { p->set_hash("fnv1a_64"); }},
      {"hash_tag", Key::kScalar, &L::LoadHashTag, nullptr},
      {"distribution", Key::kNode,
       &L::LoadRegisteredName<DistributionFactory, &Pool::mutable_distribution>,
       [](Pool* p) { p->set_distribution("ketama"); }},
      {"timeout", Key::kScalar, &L::LoadNumber<&Pool::set_timeout_ms>,
       [](Pool* p) { p->set_timeout_ms(0); }},
      {"backlog", Key::kScalar, &L::LoadNumber<&Pool::set_backlog>,
       [](Pool* p) { p->set_backlog(512); }},
      {"client_connections", Key::kScalar, &L::LoadNumber<&Pool::set_client_connections>,
       [](Pool* p) { p->set_client_connections(0); }},
      // twemproxy's `redis: false`; Finish() settles it against `protocol:`.
      {"redis", Key::kScalar, &L::LoadRedis, [](Pool* p) { p->set_protocol("memcache"); }},
      {"tcpkeepalive", Key::kScalar, &L::LoadBool<&Pool::set_tcpkeepalive>, nullptr},
      {"redis_auth", Key::kScalar, &L::LoadRedisAuth, nullptr},
      {"redis_db", Key::kScalar, &L::LoadNumber<&Pool::set_redis_db>,
       [](Pool* p) { p->set_redis_db(0); }},
      {"preconnect", Key::kScalar, &L::LoadBool<&Pool::set_preconnect>, nullptr},
      {"auto_eject_hosts", Key::kScalar, &L::LoadBool<&Pool::set_auto_eject_hosts>, nullptr},
      {"server_connections", Key::kScalar, &L::LoadNumber<&Pool::set_server_connections>,
       [](Pool* p) { p->set_server_connections(1); }},
      {"server_retry_timeout", Key::kScalar, &L::LoadNumber<&Pool::set_server_retry_timeout_ms>,
       [](Pool* p) { p->set_server_retry_timeout_ms(30000); }},
      {"server_failure_limit", Key::kScalar, &L::LoadNumber<&Pool::set_server_failure_limit>,
       [](Pool* p) { p->set_server_failure_limit(2); }},
      {"servers", Key::kNode, &L::LoadServers, nullptr},
      {"reuseport", Key::kScalar, &L::LoadBool<&Pool::set_reuseport>, nullptr},
      {"filters", Key::kNode, &L::LoadFilterList, nullptr},
      {"protocol", Key::kNode, &L::LoadProtocol, nullptr},
      // High availability (redis pools except the last two; cross-checks in protocols/redis/config.cc).
      {"sentinels", Key::kNode, &L::LoadSentinels, nullptr},
      {"sentinel_password", Key::kScalar, &L::LoadSentinelPassword, nullptr},
      {"replicas", Key::kNode, &L::LoadReplicas, nullptr},
      {"read_from", Key::kScalar, &L::LoadReadFrom, nullptr},
      {"health_check_interval", Key::kScalar, &L::LoadHealthCheckInterval, nullptr},
      {"auto_eject_drop", Key::kScalar, &L::LoadBool<&Pool::set_auto_eject_drop>, nullptr},
      // Redis Cluster (cross-checks in protocols/redis/config.cc).
      {"redis_cluster", Key::kScalar, &L::LoadBool<&Pool::set_redis_cluster>, nullptr},
      // Credentials (redis pools; docs/authentication.md).
      {"client_auth", Key::kNode, &L::LoadClientAuth, nullptr},
      {"server_auth", Key::kNode, &L::LoadServerAuth, nullptr},
      // TLS (docs/tls.md): clients to the proxy, the proxy to its servers.
      {"tls", Key::kNode, &L::LoadTlsKey<&Pool::mutable_tls>, nullptr},
      {"server_tls", Key::kNode, &L::LoadTlsKey<&Pool::mutable_server_tls>, nullptr},
      // The process-wide bound on connections to each server under --workers (issue 15;
      // core/proxy/connection_budget.h); 0 = no cap.
      {"max_server_connections", Key::kScalar,
       &L::LoadNumber<&Pool::set_max_server_connections>,
       [](Pool* p) { p->set_max_server_connections(0); }},
  };
  return *keys;
}

const PoolLoader::Key* FindKey(const std::string& name) {
  for (const PoolLoader::Key& key : PoolLoader::Keys()) {
    if (name == key.name) return &key;
  }
  return nullptr;
}

void ApplyDefaults(Pool* pool) {
  for (const PoolLoader::Key& key : PoolLoader::Keys()) {
    if (key.set_default != nullptr) key.set_default(pool);
  }
}

}  // namespace

const std::vector<std::string>& KnownPoolKeys() {
  static const auto* names = [] {
    auto* out = new std::vector<std::string>();
    for (const PoolLoader::Key& key : PoolLoader::Keys()) out->push_back(key.name);
    return out;
  }();
  return *names;
}

void LoadYaml(const std::string& text, config::v1::Bootstrap* bootstrap, SourceMap* sources,
              DiagnosticSink* sink) {
  YamlFile file = ParseYaml(text);
  if (!file.syntax_ok) {
    sink->Error(file.error_pos, "", "", absl::StrCat("YAML syntax error: ", file.error));
    return;
  }
  if (file.documents.size() != 1) {
    sink->Error(SourcePos{1, 1}, "", "",
                absl::StrCat("the file must contain exactly one YAML document; found ",
                             file.documents.size()));
    return;
  }
  const YamlNodePtr& root = file.documents[0];
  if (root == nullptr || root->kind == YamlNode::Kind::kNull) {
    sink->Error(SourcePos{1, 1}, "", "", "the file has no pools");
    return;
  }
  if (!CheckPlain(*root, "", "", sink)) return;
  if (root->kind != YamlNode::Kind::kMapping) {
    sink->Error(root->pos, "", "",
                absl::StrCat("the top level must be a mapping of pool names to pool settings, "
                             "found ",
                             root->KindName()));
    return;
  }
  // Relative `{file: PATH}` secrets are read from the config file's directory.
  const size_t slash = sources->file.rfind('/');
  const std::string base_dir =
      slash == std::string::npos ? "" : sources->file.substr(0, slash == 0 ? 1 : slash);
  absl::flat_hash_map<std::string, SourcePos> pool_names;
  for (const auto& [key_node, value_node] : root->entries) {
    if (!CheckPlain(*key_node, "", "", sink)) continue;
    if (key_node->kind != YamlNode::Kind::kScalar || key_node->value.empty()) {
      sink->Error(key_node->pos, "", "", "a pool name must be a non-empty string");
      continue;
    }
    const std::string& name = key_node->value;
    auto [it, inserted] = pool_names.emplace(name, key_node->pos);
    if (!inserted) {
      sink->Error(key_node->pos, name, "",
                  absl::StrCat("duplicate pool name (first defined at line ", it->second.line,
                               ")"));
      continue;
    }
    // A pool whose settings cannot be read is not added: validating it would only report its
    // listen and servers as missing.
    const YamlNode& value = *value_node;
    if (!CheckPlain(value, name, "", sink)) continue;
    if (value.kind != YamlNode::Kind::kMapping) {
      sink->Error(value.kind == YamlNode::Kind::kNull ? key_node->pos : value.pos, name, "",
                  absl::StrCat("expected a mapping of pool settings (listen:, servers:, ...), "
                               "found ",
                               value.KindName()));
      continue;
    }
    Pool* pool = bootstrap->add_pools();
    PoolSource* source = &sources->pools.emplace_back();
    pool->set_name(name);
    source->name = key_node->pos;
    ApplyDefaults(pool);
    PoolLoader loader(name, pool, source, sink, base_dir);
    absl::flat_hash_map<std::string, SourcePos> seen;
    for (const auto& [k, v] : value.entries) {
      if (!CheckPlain(*k, name, "", sink)) continue;
      if (k->kind != YamlNode::Kind::kScalar) {
        sink->Error(k->pos, name, "", "a setting name must be a plain string");
        continue;
      }
      const std::string& key = k->value;
      const PoolLoader::Key* row = FindKey(key);
      if (row == nullptr) {
        sink->Error(k->pos, name, key,
                    absl::StrCat("unknown key (valid: ", absl::StrJoin(KnownPoolKeys(), ", "),
                                 ")"));
        continue;
      }
      auto [seen_it, first] = seen.emplace(key, k->pos);
      if (!first) {
        sink->Error(k->pos, name, key,
                    absl::StrCat("set twice (first at line ", seen_it->second.line, ")"));
        continue;
      }
      loader.LoadEntry(*row, *v);
    }
    loader.Finish();
  }
}

}  // namespace proxy::config

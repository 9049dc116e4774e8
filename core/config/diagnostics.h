// Config problems with their file:line:col, pool and key, collected rather than thrown.
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "core/config/yaml_tree.h"

namespace proxy::config {

// One error or warning: "file:line:col: pool 'p': key: message".
struct Diagnostic {
  std::string file;
  SourcePos pos;
  std::string pool;  // empty when not about one pool
  std::string key;   // the YAML key concerned, empty when not about one key
  std::string message;

  std::string ToString() const;
};

// Where each part of each pool was written, parallel to Bootstrap.pools.
struct PoolSource {
  SourcePos name;                                      // the pool's name
  absl::flat_hash_map<std::string, SourcePos> keys;    // key → position of its value
  std::vector<SourcePos> servers;                      // per Pool.servers entry
  std::vector<SourcePos> filters;                      // per Pool.filters entry
  std::vector<SourcePos> filter_configs;               // per entry: its `config:` (or the entry)
  std::vector<SourcePos> sentinels;                    // per Pool.sentinels entry
  // Per Pool.replicas entry: its server name (the mapping key) and each replica.
  struct ReplicaSetSource {
    SourcePos server;
    std::vector<SourcePos> replicas;
  };
  std::vector<ReplicaSetSource> replicas;
  // `server_auth:`'s per-server overrides: server name (the `servers:` key) → its position.
  absl::flat_hash_map<std::string, SourcePos> server_auth_servers;

  // The value of `key` if it was written, else the pool name.
  SourcePos KeyOrPool(const std::string& key) const;
};

struct SourceMap {
  std::string file;
  std::vector<PoolSource> pools;
};

// Collects diagnostics for one file.
class DiagnosticSink {
 public:
  explicit DiagnosticSink(std::string file) : file_(std::move(file)) {}

  void Error(SourcePos pos, std::string pool, std::string key, std::string message) {
    errors_.push_back({file_, pos, std::move(pool), std::move(key), std::move(message)});
  }
  void Warning(SourcePos pos, std::string pool, std::string key, std::string message) {
    warnings_.push_back({file_, pos, std::move(pool), std::move(key), std::move(message)});
  }

  std::vector<Diagnostic>& errors() { return errors_; }
  std::vector<Diagnostic>& warnings() { return warnings_; }

 private:
  std::string file_;
  std::vector<Diagnostic> errors_;
  std::vector<Diagnostic> warnings_;
};

// All diagnostics, one per line, in source order.
std::string FormatDiagnostics(const std::vector<Diagnostic>& diagnostics);

// kInvalidArgument carrying every error, or OK.
absl::Status DiagnosticsToStatus(const std::vector<Diagnostic>& errors);

}  // namespace proxy::config

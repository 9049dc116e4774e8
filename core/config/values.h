// Parsers for twemproxy's scalar values: numbers, booleans, `listen:` and `servers:` entries, and
// the values of shardproxy's high-availability keys (`sentinels:` and `replicas:` entries,
// `read_from:`). Each returns an error text (no location) that the loader prefixes with
// file:line:col.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/config/v1/bootstrap.pb.h"

namespace proxy::config {

// A twemproxy number: decimal digits only. twemproxy accumulates in a 32-bit int and accepts the
// result when it is non-negative, so 99999999999 silently becomes 1215752191; we keep that value
// (placement and timeouts stay identical) and report `wrapped` so the caller can warn.
struct ParsedNumber {
  uint32_t value = 0;
  bool wrapped = false;
};
absl::StatusOr<ParsedNumber> ParseNumber(absl::string_view text);

// Exactly "true" or "false".
absl::StatusOr<bool> ParseBool(absl::string_view text);

// `host:port` (split at the last colon; IPv6 without brackets) or `/path [octal perm]`.
// `permission_note` is set when a unix permission was not plain octal (twemproxy reads it as 0).
absl::StatusOr<config::v1::Listen> ParseListen(absl::string_view text,
                                               std::string* permission_note);

// `host:port:weight [name]` or `/path:weight [name]`, with twemproxy's node name derived.
// `weight_note` is set when the weight wrapped (see ParsedNumber).
absl::StatusOr<config::v1::Server> ParseServer(absl::string_view text, std::string* weight_note);

// A `replicas:` entry: a `servers:` entry without the weight, `host:port [name]` or
// `/path [name]`, parsed by the same code (so the node name is derived the same way). weight is
// 0: replicas get reads by `read_from:`, not by weight. A weight written out of habit
// (`127.0.0.1:6380:1`) is reported as such rather than read as the IPv6-style host
// "127.0.0.1:6380" and port 1.
absl::StatusOr<config::v1::Server> ParseReplica(absl::string_view text);

// A `sentinels:` entry: `host:port` (split at the last colon; IPv6 without brackets), no name,
// no weight.
absl::StatusOr<config::v1::TcpAddress> ParseSentinel(absl::string_view text);

// `master`, `prefer_replica`, `replica` or `any`.
absl::StatusOr<config::v1::ReadFrom> ParseReadFrom(absl::string_view text);

// The YAML spelling of a ReadFrom value ("master", ...).
absl::string_view ReadFromName(config::v1::ReadFrom read_from);

// Credentials (`client_auth:`, `server_auth:`; docs/authentication.md). The longest secret:
// redis refuses a longer argument from a client that has not authenticated yet
// (RedisRequestDecoder::kUnauthMaxBulk), so a longer password could never be sent with AUTH.
inline constexpr size_t kMaxSecretBytes = 16384;

// A secret read from `path` (relative paths are relative to `base_dir`, the directory of the
// config file; "" = the working directory), with one trailing newline ("\n" or "\r\n")
// removed, as `echo secret > file` writes it. Errors name the path and the reason, never the
// content: unreadable, empty, longer than kMaxSecretBytes.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path, const std::string& base_dir);

// A secret from the environment variable `name` of the process loading the config. Errors:
// not set, empty, longer than kMaxSecretBytes (never the value).
absl::StatusOr<std::string> ReadSecretEnv(const std::string& name);

}  // namespace proxy::config

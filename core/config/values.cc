// twemproxy-compatible scalar parsing.
#include "core/config/values.h"

#include <arpa/inet.h>
#include <sys/un.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "api/status_macros.h"
#include "absl/strings/str_format.h"

namespace proxy::config {
namespace {

// The largest TCP port.
constexpr uint32_t kMaxPort = 65535;
// memcached's default port: libmemcached names such a server by its host alone, and twemproxy's
// ketama keeps that name so that placement matches libmemcached clients.
constexpr uint32_t kMemcachedDefaultPort = 11211;

constexpr char kServerFormat[] =
    "expected \"host:port:weight [name]\" or \"/path/unix_socket:weight [name]\"";
constexpr char kReplicaFormat[] =
    "expected \"host:port [name]\" or \"/path/unix_socket [name]\" (a replica has no weight)";

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

absl::StatusOr<uint32_t> ParsePort(absl::string_view text) {
  // Leading zeros are fine (twemproxy's nc_atoi reads "0080" as 80).
  absl::string_view digits = text;
  while (digits.size() > 1 && digits.front() == '0') {
    digits.remove_prefix(1);
  }
  if (!AllDigits(text) || digits.size() > 5) {
    return absl::InvalidArgumentError(absl::StrCat("invalid port '", text, "' (1..65535)"));
  }
  uint32_t port = 0;
  for (char c : digits) port = port * 10 + static_cast<uint32_t>(c - '0');
  if (port < 1 || port > kMaxPort) {
    return absl::InvalidArgumentError(absl::StrCat("invalid port '", text, "' (1..65535)"));
  }
  return port;
}

// A unix socket path must fit in sockaddr_un (twemproxy: "has an invalid value").
absl::Status CheckUnixPath(absl::string_view path) {
  if (path.size() < sizeof(sockaddr_un::sun_path)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("unix socket path is ", path.size(),
                                                 " bytes; the limit is ",
                                                 sizeof(sockaddr_un::sun_path) - 1));
}

// The host and port of a `host:port` value already split at its last colon: twemproxy's rules
// for `listen:` (a non-empty host, IPv6 without brackets, a port in 1..65535). A list entry's
// port error names the entry (`listen:` has one value, so its message does not).
absl::StatusOr<uint32_t> CheckHostPort(absl::string_view text, absl::string_view host,
                                       absl::string_view port_text, bool list_entry) {
  absl::StatusOr<uint32_t> port = ParsePort(port_text);
  if (!port.ok() && list_entry) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "': ", port.status().message()));
  }
  if (!port.ok()) return port.status();
  if (host.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' has an empty host"));
  }
  if (host.front() == '[') {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", host, "' is not a valid host: write IPv6 addresses without brackets, e.g. ",
        "::1:22121 (twemproxy's format)"));
  }
  return port;
}

// In twemproxy's format a host may contain colons only as an IPv6 address; any other host with
// a colon is `host:port` followed by something more (usually a weight).
bool HasNonIpv6Colon(absl::string_view host) {
  if (host.find(':') == absl::string_view::npos) return false;
  in6_addr address;
  return inet_pton(AF_INET6, std::string(host).c_str(), &address) != 1;
}

// A `servers:` entry (`weighted`) or a `replicas:` entry (the same without the weight).
absl::StatusOr<config::v1::Server> ParseServerEntry(absl::string_view text, bool weighted,
                                                    std::string* weight_note) {
  const char* format = weighted ? kServerFormat : kReplicaFormat;
  config::v1::Server server;
  server.set_raw(std::string(text));
  absl::string_view rest = text;
  size_t space = text.rfind(' ');
  if (space != absl::string_view::npos) {
    server.set_name(std::string(text.substr(space + 1)));
    rest = text.substr(0, space);
    if (server.name().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("'", text, "' has an empty name"));
    }
  }
  absl::string_view address = rest;
  absl::string_view weight_text;
  if (weighted) {
    size_t colon = rest.rfind(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("'", text, "': ", format));
    }
    weight_text = rest.substr(colon + 1);
    address = rest.substr(0, colon);
  }
  const bool is_unix = !text.empty() && text.front() == '/';
  absl::string_view host;
  uint32_t port = 0;
  if (!is_unix) {
    size_t port_colon = address.rfind(':');
    if (port_colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("'", text, "': ", format));
    }
    host = address.substr(0, port_colon);
    absl::StatusOr<uint32_t> parsed_port = ParsePort(address.substr(port_colon + 1));
    if (!parsed_port.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", text, "': ", parsed_port.status().message()));
    }
    port = *parsed_port;
    if (host.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("'", text, "' has an empty host"));
    }
    if (!weighted && HasNonIpv6Colon(host)) {
      return absl::InvalidArgumentError(absl::StrCat("'", text, "': '", host,
                                                     "' is not a host; ", format));
    }
  }
  if (weighted) {
    absl::StatusOr<ParsedNumber> weight = ParseNumber(weight_text);
    if (!weight.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("'", text, "': invalid weight '",
                                                     weight_text,
                                                     "' (a positive whole number)"));
    }
    if (weight->value == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", text, "': weight is zero (it must be at least 1)"));
    }
    if (weight->wrapped && weight_note != nullptr) {
      *weight_note =
          absl::StrCat("weight ", weight_text, " exceeds 2147483647; twemproxy wraps it to ",
                       weight->value, ", which is used so that placement stays identical");
    }
    server.set_weight(weight->value);
  }
  if (is_unix) {
    server.set_unix_path(std::string(address));
    PROXY_RETURN_IF_ERROR(CheckUnixPath(address));
  } else {
    server.mutable_tcp()->set_host(std::string(host));
    server.mutable_tcp()->set_port(port);
  }
  if (!server.name().empty()) {
    server.set_node_name(server.name());
  } else if (is_unix) {
    server.set_node_name(absl::StrCat(address, ":"));
  } else if (port == kMemcachedDefaultPort) {
    server.set_node_name(std::string(host));  // libmemcached compatibility
  } else {
    server.set_node_name(std::string(address));
  }
  return server;
}

}  // namespace

absl::StatusOr<ParsedNumber> ParseNumber(absl::string_view text) {
  if (!AllDigits(text)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a number (decimal digits only, no sign)"));
  }
  // Same arithmetic as twemproxy's nc_atoi: a 32-bit int that wraps on overflow.
  uint32_t acc = 0;
  for (char c : text) acc = acc * 10u + static_cast<uint32_t>(c - '0');
  if (static_cast<int32_t>(acc) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is out of range (at most 2147483647)"));
  }
  ParsedNumber parsed;
  parsed.value = acc;
  // Detect a wrap by comparing with a wide parse (digits beyond 20 certainly overflowed).
  unsigned __int128 wide = 0;
  for (char c : text) {
    wide = wide * 10 + static_cast<unsigned>(c - '0');
    if (wide > 0xFFFFFFFFFFFFFFFFull) break;
  }
  parsed.wrapped = wide != acc;
  return parsed;
}

absl::StatusOr<bool> ParseBool(absl::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not \"true\" or \"false\""));
}

absl::StatusOr<config::v1::Listen> ParseListen(absl::string_view text,
                                               std::string* permission_note) {
  config::v1::Listen listen;
  listen.set_raw(std::string(text));
  if (!text.empty() && text.front() == '/') {
    absl::string_view path = text;
    uint32_t perm = 0;
    size_t space = text.rfind(' ');
    if (space != absl::string_view::npos) {
      path = text.substr(0, space);
      absl::string_view perm_text = text.substr(space + 1);
      // strtol(..., 8) semantics: an optional sign, then octal digits up to the first other
      // character; twemproxy casts the result to mode_t, so a negative value exceeds 0777.
      size_t i = 0;
      const bool negative = !perm_text.empty() && perm_text[0] == '-';
      if (!perm_text.empty() && (perm_text[0] == '-' || perm_text[0] == '+')) {
        ++i;
      }
      const size_t digits_start = i;
      uint64_t value = 0;
      while (i < perm_text.size() && perm_text[i] >= '0' && perm_text[i] <= '7' &&
             value <= 07777) {
        value = value * 8 + static_cast<uint64_t>(perm_text[i] - '0');
        ++i;
      }
      if (value > 0777 || (negative && value != 0)) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid file permission '", perm_text, "' (octal, at most 0777)"));
      }
      if ((i != perm_text.size() || i == digits_start) && permission_note != nullptr) {
        *permission_note = absl::StrCat(
            "permission '", perm_text, "' is not an octal number; read as ",
            value == 0 ? "0 (the socket is not chmod'ed)" : absl::StrFormat("0%o", value),
            " as twemproxy does");
      }
      perm = static_cast<uint32_t>(value);
    }
    PROXY_RETURN_IF_ERROR(CheckUnixPath(path));
    listen.mutable_unix_socket()->set_path(std::string(path));
    listen.mutable_unix_socket()->set_permissions(perm);
    return listen;
  }
  size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not \"host:port\" or \"/path/to/socket [permission]\""));
  }
  absl::string_view host = text.substr(0, colon);
  absl::StatusOr<uint32_t> port =
      CheckHostPort(text, host, text.substr(colon + 1), /*list_entry=*/false);
  if (!port.ok()) return port.status();
  listen.mutable_tcp()->set_host(std::string(host));
  listen.mutable_tcp()->set_port(*port);
  return listen;
}

absl::StatusOr<config::v1::Server> ParseServer(absl::string_view text, std::string* weight_note) {
  return ParseServerEntry(text, /*weighted=*/true, weight_note);
}

absl::StatusOr<config::v1::Server> ParseReplica(absl::string_view text) {
  return ParseServerEntry(text, /*weighted=*/false, nullptr);
}

absl::StatusOr<config::v1::TcpAddress> ParseSentinel(absl::string_view text) {
  constexpr char kFormat[] = "expected \"host:port\" (a sentinel has no weight and no name)";
  const size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos || text.find(' ') != absl::string_view::npos ||
      (!text.empty() && text.front() == '/')) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "': ", kFormat));
  }
  absl::string_view host = text.substr(0, colon);
  absl::StatusOr<uint32_t> port =
      CheckHostPort(text, host, text.substr(colon + 1), /*list_entry=*/true);
  if (!port.ok()) return port.status();
  if (HasNonIpv6Colon(host)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "': '", host, "' is not a host; ", kFormat));
  }
  config::v1::TcpAddress address;
  address.set_host(std::string(host));
  address.set_port(*port);
  return address;
}

namespace {
constexpr std::pair<config::v1::ReadFrom, absl::string_view> kReadFromNames[] = {
    {config::v1::READ_FROM_MASTER, "master"},
    {config::v1::READ_FROM_PREFER_REPLICA, "prefer_replica"},
    {config::v1::READ_FROM_REPLICA, "replica"},
    {config::v1::READ_FROM_ANY, "any"},
};
}  // namespace

absl::StatusOr<config::v1::ReadFrom> ParseReadFrom(absl::string_view text) {
  for (const auto& [value, name] : kReadFromNames) {
    if (text == name) return value;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "'", text, "' is not a valid read_from (valid: master, prefer_replica, replica, any)"));
}

absl::string_view ReadFromName(config::v1::ReadFrom read_from) {
  for (const auto& [value, name] : kReadFromNames) {
    if (value == read_from) return name;
  }
  return "master";
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& path, const std::string& base_dir) {
  const std::string full =
      path.empty() || path[0] == '/' || base_dir.empty() ? path : absl::StrCat(base_dir, "/", path);
  std::ifstream in(full, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read the secret file '", full, "': ", std::strerror(errno)));
  }
  // At most one byte more than allowed (plus a newline): enough to tell "too long" without
  // reading a file named by mistake (a binary, a log) whole.
  std::string secret(kMaxSecretBytes + 3, '\0');
  in.read(secret.data(), static_cast<std::streamsize>(secret.size()));
  if (in.bad()) {
    return absl::NotFoundError(
        absl::StrCat("cannot read the secret file '", full, "': ", std::strerror(errno)));
  }
  secret.resize(static_cast<size_t>(in.gcount()));
  if (!secret.empty() && secret.back() == '\n') {
    secret.pop_back();
    if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  }
  if (secret.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("the secret file '", full, "' is empty"));
  }
  if (secret.size() > kMaxSecretBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the secret in '", full, "' is longer than ", kMaxSecretBytes,
                     " bytes (redis refuses longer arguments before authentication)"));
  }
  return secret;
}

absl::StatusOr<std::string> ReadSecretEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("the environment variable '", name, "' is not set (in the environment of "
                     "the process loading the config)"));
  }
  std::string secret(value);
  if (secret.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the environment variable '", name, "' is empty"));
  }
  if (secret.size() > kMaxSecretBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the environment variable '", name, "' is longer than ", kMaxSecretBytes,
                     " bytes (redis refuses longer arguments before authentication)"));
  }
  return secret;
}

}  // namespace proxy::config

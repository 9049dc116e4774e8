// twemproxy-compatible scalar parsing.
#include "core/config/values.h"

#include <sys/un.h>


#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "api/status_macros.h"
#include "absl/strings/str_format.h"

namespace proxy::config {
namespace {

constexpr char kServerFormat[] =
    "expected \"host:port:weight [name]\" or \"/path/unix_socket:weight [name]\"";

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
  if (port < 1 || port > 65535) {
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
  absl::StatusOr<uint32_t> port = ParsePort(text.substr(colon + 1));
  if (!port.ok()) return port.status();
  if (host.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' has an empty host"));
  }
  if (host.front() == '[') {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", host, "' is not a valid host: write IPv6 addresses without brackets, e.g. ",
        "::1:22121 (twemproxy's format)"));
  }
  listen.mutable_tcp()->set_host(std::string(host));
  listen.mutable_tcp()->set_port(*port);
  return listen;
}

absl::StatusOr<config::v1::Server> ParseServer(absl::string_view text, std::string* weight_note) {
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
  size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "': ", kServerFormat));
  }
  absl::string_view weight_text = rest.substr(colon + 1);
  absl::string_view address = rest.substr(0, colon);
  const bool is_unix = !text.empty() && text.front() == '/';
  absl::string_view host;
  uint32_t port = 0;
  if (!is_unix) {
    size_t port_colon = address.rfind(':');
    if (port_colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("'", text, "': ", kServerFormat));
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
  }
  absl::StatusOr<ParsedNumber> weight = ParseNumber(weight_text);
  if (!weight.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "': invalid weight '", weight_text,
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
  } else if (port == 11211) {
    server.set_node_name(std::string(host));  // libmemcached compatibility
  } else {
    server.set_node_name(std::string(address));
  }
  return server;
}

}  // namespace proxy::config

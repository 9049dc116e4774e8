// The redis_auth password check shared by the session (which answers AUTH and HELLO ... AUTH)
// and the request decoder (which applies redis's limits to unauthenticated clients until AUTH
// succeeds).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "api/codec.h"
#include "protocols/redis/resp.h"

namespace proxy::protocols::redis {

// Compares a client's password with the pool's in time that depends only on the length of
// `expected` (the pool's setting), never on where or whether the two differ: there is no early
// exit on a length mismatch or on the first differing byte.
inline bool SamePassword(absl::string_view given, absl::string_view expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  const size_t given_size = given.size();
  for (size_t i = 0; i < expected.size(); ++i) {
    // A shorter `given` is compared with zero bytes; the mismatch is already recorded above.
    const unsigned char g = i < given_size ? static_cast<unsigned char>(given[i]) : 0;
    diff |= static_cast<unsigned char>(g ^ static_cast<unsigned char>(expected[i]));
  }
  return diff == 0;
}

// True when the arguments of an AUTH request (after the name: `password` or `default
// password`) authenticate against `expected`. Both parts are always evaluated.
inline bool AuthArgsMatch(const ArgList& args, absl::string_view expected) {
  if (args.empty() || args.size() > 2 || expected.empty()) {
    return false;
  }
  const bool user_ok = args.size() == 1 || args[0] == "default";
  const bool password_ok = SamePassword(args[args.size() - 1], expected);
  return user_ok && password_ok;
}

// HELLO's arguments (after the name), parsed in redis's order: protover, then AUTH user pass /
// SETNAME name options (a later option of the same kind wins).
struct HelloArgs {
  int64_t protover = 0;  // 0: not given
  bool has_auth = false;
  absl::string_view user;
  absl::string_view password;
  bool has_setname = false;
  absl::string_view name;
};

// False, with redis's whole error reply in `error` (when not null), for a bad protover or
// option.
inline bool ParseHello(const ArgList& args, HelloArgs* out, std::string* error) {
  *out = HelloArgs();
  size_t next = 0;
  if (!args.empty()) {
    int64_t version = 0;
    if (!ParseStrictInt64(args[0], &version)) {
      if (error != nullptr) {
        *error = "-ERR Protocol version is not an integer or out of range\r\n";
      }
      return false;
    }
    if (version < 2 || version > 3) {
      if (error != nullptr) *error = "-NOPROTO unsupported protocol version\r\n";
      return false;
    }
    out->protover = version;
    next = 1;
  }
  for (size_t j = next; j < args.size(); ++j) {
    const size_t more = args.size() - 1 - j;
    const absl::string_view option = args[j];
    if (absl::EqualsIgnoreCase(option, "AUTH") && more >= 2) {
      out->has_auth = true;
      out->user = args[j + 1];
      out->password = args[j + 2];
      j += 2;
    } else if (absl::EqualsIgnoreCase(option, "SETNAME") && more >= 1) {
      out->has_setname = true;
      out->name = args[j + 1];
      j += 1;
    } else {
      if (error != nullptr) {
        *error = "-ERR Syntax error in HELLO option '";
        for (const char c : option) {
          error->append(c == '\r' || c == '\n' ? std::string(" ") : std::string(1, c));
        }
        error->append("'\r\n");
      }
      return false;
    }
  }
  return true;
}

// True when HELLO's AUTH option authenticates against `expected` (the pool's redis_auth; ""
// = redis's nopass default user, which accepts any password). Both parts are always evaluated.
inline bool HelloAuthMatches(const HelloArgs& hello, absl::string_view expected) {
  const bool user_ok = hello.user == "default";
  const bool password_ok = expected.empty() || SamePassword(hello.password, expected);
  return hello.has_auth && user_ok && password_ok;
}

}  // namespace proxy::protocols::redis

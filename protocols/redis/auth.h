// The client password checks shared by the session (which answers AUTH and HELLO ... AUTH)
// and the request decoder (which applies redis's limits to unauthenticated clients until AUTH
// succeeds): twemproxy's redis_auth, and shardproxy's client_auth (several passwords and ACL
// users at once; docs/authentication.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

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

// One credential a client may authenticate with (`client_auth:`): an ACL user and its
// password; "default" is redis's default user, the one `AUTH password` names.
struct ClientCredential {
  std::string user;
  std::string password;
};

// Who may use a pool, and which error texts the session answers with.
//   kNone       no password: every client is authenticated (AUTH is an error, as in redis
//               without requirepass; HELLO AUTH default <any> passes, redis's nopass user).
//   kRedisAuth  twemproxy's redis_auth: one password of the default user, twemproxy's texts
//               (-NOAUTH without a period, -ERR invalid password).
//   kClientAuth client_auth: any of a list of (user, password) pairs, redis 6+'s texts
//               (-NOAUTH Authentication required., -WRONGPASS ...).
class ClientAuth {
 public:
  enum class Mode { kNone, kRedisAuth, kClientAuth };

  ClientAuth() = default;
  // `password` "" = kNone.
  static ClientAuth RedisAuth(std::string password) {
    ClientAuth auth;
    if (!password.empty()) {
      auth.mode_ = Mode::kRedisAuth;
      auth.credentials_.push_back({"default", std::move(password)});
    }
    return auth;
  }
  // An empty user is the default user. An empty list = kNone.
  static ClientAuth Credentials(std::vector<ClientCredential> credentials) {
    ClientAuth auth;
    for (ClientCredential& credential : credentials) {
      if (credential.user.empty()) credential.user = "default";
    }
    auth.credentials_ = std::move(credentials);
    auth.mode_ = auth.credentials_.empty() ? Mode::kNone : Mode::kClientAuth;
    return auth;
  }

  Mode mode() const { return mode_; }
  // True when clients must authenticate before anything else.
  bool required() const { return mode_ != Mode::kNone; }
  const std::vector<ClientCredential>& credentials() const { return credentials_; }

  // True when (user, password) is one of the credentials. Every entry is compared, user and
  // password alike, each in time that depends only on the configured lengths (SamePassword):
  // neither which entry matched nor how much of a wrong password was right shows in the time.
  bool Matches(absl::string_view user, absl::string_view password) const {
    unsigned char any = 0;
    for (const ClientCredential& credential : credentials_) {
      const bool user_ok = SamePassword(user, credential.user);
      const bool password_ok = SamePassword(password, credential.password);
      any |= static_cast<unsigned char>(user_ok & password_ok);
    }
    return any != 0;
  }

  // AUTH's arguments (after the name): `password` (the default user) or `user password`.
  bool AuthArgsMatch(const ArgList& args) const {
    if (mode_ == Mode::kRedisAuth) {
      return ::proxy::protocols::redis::AuthArgsMatch(args, credentials_[0].password);
    }
    if (args.empty() || args.size() > 2 || mode_ == Mode::kNone) return false;
    return Matches(args.size() == 1 ? absl::string_view("default") : args[0],
                   args[args.size() - 1]);
  }

  // HELLO's AUTH option (HelloArgs::has_auth).
  bool HelloAuthMatches(const HelloArgs& hello) const {
    if (mode_ != Mode::kClientAuth) {
      return ::proxy::protocols::redis::HelloAuthMatches(
          hello, mode_ == Mode::kNone ? absl::string_view() : credentials_[0].password);
    }
    return hello.has_auth && Matches(hello.user, hello.password);
  }

 private:
  Mode mode_ = Mode::kNone;
  std::vector<ClientCredential> credentials_;
};

}  // namespace proxy::protocols::redis

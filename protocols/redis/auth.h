// The redis_auth password check shared by the session (which answers AUTH) and the request
// decoder (which applies redis's limits to unauthenticated clients until AUTH succeeds).
#pragma once

#include <cstddef>

#include "absl/strings/string_view.h"
#include "api/codec.h"

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

}  // namespace proxy::protocols::redis

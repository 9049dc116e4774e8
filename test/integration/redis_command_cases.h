// The redis command matrix: one case per command class the proxy serves (strings, hashes,
// lists, sets, sorted sets, geo, hyperloglog, streams, bitmaps, keyspace commands, splits,
// colocated multi-key commands, scripts, local and placeholder-routed commands), in the order
// they are sent. Run through the proxy and on a reference redis by
// test/integration/redis_commands_test.cc (RESP2) and test/resp3/resp3_commands_test.cc (RESP3,
// byte for byte against a direct HELLO 3 connection).
#pragma once

#include <string>
#include <vector>

namespace proxy::test {

struct Case {
  std::vector<std::string> args;
  bool read_only = false;  // also run directly on the owner of args[key_at]; same reply
  int key_at = 1;          // the key checked for placement at the end; 0 = none
};

// Every case, in order (later cases read what earlier ones wrote).
std::vector<Case> CommandCases();

}  // namespace proxy::test

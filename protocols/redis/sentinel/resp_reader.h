// A small, bounded RESP2 reader for the replies of Redis Sentinel (the discovery plugin's only
// peer). Sentinel replies are short (addresses, a few dozen fields per replica), so every size is
// capped far below what a real sentinel sends; anything outside RESP2 or over a limit is
// malformed, and the caller closes that connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace proxy::protocols::redis::sentinel {

struct RespValue {
  enum class Type { kSimple, kError, kInteger, kBulk, kNull, kArray };
  Type type = Type::kNull;
  std::string text;  // kSimple, kError, kBulk
  int64_t integer = 0;
  std::vector<RespValue> elements;  // kArray

  bool is_array() const { return type == Type::kArray; }
  bool is_error() const { return type == Type::kError; }
  bool is_null() const { return type == Type::kNull; }
  // kSimple or kBulk.
  bool is_string() const { return type == Type::kSimple || type == Type::kBulk; }
};

// The bounds. A limit exceeded is a malformed reply, never a partial one.
struct RespLimits {
  size_t max_line = 4096;              // a +/-/:/$/* line without its CRLF
  size_t max_bulk = 64 * 1024;         // one bulk string
  size_t max_elements = 16 * 1024;     // elements of one array
  size_t max_depth = 4;                // nested arrays (SENTINEL replicas: 2)
  size_t max_reply = 4 * 1024 * 1024;  // bytes of one whole reply
};

enum class RespParse { kComplete, kIncomplete, kMalformed };

// Parses the first reply in `data`. kComplete: `*out` is set and `*consumed` is its length.
// kMalformed: `*error` says why (printable text only).
RespParse ParseResp(absl::string_view data, const RespLimits& limits, RespValue* out,
                    size_t* consumed, std::string* error);

// RESP encoding of a command (an array of bulk strings).
std::string EncodeCommand(const std::vector<std::string>& args);

// Printable rendering of bytes for messages (control bytes as \xNN, at most `max` bytes).
std::string Printable(absl::string_view bytes, size_t max = 80);

}  // namespace proxy::protocols::redis::sentinel

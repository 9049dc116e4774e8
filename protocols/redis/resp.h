// Small RESP helpers shared by the redis decoders and codec: byte rendering for error texts,
// redis-strict integer parsing and RESP encoding of arrays and bulk strings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace proxy::protocols::redis {

// Renders one byte for an error message: printable ASCII as itself, CR/LF/TAB as \r \n \t and
// anything else as \xNN, so that an error text never contains control characters.
inline std::string PrintableByte(char c) {
  switch (c) {
    case '\r':
      return "\\r";
    case '\n':
      return "\\n";
    case '\t':
      return "\\t";
    default:
      break;
  }
  const unsigned char u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) {
    return std::string(1, c);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string{'\\', 'x', kHex[u >> 4], kHex[u & 0xf]};
}

// Parses a base-10 integer exactly as redis's string2ll does: an optional '-', then digits
// without leading zeros ("0" itself is fine), no '+', no spaces, no overflow.
inline bool ParseStrictInt64(absl::string_view text, int64_t* value) {
  if (text.empty() || text.size() > 20) {
    return false;
  }
  size_t i = 0;
  const bool negative = text[0] == '-';
  if (negative) {
    i = 1;
  }
  if (i == text.size()) {
    return false;
  }
  if (text[i] == '0') {
    if (text.size() != i + 1 || negative) {
      return false;
    }
    *value = 0;
    return true;
  }
  uint64_t magnitude = 0;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') {
      return false;
    }
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (magnitude > (UINT64_MAX - digit) / 10) {
      return false;
    }
    magnitude = magnitude * 10 + digit;
  }
  if (negative) {
    if (magnitude > static_cast<uint64_t>(INT64_MAX) + 1) {
      return false;
    }
    *value = magnitude == static_cast<uint64_t>(INT64_MAX) + 1 ? INT64_MIN
                                                               : -static_cast<int64_t>(magnitude);
    return true;
  }
  if (magnitude > static_cast<uint64_t>(INT64_MAX)) {
    return false;
  }
  *value = static_cast<int64_t>(magnitude);
  return true;
}

// Appends "*<count>\r\n".
inline void AppendArrayHeader(size_t count, std::string* out) {
  absl::StrAppend(out, "*", count, "\r\n");
}

// Appends "$<size>\r\n<bytes>\r\n".
inline void AppendBulk(absl::string_view bytes, std::string* out) {
  absl::StrAppend(out, "$", bytes.size(), "\r\n");
  out->append(bytes.data(), bytes.size());
  out->append("\r\n");
}

}  // namespace proxy::protocols::redis

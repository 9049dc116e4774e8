// Small RESP helpers shared by the redis decoders and codec: byte rendering for error texts,
// redis-strict integer parsing and RESP encoding of arrays and bulk strings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
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

// The size of "<type><number>\r\n".
inline size_t HeaderSize(size_t number) {
  size_t digits = 1;
  while (number >= 10) {
    number /= 10;
    ++digits;
  }
  return digits + 3;
}

// Writes "<type><number>\r\n" at `at` (HeaderSize(number) bytes); returns the end.
inline char* WriteHeader(char type, size_t number, char* at) {
  char* const end = at + HeaderSize(number);
  char* digit = end - 2;
  digit[0] = '\r';
  digit[1] = '\n';
  do {
    *--digit = static_cast<char>('0' + number % 10);
    number /= 10;
  } while (number != 0);
  *at = type;
  return end;
}

// Writes "$<size>\r\n<bytes>\r\n" at `at` (BulkSize(bytes.size()) bytes); returns the end.
inline size_t BulkSize(size_t size) { return HeaderSize(size) + size + 2; }
inline char* WriteBulk(absl::string_view bytes, char* at) {
  at = WriteHeader('$', bytes.size(), at);
  if (!bytes.empty()) std::memcpy(at, bytes.data(), bytes.size());
  at += bytes.size();
  at[0] = '\r';
  at[1] = '\n';
  return at + 2;
}

// Appends "<type><number>\r\n" (an array or bulk header) with one append: split requests
// write one per key, and absl::StrAppend's general formatting was a visible share of a 10-key
// MGET's CPU (issue 15).
inline void AppendHeader(char type, size_t number, std::string* out) {
  char text[24];  // type, up to 20 digits, CR LF
  out->append(text, static_cast<size_t>(WriteHeader(type, number, text) - text));
}

// Appends "*<count>\r\n".
inline void AppendArrayHeader(size_t count, std::string* out) { AppendHeader('*', count, out); }

// Appends "$<size>\r\n<bytes>\r\n".
inline void AppendBulk(absl::string_view bytes, std::string* out) {
  AppendHeader('$', bytes.size(), out);
  out->append(bytes.data(), bytes.size());
  out->append("\r\n", 2);
}

}  // namespace proxy::protocols::redis

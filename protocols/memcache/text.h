// Small helpers shared by the memcache decoders and codec: memcached's tokenizer, its numeric
// checks (strtol/strtoull as memcached's safe_strto* use them), key validation and rendering of
// untrusted bytes for error texts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace proxy::protocols::memcache {

// memcached's KEY_MAX_LENGTH.
inline constexpr size_t kMaxKeySize = 250;

// Splits `line` at spaces (only ' ', as memcached's tokenize_command; runs of spaces count as
// one and leading/trailing spaces are ignored). `tokens` is cleared first; views into `line`.
inline void Tokenize(absl::string_view line, std::vector<absl::string_view>* tokens) {
  tokens->clear();
  size_t i = 0;
  const size_t n = line.size();
  while (i < n) {
    while (i < n && line[i] == ' ') {
      ++i;
    }
    if (i == n) {
      break;
    }
    const size_t start = i;
    while (i < n && line[i] != ' ') {
      ++i;
    }
    tokens->push_back(line.substr(start, i - start));
  }
}

// A control byte as memcached's C-string parser could treat it differently from the proxy:
// 0x00 ends memcached's line early (its tokenizer runs on a C string), CR/LF/TAB/VT/FF end
// strtol's numbers, and none of them belongs in a command line.
inline bool IsControlByte(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// Tokenize(), also reporting whether the line holds a control byte (one pass over the line).
inline bool TokenizeChecked(absl::string_view line, std::vector<absl::string_view>* tokens) {
  tokens->clear();
  bool control = false;
  size_t i = 0;
  const size_t n = line.size();
  const char* p = line.data();
  while (i < n) {
    while (i < n && p[i] == ' ') {
      ++i;
    }
    if (i == n) {
      break;
    }
    const size_t start = i;
    while (i < n && p[i] != ' ') {
      control |= IsControlByte(p[i]);
      ++i;
    }
    tokens->push_back(line.substr(start, i - start));
  }
  return control;
}

// The base64 form memcached's base64_decode() accepts for a `b` (binary) key, restricted to the
// canonical one: groups of 4 characters of A-Z a-z 0-9 + /, '=' padding only at the very end,
// at least one decoded byte.
inline bool IsBase64Key(absl::string_view token) {
  const size_t n = token.size();
  if (n < 4 || n % 4 != 0) {
    return false;
  }
  auto alphabet = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
  };
  for (size_t i = 0; i + 2 < n; ++i) {
    if (!alphabet(token[i])) {
      return false;
    }
  }
  const char a = token[n - 2];
  const char b = token[n - 1];
  return (alphabet(a) && (alphabet(b) || b == '=')) || (a == '=' && b == '=');
}

// A key memcached's protocol allows: 1..max_size bytes, no control characters (0x00-0x1f,
// 0x7f) and no spaces. Bytes >= 0x80 (UTF-8) are allowed.
inline bool IsValidKey(absl::string_view key, size_t max_size) {
  if (key.empty() || key.size() > max_size) {
    return false;
  }
  for (const char c : key) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return false;
    }
  }
  return true;
}

// Digits of an unsigned decimal number (no sign); false on overflow or any other byte.
inline bool ParseDigits(absl::string_view text, uint64_t* value) {
  if (text.empty()) {
    return false;
  }
  uint64_t v = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) {
      return false;
    }
    v = v * 10 + digit;
  }
  *value = v;
  return true;
}

// memcached's safe_strtoull on a token: an optional '+', then digits; leading zeros are fine;
// no '-', no overflow.
inline bool ParseUnsigned(absl::string_view text, uint64_t* value) {
  if (!text.empty() && text[0] == '+') {
    text.remove_prefix(1);
  }
  return ParseDigits(text, value);
}

// memcached's safe_strtol on a token (64-bit long): an optional sign, then digits.
inline bool ParseSigned(absl::string_view text, int64_t* value) {
  bool negative = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  uint64_t magnitude = 0;
  if (!ParseDigits(text, &magnitude)) {
    return false;
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

// A data block length as memcached accepts it (safe_strtol, then 0 <= n <= INT_MAX - 2).
inline bool ParseDataLength(absl::string_view text, uint64_t* value) {
  int64_t n = 0;
  if (!ParseSigned(text, &n) || n < 0 || n > INT32_MAX - 2) {
    return false;
  }
  *value = static_cast<uint64_t>(n);
  return true;
}

// Renders untrusted bytes for an error text: printable ASCII as itself, anything else as \xNN,
// at most `max` input bytes (then "...").
inline std::string Printable(absl::string_view bytes, size_t max = 64) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  const size_t n = bytes.size() < max ? bytes.size() : max;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char u = static_cast<unsigned char>(bytes[i]);
    if (u >= 0x20 && u < 0x7f) {
      out.push_back(static_cast<char>(u));
    } else {
      out += {'\\', 'x', kHex[u >> 4], kHex[u & 0xf]};
    }
  }
  if (n < bytes.size()) {
    out += "...";
  }
  return out;
}

}  // namespace proxy::protocols::memcache

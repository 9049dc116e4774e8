// Builders of memcache binary requests and responses for the tests (big-endian header, then
// extras, key, value).
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace proxy::protocols::memcache::test {

inline void PutBE(uint64_t value, int bytes, std::string* out) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

struct Msg {
  uint8_t magic = 0x80;
  uint8_t opcode = 0;
  std::string key;
  std::string extras;
  std::string value;
  uint32_t opaque = 0;
  uint64_t cas = 0;
  uint16_t status = 0;  // vbucket in a request
  uint8_t data_type = 0;
  // Overrides of the lengths (for malformed headers); -1 = computed.
  int64_t key_length = -1;
  int64_t extras_length = -1;
  int64_t body_length = -1;
};

inline std::string Encode(const Msg& m) {
  std::string out;
  out.push_back(static_cast<char>(m.magic));
  out.push_back(static_cast<char>(m.opcode));
  PutBE(m.key_length >= 0 ? static_cast<uint64_t>(m.key_length) : m.key.size(), 2, &out);
  PutBE(m.extras_length >= 0 ? static_cast<uint64_t>(m.extras_length) : m.extras.size(), 1,
        &out);
  out.push_back(static_cast<char>(m.data_type));
  PutBE(m.status, 2, &out);
  PutBE(m.body_length >= 0 ? static_cast<uint64_t>(m.body_length)
                           : m.extras.size() + m.key.size() + m.value.size(),
        4, &out);
  PutBE(m.opaque, 4, &out);
  PutBE(m.cas, 8, &out);
  out += m.extras;
  out += m.key;
  out += m.value;
  return out;
}

inline std::string Extras32(uint32_t a) {
  std::string s;
  PutBE(a, 4, &s);
  return s;
}
inline std::string Extras32x2(uint32_t a, uint32_t b) { return Extras32(a) + Extras32(b); }
inline std::string IncrExtras(uint64_t delta, uint64_t initial, uint32_t expiration) {
  std::string s;
  PutBE(delta, 8, &s);
  PutBE(initial, 8, &s);
  PutBE(expiration, 4, &s);
  return s;
}

// Requests.
inline std::string Get(uint8_t opcode, absl::string_view key, uint32_t opaque) {
  Msg m;
  m.opcode = opcode;
  m.key = std::string(key);
  m.opaque = opaque;
  if (opcode == 0x1d || opcode == 0x1e || opcode == 0x23 || opcode == 0x24 || opcode == 0x1c) {
    m.extras = Extras32(100);
  }
  return Encode(m);
}
inline std::string Set(absl::string_view key, absl::string_view value, uint32_t opaque,
                       uint32_t flags = 0, uint8_t opcode = 0x01, uint64_t cas = 0) {
  Msg m;
  m.opcode = opcode;
  m.key = std::string(key);
  m.value = std::string(value);
  m.opaque = opaque;
  m.cas = cas;
  m.extras = Extras32x2(flags, 0);
  return Encode(m);
}
inline std::string Simple(uint8_t opcode, uint32_t opaque) {
  Msg m;
  m.opcode = opcode;
  m.opaque = opaque;
  return Encode(m);
}
inline std::string Noop(uint32_t opaque) { return Simple(0x0a, opaque); }

// Responses.
inline std::string Hit(uint8_t opcode, absl::string_view key, absl::string_view value,
                       uint32_t opaque, uint32_t flags = 0, uint64_t cas = 1) {
  Msg m;
  m.magic = 0x81;
  m.opcode = opcode;
  m.key = std::string(key);
  m.value = std::string(value);
  m.opaque = opaque;
  m.cas = cas;
  m.extras = Extras32(flags);
  return Encode(m);
}
inline std::string Response(uint8_t opcode, uint16_t status, absl::string_view value,
                            uint32_t opaque) {
  Msg m;
  m.magic = 0x81;
  m.opcode = opcode;
  m.status = status;
  m.value = std::string(value);
  m.opaque = opaque;
  return Encode(m);
}

}  // namespace proxy::protocols::memcache::test

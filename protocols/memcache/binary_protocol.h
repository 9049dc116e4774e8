// The memcache binary protocol's wire format (memcached 1.6's protocol_binary.h, the parts the
// proxy needs): the 24-byte header, the opcodes and status codes, and how memcached 1.6.18
// checks each request's lengths before it reads the body (proto_bin.c dispatch_bin_command).
// Shared by the binary request/reply decoders and the binary codec.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace proxy::protocols::memcache::binary {

inline constexpr uint8_t kRequestMagic = 0x80;
inline constexpr uint8_t kResponseMagic = 0x81;
inline constexpr size_t kHeaderSize = 24;

// Opcodes (memcached's PROTOCOL_BINARY_CMD_*).
enum Opcode : uint8_t {
  kGet = 0x00,
  kSet = 0x01,
  kAdd = 0x02,
  kReplace = 0x03,
  kDelete = 0x04,
  kIncrement = 0x05,
  kDecrement = 0x06,
  kQuit = 0x07,
  kFlush = 0x08,
  kGetQ = 0x09,
  kNoop = 0x0a,
  kVersion = 0x0b,
  kGetK = 0x0c,
  kGetKQ = 0x0d,
  kAppend = 0x0e,
  kPrepend = 0x0f,
  kStat = 0x10,
  kSetQ = 0x11,
  kAddQ = 0x12,
  kReplaceQ = 0x13,
  kDeleteQ = 0x14,
  kIncrementQ = 0x15,
  kDecrementQ = 0x16,
  kQuitQ = 0x17,
  kFlushQ = 0x18,
  kAppendQ = 0x19,
  kPrependQ = 0x1a,
  kVerbosity = 0x1b,
  kTouch = 0x1c,
  kGat = 0x1d,
  kGatQ = 0x1e,
  kGatK = 0x23,
  kGatKQ = 0x24,
  kSaslListMechs = 0x20,
  kSaslAuth = 0x21,
  kSaslStep = 0x22,
};

// Response status codes (memcached's PROTOCOL_BINARY_RESPONSE_*).
enum Status : uint16_t {
  kSuccess = 0x0000,
  kKeyNotFound = 0x0001,
  kKeyExists = 0x0002,
  kTooLarge = 0x0003,
  kInvalidArguments = 0x0004,
  kNotStored = 0x0005,
  kNonNumeric = 0x0006,
  kUnknownCommand = 0x0081,
  kOutOfMemory = 0x0082,
  kNotSupported = 0x0083,
  kInternalError = 0x0084,
};

// A decoded 24-byte header (requests and responses share the layout; `status` is the request's
// vbucket id in a request).
struct Header {
  uint8_t magic = 0;
  uint8_t opcode = 0;
  uint16_t key_length = 0;
  uint8_t extras_length = 0;
  uint8_t data_type = 0;
  uint16_t status = 0;
  uint32_t body_length = 0;
  uint32_t opaque = 0;  // echoed unchanged, never interpreted
  uint64_t cas = 0;
};

inline uint16_t Load16(const unsigned char* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t Load32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | static_cast<uint32_t>(p[3]);
}

// `bytes` holds at least kHeaderSize bytes.
inline Header ParseHeader(const char* bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes);
  Header h;
  h.magic = p[0];
  h.opcode = p[1];
  h.key_length = Load16(p + 2);
  h.extras_length = p[4];
  h.data_type = p[5];
  h.status = Load16(p + 6);
  h.body_length = Load32(p + 8);
  h.opaque = Load32(p + 12);
  h.cas = static_cast<uint64_t>(Load32(p + 16)) << 32 | Load32(p + 20);
  return h;
}

inline void Put16(uint16_t v, std::string* out) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xff));
}
inline void Put32(uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

// Appends a header; the lengths are the caller's (body_length = extras + key + value).
inline void AppendHeader(const Header& h, std::string* out) {
  out->push_back(static_cast<char>(h.magic));
  out->push_back(static_cast<char>(h.opcode));
  Put16(h.key_length, out);
  out->push_back(static_cast<char>(h.extras_length));
  out->push_back(static_cast<char>(h.data_type));
  Put16(h.status, out);
  Put32(h.body_length, out);
  Put32(h.opaque, out);
  Put32(static_cast<uint32_t>(h.cas >> 32), out);
  Put32(static_cast<uint32_t>(h.cas & 0xffffffffu), out);
}

// Appends a whole response: header (extras 0, key 0, cas 0) and `value`.
inline void AppendResponse(uint8_t opcode, uint16_t status, uint32_t opaque,
                           absl::string_view value, std::string* out) {
  Header h;
  h.magic = kResponseMagic;
  h.opcode = opcode;
  h.status = status;
  h.body_length = static_cast<uint32_t>(value.size());
  h.opaque = opaque;
  AppendHeader(h, out);
  out->append(value.data(), value.size());
}

// The quiet retrievals whose hits make up a multi-get batch (getq, getkq, gatq, gatkq).
inline bool IsQuietGet(uint8_t opcode) {
  return opcode == kGetQ || opcode == kGetKQ || opcode == kGatQ || opcode == kGatKQ;
}

// How the proxy treats an opcode.
enum class Treatment : uint8_t {
  kUnknown,    // not a memcached opcode (memcached: "Unknown command", body swallowed)
  kForward,    // a keyed request with exactly one response
  kQuietGet,   // part of a quiet multi-get batch
  kLocal,      // noop, version, quit, quitq: answered by the session
  kRefused,    // valid for memcached, never forwarded (admin, auth, quiet mutations)
};

// One opcode's static description.
struct OpcodeSpec {
  absl::string_view name;  // the ASCII command name where one exists ("get", "incr", "gat")
  Treatment treatment = Treatment::kUnknown;
  bool is_write = false;
  // memcached 1.6.18's length rule (kForward/kQuietGet/kLocal only): the extras length it
  // requires, and whether the body must be exactly extras + key (no value).
  uint8_t extras = 0;
  bool value_allowed = false;
  bool key_required = false;
};

// The spec of an opcode; treatment kUnknown for opcodes memcached does not know.
const OpcodeSpec& SpecOf(uint8_t opcode);

// The ASCII name used for refusal reasons and per-command stats of the refused opcodes
// (flush → "flush_all", stat → "stats").
absl::string_view RefusalReason(uint8_t opcode);

}  // namespace proxy::protocols::memcache::binary

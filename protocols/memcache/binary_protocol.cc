// The binary opcode table (memcached 1.6.18's proto_bin.c dispatch_bin_command).
#include "protocols/memcache/binary_protocol.h"

#include <array>

namespace proxy::protocols::memcache::binary {
namespace {

struct Table {
  std::array<OpcodeSpec, 256> specs;

  void Forward(uint8_t op, absl::string_view name, bool is_write, uint8_t extras, bool value) {
    specs[op] = OpcodeSpec{name, Treatment::kForward, is_write, extras, value, true};
  }
  void Quiet(uint8_t op, absl::string_view name, uint8_t extras) {
    specs[op] = OpcodeSpec{name, Treatment::kQuietGet, false, extras, false, true};
  }
  void Local(uint8_t op, absl::string_view name) {
    specs[op] = OpcodeSpec{name, Treatment::kLocal, false, 0, false, false};
  }
  void Refused(uint8_t op, absl::string_view name, bool is_write) {
    specs[op] = OpcodeSpec{name, Treatment::kRefused, is_write, 0, false, false};
  }

  Table() {
    // Retrievals: extras 0 (gat*: 4, the expiration), body = extras + key.
    Forward(kGet, "get", false, 0, false);
    Forward(kGetK, "getk", false, 0, false);
    Forward(kGat, "gat", false, 4, false);
    Forward(kGatK, "gatk", false, 4, false);
    Quiet(kGetQ, "getq", 0);
    Quiet(kGetKQ, "getkq", 0);
    Quiet(kGatQ, "gatq", 4);
    Quiet(kGatKQ, "gatkq", 4);
    // Storage: extras flags + expiration (append/prepend: none), then the value.
    Forward(kSet, "set", true, 8, true);
    Forward(kAdd, "add", true, 8, true);
    Forward(kReplace, "replace", true, 8, true);
    Forward(kAppend, "append", true, 0, true);
    Forward(kPrepend, "prepend", true, 0, true);
    // Other keyed commands.
    Forward(kDelete, "delete", true, 0, false);
    Forward(kIncrement, "incr", true, 20, false);  // delta, initial, expiration
    Forward(kDecrement, "decr", true, 20, false);
    Forward(kTouch, "touch", true, 4, false);
    // Answered by the proxy.
    Local(kNoop, "noop");
    Local(kVersion, "version");
    Local(kQuit, "quit");
    Local(kQuitQ, "quitq");
    // Known to memcached, never forwarded.
    Refused(kFlush, "flush", true);
    Refused(kFlushQ, "flushq", true);
    Refused(kStat, "stat", false);
    Refused(kVerbosity, "verbosity", false);
    Refused(kSaslListMechs, "sasl_list_mechs", false);
    Refused(kSaslAuth, "sasl_auth", false);
    Refused(kSaslStep, "sasl_step", false);
    Refused(kSetQ, "setq", true);
    Refused(kAddQ, "addq", true);
    Refused(kReplaceQ, "replaceq", true);
    Refused(kAppendQ, "appendq", true);
    Refused(kPrependQ, "prependq", true);
    Refused(kDeleteQ, "deleteq", true);
    Refused(kIncrementQ, "incrq", true);
    Refused(kDecrementQ, "decrq", true);
  }
};

const Table& TheTable() {
  static const Table* table = new Table();
  return *table;
}

}  // namespace

const OpcodeSpec& SpecOf(uint8_t opcode) { return TheTable().specs[opcode]; }

absl::string_view RefusalReason(uint8_t opcode) {
  switch (opcode) {
    case kFlush:
    case kFlushQ:
      return "keys are spread over several servers; run it on each server directly";
    case kStat:
    case kVerbosity:
      return "it addresses one server, not the pool; run it on each server directly";
    case kSaslListMechs:
    case kSaslAuth:
    case kSaslStep:
      return "the proxy does not authenticate memcache clients (its server connections are "
             "shared)";
    case kSetQ:
    case kAddQ:
    case kReplaceQ:
    case kAppendQ:
    case kPrependQ:
    case kDeleteQ:
    case kIncrementQ:
    case kDecrementQ:
      return "quiet mutations are not supported by the proxy (it could not know whether a "
             "response comes); use the non-quiet opcode";
    default:
      return "it is not proxied";
  }
}

}  // namespace proxy::protocols::memcache::binary

// Adapts a plain `uint32_t Fn(absl::string_view)` hash to the HashFunction plugin interface.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/strings/string_view.h"
#include "api/hash.h"

namespace proxy::hashes {

// A stateless HashFunction calling `kFn` directly (the call inlines in the plugin's .cc).
template <uint32_t (*kFn)(absl::string_view)>
class FunctionHash final : public HashFunction {
 public:
  uint32_t Hash(absl::string_view key) const override { return kFn(key); }
};

// Factory for FunctionHash<kFn>. Each plugin derives a default-constructible class from it that
// passes its YAML name and description, then registers that class with PROXY_REGISTER_FACTORY.
template <uint32_t (*kFn)(absl::string_view)>
class FunctionHashFactory : public HashFunctionFactory {
 public:
  // Both strings must outlive the factory (string literals in practice).
  FunctionHashFactory(absl::string_view name, absl::string_view description)
      : name_(name), description_(description) {}

  absl::string_view Name() const override { return name_; }
  absl::string_view Description() const override { return description_; }
  HashFunctionPtr Create() const override { return std::make_unique<FunctionHash<kFn>>(); }

 private:
  absl::string_view name_;
  absl::string_view description_;
};

// twemproxy reads key bytes through plain `char`, signed on x86-64: bytes >= 0x80 become
// 0xFFFFFF80.. before being mixed in. These reproduce that sign extension.
inline uint32_t SignExtend32(char byte) {
  return static_cast<uint32_t>(static_cast<int32_t>(static_cast<signed char>(byte)));
}
inline uint64_t SignExtend64(char byte) {
  return static_cast<uint64_t>(static_cast<int64_t>(static_cast<signed char>(byte)));
}

// Little-endian loads from unsigned bytes (alignment-free).
inline uint32_t LoadLe16(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8);
}
inline uint32_t LoadLe32(const uint8_t* p) { return LoadLe16(p) | (LoadLe16(p + 2) << 16); }

}  // namespace proxy::hashes

// Hash function plugin interface: twemproxy's hashkit functions, one plugin per algorithm.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/strings/string_view.h"

namespace proxy {

// A key hash. Implementations are stateless and thread-safe; results are bit-exact with
// twemproxy 0.5.0 on x86-64 (including its sign-extension of bytes >= 0x80 where it has it).
class HashFunction {
 public:
  virtual ~HashFunction() = default;
  // The raw function output. The router, not the function, maps an empty key to 0.
  virtual uint32_t Hash(absl::string_view key) const = 0;
};
using HashFunctionPtr = std::unique_ptr<HashFunction>;

// Registered under the exact `hash:` YAML value ("fnv1a_64").
class HashFunctionFactory {
 public:
  static constexpr absl::string_view kCategory = "hash";
  virtual ~HashFunctionFactory() = default;
  virtual absl::string_view Name() const = 0;
  virtual absl::string_view Description() const = 0;
  virtual HashFunctionPtr Create() const = 0;
};

}  // namespace proxy

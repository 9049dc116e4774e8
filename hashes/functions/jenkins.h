// The jenkins hash: Bob Jenkins' lookup3 hashlittle with initial value 13.
#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace proxy::hashes {

// Bit-exact with twemproxy 0.5.0 on x86-64; allocation-free and thread-safe.
uint32_t JenkinsHash(absl::string_view key);

}  // namespace proxy::hashes

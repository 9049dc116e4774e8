// The md5 hash: the first four bytes of the key's MD5 digest, read little-endian.
#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace proxy::hashes {

// Bit-exact with twemproxy 0.5.0 on x86-64; allocation-free and thread-safe.
uint32_t Md5Hash(absl::string_view key);

}  // namespace proxy::hashes

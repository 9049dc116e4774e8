// MD5 message digest (RFC 1321), used by the md5 hash function and by ketama's ring points.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace proxy::hashes {

inline constexpr size_t kMd5DigestSize = 16;

// Writes the 16-byte MD5 digest of `in` to `out`. Allocation-free and thread-safe.
void Md5(absl::string_view in, uint8_t out[kMd5DigestSize]);

}  // namespace proxy::hashes

// Fuzz entry for the six decoders (redis, memcache ASCII and memcache binary; requests and
// replies): the same function is
// driven by libFuzzer (tools/fuzz.sh) and by a deterministic gtest in CI.
#pragma once

#include <cstddef>
#include <cstdint>

namespace proxy::test {

// data[0] picks the slice size (0..7); the rest is fed one byte at a time to every decoder.
// Traps when a decoder breaks its contract (a message larger than the buffer, or empty).
void FuzzDecoders(const uint8_t* data, size_t size);

}  // namespace proxy::test

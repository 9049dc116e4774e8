// libFuzzer entry point (built by tools/fuzz.sh with clang -fsanitize=fuzzer).
#include "test/protocols/fuzz/decoder_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  proxy::test::FuzzDecoders(data, size);
  return 0;
}

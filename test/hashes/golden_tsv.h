// Test-only reader for the golden vector files in test/golden (tab separated, one header line).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace proxy::test {

// One data row: the fields exactly as written (split on TAB only, nothing trimmed).
using TsvRow = std::vector<std::string>;

// Reads test/golden/<file_name> from the test's runfiles (TEST_SRCDIR/TEST_WORKSPACE). Checks
// that the header equals `expected_header` and that every row has as many fields; returns the
// data rows. kNotFound when the file or the runfiles environment is missing, kDataLoss for a
// malformed file. Never an empty success for a missing file: callers must not skip.
[[nodiscard]] absl::StatusOr<std::vector<TsvRow>> ReadGoldenTsv(
    absl::string_view file_name, const std::vector<std::string>& expected_header);

// "68c3a9" -> the bytes 0x68 0xc3 0xa9. kInvalidArgument for odd lengths or non-hex digits.
[[nodiscard]] absl::StatusOr<std::string> DecodeHex(absl::string_view hex);

}  // namespace proxy::test

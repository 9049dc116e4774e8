// Test-only reader for the golden vector files in test/golden (tab separated, one header line).
#include "test/hashes/golden_tsv.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace proxy::test {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace

absl::StatusOr<std::vector<TsvRow>> ReadGoldenTsv(absl::string_view file_name,
                                                  const std::vector<std::string>& expected_header) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) {
    return absl::NotFoundError("TEST_SRCDIR/TEST_WORKSPACE not set: run this test with bazel");
  }
  const std::string path = absl::StrCat(srcdir, "/", workspace, "/test/golden/", file_name);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot open golden file ", path));
  }
  std::stringstream contents;
  contents << in.rdbuf();

  std::vector<std::string> lines = absl::StrSplit(contents.str(), '\n');
  if (!lines.empty() && lines.back().empty()) {
    lines.pop_back();  // the final LF
  }
  if (lines.empty()) {
    return absl::DataLossError(absl::StrCat(path, ": empty file"));
  }
  std::vector<std::string> header = absl::StrSplit(lines[0], '\t');
  if (header != expected_header) {
    return absl::DataLossError(absl::StrCat(path, ": unexpected header '", lines[0], "', want '",
                                            absl::StrJoin(expected_header, "\t"), "'"));
  }
  std::vector<TsvRow> rows;
  rows.reserve(lines.size() - 1);
  for (size_t i = 1; i < lines.size(); ++i) {
    TsvRow row = absl::StrSplit(lines[i], '\t');
    if (row.size() != header.size()) {
      return absl::DataLossError(
          absl::StrCat(path, ":", i + 1, ": ", row.size(), " fields, want ", header.size()));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

absl::StatusOr<std::string> DecodeHex(absl::string_view hex) {
  if (hex.size() % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat("odd-length hex string '", hex, "'"));
  }
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int high = HexDigit(hex[i]);
    const int low = HexDigit(hex[i + 1]);
    if (high < 0 || low < 0) {
      return absl::InvalidArgumentError(absl::StrCat("bad hex string '", hex, "'"));
    }
    bytes.push_back(static_cast<char>(high * 16 + low));
  }
  return bytes;
}

}  // namespace proxy::test

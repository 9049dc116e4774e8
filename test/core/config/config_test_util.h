// Helpers shared by the config loader tests: load inline YAML and find diagnostics by position,
// pool, key and message substring.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "api/config/v1/bootstrap.pb.h"
#include "core/config/config.h"
#include "gtest/gtest.h"

namespace proxy::test {

// The file name the helpers load YAML text as.
inline constexpr char kTestFile[] = "test.yml";

// LoadConfigText(yaml, kTestFile).
config::LoadResult Load(const std::string& yaml);

// Every diagnostic, one ToString() per line (for failure messages).
std::string Describe(const std::vector<config::Diagnostic>& diagnostics);
std::string Describe(const config::LoadResult& result);

// Success when `result` has an error at line:col about `pool` and `key` whose message contains
// `substring`, and DiagnosticsToStatus(errors) is kInvalidArgument carrying its full text.
testing::AssertionResult HasError(const config::LoadResult& result, int line, int column,
                                  absl::string_view pool, absl::string_view key,
                                  absl::string_view substring);

// The same for warnings.
testing::AssertionResult HasWarning(const config::LoadResult& result, int line, int column,
                                    absl::string_view pool, absl::string_view key,
                                    absl::string_view substring);

// Success when there are no errors and no warnings.
testing::AssertionResult LoadsCleanly(const config::LoadResult& result);

// Like LoadsCleanly, but the warnings CheckFilterChain gives about a `filters:` chain (no router,
// no reject_unsupported, ...) are allowed: for tests of chains that are not meant to serve.
testing::AssertionResult LoadsCleanlyButForChainWarnings(const config::LoadResult& result);

// The pool named `name`, or nullptr.
const config::v1::Pool* FindPool(const config::LoadResult& result, absl::string_view name);

}  // namespace proxy::test

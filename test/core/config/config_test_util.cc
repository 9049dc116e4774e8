// Implementation of the config loader test helpers.
#include "test/core/config/config_test_util.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/config/diagnostics.h"

namespace proxy::test {
namespace {

testing::AssertionResult HasDiagnostic(const std::vector<config::Diagnostic>& diagnostics,
                                       const config::LoadResult& result, absl::string_view what,
                                       int line, int column, absl::string_view pool,
                                       absl::string_view key, absl::string_view substring) {
  for (const config::Diagnostic& d : diagnostics) {
    if (d.file == kTestFile && d.pos.line == line && d.pos.column == column && d.pool == pool &&
        d.key == key && absl::StrContains(d.message, substring)) {
      return testing::AssertionSuccess() << d.ToString();
    }
  }
  return testing::AssertionFailure()
         << "no " << what << " at " << kTestFile << ":" << line << ":" << column << " (pool '"
         << pool << "', key '" << key << "') containing \"" << substring << "\"; got:\n"
         << Describe(result);
}

}  // namespace

config::LoadResult Load(const std::string& yaml) { return config::LoadConfigText(yaml, kTestFile); }

std::string Describe(const std::vector<config::Diagnostic>& diagnostics) {
  std::string out;
  for (const config::Diagnostic& d : diagnostics) absl::StrAppend(&out, "  ", d.ToString(), "\n");
  return out;
}

std::string Describe(const config::LoadResult& result) {
  return absl::StrCat("errors:\n", Describe(result.errors), "warnings:\n",
                      Describe(result.warnings));
}

testing::AssertionResult HasError(const config::LoadResult& result, int line, int column,
                                  absl::string_view pool, absl::string_view key,
                                  absl::string_view substring) {
  testing::AssertionResult found =
      HasDiagnostic(result.errors, result, "error", line, column, pool, key, substring);
  if (!found) {
    return found;
  }
  absl::Status status = config::DiagnosticsToStatus(result.errors);
  if (status.code() != absl::StatusCode::kInvalidArgument) {
    return testing::AssertionFailure() << "status is " << status << ", not kInvalidArgument";
  }
  const std::string line_prefix = absl::StrCat(kTestFile, ":", line, ":", column, ": ");
  if (!absl::StrContains(status.message(), line_prefix)) {
    return testing::AssertionFailure() << "status lacks " << line_prefix << ": " << status;
  }
  return found;
}

testing::AssertionResult HasWarning(const config::LoadResult& result, int line, int column,
                                    absl::string_view pool, absl::string_view key,
                                    absl::string_view substring) {
  return HasDiagnostic(result.warnings, result, "warning", line, column, pool, key, substring);
}

testing::AssertionResult LoadsCleanly(const config::LoadResult& result) {
  if (result.ok() && result.warnings.empty() && !result.unreadable) {
    return testing::AssertionSuccess();
  }
  return testing::AssertionFailure() << Describe(result);
}

testing::AssertionResult LoadsCleanlyButForChainWarnings(const config::LoadResult& result) {
  if (!result.ok() || result.unreadable) return testing::AssertionFailure() << Describe(result);
  for (const config::Diagnostic& warning : result.warnings) {
    if (warning.key.rfind("filters", 0) != 0) return testing::AssertionFailure() << Describe(result);
  }
  return testing::AssertionSuccess();
}

const config::v1::Pool* FindPool(const config::LoadResult& result, absl::string_view name) {
  for (const config::v1::Pool& pool : result.bootstrap.pools()) {
    if (pool.name() == name) {
      return &pool;
    }
  }
  return nullptr;
}

}  // namespace proxy::test

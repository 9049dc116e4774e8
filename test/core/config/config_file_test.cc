// Tests for the file entry point LoadConfigFile (unreadable files, file names in messages) and
// for the diagnostic formatting shared by `proxy --test-conf` and `proxyctl check`.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "api/config/v1/bootstrap.pb.h"
#include "core/config/config.h"
#include "core/config/diagnostics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/core/config/config_test_util.h"

namespace proxy::test {
namespace {

using ::testing::HasSubstr;

// A scratch path under the test's private temporary directory.
std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

TEST(LoadConfigFileTest, MissingFileIsUnreadableWithTheOsReason) {
  const std::string path = TempPath("does-not-exist.yml");
  config::LoadResult result = config::LoadConfigFile(path);
  EXPECT_TRUE(result.unreadable);
  EXPECT_FALSE(result.ok());
  ASSERT_EQ(result.errors.size(), 1u);
  const config::Diagnostic& error = result.errors[0];
  EXPECT_EQ(error.file, path);
  EXPECT_EQ(error.pos.line, 0);
  EXPECT_THAT(error.message, HasSubstr("cannot open configuration: "));
  EXPECT_THAT(error.message, HasSubstr(std::strerror(ENOENT)));
  // No position is printed when there is none.
  EXPECT_EQ(error.ToString(),
            path + ": cannot open configuration: " + std::string(std::strerror(ENOENT)));
  EXPECT_EQ(config::DiagnosticsToStatus(result.errors).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(result.bootstrap.pools_size(), 0);
}

TEST(LoadConfigFileTest, MissingDirectoryIsUnreadable) {
  config::LoadResult result = config::LoadConfigFile(TempPath("no/such/dir/nutcracker.yml"));
  EXPECT_TRUE(result.unreadable);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_THAT(result.errors[0].message, HasSubstr(std::strerror(ENOENT)));
}

TEST(LoadConfigFileTest, LoadsAValidFile) {
  const std::string path = TempPath("valid.yml");
  WriteFile(path, R"EOF(alpha:
  listen: 127.0.0.1:22121
  redis: true
  servers:
   - 127.0.0.1:6379:1
)EOF");
  config::LoadResult result = config::LoadConfigFile(path);
  EXPECT_FALSE(result.unreadable);
  ASSERT_TRUE(result.ok()) << Describe(result.errors);
  EXPECT_TRUE(result.warnings.empty());
  EXPECT_EQ(result.bootstrap.source(), path);
  EXPECT_EQ(result.sources.file, path);
  ASSERT_EQ(result.bootstrap.pools_size(), 1);
  EXPECT_EQ(result.bootstrap.pools(0).protocol(), "redis");
}

TEST(LoadConfigFileTest, ErrorsNameThePath) {
  const std::string path = TempPath("invalid.yml");
  WriteFile(path, R"EOF(alpha:
  listen: 127.0.0.1:22121
  hash: sha1
  servers:
   - 127.0.0.1:6379:1
)EOF");
  config::LoadResult result = config::LoadConfigFile(path);
  EXPECT_FALSE(result.unreadable);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_THAT(result.errors[0].ToString(),
              HasSubstr(path + ":3:9: pool 'alpha': hash: 'sha1' is not a valid hash (valid: "));
}

TEST(LoadConfigFileTest, EmptyFileIsReadableButInvalid) {
  const std::string path = TempPath("empty.yml");
  WriteFile(path, "");
  config::LoadResult result = config::LoadConfigFile(path);
  EXPECT_FALSE(result.unreadable);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_THAT(result.errors[0].ToString(),
              HasSubstr(path + ":1:1: the file must contain exactly one YAML document; found 0"));
}

TEST(LoadConfigFileTest, KeepsBytesAsWritten) {
  // CRLF line endings and a UTF-8 pool name survive the read.
  const std::string path = TempPath("crlf.yml");
  WriteFile(path,
            "caf\xc3\xa9:\r\n  listen: 127.0.0.1:22121\r\n  servers:\r\n"
            "   - 127.0.0.1:6379:1\r\n");
  config::LoadResult result = config::LoadConfigFile(path);
  ASSERT_TRUE(result.ok()) << Describe(result.errors);
  EXPECT_EQ(result.bootstrap.pools(0).name(), "caf\xc3\xa9");
  EXPECT_EQ(result.bootstrap.pools(0).listen().raw(), "127.0.0.1:22121");
}

TEST(LoadConfigTextTest, UsesTheGivenFileNameInMessages) {
  config::LoadResult result = config::LoadConfigText("alpha\n", "conf/nutcracker.yml");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].ToString(),
            "conf/nutcracker.yml:1:1: the top level must be a mapping of pool names to pool "
            "settings, found a scalar");
}

// --- diagnostics ----------------------------------------------------------------------------

TEST(DiagnosticTest, ToStringPrefixesFilePositionPoolAndKey) {
  config::Diagnostic d{"nutcracker.yml", {7, 11}, "alpha", "hash", "'crc99' is not a valid hash"};
  EXPECT_EQ(d.ToString(), "nutcracker.yml:7:11: pool 'alpha': hash: 'crc99' is not a valid hash");
  d.key.clear();
  EXPECT_EQ(d.ToString(), "nutcracker.yml:7:11: pool 'alpha': 'crc99' is not a valid hash");
  d.pool.clear();
  EXPECT_EQ(d.ToString(), "nutcracker.yml:7:11: 'crc99' is not a valid hash");
  d.pos = config::SourcePos{};
  EXPECT_EQ(d.ToString(), "nutcracker.yml: 'crc99' is not a valid hash");
}

TEST(DiagnosticTest, FormatSortsByPositionAndKeepsTies) {
  std::vector<config::Diagnostic> diagnostics = {
      {"f.yml", {9, 1}, "", "", "third"},
      {"f.yml", {2, 5}, "", "", "second"},
      {"f.yml", {2, 3}, "", "", "first"},
      {"f.yml", {9, 1}, "", "", "fourth"},
  };
  EXPECT_EQ(config::FormatDiagnostics(diagnostics),
            "f.yml:2:3: first\nf.yml:2:5: second\nf.yml:9:1: third\nf.yml:9:1: fourth\n");
}

TEST(DiagnosticTest, StatusIsOkWithoutErrorsAndInvalidArgumentWithThem) {
  EXPECT_TRUE(config::DiagnosticsToStatus({}).ok());
  absl::Status status = config::DiagnosticsToStatus({
      {"f.yml", {3, 1}, "p", "k", "b"},
      {"f.yml", {1, 1}, "", "", "a"},
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "f.yml:1:1: a\nf.yml:3:1: pool 'p': k: b");
}

TEST(DiagnosticTest, KeyOrPoolFallsBackToThePoolName) {
  config::PoolSource source;
  source.name = {4, 1};
  source.keys["listen"] = {5, 11};
  EXPECT_EQ(source.KeyOrPool("listen").line, 5);
  EXPECT_EQ(source.KeyOrPool("listen").column, 11);
  EXPECT_EQ(source.KeyOrPool("hash").line, 4);
  EXPECT_EQ(source.KeyOrPool("hash").column, 1);
}

}  // namespace
}  // namespace proxy::test

// `max_server_connections:` (issue 15; docs/configuration.md): loaded as a number like the other
// numeric keys (default 0 = no cap, garbage and signs rejected at file:line:col, twemproxy's
// wrap warned about), a twemproxy config without it unchanged, and a change of it reported by
// the diff a reload logs (without moving a key).
#include <string>

#include "absl/strings/str_cat.h"
#include "api/config/v1/bootstrap.pb.h"
#include "core/config/config.h"
#include "core/config/diff.h"
#include "gtest/gtest.h"
#include "test/core/config/config_test_util.h"

namespace proxy::test {
namespace {

std::string Pool(const std::string& extra) {
  return absl::StrCat("alpha:\n  listen: 127.0.0.1:22121\n  redis: true\n", extra,
                      "  servers:\n   - 127.0.0.1:6379:1\n   - 127.0.0.1:6380:1\n");
}

TEST(MaxServerConnectionsTest, DefaultsToZeroAndATwemproxyConfigIsUnchanged) {
  const config::LoadResult result = Load(Pool("  server_connections: 2\n"));
  ASSERT_TRUE(LoadsCleanly(result)) << Describe(result);
  const config::v1::Pool& pool = result.bootstrap.pools(0);
  EXPECT_EQ(pool.max_server_connections(), 0u);
  EXPECT_EQ(pool.server_connections(), 2u);
  // The key written as its default loads to the same effective config.
  const config::LoadResult explicit_zero =
      Load(Pool("  server_connections: 2\n  max_server_connections: 0\n"));
  ASSERT_TRUE(LoadsCleanly(explicit_zero)) << Describe(explicit_zero);
  EXPECT_EQ(explicit_zero.bootstrap.pools(0).SerializeAsString(), pool.SerializeAsString());
}

TEST(MaxServerConnectionsTest, ANumberIsAccepted) {
  for (const char* value : {"1", "3", "64", "2147483647"}) {
    const config::LoadResult result =
        Load(Pool(absl::StrCat("  server_connections: 2\n  max_server_connections: ", value,
                               "\n")));
    ASSERT_TRUE(LoadsCleanly(result)) << value << "\n" << Describe(result);
    EXPECT_EQ(absl::StrCat(result.bootstrap.pools(0).max_server_connections()), value);
  }
}

TEST(MaxServerConnectionsTest, SignsAndGarbageAreRejectedAtTheValue) {
  // The value starts at column 27 ("  max_server_connections: " is 26 characters).
  for (const char* value : {"-1", "+3", "three", "3.5", "3 connections", "0x10"}) {
    const config::LoadResult result =
        Load(Pool(absl::StrCat("  max_server_connections: ", value, "\n")));
    EXPECT_TRUE(HasError(result, 4, 27, "alpha", "max_server_connections",
                         absl::StrCat("'", value, "' is not a number")))
        << value << "\n" << Describe(result);
    ASSERT_FALSE(result.errors.empty());
    EXPECT_EQ(result.errors[0].ToString().rfind("test.yml:4:27: pool 'alpha': "
                                                "max_server_connections: ",
                                                0),
              0u)
        << result.errors[0].ToString();
  }
  const config::LoadResult range = Load(Pool("  max_server_connections: 3000000000\n"));
  EXPECT_TRUE(HasError(range, 4, 27, "alpha", "max_server_connections", "out of range"))
      << Describe(range);
  const config::LoadResult list = Load(Pool("  max_server_connections: [1, 2]\n"));
  EXPECT_FALSE(list.errors.empty()) << "a list is not a number";
}

TEST(MaxServerConnectionsTest, TwemproxysWrapIsWarnedAboutLikeTheOtherNumbers) {
  // 2^32 + 5 wraps to 5 in twemproxy's nc_atoi.
  const config::LoadResult result = Load(Pool("  max_server_connections: 4294967301\n"));
  EXPECT_TRUE(result.errors.empty()) << Describe(result);
  EXPECT_TRUE(HasWarning(result, 4, 27, "alpha", "max_server_connections", "wraps it to 5"))
      << Describe(result);
  EXPECT_EQ(result.bootstrap.pools(0).max_server_connections(), 5u);
}

TEST(MaxServerConnectionsTest, ClientConnectionsWarningSaysFewerWorkersAccept) {
  const config::LoadResult result =
      Load(Pool("  client_connections: 100\n  max_server_connections: 2\n"));
  EXPECT_TRUE(result.errors.empty()) << Describe(result);
  EXPECT_TRUE(HasWarning(result, 4, 23, "alpha", "client_connections",
                         "per worker, and only min(--workers, 2) workers accept them"))
      << Describe(result);
  const config::LoadResult without = Load(Pool("  client_connections: 100\n"));
  ASSERT_EQ(without.warnings.size(), 1u) << Describe(without);
  EXPECT_EQ(without.warnings[0].message.find("max_server_connections"), std::string::npos);
}

TEST(MaxServerConnectionsTest, TheDiffNamesAChangeAndNoKeyMoves) {
  const config::LoadResult before = Load(Pool(""));
  const config::LoadResult after = Load(Pool("  max_server_connections: 4\n"));
  ASSERT_TRUE(before.ok() && after.ok());
  const config::PoolDiff diff =
      config::DiffPool(&before.bootstrap.pools(0), &after.bootstrap.pools(0));
  EXPECT_EQ(diff.kind, config::PoolChange::kChanged);
  EXPECT_EQ(diff.changed_keys, std::vector<std::string>{"max_server_connections"});
  EXPECT_EQ(diff.placement, config::Placement::kSame);
  EXPECT_EQ(diff.moved, 0u);
  const config::PoolDiff same =
      config::DiffPool(&after.bootstrap.pools(0), &after.bootstrap.pools(0));
  EXPECT_EQ(same.kind, config::PoolChange::kUnchanged);
}

}  // namespace
}  // namespace proxy::test

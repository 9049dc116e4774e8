// Warnings about `filters:` chains that load but do nothing useful (issue 9, finding 5): no
// router, a filter listed twice, hash_tag after router, a hash_tag key without the hash_tag
// filter, and no reject_unsupported. They are warnings (the file still loads), printed by
// `proxy -t` and `proxyctl check` at the entry's file:line:col.
#include <string>

#include "core/config/config.h"
#include "gtest/gtest.h"
#include "test/core/config/config_test_util.h"

namespace proxy::test {
namespace {

std::string Pool(const std::string& filters, const std::string& extra = "") {
  return "alpha:\n"
         "  listen: 127.0.0.1:22121\n"
         "  redis: true\n" +
         extra +
         "  servers:\n"
         "   - 127.0.0.1:6379:1\n"
         "  filters:\n" +
         filters;
}

TEST(ChainWarningsTest, TheDefaultChainWrittenOutLoadsCleanly) {
  const config::LoadResult result =
      Load(Pool("   - reject_unsupported\n   - hash_tag\n   - router\n   - stats\n",
                "  hash_tag: \"{}\"\n"));
  EXPECT_TRUE(LoadsCleanly(result));
}

TEST(ChainWarningsTest, NoFiltersKeyMeansTheDefaultChainAndNoWarning) {
  const config::LoadResult result = Load(
      "alpha:\n  listen: 127.0.0.1:22121\n  servers:\n   - 127.0.0.1:11211:1\n");
  EXPECT_TRUE(LoadsCleanly(result));
}

TEST(ChainWarningsTest, ChainWithoutRouterWarns) {
  // Line 6 is "  filters:"; its value starts on line 7.
  const config::LoadResult result = Load(Pool("   - reject_unsupported\n   - stats\n"));
  ASSERT_TRUE(result.ok()) << Describe(result);
  EXPECT_TRUE(HasWarning(result, 7, 4, "alpha", "filters", "has no router"));
  EXPECT_TRUE(HasWarning(result, 7, 4, "alpha", "filters", "every one fails with an error"));
}

TEST(ChainWarningsTest, DuplicateFilterWarnsAtTheSecondEntry) {
  const config::LoadResult result =
      Load(Pool("   - reject_unsupported\n   - hash_tag\n   - router\n   - stats\n   - stats\n"));
  ASSERT_TRUE(result.ok()) << Describe(result);
  EXPECT_TRUE(HasWarning(result, 11, 6, "alpha", "filters: stats",
                         "is listed twice (first at line 10) with the same config"));
  EXPECT_EQ(result.warnings.size(), 1u) << Describe(result);
}

TEST(ChainWarningsTest, HashTagAfterRouterWarns) {
  const config::LoadResult result =
      Load(Pool("   - reject_unsupported\n   - router\n   - hash_tag\n   - stats\n",
                "  hash_tag: \"{}\"\n"));
  ASSERT_TRUE(result.ok()) << Describe(result);
  EXPECT_TRUE(HasWarning(result, 10, 6, "alpha", "filters: hash_tag",
                         "comes after router, which has already chosen the server"));
  EXPECT_EQ(result.warnings.size(), 1u) << Describe(result);
}

TEST(ChainWarningsTest, HashTagKeyWithoutTheHashTagFilterWarns) {
  const config::LoadResult result =
      Load(Pool("   - reject_unsupported\n   - router\n", "  hash_tag: \"{}\"\n"));
  ASSERT_TRUE(result.ok()) << Describe(result);
  EXPECT_TRUE(HasWarning(result, 4, 13, "alpha", "hash_tag",
                         "chain has no hash_tag filter, so keys are hashed whole"));
}

TEST(ChainWarningsTest, ChainWithoutRejectUnsupportedExplainsWhatIsLost) {
  const config::LoadResult result = Load(Pool("   - hash_tag\n   - router\n   - stats\n"));
  ASSERT_TRUE(result.ok()) << Describe(result);
  EXPECT_TRUE(HasWarning(result, 7, 4, "alpha", "filters",
                         "has no reject_unsupported: the proxy itself still refuses"));
  EXPECT_TRUE(HasWarning(result, 7, 4, "alpha", "filters", "no deny_commands list"));
  EXPECT_EQ(result.warnings.size(), 1u) << Describe(result);
}

}  // namespace
}  // namespace proxy::test

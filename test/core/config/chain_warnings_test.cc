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

// Two tenants on the same backend whose prefixes are prefixes of one another are not isolated.
std::string Tenant(const std::string& name, int port, const std::string& prefix,
                   const std::string& server) {
  return name + ":\n  listen: 127.0.0.1:" + std::to_string(port) +
         "\n  redis: true\n  servers:\n   - " + server +
         "\n  filters:\n   - name: key_prefix\n     config: {prefix: \"" + prefix +
         "\"}\n   - reject_unsupported\n   - hash_tag\n   - router\n";
}

TEST(PrefixOverlapTest, OverlappingPrefixesOnASharedServerAreAnError) {
  const config::LoadResult result =
      Load(Tenant("one", 22121, "app1", "127.0.0.1:6379:1") +
           Tenant("ten", 22122, "app10", "127.0.0.1:6379:1 other-name"));
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(HasError(result, 18, 4, "ten", "filters: key_prefix",
                       "prefix 'app10' starts with the prefix 'app1' of pool 'one', which shares "
                       "server 127.0.0.1:6379"))
      << Describe(result);
}

TEST(PrefixOverlapTest, DistinctOrUnsharedPrefixesAreFine) {
  EXPECT_TRUE(LoadsCleanly(Load(Tenant("one", 22121, "app1:", "127.0.0.1:6379:1") +
                                Tenant("ten", 22122, "app10:", "127.0.0.1:6379:1"))));
  // The same prefix twice: one tenant with two listeners.
  EXPECT_TRUE(LoadsCleanly(Load(Tenant("one", 22121, "app1:", "127.0.0.1:6379:1") +
                                Tenant("two", 22122, "app1:", "127.0.0.1:6379:1"))));
  // Overlapping prefixes on different backends share no keys.
  EXPECT_TRUE(LoadsCleanly(Load(Tenant("one", 22121, "app1", "127.0.0.1:6379:1") +
                                Tenant("ten", 22122, "app10", "127.0.0.1:6380:1"))));
}

}  // namespace
}  // namespace proxy::test

// Tests for the per-pool `filters:` list: names resolved through the filter registry, `config:`
// mappings converted into the factory's proto, and factory errors reported at their position.
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/filter.h"
#include "api/registry.h"
#include "core/config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/core/config/config_test_util.h"
#include "test/core/config/test_filter.h"
#include "test/core/config/test_filter_config.pb.h"

namespace proxy::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A filter without a config message, installed only by the tests that need it.
class BareFilterFactory : public FilterFactory {
 public:
  absl::string_view Name() const override { return "test_bare"; }
  absl::string_view Description() const override { return "a filter that takes no config"; }
  std::unique_ptr<google::protobuf::Message> NewConfigProto() const override { return nullptr; }
  absl::StatusOr<FilterFactoryFn> Create(const google::protobuf::Message& config,
                                         FactoryContext&) const override {
    LastConfigType() = config.GetDescriptor()->full_name();
    return FilterFactoryFn([] { return FilterPtr(); });
  }
  // The type of the config the last Create() got.
  static std::string& LastConfigType() {
    static std::string* type = new std::string();
    return *type;
  }
};

// A "router" that refuses every config, to see which chain the validator checks.
class RefusingRouterFactory : public FilterFactory {
 public:
  absl::string_view Name() const override { return "router"; }
  absl::string_view Description() const override { return "a router that refuses to be made"; }
  std::unique_ptr<google::protobuf::Message> NewConfigProto() const override { return nullptr; }
  absl::StatusOr<FilterFactoryFn> Create(const google::protobuf::Message&,
                                         FactoryContext& context) const override {
    return absl::InvalidArgumentError(
        absl::StrCat("refused (validate_only=", context.validate_only ? "true" : "false", ")"));
  }
};

// One pool with one server; `rest` follows its servers: (e.g. "  filters:\n   - hash_tag\n").
std::string OnePool(const std::string& rest = "") {
  return "alpha:\n  listen: 127.0.0.1:22121\n  servers:\n   - 127.0.0.1:6379:1\n" + rest;
}

// The test filter's config as stored in `filter`.
v1::TestFilterConfig ConfigOf(const config::v1::Filter& filter) {
  v1::TestFilterConfig config;
  EXPECT_EQ(filter.config_type(), "proxy.test.v1.TestFilterConfig");
  EXPECT_TRUE(config.ParseFromString(filter.typed_config()));
  return config;
}

TEST(FiltersTest, TestFilterIsRegisteredByItsPlugin) {
  const FilterFactory* factory = Registry<FilterFactory>::Find(kTestFilterName);
  ASSERT_NE(factory, nullptr);
  EXPECT_EQ(factory->Name(), "test_filter");
}

TEST(FiltersTest, AcceptsABareFilterName) {
  LastTestFilterCalls() = TestFilterCalls();
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
  filters:
   - test_filter
)EOF");
  ASSERT_TRUE(LoadsCleanlyButForChainWarnings(result));
  const config::v1::Pool& pool = result.bootstrap.pools(0);
  ASSERT_EQ(pool.filters_size(), 1);
  EXPECT_EQ(pool.filters(0).name(), "test_filter");
  EXPECT_EQ(pool.filters(0).config_type(), "proxy.test.v1.TestFilterConfig");
  EXPECT_EQ(pool.filters(0).typed_config(), "");  // an empty config message
  ASSERT_EQ(result.sources.pools[0].filters.size(), 1u);
  EXPECT_EQ(result.sources.pools[0].filters[0].line, 6);
  EXPECT_EQ(result.sources.pools[0].filters[0].column, 6);
}

TEST(FiltersTest, ValidationCallsCreateInValidateOnlyMode) {
  LastTestFilterCalls() = TestFilterCalls();
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
  filters:
   - test_filter
)EOF");
  ASSERT_TRUE(LoadsCleanlyButForChainWarnings(result));
  const TestFilterCalls& calls = LastTestFilterCalls();
  EXPECT_EQ(calls.creates, 1);
  EXPECT_TRUE(calls.validate_only);
  EXPECT_FALSE(calls.had_stats);
  EXPECT_EQ(calls.pool, "alpha");
}

TEST(FiltersTest, AcceptsNameAndConfigMapping) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
  filters:
   - name: test_filter
     config:
       prefix: "app:"
       limit: 25
       enabled: true
       commands:
        - get
        - set
       mode: MODE_LENIENT
       offset: -3
       limits:
         max_keys: 8
       ports:
        - 1
        - 65535
       rules:
        - max_keys: 1
        - max_keys: 2
)EOF");
  ASSERT_TRUE(LoadsCleanlyButForChainWarnings(result));
  const config::v1::Pool& pool = result.bootstrap.pools(0);
  ASSERT_EQ(pool.filters_size(), 1);
  EXPECT_EQ(pool.filters(0).name(), "test_filter");
  v1::TestFilterConfig config = ConfigOf(pool.filters(0));
  EXPECT_EQ(config.prefix(), "app:");
  EXPECT_EQ(config.limit(), 25u);
  EXPECT_TRUE(config.enabled());
  EXPECT_THAT(config.commands(), ElementsAre("get", "set"));
  EXPECT_EQ(config.mode(), v1::TestFilterConfig::MODE_LENIENT);
  EXPECT_EQ(config.offset(), -3);
  EXPECT_EQ(config.limits().max_keys(), 8u);
  EXPECT_THAT(config.ports(), ElementsAre(1u, 65535u));
  ASSERT_EQ(config.rules_size(), 2);
  EXPECT_EQ(config.rules(1).max_keys(), 2u);
  EXPECT_EQ(result.sources.pools[0].filter_configs[0].line, 8);
}

TEST(FiltersTest, NameAndEmptyConfigIsAnEmptyConfig) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
  filters:
   - name: test_filter
     config:
   - name: test_filter
)EOF");
  ASSERT_TRUE(LoadsCleanlyButForChainWarnings(result));
  ASSERT_EQ(result.bootstrap.pools(0).filters_size(), 2);
  EXPECT_EQ(ConfigOf(result.bootstrap.pools(0).filters(0)).limit(), 0u);
}

TEST(FiltersTest, UnknownFilterListsTheValidOnes) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
  filters:
   - test_filter
   - no_such_filter
   - name: other_missing
)EOF");
  ASSERT_EQ(result.errors.size(), 2u) << Describe(result);
  EXPECT_TRUE(HasError(result, 7, 6, "alpha", "filters",
                       "'no_such_filter' is not a valid filter (valid: test_filter)"));
  EXPECT_TRUE(HasError(result, 8, 12, "alpha", "filters",
                       "'other_missing' is not a valid filter (valid: test_filter)"));
  EXPECT_EQ(result.bootstrap.pools(0).filters_size(), 1);
}

TEST(FiltersTest, ValidFilterListIncludesEveryRegisteredFilter) {
  ScopedFactoryOverride<FilterFactory> bare(std::make_unique<BareFilterFactory>());
  config::LoadResult result = Load(OnePool("  filters:\n   - nope\n"));
  EXPECT_TRUE(HasError(result, 6, 6, "alpha", "filters", "(valid: test_bare, test_filter)"));
}

TEST(FiltersTest, UnknownConfigFieldIsRejectedAtItsPosition) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
  filters:
   - name: test_filter
     config:
       limit: 5
       colour: blue
)EOF");
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result);
  EXPECT_TRUE(HasError(result, 9, 8, "alpha", "filters: test_filter",
                       "unknown setting 'colour' (valid: prefix, limit, enabled, commands, mode, "
                       "offset, limits, ports, rules)"));
}

TEST(FiltersTest, WrongValueTypesAreRejectedAtTheirPositions) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
  filters:
   - name: test_filter
     config:
       limit: -1
       enabled: yes
       mode: FAST
       offset: 1.5
       commands: get
       limits: 3
       prefix:
         nested: x
       ports:
        - 80
        - http
)EOF");
  ASSERT_EQ(result.errors.size(), 8u) << Describe(result);
  const char* kKey = "filters: test_filter";
  EXPECT_TRUE(
      HasError(result, 8, 15, "alpha", kKey, "limit: '-1' is not a non-negative 32-bit integer"));
  EXPECT_TRUE(
      HasError(result, 9, 17, "alpha", kKey, "enabled: 'yes' is not \"true\" or \"false\""));
  EXPECT_TRUE(HasError(result, 10, 14, "alpha", kKey,
                       "mode: 'FAST' is not a valid value (valid: MODE_UNSPECIFIED, MODE_STRICT, "
                       "MODE_LENIENT)"));
  EXPECT_TRUE(HasError(result, 11, 16, "alpha", kKey, "offset: '1.5' is not a 32-bit integer"));
  EXPECT_TRUE(HasError(result, 12, 18, "alpha", kKey, "commands: expected a list, found a scalar"));
  EXPECT_TRUE(
      HasError(result, 13, 16, "alpha", kKey, "limits: expected a mapping, found a scalar"));
  EXPECT_TRUE(HasError(result, 15, 10, "alpha", kKey,
                       "prefix: expected a single value, found a "
                       "mapping"));
  EXPECT_TRUE(HasError(result, 18, 11, "alpha", kKey,
                       "ports: 'http' is not a non-negative 32-bit integer"));
}

TEST(FiltersTest, ConfigMustBeAMapping) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
  filters:
   - name: test_filter
     config: 25
)EOF");
  EXPECT_TRUE(HasError(result, 7, 14, "alpha", "filters: test_filter",
                       "expected a mapping of settings (prefix, limit, "));
}

TEST(FiltersTest, EmptyAndDuplicateConfigFieldsAreRejected) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
  filters:
   - name: test_filter
     config:
       limit:
       prefix: a
       prefix: b
)EOF");
  ASSERT_EQ(result.errors.size(), 2u) << Describe(result);
  EXPECT_TRUE(HasError(result, 8, 8, "alpha", "filters: test_filter", "limit: value is empty"));
  EXPECT_TRUE(HasError(result, 10, 8, "alpha", "filters: test_filter", "prefix: set twice"));
}

TEST(FiltersTest, AnchorsAndAliasesInConfigAreRejected) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
  filters:
   - name: test_filter
     config:
       prefix: &p app
       commands: !!seq
        - get
)EOF");
  EXPECT_TRUE(HasError(result, 8, 16, "alpha", "filters: test_filter",
                       "prefix: YAML aliases, anchors and tags are not supported"));
  EXPECT_TRUE(HasError(result, 9, 18, "alpha", "filters: test_filter",
                       "commands: YAML aliases, anchors and tags are not supported"));
}

TEST(FiltersTest, FactoryCreateErrorIsReportedAtTheConfig) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
  filters:
   - name: test_filter
     config:
       limit: 5000
)EOF");
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result);
  EXPECT_TRUE(HasError(result, 8, 8, "alpha", "filters: test_filter",
                       "limit: 5000 is above the maximum 1000"));
  EXPECT_EQ(result.errors[0].ToString(),
            "test.yml:8:8: pool 'alpha': filters: test_filter: limit: 5000 is above the maximum "
            "1000");
}

TEST(FiltersTest, FilterEntryKeysAreNameAndConfig) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
  filters:
   - name: test_filter
     settings:
       limit: 5
   - config:
       limit: 5
)EOF");
  ASSERT_EQ(result.errors.size(), 2u) << Describe(result);
  EXPECT_TRUE(HasError(result, 7, 6, "alpha", "filters",
                       "unknown filter entry key 'settings' (valid: name, config)"));
  EXPECT_TRUE(HasError(result, 9, 6, "alpha", "filters", "filter entry has no 'name'"));
}

TEST(FiltersTest, FilterEntryMustBeANameOrAMapping) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
  filters:
   - - test_filter
   -
)EOF");
  ASSERT_EQ(result.errors.size(), 2u) << Describe(result);
  EXPECT_TRUE(HasError(result, 6, 6, "alpha", "filters",
                       "expected a filter name or a mapping with 'name' and 'config', found a "
                       "list"));
  EXPECT_TRUE(HasError(result, 7, 4, "alpha", "filters", "found an empty value"));
}

TEST(FiltersTest, FiltersMustBeABlockList) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
  filters: test_filter
beta:
  listen: 127.0.0.1:22122
  servers:
   - 127.0.0.1:6379:1
  filters: [test_filter]
)EOF");
  EXPECT_TRUE(
      HasError(result, 5, 12, "alpha", "filters", "expected a list of filters, found a scalar"));
  EXPECT_TRUE(HasError(result, 10, 12, "beta", "filters", "flow lists [a, b] are not supported"));
}

TEST(FiltersTest, FilterWithoutConfigProtoRejectsAConfig) {
  ScopedFactoryOverride<FilterFactory> bare(std::make_unique<BareFilterFactory>());
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
  filters:
   - test_bare
   - name: test_bare
     config:
       x: 1
)EOF");
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result);
  EXPECT_TRUE(HasError(result, 9, 8, "alpha", "filters", "filter 'test_bare' takes no config"));
  const config::v1::Pool& pool = result.bootstrap.pools(0);
  ASSERT_EQ(pool.filters_size(), 2);
  EXPECT_EQ(pool.filters(0).config_type(), "");
}

TEST(FiltersTest, FilterWithoutConfigProtoIsCreatedWithAnEmptyMessage) {
  ScopedFactoryOverride<FilterFactory> bare(std::make_unique<BareFilterFactory>());
  BareFilterFactory::LastConfigType().clear();
  config::LoadResult result = Load(OnePool("  filters:\n   - test_bare\n"));
  ASSERT_TRUE(LoadsCleanlyButForChainWarnings(result));
  // Well defined for every filter (api/filter.h), not some unrelated message.
  EXPECT_EQ(BareFilterFactory::LastConfigType(), "google.protobuf.Empty");
}

TEST(FiltersTest, TheDefaultChainIsCheckedLikeTheOneTheProxyBuilds) {
  // Without `filters:` the pool runs the default chain; the check creates it too
  // (core/config/filter_chain.h), so a filter that would fail the start fails the check.
  ScopedFactoryOverride<FilterFactory> router(std::make_unique<RefusingRouterFactory>());
  config::LoadResult result = Load(OnePool());
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result);
  EXPECT_TRUE(HasError(result, 1, 1, "alpha", "filters: router", "refused (validate_only=true)"))
      << Describe(result);
}

TEST(FiltersTest, FiltersKeyIsNotRequired) {
  config::LoadResult result = Load(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
)EOF");
  ASSERT_TRUE(LoadsCleanlyButForChainWarnings(result));
  EXPECT_EQ(result.bootstrap.pools(0).filters_size(), 0);
}

}  // namespace
}  // namespace proxy::test

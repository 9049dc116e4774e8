// The contract every filter factory keeps (api/filter.h FilterFactory), checked for each filter
// registered in Registry<FilterFactory>: a new filter plugin added to FILTER_PLUGINS
// (bazel/plugins.bzl) is covered without writing a test of its own. Per-filter tests check
// what each filter's config means.
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/filter.h"
#include "api/registry.h"
#include "core/config/filter_chain.h"
#include "gmock/gmock.h"
#include "google/protobuf/empty.pb.h"
#include "google/protobuf/message.h"
#include "gtest/gtest.h"
#include "test/fakes/filter_fakes.h"
#include "test/fakes/in_memory_stats.h"

namespace proxy::test {
namespace {

using ::testing::HasSubstr;
using ::testing::IsSupersetOf;

// "reject_unsupported" → "RejectUnsupported": filter config messages are named after the
// filter (proxy.config.filters.v1.RejectUnsupportedConfig).
std::string CamelCase(absl::string_view name) {
  std::string out;
  for (absl::string_view word : absl::StrSplit(name, '_')) {
    if (word.empty()) continue;
    out.push_back(absl::ascii_toupper(static_cast<unsigned char>(word[0])));
    out.append(word.data() + 1, word.size() - 1);
  }
  return out;
}

// A pool any filter should accept: two servers, a hash tag.
config::v1::Pool TestPool() {
  return MakeTestPool({"127.0.0.1:32011:1", "127.0.0.1:32012:1"}, "fnv1a_64", "ketama", "{}");
}

TEST(RegisteredFiltersTest, TheDefaultChainAndEveryLinkedPluginAreRegistered) {
  const std::vector<std::string> names = Registry<FilterFactory>::Names();
  EXPECT_THAT(names, IsSupersetOf(config::DefaultFilterChain()));
  EXPECT_THAT(names, IsSupersetOf({"command_policy", "key_prefix"}));
}

class FilterFactoryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    factory_ = Registry<FilterFactory>::Find(GetParam());
    ASSERT_NE(factory_, nullptr);
  }
  // Create() with `config` on TestPool(), as the check (validate_only, no scope) or as a worker.
  absl::StatusOr<FilterFactoryFn> Create(const google::protobuf::Message& config,
                                         bool validate_only, Scope* stats = nullptr) {
    FactoryContext context{pool_, validate_only, stats};
    return factory_->Create(config, context);
  }

  const FilterFactory* factory_ = nullptr;
  const config::v1::Pool pool_ = TestPool();
};

TEST_P(FilterFactoryTest, IsRegisteredUnderItsNameWithAOneLineDescription) {
  EXPECT_EQ(factory_->Name(), GetParam());
  EXPECT_FALSE(factory_->Description().empty());
  EXPECT_EQ(factory_->Description().find('\n'), absl::string_view::npos);
}

TEST_P(FilterFactoryTest, ConfigMessageIsFreshEmptyAndRoundTrips) {
  std::unique_ptr<google::protobuf::Message> first = factory_->NewConfigProto();
  if (first == nullptr) {
    // A filter without a config message is given an Empty (api/filter.h).
    EXPECT_EQ(config::NewFilterConfig(*factory_)->GetDescriptor(),
              google::protobuf::Empty::descriptor());
    return;
  }
  EXPECT_EQ(first->GetDescriptor()->full_name(),
            "proxy.config.filters.v1." + CamelCase(GetParam()) + "Config");
  std::unique_ptr<google::protobuf::Message> second = factory_->NewConfigProto();
  ASSERT_NE(second, nullptr);
  EXPECT_NE(first.get(), second.get());
  EXPECT_EQ(first->ByteSizeLong(), 0u);  // the defaults: what a bare `- name` entry means
  // What the loader stores (Filter.typed_config) parses back into the same message.
  const std::string stored = first->SerializeAsString();
  ASSERT_TRUE(second->ParseFromString(stored));
  EXPECT_EQ(second->SerializeAsString(), stored);
  EXPECT_EQ(config::NewFilterConfig(*factory_)->GetDescriptor(), first->GetDescriptor());
}

TEST_P(FilterFactoryTest, DefaultConfigIsJudgedTheSameByTheCheckAndByAWorker) {
  const std::unique_ptr<google::protobuf::Message> config = config::NewFilterConfig(*factory_);
  InMemoryStats scope;
  absl::StatusOr<FilterFactoryFn> checked = Create(*config, /*validate_only=*/true);
  absl::StatusOr<FilterFactoryFn> served = Create(*config, /*validate_only=*/false, &scope);
  ASSERT_EQ(checked.ok(), served.ok()) << checked.status() << " / " << served.status();
  if (!checked.ok()) {
    // A filter that needs settings (key_prefix's prefix) refuses its defaults, naming why.
    EXPECT_EQ(checked.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_FALSE(checked.status().message().empty());
    EXPECT_EQ(checked.status(), served.status());
    return;
  }
  // One filter per client connection, from either function.
  for (absl::StatusOr<FilterFactoryFn>* made : {&checked, &served}) {
    ASSERT_TRUE(static_cast<bool>(**made));
    FilterPtr a = (**made)();
    FilterPtr b = (**made)();
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_NE(a.get(), b.get());
    // Completion without a scope (validate_only) or with one must not fail.
    a->OnComplete(MakeRequest("GET", CommandKind::kRead, {"k"}), Outcome());
  }
}

TEST_P(FilterFactoryTest, TheCoresChainPathAgreesWithTheFactory) {
  // A pool listing just this filter, through core/config/filter_chain.h (check, start, reload).
  config::v1::Pool pool = pool_;
  pool.add_filters()->set_name(GetParam());
  std::vector<config::FilterChainIssue> issues;
  const std::vector<config::ResolvedFilter> chain = config::ResolveFilterChain(pool, &issues);
  ASSERT_TRUE(issues.empty()) << issues.front().message;
  ASSERT_EQ(chain.size(), 1u);
  EXPECT_EQ(chain[0].factory, factory_);
  EXPECT_EQ(chain[0].entry, 0);
  ASSERT_NE(chain[0].config, nullptr);
  const std::vector<FilterFactoryFn> made =
      config::CreateFilterChain(pool, chain, /*validate_only=*/true, nullptr, &issues);
  const bool accepted = Create(*config::NewFilterConfig(*factory_), true).ok();
  EXPECT_EQ(made.size(), accepted ? 1u : 0u);
  ASSERT_EQ(issues.size(), accepted ? 0u : 1u);
  if (!accepted) {
    EXPECT_EQ(issues[0].kind, config::FilterChainIssue::Kind::kRejected);
    EXPECT_EQ(issues[0].filter, GetParam());
    EXPECT_EQ(issues[0].entry, 0);
  }
}

TEST_P(FilterFactoryTest, RefusesAConfigOfAnotherTypeNamingItsOwn) {
  std::unique_ptr<google::protobuf::Message> own = factory_->NewConfigProto();
  const config::v1::Pool wrong = TestPool();  // a message no filter takes as its config
  InMemoryStats scope;
  absl::StatusOr<FilterFactoryFn> made = Create(wrong, /*validate_only=*/false, &scope);
  if (own == nullptr) {
    // Nothing to check the type against: such a filter takes whatever it is given.
    EXPECT_TRUE(made.ok() || made.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(made.status().message()),
              HasSubstr(own->GetDescriptor()->full_name()));
  EXPECT_TRUE(scope.Counters().empty());  // a refused Create leaves nothing behind
}

INSTANTIATE_TEST_SUITE_P(EveryRegisteredFilter, FilterFactoryTest,
                         ::testing::ValuesIn(Registry<FilterFactory>::Names()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace proxy::test

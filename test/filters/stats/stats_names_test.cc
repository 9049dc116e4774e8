// The stats filter records under api/stats_names.h's names, the ones the admin endpoint looks
// up for /metrics (core/admin/admin_server.cc): the child scope, then "<COMMAND><suffix>".
#include <string>

#include "absl/strings/str_cat.h"
#include "api/filter.h"
#include "api/stats_names.h"
#include "gtest/gtest.h"
#include "test/fakes/filter_fakes.h"
#include "test/fakes/in_memory_stats.h"

namespace proxy::filters::stats {
namespace {

using ::proxy::test::CreateRegisteredFilter;
using ::proxy::test::InMemoryStats;
using ::proxy::test::MakeRequest;
using ::proxy::test::MakeTestPool;

TEST(StatsNamesTest, FilterRecordsUnderTheSharedNames) {
  InMemoryStats pool_scope;
  absl::StatusOr<FilterFactoryFn> factory = CreateRegisteredFilter(
      "stats", MakeTestPool({"127.0.0.1:32011:1"}, "md5"), /*config=*/nullptr, &pool_scope);
  ASSERT_TRUE(factory.ok()) << factory.status();
  FilterPtr filter = (*factory)();
  Outcome failed;
  failed.kind = Outcome::Kind::kError;
  failed.latency_us = 40;
  filter->OnComplete(MakeRequest("GET", CommandKind::kRead, {"k"}), failed);

  const InMemoryStats* cmd = pool_scope.FindChild(stats_names::kCommandScope);
  ASSERT_NE(cmd, nullptr);
  auto counter = [&](absl::string_view suffix) {
    return pool_scope.CounterValue(
        absl::StrCat(stats_names::kCommandScope, ".GET", suffix));
  };
  EXPECT_EQ(counter(stats_names::kRequestsSuffix), 1u);
  EXPECT_EQ(counter(stats_names::kErrorsSuffix), 1u);
  EXPECT_EQ(counter(stats_names::kLatencyUsSuffix), 40u);
  const auto* latency = cmd->FindHistogram(absl::StrCat("GET", stats_names::kLatencySuffix));
  ASSERT_NE(latency, nullptr);
  EXPECT_EQ(latency->values().size(), 1u);
}

}  // namespace
}  // namespace proxy::filters::stats

// The test-only "test_filter" factory, registered with PROXY_REGISTER_FACTORY like a real plugin
// (this library is alwayslink).
#include "test/core/config/test_filter.h"

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/filter.h"
#include "api/registry.h"
#include "test/core/config/test_filter_config.pb.h"

namespace proxy::test {
namespace {

class TestFilterFactory : public FilterFactory {
 public:
  absl::string_view Name() const override { return kTestFilterName; }
  absl::string_view Description() const override { return "config loader test filter"; }
  std::unique_ptr<google::protobuf::Message> NewConfigProto() const override {
    return std::make_unique<v1::TestFilterConfig>();
  }
  absl::StatusOr<FilterFactoryFn> Create(const google::protobuf::Message& config,
                                         FactoryContext& context) const override {
    TestFilterCalls& calls = LastTestFilterCalls();
    ++calls.creates;
    calls.validate_only = context.validate_only;
    calls.had_stats = context.stats != nullptr;
    calls.pool = context.pool.name();
    const auto& typed = static_cast<const v1::TestFilterConfig&>(config);
    if (typed.limit() > kTestFilterMaxLimit) {
      return absl::InvalidArgumentError(
          absl::StrCat("limit: ", typed.limit(), " is above the maximum ", kTestFilterMaxLimit));
    }
    // The loader only validates; no filter instance is ever made from this factory.
    return FilterFactoryFn([] { return FilterPtr(); });
  }
};

}  // namespace

TestFilterCalls& LastTestFilterCalls() {
  static auto* calls = new TestFilterCalls();
  return *calls;
}

PROXY_REGISTER_FACTORY(TestFilterFactory, FilterFactory)

}  // namespace proxy::test

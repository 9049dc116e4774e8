// Factory and registration of the test-only `hello` filter. Linking this library into a binary
// is all it takes to make `hello` a valid name in a pool's `filters:` list.
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/filter.h"
#include "api/registry.h"
#include "api/status_macros.h"
#include "test/custom_filter/hello_filter.h"
#include "test/custom_filter/hello_filter.pb.h"

namespace proxy::test::custom_filter {
namespace {

class HelloFactory final : public FilterFactory {
 public:
  absl::string_view Name() const override { return "hello"; }
  absl::string_view Description() const override {
    return "test only: answers GET __proxy_hello__ with the pool's name";
  }
  std::unique_ptr<google::protobuf::Message> NewConfigProto() const override {
    return std::make_unique<v1::HelloConfig>();
  }
  absl::StatusOr<FilterFactoryFn> Create(const google::protobuf::Message& config,
                                         FactoryContext& context) const override {
    const auto* typed = dynamic_cast<const v1::HelloConfig*>(&config);
    if (typed == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: expected a proxy.test.custom_filter.v1.HelloConfig message, got a ",
          config.GetDescriptor()->full_name()));
    }
    PROXY_ASSIGN_OR_RETURN(
        std::shared_ptr<HelloAnswer> answer,
        MakeHelloAnswer(*typed, context.pool.name(), context.pool.protocol()));
    if (context.stats != nullptr) {  // null under validate_only (`proxy -t`, `proxyctl check`)
      answer->answered = &context.stats->Child("hello").CounterFor("answered");
    }
    return FilterFactoryFn([answer = std::shared_ptr<const HelloAnswer>(std::move(answer))]()
                               -> FilterPtr { return std::make_unique<HelloFilter>(answer); });
  }
};

}  // namespace

PROXY_REGISTER_FACTORY(HelloFactory, FilterFactory)

}  // namespace proxy::test::custom_filter

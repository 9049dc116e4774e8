// Factory and registration of the router filter ("router").
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/config/filters/v1/router.pb.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/filter.h"
#include "api/registry.h"
#include "api/status_macros.h"
#include "filters/common/typed_config.h"
#include "filters/router/router_filter.h"

namespace proxy::filters::router {
namespace {

using config::filters::v1::RouterConfig;

class RouterFactory final : public FilterFactory {
 public:
  absl::string_view Name() const override { return "router"; }
  absl::string_view Description() const override {
    return "routes each key to its server (hash + distribution) and splits multi-key requests";
  }
  std::unique_ptr<google::protobuf::Message> NewConfigProto() const override {
    return std::make_unique<RouterConfig>();
  }
  // Its filters keep only the config and the pool's counters: one per worker serves every
  // client (api/filter.h).
  bool KeepsClientState() const override { return false; }
  absl::StatusOr<FilterFactoryFn> Create(const google::protobuf::Message& config,
                                         FactoryContext& context) const override {
    PROXY_ASSIGN_OR_RETURN(RouterConfig typed, common::TypedConfig<RouterConfig>(config));
    (void)typed;  // no options yet
    auto hint = std::make_shared<const std::string>(ColocationHint(context.pool.hash_tag()));
    return FilterFactoryFn([hint]() -> FilterPtr { return std::make_unique<RouterFilter>(hint); });
  }
};

}  // namespace

PROXY_REGISTER_FACTORY(RouterFactory, FilterFactory)

}  // namespace proxy::filters::router

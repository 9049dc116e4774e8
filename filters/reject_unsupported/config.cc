// Factory and registration of the reject_unsupported filter ("reject_unsupported").
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/config/filters/v1/reject_unsupported.pb.h"
#include "api/filter.h"
#include "api/registry.h"
#include "api/status_macros.h"
#include "filters/common/typed_config.h"
#include "filters/reject_unsupported/reject_unsupported_filter.h"

namespace proxy::filters::reject_unsupported {
namespace {

using config::filters::v1::RejectUnsupportedConfig;

class RejectUnsupportedFactory final : public FilterFactory {
 public:
  absl::string_view Name() const override { return "reject_unsupported"; }
  absl::string_view Description() const override {
    return "answers commands that cannot be proxied, and denied ones, with an error reply";
  }
  std::unique_ptr<google::protobuf::Message> NewConfigProto() const override {
    return std::make_unique<RejectUnsupportedConfig>();
  }
  // Its filters keep only the config and the pool's counters: one per worker serves every
  // client (api/filter.h).
  bool KeepsClientState() const override { return false; }
  absl::StatusOr<FilterFactoryFn> Create(const google::protobuf::Message& config,
                                         FactoryContext& context) const override {
    PROXY_ASSIGN_OR_RETURN(RejectUnsupportedConfig typed,
                           common::TypedConfig<RejectUnsupportedConfig>(config));
    PROXY_ASSIGN_OR_RETURN(std::shared_ptr<const DenyList> deny, DenyList::Create(typed));
    return FilterFactoryFn([deny = std::move(deny)]() -> FilterPtr {
      return std::make_unique<RejectUnsupportedFilter>(deny);
    });
  }
};

}  // namespace

PROXY_REGISTER_FACTORY(RejectUnsupportedFactory, FilterFactory)

}  // namespace proxy::filters::reject_unsupported

// Factory and registration of the command_policy filter ("command_policy").
#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/config/filters/v1/command_policy.pb.h"
#include "api/filter.h"
#include "api/registry.h"
#include "api/status_macros.h"
#include "filters/command_policy/command_policy_filter.h"
#include "filters/common/typed_config.h"

namespace proxy::filters::command_policy {
namespace {

using config::filters::v1::CommandPolicyConfig;

class CommandPolicyFactory final : public FilterFactory {
 public:
  absl::string_view Name() const override { return "command_policy"; }
  absl::string_view Description() const override {
    return "allow/deny lists, a read-only switch and per-command rate limits for a pool";
  }
  std::unique_ptr<google::protobuf::Message> NewConfigProto() const override {
    return std::make_unique<CommandPolicyConfig>();
  }
  absl::StatusOr<FilterFactoryFn> Create(const google::protobuf::Message& config,
                                         FactoryContext& context) const override {
    // The config as our own message type (kInvalidArgument for any other type).
    PROXY_ASSIGN_OR_RETURN(CommandPolicyConfig typed,
                           common::TypedConfig<CommandPolicyConfig>(config));
    return CreateFilterFactory(typed, context, SteadyClockNanos);
  }
};

}  // namespace

absl::StatusOr<FilterFactoryFn> CreateFilterFactory(const CommandPolicyConfig& config,
                                                    const FactoryContext& context,
                                                    MonotonicClock clock) {
  // All validation happens here, also under `proxyctl check` (validate_only).
  PROXY_ASSIGN_OR_RETURN(std::shared_ptr<const CommandPolicy> policy,
                         CommandPolicy::Create(config));
  // Create() runs once per pool per worker thread, so the buckets and counters made here are
  // shared only by filters on that one thread: no locks needed.
  auto limiter = std::make_shared<RateLimiter>(policy->limits(), std::move(clock));
  std::shared_ptr<const PolicyCounters> counters;
  if (context.stats != nullptr) {  // null under validate_only
    counters = std::make_shared<const PolicyCounters>(*context.stats);
  }
  return FilterFactoryFn([policy = std::move(policy), limiter = std::move(limiter),
                          counters = std::move(counters)]() -> FilterPtr {
    return std::make_unique<CommandPolicyFilter>(policy, limiter, counters);
  });
}

PROXY_REGISTER_FACTORY(CommandPolicyFactory, FilterFactory)

}  // namespace proxy::filters::command_policy

// Factory and registration of the stats filter ("stats").
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/config/filters/v1/stats.pb.h"
#include "api/filter.h"
#include "api/registry.h"
#include "api/status_macros.h"
#include "filters/common/typed_config.h"
#include "filters/stats/stats_filter.h"

namespace proxy::filters::stats {
namespace {

using config::filters::v1::StatsConfig;

class StatsFactory final : public FilterFactory {
 public:
  absl::string_view Name() const override { return "stats"; }
  absl::string_view Description() const override {
    return "counts requests, errors and latency per command in the pool's stats";
  }
  std::unique_ptr<google::protobuf::Message> NewConfigProto() const override {
    return std::make_unique<StatsConfig>();
  }
  // Its filters keep only the config and the pool's counters: one per worker serves every
  // client (api/filter.h).
  bool KeepsClientState() const override { return false; }
  absl::StatusOr<FilterFactoryFn> Create(const google::protobuf::Message& config,
                                         FactoryContext& context) const override {
    PROXY_ASSIGN_OR_RETURN(StatsConfig typed, common::TypedConfig<StatsConfig>(config));
    (void)typed;  // no options yet
    // One CommandStats per Create() call: the core calls Create() once per pool and worker and
    // hands it that worker's scope, so the shared state is never touched by two threads.
    std::shared_ptr<CommandStats> stats;
    if (context.stats != nullptr) {
      stats = std::make_shared<CommandStats>(*context.stats);
    }
    return FilterFactoryFn([stats]() -> FilterPtr { return std::make_unique<StatsFilter>(stats); });
  }
};

}  // namespace

PROXY_REGISTER_FACTORY(StatsFactory, FilterFactory)

}  // namespace proxy::filters::stats

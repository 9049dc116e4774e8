// Registers the Redis Cluster topology plugin: TopologyDiscoveryFactory "redis_cluster".
#include <memory>

#include "api/config/v1/bootstrap.pb.h"
#include "api/discovery.h"
#include "api/registry.h"
#include "protocols/redis/cluster/cluster_discovery.h"

namespace proxy::protocols::redis::cluster {
namespace {

class ClusterDiscoveryFactory final : public TopologyDiscoveryFactory {
 public:
  absl::string_view Name() const override { return "redis_cluster"; }
  absl::string_view Description() const override {
    return "Redis Cluster: masters, their slots and replicas from CLUSTER SLOTS, asked again "
           "every 5 s and after a redirection";
  }
  TopologyDiscoveryPtr Create(const config::v1::Pool& pool) const override {
    return std::make_unique<ClusterDiscovery>(OptionsFromPool(pool));
  }
};

}  // namespace

PROXY_REGISTER_FACTORY(ClusterDiscoveryFactory, ::proxy::TopologyDiscoveryFactory)

}  // namespace proxy::protocols::redis::cluster

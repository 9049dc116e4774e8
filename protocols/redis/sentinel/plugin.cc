// Registers the Redis Sentinel discovery plugin: ServerDiscoveryFactory "redis_sentinel".
#include <memory>

#include "api/config/v1/bootstrap.pb.h"
#include "api/discovery.h"
#include "api/registry.h"
#include "protocols/redis/sentinel/sentinel_discovery.h"

namespace proxy::protocols::redis::sentinel {
namespace {

class SentinelDiscoveryFactory final : public ServerDiscoveryFactory {
 public:
  absl::string_view Name() const override { return "redis_sentinel"; }
  absl::string_view Description() const override {
    return "Redis Sentinel: masters and healthy replicas by master name (SENTINEL "
           "get-master-addr-by-name / replicas), +switch-master followed on every sentinel";
  }
  ServerDiscoveryPtr Create(const config::v1::Pool& pool) const override {
    return std::make_unique<SentinelDiscovery>(OptionsFromPool(pool));
  }
};

}  // namespace

PROXY_REGISTER_FACTORY(SentinelDiscoveryFactory, ::proxy::ServerDiscoveryFactory)

}  // namespace proxy::protocols::redis::sentinel

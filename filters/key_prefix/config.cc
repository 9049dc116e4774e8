// Factory and registration of the key_prefix filter ("key_prefix").
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/config/filters/v1/key_prefix.pb.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/filter.h"
#include "api/registry.h"
#include "api/status_macros.h"
#include "filters/common/typed_config.h"
#include "filters/key_prefix/key_prefix_filter.h"

namespace proxy::filters::key_prefix {
namespace {

using config::filters::v1::KeyPrefixConfig;

class KeyPrefixFactory final : public FilterFactory {
 public:
  absl::string_view Name() const override { return "key_prefix"; }
  absl::string_view Description() const override {
    return "prepends a prefix to every key (a namespace per application; memcache replies get "
           "their keys back unprefixed)";
  }
  std::unique_ptr<google::protobuf::Message> NewConfigProto() const override {
    return std::make_unique<KeyPrefixConfig>();
  }
  absl::StatusOr<FilterFactoryFn> Create(const google::protobuf::Message& config,
                                         FactoryContext& context) const override {
    PROXY_ASSIGN_OR_RETURN(KeyPrefixConfig typed, common::TypedConfig<KeyPrefixConfig>(config));
    PROXY_RETURN_IF_ERROR(ValidatePrefix(typed.prefix()));
    PROXY_RETURN_IF_ERROR(CheckHashTag(typed.prefix(), context.pool.hash_tag()));
    PROXY_RETURN_IF_ERROR(CheckChainOrder(context.pool));
    auto settings = std::make_shared<Settings>();
    settings->prefix = typed.prefix();
    // memcache keys are limited to 250 bytes and its replies carry keys; redis has neither.
    const bool redis = context.pool.protocol() == "redis";
    settings->redis = redis;
    settings->limit_key_size = !redis;
    settings->rewrite_replies = !redis;
    return FilterFactoryFn(
        [settings = std::shared_ptr<const Settings>(std::move(settings))]() -> FilterPtr {
          return std::make_unique<KeyPrefixFilter>(settings);
        });
  }
};

}  // namespace

PROXY_REGISTER_FACTORY(KeyPrefixFactory, FilterFactory)

}  // namespace proxy::filters::key_prefix

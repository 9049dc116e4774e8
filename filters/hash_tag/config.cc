// Factory and registration of the hash_tag filter ("hash_tag").
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "api/config/filters/v1/hash_tag.pb.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/filter.h"
#include "api/registry.h"
#include "api/status_macros.h"
#include "filters/common/typed_config.h"
#include "filters/hash_tag/hash_tag_filter.h"

namespace proxy::filters::hash_tag {
namespace {

using config::filters::v1::HashTagConfig;

class HashTagFactory final : public FilterFactory {
 public:
  absl::string_view Name() const override { return "hash_tag"; }
  absl::string_view Description() const override {
    return "hashes only the part of each key inside the pool's hash_tag (e.g. {user1}:a)";
  }
  std::unique_ptr<google::protobuf::Message> NewConfigProto() const override {
    return std::make_unique<HashTagConfig>();
  }
  // Its filters keep only the config and the pool's counters: one per worker serves every
  // client (api/filter.h).
  bool KeepsClientState() const override { return false; }
  absl::StatusOr<FilterFactoryFn> Create(const google::protobuf::Message& config,
                                         FactoryContext& context) const override {
    PROXY_ASSIGN_OR_RETURN(HashTagConfig typed, common::TypedConfig<HashTagConfig>(config));
    (void)typed;  // no options yet
    const std::string& tag = context.pool.hash_tag();
    if (!tag.empty() && tag.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("hash_tag: '", tag, "' is ", tag.size(),
                       " bytes; a hash tag is exactly two characters, e.g. \"{}\""));
    }
    return FilterFactoryFn([tag]() -> FilterPtr { return std::make_unique<HashTagFilter>(tag); });
  }
};

}  // namespace

PROXY_REGISTER_FACTORY(HashTagFactory, FilterFactory)

}  // namespace proxy::filters::hash_tag

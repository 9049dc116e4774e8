// Filter lookup, config parsing and instantiation, shared by the validator and the proxy.
#include "core/config/filter_chain.h"

#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "api/registry.h"
#include "google/protobuf/empty.pb.h"

namespace proxy::config {

const std::vector<std::string>& DefaultFilterChain() {
  static const auto* chain =
      new std::vector<std::string>{"reject_unsupported", "hash_tag", "router", "stats"};
  return *chain;
}

std::string UnknownFilterMessage(absl::string_view name) {
  return absl::StrCat("'", name, "' is not a valid filter (valid: ",
                      Registry<FilterFactory>::NamesForMessage(), ")");
}

std::unique_ptr<google::protobuf::Message> NewFilterConfig(const FilterFactory& factory) {
  std::unique_ptr<google::protobuf::Message> config = factory.NewConfigProto();
  if (config == nullptr) config = std::make_unique<google::protobuf::Empty>();
  return config;
}

absl::Status FilterChainIssue::ToStatus(absl::string_view pool) const {
  const std::string text = absl::StrCat("pool '", pool, "': filter '", filter, "': ", message);
  switch (kind) {
    case Kind::kUnknown:
      return absl::NotFoundError(text);
    case Kind::kBadConfig:
      return absl::InternalError(text);
    case Kind::kRejected:
      break;
  }
  return absl::InvalidArgumentError(text);
}

std::vector<ResolvedFilter> ResolveFilterChain(const v1::Pool& pool,
                                               std::vector<FilterChainIssue>* issues) {
  std::vector<ResolvedFilter> chain;
  auto add = [&](const std::string& name, const std::string& typed_config, int entry) {
    const FilterFactory* factory = Registry<FilterFactory>::Find(name);
    if (factory == nullptr) {
      issues->push_back(
          {FilterChainIssue::Kind::kUnknown, entry, name, UnknownFilterMessage(name)});
      return;
    }
    ResolvedFilter filter{factory, NewFilterConfig(*factory), entry};
    // The loader stored the config as the factory's message serialized: it always parses,
    // unless the proto was made by hand.
    if (!filter.config->ParseFromString(typed_config)) {
      issues->push_back({FilterChainIssue::Kind::kBadConfig, entry, name,
                         "internal error: config does not parse"});
      return;
    }
    chain.push_back(std::move(filter));
  };
  if (pool.filters().empty()) {
    for (const std::string& name : DefaultFilterChain()) add(name, "", -1);
  } else {
    for (int i = 0; i < pool.filters_size(); ++i) {
      add(pool.filters(i).name(), pool.filters(i).typed_config(), i);
    }
  }
  return chain;
}

std::vector<FilterFactoryFn> CreateFilterChain(const v1::Pool& pool,
                                               const std::vector<ResolvedFilter>& chain,
                                               bool validate_only, Scope* stats,
                                               std::vector<FilterChainIssue>* issues) {
  std::vector<FilterFactoryFn> made;
  made.reserve(chain.size());
  for (const ResolvedFilter& filter : chain) {
    // A fresh context per filter: Create() may not leave anything in it for the next one.
    FactoryContext context{pool, validate_only, validate_only ? nullptr : stats};
    absl::StatusOr<FilterFactoryFn> fn = filter.factory->Create(*filter.config, context);
    if (!fn.ok()) {
      issues->push_back({FilterChainIssue::Kind::kRejected, filter.entry,
                         std::string(filter.factory->Name()), std::string(fn.status().message())});
      continue;
    }
    made.push_back(*std::move(fn));
  }
  return made;
}

}  // namespace proxy::config

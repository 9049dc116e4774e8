// Resolution of a pool's plugins by name.
#include "core/proxy/shared_pool.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "api/registry.h"

namespace proxy {

SharedPool::~SharedPool() {
  if (tcp_listen_fd >= 0) close(tcp_listen_fd);
}

const std::vector<std::string>& DefaultFilterChain() {
  static const auto* chain =
      new std::vector<std::string>{"reject_unsupported", "hash_tag", "router", "stats"};
  return *chain;
}

absl::StatusOr<SharedPoolPtr> BuildSharedPool(const config::v1::Pool& config,
                                              const ProxyLimits& limits) {
  auto pool = std::make_unique<SharedPool>();
  pool->config = config;
  pool->limits = limits;
  const CodecFactory* codec = Registry<CodecFactory>::Find(config.protocol());
  if (codec == nullptr) {
    return absl::NotFoundError(absl::StrCat("pool '", config.name(), "': protocol '",
                                            config.protocol(),
                                            "' is not linked into this binary (linked: ",
                                            Registry<CodecFactory>::NamesForMessage(), ")"));
  }
  pool->codec = codec->Create(config);
  auto add = [&](const std::string& name, const std::string& typed_config) -> absl::Status {
    const FilterFactory* factory = Registry<FilterFactory>::Find(name);
    if (factory == nullptr) {
      return absl::NotFoundError(absl::StrCat("pool '", config.name(), "': filter '", name,
                                              "' is not linked into this binary (linked: ",
                                              Registry<FilterFactory>::NamesForMessage(), ")"));
    }
    SharedPool::FilterEntry entry{factory, factory->NewConfigProto()};
    if (entry.config != nullptr && !entry.config->ParseFromString(typed_config)) {
      return absl::InternalError(absl::StrCat("filter '", name, "': bad config"));
    }
    pool->filters.push_back(std::move(entry));
    return absl::OkStatus();
  };
  if (config.filters().empty()) {
    for (const std::string& name : DefaultFilterChain()) {
      absl::Status status = add(name, "");
      if (!status.ok()) return status;
    }
  } else {
    for (const config::v1::Filter& filter : config.filters()) {
      absl::Status status = add(filter.name(), filter.typed_config());
      if (!status.ok()) return status;
    }
  }
  return pool;
}

}  // namespace proxy

// Registers the memcache protocol plugin: CodecFactory "memcache".
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/codec.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/registry.h"
#include "protocols/memcache/memcache_codec.h"

namespace proxy::protocols::memcache {
namespace {

class MemcacheCodecFactory final : public CodecFactory {
 public:
  absl::string_view Name() const override { return "memcache"; }
  absl::string_view Description() const override {
    return "memcached ASCII and binary protocols (per connection, by the first byte): storage, "
           "retrieval, gat/gats, meta commands (no q flag), binary quiet multi-gets; "
           "local mn/quit, split get/gets/gat/gats";
  }
  // The keys of redis pools mean nothing here (twemproxy's redis_auth and redis_db, and
  // shardproxy's redis extensions): reported, so that a pool meant to be redis but missing
  // `redis: true` is caught by `proxyctl check`.
  using CodecFactory::ValidatePool;
  std::vector<PoolConfigIssue> ValidatePool(const config::v1::Pool& pool,
                                            const PoolSourceView& source) const override {
    std::vector<PoolConfigIssue> issues;
    if (!pool.redis_auth().empty()) {
      issues.push_back(
          PoolConfigIssue::Error("redis_auth", "is only valid for a redis pool (add redis: true)")
              .NotTaken());
    }
    if (pool.redis_db() > 0) {
      issues.push_back(
          PoolConfigIssue::Warning("redis_db", "has no effect on a memcache pool").NotTaken());
    }
    const std::string redis_only = absl::StrCat(
        "is only valid for a redis pool (this pool's protocol is '", pool.protocol(), "')");
    for (const char* key : {"sentinels", "sentinel_password", "replicas", "read_from"}) {
      if (source.Written(key)) issues.push_back(PoolConfigIssue::Error(key, redis_only).NotTaken());
    }
    if (pool.redis_cluster()) {
      issues.push_back(PoolConfigIssue::Error("redis_cluster", redis_only).NotTaken());
    }
    for (const char* key : {"client_auth", "server_auth"}) {
      if (source.Written(key)) issues.push_back(PoolConfigIssue::Error(key, redis_only).NotTaken());
    }
    return issues;
  }
  CodecPtr Create(const config::v1::Pool& pool) const override {
    return std::make_unique<MemcacheCodec>();
  }
};

}  // namespace

PROXY_REGISTER_FACTORY(MemcacheCodecFactory, ::proxy::CodecFactory)

}  // namespace proxy::protocols::memcache

// Registers the redis protocol plugin: CodecFactory "redis".
#include <memory>

#include "api/codec.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/registry.h"
#include "protocols/redis/redis_codec.h"

namespace proxy::protocols::redis {
namespace {

class RedisCodecFactory final : public CodecFactory {
 public:
  absl::string_view Name() const override { return "redis"; }
  absl::string_view Description() const override {
    return "Redis RESP2/RESP3 (HELLO 3) and inline requests: twemproxy's command set, local "
           "PING/ECHO/AUTH/SELECT/QUIT/HELLO/CLIENT/RESET, split MGET/DEL/UNLINK/TOUCH/EXISTS/"
           "MSET, INFO merged over the servers, MULTI/EXEC/WATCH on a pinned connection";
  }
  CodecPtr Create(const config::v1::Pool& pool) const override {
    return std::make_unique<RedisCodec>(RedisAuthConfig::FromPool(pool), pool.redis_db(),
                                        /*check_role=*/pool.sentinels_size() > 0,
                                        /*cluster=*/pool.redis_cluster());
  }
};

}  // namespace

PROXY_REGISTER_FACTORY(RedisCodecFactory, ::proxy::CodecFactory)

}  // namespace proxy::protocols::redis

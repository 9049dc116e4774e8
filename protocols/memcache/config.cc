// Registers the memcache protocol plugin: CodecFactory "memcache".
#include <memory>

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
  // Nothing beyond the core's checks: redis_auth/redis_db on memcache pools are reported by
  // the validator itself.
  CodecPtr Create(const config::v1::Pool& pool) const override {
    return std::make_unique<MemcacheCodec>();
  }
};

}  // namespace

PROXY_REGISTER_FACTORY(MemcacheCodecFactory, ::proxy::CodecFactory)

}  // namespace proxy::protocols::memcache

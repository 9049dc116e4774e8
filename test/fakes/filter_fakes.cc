// FakeCodec, FakePoolView, FakeFilterCallbacks and the pool/request builders.
#include "test/fakes/filter_fakes.h"

#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "api/registry.h"

namespace proxy::test {

config::v1::Pool MakeTestPool(std::initializer_list<absl::string_view> servers,
                              absl::string_view hash, absl::string_view distribution,
                              absl::string_view hash_tag, absl::string_view protocol) {
  config::v1::Pool pool;
  pool.set_name("test");
  pool.set_protocol(std::string(protocol));
  pool.set_hash(std::string(hash));
  pool.set_distribution(std::string(distribution));
  pool.set_hash_tag(std::string(hash_tag));
  pool.set_server_connections(1);
  for (absl::string_view entry : servers) {
    config::v1::Server* server = pool.add_servers();
    server->set_raw(std::string(entry));
    absl::string_view address = entry;
    const size_t space = entry.rfind(' ');
    if (space != absl::string_view::npos) {
      server->set_name(std::string(entry.substr(space + 1)));
      address = entry.substr(0, space);
    }
    // host:port:weight (the host has no ':' in the test pools).
    std::vector<absl::string_view> parts = absl::StrSplit(address, ':');
    uint32_t port = 0;
    uint32_t weight = 1;
    if (parts.size() == 3 && absl::SimpleAtoi(parts[1], &port) &&
        absl::SimpleAtoi(parts[2], &weight)) {
      server->mutable_tcp()->set_host(std::string(parts[0]));
      server->mutable_tcp()->set_port(port);
    }
    server->set_weight(weight);
    if (!server->name().empty()) {
      server->set_node_name(server->name());
    } else if (port == 11211) {
      server->set_node_name(std::string(parts[0]));
    } else {
      server->set_node_name(absl::StrCat(parts[0], ":", port));
    }
  }
  return pool;
}

Request MakeRequest(absl::string_view command, CommandKind kind,
                    std::initializer_list<absl::string_view> args, uint8_t key_step) {
  Request request;
  request.command = command;
  request.kind = kind;
  request.key_step = key_step;
  for (absl::string_view arg : args) {
    request.args.Add(arg);
  }
  return request;
}

absl::StatusOr<FilterFactoryFn> CreateRegisteredFilter(absl::string_view name,
                                                       const config::v1::Pool& pool,
                                                       const google::protobuf::Message* config,
                                                       Scope* stats, bool validate_only) {
  const FilterFactory* factory = Registry<FilterFactory>::Find(name);
  if (factory == nullptr) {
    return absl::NotFoundError(absl::StrCat("filter '", name, "' is not linked into the test"));
  }
  std::unique_ptr<google::protobuf::Message> empty = factory->NewConfigProto();
  if (config == nullptr) {
    config = empty.get();
  }
  FactoryContext context{pool, validate_only, stats};
  return factory->Create(*config, context);
}

RequestDecoderPtr FakeCodec::NewRequestDecoder(const DecoderLimits& limits) const {
  return nullptr;
}

ReplyDecoderPtr FakeCodec::NewReplyDecoder(const DecoderLimits& limits) const { return nullptr; }

SessionPtr FakeCodec::NewSession() const { return nullptr; }

void FakeCodec::EncodeError(absl::string_view text, std::string* out) const {
  absl::StrAppend(out, "-ERR ", text, "\r\n");
}

std::vector<Fragment> FakeCodec::Split(const Request& request,
                                       absl::Span<const uint32_t> key_servers) const {
  ++split_calls_;
  last_key_servers_.assign(key_servers.begin(), key_servers.end());
  bool one_server = true;
  for (uint32_t server : key_servers) {
    one_server = one_server && server == key_servers[0];
  }
  if (one_server) {
    return {};
  }
  std::map<uint32_t, Fragment> by_server;  // ordered: fragments in server-index order
  for (uint32_t key = 0; key < key_servers.size(); ++key) {
    Fragment& fragment = by_server[key_servers[key]];
    if (fragment.bytes.empty()) {
      fragment.server = key_servers[key];
      fragment.bytes = absl::AsciiStrToLower(request.command);
    }
    for (size_t arg = 0; arg < request.key_step; ++arg) {
      absl::StrAppend(&fragment.bytes, " ", request.args[key * request.key_step + arg]);
    }
    fragment.keys.push_back(key);
  }
  std::vector<Fragment> fragments;
  for (auto& [server, fragment] : by_server) {
    fragments.push_back(std::move(fragment));
  }
  return fragments;
}

bool FakeCodec::Merge(const Request& request, absl::Span<const Fragment> fragments,
                      absl::Span<const std::string> replies, std::string* out) const {
  for (const std::string& reply : replies) {
    out->append(reply);
  }
  return true;
}

absl::StatusOr<std::unique_ptr<FakePoolView>> FakePoolView::Create(config::v1::Pool pool,
                                                                   std::vector<bool> live) {
  // std::vector<bool> has no contiguous storage; KeyPlacement takes a Span<const bool>.
  std::unique_ptr<bool[]> flags(new bool[live.size() + 1]);
  for (size_t i = 0; i < live.size(); ++i) {
    flags[i] = live[i];
  }
  absl::StatusOr<KeyPlacementPtr> placement =
      KeyPlacement::Create(pool, absl::Span<const bool>(flags.get(), live.size()));
  if (!placement.ok()) {
    return placement.status();
  }
  return std::unique_ptr<FakePoolView>(new FakePoolView(std::move(pool), *std::move(placement)));
}

uint32_t FakePoolView::ServerForHashKey(absl::string_view hash_key) const {
  routed_hash_keys_.emplace_back(hash_key);
  return placement_->ServerForHashKey(hash_key);
}

uint32_t FakePoolView::ShardForHashKey(absl::string_view hash_key) const {
  routed_hash_keys_.emplace_back(hash_key);
  return placement_->ShardForHashKey(hash_key);
}

std::string FakeFilterCallbacks::EncodedErrors() const {
  std::string out;
  for (const std::string& text : local_errors_) {
    pool_.PoolCodec().EncodeError(text, &out);
  }
  return out;
}

void FakeFilterCallbacks::Reset() {
  context_ = RequestContext();
  local_errors_.clear();
  local_replies_.clear();
}

// Test data for the filter tests: an imaginary protocol's refusal reasons, in the shape of
// redis's and memcache's. It does not mirror the real codecs (redis's reasons are the command
// table's, protocols/redis/command_table.cc, and are tested in test/protocols/redis/).
absl::string_view FakeCodec::UnsupportedReason(absl::string_view command) const {
  static const auto* reasons = new std::map<std::string, std::string>{
      {"KEYS", "keys are spread over several servers; run it on each server directly"},
      {"FLUSHALL", "keys are spread over several servers; run it on each server directly"},
      {"flush_all", "keys are spread over several servers; run it on each server directly"},
      {"MULTI", "transactions cannot span a sharding proxy"},
      {"EXEC", "transactions cannot span a sharding proxy"},
      {"WATCH", "transactions cannot span a sharding proxy"},
      {"DISCARD", "transactions cannot span a sharding proxy"},
      {"UNWATCH", "transactions cannot span a sharding proxy"},
      {"PSUBSCRIBE", "pub/sub is not proxied"},
      {"UNSUBSCRIBE", "pub/sub is not proxied"},
      {"BRPOP", "blocking commands are not proxied"},
      {"BLMOVE", "blocking commands are not proxied"},
      {"BZPOPMIN", "blocking commands are not proxied"},
      {"SUBSCRIBE", "pub/sub is not proxied"},
      {"PUBLISH", "pub/sub is not proxied"},
      {"BLPOP", "blocking commands are not proxied"},
      {"INFO", "it addresses one server, not the pool; run it on each server directly"},
      {"stats", "it addresses one server, not the pool; run it on each server directly"},
      {"SELECT", "the database is fixed by the pool's redis_db setting"},
      {"HELLO", "connection-level state is not proxied"},
      {"RENAME", "its keys may live on different servers and it cannot be split"},
  };
  std::string key(command);
  if (!key.empty() && key[0] >= 'a' && key != "flush_all" && key != "stats") {
    for (char& c : key) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  auto it = reasons->find(key);
  return it == reasons->end() ? absl::string_view() : absl::string_view(it->second);
}

}  // namespace proxy::test

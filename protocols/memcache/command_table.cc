// The memcache command table (memcached 1.6.18's proto_text.c command set).
#include "protocols/memcache/command_table.h"

#include <vector>

#include "absl/container/flat_hash_map.h"

namespace proxy::protocols::memcache {
namespace {

constexpr CommandKind kRead = CommandKind::kRead;
constexpr CommandKind kWrite = CommandKind::kWrite;
constexpr CommandKind kLocal = CommandKind::kLocal;
constexpr CommandKind kUnsupported = CommandKind::kUnsupported;

constexpr CommandSpec kCommands[] = {
    // Retrievals: the only commands that can be split across servers.
    {"get", Syntax::kRetrieval, kRead},
    {"gets", Syntax::kRetrieval, kRead},
    {"gat", Syntax::kGat, kRead},
    {"gats", Syntax::kGat, kRead},

    // Storage: a data block follows the line.
    {"set", Syntax::kStorage, kWrite},
    {"add", Syntax::kStorage, kWrite},
    {"replace", Syntax::kStorage, kWrite},
    {"append", Syntax::kStorage, kWrite},
    {"prepend", Syntax::kStorage, kWrite},
    {"cas", Syntax::kCas, kWrite},

    // Other single-key commands.
    {"incr", Syntax::kArithmetic, kWrite},
    {"decr", Syntax::kArithmetic, kWrite},
    {"touch", Syntax::kTouch, kWrite},
    {"delete", Syntax::kDelete, kWrite},

    // Meta commands (memcached >= 1.6).
    {"mg", Syntax::kMeta, kRead},
    {"ms", Syntax::kMetaSet, kWrite},
    {"md", Syntax::kMeta, kWrite},
    {"ma", Syntax::kMeta, kWrite},
    {"me", Syntax::kMeta, kRead},
    {"mn", Syntax::kNoop, kLocal},

    // Routed by "placeholder" / answered by the proxy.
    {"version", Syntax::kVersion, kRead},
    {"quit", Syntax::kQuit, kLocal},

    // Known to memcached, not proxied: they address one server, not the pool.
    {"stats", Syntax::kAdmin, kUnsupported},
    {"flush_all", Syntax::kAdmin, kUnsupported},
    {"verbosity", Syntax::kAdmin, kUnsupported},
    {"shutdown", Syntax::kAdmin, kUnsupported},
    {"cache_memlimit", Syntax::kAdmin, kUnsupported},
    {"slabs", Syntax::kAdmin, kUnsupported},
    {"lru", Syntax::kAdmin, kUnsupported},
    {"lru_crawler", Syntax::kAdmin, kUnsupported},
    {"watch", Syntax::kAdmin, kUnsupported},
    {"extstore", Syntax::kAdmin, kUnsupported},
    {"misbehave", Syntax::kAdmin, kUnsupported},
    {"debugtime", Syntax::kAdmin, kUnsupported},
};

constexpr size_t kCommandCount = sizeof(kCommands) / sizeof(kCommands[0]);

}  // namespace

struct CommandTable::Impl {
  absl::flat_hash_map<absl::string_view, uint16_t> by_name;
};

CommandTable::CommandTable() {
  auto* impl = new Impl();
  impl->by_name.reserve(kCommandCount);
  for (size_t i = 0; i < kCommandCount; ++i) {
    impl->by_name.emplace(kCommands[i].name, static_cast<uint16_t>(i + 1));
  }
  impl_ = impl;
}

const CommandTable& CommandTable::Get() {
  // Never destroyed: Request::command views point into the table until the process exits.
  static const CommandTable* table = new CommandTable();
  return *table;
}

const CommandSpec* CommandTable::Find(absl::string_view name) const {
  if (name.size() > kMaxCommandNameSize) {
    return nullptr;
  }
  auto it = impl_->by_name.find(name);
  return it == impl_->by_name.end() ? nullptr : &kCommands[it->second - 1];
}

uint16_t CommandTable::IdOf(const CommandSpec& spec) const {
  return static_cast<uint16_t>(&spec - kCommands + 1);
}

const CommandSpec* CommandTable::ById(uint16_t id) const {
  return id == 0 || id > kCommandCount ? nullptr : &kCommands[id - 1];
}

size_t CommandTable::size() const { return kCommandCount; }

absl::string_view UnsupportedCommandReason(absl::string_view command) {
  if (command == "flush_all") {
    return "keys are spread over several servers; run it on each server directly";
  }
  if (command == "watch") {
    return "it would turn the server connection the proxy shares into a log stream";
  }
  if (command == "shutdown") {
    return "it would stop a server every client of the pool uses";
  }
  const CommandSpec* spec = CommandTable::Get().Find(command);
  if (spec != nullptr && spec->syntax == Syntax::kAdmin) {
    return "it addresses one server, not the pool; run it on each server directly";
  }
  return {};
}

}  // namespace proxy::protocols::memcache

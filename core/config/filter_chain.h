// A pool's filter chain, resolved and instantiated in one place: `proxyctl check` (validate
// only), the proxy's start and a reload all go through these functions, so that a chain that
// passes the check is exactly the chain the workers build.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/filter.h"
#include "api/stats.h"
#include "google/protobuf/message.h"

namespace proxy::config {

// The chain a pool runs when it lists no `filters:`.
const std::vector<std::string>& DefaultFilterChain();

// Why `name` cannot be a filter: "'name' is not a valid filter (valid: a, b, ...)", the linked
// filters listed. The loader reports an unknown `filters:` entry with it.
std::string UnknownFilterMessage(absl::string_view name);

// An empty config for `factory`: its NewConfigProto(), or a google.protobuf.Empty for a filter
// that takes no config (NewConfigProto() returns null). Never null.
std::unique_ptr<google::protobuf::Message> NewFilterConfig(const FilterFactory& factory);

// One filter of a pool's chain: its factory and its config, parsed.
struct ResolvedFilter {
  const FilterFactory* factory = nullptr;
  std::unique_ptr<google::protobuf::Message> config;  // never null
  int entry = -1;  // index into Pool.filters; -1 for a filter of the default chain
};

// What is wrong with one filter of a chain.
struct FilterChainIssue {
  enum class Kind : uint8_t {
    kUnknown,    // no filter of that name is linked in (message: UnknownFilterMessage)
    kBadConfig,  // its stored config does not parse as the factory's config message
    kRejected,   // FilterFactory::Create refused it (message: the factory's)
  };
  Kind kind = Kind::kRejected;
  int entry = -1;  // as ResolvedFilter::entry
  std::string filter;
  std::string message;

  // "pool 'p': filter 'f': message", for the proxy's start and reload.
  absl::Status ToStatus(absl::string_view pool) const;
};

// Resolves `pool`'s chain (its `filters:`, else DefaultFilterChain() with empty configs) in
// order. Filters that cannot be resolved are left out and described in `issues`.
std::vector<ResolvedFilter> ResolveFilterChain(const v1::Pool& pool,
                                               std::vector<FilterChainIssue>* issues);

// Calls FilterFactory::Create for every filter of `chain`, in order, each with a FactoryContext
// of `pool`, `validate_only` and `stats` (null when validate_only). The filters Create refuses
// are left out and described in `issues`.
std::vector<FilterFactoryFn> CreateFilterChain(const v1::Pool& pool,
                                               const std::vector<ResolvedFilter>& chain,
                                               bool validate_only, Scope* stats,
                                               std::vector<FilterChainIssue>* issues);

}  // namespace proxy::config

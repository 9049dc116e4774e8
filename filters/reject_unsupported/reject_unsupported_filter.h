// The reject_unsupported filter: refuses well-formed requests the proxy cannot serve (KEYS,
// MULTI, SUBSCRIBE, unknown commands, ...) and the pool's denied commands with an error reply.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/codec.h"
#include "api/config/filters/v1/reject_unsupported.pb.h"
#include "api/filter.h"
#include "filters/common/case_insensitive.h"
#include "api/command_text.h"

namespace proxy::filters::reject_unsupported {

using common::CaseInsensitiveEq;
using common::CaseInsensitiveHash;

// The validated filter config, shared read-only by every filter instance of a pool.
class DenyList {
 public:
  // kInvalidArgument naming the offending `deny_commands[i]` entry.
  static absl::StatusOr<std::shared_ptr<const DenyList>> Create(
      const config::filters::v1::RejectUnsupportedConfig& config);

  bool empty() const { return commands_.empty(); }
  bool Contains(absl::string_view command) const { return commands_.contains(command); }

 private:
  absl::flat_hash_set<std::string, CaseInsensitiveHash, CaseInsensitiveEq> commands_;
};


// A kUnsupported request is refused with UnsupportedCommandText (api/command_text.h), the
// wording the core uses too.

// The error text for a denied command: "command 'FLUSHALL' is disabled on this pool".
std::string DisabledMessage(const Request& request);

// One per worker, shared by the pool's clients (it keeps only its deny list). Denied commands
// first, then kUnsupported requests: SendLocalError and kStop; everything else passes unchanged.
class RejectUnsupportedFilter final : public Filter {
 public:
  explicit RejectUnsupportedFilter(std::shared_ptr<const DenyList> deny) : deny_(std::move(deny)) {}

  FilterStatus OnRequest(Request& request, FilterCallbacks& callbacks) override;

 private:
  std::shared_ptr<const DenyList> deny_;
};

}  // namespace proxy::filters::reject_unsupported

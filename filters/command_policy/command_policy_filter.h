// The command_policy filter: per-pool allow/deny lists, a read-only switch and per-command token
// bucket rate limits. Refusals are error replies (SendLocalError); the connection stays open.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "api/codec.h"
#include "api/config/filters/v1/command_policy.pb.h"
#include "api/filter.h"
#include "filters/common/case_insensitive.h"
#include "api/command_text.h"
#include "api/stats.h"

namespace proxy::filters::command_policy {

using common::CaseInsensitiveEq;
using common::CaseInsensitiveHash;

// The validated config: immutable, shared read-only by every filter a FilterFactoryFn makes.
class CommandPolicy {
 public:
  // What the config says about one command name (a name absent from the config has no rule).
  struct Rule {
    bool allowed = false;     // listed in allow_commands
    bool denied = false;      // listed in deny_commands
    int32_t rate_limit = -1;  // index into limits(), -1 = not rate limited
  };
  // One validated rate limit (burst already defaulted).
  struct Limit {
    std::string command;  // as written in the config
    uint32_t per_second = 0;
    uint32_t burst = 0;
  };

  // kInvalidArgument naming every offending field ("deny_commands[1]: ...", several joined by
  // "; "): empty or multi-word names, a name both allowed and denied, per_second 0, two limits
  // for one command, a limit on a command that is denied or not allowed. Unknown command names
  // are accepted (the filter does not know the pool's protocol table).
  static absl::StatusOr<std::shared_ptr<const CommandPolicy>> Create(
      const config::filters::v1::CommandPolicyConfig& config);

  // The rule of `command` (case-insensitive), or nullptr when the config never names it.
  const Rule* Find(absl::string_view command) const {
    auto it = rules_.find(command);
    return it == rules_.end() ? nullptr : &it->second;
  }
  bool has_allow_list() const { return has_allow_list_; }
  bool read_only() const { return read_only_; }
  const std::vector<Limit>& limits() const { return limits_; }
  // The allowed names for refusal messages, "GET, MGET" (at most kMaxListedNames, then "...").
  const std::string& allowed_names() const { return allowed_names_; }

  static constexpr size_t kMaxListedNames = 10;

 private:
  absl::flat_hash_map<std::string, Rule, CaseInsensitiveHash, CaseInsensitiveEq> rules_;
  bool has_allow_list_ = false;
  bool read_only_ = false;
  std::vector<Limit> limits_;
  std::string allowed_names_;
};

// A monotonic time source in nanoseconds; the production one reads std::chrono::steady_clock.
using MonotonicClock = std::function<uint64_t()>;
uint64_t SteadyClockNanos();

// One token bucket per CommandPolicy::Limit. Per pool and per worker thread: the factory makes
// one per Create() call and every filter of that pool on that worker shares it. Not thread-safe
// (it never needs to be: all those filters run on the worker that owns them).
class RateLimiter {
 public:
  RateLimiter(absl::Span<const CommandPolicy::Limit> limits, MonotonicClock clock);

  // Refills bucket `index` for the time elapsed since its last use, then takes one token.
  // False (and nothing taken) when the bucket holds less than one token.
  bool TryAcquire(size_t index);

 private:
  // Token counts are kept in units of 1e-9 token, so that refills are exact integers: one
  // nanosecond adds per_second units.
  struct Bucket {
    uint64_t units = 0;           // current content
    uint64_t capacity = 0;        // burst * kUnitsPerToken
    uint64_t per_second = 0;      // units added per elapsed nanosecond
    uint64_t full_refill_ns = 0;  // an empty bucket is full again after this long
    uint64_t last_ns = 0;         // when `units` was last brought up to date
  };
  static constexpr uint64_t kUnitsPerToken = 1000000000;

  MonotonicClock clock_;
  std::vector<Bucket> buckets_;
};

// Refusal counters in the pool's stats scope, child "command_policy": "denied", "not_allowed",
// "read_only", "rate_limited". Resolved once per Create(); every pointer may be null (no scope
// under validate_only, or a test that does not count).
struct PolicyCounters {
  PolicyCounters() = default;
  explicit PolicyCounters(Scope& pool_scope);

  Counter* denied = nullptr;
  Counter* not_allowed = nullptr;
  Counter* read_only = nullptr;
  Counter* rate_limited = nullptr;
};

// What the registered factory's Create() does once the config is typed, on `clock` (the factory
// passes SteadyClockNanos; tests a clock they move by hand): validates the policy, then one
// RateLimiter and one set of counters per call, shared by every filter the function makes.
absl::StatusOr<FilterFactoryFn> CreateFilterFactory(
    const config::filters::v1::CommandPolicyConfig& config, const FactoryContext& context,
    MonotonicClock clock);


// The refusal texts (the codec adds "-ERR " / "SERVER_ERROR "). `command` is quoted safely:
// printable ASCII only, at most 64 bytes.
std::string DeniedMessage(absl::string_view command, absl::string_view pool);
std::string NotAllowedMessage(absl::string_view command, absl::string_view pool,
                              absl::string_view allowed_names);
std::string ReadOnlyMessage(absl::string_view command, absl::string_view pool);
std::string RateLimitedMessage(absl::string_view command, uint32_t per_second);

// Per client connection. In order: denied → not in the allow list → a write on a read-only pool
// → over the command's rate limit: SendLocalError and kStop. Anything else passes unchanged.
// Only a request that passed every other check takes a rate-limit token.
class CommandPolicyFilter final : public Filter {
 public:
  // `limiter` must have been built from `policy->limits()`; `counters` may be null.
  CommandPolicyFilter(std::shared_ptr<const CommandPolicy> policy,
                      std::shared_ptr<RateLimiter> limiter,
                      std::shared_ptr<const PolicyCounters> counters)
      : policy_(std::move(policy)), limiter_(std::move(limiter)), counters_(std::move(counters)) {}

  FilterStatus OnRequest(Request& request, FilterCallbacks& callbacks) override;

 private:
  // Counts on `counter` (when not null), answers with `text` and stops the chain.
  FilterStatus Refuse(Counter* counter, const std::string& text, FilterCallbacks& callbacks);

  std::shared_ptr<const CommandPolicy> policy_;
  std::shared_ptr<RateLimiter> limiter_;
  std::shared_ptr<const PolicyCounters> counters_;
};

}  // namespace proxy::filters::command_policy

// Config validation, token buckets and the per-request checks of the command_policy filter.
#include "filters/command_policy/command_policy_filter.h"

#include <algorithm>
#include <chrono>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/command_text.h"

namespace proxy::filters::command_policy {
namespace {

using config::filters::v1::CommandPolicyConfig;


// "" when `name` is one command word, else why not (`field` is the config path, e.g.
// "deny_commands[2]").
std::string NameProblem(absl::string_view field, absl::string_view name) {
  if (name.empty()) {
    return absl::StrCat(field, ": must not be empty; give a command name");
  }
  for (char c : name) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return absl::StrCat(field, ": '", Quotable(name),
                          "' is not a single command name (no spaces or control characters)");
    }
  }
  return "";
}

// Used when the filter counts nothing.
const PolicyCounters kNoCounters;

// Where a name was first listed: the field path, for "also in ..." messages.
using FirstSeen = absl::flat_hash_map<std::string, std::string, CaseInsensitiveHash,
                                      CaseInsensitiveEq>;

}  // namespace

absl::StatusOr<std::shared_ptr<const CommandPolicy>> CommandPolicy::Create(
    const CommandPolicyConfig& config) {
  auto policy = std::make_shared<CommandPolicy>();
  std::vector<std::string> errors;
  auto check_name = [&errors](const std::string& field, absl::string_view name) {
    std::string problem = NameProblem(field, name);
    if (problem.empty()) return true;
    errors.push_back(std::move(problem));
    return false;
  };

  FirstSeen allowed_at;
  std::vector<std::string> listed;
  for (int i = 0; i < config.allow_commands_size(); ++i) {
    const std::string& name = config.allow_commands(i);
    const std::string field = absl::StrCat("allow_commands[", i, "]");
    if (!check_name(field, name)) continue;
    if (allowed_at.emplace(name, field).second) listed.push_back(name);
    policy->rules_[absl::AsciiStrToUpper(name)].allowed = true;
  }
  policy->has_allow_list_ = config.allow_commands_size() > 0;
  const size_t shown = std::min(listed.size(), kMaxListedNames);
  policy->allowed_names_ = absl::StrJoin(listed.begin(), listed.begin() + shown, ", ");
  if (shown < listed.size()) {
    absl::StrAppend(&policy->allowed_names_, ", ... (", listed.size(), " in all)");
  }

  FirstSeen denied_at;
  for (int i = 0; i < config.deny_commands_size(); ++i) {
    const std::string& name = config.deny_commands(i);
    const std::string field = absl::StrCat("deny_commands[", i, "]");
    if (!check_name(field, name)) continue;
    if (auto it = allowed_at.find(name); it != allowed_at.end()) {
      errors.push_back(absl::StrCat(field, ": '", name, "' is also allowed by ", it->second,
                                    "; a command cannot be both allowed and denied"));
      continue;
    }
    denied_at.emplace(name, field);
    policy->rules_[absl::AsciiStrToUpper(name)].denied = true;
  }

  FirstSeen limited_at;
  for (int i = 0; i < config.rate_limits_size(); ++i) {
    const CommandPolicyConfig::RateLimit& limit = config.rate_limits(i);
    const std::string entry = absl::StrCat("rate_limits[", i, "]");
    const std::string& name = limit.command();
    const size_t errors_before = errors.size();
    if (check_name(absl::StrCat(entry, ".command"), name)) {
      if (auto it = limited_at.find(name); it != limited_at.end()) {
        errors.push_back(absl::StrCat(entry, ".command: '", name, "' already has a rate limit in ",
                                      it->second, " (one limit per command)"));
      } else if (auto denied = denied_at.find(name); denied != denied_at.end()) {
        errors.push_back(absl::StrCat(entry, ".command: '", name, "' is denied by ",
                                      denied->second, "; its rate limit would never apply"));
      } else if (policy->has_allow_list_ && !allowed_at.contains(name)) {
        errors.push_back(absl::StrCat(entry, ".command: '", name,
                                      "' is not in allow_commands; its rate limit would never "
                                      "apply"));
      }
    }
    if (limit.per_second() == 0) {
      errors.push_back(absl::StrCat(entry,
                                    ".per_second: must be at least 1 (to refuse a command "
                                    "altogether, list it in deny_commands)"));
    }
    if (errors.size() != errors_before) continue;
    limited_at.emplace(name, entry);
    policy->rules_[absl::AsciiStrToUpper(name)].rate_limit =
        static_cast<int32_t>(policy->limits_.size());
    policy->limits_.push_back(
        Limit{name, limit.per_second(), limit.burst() == 0 ? limit.per_second() : limit.burst()});
  }
  policy->read_only_ = config.read_only();

  if (!errors.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(errors, "; "));
  }
  return std::shared_ptr<const CommandPolicy>(std::move(policy));
}

uint64_t SteadyClockNanos() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

RateLimiter::RateLimiter(absl::Span<const CommandPolicy::Limit> limits, MonotonicClock clock)
    : clock_(std::move(clock)) {
  const uint64_t now = limits.empty() ? 0 : clock_();
  buckets_.reserve(limits.size());
  for (const CommandPolicy::Limit& limit : limits) {
    Bucket bucket;
    bucket.capacity = static_cast<uint64_t>(limit.burst) * kUnitsPerToken;
    bucket.per_second = limit.per_second;
    // Below this, elapsed * per_second <= capacity (no overflow: capacity < 2^63).
    bucket.full_refill_ns = bucket.capacity / bucket.per_second + 1;
    bucket.units = bucket.capacity;  // starts full: a burst may pass right away
    bucket.last_ns = now;
    buckets_.push_back(bucket);
  }
}

bool RateLimiter::TryAcquire(size_t index) {
  Bucket& bucket = buckets_[index];
  const uint64_t now = clock_();
  if (now > bucket.last_ns) {
    const uint64_t elapsed = now - bucket.last_ns;
    bucket.units = elapsed >= bucket.full_refill_ns
                       ? bucket.capacity
                       : std::min(bucket.capacity, bucket.units + elapsed * bucket.per_second);
    bucket.last_ns = now;
  }
  if (bucket.units < kUnitsPerToken) {
    return false;
  }
  bucket.units -= kUnitsPerToken;
  return true;
}

PolicyCounters::PolicyCounters(Scope& pool_scope) {
  Scope& scope = pool_scope.Child("command_policy");
  denied = &scope.CounterFor("denied");
  not_allowed = &scope.CounterFor("not_allowed");
  read_only = &scope.CounterFor("read_only");
  rate_limited = &scope.CounterFor("rate_limited");
}

std::string DeniedMessage(absl::string_view command, absl::string_view pool) {
  return absl::StrCat("command '", Quotable(command), "' is refused: pool '", pool,
                      "' denies it");
}

std::string NotAllowedMessage(absl::string_view command, absl::string_view pool,
                              absl::string_view allowed_names) {
  return absl::StrCat("command '", Quotable(command), "' is refused: pool '", pool,
                      "' allows only ", allowed_names);
}

std::string ReadOnlyMessage(absl::string_view command, absl::string_view pool) {
  return absl::StrCat("command '", Quotable(command), "' is refused: pool '", pool,
                      "' is read-only");
}

std::string RateLimitedMessage(absl::string_view command, uint32_t per_second) {
  return absl::StrCat("command '", Quotable(command), "' is over its rate limit of ", per_second,
                      " per second");
}

FilterStatus CommandPolicyFilter::OnRequest(Request& request, FilterCallbacks& callbacks) {
  const absl::string_view name = CommandName(request);
  const CommandPolicy::Rule* rule = policy_->Find(name);  // one lookup answers every check
  const PolicyCounters& counters = counters_ != nullptr ? *counters_ : kNoCounters;
  if (rule != nullptr && rule->denied) {
    return Refuse(counters.denied, DeniedMessage(name, callbacks.Pool().Name()), callbacks);
  }
  if (policy_->has_allow_list() && (rule == nullptr || !rule->allowed)) {
    return Refuse(counters.not_allowed,
                  NotAllowedMessage(name, callbacks.Pool().Name(), policy_->allowed_names()),
                  callbacks);
  }
  if (policy_->read_only() && request.is_write) {
    return Refuse(counters.read_only, ReadOnlyMessage(name, callbacks.Pool().Name()), callbacks);
  }
  if (rule != nullptr && rule->rate_limit >= 0) {
    const auto index = static_cast<size_t>(rule->rate_limit);
    if (!limiter_->TryAcquire(index)) {
      return Refuse(counters.rate_limited,
                    RateLimitedMessage(name, policy_->limits()[index].per_second), callbacks);
    }
  }
  return FilterStatus::kContinue;
}

FilterStatus CommandPolicyFilter::Refuse(Counter* counter, const std::string& text,
                                         FilterCallbacks& callbacks) {
  if (counter != nullptr) counter->Add(1);
  callbacks.SendLocalError(text);  // encodes the error reply and stops the chain
  return FilterStatus::kStop;
}

}  // namespace proxy::filters::command_policy

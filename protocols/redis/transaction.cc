// Transaction state (protocols/redis/transaction.h). Placeholder until the implementation lands:
// decides nothing, so the session's existing behaviour applies.
#include "protocols/redis/transaction.h"

namespace proxy::protocols::redis {

bool Transaction::OnRequest(const Request&, const CommandSpec*, std::string*, LocalAction*) {
  pin_ = PinAction::kNone;
  return false;
}

std::string Transaction::PinPrelude() const { return {}; }
void Transaction::OnPinRefused() { failed_ = true; }
void Transaction::OnPinLost() { pinned_ = false; }
PinAction Transaction::Reset() {
  const PinAction action = pinned_ ? PinAction::kReset : PinAction::kNone;
  pin_ = action;
  in_multi_ = multi_sent_ = pinned_ = failed_ = false;
  return action;
}

}  // namespace proxy::protocols::redis

// One client's transaction state on a sharding proxy: MULTI/EXEC/DISCARD/WATCH/UNWATCH run on
// one server through a dedicated server connection (api/codec.h PinAction), never on a shared
// one. RedisSession owns one and calls it first for every authenticated request.
//
//   MULTI (not pinned)   → +OK from the proxy; MULTI is held and sent (PinPrelude) in front of
//                          the first command that has a key, which pins the client to that
//                          key's server (PinAction::kPin)
//   MULTI (pinned: WATCH) → sent on the pinned connection (kPinned)
//   commands in MULTI    → must map to the pinned server (PinnedOnly); a key elsewhere gets an
//                          error and fails the transaction; keyless commands before the first
//                          key are refused and fail it too; EXEC then answers -EXECABORT and
//                          the pinned connection is reset (kReset: DISCARD, UNWATCH)
//   EXEC / DISCARD       → sent on the pinned connection, which is released after the reply
//                          (kRelease); with nothing sent yet: *0 / +OK from the proxy
//   WATCH key...         → routed by its keys (colocated), pins the client (kPin); commands
//                          between WATCH and MULTI for other servers use shared connections
//   UNWATCH              → kRelease when pinned outside MULTI, +OK otherwise
//   MULTI inside MULTI   → -ERR MULTI calls can not be nested (redis's text)
//   EXEC/DISCARD without MULTI → -ERR EXEC without MULTI / -ERR DISCARD without MULTI
#pragma once

#include <string>

#include "api/codec.h"
#include "protocols/redis/command_table.h"

namespace proxy::protocols::redis {

class Transaction {
 public:
  // Called for every authenticated request before anything else of the session. True when the
  // transaction decided what happens to it (`*action`, and `*reply` for local replies); false
  // when the session goes on as usual (Pin() may still route it to the pinned connection).
  bool OnRequest(const Request& request, const CommandSpec* spec, std::string* reply,
                 LocalAction* action);
  // What the core does with the request just seen (api/codec.h PinAction).
  PinAction Pin() const { return pin_; }
  bool PinnedOnly() const { return in_multi_; }
  std::string PinPrelude() const;
  void OnPinRefused();
  void OnPinLost();
  // Pinned, or inside MULTI: a protocol change (HELLO) is refused meanwhile.
  bool Active() const { return in_multi_ || pinned_; }
  // RESET: forgets everything; returns the pin action for it (kReset when pinned).
  PinAction Reset();

 private:
  PinAction pin_ = PinAction::kNone;
  bool in_multi_ = false;
  bool multi_sent_ = false;  // MULTI reached the server (else the proxy holds it)
  bool pinned_ = false;
  bool failed_ = false;      // EXEC will abort
};

}  // namespace proxy::protocols::redis

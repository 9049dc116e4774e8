// The redis Codec of one pool (its redis_auth and redis_db) and the per-connection Session that
// answers local commands and enforces AUTH.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "api/buffer.h"
#include "api/codec.h"

namespace proxy::protocols::redis {

// Stateless after construction; shared by every connection and worker of a pool.
//
// EncodeError always produces "-ERR <text>\r\n" (CR and LF inside `text` become spaces, so a
// reply can never be broken by its text). Replies that need another error code (-NOAUTH) are
// produced by the Session, which writes whole replies.
class RedisCodec final : public Codec {
 public:
  // `auth`: the pool's redis_auth ("" = none); `db`: the pool's redis_db.
  RedisCodec(std::string auth, uint32_t db);

  RequestDecoderPtr NewRequestDecoder(const DecoderLimits& limits) const override;
  ReplyDecoderPtr NewReplyDecoder(const DecoderLimits& limits) const override;
  SessionPtr NewSession() const override;
  void EncodeError(absl::string_view text, std::string* out) const override;
  // MGET, DEL, UNLINK, TOUCH, EXISTS and MSET: one fragment per server in ascending server
  // order, keys in their original relative order, the command name in lower case (as
  // twemproxy sends it). Nothing when every key maps to one server.
  std::vector<Fragment> Split(const Request& request,
                              absl::Span<const uint32_t> key_servers) const override;
  // MGET: one array in the original key order; DEL/UNLINK/TOUCH/EXISTS: the sum; MSET: +OK.
  // False (and `out` untouched) when a fragment reply is not exactly what its command returns.
  bool Merge(const Request& request, absl::Span<const Fragment> fragments,
             absl::Span<const std::string> replies, std::string* out) const override;
  // AUTH <redis_auth> (when set), then SELECT <redis_db> (when > 0): AUTH must come first or
  // a password-protected server refuses the SELECT (twemproxy's order is the wrong one).
  std::vector<std::string> ServerHandshake() const override;
  absl::string_view UnsupportedReason(absl::string_view command) const override;
  // Re-encodes the request (array or inline, from its wire bytes) as a RESP array with every
  // key argument (as the command table places them: the key, every key of a split command,
  // MSET's every other argument, numkeys-counted keys and ZUNIONSTORE's destination) replaced
  // by map(key); the command name and other arguments are kept byte for byte. COMMAND and
  // LOLWUT (routed by "placeholder") carry no key: their bytes are appended unchanged. False
  // for unknown, unsupported and local commands, or bytes that are not the decoded request.
  // When the request has_rewrite (inline commands, which the decoder re-encodes as RESP, and
  // requests after skipped blank lines) `rewritten` is the request rewritten, not `wire`.
  bool RewriteKeys(const Request& request, const Buffer& wire,
                   absl::FunctionRef<std::string(absl::string_view)> map,
                   std::string* out) const override;
  // No reply the proxy forwards carries keys: always false (the reply is left unchanged).
  bool RewriteReplyKeys(const Request& request, absl::string_view reply,
                        absl::FunctionRef<std::string(absl::string_view)> map,
                        std::string* out) const override {
    return false;
  }

  const std::string& auth() const { return auth_; }
  uint32_t db() const { return db_; }

 private:
  std::string auth_;
  uint32_t db_;
};

// Per client connection: local commands and authentication (spec 4.5).
//
//   redis_auth set, not authenticated: everything but AUTH and QUIT → -NOAUTH Authentication
//                                      required (twemproxy's text, no trailing period)
//   AUTH pw / AUTH default pw          → +OK when pw matches, else -ERR invalid password (an
//                                      authenticated connection stays authenticated, as in
//                                      redis); the comparison takes constant time (auth.h)
//   AUTH without redis_auth            → -ERR Client sent AUTH, but no password is set
//   PING → +PONG, PING msg → $msg, ECHO msg → $msg, QUIT → +OK then close,
//   SELECT db → +OK for the pool's redis_db, an error naming that database otherwise.
//
// Transactions. MULTI is refused (a transaction cannot span servers, and it would change the
// mode of a shared server connection), and so is everything up to the EXEC or DISCARD that
// ends it, so that no command of a refused transaction ever runs:
//   MULTI                    → an error naming the reason; the refused-transaction state begins
//                              (before AUTH on a redis_auth pool: -NOAUTH, no state, as redis)
//   any command in the state → -ERR command not run ... (never forwarded, never local), except
//                              QUIT, which still closes
//   MULTI in the state       → -ERR MULTI calls can not be nested
//   EXEC                     → -EXECABORT Transaction discarded because of previous errors: ...
//                              (redis-py raises the MULTI error, as redis's own EXECABORT makes
//                              it do)
//   DISCARD                  → +OK (nothing was run: the transaction is discarded indeed)
// EXEC, DISCARD, WATCH, UNWATCH outside the state are ordinary unsupported commands (refused
// by the core with the codec's UnsupportedReason).
class RedisSession final : public Session {
 public:
  explicit RedisSession(const RedisCodec& codec);

  LocalAction OnRequest(const Request& request, std::string* reply) override;

 private:
  const RedisCodec& codec_;
  bool authenticated_ = false;
  bool in_refused_multi_ = false;
};

}  // namespace proxy::protocols::redis

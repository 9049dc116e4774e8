// The redis Codec of one pool (its credentials and redis_db) and the per-connection Session
// that answers local commands and enforces AUTH.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "api/buffer.h"
#include "api/codec.h"
#include "api/config/v1/bootstrap.pb.h"
#include "protocols/redis/auth.h"
#include "protocols/redis/command_table.h"
#include "protocols/redis/transaction.h"

namespace proxy::protocols::redis {

// What the proxy sends with AUTH on a new server connection: `AUTH password` (user empty, redis's
// default user, which is also all a redis before 6 knows) or `AUTH user password` (an ACL user).
struct ServerCredential {
  std::string user;
  std::string password;
};

// A pool's credentials, both sides (docs/authentication.md has the precedence):
//   clients: client_auth when the pool has it, else redis_auth (twemproxy's meaning), else none;
//   servers: server_auth when the pool has it (its pool-wide credential, overridden per server
//            by the servers: name), else redis_auth, else no AUTH.
struct RedisAuthConfig {
  ClientAuth client;
  std::optional<ServerCredential> server;  // pool-wide
  absl::flat_hash_map<std::string, ServerCredential> per_server;  // by node name

  // twemproxy's redis_auth on both sides ("" = none).
  static RedisAuthConfig FromRedisAuth(const std::string& redis_auth);
  // From a pool's config (validated: with server_auth every server has a credential).
  static RedisAuthConfig FromPool(const config::v1::Pool& pool);
  // The credential sent to `server` (a node name; "" = the pool-wide one), or null.
  const ServerCredential* ServerCredentialFor(absl::string_view server) const;
  // Whether connections send AUTH (every server's, or none: FromPool's guarantee).
  bool SendsAuth() const { return server.has_value() || !per_server.empty(); }
};

// Stateless after construction; shared by every connection and worker of a pool.
//
// EncodeError always produces "-ERR <text>\r\n" (CR and LF inside `text` become spaces, so a
// reply can never be broken by its text). Replies that need another error code (-NOAUTH) are
// produced by the Session, which writes whole replies.
//
// Connection variants (api/codec.h Codec::Variant). The pool's codec speaks RESP2 (variant 0)
// and owns a RESP3 sibling (variant 1) for the clients that sent HELLO 3: the core sends their
// requests on server connections whose handshake sent HELLO 3, read with a RESP3 reply
// decoder, so replies travel to the client as the server wrote them; the proxy never converts
// between the two. The sibling differs in: ServerHandshake (AUTH, HELLO 3, SELECT), its reply
// decoder (RESP3 types), Merge (MGET's nulls may be "_"), MergeBroadcast (INFO as a verbatim
// string). Everything else is shared. Variant(0) of either is the RESP2 codec.
class RedisCodec final : public Codec {
 public:
  // The version the proxy reports in HELLO's reply (INFO reports the servers' lowest): the
  // command set the proxy knows is redis 7's (protocols/redis/command_table.cc).
  static constexpr absl::string_view kHelloVersion = "7.0.0";

  // `auth`: the pool's redis_auth ("" = none); `db`: the pool's redis_db. The RESP2 codec.
  RedisCodec(std::string auth, uint32_t db, bool check_role = false, bool cluster = false);
  // With client_auth / server_auth (RedisAuthConfig::FromPool).
  RedisCodec(RedisAuthConfig auth, uint32_t db, bool check_role = false, bool cluster = false);
  RedisCodec(const RedisCodec&) = delete;
  RedisCodec& operator=(const RedisCodec&) = delete;
  ~RedisCodec() override;

  RequestDecoderPtr NewRequestDecoder(const DecoderLimits& limits) const override;
  ReplyDecoderPtr NewReplyDecoder(const DecoderLimits& limits) const override;
  SessionPtr NewSession() const override;
  void EncodeError(absl::string_view text, std::string* out) const override;
  // MGET, DEL, UNLINK, TOUCH, EXISTS and MSET: one fragment per server in ascending server
  // order, keys in their original relative order, the command name in lower case (as
  // twemproxy sends it). Nothing when every key maps to one server. A broadcast request (INFO):
  // one fragment per listed server, each the INFO request of protocols/redis/info.h.
  std::vector<Fragment> Split(const Request& request,
                              absl::Span<const uint32_t> key_servers) const override;
  // MGET: one array in the original key order; DEL/UNLINK/TOUCH/EXISTS: the sum; MSET: +OK.
  // False (and `out` untouched) when a fragment reply is not exactly what its command returns.
  bool Merge(const Request& request, absl::Span<const Fragment> fragments,
             absl::Span<const std::string> replies, std::string* out) const override;
  // INFO: the document of protocols/redis/info.h, a bulk string (RESP2) or a verbatim string
  // "=<n>\r\ntxt:<document>\r\n" (RESP3, as redis answers). False when a server's reply is
  // not a bulk or verbatim string (an error).
  bool MergeBroadcast(const Request& request, absl::Span<const Fragment> fragments,
                      absl::Span<const std::string> replies, const PoolFacts& facts,
                      std::string* out) const override;
  // AUTH [user] password (the pool-wide server credential, when there is one), then (RESP3)
  // HELLO 3, then SELECT <redis_db> (when > 0): AUTH must come first or a password-protected
  // server refuses the rest (twemproxy's order is the wrong one).
  std::vector<std::string> ServerHandshake() const override;
  // The same with `server`'s credential (its server_auth servers: override, else the pool's);
  // `server` is the node name (a replica's master's).
  std::vector<std::string> ServerHandshakeFor(absl::string_view server) const override;
  // With Sentinel (`check_role`): ROLE ends the handshake and must say "master" before any
  // request is written (a demoted master must never get one), or "slave" on a connection to a
  // replica (a promoted one gets no read as a replica).
  absl::Status CheckHandshakeReply(size_t index, absl::string_view reply,
                                   ServerRole role) const override;
  bool HandshakeGatesRequests() const override { return check_role_; }
  // Redis Cluster pools: READONLY, so that a cluster replica serves the reads sent to it.
  std::vector<std::string> ReplicaHandshake() const override;
  // Redis Cluster pools: "-MOVED <slot> <host>:<port>", "-ASK <slot> <host>:<port>" and
  // "-TRYAGAIN ..." (a multi-key request during a slot's migration); ASKING.
  bool FollowsRedirects() const override { return cluster_; }
  Redirect ParseRedirect(absl::string_view reply) const override;
  std::string AskingRequest() const override { return "*1\r\n$6\r\nASKING\r\n"; }
  // PING (after the handshake, so AUTH comes first).
  std::string HealthCheckRequest() const override { return "*1\r\n$4\r\nPING\r\n"; }
  // Replicas are checked with INFO replication: they serve reads while it says role:slave and
  // master_link_status:up (a replica whose link is down may be behind by any amount).
  std::string ReplicaCheckRequest() const override;
  absl::Status CheckReplicaReply(absl::string_view reply) const override;
  // 0: the RESP2 codec; 1: the RESP3 sibling; nullptr otherwise.
  const Codec* Variant(uint8_t id) const override;
  // DISCARD, then UNWATCH: a pinned connection back to a clean state (replies dropped).
  std::vector<std::string> PinResetRequests() const override;
  // The command table's refusal (CommandSpec::refusal, RefusalText), any case; "" for served
  // and unknown commands.
  absl::string_view UnsupportedReason(absl::string_view command) const override;
  // Re-encodes the request (array or inline, from its wire bytes) as a RESP array with every
  // key argument (FindKeys' positions, the decoder's: the key, every key of a split command,
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

  const ClientAuth& client_auth() const { return resp2_->auth_.client; }
  const RedisAuthConfig& auth_config() const { return resp2_->auth_; }
  uint32_t db() const { return db_; }
  // 2 or 3: the protocol of this codec's server connections and merged replies.
  int protocol() const { return protocol_; }

 private:
  struct Resp3Sibling {};
  // The RESP3 sibling of `resp2`.
  RedisCodec(Resp3Sibling, const RedisCodec& resp2);

  // Handshake() with this AUTH (null: none).
  std::vector<std::string> Handshake(const ServerCredential* credential) const;
  // How many requests every server connection's handshake has (the last is ROLE with
  // check_role_).
  size_t HandshakeLength() const;

  RedisAuthConfig auth_;  // the RESP3 sibling reads its owner's (auth_config())
  bool check_role_ = false;
  bool cluster_ = false;
  uint32_t db_;
  int protocol_ = 2;
  const RedisCodec* resp2_;            // variant 0 (this codec, or the sibling's owner)
  std::unique_ptr<RedisCodec> resp3_;  // variant 1, owned by the RESP2 codec
};

// Per client connection: local commands, authentication, the connection's protocol and name,
// and its transaction (protocols/redis/transaction.h, asked first about every authenticated
// request).
//
//   redis_auth set, not authenticated: everything but AUTH, HELLO, RESET and QUIT → -NOAUTH
//                                      Authentication required (twemproxy's text, no period)
//   AUTH pw / AUTH default pw          → +OK when pw matches, else -ERR invalid password (an
//                                      authenticated connection stays authenticated, as in
//                                      redis); the comparison takes constant time (auth.h)
//   AUTH without a password set        → -ERR Client sent AUTH, but no password is set
//   client_auth set (it replaces redis_auth for clients; auth.h ClientAuth), redis 6+'s texts:
//     not authenticated: everything but AUTH, HELLO, RESET and QUIT → -NOAUTH Authentication
//                                      required.
//     AUTH pw / AUTH user pw           → +OK when (user, pw) is one of the entries (a plain
//                                      password is user "default"), else -WRONGPASS invalid
//                                      username-password pair or user is disabled.
//   PING → +PONG, PING msg → $msg, ECHO msg → $msg, QUIT → +OK then close,
//   SELECT db → +OK for the pool's redis_db, an error naming that database otherwise.
//
// Connection commands, answered as redis 7 answers them (its texts):
//   HELLO [protover [AUTH user pass] [SETNAME name]]
//        → redis's reply: a flat array (RESP2) or a map %7 (RESP3) of server "redis", version
//          RedisCodec::kHelloVersion, proto, id (CLIENT ID), mode "standalone", role "master",
//          modules []. protover not 2 or 3 → -NOPROTO unsupported protocol version. AUTH is
//          checked like AUTH (redis_auth: user "default"; client_auth: any entry; without
//          either any password of "default" is accepted, as redis's nopass default user
//          does), failure → -WRONGPASS invalid
//          username-password pair or user is disabled. Without AUTH on a connection not yet
//          authenticated → redis's -NOAUTH HELLO must be called with the client already
//          authenticated... . HELLO 3 makes Variant() 1: later requests use RESP3 server
//          connections; HELLO 2 makes it 0 (requests already sent are answered in the
//          protocol they were sent in). A HELLO that would change the protocol while a
//          transaction or WATCH is active (Transaction::Active: its pinned connection speaks
//          the old one) is refused with an error; one that keeps it is answered.
//   CLIENT SETNAME/GETNAME (the name lives in the session; redis's validation), SETINFO
//          LIB-NAME/LIB-VER (+OK, kept for CLIENT INFO), ID, INFO (one line in redis's form,
//          of this session), REPLY ON, TRACKING OFF, GETREDIR (-1), TRACKINGINFO (off) → as
//          redis answers a connection without tracking. CLIENT CACHING → redis's error for a
//          connection without tracking. CLIENT MAINT_NOTIFICATIONS → -ERR unknown subcommand
//          (what redis before 8.2 answers; redis-py and node-redis then carry on without
//          notifications). REPLY OFF/SKIP, TRACKING ON, NO-EVICT, NO-TOUCH and the server-wide
//          subcommands (LIST, KILL, PAUSE, UNPAUSE, UNBLOCK, ...) → -ERR unsupported ...
//          (LocalAction::kRefused: counted and logged with the proxy's other refusals)
//   READONLY, READWRITE → +OK (a pool is not a cluster: nothing to change)
//   RESET → +RESET; back to a new connection's state: RESP2, no name, no library, no
//          transaction (the pinned connection is reset: Pin() is kReset), and not
//          authenticated when the pool has a password (redis's RESET authenticates the
//          connection as the default user, which needs a password when one is set).
class RedisSession final : public Session {
 public:
  explicit RedisSession(const RedisCodec& codec);

  LocalAction OnRequest(const Request& request, std::string* reply) override;
  uint8_t Variant() const override { return resp_ == 3 ? 1 : 0; }
  PinAction Pin() const override { return pin_; }
  bool PinnedOnly() const override { return transaction_.PinnedOnly(); }
  std::string PinPrelude() const override { return transaction_.PinPrelude(); }
  void OnPinRefused() override { transaction_.OnPinRefused(); }
  void OnPinLost() override { transaction_.OnPinLost(); }
  void OnInvalidRequest() override { transaction_.OnInvalidRequest(); }

 private:
  LocalAction Hello(const ArgList& args, std::string* reply);
  LocalAction Client(const CommandSpec& spec, const ArgList& args, std::string* reply);
  void AppendHelloReply(std::string* reply) const;
  std::string InfoLine() const;
  void ResetConnection();

  // CLIENT SETNAME / SETINFO and HELLO's SETNAME, made when a client sets one: one session per
  // client connection, and many clients never do (issue 15: 88 bytes less per connection).
  struct Names {
    std::string name;
    std::string lib_name;
    std::string lib_ver;
  };
  Names& names() {
    if (names_ == nullptr) names_ = std::make_unique<Names>();
    return *names_;
  }

  const RedisCodec& codec_;
  uint64_t id_;
  std::chrono::steady_clock::time_point created_;
  std::unique_ptr<Names> names_;
  int resp_ = 2;
  bool authenticated_ = false;
  PinAction pin_ = PinAction::kNone;
  Transaction transaction_;
};

}  // namespace proxy::protocols::redis

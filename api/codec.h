// Wire-protocol plugin interface (twemproxy's nc_proto.h table as classes): resumable request
// and reply decoders, local commands, error encoding, and splitting/merging of multi-key
// requests. The core moves wire bytes; codecs only describe them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "api/buffer.h"

namespace proxy {

namespace config::v1 {
class Pool;
}  // namespace config::v1

// How the core and the filters treat a request.
enum class CommandKind : uint8_t {
  kRead,         // routed by its key, forwarded
  kWrite,        // routed by its key, forwarded
  kMultiKey,     // may be split across servers (MGET, DEL, MSET, get k1 k2 ...)
  kLocal,        // answered by the proxy itself through Session (PING, QUIT, AUTH, mn)
  kUnsupported,  // well-formed but cannot be proxied (KEYS, MULTI, ...): rejected with an error
};

// A list of byte strings stored back to back (one allocation for all of them).
class ArgList {
 public:
  void Clear() {
    data_.clear();
    ends_.clear();
  }
  void Add(absl::string_view arg) {
    data_.append(arg.data(), arg.size());
    ends_.push_back(static_cast<uint32_t>(data_.size()));
  }
  // Appends to the last argument (for arguments that arrive in pieces).
  void StartArg() { ends_.push_back(static_cast<uint32_t>(data_.size())); }
  void AppendToLast(absl::string_view piece) {
    data_.append(piece.data(), piece.size());
    ends_.back() = static_cast<uint32_t>(data_.size());
  }
  size_t size() const { return ends_.size(); }
  bool empty() const { return ends_.empty(); }
  absl::string_view operator[](size_t i) const {
    const uint32_t begin = i == 0 ? 0 : ends_[i - 1];
    return absl::string_view(data_.data() + begin, ends_[i] - begin);
  }
  size_t ByteSize() const { return data_.size(); }
  // Replaces argument `i` (rebuilds the storage; for filters that rewrite keys).
  void Set(size_t i, absl::string_view arg) {
    const uint32_t begin = i == 0 ? 0 : ends_[i - 1];
    const uint32_t old_size = ends_[i] - begin;
    data_.replace(begin, old_size, arg.data(), arg.size());
    const int64_t delta = static_cast<int64_t>(arg.size()) - old_size;
    for (size_t j = i; j < ends_.size(); ++j) ends_[j] = static_cast<uint32_t>(ends_[j] + delta);
  }
  // Returns memory after a large request so that a burst does not pin it (keeps small buffers).
  void ReleaseIfLarge(size_t limit) {
    if (data_.capacity() > limit) std::string().swap(data_);
    if (ends_.capacity() > limit / 4) std::vector<uint32_t>().swap(ends_);
  }

 private:
  std::string data_;
  std::vector<uint32_t> ends_;
};

// One decoded client request. Its wire bytes stay in the connection's input buffer and are
// forwarded verbatim unless `rewritten` is set; the request only describes them.
struct Request {
  // Canonical command name ("GET" for redis, "get" for memcache); static storage.
  absl::string_view command;
  CommandKind kind = CommandKind::kRead;
  uint16_t command_id = 0;  // codec-private
  uint16_t codec_flags = 0;  // codec-private
  uint32_t codec_tag = 0;    // codec-private (memcache binary: the request's opaque)
  // False for requests that get no reply (memcache noreply): no timeout, no error reply.
  bool expects_reply = true;
  // The routing key is not the client's (COMMAND, version are routed by "placeholder").
  bool synthetic_key = false;
  // The command changes data (SET, DEL, MSET, memcache set/incr/delete...): read-only policies
  // refuse it.
  bool is_write = false;
  // Several keys that must all live on one server (SINTER, RPOPLPUSH, EVAL keys, ...): routed
  // by Key(0); the router refuses the request when the keys map to different servers.
  bool colocated_keys = false;
  // Sent to every live server of the pool (redis INFO): the core asks Codec::Split for one
  // fragment per server and Codec::MergeBroadcast for the client's reply. Routed like a
  // synthetic-key request by the filter chain (so filters see it), then fanned out.
  bool broadcast = false;
  // Size of the request on the wire, at the head of the input when decoded.
  size_t wire_size = 0;
  // Single-key commands: the key. kMultiKey: every argument after the command name
  // (MSET: key, value, key, value, ...). kLocal: the arguments the session needs.
  ArgList args;
  // Distance between keys in `args` (MSET: 2).
  uint8_t key_step = 1;
  // When true, `rewritten` is sent instead of the wire bytes (filters that change keys).
  bool has_rewrite = false;
  std::string rewritten;

  size_t KeyCount() const { return kind == CommandKind::kLocal ? 0 : args.size() / key_step; }
  absl::string_view Key(size_t i) const { return args[i * key_step]; }
  void Reset() {
    command = {};
    kind = CommandKind::kRead;
    command_id = 0;
    codec_flags = 0;
    codec_tag = 0;
    expects_reply = true;
    synthetic_key = false;
    colocated_keys = false;
    broadcast = false;
    is_write = false;
    wire_size = 0;
    args.Clear();
    key_step = 1;
    has_rewrite = false;
    rewritten.clear();
    args.ReleaseIfLarge(64u << 10);
    if (rewritten.capacity() > (64u << 10)) std::string().swap(rewritten);
  }
};

// One decoded server reply; its wire bytes stay in the server connection's input buffer.
struct Reply {
  size_t wire_size = 0;
  // An error reply (redis "-...", memcache "ERROR", "CLIENT_ERROR", "SERVER_ERROR").
  bool is_error = false;
  // The server says it cannot serve now (redis -OOM, -BUSY, -LOADING): counts as a server
  // failure for ejection, but the reply is still passed to the client (it explains itself).
  bool server_failure = false;
  void Reset() { *this = Reply(); }
};

enum class DecodeResult {
  kMessage,         // one complete message; the caller removes its wire_size bytes next
  kNeedMoreData,    // call again when more bytes arrived (all state is kept)
  kInvalidRequest,  // wire_size bytes form a request that cannot be served: reply with the
                    // error text, drop those bytes and go on (only when resynchronisable)
  kProtocolError,   // the stream cannot be resynchronised: reply with the error text and close
};

// Limits applied while decoding so that memory stays bounded.
struct DecoderLimits {
  size_t max_message_bytes = 512u << 20;  // a larger request/reply is refused
  size_t max_key_bytes = 16u << 10;       // a larger key is refused (twemproxy: mbuf size)
  size_t max_args = 1u << 20;             // arguments per request
};

// Per client connection; a resumable state machine. Contract: Decode() looks at `in` from the
// front; after kMessage or kInvalidRequest the caller removes exactly `out->wire_size` bytes
// from the front of `in` before calling again. Between calls the decoder keeps its position,
// so bytes are scanned once.
class RequestDecoder {
 public:
  virtual ~RequestDecoder() = default;
  virtual DecodeResult Decode(const Buffer& in, Request* out, std::string* error) = 0;
  // True when a decoder made now by the same codec would decode the rest of the stream exactly
  // as this one: between two requests, nothing partial, nothing learned from earlier requests
  // (an AUTH that lifted the limits of an unauthenticated client, a protocol error). The core
  // then frees it while the client is idle and makes a new one at the client's next bytes
  // (memory per idle connection). The default is the safe answer.
  virtual bool AtRest() const { return false; }
};
using RequestDecoderPtr = std::unique_ptr<RequestDecoder>;

// Per server connection; same contract as RequestDecoder.
class ReplyDecoder {
 public:
  virtual ~ReplyDecoder() = default;
  virtual DecodeResult Decode(const Buffer& in, Reply* out, std::string* error) = 0;
};
using ReplyDecoderPtr = std::unique_ptr<ReplyDecoder>;

// One piece of a split request: the server it goes to, its bytes, and which of the original
// request's keys (indexes, in order) it carries.
struct Fragment {
  uint32_t server = 0;
  std::string bytes;
  std::vector<uint32_t> keys;
};

// What a server connection is connected to: a pool's server (the key's master), or one of its
// replicas, which get read-only requests by the pool's `read_from:` (redis).
enum class ServerRole : uint8_t { kMaster, kReplica };

// What the proxy does with a kLocal request (or any request, before authentication).
enum class LocalAction {
  kForward,         // not handled locally: run the filter chain
  kReply,           // send `reply` and go on
  kReplyThenClose,  // send `reply` (may be empty), then close once earlier replies are out
  kRefused,         // like kReply, and the reply refuses a valid request (memcache flush_all):
                    // counted and logged with the proxy's other refusals
};

// Transactions (redis MULTI/EXEC, WATCH): a session may pin its client to a dedicated server
// connection of its own, so that a connection-state command never reaches a shared one. After
// Session::OnRequest the core asks Session::Pin() what to do with the request:
enum class PinAction : uint8_t {
  kNone,  // Not pinned: routed and forwarded as usual. Pinned: routed by the chain, then sent
          // on the pinned connection when it maps to the pinned server (a split request, or
          // one whose server differs, goes through the shared connections unless
          // Session::PinnedOnly() says the transaction requires its server: then the core
          // answers an error and calls Session::OnPinRefused()).
  kPin,   // Route the request, take a dedicated connection to its server (bounded per server;
          // refused with an error when none is free: OnPinRefused()), send PinPrelude() first
          // (its replies are the proxy's: dropped), then the request; the client stays pinned.
          // A request that maps to several servers is refused (OnPinRefused()).
  kPinned,   // Keyless: sent on the pinned connection without routing (MULTI after WATCH).
  kRelease,  // Like kPinned, and the pin ends: the connection is free again for another client
             // once this request is answered (EXEC, DISCARD, UNWATCH).
  kReset,    // After a local reply (LocalAction::kReply): the pin ends and the codec's
             // PinResetRequests() are sent first, so the connection is returned clean.
};

// Per client connection protocol state: local commands and authentication.
class Session {
 public:
  virtual ~Session() = default;
  virtual LocalAction OnRequest(const Request& request, std::string* reply) = 0;

  // The server connection class this client's requests use from now on (Codec::Variant): the
  // core reads it after every request the session answers itself (only those may change it),
  // so a HELLO 3 moves the next requests to RESP3 server connections while earlier ones finish
  // where they were sent.
  virtual uint8_t Variant() const { return 0; }

  // Pinning (see PinAction), read by the core after every OnRequest of the current request.
  virtual PinAction Pin() const { return PinAction::kNone; }
  // While pinned: requests must go to the pinned server (inside MULTI); otherwise requests for
  // other servers use the shared connections (between WATCH and MULTI).
  virtual bool PinnedOnly() const { return false; }
  // One request sent on a newly pinned connection before the current one (MULTI held by the
  // session; empty = none); its reply is the proxy's and is dropped.
  virtual std::string PinPrelude() const { return {}; }
  // The core answered the current request (the one OnRequest just saw) with an error instead
  // of forwarding it: a key on another server than the pinned one, no dedicated connection
  // free, a filter's refusal, an unsupported command. The session marks its transaction failed
  // (EXEC then aborts, as redis does after a bad queued command) and forgets a pin it asked for.
  virtual void OnPinRefused() {}
  // The decoder refused a request (DecodeResult::kInvalidRequest: wrong arity, ...) before the
  // session saw it; inside a transaction redis fails the transaction for it.
  virtual void OnInvalidRequest() {}
  // The pinned connection was lost (server closed) or the pin could not be kept: the session
  // forgets the server-side state (a transaction in progress is then failed).
  virtual void OnPinLost() {}
};
using SessionPtr = std::unique_ptr<Session>;

// Stateless and shared by every connection of a pool (and every worker).
class Codec {
 public:
  virtual ~Codec() = default;
  virtual RequestDecoderPtr NewRequestDecoder(const DecoderLimits& limits) const = 0;
  virtual ReplyDecoderPtr NewReplyDecoder(const DecoderLimits& limits) const = 0;
  virtual SessionPtr NewSession() const = 0;
  // Appends a protocol-correct error reply: "-ERR text\r\n" (redis), "SERVER_ERROR text\r\n".
  virtual void EncodeError(absl::string_view text, std::string* out) const = 0;
  // The error reply to one request (a failure, a timeout, an invalid request): binary
  // protocols echo the request's opcode and opaque. Default: EncodeError. The core uses this
  // form whenever it answers a decoded request.
  virtual void EncodeErrorFor(const Request& request, absl::string_view text,
                              std::string* out) const {
    EncodeError(text, out);
  }
  // The reply to a valid request the proxy refuses (unsupported command, a filter's refusal):
  // memcache answers CLIENT_ERROR, since clients treat SERVER_ERROR as a dead server (node
  // `memcached`). Default: EncodeErrorFor.
  virtual void EncodeRefusal(const Request& request, absl::string_view text,
                             std::string* out) const {
    EncodeErrorFor(request, text, out);
  }
  // Splits a kMultiKey request; `key_servers[i]` is the server of Key(i). Returns one fragment
  // per server in server-index order, or nothing when the request should go as is (all keys
  // on one server and the request is valid unsplit). For a Request::broadcast request
  // `key_servers` lists each target server once (ascending) and the codec returns one fragment
  // for each of them.
  virtual std::vector<Fragment> Split(const Request& request,
                                      absl::Span<const uint32_t> key_servers) const = 0;
  // Merges the fragments' replies (`replies[i]` answers `fragments[i]`, whole wire bytes) into
  // one client reply appended to `out`. False when a reply is not of the expected type (the
  // caller then answers with an error instead).
  virtual bool Merge(const Request& request, absl::Span<const Fragment> fragments,
                     absl::Span<const std::string> replies, std::string* out) const = 0;
  // Requests the proxy itself sends first on every new server connection (AUTH, SELECT); their
  // replies are consumed by the proxy, one each.
  virtual std::vector<std::string> ServerHandshake() const { return {}; }
  // The handshake for one server, for protocols whose handshake differs per server (redis
  // server_auth's per-server credentials). `server` is the node name of the server in the
  // pool's `servers:` (for a replica, its master's). The core opens every server connection
  // and health check with this, and compares it across a reload (design-notes.md 21).
  virtual std::vector<std::string> ServerHandshakeFor(absl::string_view server) const {
    return ServerHandshake();
  }
  // Checks the reply (its raw bytes, at most the first 512) to ServerHandshake()[index] on a
  // connection to a server of `role`. An error closes the connection, counted as the server's
  // failure, with the status's message logged. Default: every reply is accepted (error replies
  // are logged).
  virtual absl::Status CheckHandshakeReply(size_t index, absl::string_view reply,
                                           ServerRole role) const {
    return absl::OkStatus();
  }
  // Redis Cluster pools: an error reply that says where the request's slot lives now. kMoved:
  // the slot moved (the core retries there and asks for a new slot map); kAsk: the slot is
  // being migrated and this key already lives on `host:port` (the core retries there once,
  // after AskingRequest()); kTryAgain: the slot is being migrated and the request's keys are
  // split between the two nodes (the core sends it again to the same node a little later;
  // host and port are empty). FollowsRedirects() false: never asked.
  struct Redirect {
    enum class Kind : uint8_t { kNone, kMoved, kAsk, kTryAgain };
    Kind kind = Kind::kNone;
    std::string host;
    uint32_t port = 0;
  };
  virtual bool FollowsRedirects() const { return false; }
  // `reply`: the first bytes (at most 256) of an error reply.
  virtual Redirect ParseRedirect(absl::string_view reply) const { return {}; }
  virtual std::string AskingRequest() const { return {}; }
  // Requests sent after ServerHandshake() on connections to a replica (Redis Cluster: READONLY,
  // without which a cluster replica answers reads with MOVED); replies consumed the same way.
  virtual std::vector<std::string> ReplicaHandshake() const { return {}; }
  // True when no request may be written to a new server connection before every handshake
  // reply has passed CheckHandshakeReply (redis pools with Sentinel: ROLE must say master, or
  // slave on a replica's connection).
  virtual bool HandshakeGatesRequests() const { return false; }
  // The request an active health check sends (`health_check_interval`): redis PING, memcache
  // `version`. Any reply that is not an error passes. Empty: the protocol has no check.
  virtual std::string HealthCheckRequest() const { return {}; }
  // Replica reads (redis `read_from:`): the request that checks a replica instead of
  // HealthCheckRequest (redis: INFO replication), and the verdict on its whole reply (at most
  // kMaxReplicaCheckReply bytes): OK when the replica may serve reads, else why not (e.g. its
  // link to its master is down). Empty: the protocol has no replicas.
  static constexpr size_t kMaxReplicaCheckReply = 16384;
  virtual std::string ReplicaCheckRequest() const { return {}; }
  virtual absl::Status CheckReplicaReply(absl::string_view reply) const {
    return absl::OkStatus();
  }

  // Connection classes. A pool's codec may have variants, each with its own server connections
  // (opened with that variant's ServerHandshake and read with its NewReplyDecoder), so that the
  // proxy never converts between wire forms: redis RESP3 (variant 1, after HELLO 3), memcache
  // binary (variant 1). Variant 0 is the pool's codec itself; nullptr for an unknown variant.
  virtual const Codec* Variant(uint8_t id) const { return id == 0 ? this : nullptr; }
  // The codec a new client connection uses, chosen by its first bytes (at least one byte):
  // memcache's binary protocol starts with 0x80. Default: this codec. Its NewSession() makes
  // the connection's session; Split/Merge/EncodeError then follow Session::Variant().
  virtual const Codec& ForClient(absl::string_view first_bytes) const { return *this; }
  // Requests that return a pinned connection to a clean state (redis: DISCARD, UNWATCH); their
  // replies are dropped, whatever they are.
  virtual std::vector<std::string> PinResetRequests() const { return {}; }

  // What the proxy knows of the pool, for a broadcast request's reply (redis INFO).
  struct PoolFacts {
    absl::string_view pool;
    absl::string_view proxy_version;
    absl::string_view listen;
    uint32_t servers = 0;
    uint32_t servers_ejected = 0;
    uint64_t uptime_s = 0;
    // The counters are the serving worker's: with --workers N, its share.
    uint64_t client_connections = 0;   // open now, this pool
    uint64_t total_connections = 0;    // accepted since start, every pool
    uint64_t requests = 0;             // this pool
    uint64_t refused = 0;              // requests refused by the proxy (this pool)
    uint32_t workers = 1;              // the process's --workers
    uint32_t process_id = 0;
  };
  // The client's reply to a Request::broadcast request: `fragments[i]` went to
  // fragments[i].server and `replies[i]` is its whole reply. False when a reply is not what
  // the command returns (the client then gets an error).
  virtual bool MergeBroadcast(const Request& request, absl::Span<const Fragment> fragments,
                              absl::Span<const std::string> replies, const PoolFacts& facts,
                              std::string* out) const {
    return false;
  }

  // Why a well-formed command (named as the client sent it) cannot be proxied, for the
  // reject_unsupported filter's error reply ("keys are spread over several servers; ..."); empty
  // when the codec has no specific reason. Protocol knowledge stays in the codec.
  virtual absl::string_view UnsupportedReason(absl::string_view command) const { return {}; }

  // Re-encodes `request` (its wire bytes are `wire`, from offset 0) with every key replaced by
  // `map(key)`, appending the new request to `out`. False when the codec cannot (the request is
  // then refused by the filter that asked). Used by key-rewriting filters such as key_prefix.
  virtual bool RewriteKeys(const Request& request, const Buffer& wire,
                           absl::FunctionRef<std::string(absl::string_view)> map,
                           std::string* out) const {
    return false;
  }
  // Rewrites the keys that appear inside a reply to `request` (memcache `VALUE <key>` lines),
  // appending the result to `out`. False when the reply carries no keys (then it is unchanged).
  virtual bool RewriteReplyKeys(const Request& request, absl::string_view reply,
                                absl::FunctionRef<std::string(absl::string_view)> map,
                                std::string* out) const {
    return false;
  }
};
using CodecPtr = std::unique_ptr<Codec>;

// A problem a protocol finds with a pool's settings, e.g. `redis_auth` on a memcache pool.
struct PoolConfigIssue {
  enum class Severity : uint8_t {
    kError,    // the config is refused (`proxyctl check` fails, a reload is not applied)
    kWarning,  // printed (and logged at start), the config is used
  };
  static PoolConfigIssue Error(std::string key, std::string message) {
    return {Severity::kError, std::move(key), std::move(message), false, {}, -1, -1, {}};
  }
  static PoolConfigIssue Warning(std::string key, std::string message) {
    return {Severity::kWarning, std::move(key), std::move(message), false, {}, -1, -1, {}};
  }
  // The key means nothing to this protocol (redis_auth on a memcache pool), rather than
  // breaking one of its rules: reported first, with twemproxy's checks of the pool's keys.
  PoolConfigIssue&& NotTaken() && {
    not_taken = true;
    return std::move(*this);
  }
  // Placed at an entry rather than at `key`'s value: entry `index` of the list `list`
  // ("servers", "sentinels"; "replicas": the index-th server's set, and with `replica` >= 0
  // that replica of it).
  PoolConfigIssue&& AtEntry(std::string list, int entry_index, int replica_index = -1) && {
    at = std::move(list);
    index = entry_index;
    replica = replica_index;
    return std::move(*this);
  }
  // Placed at the entry named `name` of the mapping `mapping` ("server_auth.servers").
  PoolConfigIssue&& AtName(std::string mapping, std::string name) && {
    at = std::move(mapping);
    entry = std::move(name);
    return std::move(*this);
  }

  Severity severity = Severity::kError;
  std::string key;      // the YAML key it concerns ("redis_auth"), as the diagnostic names it
  std::string message;  // what is wrong, without location (the validator adds file:line:col)
  bool not_taken = false;  // NotTaken()
  // Where: the value of `key` (the pool's name when the key is not written), unless `at` is
  // set (AtEntry, AtName).
  std::string at;
  int index = -1;
  int replica = -1;
  std::string entry;
};

// What the validator knows of how a pool was written, beyond the parsed Pool: a key may be
// written and yet leave its field empty (every entry of it was invalid, and already reported).
class PoolSourceView {
 public:
  virtual ~PoolSourceView() = default;
  // True when the pool's YAML has `key` (dotted for a nested key: "tls.cert").
  virtual bool Written(absl::string_view key) const = 0;
  // The entry names written in the mapping `mapping` ("server_auth.servers"), in file order.
  virtual std::vector<std::string> Names(absl::string_view mapping) const = 0;
  // The line of an entry as PoolConfigIssue::AtEntry names it, for messages that point at
  // another entry ("is listed twice (first at line 4)"); 0 when unknown.
  virtual int Line(absl::string_view list, int index, int replica = -1) const = 0;
};

// Registered under the protocol's name: "redis", "memcache".
class CodecFactory {
 public:
  static constexpr absl::string_view kCategory = "protocol";
  virtual ~CodecFactory() = default;
  virtual absl::string_view Name() const = 0;
  virtual absl::string_view Description() const = 0;
  // Protocol-specific checks of a pool's settings, run by the validator for every pool of this
  // protocol (`proxyctl check`, `proxy -t`, the start and every reload): the keys that mean
  // nothing to the protocol (memcache: redis_auth, sentinels, ...) and the rules of the keys
  // that do (redis: sentinels, replicas, redis_cluster, client_auth, server_auth). No sockets,
  // no files. The core reports each issue with its file:line:col.
  virtual std::vector<PoolConfigIssue> ValidatePool(const config::v1::Pool& pool,
                                                    const PoolSourceView& source) const {
    return {};
  }
  // The codec for one pool (its settings: redis_auth, redis_db, ...).
  virtual CodecPtr Create(const config::v1::Pool& pool) const = 0;
};

}  // namespace proxy

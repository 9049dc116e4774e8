// RedisCodec (error encoding, split/merge, server handshake) and RedisSession (local commands).
#include "protocols/redis/redis_codec.h"

#include <algorithm>
#include <cassert>
#include <atomic>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "protocols/redis/auth.h"
#include "protocols/redis/command_table.h"
#include "protocols/redis/info.h"
#include "protocols/redis/reply_decoder.h"
#include "protocols/redis/request_decoder.h"
#include "protocols/redis/resp.h"

namespace proxy::protocols::redis {
namespace {

constexpr absl::string_view kOk = "+OK\r\n";
constexpr absl::string_view kPong = "+PONG\r\n";
constexpr absl::string_view kNoAuth = "-NOAUTH Authentication required\r\n";
// With client_auth: redis 6+'s text (with its period), as redis's own clients expect it.
constexpr absl::string_view kNoAuthAcl = "-NOAUTH Authentication required.\r\n";
constexpr absl::string_view kInvalidPassword = "-ERR invalid password\r\n";
constexpr absl::string_view kNoPasswordSet = "-ERR Client sent AUTH, but no password is set\r\n";
constexpr absl::string_view kNotAnInteger = "-ERR value is not an integer or out of range\r\n";
constexpr absl::string_view kWrongPass =
    "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
constexpr absl::string_view kHelloNoAuth =
    "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
    "<proto> AUTH <user> <pass> option can be used to authenticate the client and select the "
    "RESP protocol version at the same time\r\n";
constexpr absl::string_view kHelloInTransaction =
    "-ERR HELLO is not allowed while a transaction or WATCH is active on this connection (the "
    "proxy keeps its protocol until EXEC, DISCARD or UNWATCH)\r\n";
constexpr absl::string_view kBadClientName =
    "-ERR Client names cannot contain spaces, newlines or special characters.\r\n";

// Client ids (CLIENT ID, HELLO's id): unique in the process, from 1.
std::atomic<uint64_t> next_client_id{1};

// Reads "<type><integer>\r\n" at `*pos` of a whole reply and moves past it.
bool ReadHeader(absl::string_view reply, char type, size_t* pos, int64_t* value) {
  if (*pos >= reply.size() || reply[*pos] != type) {
    return false;
  }
  const size_t crlf = reply.find("\r\n", *pos + 1);
  if (crlf == absl::string_view::npos ||
      !ParseStrictInt64(reply.substr(*pos + 1, crlf - *pos - 1), value)) {
    return false;
  }
  *pos = crlf + 2;
  return true;
}

// Reads one bulk string or null bulk at `*pos` (RESP3: or the null "_"); `element` views its
// whole wire form.
bool ReadBulk(absl::string_view reply, bool resp3, size_t* pos, absl::string_view* element) {
  const size_t start = *pos;
  if (resp3 && reply.substr(*pos, 3) == "_\r\n") {
    *pos += 3;
    *element = reply.substr(start, 3);
    return true;
  }
  int64_t size = 0;
  if (!ReadHeader(reply, '$', pos, &size) || size < -1) {
    return false;
  }
  if (size >= 0) {
    const size_t payload = static_cast<size_t>(size);
    if (reply.size() - *pos < payload + 2 || reply[*pos + payload] != '\r' ||
        reply[*pos + payload + 1] != '\n') {
      return false;
    }
    *pos += payload + 2;
  }
  *element = reply.substr(start, *pos - start);
  return true;
}

bool MergeArray(const Request& request, absl::Span<const Fragment> fragments,
                absl::Span<const std::string> replies, bool resp3, std::string* out) {
  const size_t total = request.KeyCount();
  absl::InlinedVector<absl::string_view, 32> elements(total);  // no allocation for few keys
  size_t bytes = 0;
  for (size_t f = 0; f < fragments.size(); ++f) {
    const absl::string_view reply = replies[f];
    size_t pos = 0;
    int64_t count = 0;
    if (!ReadHeader(reply, '*', &pos, &count) || count < 0 ||
        static_cast<size_t>(count) != fragments[f].keys.size()) {
      return false;
    }
    for (const uint32_t key : fragments[f].keys) {
      if (key >= total || elements[key].data() != nullptr ||
          !ReadBulk(reply, resp3, &pos, &elements[key])) {
        return false;
      }
      bytes += elements[key].size();
    }
    if (pos != reply.size()) {
      return false;
    }
  }
  for (const absl::string_view element : elements) {
    if (element.data() == nullptr) {
      return false;
    }
  }
  out->reserve(out->size() + bytes + 24);
  AppendArrayHeader(total, out);
  for (const absl::string_view element : elements) {
    out->append(element.data(), element.size());
  }
  return true;
}

bool MergeSum(absl::Span<const std::string> replies, std::string* out) {
  int64_t sum = 0;
  for (const std::string& reply : replies) {
    size_t pos = 0;
    int64_t value = 0;
    if (!ReadHeader(reply, ':', &pos, &value) || pos != reply.size() || value < 0) {
      return false;
    }
    sum += value;
  }
  absl::StrAppend(out, ":", sum, "\r\n");
  return true;
}

bool MergeOk(absl::Span<const std::string> replies, std::string* out) {
  for (const std::string& reply : replies) {
    if (reply != kOk) {
      return false;
    }
  }
  out->append(kOk.data(), kOk.size());
  return true;
}

// The arguments of one request from its whole wire bytes: a RESP array or an inline line, after
// any blank lines (which the decoder counts into the request's wire size). Array arguments are
// views into `wire`; inline ones into `inline_args`. False when the bytes are not exactly one
// such request.
bool ParseArgs(absl::string_view wire, ArgList* inline_args, std::vector<absl::string_view>* args) {
  size_t pos = 0;
  while (pos < wire.size() && wire[pos] != '*') {
    const size_t lf = wire.find('\n', pos);
    if (lf == absl::string_view::npos) {
      return false;
    }
    std::string line(wire.substr(pos, lf - pos));
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    absl::string_view error;
    if (!SplitInlineArgs(line.c_str(), inline_args, &error)) {
      return false;
    }
    if (!inline_args->empty()) {
      for (size_t i = 0; i < inline_args->size(); ++i) {
        args->push_back((*inline_args)[i]);
      }
      return lf + 1 == wire.size();
    }
    pos = lf + 1;  // a blank line
  }
  int64_t count = 0;
  if (!ReadHeader(wire, '*', &pos, &count) || count < 1) {
    return false;
  }
  for (int64_t i = 0; i < count; ++i) {
    int64_t size = 0;
    if (!ReadHeader(wire, '$', &pos, &size) || size < 0 ||
        wire.size() - pos < static_cast<size_t>(size) + 2 ||
        wire.substr(pos + static_cast<size_t>(size), 2) != "\r\n") {
      return false;
    }
    args->push_back(wire.substr(pos, static_cast<size_t>(size)));
    pos += static_cast<size_t>(size) + 2;
  }
  return pos == wire.size();
}

void AppendWrongArity(const CommandSpec& spec, std::string* reply) {
  absl::StrAppend(reply, "-ERR ", KeyErrorText(spec, KeyError::kWrongArity), "\r\n");
}

}  // namespace

RedisAuthConfig RedisAuthConfig::FromRedisAuth(const std::string& redis_auth) {
  RedisAuthConfig config;
  config.client = ClientAuth::RedisAuth(redis_auth);
  if (!redis_auth.empty()) config.server = ServerCredential{"", redis_auth};
  return config;
}

RedisAuthConfig RedisAuthConfig::FromPool(const config::v1::Pool& pool) {
  RedisAuthConfig config = FromRedisAuth(pool.redis_auth());
  if (pool.client_auth_size() > 0) {
    std::vector<ClientCredential> credentials;
    for (const config::v1::Credential& credential : pool.client_auth()) {
      credentials.push_back({credential.username(), credential.password().value()});
    }
    config.client = ClientAuth::Credentials(std::move(credentials));
  }
  if (pool.has_server_auth()) {
    const config::v1::ServerAuth& auth = pool.server_auth();
    config.server.reset();
    if (auth.credential().has_password()) {
      config.server = ServerCredential{auth.credential().username(),
                                       auth.credential().password().value()};
    }
    for (const auto& [server, credential] : auth.per_server()) {
      config.per_server[server] = ServerCredential{credential.username(),
                                                   credential.password().value()};
    }
  }
  return config;
}

const ServerCredential* RedisAuthConfig::ServerCredentialFor(absl::string_view name) const {
  if (!name.empty()) {
    auto it = per_server.find(name);
    if (it != per_server.end()) return &it->second;
  }
  return server.has_value() ? &*server : nullptr;
}

RedisCodec::RedisCodec(std::string auth, uint32_t db, bool check_role, bool cluster)
    : RedisCodec(RedisAuthConfig::FromRedisAuth(auth), db, check_role, cluster) {}

RedisCodec::RedisCodec(RedisAuthConfig auth, uint32_t db, bool check_role, bool cluster)
    : auth_(std::move(auth)),
      check_role_(check_role),
      cluster_(cluster),
      db_(db),
      protocol_(2),
      resp2_(this) {
  resp3_.reset(new RedisCodec(Resp3Sibling(), *this));
}

RedisCodec::RedisCodec(Resp3Sibling, const RedisCodec& resp2)
    : check_role_(resp2.check_role_),
      cluster_(resp2.cluster_),
      db_(resp2.db_),
      protocol_(3),
      resp2_(&resp2) {}

RedisCodec::~RedisCodec() = default;

RequestDecoderPtr RedisCodec::NewRequestDecoder(const DecoderLimits& limits) const {
  // The pool's codec's credentials: they outlive every decoder.
  return std::make_unique<RedisRequestDecoder>(limits, &resp2_->auth_.client);
}

ReplyDecoderPtr RedisCodec::NewReplyDecoder(const DecoderLimits& limits) const {
  return std::make_unique<RedisReplyDecoder>(limits, protocol_ == 3);
}

SessionPtr RedisCodec::NewSession() const { return std::make_unique<RedisSession>(*resp2_); }

const Codec* RedisCodec::Variant(uint8_t id) const {
  switch (id) {
    case 0:
      return resp2_;
    case 1:
      return resp2_->resp3_.get();
    default:
      return nullptr;
  }
}

std::vector<std::string> RedisCodec::PinResetRequests() const {
  std::vector<std::string> requests(2);
  AppendArrayHeader(1, &requests[0]);
  AppendBulk("DISCARD", &requests[0]);
  AppendArrayHeader(1, &requests[1]);
  AppendBulk("UNWATCH", &requests[1]);
  return requests;
}

void RedisCodec::EncodeError(absl::string_view text, std::string* out) const {
  const size_t start = out->size() + 5;
  absl::StrAppend(out, "-ERR ", text);
  for (size_t i = start; i < out->size(); ++i) {
    if ((*out)[i] == '\r' || (*out)[i] == '\n') {
      (*out)[i] = ' ';
    }
  }
  out->append("\r\n");
}

std::vector<Fragment> RedisCodec::Split(const Request& request,
                                        absl::Span<const uint32_t> key_servers) const {
  const CommandSpec* spec = CommandTable::Get().ById(request.command_id);
  if (request.broadcast && spec != nullptr && spec->op == Op::kInfo) {
    std::vector<Fragment> fragments(key_servers.size());
    const std::string info = InfoServerRequest(request.codec_flags);
    for (size_t i = 0; i < key_servers.size(); ++i) {
      fragments[i].server = key_servers[i];
      fragments[i].bytes = info;
    }
    return fragments;
  }
  if (request.kind != CommandKind::kMultiKey || spec == nullptr || spec->rule != KeyRule::kSplit) {
    return {};
  }
  const size_t keys = request.KeyCount();
  if (keys == 0 || key_servers.size() != keys ||
      std::all_of(key_servers.begin(), key_servers.end(),
                  [&](uint32_t server) { return server == key_servers[0]; })) {
    return {};
  }
  // The keys grouped by server, in request order within each server (a stable sort). An
  // insertion sort on the stack for the usual few keys: no allocation (issue 15: malloc was
  // 5% of the proxy's CPU on 10-key MGETs).
  absl::InlinedVector<uint32_t, 32> order(keys);
  std::iota(order.begin(), order.end(), 0u);
  auto by_server = [&](uint32_t a, uint32_t b) { return key_servers[a] < key_servers[b]; };
  constexpr size_t kInsertionSortKeys = 32;
  if (keys <= kInsertionSortKeys) {
    for (size_t i = 1; i < keys; ++i) {
      const uint32_t key = order[i];
      size_t j = i;
      for (; j > 0 && by_server(key, order[j - 1]); --j) order[j] = order[j - 1];
      order[j] = key;
    }
  } else {
    std::stable_sort(order.begin(), order.end(), by_server);
  }
  size_t servers = 1;
  for (size_t i = 1; i < keys; ++i) {
    servers += key_servers[order[i]] != key_servers[order[i - 1]] ? 1 : 0;
  }
  const size_t step = request.key_step;
  std::vector<Fragment> fragments;
  fragments.reserve(servers);
  for (size_t begin = 0; begin < keys;) {
    size_t end = begin;
    const uint32_t server = key_servers[order[begin]];
    size_t bytes = BulkSize(spec->lower.size());
    while (end < keys && key_servers[order[end]] == server) {
      for (size_t j = 0; j < step; ++j) {
        bytes += BulkSize(request.args[order[end] * step + j].size());
      }
      ++end;
    }
    const size_t count = 1 + (end - begin) * step;
    bytes += HeaderSize(count);
    Fragment& fragment = fragments.emplace_back();
    fragment.server = server;
    fragment.keys.assign(order.begin() + begin, order.begin() + end);
    // Sized once and written in place (no append per piece).
    fragment.bytes.resize(bytes);
    char* at = WriteHeader('*', count, fragment.bytes.data());
    at = WriteBulk(spec->lower, at);
    for (const uint32_t key : fragment.keys) {
      for (size_t j = 0; j < step; ++j) at = WriteBulk(request.args[key * step + j], at);
    }
    assert(at == fragment.bytes.data() + fragment.bytes.size());
    begin = end;
  }
  return fragments;
}

bool RedisCodec::Merge(const Request& request, absl::Span<const Fragment> fragments,
                       absl::Span<const std::string> replies, std::string* out) const {
  const CommandSpec* spec = CommandTable::Get().ById(request.command_id);
  if (spec == nullptr || fragments.size() != replies.size() || fragments.empty()) {
    return false;
  }
  switch (spec->op) {
    case Op::kMget:
      return MergeArray(request, fragments, replies, protocol_ == 3, out);
    case Op::kDel:
    case Op::kUnlink:
    case Op::kTouch:
    case Op::kExists:
      return MergeSum(replies, out);
    case Op::kMset:
      return MergeOk(replies, out);
    default:
      return false;
  }
}

bool RedisCodec::MergeBroadcast(const Request& request, absl::Span<const Fragment> fragments,
                                absl::Span<const std::string> replies, const PoolFacts& facts,
                                std::string* out) const {
  const CommandSpec* spec = CommandTable::Get().ById(request.command_id);
  if (spec == nullptr || spec->op != Op::kInfo || fragments.size() != replies.size()) {
    return false;
  }
  std::vector<absl::string_view> texts(replies.size());
  for (size_t i = 0; i < replies.size(); ++i) {
    if (!InfoReplyText(replies[i], &texts[i])) {
      return false;
    }
  }
  const std::string doc = MergeInfoDocument(request.codec_flags, texts, facts);
  if (protocol_ == 3) {
    absl::StrAppend(out, "=", doc.size() + 4, "\r\ntxt:", doc, "\r\n");
  } else {
    AppendBulk(doc, out);
  }
  return true;
}

bool RedisCodec::RewriteKeys(const Request& request, const Buffer& wire,
                             absl::FunctionRef<std::string(absl::string_view)> map,
                             std::string* out) const {
  const CommandSpec* spec = CommandTable::Get().ById(request.command_id);
  if (spec == nullptr || request.kind == CommandKind::kUnsupported ||
      spec->rule == KeyRule::kNone || request.wire_size == 0 ||
      wire.Length() < request.wire_size) {
    return false;  // unknown, refused and local commands: nothing to map
  }
  // A request the decoder (or an earlier filter) re-encoded is sent as `rewritten`: that is
  // the request to rewrite (inline commands, requests after skipped blank lines).
  std::string bytes;
  if (request.has_rewrite) {
    bytes = request.rewritten;
  } else {
    bytes.resize(request.wire_size);
    wire.CopyOut(0, request.wire_size, bytes.data());
  }
  if (spec->rule == KeyRule::kPlaceholder) {
    out->append(bytes);  // routed by "placeholder": no key of the client's to map
    return true;
  }
  ArgList inline_args;
  std::vector<absl::string_view> argv;
  if (!ParseArgs(bytes, &inline_args, &argv) || !absl::EqualsIgnoreCase(argv[0], spec->name)) {
    return false;
  }
  // The keys as the decoder found them (the same FindKeys), which the request must agree with.
  KeyPositions keys;
  const KeyError key_error = FindKeys(
      *spec, argv.size(),
      [&argv](size_t i, char* dst, size_t max) {
        const size_t n = std::min(argv[i].size(), max);
        std::memcpy(dst, argv[i].data(), n);
        return argv[i].size();
      },
      &keys);
  if (key_error != KeyError::kNone || keys.count() != request.KeyCount()) {
    return false;
  }
  out->reserve(out->size() + bytes.size() + 32 * argv.size());
  AppendArrayHeader(argv.size(), out);
  for (size_t i = 0; i < argv.size(); ++i) {
    if (keys.IsKey(i)) {
      AppendBulk(map(argv[i]), out);
    } else {
      AppendBulk(argv[i], out);
    }
  }
  return true;
}

std::vector<std::string> RedisCodec::ServerHandshake() const {
  return Handshake(auth_config().ServerCredentialFor(""));
}

std::vector<std::string> RedisCodec::ServerHandshakeFor(absl::string_view server) const {
  return Handshake(auth_config().ServerCredentialFor(server));
}

size_t RedisCodec::HandshakeLength() const {
  return (auth_config().SendsAuth() ? 1 : 0) + (protocol_ == 3 ? 1 : 0) + (db_ > 0 ? 1 : 0) +
         (check_role_ ? 1 : 0);
}

std::vector<std::string> RedisCodec::Handshake(const ServerCredential* credential) const {
  std::vector<std::string> requests;
  if (credential != nullptr) {
    // `AUTH password` for the default user: what a redis before 6 (no ACL) understands.
    std::string& auth = requests.emplace_back();
    AppendArrayHeader(credential->user.empty() ? 2 : 3, &auth);
    AppendBulk("AUTH", &auth);
    if (!credential->user.empty()) AppendBulk(credential->user, &auth);
    AppendBulk(credential->password, &auth);
  }
  if (protocol_ == 3) {
    std::string& hello = requests.emplace_back();
    AppendArrayHeader(2, &hello);
    AppendBulk("HELLO", &hello);
    AppendBulk("3", &hello);
  }
  if (db_ > 0) {
    std::string& select = requests.emplace_back();
    AppendArrayHeader(2, &select);
    AppendBulk("SELECT", &select);
    AppendBulk(absl::StrCat(db_), &select);
  }
  if (check_role_) {
    std::string& role = requests.emplace_back();
    AppendArrayHeader(1, &role);
    AppendBulk("ROLE", &role);
  }
  return requests;
}

absl::Status RedisCodec::CheckHandshakeReply(size_t index, absl::string_view reply,
                                             ServerRole role) const {
  // ROLE is last; every server's handshake has the same length (all send AUTH, or none).
  if (!check_role_ || index + 1 != HandshakeLength()) return absl::OkStatus();
  // ROLE's reply is an array whose first element is the role, in RESP2 and RESP3 alike: a
  // master's has 3 elements, a replica's 5.
  const bool replica = role == ServerRole::kReplica;
  const absl::string_view expected = replica ? "*5\r\n$5\r\nslave\r\n" : "*3\r\n$6\r\nmaster\r\n";
  if (absl::StartsWith(reply, expected)) return absl::OkStatus();
  std::string said = "unknown";
  const size_t start = reply.find("\r\n$");
  if (start != absl::string_view::npos) {
    const size_t name = reply.find("\r\n", start + 4);
    const size_t end = name == absl::string_view::npos ? name : reply.find("\r\n", name + 2);
    if (end != absl::string_view::npos) said = std::string(reply.substr(name + 2, end - name - 2));
  }
  if (replica) {
    return absl::FailedPreconditionError(
        absl::StrCat("it is not a replica (ROLE says '", said.substr(0, 32),
                     "'): no read is sent to it until Sentinel names it a replica again"));
  }
  return absl::FailedPreconditionError(
      absl::StrCat("it is not a master (ROLE says '", said.substr(0, 32),
                   "'): no request is sent to it until Sentinel names it"));
}

Codec::Redirect RedisCodec::ParseRedirect(absl::string_view reply) const {
  Redirect redirect;
  Redirect::Kind kind = Redirect::Kind::kNone;
  if (absl::StartsWith(reply, "-TRYAGAIN ")) {
    redirect.kind = Redirect::Kind::kTryAgain;
    return redirect;
  }
  if (absl::ConsumePrefix(&reply, "-MOVED ")) {
    kind = Redirect::Kind::kMoved;
  } else if (absl::ConsumePrefix(&reply, "-ASK ")) {
    kind = Redirect::Kind::kAsk;
  } else {
    return redirect;
  }
  const size_t end = reply.find("\r\n");
  if (end == absl::string_view::npos) return redirect;
  reply = reply.substr(0, end);
  const size_t space = reply.find(' ');
  if (space == absl::string_view::npos) return redirect;
  const absl::string_view slot = reply.substr(0, space);
  const absl::string_view address = reply.substr(space + 1);
  const size_t colon = address.rfind(':');
  uint32_t port = 0;
  uint32_t slot_number = 0;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port == 0 || port > 65535 ||
      !absl::SimpleAtoi(slot, &slot_number) || slot_number > 16383) {
    return redirect;
  }
  redirect.kind = kind;
  redirect.host = std::string(address.substr(0, colon));
  redirect.port = port;
  return redirect;
}

std::vector<std::string> RedisCodec::ReplicaHandshake() const {
  if (!cluster_) return {};
  return {"*1\r\n$8\r\nREADONLY\r\n"};
}

std::string RedisCodec::ReplicaCheckRequest() const {
  return "*2\r\n$4\r\nINFO\r\n$11\r\nreplication\r\n";
}

absl::Status RedisCodec::CheckReplicaReply(absl::string_view reply) const {
  // A bulk string (RESP2) or a verbatim string (RESP3) of "field:value" lines.
  absl::string_view role;
  absl::string_view link;
  for (absl::string_view line : absl::StrSplit(reply, "\r\n")) {
    if (absl::ConsumePrefix(&line, "role:")) role = line;
    if (absl::ConsumePrefix(&line, "master_link_status:")) link = line;
  }
  if (role.empty()) return absl::FailedPreconditionError("INFO replication has no role");
  if (role != "slave") {
    return absl::FailedPreconditionError(
        absl::StrCat("it is not a replica (role:", role.substr(0, 32), ")"));
  }
  if (link != "up") {
    return absl::FailedPreconditionError(absl::StrCat(
        "its link to its master is down (master_link_status:",
        link.empty() ? "missing" : link.substr(0, 32), "): it may be behind"));
  }
  return absl::OkStatus();
}

RedisSession::RedisSession(const RedisCodec& codec)
    : codec_(codec),
      id_(next_client_id.fetch_add(1, std::memory_order_relaxed)),
      created_(std::chrono::steady_clock::now()) {}

namespace {

bool IsTransactionOp(Op op) {
  return op == Op::kMulti || op == Op::kExec || op == Op::kDiscard || op == Op::kWatch ||
         op == Op::kUnwatch;
}

// redis's rule for client names and library attributes: printable ASCII without spaces.
bool ValidClientAttribute(absl::string_view value) {
  for (const char c : value) {
    if (c < '!' || c > '~') {
      return false;
    }
  }
  return true;
}

// The text with CR and LF as spaces and at most 128 bytes (redis's %.128s), for error replies.
std::string Quoted(absl::string_view text) {
  std::string out(text.substr(0, 128));
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return out;
}

void AppendNull(int resp, std::string* reply) {
  reply->append(resp == 3 ? "_\r\n" : "$-1\r\n");
}

// A text reply: a bulk string (RESP2) or a verbatim "txt" string (RESP3), as redis sends INFO.
void AppendText(int resp, absl::string_view text, std::string* reply) {
  if (resp == 3) {
    absl::StrAppend(reply, "=", text.size() + 4, "\r\ntxt:", text, "\r\n");
  } else {
    AppendBulk(text, reply);
  }
}

}  // namespace

LocalAction RedisSession::OnRequest(const Request& request, std::string* reply) {
  pin_ = PinAction::kNone;
  // The common case, on every request: a data command, no transaction, nothing to check.
  static const uint16_t kWatchId = [] {
    const CommandSpec* watch = CommandTable::Get().Find("WATCH");
    return watch != nullptr ? CommandTable::Get().IdOf(*watch) : uint16_t{0};
  }();
  if (request.kind != CommandKind::kLocal && request.command_id != kWatchId &&
      !transaction_.Active() && (authenticated_ || !codec_.client_auth().required())) {
    transaction_.NoteOrdinaryRequest();
    return LocalAction::kForward;
  }
  const CommandSpec* spec = CommandTable::Get().ById(request.command_id);
  const Op op = spec != nullptr && request.kind != CommandKind::kUnsupported ? spec->op : Op::kNone;
  const bool local = request.kind == CommandKind::kLocal && spec != nullptr;
  const ClientAuth& auth = codec_.client_auth();
  if (auth.required() && !authenticated_ &&
      !(local && (op == Op::kAuth || op == Op::kQuit || op == Op::kHello || op == Op::kReset))) {
    // Before AUTH, MULTI too gets -NOAUTH and starts nothing (as in redis): the decoder, which
    // tracks AUTH for its limits, then agrees with the session on every later AUTH.
    const absl::string_view text =
        auth.mode() == ClientAuth::Mode::kClientAuth ? kNoAuthAcl : kNoAuth;
    reply->append(text.data(), text.size());
    return LocalAction::kReply;
  }
  if (local && op == Op::kReset) {
    // RESET is never queued (redis runs it inside MULTI too): the transaction ends here, and
    // its pinned connection is reset (kReset) before it serves anyone else.
    ResetConnection();
    pin_ = transaction_.Reset();
    reply->append("+RESET\r\n");
    return LocalAction::kReply;
  }
  LocalAction action = LocalAction::kForward;
  const bool decided = transaction_.OnRequest(request, spec, reply, &action);
  pin_ = transaction_.Pin();
  if (decided) {
    return action;
  }
  if (IsTransactionOp(op)) {
    // Transaction commands go where the transaction sends them (a pinned connection), never
    // through the shared connections.
    if (pin_ != PinAction::kNone) {
      return LocalAction::kForward;
    }
    absl::StrAppend(reply, "-ERR unsupported command '", spec->name,
                    "': transactions are not available on this connection\r\n");
    return LocalAction::kRefused;
  }
  if (!local) {
    if (request.kind == CommandKind::kLocal) {
      reply->append("-ERR unknown local command\r\n");
      return LocalAction::kReply;
    }
    return LocalAction::kForward;
  }
  const ArgList& args = request.args;
  switch (op) {
    case Op::kPing:
      if (args.size() > 1) {
        AppendWrongArity(*spec, reply);
      } else if (args.empty()) {
        reply->append(kPong.data(), kPong.size());
      } else {
        AppendBulk(args[0], reply);
      }
      return LocalAction::kReply;

    case Op::kEcho:
      if (args.size() != 1) {
        AppendWrongArity(*spec, reply);
      } else {
        AppendBulk(args[0], reply);
      }
      return LocalAction::kReply;

    case Op::kQuit:
      reply->append(kOk.data(), kOk.size());
      return LocalAction::kReplyThenClose;

    case Op::kSelect: {
      int64_t db = 0;
      if (args.size() != 1) {
        AppendWrongArity(*spec, reply);
      } else if (!ParseStrictInt64(args[0], &db)) {
        reply->append(kNotAnInteger.data(), kNotAnInteger.size());
      } else if (db == static_cast<int64_t>(codec_.db())) {
        reply->append(kOk.data(), kOk.size());
      } else {
        absl::StrAppend(reply,
                        "-ERR SELECT is not supported by the proxy: this pool always uses "
                        "database ",
                        codec_.db(), "\r\n");
      }
      return LocalAction::kReply;
    }

    case Op::kAuth: {
      if (args.empty() || args.size() > 2) {
        AppendWrongArity(*spec, reply);
        return LocalAction::kReply;
      }
      if (!auth.required()) {
        reply->append(kNoPasswordSet.data(), kNoPasswordSet.size());
        return LocalAction::kReply;
      }
      // The same check as the request decoder's (auth.h), so both agree on the state. A
      // failed AUTH keeps an earlier success, as redis does.
      if (auth.AuthArgsMatch(args)) {
        authenticated_ = true;
        reply->append(kOk.data(), kOk.size());
      } else if (auth.mode() == ClientAuth::Mode::kClientAuth) {
        reply->append(kWrongPass.data(), kWrongPass.size());
      } else {
        reply->append(kInvalidPassword.data(), kInvalidPassword.size());
      }
      return LocalAction::kReply;
    }

    case Op::kHello:
      return Hello(args, reply);

    case Op::kClient:
      return Client(*spec, args, reply);

    case Op::kReadonly:
      if (!args.empty()) {
        AppendWrongArity(*spec, reply);
      } else {
        reply->append(kOk.data(), kOk.size());
      }
      return LocalAction::kReply;

    default:
      reply->append("-ERR unknown local command\r\n");
      return LocalAction::kReply;
  }
}

LocalAction RedisSession::Hello(const ArgList& args, std::string* reply) {
  HelloArgs hello;
  std::string error;
  if (!ParseHello(args, &hello, &error)) {
    reply->append(error);
    return LocalAction::kReply;
  }
  if (hello.has_auth) {
    // The request decoder makes the same decision (HelloAuthMatches after ParseHello).
    if (!codec_.client_auth().HelloAuthMatches(hello)) {
      reply->append(kWrongPass.data(), kWrongPass.size());
      return LocalAction::kReply;
    }
    authenticated_ = true;
  }
  if (codec_.client_auth().required() && !authenticated_) {
    reply->append(kHelloNoAuth.data(), kHelloNoAuth.size());
    return LocalAction::kReply;
  }
  if (hello.protover != 0 && hello.protover != resp_ && transaction_.Active()) {
    reply->append(kHelloInTransaction.data(), kHelloInTransaction.size());
    return LocalAction::kReply;
  }
  if (hello.has_setname) {
    if (!ValidClientAttribute(hello.name)) {
      reply->append(kBadClientName.data(), kBadClientName.size());
      return LocalAction::kReply;
    }
    names().name = std::string(hello.name);
  }
  if (hello.protover != 0) {
    resp_ = static_cast<int>(hello.protover);
    transaction_.SetResp3(resp_ == 3);
  }
  AppendHelloReply(reply);
  return LocalAction::kReply;
}

void RedisSession::AppendHelloReply(std::string* reply) const {
  reply->append(resp_ == 3 ? "%7\r\n" : "*14\r\n");
  AppendBulk("server", reply);
  AppendBulk("redis", reply);
  AppendBulk("version", reply);
  AppendBulk(RedisCodec::kHelloVersion, reply);
  AppendBulk("proto", reply);
  absl::StrAppend(reply, ":", resp_, "\r\n");
  AppendBulk("id", reply);
  absl::StrAppend(reply, ":", id_, "\r\n");
  AppendBulk("mode", reply);
  AppendBulk("standalone", reply);
  AppendBulk("role", reply);
  AppendBulk("master", reply);
  AppendBulk("modules", reply);
  reply->append("*0\r\n");
}

std::string RedisSession::InfoLine() const {
  const auto age = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::steady_clock::now() - created_)
                       .count();
  static const Names kNoNames;
  const Names& names = names_ != nullptr ? *names_ : kNoNames;
  return absl::StrCat("id=", id_, " addr= laddr= fd=-1 name=", names.name, " age=", age,
                      " idle=0 flags=N db=", codec_.db(),
                      " sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 "
                      "rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=client|info "
                      "user=default redir=-1 resp=",
                      resp_, " lib-name=", names.lib_name, " lib-ver=", names.lib_ver, "\n");
}

LocalAction RedisSession::Client(const CommandSpec& spec, const ArgList& args,
                                 std::string* reply) {
  if (args.empty()) {
    AppendWrongArity(spec, reply);
    return LocalAction::kReply;
  }
  const std::string sub = absl::AsciiStrToUpper(args[0]);
  const size_t argc = args.size() + 1;  // redis's count: CLIENT and the subcommand included
  auto wrong_arity = [&]() {
    absl::StrAppend(reply, "-ERR wrong number of arguments for 'client|",
                    absl::AsciiStrToLower(Quoted(args[0])), "' command\r\n");
    return LocalAction::kReply;
  };
  auto unsupported = [&](absl::string_view why) {
    absl::StrAppend(reply, "-ERR unsupported command 'CLIENT ", Quoted(sub), "': ", why, "\r\n");
    return LocalAction::kRefused;
  };
  auto on_off = [&](absl::string_view what) {
    // Subcommands whose OFF is a new connection's state: OFF is +OK, ON is refused.
    if (absl::EqualsIgnoreCase(args[1], "off")) {
      reply->append(kOk.data(), kOk.size());
      return LocalAction::kReply;
    }
    if (absl::EqualsIgnoreCase(args[1], "on")) {
      return unsupported(what);
    }
    reply->append("-ERR syntax error\r\n");
    return LocalAction::kReply;
  };
  constexpr absl::string_view kShared =
      "the proxy shares its server connections among its clients";

  if (sub == "SETNAME") {
    if (argc != 3) return wrong_arity();
    if (!ValidClientAttribute(args[1])) {
      reply->append(kBadClientName.data(), kBadClientName.size());
      return LocalAction::kReply;
    }
    names().name = std::string(args[1]);
    reply->append(kOk.data(), kOk.size());
    return LocalAction::kReply;
  }
  if (sub == "GETNAME") {
    if (argc != 2) return wrong_arity();
    if (names_ == nullptr || names_->name.empty()) {
      AppendNull(resp_, reply);
    } else {
      AppendBulk(names_->name, reply);
    }
    return LocalAction::kReply;
  }
  if (sub == "SETINFO") {
    if (argc != 4) return wrong_arity();
    std::string* field = nullptr;
    if (absl::EqualsIgnoreCase(args[1], "lib-name")) {
      field = &names().lib_name;
    } else if (absl::EqualsIgnoreCase(args[1], "lib-ver")) {
      field = &names().lib_ver;
    } else {
      absl::StrAppend(reply, "-ERR Unrecognized option '", Quoted(args[1]), "'\r\n");
      return LocalAction::kReply;
    }
    if (!ValidClientAttribute(args[2])) {
      absl::StrAppend(reply, "-ERR ", absl::AsciiStrToLower(args[1]),
                      " cannot contain spaces, newlines or special characters.\r\n");
      return LocalAction::kReply;
    }
    *field = std::string(args[2]);
    reply->append(kOk.data(), kOk.size());
    return LocalAction::kReply;
  }
  if (sub == "ID") {
    if (argc != 2) return wrong_arity();
    absl::StrAppend(reply, ":", id_, "\r\n");
    return LocalAction::kReply;
  }
  if (sub == "INFO") {
    if (argc != 2) return wrong_arity();
    AppendText(resp_, InfoLine(), reply);
    return LocalAction::kReply;
  }
  if (sub == "REPLY") {
    if (argc != 3) return wrong_arity();
    if (absl::EqualsIgnoreCase(args[1], "on")) {
      reply->append(kOk.data(), kOk.size());
      return LocalAction::kReply;
    }
    if (absl::EqualsIgnoreCase(args[1], "off") || absl::EqualsIgnoreCase(args[1], "skip")) {
      return unsupported("every request through the proxy gets its reply");
    }
    reply->append("-ERR syntax error\r\n");
    return LocalAction::kReply;
  }
  if (sub == "TRACKING") {
    if (argc < 3) return wrong_arity();
    return on_off("client-side caching (tracking) is not proxied");
  }
  if (sub == "CACHING") {
    if (argc != 3) return wrong_arity();
    reply->append(
        "-ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN "
        "or OPTOUT mode enabled\r\n");
    return LocalAction::kReply;
  }
  if (sub == "GETREDIR") {
    if (argc != 2) return wrong_arity();
    reply->append(":-1\r\n");
    return LocalAction::kReply;
  }
  if (sub == "TRACKINGINFO") {
    if (argc != 2) return wrong_arity();
    reply->append(resp_ == 3 ? "%3\r\n" : "*6\r\n");
    AppendBulk("flags", reply);
    reply->append(resp_ == 3 ? "~1\r\n" : "*1\r\n");
    AppendBulk("off", reply);
    AppendBulk("redirect", reply);
    reply->append(":-1\r\n");
    AppendBulk("prefixes", reply);
    reply->append("*0\r\n");
    return LocalAction::kReply;
  }
  if (sub == "NO-EVICT" || sub == "NO-TOUCH") {
    if (argc != 3) return wrong_arity();
    return on_off(kShared);
  }
  if (sub == "LIST" || sub == "KILL" || sub == "PAUSE" || sub == "UNPAUSE" ||
      sub == "UNBLOCK" || sub == "HELP") {
    return unsupported("it addresses one server, not the pool; run it on each server directly");
  }
  // CLIENT MAINT_NOTIFICATIONS included: redis before 8.2 answers exactly this, and the
  // clients that ask for notifications in "auto" mode carry on without them.
  absl::StrAppend(reply, "-ERR unknown subcommand '", Quoted(args[0]), "'. Try CLIENT HELP.\r\n");
  return LocalAction::kReply;
}

void RedisSession::ResetConnection() {
  resp_ = 2;
  transaction_.SetResp3(false);
  names_.reset();
  // redis's RESET authenticates the connection as the default user: without a password only
  // when the pool has none (the request decoder applies the same rule to its limits).
  authenticated_ = false;
}

absl::string_view RedisCodec::UnsupportedReason(absl::string_view command) const {
  // The command table's reason (every refused command has one; a served command none, but for
  // COPY, whose DB form is refused).
  const CommandSpec* spec = CommandTable::Get().FindAnyCase(command);
  return spec == nullptr ? absl::string_view() : RefusalText(spec->refusal);
}

}  // namespace proxy::protocols::redis

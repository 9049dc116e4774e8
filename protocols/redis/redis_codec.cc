// RedisCodec (error encoding, split/merge, server handshake) and RedisSession (local commands).
#include "protocols/redis/redis_codec.h"

#include <algorithm>
#include <memory>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "protocols/redis/command_table.h"
#include "protocols/redis/reply_decoder.h"
#include "protocols/redis/request_decoder.h"
#include "protocols/redis/resp.h"

namespace proxy::protocols::redis {
namespace {

constexpr absl::string_view kOk = "+OK\r\n";
constexpr absl::string_view kPong = "+PONG\r\n";
constexpr absl::string_view kNoAuth = "-NOAUTH Authentication required\r\n";
constexpr absl::string_view kInvalidPassword = "-ERR invalid password\r\n";
constexpr absl::string_view kNoPasswordSet = "-ERR Client sent AUTH, but no password is set\r\n";
constexpr absl::string_view kNotAnInteger = "-ERR value is not an integer or out of range\r\n";

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

// Reads one bulk string or null bulk at `*pos`; `element` views its whole wire form.
bool ReadBulk(absl::string_view reply, size_t* pos, absl::string_view* element) {
  const size_t start = *pos;
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
                absl::Span<const std::string> replies, std::string* out) {
  const size_t total = request.KeyCount();
  std::vector<absl::string_view> elements(total);
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
          !ReadBulk(reply, &pos, &elements[key])) {
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

// Compares equal-sized passwords without an early exit on the first differing byte.
bool SamePassword(absl::string_view given, absl::string_view expected) {
  if (given.size() != expected.size()) {
    return false;
  }
  unsigned char diff = 0;
  for (size_t i = 0; i < given.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i] ^ expected[i]);
  }
  return diff == 0;
}

void AppendWrongArity(const CommandSpec& spec, std::string* reply) {
  absl::StrAppend(reply, "-ERR wrong number of arguments for '", spec.lower, "' command\r\n");
}

}  // namespace

RedisCodec::RedisCodec(std::string auth, uint32_t db) : auth_(std::move(auth)), db_(db) {}

RequestDecoderPtr RedisCodec::NewRequestDecoder(const DecoderLimits& limits) const {
  return std::make_unique<RedisRequestDecoder>(limits);
}

ReplyDecoderPtr RedisCodec::NewReplyDecoder(const DecoderLimits& limits) const {
  return std::make_unique<RedisReplyDecoder>(limits);
}

SessionPtr RedisCodec::NewSession() const { return std::make_unique<RedisSession>(*this); }

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
  if (request.kind != CommandKind::kMultiKey || spec == nullptr || spec->rule != KeyRule::kSplit) {
    return {};
  }
  const size_t keys = request.KeyCount();
  if (keys == 0 || key_servers.size() != keys ||
      std::all_of(key_servers.begin(), key_servers.end(),
                  [&](uint32_t server) { return server == key_servers[0]; })) {
    return {};
  }
  std::vector<uint32_t> order(keys);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return key_servers[a] < key_servers[b]; });
  const size_t step = request.key_step;
  std::vector<Fragment> fragments;
  for (size_t begin = 0; begin < keys;) {
    size_t end = begin;
    const uint32_t server = key_servers[order[begin]];
    size_t bytes = 32 + spec->lower.size();
    while (end < keys && key_servers[order[end]] == server) {
      for (size_t j = 0; j < step; ++j) {
        bytes += request.args[order[end] * step + j].size() + 16;
      }
      ++end;
    }
    Fragment& fragment = fragments.emplace_back();
    fragment.server = server;
    fragment.keys.assign(order.begin() + begin, order.begin() + end);
    fragment.bytes.reserve(bytes);
    AppendArrayHeader(1 + (end - begin) * step, &fragment.bytes);
    AppendBulk(spec->lower, &fragment.bytes);
    for (const uint32_t key : fragment.keys) {
      for (size_t j = 0; j < step; ++j) {
        AppendBulk(request.args[key * step + j], &fragment.bytes);
      }
    }
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
      return MergeArray(request, fragments, replies, out);
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

std::vector<std::string> RedisCodec::ServerHandshake() const {
  std::vector<std::string> requests;
  if (!auth_.empty()) {
    std::string& auth = requests.emplace_back();
    AppendArrayHeader(2, &auth);
    AppendBulk("AUTH", &auth);
    AppendBulk(auth_, &auth);
  }
  if (db_ > 0) {
    std::string& select = requests.emplace_back();
    AppendArrayHeader(2, &select);
    AppendBulk("SELECT", &select);
    AppendBulk(absl::StrCat(db_), &select);
  }
  return requests;
}

RedisSession::RedisSession(const RedisCodec& codec) : codec_(codec) {}

LocalAction RedisSession::OnRequest(const Request& request, std::string* reply) {
  const CommandSpec* spec = CommandTable::Get().ById(request.command_id);
  const Op op = request.kind == CommandKind::kLocal && spec != nullptr ? spec->op : Op::kNone;
  if (!codec_.auth().empty() && !authenticated_ && op != Op::kAuth && op != Op::kQuit) {
    reply->append(kNoAuth.data(), kNoAuth.size());
    return LocalAction::kReply;
  }
  if (request.kind != CommandKind::kLocal) {
    return LocalAction::kForward;
  }
  if (spec == nullptr) {
    reply->append("-ERR unknown local command\r\n");
    return LocalAction::kReply;
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
      if (codec_.auth().empty()) {
        reply->append(kNoPasswordSet.data(), kNoPasswordSet.size());
        return LocalAction::kReply;
      }
      const bool user_ok = args.size() == 1 || args[0] == "default";
      const bool password_ok = SamePassword(args[args.size() - 1], codec_.auth());
      authenticated_ = user_ok && password_ok;
      if (authenticated_) {
        reply->append(kOk.data(), kOk.size());
      } else {
        reply->append(kInvalidPassword.data(), kInvalidPassword.size());
      }
      return LocalAction::kReply;
    }

    default:
      reply->append("-ERR unknown local command\r\n");
      return LocalAction::kReply;
  }
}

}  // namespace proxy::protocols::redis

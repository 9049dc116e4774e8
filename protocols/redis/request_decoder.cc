// RedisRequestDecoder: the resumable RESP2/inline request state machine and the classification
// of complete requests through the command table.
#include "protocols/redis/request_decoder.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "protocols/redis/auth.h"
#include "protocols/redis/command_table.h"
#include "protocols/redis/info.h"
#include "protocols/redis/resp.h"

namespace proxy::protocols::redis {
namespace {

// Slices looked at per Peek(), and the most bytes asked for at once (headers are small and
// payloads are skipped by arithmetic, so a bounded window keeps Peek() cheap).
constexpr size_t kPeekSlices = 32;
constexpr size_t kPeekWindow = 16 * 1024;
// Longest client command name copied into args[0] of an unknown command.
constexpr size_t kMaxReportedNameSize = 128;
// A count or length longer than this is refused before it can overflow.
constexpr uint32_t kMaxDigits = 18;
// ranges_ capacity kept between requests; a larger one is released.
constexpr size_t kKeptRanges = 4096;

constexpr absl::string_view kPlaceholderKey = "placeholder";
constexpr absl::string_view kUnbalancedQuotes = "Protocol error: unbalanced quotes in request";

// Read access to the arguments of a complete request, wherever they are: ranges of the input
// buffer (arrays) or the decoder's inline scratch list.
class ArgSource {
 public:
  ArgSource(const Buffer& in, const std::vector<RedisRequestDecoder::ArgRange>& ranges)
      : in_(&in), ranges_(&ranges), list_(nullptr) {}
  explicit ArgSource(const ArgList& list) : in_(nullptr), ranges_(nullptr), list_(&list) {}

  size_t size() const { return list_ != nullptr ? list_->size() : ranges_->size(); }

  size_t Size(size_t i) const { return list_ != nullptr ? (*list_)[i].size() : (*ranges_)[i].size; }

  // Copies the first min(Size(i), max) bytes of argument `i` to `dst`; returns how many.
  size_t Read(size_t i, char* dst, size_t max) const {
    if (list_ != nullptr) {
      const absl::string_view arg = (*list_)[i];
      const size_t n = std::min(arg.size(), max);
      std::memcpy(dst, arg.data(), n);
      return n;
    }
    const RedisRequestDecoder::ArgRange& range = (*ranges_)[i];
    const size_t n = std::min(range.size, max);
    in_->CopyOut(range.offset, n, dst);
    return n;
  }

  // Appends argument `i` to `list` as one new argument. A contiguous argument is added in one
  // step; one straddling buffer chunks is assembled piece by piece.
  void AppendTo(size_t i, ArgList* list) const {
    if (list_ != nullptr) {
      list->Add((*list_)[i]);
      return;
    }
    const RedisRequestDecoder::ArgRange& range = (*ranges_)[i];
    Slice slices[kPeekSlices];
    size_t count =
        std::min(in_->Peek(range.offset, std::min(range.size, kPeekWindow), absl::MakeSpan(slices)),
                 kPeekSlices);
    if (range.size == 0 || (count == 1 && slices[0].size == range.size)) {
      list->Add(range.size == 0 ? absl::string_view()
                                : absl::string_view(slices[0].data, slices[0].size));
      return;
    }
    list->StartArg();
    size_t offset = range.offset;
    size_t remaining = range.size;
    while (remaining > 0 && count > 0) {
      for (size_t s = 0; s < count; ++s) {
        list->AppendToLast(absl::string_view(slices[s].data, slices[s].size));
        offset += slices[s].size;
        remaining -= slices[s].size;
      }
      if (remaining > 0) {
        count =
            std::min(in_->Peek(offset, std::min(remaining, kPeekWindow), absl::MakeSpan(slices)),
                     kPeekSlices);
      }
    }
  }

 private:
  const Buffer* in_;
  const std::vector<RedisRequestDecoder::ArgRange>* ranges_;
  const ArgList* list_;
};

DecodeResult Invalid(std::string text, std::string* error) {
  *error = std::move(text);
  return DecodeResult::kInvalidRequest;
}

// True when every key argument is within the key size limit; sets `error` otherwise.
bool KeyFits(const ArgSource& args, size_t i, const DecoderLimits& limits, std::string* error) {
  const size_t size = args.Size(i);
  if (size <= limits.max_key_bytes) {
    return true;
  }
  *error = absl::StrCat("key of ", size, " bytes exceeds the proxy's limit of ",
                        limits.max_key_bytes, " bytes");
  return false;
}

// COPY's options (argv[3...]) name a DB (redis: any "db" option, case-insensitive).
bool HasDbOption(const ArgSource& args) {
  for (size_t i = 3; i < args.size(); ++i) {
    char word[2];
    if (args.Size(i) == 2 && args.Read(i, word, 2) == 2 &&
        absl::ascii_toupper(static_cast<unsigned char>(word[0])) == 'D' &&
        absl::ascii_toupper(static_cast<unsigned char>(word[1])) == 'B') {
      return true;
    }
  }
  return false;
}

// Fills `out` (already Reset) from a complete request. Only kMessage or kInvalidRequest.
DecodeResult Classify(const ArgSource& args, const DecoderLimits& limits, Request* out,
                      std::string* error) {
  const CommandTable& table = CommandTable::Get();
  const size_t argc = args.size();
  char name[kMaxReportedNameSize];
  const size_t name_size = args.Size(0);
  const size_t copied = args.Read(0, name, kMaxReportedNameSize);
  for (size_t i = 0; i < copied; ++i) {
    name[i] = absl::ascii_toupper(static_cast<unsigned char>(name[i]));
  }
  const CommandSpec* spec =
      name_size <= kMaxCommandNameSize ? table.Find(absl::string_view(name, name_size)) : nullptr;
  if (spec == nullptr) {
    out->kind = CommandKind::kUnsupported;
    out->args.Add(absl::string_view(name, copied));
    return DecodeResult::kMessage;
  }
  out->command = spec->name;
  out->command_id = table.IdOf(*spec);
  out->kind = spec->rule == KeyRule::kSplit ? CommandKind::kMultiKey : spec->kind;
  out->is_write = spec->kind == CommandKind::kWrite;
  if (spec->kind == CommandKind::kUnsupported) {
    out->args.Add(spec->name);
    return DecodeResult::kMessage;
  }
  KeyPositions keys;
  const KeyError key_error = FindKeys(
      *spec, argc,
      [&args](size_t i, char* dst, size_t max) {
        args.Read(i, dst, max);
        return args.Size(i);
      },
      &keys);
  if (key_error != KeyError::kNone) {
    return Invalid(KeyErrorText(*spec, key_error), error);
  }
  if (spec->op == Op::kCopy && HasDbOption(args)) {
    // COPY src dst DB n writes into another database than the pool's: never forwarded.
    out->kind = CommandKind::kUnsupported;
    out->args.Add(spec->name);
    return DecodeResult::kMessage;
  }

  switch (spec->rule) {
    case KeyRule::kNone:
      for (size_t i = 1; i < argc; ++i) {
        args.AppendTo(i, &out->args);
      }
      return DecodeResult::kMessage;

    case KeyRule::kPlaceholder:
      out->args.Add(kPlaceholderKey);
      out->synthetic_key = true;
      if (spec->op == Op::kInfo) {
        // INFO [section ...]: sent to every server; the sections asked for travel in
        // codec_flags (protocols/redis/info.h).
        out->broadcast = true;
        uint16_t sections = argc == 1 ? kInfoEvery : 0;
        for (size_t i = 1; i < argc; ++i) {
          char section[16];
          if (args.Size(i) <= sizeof(section)) {
            const size_t size = args.Read(i, section, sizeof(section));
            sections |= InfoSectionBits(absl::string_view(section, size));
          }
        }
        out->codec_flags = sections;
      }
      return DecodeResult::kMessage;

    case KeyRule::kRange:
    case KeyRule::kNumkeys:
    case KeyRule::kSplit:
      break;
  }
  bool fits = true;
  keys.ForEach([&](size_t i) { fits = fits && KeyFits(args, i, limits, error); });
  if (!fits) {
    return DecodeResult::kInvalidRequest;
  }
  if (spec->rule == KeyRule::kSplit) {
    // Split commands carry every argument (MSET's values too), keys every key_step.
    for (size_t i = 1; i < argc; ++i) {
      args.AppendTo(i, &out->args);
    }
    out->key_step = keys.step;
    return DecodeResult::kMessage;
  }
  keys.ForEach([&](size_t i) { args.AppendTo(i, &out->args); });
  out->colocated_keys = out->args.size() > 1;
  return DecodeResult::kMessage;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return c - 'A' + 10;
}

}  // namespace

bool SplitInlineArgs(const char* line, ArgList* args, absl::string_view* error) {
  args->Clear();
  // redis's sdssplitargs over a NUL-terminated line: a NUL byte ends the line.
  const char* p = line;
  for (;;) {
    while (*p != '\0' && IsSpace(*p)) {
      ++p;
    }
    if (*p == '\0') {
      break;
    }
    bool in_double = false;
    bool in_single = false;
    bool done = false;
    args->StartArg();
    while (!done) {
      if (in_double) {
        if (p[0] == '\\' && p[1] == 'x' && IsHexDigit(p[2]) && IsHexDigit(p[3])) {
          const char byte = static_cast<char>(HexValue(p[2]) * 16 + HexValue(p[3]));
          args->AppendToLast(absl::string_view(&byte, 1));
          p += 3;
        } else if (p[0] == '\\' && p[1] != '\0') {
          ++p;
          char byte = *p;
          switch (*p) {
            case 'n':
              byte = '\n';
              break;
            case 'r':
              byte = '\r';
              break;
            case 't':
              byte = '\t';
              break;
            case 'b':
              byte = '\b';
              break;
            case 'a':
              byte = '\a';
              break;
            default:
              break;
          }
          args->AppendToLast(absl::string_view(&byte, 1));
        } else if (*p == '"') {
          // The closing quote must be followed by a space or nothing at all.
          if (p[1] != '\0' && !IsSpace(p[1])) {
            *error = kUnbalancedQuotes;
            return false;
          }
          done = true;
        } else if (*p == '\0') {
          *error = kUnbalancedQuotes;
          return false;
        } else {
          args->AppendToLast(absl::string_view(p, 1));
        }
      } else if (in_single) {
        if (p[0] == '\\' && p[1] == '\'') {
          ++p;
          args->AppendToLast("'");
        } else if (*p == '\'') {
          if (p[1] != '\0' && !IsSpace(p[1])) {
            *error = kUnbalancedQuotes;
            return false;
          }
          done = true;
        } else if (*p == '\0') {
          *error = kUnbalancedQuotes;
          return false;
        } else {
          args->AppendToLast(absl::string_view(p, 1));
        }
      } else {
        switch (*p) {
          case ' ':
          case '\n':
          case '\r':
          case '\t':
          case '\0':
            done = true;
            break;
          case '"':
            in_double = true;
            break;
          case '\'':
            in_single = true;
            break;
          default: {
            // Copy the run of plain bytes at once.
            const char* run = p;
            while (p[1] != '\0' && p[1] != ' ' && p[1] != '\n' && p[1] != '\r' && p[1] != '\t' &&
                   p[1] != '"' && p[1] != '\'') {
              ++p;
            }
            args->AppendToLast(absl::string_view(run, static_cast<size_t>(p - run + 1)));
            break;
          }
        }
      }
      if (*p != '\0') {
        ++p;
      }
    }
  }
  if (!args->empty() && (*args)[0].empty()) {
    *error = "Protocol error: empty command name";
    return false;
  }
  return true;
}

RedisRequestDecoder::RedisRequestDecoder(const DecoderLimits& limits, absl::string_view password)
    : limits_(limits), authenticated_(password.empty()) {
  rare().own_auth = ClientAuth::RedisAuth(std::string(password));
  auth_ = &rare_->own_auth;
}

RedisRequestDecoder::RedisRequestDecoder(const DecoderLimits& limits, const ClientAuth* auth)
    : limits_(limits), auth_(auth), authenticated_(!auth->required()) {}

DecodeResult RedisRequestDecoder::Decode(const Buffer& in, Request* out, std::string* error) {
  if (state_ == State::kFailed) {
    return ProtocolError(out, error);
  }
  const size_t length = in.Length();
  for (;;) {
    if (state_ == State::kPayload) {
      // Skip the payload by arithmetic: its bytes are never looked at.
      const size_t available = length > pos_ ? length - pos_ : 0;
      if (available < bulk_remaining_) {
        bulk_remaining_ -= available;
        pos_ += available;
        return DecodeResult::kNeedMoreData;
      }
      pos_ += bulk_remaining_;
      bulk_remaining_ = 0;
      state_ = State::kPayloadCr;
    }
    if (pos_ >= length) {
      return DecodeResult::kNeedMoreData;
    }
    Slice slices[kPeekSlices];
    const size_t count = std::min(
        in.Peek(pos_, std::min(length - pos_, kPeekWindow), absl::MakeSpan(slices)), kPeekSlices);
    if (count == 0) {
      return DecodeResult::kNeedMoreData;
    }
    bool repeek = false;
    for (size_t i = 0; i < count && !repeek; ++i) {
      switch (Scan(slices[i].data, slices[i].size)) {
        case Step::kSliceDone:
          break;
        case Step::kRepeek:
          repeek = true;
          break;
        case Step::kArrayDone:
          return Finish(in, /*is_inline=*/false, out, error);
        case Step::kLineDone:
          if (!SplitInline(in)) {
            return ProtocolError(out, error);
          }
          if (!rare_->inline_args.empty()) {  // made by SplitInline
            return Finish(in, /*is_inline=*/true, out, error);
          }
          // A blank line: redis answers nothing; its bytes join the next request, which is
          // then forwarded without them.
          if (!SkipPrefix(pos_)) {
            return ProtocolError(out, error);
          }
          state_ = State::kStart;
          repeek = true;
          break;
        case Step::kError:
          return ProtocolError(out, error);
      }
    }
  }
}

DecodeResult RedisRequestDecoder::ProtocolError(Request* out, std::string* error) {
  out->Reset();  // nothing stale: the caller may read wire_size (0) for its stats
  *error = rare().failure;  // set by Fail()
  return DecodeResult::kProtocolError;
}

RedisRequestDecoder::Step RedisRequestDecoder::Fail(std::string text) {
  rare().failure = std::move(text);
  state_ = State::kFailed;
  ranges_.clear();
  return Step::kError;
}

bool RedisRequestDecoder::AddDigit(char c, const char* what) {
  if (c >= '0' && c <= '9') {
    if (digits_ == 1 && number_ == 0) {
      Fail(absl::StrCat("Protocol error: invalid ", what, " length (leading zero)"));
      return false;
    }
    if (digits_ == kMaxDigits) {
      Fail(absl::StrCat("Protocol error: invalid ", what, " length (too many digits)"));
      return false;
    }
    number_ = number_ * 10 + static_cast<uint64_t>(c - '0');
    ++digits_;
    return true;
  }
  if (c == '-' && digits_ == 0) {
    Fail(absl::StrCat("Protocol error: invalid ", what, " length (negative)"));
    return false;
  }
  Fail(absl::StrCat("Protocol error: invalid ", what, " length (expected a digit, got '",
                    PrintableByte(c), "')"));
  return false;
}

RedisRequestDecoder::Step RedisRequestDecoder::Scan(const char* data, size_t size) {
  const size_t base = pos_;
  const char* p = data;
  const char* const end = data + size;
  // Offset (from the request start) of the byte at `p`.
  auto offset = [&]() { return base + static_cast<size_t>(p - data); };

  while (p < end) {
    const char c = *p;
    switch (state_) {
      case State::kStart:
        if (c == '*') {
          number_ = 0;
          digits_ = 0;
          state_ = State::kCount;
          ++p;
        } else {
          line_start_ = offset();
          state_ = State::kInline;
        }
        break;

      case State::kCount:
        if (c != '\r') {
          if (!AddDigit(c, "multibulk")) {  // a '-' too: see "*0" below
            return Step::kError;
          }
          ++p;
          break;
        }
        if (digits_ == 0) {
          return Fail("Protocol error: invalid multibulk length (no digits)");
        }
        if (number_ == 0) {
          // Redis skips "*0" and "*-N" without a reply: never forwarded, and refused rather than
          // skipped (no client library sends them).
          return Fail(
              "Protocol error: invalid multibulk length 0 (a request needs a command name)");
        }
        if (number_ > kMaxMultibulkCount) {
          return Fail("Protocol error: invalid multibulk length");
        }
        if (number_ > kUnauthMaxArgs && !authenticated_) {
          return Fail("Protocol error: unauthenticated multibulk length");
        }
        if (number_ > limits_.max_args) {
          return Fail(absl::StrCat("Protocol error: request of ", number_,
                                   " arguments exceeds the proxy's limit of ", limits_.max_args,
                                   " arguments"));
        }
        args_expected_ = number_;
        state_ = State::kCountLf;
        ++p;
        break;

      case State::kCountLf:
      case State::kLengthLf:
      case State::kPayloadLf:
        if (c != '\n') {
          return Fail(absl::StrCat("Protocol error: expected '\\n' after '\\r', got '",
                                   PrintableByte(c), "'"));
        }
        ++p;
        if (state_ == State::kCountLf) {
          state_ = State::kDollar;
        } else if (state_ == State::kLengthLf) {
          ranges_.push_back(ArgRange{offset(), bulk_size_});
          bulk_remaining_ = bulk_size_;
          state_ = State::kPayload;
        } else if (ranges_.size() == args_expected_) {
          pos_ = offset();
          return Step::kArrayDone;
        } else {
          state_ = State::kDollar;
        }
        break;

      case State::kDollar:
        if (c != '$') {
          return Fail(absl::StrCat("Protocol error: expected '$', got '", PrintableByte(c), "'"));
        }
        number_ = 0;
        digits_ = 0;
        state_ = State::kLength;
        ++p;
        break;

      case State::kLength: {
        if (c != '\r') {
          if (!AddDigit(c, "bulk")) {
            return Step::kError;
          }
          ++p;
          break;
        }
        if (digits_ == 0) {
          return Fail("Protocol error: invalid bulk length (no digits)");
        }
        if (number_ > kProtoMaxBulkLen) {
          return Fail("Protocol error: invalid bulk length");  // redis refuses it as well
        }
        if (number_ > limits_.max_message_bytes) {
          return Fail(absl::StrCat("Protocol error: bulk length of ", number_,
                                   " bytes exceeds the proxy's limit of ",
                                   limits_.max_message_bytes, " bytes"));
        }
        if (number_ > kUnauthMaxBulk && !authenticated_) {
          return Fail("Protocol error: unauthenticated bulk length");
        }
        // The request ends at least after "\r\n", the payload and its "\r\n".
        const uint64_t at_least = offset() + 2 + number_ + 2;
        if (at_least > limits_.max_message_bytes) {
          return Fail(absl::StrCat("Protocol error: request of at least ", at_least,
                                   " bytes exceeds the proxy's limit of ",
                                   limits_.max_message_bytes, " bytes"));
        }
        if (number_ == 0 && ranges_.empty()) {
          return Fail("Protocol error: empty command name");
        }
        bulk_size_ = static_cast<size_t>(number_);
        state_ = State::kLengthLf;
        ++p;
        break;
      }

      case State::kPayload: {
        const size_t here = static_cast<size_t>(end - p);
        if (here < bulk_remaining_) {
          // The payload goes on past this slice: Decode() skips the rest by arithmetic.
          p = end;
          bulk_remaining_ -= here;
          pos_ = offset();
          return Step::kRepeek;
        }
        p += bulk_remaining_;
        bulk_remaining_ = 0;
        state_ = State::kPayloadCr;
        break;
      }

      case State::kPayloadCr:
        if (c != '\r') {
          return Fail(absl::StrCat("Protocol error: expected '\\r\\n' after a bulk string of ",
                                   bulk_size_, " bytes, got '", PrintableByte(c), "'"));
        }
        state_ = State::kPayloadLf;
        ++p;
        break;

      case State::kInline: {
        const size_t limit = std::min(kMaxInlineSize, limits_.max_message_bytes);
        const void* newline = std::memchr(p, '\n', static_cast<size_t>(end - p));
        const char* const line_end = newline == nullptr ? end : static_cast<const char*>(newline);
        if (std::memchr(p, '\0', static_cast<size_t>(line_end - p)) != nullptr) {
          // redis finds the line end with strchr: it would stop at the NUL and wait for a
          // newline forever, blocking the shared connection.
          return Fail("Protocol error: NUL byte in an inline request");
        }
        if (newline == nullptr) {
          p = end;
          if (offset() - line_start_ > limit) {
            return Fail("Protocol error: too big inline request");
          }
          break;
        }
        p = static_cast<const char*>(newline) + 1;
        if (offset() - line_start_ > limit) {
          return Fail("Protocol error: too big inline request");
        }
        pos_ = offset();
        return Step::kLineDone;
      }

      case State::kFailed:
        return Step::kError;
    }
  }
  pos_ = offset();
  return Step::kSliceDone;
}

bool RedisRequestDecoder::SplitInline(const Buffer& in) {
  // The line without its "\n" or "\r\n".
  size_t size = pos_ - line_start_ - 1;
  std::string& line = rare().line;
  line.resize(size);
  in.CopyOut(line_start_, size, line.data());
  if (size > 0 && line[size - 1] == '\r') {
    line.resize(--size);
  }
  absl::string_view failure;
  if (!SplitInlineArgs(line.c_str(), &rare_->inline_args, &failure)) {
    Fail(std::string(failure));
    return false;
  }
  return true;
}

bool RedisRequestDecoder::SkipPrefix(size_t prefix_end) {
  prefix_end_ = prefix_end;
  if (prefix_end_ > kMaxInlineSize) {
    Fail("Protocol error: too many blank lines before a request");
    return false;
  }
  return true;
}

void RedisRequestDecoder::TrackAuth(const Request& request) {
  if (request.kind != CommandKind::kLocal) {
    return;
  }
  const CommandSpec* spec = CommandTable::Get().ById(request.command_id);
  if (spec == nullptr) {
    return;
  }
  if (spec->op == Op::kReset) {
    // RESET: the default user again, which needs the password when the pool has one (the
    // session does the same, protocols/redis/redis_codec.h).
    authenticated_ = !auth_->required();
    return;
  }
  if (authenticated_) {
    return;
  }
  if (spec->op == Op::kAuth && auth_->AuthArgsMatch(request.args)) {
    authenticated_ = true;
  } else if (spec->op == Op::kHello) {
    HelloArgs hello;
    if (ParseHello(request.args, &hello, nullptr) && hello.has_auth &&
        auth_->HelloAuthMatches(hello)) {
      authenticated_ = true;
    }
  }
}

DecodeResult RedisRequestDecoder::Finish(const Buffer& in, bool is_inline, Request* out,
                                         std::string* error) {
  out->Reset();
  // An inline request was split by SplitInline, which made rare_.
  const DecodeResult result = is_inline
                                  ? Classify(ArgSource(rare_->inline_args), limits_, out, error)
                                  : Classify(ArgSource(in, ranges_), limits_, out, error);
  out->wire_size = pos_;
  if (result == DecodeResult::kMessage) {
    if (is_inline) {
      // Never forwarded as typed: the canonical RESP array of the split arguments.
      std::string& bytes = out->rewritten;
      const ArgList& args = rare_->inline_args;
      bytes.reserve(16 + args.ByteSize() + 16 * args.size());
      AppendArrayHeader(args.size(), &bytes);
      for (size_t i = 0; i < args.size(); ++i) {
        AppendBulk(args[i], &bytes);
      }
      out->has_rewrite = true;
    } else if (prefix_end_ > 0) {
      // The array alone, without the skipped bytes before it.
      out->rewritten.resize(pos_ - prefix_end_);
      in.CopyOut(prefix_end_, pos_ - prefix_end_, out->rewritten.data());
      out->has_rewrite = true;
    }
    TrackAuth(*out);
  }
  ResetMessage();
  return result;
}

void RedisRequestDecoder::ResetMessage() {
  state_ = State::kStart;
  pos_ = 0;
  args_expected_ = 0;
  bulk_size_ = 0;
  bulk_remaining_ = 0;
  line_start_ = 0;
  prefix_end_ = 0;
  if (ranges_.capacity() > kKeptRanges) {
    std::vector<ArgRange>().swap(ranges_);
  } else {
    ranges_.clear();
  }
  if (rare_ != nullptr && rare_->line.capacity() > kMaxInlineSize) {
    std::string().swap(rare_->line);
  }
}

}  // namespace proxy::protocols::redis

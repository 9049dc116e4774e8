// MemcacheRequestDecoder: the resumable line/data-block state machine and the classification of
// complete command lines through the command table.
#include "protocols/memcache/request_decoder.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "protocols/memcache/text.h"

namespace proxy::protocols::memcache {
namespace {

// Slices looked at per Peek(), and the most bytes asked for at once.
constexpr size_t kPeekSlices = 32;
constexpr size_t kPeekWindow = 16 * 1024;
// Scratch capacity kept between requests; larger scratch (after a huge multi-get) is released.
constexpr size_t kKeptLineBytes = 64 * 1024;
constexpr size_t kKeptTokens = 4096;
// memcached lets a long multi-get start after at most this many spaces.
constexpr size_t kMaxLeadingSpaces = 100;

constexpr absl::string_view kPlaceholderKey = "placeholder";
constexpr absl::string_view kNoreply = "noreply";

constexpr absl::string_view kError = "ERROR";
constexpr absl::string_view kBadFormat = "CLIENT_ERROR bad command line format";
constexpr absl::string_view kDeleteUsage =
    "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]";
constexpr absl::string_view kBadExptime = "CLIENT_ERROR invalid exptime argument";
constexpr absl::string_view kBadDataChunk = "CLIENT_ERROR bad data chunk";
constexpr absl::string_view kLineTooLong = "CLIENT_ERROR line too long";
constexpr absl::string_view kQuietMode =
    "CLIENT_ERROR quiet mode (q flag) is not supported by the proxy";
constexpr absl::string_view kControlByte =
    "CLIENT_ERROR bad command line format: control character in the command line";
constexpr absl::string_view kTooManyFlags = "CLIENT_ERROR options flags are too long";
constexpr absl::string_view kInvalidFlag = "CLIENT_ERROR invalid flag";
constexpr absl::string_view kDuplicateFlag = "CLIENT_ERROR duplicate flag";
constexpr absl::string_view kBadFlagToken = "CLIENT_ERROR bad token in command line format";
constexpr absl::string_view kOpaqueTooLong = "CLIENT_ERROR opaque token too long";
constexpr absl::string_view kBadBase64Key = "CLIENT_ERROR error decoding key";
constexpr absl::string_view kBinaryProtocol =
    "a binary-protocol request after ASCII requests; a connection speaks one protocol, chosen "
    "by its first byte";

// Appends [offset, offset + size) of `in` to `list` as one argument; an argument straddling
// buffer chunks is assembled piece by piece.
void AppendArg(const Buffer& in, size_t offset, size_t size, ArgList* list) {
  Slice slices[kPeekSlices];
  size_t count = std::min(in.Peek(offset, size, absl::MakeSpan(slices)), kPeekSlices);
  if (count == 1 && slices[0].size == size) {
    list->Add(absl::string_view(slices[0].data, slices[0].size));
    return;
  }
  list->StartArg();
  size_t done = 0;
  while (done < size && count > 0) {
    for (size_t s = 0; s < count; ++s) {
      list->AppendToLast(absl::string_view(slices[s].data, slices[s].size));
      done += slices[s].size;
    }
    if (done < size) {
      count = std::min(in.Peek(offset + done, size - done, absl::MakeSpan(slices)), kPeekSlices);
    }
  }
}

// memcached 1.6.18 refuses a meta line of more than 20 tokens (its ntokens counts a final empty
// token) *before* it reads ms's data length, and then runs the data block as commands. The proxy
// allows at most 19 tokens: the command, the key, (ms: the data length,) and the flags.
constexpr size_t kMaxMetaTokens = 19;
// memcached's MFLAG_MAX_OPAQUE_LENGTH: the whole O token, letter included.
constexpr size_t kMaxOpaqueToken = 32;

// The flags the proxy forwards per meta command (memcached 1.6.18's documented ones; q is
// answered with kQuietMode), and the modes of the M flag.
constexpr absl::string_view kMgFlags = "bcfhklOqstuvNRT";
constexpr absl::string_view kMsFlags = "bcCFIkOqsTMN";
constexpr absl::string_view kMdFlags = "bCIkOqT";
constexpr absl::string_view kMaFlags = "bcCDJkMNOqtTv";
constexpr absl::string_view kMsModes = "EAPRS";
constexpr absl::string_view kMaModes = "ID+-";

// Checks the flag tokens of mg/ms/md/ma (`key` is the key token): "" when memcached 1.6.18
// parses every one of them as the proxy does, else the CLIENT_ERROR text to answer with.
//   - a flag is one letter from the command's list, at most once;
//   - b c f h I k l q s t u v take no value; O takes at most 31 bytes;
//   - T N R take a signed 32-bit number, C D J an unsigned 64-bit one, F an unsigned 32-bit one
//     (memcached's safe_strtol / safe_strtoull / safe_strtoflags); M one mode letter;
//   - with b, the key must be canonical base64.
// Bit of a flag letter in a 52-bit set (A-Z, a-z); 0 for any other byte.
constexpr uint64_t FlagBit(char c) {
  return c >= 'A' && c <= 'Z'   ? uint64_t{1} << (c - 'A')
         : c >= 'a' && c <= 'z' ? uint64_t{1} << (c - 'a' + 26)
                                : 0;
}
constexpr uint64_t FlagSet(absl::string_view letters) {
  uint64_t set = 0;
  for (const char c : letters) {
    set |= FlagBit(c);
  }
  return set;
}

absl::string_view CheckMetaFlags(absl::string_view command, absl::string_view key,
                                 absl::Span<const absl::string_view> flags) {
  static constexpr uint64_t kMg = FlagSet(kMgFlags);
  static constexpr uint64_t kMs = FlagSet(kMsFlags);
  static constexpr uint64_t kMd = FlagSet(kMdFlags);
  static constexpr uint64_t kMa = FlagSet(kMaFlags);
  uint64_t allowed = kMg;
  absl::string_view modes;
  switch (command[1]) {
    case 's':
      allowed = kMs;
      modes = kMsModes;
      break;
    case 'd':
      allowed = kMd;
      break;
    case 'a':
      allowed = kMa;
      modes = kMaModes;
      break;
    default:
      break;
  }
  uint64_t seen = 0;
  bool base64 = false;
  for (const absl::string_view flag : flags) {
    const char letter = flag[0];
    if (letter == 'q') {
      return kQuietMode;
    }
    const uint64_t bit = FlagBit(letter);
    if ((allowed & bit) == 0) {
      return kInvalidFlag;
    }
    if ((seen & bit) != 0) {
      return kDuplicateFlag;
    }
    seen |= bit;
    const absl::string_view value = flag.substr(1);
    switch (letter) {
      case 'T':
      case 'N':
      case 'R': {
        int64_t v = 0;
        if (!ParseSigned(value, &v) || v < INT32_MIN || v > INT32_MAX) {
          return kBadFlagToken;
        }
        break;
      }
      case 'C':
      case 'D':
      case 'J': {
        uint64_t v = 0;
        if (!ParseUnsigned(value, &v)) {
          return kBadFlagToken;
        }
        break;
      }
      case 'F': {
        uint64_t v = 0;
        if (!ParseUnsigned(value, &v) || v > UINT32_MAX) {
          return kBadFlagToken;
        }
        break;
      }
      case 'M':
        if (value.size() != 1 || modes.find(value[0]) == absl::string_view::npos) {
          return kBadFlagToken;
        }
        break;
      case 'O':
        if (flag.size() > kMaxOpaqueToken) {
          return kOpaqueTooLong;
        }
        break;
      default:
        if (!value.empty()) {
          return kBadFlagToken;
        }
        base64 = base64 || letter == 'b';
        break;
    }
  }
  if (base64 && !IsBase64Key(key)) {
    return kBadBase64Key;
  }
  return {};
}

// True when a line holding a control byte may be a storage or ms line (its first token, with
// the control bytes left out, names one): the length of its data block cannot be trusted.
bool MayCarryData(absl::string_view line) {
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || IsControlByte(line[i]))) {
    ++i;
  }
  char name[kMaxCommandNameSize];
  size_t size = 0;
  for (; i < line.size() && line[i] != ' '; ++i) {
    if (IsControlByte(line[i])) {
      continue;
    }
    if (size == sizeof(name)) {
      return false;
    }
    name[size++] = line[i];
  }
  const CommandSpec* spec = CommandTable::Get().Find(absl::string_view(name, size));
  return spec != nullptr && (spec->syntax == Syntax::kStorage || spec->syntax == Syntax::kCas ||
                             spec->syntax == Syntax::kMetaSet);
}

}  // namespace

MemcacheRequestDecoder::MemcacheRequestDecoder(const DecoderLimits& limits)
    : limits_(limits), max_key_size_(std::min(kMaxKeySize, limits.max_key_bytes)) {}

DecodeResult MemcacheRequestDecoder::Decode(const Buffer& in, Request* out, std::string* error) {
  const size_t length = in.Length();
  for (;;) {
    switch (state_) {
      case State::kFailed:
        out->Reset();  // nothing stale: the caller may read wire_size (0) for its stats
        *error = failure_;
        return DecodeResult::kProtocolError;

      case State::kLine: {
        size_t line_end = 0;
        if (!FindLineEnd(in, length, &line_end)) {
          if (state_ == State::kFailed) {
            break;
          }
          return DecodeResult::kNeedMoreData;
        }
        DecodeResult result = DecodeResult::kNeedMoreData;
        if (ParseLine(in, line_end, out, error, &result) == LineResult::kDone) {
          return result;
        }
        break;
      }

      case State::kData: {
        // Skip the data block by arithmetic: its bytes are never looked at.
        const size_t available = length > pos_ ? length - pos_ : 0;
        if (available < data_remaining_) {
          data_remaining_ -= available;
          pos_ += available;
          return DecodeResult::kNeedMoreData;
        }
        pos_ += static_cast<size_t>(data_remaining_);
        data_remaining_ = 0;
        state_ = State::kDataCr;
        break;
      }

      case State::kDataCr:
      case State::kDataLf: {
        if (pos_ >= length) {
          return DecodeResult::kNeedMoreData;
        }
        char c = 0;
        in.CopyOut(pos_, 1, &c);
        if (c != (state_ == State::kDataCr ? '\r' : '\n')) {
          return Fail(std::string(kBadDataChunk), out, error);
        }
        ++pos_;
        if (state_ == State::kDataCr) {
          state_ = State::kDataLf;
          break;
        }
        return FinishData(in, out, error);
      }
    }
  }
}

bool MemcacheRequestDecoder::FindLineEnd(const Buffer& in, size_t length, size_t* line_end) {
  if (pos_ == 0 && length > 0) {
    char first = 0;
    in.CopyOut(0, 1, &first);
    if (static_cast<unsigned char>(first) == 0x80) {
      failure_ = std::string(kBinaryProtocol);
      state_ = State::kFailed;
      return false;
    }
  }
  while (pos_ < length) {
    Slice slices[kPeekSlices];
    const size_t count = std::min(
        in.Peek(pos_, std::min(length - pos_, kPeekWindow), absl::MakeSpan(slices)), kPeekSlices);
    if (count == 0) {
      return false;
    }
    for (size_t i = 0; i < count; ++i) {
      const void* lf = std::memchr(slices[i].data, '\n', slices[i].size);
      if (lf != nullptr) {
        *line_end = pos_ + static_cast<size_t>(static_cast<const char*>(lf) - slices[i].data);
        pos_ = *line_end + 1;
        return true;
      }
      pos_ += slices[i].size;
      // The same checks as ParseLine() makes once the line is complete, so that the outcome
      // does not depend on how the bytes arrived.
      if (pos_ > limits_.max_message_bytes) {
        failure_ = absl::StrCat("request line exceeds the proxy's limit of ",
                                limits_.max_message_bytes, " bytes");
        state_ = State::kFailed;
        return false;
      }
      // memcached closes a connection holding more than kMaxLineSize bytes without an LF
      // (unless they start a get/gets), so that is the limit on the bytes before the LF.
      if (pos_ > kMaxLineSize && !long_line_ok_) {
        char head[kMaxLineSize + 1];
        in.CopyOut(0, sizeof(head), head);
        if (!LongLineAllowed(absl::string_view(head, sizeof(head)))) {
          failure_ = std::string(kLineTooLong);
          state_ = State::kFailed;
          return false;
        }
        long_line_ok_ = true;
      }
    }
  }
  return false;
}

bool MemcacheRequestDecoder::LongLineAllowed(absl::string_view head) const {
  size_t spaces = 0;
  while (spaces < head.size() && head[spaces] == ' ') {
    ++spaces;
  }
  if (spaces > kMaxLeadingSpaces) {
    return false;
  }
  head.remove_prefix(spaces);
  // Only these: memcached 1.6.18 closes the connection on a long gat/gats line.
  return absl::StartsWith(head, "get ") || absl::StartsWith(head, "gets ");
}

MemcacheRequestDecoder::LineResult MemcacheRequestDecoder::ParseLine(const Buffer& in,
                                                                     size_t line_end, Request* out,
                                                                     std::string* error,
                                                                     DecodeResult* result) {
  if (line_end + 1 > limits_.max_message_bytes) {
    *result = Fail(absl::StrCat("request line exceeds the proxy's limit of ",
                                limits_.max_message_bytes, " bytes"),
                   out, error);
    return LineResult::kDone;
  }
  if (line_end > kMaxLineSize) {
    // Only a get/gets may be that long (FindLineEnd() checked it unless the LF came at once).
    char head[kMaxLineSize + 1];
    in.CopyOut(0, sizeof(head), head);
    if (!LongLineAllowed(absl::string_view(head, sizeof(head)))) {
      *result = Fail(std::string(kLineTooLong), out, error);
      return LineResult::kDone;
    }
    *result = ParseLongRetrieval(in, line_end, out, error);
    return LineResult::kDone;
  }
  // The line without its LF (at most kMaxLineSize bytes), viewed in place when it lies in one
  // chunk, else copied once.
  absl::string_view line;
  if (line_end > 0) {
    Slice slices[2];
    if (in.Peek(0, line_end, absl::MakeSpan(slices)) == 1) {
      line = absl::string_view(slices[0].data, line_end);
    } else {
      line_.resize(line_end);
      in.CopyOut(0, line_end, line_.data());
      line = line_;
    }
  }
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  const bool control = TokenizeChecked(line, &tokens_);
  const CommandSpec* spec = tokens_.empty() ? nullptr : CommandTable::Get().Find(tokens_[0]);
  if (control) {
    // memcached would cut the line at a NUL or end a number at a CR/TAB: never forwarded.
    *result = RefuseControlBytes(spec, line, out, error);
    if (state_ == State::kData) {
      return LineResult::kNeedData;
    }
    return LineResult::kDone;
  }
  if (spec == nullptr) {
    *result = Invalid(nullptr, std::string(kError), out, error);
    return LineResult::kDone;
  }
  switch (spec->syntax) {
    case Syntax::kStorage:
    case Syntax::kCas:
    case Syntax::kMetaSet:
      return StartData(*spec, line, out, error, result);
    default:
      *result = Classify(*spec, out, error);
      return LineResult::kDone;
  }
}

DecodeResult MemcacheRequestDecoder::RefuseControlBytes(const CommandSpec* spec,
                                                       absl::string_view line, Request* out,
                                                       std::string* error) {
  const std::vector<absl::string_view>& t = tokens_;
  // Only the key token holds control bytes: the line is read as the client wrote it, and the key
  // check refuses it (a storage/ms line's data block is skipped by its clean length token).
  bool only_key = spec != nullptr && t.size() >= 2;
  for (size_t i = 0; only_key && i < t.size(); ++i) {
    if (i != 1 && std::any_of(t[i].begin(), t[i].end(), IsControlByte)) {
      only_key = false;
    }
  }
  if (only_key) {
    switch (spec->syntax) {
      case Syntax::kStorage:
      case Syntax::kCas:
      case Syntax::kMetaSet: {
        DecodeResult result = DecodeResult::kNeedMoreData;
        if (StartData(*spec, line, out, error, &result) == LineResult::kNeedData) {
          return DecodeResult::kNeedMoreData;  // state_ is kData: the caller goes on
        }
        return result;
      }
      case Syntax::kArithmetic:
      case Syntax::kTouch:
      case Syntax::kDelete: {
        // Silent with a clean trailing noreply, as memcached is for a bad key.
        const bool noreply = t.size() >= 3 && t.back() == kNoreply;
        return Invalid(spec, noreply ? std::string() : std::string(kBadFormat), out, error,
                       noreply);
      }
      default:
        break;
    }
  }
  // Anything else: where this line would end for memcached is unknown. When it may carry a data
  // block, so is the client's stream: error, then close.
  if (MayCarryData(line)) {
    return Fail(std::string(kControlByte), out, error);
  }
  return Invalid(spec, std::string(kBadFormat), out, error);
}

DecodeResult MemcacheRequestDecoder::ParseLongRetrieval(const Buffer& in, size_t line_end,
                                                       Request* out, std::string* error) {
  size_t content = line_end;
  char last = 0;
  in.CopyOut(line_end - 1, 1, &last);
  if (last == '\r') {
    --content;
  }
  // First one pass over the line where it lies (no copy, no token list): count its tokens up to
  // one more than the limit allows and look for control bytes.
  const size_t max_tokens = limits_.max_args + 1;  // the command and its keys
  size_t tokens = 0;
  bool control = false;
  bool in_token = false;
  for (size_t offset = 0; offset < content && tokens <= max_tokens;) {
    Slice slices[kPeekSlices];
    const size_t count =
        std::min(in.Peek(offset, content - offset, absl::MakeSpan(slices)), kPeekSlices);
    if (count == 0) {
      break;
    }
    for (size_t i = 0; i < count; ++i) {
      const char* p = slices[i].data;
      for (size_t j = 0; j < slices[i].size; ++j) {
        const bool space = p[j] == ' ';
        tokens += (!space && !in_token) ? 1 : 0;
        in_token = !space;
        control = control || IsControlByte(p[j]);
      }
      offset += slices[i].size;
    }
  }
  const CommandSpec* spec = nullptr;
  {
    // LongLineAllowed() saw "get " or "gets " after the leading spaces.
    char head[kMaxLeadingSpaces + 5];
    in.CopyOut(0, sizeof(head), head);
    const absl::string_view h(head, sizeof(head));
    const size_t start = h.find_first_not_of(' ');
    spec = CommandTable::Get().Find(h.substr(start, h.substr(start).find(' ')));
  }
  if (spec == nullptr || spec->syntax != Syntax::kRetrieval) {
    return Fail(std::string(kLineTooLong), out, error);  // not reached: LongLineAllowed()
  }
  if (control) {
    return Invalid(spec, std::string(kBadFormat), out, error);
  }
  if (tokens > max_tokens) {
    return Invalid(spec, TooManyKeys(), out, error);
  }
  // Then the keys, straight from one copy of the line into the request.
  line_.resize(content);
  in.CopyOut(0, content, line_.data());
  out->Reset();
  out->command = spec->name;
  out->command_id = CommandTable::Get().IdOf(*spec);
  out->kind = spec->kind;
  out->is_write = false;
  const absl::string_view line = line_;
  size_t i = 0;
  size_t keys = 0;
  bool command = true;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') {
      ++i;
    }
    if (i == line.size()) {
      break;
    }
    const size_t start = i;
    while (i < line.size() && line[i] != ' ') {
      ++i;
    }
    if (command) {
      command = false;
      continue;
    }
    const absl::string_view key = line.substr(start, i - start);
    if (!IsValidKey(key, max_key_size_)) {
      return Invalid(spec, std::string(kBadFormat), out, error);
    }
    out->args.Add(key);
    ++keys;
  }
  if (keys == 0) {
    return Invalid(spec, std::string(kError), out, error);  // "get" and spaces: memcached's ERROR
  }
  if (keys > 1) {
    out->kind = CommandKind::kMultiKey;
  }
  return Done(DecodeResult::kMessage, out);
}

std::string MemcacheRequestDecoder::TooManyKeys() const {
  return absl::StrCat("too many keys in one request; the proxy's limit is ", limits_.max_args);
}

DecodeResult MemcacheRequestDecoder::Classify(const CommandSpec& spec, Request* out,
                                              std::string* error) {
  const std::vector<absl::string_view>& t = tokens_;
  const size_t n = t.size();
  out->Reset();
  out->command = spec.name;
  out->command_id = CommandTable::Get().IdOf(spec);
  out->kind = spec.kind;
  out->is_write = spec.kind == CommandKind::kWrite;
  switch (spec.syntax) {
    case Syntax::kRetrieval:
    case Syntax::kGat: {
      const bool gat = spec.syntax == Syntax::kGat;
      const size_t first = gat ? 2 : 1;
      if (n <= first) {
        return Invalid(&spec, std::string(kError), out, error);
      }
      int64_t exptime = 0;
      if (gat && (!ParseSigned(t[1], &exptime) || exptime < INT32_MIN || exptime > INT32_MAX)) {
        return Invalid(&spec, std::string(kBadExptime), out, error);
      }
      const size_t keys = n - first;
      if (keys > limits_.max_args) {
        return Invalid(&spec, TooManyKeys(), out, error);
      }
      for (size_t i = first; i < n; ++i) {
        if (!IsValidKey(t[i], max_key_size_)) {
          return Invalid(&spec, std::string(kBadFormat), out, error);
        }
      }
      for (size_t i = first; i < n; ++i) {
        out->args.Add(t[i]);
      }
      if (keys > 1) {
        out->kind = CommandKind::kMultiKey;
        if (gat) {
          // Split() needs the exptime; see the header comment.
          out->rewritten.assign(t[1].data(), t[1].size());
        }
      }
      return Done(DecodeResult::kMessage, out);
    }

    case Syntax::kArithmetic:
    case Syntax::kTouch: {
      if (n != 3 && n != 4) {
        return Invalid(&spec, std::string(kError), out, error);
      }
      const bool noreply = t[n - 1] == kNoreply;
      if (!IsValidKey(t[1], max_key_size_)) {
        return Invalid(&spec, noreply ? std::string() : std::string(kBadFormat), out, error,
                       noreply);
      }
      out->args.Add(t[1]);
      out->expects_reply = !noreply;
      return Done(DecodeResult::kMessage, out);
    }

    case Syntax::kDelete: {
      if (n < 2 || n > 4) {
        return Invalid(&spec, std::string(kError), out, error);
      }
      const bool noreply = n > 2 && t[n - 1] == kNoreply;
      if (n > 2) {
        // memcached 1.6's process_delete_command: only a legacy hold time of 0 is accepted.
        const bool hold_is_zero = t[2] == "0";
        const bool valid =
            (n == 3 && (hold_is_zero || noreply)) || (n == 4 && hold_is_zero && noreply);
        if (!valid) {
          return Invalid(&spec, noreply ? std::string() : std::string(kDeleteUsage), out, error,
                         noreply);
        }
      }
      if (!IsValidKey(t[1], max_key_size_)) {
        return Invalid(&spec, noreply ? std::string() : std::string(kBadFormat), out, error,
                       noreply);
      }
      out->args.Add(t[1]);
      out->expects_reply = !noreply;
      return Done(DecodeResult::kMessage, out);
    }

    case Syntax::kMeta: {
      if (n < 2) {
        // memcached answers a bare "me" differently from the other meta commands.
        return Invalid(&spec, std::string(spec.name == "me" ? kBadFormat : kError), out, error);
      }
      if (!IsValidKey(t[1], max_key_size_)) {
        return Invalid(&spec, std::string(kBadFormat), out, error);
      }
      if (spec.name == "me") {
        // memcached reads only "me <key>" and "me <key> b" (base64 key); refuse anything else.
        if (n > 3 || (n == 3 && t[2] != "b")) {
          return Invalid(&spec, std::string(kBadFormat), out, error);
        }
        if (n == 3 && !IsBase64Key(t[1])) {
          return Invalid(&spec, std::string(kBadFormat), out, error);
        }
      } else {
        if (n > kMaxMetaTokens) {
          return Invalid(&spec, std::string(kTooManyFlags), out, error);
        }
        const absl::string_view problem =
            CheckMetaFlags(spec.name, t[1], absl::MakeConstSpan(t).subspan(2));
        if (!problem.empty()) {
          return Invalid(&spec, std::string(problem), out, error);
        }
      }
      out->args.Add(t[1]);
      return Done(DecodeResult::kMessage, out);
    }

    case Syntax::kNoop:
    case Syntax::kQuit:
      // Extra tokens are ignored, as memcached does.
      return Done(DecodeResult::kMessage, out);

    case Syntax::kVersion:
      out->args.Add(kPlaceholderKey);
      out->synthetic_key = true;
      return Done(DecodeResult::kMessage, out);

    case Syntax::kAdmin:
      if (n >= 2 && t[n - 1] == kNoreply) {
        return Fail(absl::StrCat("CLIENT_ERROR command '", spec.name,
                                 "' is not supported by the proxy, and with noreply the refusal "
                                 "can only be reported by closing the connection"),
                    out, error);
      }
      // Never forwarded, whatever the pool's filters: MemcacheSession answers it.
      out->args.Add(spec.name);
      return Done(DecodeResult::kMessage, out);

    case Syntax::kStorage:
    case Syntax::kCas:
    case Syntax::kMetaSet:
      break;  // handled by StartData()
  }
  return Invalid(&spec, std::string(kError), out, error);
}

MemcacheRequestDecoder::LineResult MemcacheRequestDecoder::StartData(const CommandSpec& spec,
                                                                     absl::string_view line,
                                                                     Request* out,
                                                                     std::string* error,
                                                                     DecodeResult* result) {
  const std::vector<absl::string_view>& t = tokens_;
  const size_t n = t.size();
  bool count_ok = false;
  size_t length_at = 0;
  switch (spec.syntax) {
    case Syntax::kStorage:
      count_ok = n == 5 || n == 6;
      length_at = 4;
      break;
    case Syntax::kCas:
      count_ok = n == 6 || n == 7;
      length_at = 4;
      break;
    default:  // ms <key> <datalen> <flag>*
      count_ok = n >= 3;
      length_at = 2;
      break;
  }
  uint64_t size = 0;
  if (!count_ok || !ParseDataLength(t[length_at], &size)) {
    // Where the data block ends is unknown: the stream cannot be resynchronised.
    *result = Fail(std::string(kBadFormat), out, error);
    return LineResult::kDone;
  }
  if (size > limits_.max_message_bytes) {
    *result = Fail(absl::StrCat("object too large for the proxy: ", size, " bytes, limit ",
                                limits_.max_message_bytes),
                   out, error);
    return LineResult::kDone;
  }
  // The data block's extent is known: any other problem is answered after skipping it.
  const bool meta = spec.syntax == Syntax::kMetaSet;
  const bool noreply = !meta && t[n - 1] == kNoreply;
  absl::string_view problem;
  if (!IsValidKey(t[1], max_key_size_)) {
    problem = kBadFormat;
  } else if (meta) {
    if (n > kMaxMetaTokens) {
      problem = kTooManyFlags;
    } else {
      problem = CheckMetaFlags(spec.name, t[1], absl::MakeConstSpan(t).subspan(3));
    }
  } else {
    // memcached refuses a bad number *without* reading the data block (it then runs the block as
    // commands): forward only numbers it certainly accepts, refuse the rest here.
    uint64_t flags = 0;
    int64_t exptime = 0;
    uint64_t cas = 0;
    if (!ParseUnsigned(t[2], &flags) || flags > UINT32_MAX || !ParseSigned(t[3], &exptime) ||
        exptime < INT32_MIN || exptime > INT32_MAX ||
        (spec.syntax == Syntax::kCas && !ParseUnsigned(t[5], &cas))) {
      problem = kBadFormat;
    }
  }
  spec_ = &spec;
  key_offset_ = static_cast<size_t>(t[1].data() - line.data());
  key_size_ = t[1].size();
  expects_reply_ = !noreply;
  if (problem.empty()) {
    pending_result_ = DecodeResult::kMessage;
    pending_error_.clear();
  } else {
    pending_result_ = DecodeResult::kInvalidRequest;
    pending_error_ = noreply ? std::string() : std::string(problem);
  }
  data_remaining_ = size;
  state_ = State::kData;
  return LineResult::kNeedData;
}

DecodeResult MemcacheRequestDecoder::FinishData(const Buffer& in, Request* out,
                                                std::string* error) {
  out->Reset();
  out->command = spec_->name;
  out->command_id = CommandTable::Get().IdOf(*spec_);
  out->kind = spec_->kind;
  out->is_write = spec_->kind == CommandKind::kWrite;
  out->expects_reply = expects_reply_;
  const DecodeResult result = pending_result_;
  if (result == DecodeResult::kMessage) {
    AppendArg(in, key_offset_, key_size_, &out->args);
  } else {
    *error = pending_error_;
  }
  return Done(result, out);
}

DecodeResult MemcacheRequestDecoder::Done(DecodeResult result, Request* out) {
  out->wire_size = pos_;
  ResetMessage();
  return result;
}

DecodeResult MemcacheRequestDecoder::Invalid(const CommandSpec* spec, std::string text,
                                             Request* out, std::string* error, bool noreply) {
  out->Reset();
  out->expects_reply = !noreply;
  if (spec != nullptr) {
    out->command = spec->name;
    out->command_id = CommandTable::Get().IdOf(*spec);
    out->kind = spec->kind;
    out->is_write = spec->kind == CommandKind::kWrite;
  }
  *error = std::move(text);
  return Done(DecodeResult::kInvalidRequest, out);
}

DecodeResult MemcacheRequestDecoder::Fail(std::string text, Request* out, std::string* error) {
  failure_ = std::move(text);
  state_ = State::kFailed;
  out->Reset();
  *error = failure_;
  return DecodeResult::kProtocolError;
}

void MemcacheRequestDecoder::ResetMessage() {
  state_ = State::kLine;
  pos_ = 0;
  long_line_ok_ = false;
  data_remaining_ = 0;
  spec_ = nullptr;
  key_offset_ = 0;
  key_size_ = 0;
  expects_reply_ = true;
  pending_result_ = DecodeResult::kMessage;
  pending_error_.clear();
  if (tokens_.capacity() > kKeptTokens) {
    std::vector<absl::string_view>().swap(tokens_);
  } else {
    tokens_.clear();
  }
  if (line_.capacity() > kKeptLineBytes) {
    std::string().swap(line_);
  }
}

}  // namespace proxy::protocols::memcache

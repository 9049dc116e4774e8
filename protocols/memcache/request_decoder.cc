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
constexpr absl::string_view kBinaryProtocol =
    "the memcache binary protocol is not supported by the proxy; use the ASCII protocol";

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

// Meta flags are single letters, each optionally followed by a value: "q" asks for quiet mode.
bool HasQuietFlag(absl::Span<const absl::string_view> flags) {
  return std::any_of(flags.begin(), flags.end(),
                     [](absl::string_view flag) { return flag[0] == 'q'; });
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
      if (pos_ > kMaxLineSize + 1 && !long_line_ok_) {
        char head[kMaxLineSize + 2];
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
  return absl::StartsWith(head, "get ") || absl::StartsWith(head, "gets ") ||
         absl::StartsWith(head, "gat ") || absl::StartsWith(head, "gats ");
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
  // The line without its LF, viewed in place when it lies in one chunk, else copied once.
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
  if (line.size() > kMaxLineSize && !LongLineAllowed(line.substr(0, kMaxLineSize + 2))) {
    *result = Fail(std::string(kLineTooLong), out, error);
    return LineResult::kDone;
  }
  Tokenize(line, &tokens_);
  const CommandSpec* spec = tokens_.empty() ? nullptr : CommandTable::Get().Find(tokens_[0]);
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
      if (gat && !ParseSigned(t[1], &exptime)) {
        return Invalid(&spec, std::string(kBadExptime), out, error);
      }
      const size_t keys = n - first;
      if (keys > limits_.max_args) {
        return Invalid(&spec,
                       absl::StrCat("too many keys in one request: ", keys,
                                    "; the proxy's limit is ", limits_.max_args),
                       out, error);
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
      if (HasQuietFlag(absl::MakeConstSpan(t).subspan(2))) {
        return Invalid(&spec, std::string(kQuietMode), out, error);
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
        return Fail(absl::StrCat("command '", spec.name,
                                 "' is not supported by the proxy, and with noreply the refusal "
                                 "can only be reported by closing the connection"),
                    out, error);
      }
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
    if (HasQuietFlag(absl::MakeConstSpan(t).subspan(3))) {
      problem = kQuietMode;
    }
  } else {
    uint64_t flags = 0;
    int64_t exptime = 0;
    uint64_t cas = 0;
    if (!ParseUnsigned(t[2], &flags) || !ParseSigned(t[3], &exptime) ||
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

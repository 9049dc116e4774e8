// RedisReplyDecoder: the resumable RESP2/RESP3 reply state machine.
#include "protocols/redis/reply_decoder.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "protocols/redis/resp.h"

namespace proxy::protocols::redis {
namespace {

constexpr size_t kPeekSlices = 32;
constexpr size_t kPeekWindow = 16 * 1024;
// Enough for any int64 (integer replies); a uint64 cannot overflow with this many.
constexpr uint32_t kMaxDigits = 19;
// The smallest RESP value ("+\r\n") is three bytes: a count implies at least 3 bytes each.
constexpr uint64_t kMinElementSize = 3;

// True for the first words of errors that mean "the server cannot serve now" (passed to the client; see core/proxy/server_connection.cc for what counts as a failure).
bool IsServerFailure(absl::string_view word) {
  return absl::EqualsIgnoreCase(word, "OOM") || absl::EqualsIgnoreCase(word, "BUSY") ||
         absl::EqualsIgnoreCase(word, "LOADING");
}

}  // namespace

RedisReplyDecoder::RedisReplyDecoder(const DecoderLimits& limits, bool resp3)
    : limits_(limits), resp3_(resp3) {}

DecodeResult RedisReplyDecoder::Decode(const Buffer& in, Reply* out, std::string* error) {
  if (state_ == State::kFailed) {
    *error = failure_;
    return DecodeResult::kProtocolError;
  }
  const size_t length = in.Length();
  for (;;) {
    if (state_ == State::kPayload) {
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
          if (pos_ > limits_.max_message_bytes) {
            FailTooBig();
            *error = failure_;
            return DecodeResult::kProtocolError;
          }
          break;
        case Step::kRepeek:
          repeek = true;
          break;
        case Step::kDone:
          Finish(in, out);
          return DecodeResult::kMessage;
        case Step::kError:
          *error = failure_;
          return DecodeResult::kProtocolError;
      }
    }
  }
}

RedisReplyDecoder::Step RedisReplyDecoder::Fail(std::string text) {
  failure_ = std::move(text);
  state_ = State::kFailed;
  stack_.clear();
  return Step::kError;
}

RedisReplyDecoder::Step RedisReplyDecoder::FailTooBig() {
  return Fail(absl::StrCat("Protocol error: reply exceeds the proxy's limit of ",
                           limits_.max_message_bytes, " bytes"));
}

bool RedisReplyDecoder::CheckSize(uint64_t at_least) {
  if (at_least <= limits_.max_message_bytes) {
    return true;
  }
  Fail(absl::StrCat("Protocol error: reply of at least ", at_least,
                    " bytes exceeds the proxy's limit of ", limits_.max_message_bytes, " bytes"));
  return false;
}

bool RedisReplyDecoder::AddDigit(char c, const char* what) {
  if (c >= '0' && c <= '9') {
    if (digits_ == kMaxDigits) {
      Fail(absl::StrCat("Protocol error: invalid ", what, " in reply (too many digits)"));
      return false;
    }
    number_ = number_ * 10 + static_cast<uint64_t>(c - '0');
    ++digits_;
    return true;
  }
  if (c == '-' && digits_ == 0 && !negative_) {
    negative_ = true;
    return true;
  }
  Fail(absl::StrCat("Protocol error: invalid ", what, " in reply (expected a digit, got '",
                    PrintableByte(c), "')"));
  return false;
}

bool RedisReplyDecoder::CompleteValue() {
  while (!stack_.empty()) {
    if (--stack_.back().remaining > 0) {
      return false;
    }
    const bool attribute = stack_.back().attribute;
    stack_.pop_back();
    if (attribute) {
      return false;  // the value the attribute belongs to follows
    }
  }
  return true;
}

RedisReplyDecoder::Step RedisReplyDecoder::Scan(const char* data, size_t size) {
  const size_t base = pos_;
  const char* p = data;
  const char* const end = data + size;
  auto offset = [&]() { return base + static_cast<size_t>(p - data); };

  while (p < end) {
    const char c = *p;
    switch (state_) {
      case State::kType:
        number_ = 0;
        digits_ = 0;
        negative_ = false;
        type_ = c;
        switch (c) {
          case '-':
            if (stack_.empty()) {
              top_error_ = true;
              error_start_ = offset() + 1;
            }
            state_ = State::kLine;
            break;
          case '+':
            state_ = State::kLine;
            break;
          case ':':
            state_ = State::kInteger;
            break;
          case '$':
            state_ = State::kLength;
            break;
          case '*':
            state_ = State::kCount;
            break;
          case '_':
          case '#':
          case ',':
          case '(':
          case '!':
          case '=':
          case '%':
          case '~':
          case '|':
            if (!resp3_) {
              return Fail(absl::StrCat("Protocol error: unexpected reply type byte '",
                                       PrintableByte(c), "'"));
            }
            state_ = c == '_'                ? State::kCr
                     : c == '#'              ? State::kBoolean
                     : c == ','              ? State::kLine
                     : c == '('              ? State::kBigNumber
                     : c == '!' || c == '='  ? State::kLength
                                             : State::kCount;
            break;
          case '>':
            if (resp3_) {
              return Fail(
                  "Protocol error: unexpected push message in reply (the proxy never subscribes "
                  "on a server connection)");
            }
            return Fail(absl::StrCat("Protocol error: unexpected reply type byte '",
                                     PrintableByte(c), "'"));
          default:
            return Fail(absl::StrCat("Protocol error: unexpected reply type byte '",
                                     PrintableByte(c), "'"));
        }
        ++p;
        break;

      case State::kBoolean:
        if (c != 't' && c != 'f') {
          return Fail(absl::StrCat("Protocol error: invalid boolean in reply (expected 't' or "
                                   "'f', got '",
                                   PrintableByte(c), "')"));
        }
        state_ = State::kCr;
        ++p;
        break;

      case State::kCr:
        if (c != '\r') {
          return Fail(absl::StrCat("Protocol error: expected '\\r' in reply, got '",
                                   PrintableByte(c), "'"));
        }
        header_ = Header::kValue;
        state_ = State::kLf;
        ++p;
        break;

      case State::kBigNumber:
        if (c >= '0' && c <= '9') {
          ++digits_;
          ++p;
          break;
        }
        if (c == '-' && digits_ == 0 && !negative_) {
          negative_ = true;
          ++p;
          break;
        }
        if (c != '\r' || digits_ == 0) {
          return Fail(absl::StrCat("Protocol error: invalid big number in reply (got '",
                                   PrintableByte(c), "')"));
        }
        header_ = Header::kValue;
        state_ = State::kLf;
        ++p;
        break;

      case State::kLine: {
        const void* cr = std::memchr(p, '\r', static_cast<size_t>(end - p));
        if (cr == nullptr) {
          p = end;
          break;
        }
        p = static_cast<const char*>(cr);
        if (offset() + 2 > limits_.max_message_bytes) {
          return FailTooBig();
        }
        if (top_error_ && stack_.empty()) {
          error_end_ = offset();
        }
        header_ = Header::kValue;
        state_ = State::kLf;
        ++p;
        break;
      }

      case State::kInteger:
        if (c != '\r') {
          if (!AddDigit(c, "integer")) {
            return Step::kError;
          }
          ++p;
          break;
        }
        if (digits_ == 0) {
          return Fail("Protocol error: invalid integer in reply (no digits)");
        }
        header_ = Header::kValue;
        state_ = State::kLf;
        ++p;
        break;

      case State::kLength:
      case State::kCount: {
        const bool is_count = state_ == State::kCount;
        if (c != '\r') {
          if (!AddDigit(c, is_count ? "multibulk length" : "bulk length")) {
            return Step::kError;
          }
          ++p;
          break;
        }
        if (digits_ == 0) {
          return Fail(absl::StrCat("Protocol error: invalid ",
                                   is_count ? "multibulk length" : "bulk length",
                                   " in reply (no digits)"));
        }
        if (negative_) {
          // Only RESP2's null bulk and null array: RESP3's blob error, verbatim string, map,
          // set and attribute have no null form.
          if (number_ != 1 || (type_ != '$' && type_ != '*')) {
            return Fail(absl::StrCat("Protocol error: invalid ",
                                     is_count ? "multibulk length" : "bulk length", " in reply (-",
                                     number_, ")"));
          }
          header_ = Header::kValue;  // $-1 / *-1: a null, complete value
        } else if (!is_count) {
          if (!CheckSize(offset() + 2 + number_ + 2)) {
            return Step::kError;
          }
          bulk_size_ = static_cast<size_t>(number_);
          header_ = Header::kBulk;
          if (type_ == '!' && stack_.empty()) {
            // A top-level blob error: its text is the payload.
            top_error_ = true;
            error_start_ = offset() + 2;
            error_end_ = error_start_ + bulk_size_;
          }
        } else if (number_ == 0) {
          // *0 %0 ~0: an empty, complete value; |0: an empty attribute, its value follows.
          header_ = Header::kValue;
          if (type_ == '|') {
            state_ = State::kLf;
            attribute_empty_ = true;
            ++p;
            break;
          }
        } else {
          if (stack_.size() >= kMaxDepth) {
            return Fail(absl::StrCat("Protocol error: reply nested more than ", kMaxDepth,
                                     resp3_ ? " aggregates deep" : " arrays deep"));
          }
          const bool pairs = type_ == '%' || type_ == '|';
          const uint64_t elements =
              pairs ? (number_ > UINT64_MAX / 2 ? UINT64_MAX : number_ * 2) : number_;
          const uint64_t headroom = UINT64_MAX - offset() - 2;
          if (!CheckSize(elements > headroom / kMinElementSize
                             ? UINT64_MAX
                             : offset() + 2 + elements * kMinElementSize)) {
            return Step::kError;
          }
          number_ = elements;
          header_ = Header::kArray;
        }
        state_ = State::kLf;
        ++p;
        break;
      }

      case State::kLf:
        if (c != '\n') {
          return Fail(absl::StrCat("Protocol error: expected '\\n' after '\\r' in reply, got '",
                                   PrintableByte(c), "'"));
        }
        ++p;
        switch (header_) {
          case Header::kValue:
            if (attribute_empty_) {
              attribute_empty_ = false;  // "|0": the value it belongs to follows
              state_ = State::kType;
              break;
            }
            if (CompleteValue()) {
              if (offset() > limits_.max_message_bytes) {
                return FailTooBig();
              }
              pos_ = offset();
              return Step::kDone;
            }
            state_ = State::kType;
            break;
          case Header::kBulk:
            bulk_remaining_ = bulk_size_;
            state_ = State::kPayload;
            break;
          case Header::kArray:
            stack_.push_back(Frame{number_, type_ == '|'});
            state_ = State::kType;
            break;
        }
        break;

      case State::kPayload: {
        const size_t here = static_cast<size_t>(end - p);
        if (here < bulk_remaining_) {
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
                                   bulk_size_, " bytes in reply, got '", PrintableByte(c), "'"));
        }
        header_ = Header::kValue;
        state_ = State::kLf;
        ++p;
        break;

      case State::kFailed:
        return Step::kError;
    }
  }
  pos_ = offset();
  return Step::kSliceDone;
}

void RedisReplyDecoder::Finish(const Buffer& in, Reply* out) {
  out->Reset();
  out->wire_size = pos_;
  out->is_error = top_error_;
  if (top_error_) {
    // The first word of the error text ("OOM command not allowed ..." → "OOM").
    char word[8];
    const size_t size = std::min(sizeof(word), error_end_ - error_start_);
    in.CopyOut(error_start_, size, word);
    const absl::string_view text(word, size);
    const size_t space = text.find(' ');
    out->server_failure = (space != absl::string_view::npos || size < sizeof(word)) &&
                          IsServerFailure(text.substr(0, space));
  }
  state_ = State::kType;
  pos_ = 0;
  top_error_ = false;
  attribute_empty_ = false;
  error_start_ = 0;
  error_end_ = 0;
  stack_.clear();
}

}  // namespace proxy::protocols::redis

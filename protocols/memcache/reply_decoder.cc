// MemcacheReplyDecoder: the resumable reply line/data-block state machine.
#include "protocols/memcache/reply_decoder.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "protocols/memcache/text.h"

namespace proxy::protocols::memcache {
namespace {

constexpr size_t kPeekSlices = 32;
constexpr size_t kPeekWindow = 16 * 1024;
// The longest incr/decr result (UINT64_MAX has 20 digits).
constexpr size_t kMaxNumberDigits = 20;

bool IsNumber(absl::string_view text) {
  return !text.empty() && text.size() <= kMaxNumberDigits &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

MemcacheReplyDecoder::MemcacheReplyDecoder(const DecoderLimits& limits) : limits_(limits) {}

DecodeResult MemcacheReplyDecoder::Decode(const Buffer& in, Reply* out, std::string* error) {
  const size_t length = in.Length();
  for (;;) {
    switch (state_) {
      case State::kFailed:
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
        switch (ParseLine(in, line_end)) {
          case Step::kReplyDone:
            Finish(out);
            return DecodeResult::kMessage;
          case Step::kData:
          case Step::kError:
            break;
        }
        break;
      }

      case State::kData: {
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
          Fail(absl::StrCat("data block of ", data_size_, " bytes not followed by CRLF"));
          break;
        }
        ++pos_;
        if (state_ == State::kDataCr) {
          state_ = State::kDataLf;
          break;
        }
        if (meta_value_) {
          Finish(out);
          return DecodeResult::kMessage;
        }
        // A VALUE block ended: another VALUE or the END line follows.
        state_ = State::kLine;
        line_start_ = pos_;
        break;
      }
    }
  }
}

bool MemcacheReplyDecoder::FindLineEnd(const Buffer& in, size_t length, size_t* line_end) {
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
      // The same limits ParseLine() applies, so that the outcome does not depend on chunking.
      if (pos_ - line_start_ > kMaxLineSize + 1) {
        Fail(absl::StrCat("reply line longer than ", kMaxLineSize, " bytes"));
        return false;
      }
      if (pos_ > limits_.max_message_bytes) {
        Fail(absl::StrCat("reply exceeds the proxy's limit of ", limits_.max_message_bytes,
                          " bytes"));
        return false;
      }
    }
  }
  return false;
}

MemcacheReplyDecoder::Step MemcacheReplyDecoder::ParseLine(const Buffer& in, size_t line_end) {
  const size_t size = line_end - line_start_;
  if (size > kMaxLineSize + 1) {
    return Fail(absl::StrCat("reply line longer than ", kMaxLineSize, " bytes"));
  }
  if (pos_ > limits_.max_message_bytes) {
    return Fail(
        absl::StrCat("reply exceeds the proxy's limit of ", limits_.max_message_bytes, " bytes"));
  }
  absl::string_view line;
  if (size > 0) {
    Slice slices[2];
    if (in.Peek(line_start_, size, absl::MakeSpan(slices)) == 1) {
      line = absl::string_view(slices[0].data, size);
    } else {
      line_.resize(size);
      in.CopyOut(line_start_, size, line_.data());
      line = line_;
    }
  }
  if (line.empty() || line.back() != '\r') {
    return Fail(absl::StrCat("reply line not terminated by CRLF: '", Printable(line), "'"));
  }
  line.remove_suffix(1);
  const absl::string_view word = line.substr(0, line.find(' '));
  const bool bare = word.size() == line.size();

  if (word == "VALUE") {
    Tokenize(line, &tokens_);
    uint64_t number = 0;
    if (tokens_.size() < 4 || tokens_.size() > 5 || !ParseDigits(tokens_[2], &number) ||
        (tokens_.size() == 5 && !ParseDigits(tokens_[4], &number))) {
      return Fail(absl::StrCat("bad VALUE line: '", Printable(line), "'"));
    }
    in_retrieval_ = true;
    meta_value_ = false;
    return StartData(tokens_[3], line);
  }
  if (line == "END") {
    return Step::kReplyDone;
  }
  if (in_retrieval_) {
    return Fail(absl::StrCat("unexpected line in a retrieval reply: '", Printable(line), "'"));
  }
  if (word == "VA") {
    Tokenize(line, &tokens_);
    if (tokens_.size() < 2) {
      return Fail(absl::StrCat("bad VA line: '", Printable(line), "'"));
    }
    meta_value_ = true;
    return StartData(tokens_[1], line);
  }
  if (word == "ERROR" || word == "CLIENT_ERROR" || word == "SERVER_ERROR") {
    is_error_ = true;
    return Step::kReplyDone;
  }
  if (bare &&
      (word == "STORED" || word == "NOT_STORED" || word == "EXISTS" || word == "NOT_FOUND" ||
       word == "DELETED" || word == "TOUCHED" || word == "OK" || word == "MN" || IsNumber(word))) {
    return Step::kReplyDone;
  }
  if (word == "HD" || word == "NS" || word == "EX" || word == "NF" || word == "EN" ||
      word == "VERSION" || (word == "ME" && !bare)) {
    return Step::kReplyDone;
  }
  return Fail(absl::StrCat("unexpected reply line: '", Printable(line), "'"));
}

MemcacheReplyDecoder::Step MemcacheReplyDecoder::StartData(absl::string_view size_token,
                                                           absl::string_view line) {
  uint64_t size = 0;
  if (!ParseDigits(size_token, &size)) {
    return Fail(absl::StrCat("bad data length in reply line: '", Printable(line), "'"));
  }
  // The reply ends at least after the data block and its CRLF.
  if (size > limits_.max_message_bytes || pos_ + size + 2 > limits_.max_message_bytes) {
    return Fail(absl::StrCat("reply exceeds the proxy's limit of ", limits_.max_message_bytes,
                             " bytes (a value of ", size, " bytes)"));
  }
  data_size_ = size;
  data_remaining_ = size;
  state_ = State::kData;
  return Step::kData;
}

MemcacheReplyDecoder::Step MemcacheReplyDecoder::Fail(std::string text) {
  failure_ = std::move(text);
  state_ = State::kFailed;
  return Step::kError;
}

void MemcacheReplyDecoder::Finish(Reply* out) {
  out->Reset();
  out->wire_size = pos_;
  out->is_error = is_error_;
  state_ = State::kLine;
  pos_ = 0;
  line_start_ = 0;
  data_size_ = 0;
  data_remaining_ = 0;
  in_retrieval_ = false;
  meta_value_ = false;
  is_error_ = false;
  tokens_.clear();
  if (line_.capacity() > kMaxLineSize * 2) {
    std::string().swap(line_);
  }
}

}  // namespace proxy::protocols::memcache

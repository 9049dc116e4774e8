#include "protocols/redis/sentinel/resp_reader.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace proxy::protocols::redis::sentinel {
namespace {

class Parser {
 public:
  Parser(absl::string_view data, const RespLimits& limits) : data_(data), limits_(limits) {}

  RespParse Parse(RespValue* out, size_t depth) {
    if (depth > limits_.max_depth) return Fail("arrays nested too deeply");
    absl::string_view line;
    RespParse r = Line(&line);
    if (r != RespParse::kComplete) return r;
    const char kind = line[0];
    const absl::string_view rest = line.substr(1);
    switch (kind) {
      case '+':
      case '-':
        out->type = kind == '+' ? RespValue::Type::kSimple : RespValue::Type::kError;
        out->text = std::string(rest);
        return RespParse::kComplete;
      case ':':
        out->type = RespValue::Type::kInteger;
        if (!Integer(rest, &out->integer)) return Fail("bad integer");
        return RespParse::kComplete;
      case '$': {
        int64_t length = 0;
        if (!Integer(rest, &length) || length < -1) return Fail("bad bulk length");
        if (length == -1) {
          out->type = RespValue::Type::kNull;
          return RespParse::kComplete;
        }
        if (static_cast<uint64_t>(length) > limits_.max_bulk) return Fail("bulk string too long");
        const size_t need = static_cast<size_t>(length) + 2;
        if (data_.size() - pos_ < need) return Incomplete();
        if (data_.substr(pos_ + length, 2) != "\r\n") return Fail("bulk string without CRLF");
        out->type = RespValue::Type::kBulk;
        out->text = std::string(data_.substr(pos_, length));
        pos_ += need;
        return RespParse::kComplete;
      }
      case '*': {
        int64_t count = 0;
        if (!Integer(rest, &count) || count < -1) return Fail("bad array length");
        if (count == -1) {
          out->type = RespValue::Type::kNull;
          return RespParse::kComplete;
        }
        if (static_cast<uint64_t>(count) > limits_.max_elements) return Fail("array too long");
        out->type = RespValue::Type::kArray;
        out->elements.clear();
        out->elements.reserve(static_cast<size_t>(count));
        for (int64_t i = 0; i < count; ++i) {
          out->elements.emplace_back();
          r = Parse(&out->elements.back(), depth + 1);
          if (r != RespParse::kComplete) return r;
        }
        return RespParse::kComplete;
      }
      default:
        return Fail(absl::StrCat("unexpected type byte '", Printable(line.substr(0, 1)), "'"));
    }
  }

  size_t pos() const { return pos_; }
  const std::string& error() const { return error_; }

 private:
  // The next CRLF-terminated line (without CRLF); kIncomplete when no CRLF yet.
  RespParse Line(absl::string_view* line) {
    const absl::string_view rest = data_.substr(pos_);
    const size_t end = rest.find("\r\n");
    if (end == absl::string_view::npos) {
      if (rest.size() > limits_.max_line + 1) return Fail("line too long");
      return Incomplete();
    }
    if (end > limits_.max_line) return Fail("line too long");
    if (end == 0) return Fail("empty line");
    *line = rest.substr(0, end);
    if (line->find('\n') != absl::string_view::npos || line->find('\r') != absl::string_view::npos) {
      return Fail("bare CR or LF in a line");
    }
    pos_ += end + 2;
    return RespParse::kComplete;
  }

  static bool Integer(absl::string_view text, int64_t* value) {
    if (text.empty() || text.size() > 20 || text[0] == '+' || text[0] == ' ') return false;
    return absl::SimpleAtoi(text, value);
  }

  RespParse Incomplete() {
    // A reply that is still incomplete past the bound can only be malformed or hostile.
    if (data_.size() > limits_.max_reply) return Fail("reply too large");
    return RespParse::kIncomplete;
  }

  RespParse Fail(absl::string_view why) {
    if (error_.empty()) error_ = std::string(why);
    return RespParse::kMalformed;
  }

  absl::string_view data_;
  const RespLimits& limits_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

RespParse ParseResp(absl::string_view data, const RespLimits& limits, RespValue* out,
                    size_t* consumed, std::string* error) {
  Parser parser(data, limits);
  RespValue value;
  const RespParse r = parser.Parse(&value, 0);
  if (r == RespParse::kComplete) {
    if (parser.pos() > limits.max_reply) {
      *error = "reply too large";
      return RespParse::kMalformed;
    }
    *out = std::move(value);
    *consumed = parser.pos();
  } else if (r == RespParse::kMalformed) {
    *error = parser.error();
  }
  return r;
}

std::string EncodeCommand(const std::vector<std::string>& args) {
  std::string out = absl::StrCat("*", args.size(), "\r\n");
  for (const std::string& arg : args) absl::StrAppend(&out, "$", arg.size(), "\r\n", arg, "\r\n");
  return out;
}

std::string Printable(absl::string_view bytes, size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < max; ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'\\', 'x', kHex[c >> 4], kHex[c & 0xf]};
    }
  }
  if (bytes.size() > max) out += "...";
  return out;
}

}  // namespace proxy::protocols::redis::sentinel

// Generators and mutators of attack inputs; see attacks.h.
#include "test/differential/attacks.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace proxy::test::differential {
namespace {

// Numbers on which two parsers are likely to disagree: signs, leading zeros, spaces, overflow
// of 32 and 64 bits, negative zero, hex, empty.
const std::vector<std::string>& OddNumbers() {
  static const auto* numbers = new std::vector<std::string>{
      "-1", "-0", "+0", "+1", "+3", "00", "01", "003", "0", " 2", "2 ", "-2",
      "2147483647", "2147483648", "2147483646", "4294967295", "4294967296", "4294967297",
      "9223372036854775807", "9223372036854775808", "-9223372036854775808",
      "18446744073709551615", "18446744073709551616", "99999999999999999999999", "0x10", "1e3",
      "", "1048576", "1048577", "536870912", "536870913", "65536", "-2147483648", "3\t", "\t3"};
  return *numbers;
}

// Control and separator bytes that parsers treat differently.
const std::vector<std::string>& OddBytes() {
  static const auto* bytes = new std::vector<std::string>{
      std::string(1, '\0'), "\r", "\n", "\r\n", "\t", "\x0b", "\x0c", " ", "\x7f", "\xff",
      "\x80", "\"", "'", "\\", std::string("\0\r\n", 3), "\n\r", "\r\r\n"};
  return *bytes;
}

std::string Number(Rng& rng) {
  if (rng.Percent(50)) return rng.Pick(OddNumbers());
  return std::to_string(rng.Below(rng.Percent(50) ? 10 : 100000));
}

std::string RandomBytes(Rng& rng, size_t n) {
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng.Below(256));
  return out;
}

// Printable filler for values and long tokens.
std::string Filler(Rng& rng, size_t n) {
  std::string out(n, 'x');
  for (char& c : out) c = static_cast<char>('a' + rng.Below(26));
  return out;
}

// ---------------------------------------------------------------------------------------------
// redis

std::string RKey(Rng& rng) {
  switch (rng.Below(20)) {
    case 0: return "";
    case 1: return absl::StrCat("ak:{", rng.Below(8), "}:", rng.Below(8));
    case 2: return absl::StrCat("ak:", Filler(rng, rng.Between(300, 3000)));
    case 3: return absl::StrCat("ak:", RandomBytes(rng, rng.Between(1, 8)));
    default: return absl::StrCat("ak:", rng.Below(64));
  }
}

std::string RValue(Rng& rng) {
  switch (rng.Below(12)) {
    case 0: return "";
    case 1: return RandomBytes(rng, rng.Between(1, 40));
    case 2: return Filler(rng, rng.Between(1000, 20000));
    case 3: return "*1\r\n$8\r\nFLUSHALL\r\n";
    case 4: return "FLUSHALL\r\nGET x";
    default: return Filler(rng, rng.Between(1, 16));
  }
}

// Commands that change the mode of the connection they run on, or block it.
std::vector<std::string> RModeCommand(Rng& rng) {
  switch (rng.Below(24)) {
    case 0: return {"MULTI"};
    case 1: return {"EXEC"};
    case 2: return {"DISCARD"};
    case 3: return {"WATCH", RKey(rng)};
    case 4: return {"UNWATCH"};
    case 5: return {"SUBSCRIBE", "ch1"};
    case 6: return {"PSUBSCRIBE", "ch*"};
    case 7: return {"SSUBSCRIBE", "ak:1"};
    case 8: return {"UNSUBSCRIBE"};
    case 9: return {"MONITOR"};
    case 10: return {"CLIENT", "REPLY", rng.Pick(std::vector<std::string>{"OFF", "SKIP", "ON"})};
    case 11: return {"client", "reply", "skip"};
    case 12: return {"RESET"};
    case 13: return {"HELLO", "3"};
    case 14: return {"HELLO", "2"};
    case 15: return {"READONLY"};
    case 16: return {"READWRITE"};
    case 17: return {"BLPOP", RKey(rng), rng.Percent(50) ? "0" : "1"};
    case 18: return {"BRPOPLPUSH", "ak:1", "ak:2", "0"};
    case 19: return {"BZPOPMIN", "ak:3", "0"};
    case 20: return {"XREAD", "BLOCK", "0", "STREAMS", "ak:4", "$"};
    case 21: return {"WAIT", "1", "0"};
    case 22: return {"CLIENT", "PAUSE", "100"};
    default: return {"BLMOVE", "ak:1", "ak:2", "LEFT", "RIGHT", "0"};
  }
}

// Commands that are refused on a pool with reject_unsupported, and would wipe or change the
// backend if they ran.
std::vector<std::string> RDestructiveCommand(Rng& rng) {
  switch (rng.Below(10)) {
    case 0: return {"FLUSHALL"};
    case 1: return {"FLUSHDB"};
    case 2: return {"FLUSHALL", "ASYNC"};
    case 3: return {"CONFIG", "SET", "maxmemory", "1"};
    case 4: return {"SWAPDB", "0", "1"};
    case 5: return {"SCRIPT", "FLUSH"};
    case 6: return {"CLIENT", "KILL", "TYPE", "normal"};
    case 7: return {"DEBUG", "SLEEP", "0"};
    case 8: return {"SHUTDOWN", "NOSAVE"};
    default: return {"CONFIG", "RESETSTAT"};
  }
}

std::vector<std::string> RDataCommand(Rng& rng, const AttackOptions& options) {
  const std::string k = RKey(rng);
  switch (rng.Below(26)) {
    case 0: return {"GET", k};
    case 1: return {"SET", k, RValue(rng)};
    case 2: return {"SET", k, RValue(rng), "EX", Number(rng)};
    case 3: return {"DEL", k, RKey(rng), RKey(rng)};
    case 4: {
      std::vector<std::string> args = {"MGET"};
      const size_t n = rng.Percent(5) && !options.Skips("many_keys") ? rng.Between(100, 3000)
                                                                     : rng.Between(1, 6);
      for (size_t i = 0; i < n; ++i) args.push_back(RKey(rng));
      return args;
    }
    case 5: return {"MSET", k, RValue(rng), RKey(rng), RValue(rng)};
    case 6: return {"INCR", k};
    case 7: return {"INCRBY", k, Number(rng)};
    case 8: return {"LPUSH", k, RValue(rng)};
    case 9: return {"LRANGE", k, Number(rng), Number(rng)};
    case 10: return {"HSET", k, "f", RValue(rng)};
    case 11: return {"HGETALL", k};
    case 12: return {"EXPIRE", k, Number(rng)};
    case 13: return {"TTL", k};
    case 14: return {"EXISTS", k};
    case 15: return {"APPEND", k, RValue(rng)};
    case 16: return {"GETRANGE", k, Number(rng), Number(rng)};
    case 17: return {"SETRANGE", k, Number(rng), RValue(rng)};
    case 18: return {"PING"};
    case 19: return {"ECHO", RValue(rng)};
    case 20: return {"SELECT", Number(rng)};
    case 21: return {"AUTH", "nopass"};
    case 22: return {"QUIT"};
    case 23: return {"PUBLISH", "ch1", "m"};
    case 24: return {"GET"};  // wrong arity
    default: return {"NOSUCHCOMMAND", k};
  }
}

std::vector<std::string> RCommand(Rng& rng, const AttackOptions& options) {
  const size_t roll = rng.Below(100);
  if (roll < 15 && !options.Skips("mode")) return RModeCommand(rng);
  if (roll < 20 && !options.no_reject_filter) return RDestructiveCommand(rng);
  std::vector<std::string> args = RDataCommand(rng, options);
  if (rng.Percent(5)) args[0] = absl::AsciiStrToLower(args[0]);
  return args;
}

// A RESP count or length, usually right, sometimes in a form that parsers read differently.
std::string Header(Rng& rng, char type, size_t n) {
  std::string number = std::to_string(n);
  std::string end = "\r\n";
  if (rng.Percent(3)) {
    switch (rng.Below(8)) {
      case 0: number = absl::StrCat("+", n); break;
      case 1: number = absl::StrCat("0", n); break;
      case 2: number = absl::StrCat(" ", n); break;
      case 3: number = absl::StrCat(n, " "); break;
      case 4: number = rng.Pick(OddNumbers()); break;
      case 5: end = "\n"; break;
      case 6: number = absl::StrCat(n, std::string(1, '\0')); break;
      default: number = absl::StrCat("-", n); break;
    }
  }
  return absl::StrCat(std::string(1, type), number, end);
}

std::string EncodeResp(Rng& rng, const std::vector<std::string>& args) {
  std::string out = Header(rng, '*', args.size());
  for (const std::string& a : args) {
    absl::StrAppend(&out, Header(rng, '$', a.size()), a, rng.Percent(1) ? "\n" : "\r\n");
  }
  return out;
}

std::string EncodeInline(Rng& rng, const std::vector<std::string>& args) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += rng.Percent(10) ? (rng.Percent(50) ? "  " : "\t") : " ";
    std::string a = args[i];
    if (a.empty() || rng.Percent(10)) {
      std::string quoted = "\"";
      for (char c : a) {
        const unsigned char u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
          static const char kHex[] = "0123456789abcdef";
          quoted += {'\\', 'x', kHex[u >> 4], kHex[u & 15]};
        } else {
          quoted.push_back(c);
        }
      }
      a = quoted + "\"";
    }
    out += a;
  }
  out += rng.Percent(15) ? "\n" : "\r\n";
  return out;
}

std::string EncodeCommand(Rng& rng, const std::vector<std::string>& args) {
  return rng.Percent(70) ? EncodeResp(rng, args) : EncodeInline(rng, args);
}

// RESP headers that are broken on purpose.
std::string BadFraming(Rng& rng) {
  switch (rng.Below(18)) {
    case 0: return "*-1\r\n";
    case 1: return "*0\r\n";
    case 2: return absl::StrCat("*", rng.Pick(OddNumbers()), "\r\n$3\r\nGET\r\n$1\r\na\r\n");
    case 3: return absl::StrCat("*2\r\n$3\r\nGET\r\n$", rng.Pick(OddNumbers()), "\r\nab\r\n");
    case 4: return "*3\r\n$3\r\nSET\r\n$-5\r\nak:1\r\n$1\r\nv\r\n";
    case 5: return "*1048577\r\n$4\r\nPING\r\n";
    case 6: return "$3\r\nGET\r\n";
    case 7: return "*2\r\n:3\r\n+GET\r\n";
    case 8: return "*2\r\n$3\r\nGET\r\n$1\r\nabc\r\n";
    case 9: return "*1\r\n$0\r\n\r\n";
    case 10: return "*1\r\n$4294967296\r\nPING\r\n";
    case 11: return "*2\r\n$3\r\nGET\r\n$536870913\r\n";
    case 12: return "* 1\r\n$4\r\nPING\r\n";
    case 13: return "*1 \r\n$4\r\nPING\r\n";
    case 14: return "*+1\r\n$+4\r\nPING\r\n";
    case 15: return "*01\r\n$04\r\nPING\r\n";
    case 16: return "*2\r\n$3\r\nGET\r\n$99999999999999999999\r\nx\r\n";
    default: return "*\r\n";
  }
}

// Inline-line tricks: NUL (finding 3), empty lines, lines of spaces, lines over the limits.
std::string InlineTrick(Rng& rng) {
  const std::string nul(1, '\0');
  switch (rng.Below(12)) {
    case 0: return absl::StrCat("GET a", nul, "b\r\n");
    case 1: return absl::StrCat(nul, "\r\n*2\r\n$3\r\nGET\r\n$4\r\nak:1\r\n");
    case 2: return "\r\n\r\n";
    case 3: return "   \r\n";
    case 4: return absl::StrCat("GET ", Filler(rng, rng.Between(2000, 70000)), "\r\n");
    case 5: return absl::StrCat(Filler(rng, rng.Between(60000, 70000)), "\r\n");
    case 6: return absl::StrCat("SET ak:1 \"", nul, "\"\r\n");
    case 7: return "GET \"unterminated\r\n";
    case 8: return absl::StrCat("PING", nul, "\r\n");
    case 9: return "GET ak:1\rGET ak:2\r\n";
    case 10: return absl::StrCat("GET ak:1 ", nul, "\r\n");
    default: return absl::StrCat(nul, nul, "GET ak:2\n");
  }
}

// A MULTI block: mode commands around data commands.
std::string MultiBlock(Rng& rng, const AttackOptions& options) {
  std::vector<std::vector<std::string>> commands = {{"MULTI"}};
  const size_t n = rng.Between(1, 3);
  for (size_t i = 0; i < n; ++i) commands.push_back(RDataCommand(rng, options));
  if (rng.Percent(50)) commands.push_back(RModeCommand(rng));
  commands.push_back({rng.Percent(70) ? "EXEC" : "DISCARD"});
  std::string out;
  for (const auto& c : commands) out += EncodeCommand(rng, c);
  return out;
}

// ---------------------------------------------------------------------------------------------
// memcache

std::string MKey(Rng& rng) {
  switch (rng.Below(24)) {
    case 0: return Filler(rng, 250);
    case 1: return Filler(rng, 251);
    case 2: return absl::StrCat("ak:", Filler(rng, rng.Between(2100, 4000)));
    case 3: return absl::StrCat("ak:", std::string(1, '\0'), rng.Below(64));
    case 4: return absl::StrCat("ak:", RandomBytes(rng, rng.Between(1, 6)));
    default: return absl::StrCat("ak:", rng.Below(64));
  }
}

// A data block payload: plain, binary, or itself a command (executed if a backend takes the
// header line for something else than the proxy did).
std::string MPayload(Rng& rng) {
  switch (rng.Below(12)) {
    case 0: return "flush_all\r\n";
    case 1: return "flush_all";
    case 2: return "get ak:1\r\n";
    case 3: return "set ak:9 0 0 1\r\nx\r\nget ak:9";
    case 4: return "version";
    case 5: return "delete ak:1";
    case 6: return RandomBytes(rng, rng.Between(0, 40));
    case 7: return Filler(rng, rng.Between(3000, 30000));
    case 8: return "";
    case 9: return "mn";
    default: return Filler(rng, rng.Between(1, 20));
  }
}

std::string Noreply(Rng& rng) {
  if (!rng.Percent(25)) return "";
  switch (rng.Below(6)) {
    case 0: return std::string(" noreply\0", 9);
    case 1: return " NOREPLY";
    case 2: return " noreply noreply";
    default: return " noreply";
  }
}

std::string MetaFlags(Rng& rng, const AttackOptions& options) {
  static const auto* valid = new std::vector<std::string>{
      "b", "c", "f", "h", "k", "l", "O123", "q", "s", "t", "v", "E5", "N30", "R30", "T30",
      "I", "MS", "ME", "MA", "MP", "MR", "D5", "F7", "C0", "S3", "x", "u", "P", "L", "Oabc"};
  std::string out;
  size_t n = rng.Below(5);
  if (rng.Percent(20) && !options.Skips("many_flags")) n = rng.Between(15, 40);
  for (size_t i = 0; i < n; ++i) {
    out += ' ';
    switch (rng.Below(12)) {
      case 0: out += std::string(1, static_cast<char>(rng.Below(256))); break;
      case 1: out += absl::StrCat(rng.Pick(*valid), Number(rng)); break;
      case 2: out += Filler(rng, rng.Between(2, 40)); break;
      default: out += rng.Pick(*valid); break;
    }
  }
  return out;
}

std::string MStorage(Rng& rng) {
  static const auto* names =
      new std::vector<std::string>{"set", "add", "replace", "append", "prepend", "cas"};
  const std::string& name = rng.Pick(*names);
  const std::string data = MPayload(rng);
  std::string length = std::to_string(data.size());
  if (rng.Percent(15)) {
    length = rng.Percent(50) ? rng.Pick(OddNumbers())
                             : std::to_string(data.size() + rng.Below(5) - 2);
  }
  std::string line = absl::StrCat(name, " ", MKey(rng), " ", rng.Percent(90) ? "0" : Number(rng),
                                  " ", rng.Percent(90) ? "0" : Number(rng), " ", length);
  if (name == "cas") absl::StrAppend(&line, " ", Number(rng));
  absl::StrAppend(&line, Noreply(rng));
  if (rng.Percent(5)) absl::StrAppend(&line, " extra");
  return absl::StrCat(line, "\r\n", data, "\r\n");
}

std::string MRetrieval(Rng& rng, const AttackOptions& options) {
  static const auto* names = new std::vector<std::string>{"get", "gets", "gat", "gats"};
  const std::string& name = rng.Pick(*names);
  std::string line = name;
  if (name[1] == 'a') absl::StrAppend(&line, " ", rng.Percent(80) ? "0" : Number(rng));
  size_t n = rng.Between(1, 6);
  if (rng.Percent(8) && !options.Skips("many_keys")) n = rng.Between(300, 4000);
  for (size_t i = 0; i < n; ++i) absl::StrAppend(&line, " ", MKey(rng));
  return absl::StrCat(line, rng.Percent(5) ? "\n" : "\r\n");
}

std::string MOther(Rng& rng, const AttackOptions& options) {
  const std::string k = MKey(rng);
  switch (rng.Below(22)) {
    case 0: return absl::StrCat("incr ", k, " ", Number(rng), Noreply(rng), "\r\n");
    case 1: return absl::StrCat("decr ", k, " ", Number(rng), Noreply(rng), "\r\n");
    case 2: return absl::StrCat("touch ", k, " ", Number(rng), Noreply(rng), "\r\n");
    case 3: return absl::StrCat("delete ", k, Noreply(rng), "\r\n");
    case 4: return absl::StrCat("delete ", k, " ", Number(rng), Noreply(rng), "\r\n");
    case 5: return absl::StrCat("mg ", k, MetaFlags(rng, options), "\r\n");
    case 6: {
      const std::string data = MPayload(rng);
      std::string length = rng.Percent(85) ? std::to_string(data.size()) : Number(rng);
      return absl::StrCat("ms ", k, " ", length, MetaFlags(rng, options), "\r\n", data, "\r\n");
    }
    case 7: return absl::StrCat("md ", k, MetaFlags(rng, options), "\r\n");
    case 8: return absl::StrCat("ma ", k, MetaFlags(rng, options), "\r\n");
    case 9: return absl::StrCat("me ", k, "\r\n");
    case 10: return "mn\r\n";
    case 11: return "version\r\n";
    case 12: return "quit\r\n";
    case 13: return "watch\r\n";
    case 14: return "verbosity 1\r\n";
    case 15: return options.no_reject_filter ? "mn\r\n" : "flush_all\r\n";
    case 16: return options.no_reject_filter ? "mn\r\n" : "flush_all 0 noreply\r\n";
    case 17: return options.no_reject_filter ? "mn\r\n" : "stats\r\n";
    case 18: return std::string("\x80\x00\x00\x00", 4);
    case 19:  // finding 1 exactly: a NUL before the end of the line
      return absl::StrCat("incr ", k, " 1", rng.Percent(50) ? " noreply" : "",
                          std::string(1, '\0'), rng.Percent(50) ? " noreply" : "", "\r\n");
    case 20:  // finding 2 exactly: ms with more flags than memcached accepts, data = a command
      if (options.Skips("many_flags")) return "mn\r\n";
      return absl::StrCat("ms ", k, " 9 T1 x ", Filler(rng, 30), "\r\nflush_all\r\n");
    default: return absl::StrCat(Filler(rng, rng.Between(1, 10)), "\r\n");
  }
}

std::string MCommand(Rng& rng, const AttackOptions& options) {
  const size_t roll = rng.Below(100);
  if (roll < 30) return MStorage(rng);
  if (roll < 50) return MRetrieval(rng, options);
  return MOther(rng, options);
}

// Replaces every case-insensitive occurrence of `word` in `bytes` with 'x' bytes.
void Blank(absl::string_view word, std::string* bytes) {
  if (bytes->size() < word.size()) return;
  for (size_t i = 0; i + word.size() <= bytes->size(); ++i) {
    bool match = true;
    for (size_t j = 0; j < word.size() && match; ++j) {
      match = absl::ascii_tolower(static_cast<unsigned char>((*bytes)[i + j])) == word[j];
    }
    if (match) {
      for (size_t j = 0; j < word.size(); ++j) (*bytes)[i + j] = 'x';
    }
  }
}

void Finish(bool redis, const AttackOptions& options, std::string* bytes) {
  if (options.no_reject_filter) Scrub(redis, bytes);
  if (options.Skips("nul")) std::replace(bytes->begin(), bytes->end(), '\0', 'z');
}

}  // namespace

std::vector<size_t> SplitPoints(Rng& rng, size_t size) {
  std::vector<size_t> points;
  if (size < 2) return points;
  if (size <= 64 && rng.Percent(5)) {
    for (size_t i = 1; i < size; ++i) points.push_back(i);  // one byte per write
    return points;
  }
  const size_t n = rng.Percent(40) ? 0 : rng.Between(1, 4);
  for (size_t i = 0; i < n; ++i) points.push_back(rng.Between(1, size - 1));
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  return points;
}

void Mutate(Rng& rng, bool redis, std::string* bytes) {
  const size_t count = rng.Between(1, 4);
  for (size_t m = 0; m < count; ++m) {
    const size_t size = bytes->size();
    const size_t at = rng.Below(size + 1);
    switch (rng.Below(9)) {
      case 0:
      case 1:  // a control or separator byte anywhere
        bytes->insert(at, rng.Pick(OddBytes()));
        break;
      case 2:  // overwrite one byte
        if (at < size) (*bytes)[at] = rng.Pick(OddBytes())[0];
        break;
      case 3:  // delete a range
        if (at < size) bytes->erase(at, rng.Between(1, std::min<size_t>(size - at, 8)));
        break;
      case 4:  // duplicate a range
        if (at < size) bytes->insert(at, bytes->substr(at, rng.Between(1, 16)));
        break;
      case 5:  // truncate
        bytes->resize(at);
        break;
      case 6: {  // change a number
        size_t digit = bytes->find_first_of("0123456789", at);
        if (digit == std::string::npos) digit = bytes->find_first_of("0123456789");
        if (digit == std::string::npos) break;
        size_t end = digit;
        while (end < bytes->size() && std::isdigit(static_cast<unsigned char>((*bytes)[end]))) {
          ++end;
        }
        bytes->replace(digit, end - digit, rng.Pick(OddNumbers()));
        break;
      }
      case 7: {  // a whole command in the middle of something else
        static const auto* redis_cmds = new std::vector<std::string>{
            "FLUSHALL\r\n", "*1\r\n$8\r\nFLUSHALL\r\n", "MULTI\r\n", "*1\r\n$5\r\nMULTI\r\n",
            "SUBSCRIBE c\r\n", "CLIENT REPLY OFF\r\n", "GET ak:1\r\n", "\r\n"};
        static const auto* mc_cmds = new std::vector<std::string>{
            "flush_all\r\n", "get ak:1\r\n", "set ak:2 0 0 1\r\nx\r\n", "mn\r\n", "\r\n",
            "delete ak:3\r\n", " noreply", "incr ak:1 1\r\n"};
        bytes->insert(at, rng.Pick(redis ? *redis_cmds : *mc_cmds));
        break;
      }
      default:  // a random byte
        bytes->insert(at, 1, static_cast<char>(rng.Below(256)));
        break;
    }
  }
}

void Scrub(bool redis, std::string* bytes) {
  static const auto* redis_words = new std::vector<std::string>{
      "flushall", "flushdb", "config", "shutdown", "debug", "script", "swapdb", "replicaof",
      "slaveof", "failover", "migrate", "module", "acl", "save", "bgrewriteaof", "cluster",
      "function", "sync", "kill", "eval", "fcall", "restore", "move", "copy", "sort"};
  static const auto* memcache_words = new std::vector<std::string>{
      "flush_all", "shutdown", "cache_memlimit", "slabs", "lru", "stats", "extstore",
      "misbehave", "debugtime"};
  for (const std::string& word : redis ? *redis_words : *memcache_words) Blank(word, bytes);
}

AttackInput RedisAttack(Rng& rng, const AttackOptions& options, uint64_t serial) {
  AttackInput input;
  const size_t roll = rng.Below(100);
  if (roll < 5 && !options.Skips("transaction")) {
    // A canonical MULTI block on a fresh connection: it runs on one server over a dedicated
    // connection, so its writes happen all together (EXEC, keys on one server) or not at all
    // (DISCARD, or keys on several servers). The keys are unique: the test checks the backends.
    input.kind = AttackKind::kTransaction;
    const bool inline_form = rng.Percent(30);
    std::vector<std::vector<std::string>> commands = {{"MULTI"}};
    const size_t n = rng.Between(1, 2);
    for (size_t i = 0; i < n; ++i) {
      std::string key = absl::StrCat("txn:", options.pool, ":", serial, ":", i);
      input.transaction_keys.push_back(key);
      commands.push_back({"SET", key, "1"});
    }
    input.transaction_commits = rng.Percent(70);
    commands.push_back({input.transaction_commits ? "EXEC" : "DISCARD"});
    for (const auto& c : commands) {
      if (inline_form) {
        input.bytes += absl::StrCat(absl::StrJoin(c, " "), "\r\n");
      } else {
        std::string one = absl::StrCat("*", c.size(), "\r\n");
        for (const std::string& a : c) absl::StrAppend(&one, "$", a.size(), "\r\n", a, "\r\n");
        input.bytes += one;
      }
    }
    return input;
  }
  if (roll < 15) {
    input.bytes = InlineTrick(rng);
  } else if (roll < 23) {
    input.bytes = BadFraming(rng);
  } else if (roll < 33 && !options.Skips("mode")) {
    input.bytes = MultiBlock(rng, options);
  } else {
    const size_t n = rng.Percent(60) ? 1 : rng.Between(2, 6);
    for (size_t i = 0; i < n; ++i) input.bytes += EncodeCommand(rng, RCommand(rng, options));
  }
  if (rng.Percent(25)) input.bytes = EncodeCommand(rng, RCommand(rng, options)) + input.bytes;
  if (rng.Percent(40)) Mutate(rng, true, &input.bytes);
  Finish(true, options, &input.bytes);
  return input;
}

AttackInput MemcacheAttack(Rng& rng, const AttackOptions& options, uint64_t serial) {
  (void)serial;
  AttackInput input;
  const size_t n = rng.Percent(60) ? 1 : rng.Between(2, 6);
  for (size_t i = 0; i < n; ++i) input.bytes += MCommand(rng, options);
  if (rng.Percent(45)) Mutate(rng, false, &input.bytes);
  Finish(false, options, &input.bytes);
  return input;
}

}  // namespace proxy::test::differential

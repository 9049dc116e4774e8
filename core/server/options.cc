// Command-line parsing with twemproxy's flags, defaults and error messages.
#include "core/server/options.h"

#include <getopt.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <limits>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "api/stats.h"
#include "core/common/version.h"

namespace proxy {
namespace {

// Limits of the values the flags accept, shared by the checks and their messages.
constexpr int64_t kMaxLogLevel = 11;  // twemproxy's LOG_PVERB
// twemproxy's mbuf chunk bounds (MBUF_MIN_SIZE, MBUF_MAX_SIZE).
constexpr int64_t kMinMbufSize = 512;
constexpr int64_t kMaxMbufSize = 16777216;
// More event-loop threads than this would only contend for the same cores.
constexpr int64_t kMaxWorkers = 1024;
// A request's arguments are indexed with 32-bit offsets (api/codec.h ArgList); below the
// minimum not even a handshake fits.
constexpr uint64_t kMinMaxRequestBytes = 1024;
constexpr uint64_t kMaxMaxRequestBytes = (uint64_t{4} << 30) - 1;
// Below one MiB an ordinary multi-key reply would disconnect a client that reads normally.
constexpr uint64_t kMinClientOutputLimit = uint64_t{1} << 20;
// A drain longer than an hour is a stuck process, not a graceful shutdown.
constexpr double kMaxDrainSeconds = 3600;
constexpr int64_t kMaxPort = 65535;

// twemproxy's nc_atoi: digits only, non-negative int (at most INT_MAX, 10 digits).
bool ParseCount(const char* text, int64_t* out) {
  constexpr int64_t kMaxCount = std::numeric_limits<int32_t>::max();
  constexpr size_t kMaxDigits = 10;
  absl::string_view s(text);
  if (s.empty() || s.size() > kMaxDigits) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  int64_t v = 0;
  if (!absl::SimpleAtoi(s, &v) || v > kMaxCount) return false;
  *out = v;
  return true;
}

// Stores a flag's argument into the options; returns the error message, empty when accepted.
using Setter = std::string (*)(const char* arg, Options* o);

// One command-line flag. Everything the parser and the usage text know about a flag comes from
// its row in kFlags: the getopt tables, the usage line, the message for a missing argument and
// the default (applied through `set` before the command line is read, so Options has no
// second copy of it).
struct Flag {
  const char* name;    // the long form, --name
  char short_name;     // twemproxy's one-letter form, or 0 for our long-only flags
  const char* arg;     // the argument's placeholder in the usage ("N", "S"); nullptr = none
  const char* needs;   // "option -c requires <needs>" when the argument is missing
  const char* default_arg;    // given to `set` before the command line; nullptr = zero value
  const char* default_shown;  // the default as the usage shows it; nullptr = default_arg
  // The usage text; "{}" stands for the default as shown, "\n" starts a continuation line.
  const char* help;
  Setter set;
};

// The setter of a flag without an argument.
template <bool Options::*kField>
std::string SetTrue(const char* /*arg*/, Options* o) {
  o->*kField = true;
  return std::string();
}

// The setter of a flag whose argument is kept as it is (a file name, an address).
template <std::string Options::*kField>
std::string SetText(const char* arg, Options* o) {
  o->*kField = arg;
  return std::string();
}

// twemproxy's flags in its usage order, then ours.
const Flag kFlags[] = {
    {"help", 'h', nullptr, nullptr, nullptr, nullptr, "this help", &SetTrue<&Options::show_help>},
    {"version", 'V', nullptr, nullptr, nullptr, nullptr, "show version and exit",
     &SetTrue<&Options::show_version>},
    {"test-conf", 't', nullptr, nullptr, nullptr, nullptr,
     "test configuration for syntax errors and exit", &SetTrue<&Options::test_conf>},
    {"daemonize", 'd', nullptr, nullptr, nullptr, nullptr, "run as a daemon",
     &SetTrue<&Options::daemonize>},
    {"describe-stats", 'D', nullptr, nullptr, nullptr, nullptr,
     "print stats description and exit", &SetTrue<&Options::describe_stats>},
    {"verbose", 'v', "N", "a number", "5", nullptr,
     "set logging level (default: {}, min: 0, max: 11)",
     [](const char* arg, Options* o) {
       int64_t n = 0;
       if (!ParseCount(arg, &n)) return std::string("option -v requires a number");
       o->log_level = static_cast<int>(std::min<int64_t>(n, kMaxLogLevel));
       return std::string();
     }},
    {"output", 'o', "S", "a file name", nullptr, "stderr", "set logging file (default: {})",
     &SetText<&Options::log_file>},
    {"conf-file", 'c', "S", "a file name", "conf/nutcracker.yml", nullptr,
     "set configuration file (default: {})",
     &SetText<&Options::conf_file>},
    {"stats-port", 's', "N", "a number", "22222", nullptr,
     "set stats monitoring port (default: {})",
     [](const char* arg, Options* o) {
       int64_t n = 0;
       if (!ParseCount(arg, &n)) return std::string("option -s requires a number");
       if (n < 1 || n > kMaxPort) {
         return absl::StrCat("option -s value ", n, " is not a valid port");
       }
       o->stats_port = static_cast<uint16_t>(n);
       return std::string();
     }},
    {"stats-addr", 'a', "S", "a string", "0.0.0.0", nullptr,
     "set stats monitoring ip (default: {})",
     &SetText<&Options::stats_addr>},
    {"stats-interval", 'i', "N", "a number", "30000", nullptr,
     "set stats aggregation interval in msec (default: {} msec)",
     [](const char* arg, Options* o) {
       int64_t n = 0;
       if (!ParseCount(arg, &n)) return std::string("option -i requires a number");
       o->stats_interval_ms = static_cast<uint32_t>(n);
       return std::string();
     }},
    {"pid-file", 'p', "S", "a file name", nullptr, "off", "set pid file (default: {})",
     &SetText<&Options::pid_file>},
    {"mbuf-size", 'm', "N", "a number", "16384", nullptr,
     "set size of mbuf chunk in bytes (default: {} bytes)",
     [](const char* arg, Options* o) {
       int64_t n = 0;
       if (!ParseCount(arg, &n) || n == 0) {
         return std::string("option -m requires a non-zero number");
       }
       if (n < kMinMbufSize || n > kMaxMbufSize) {
         return absl::StrCat("mbuf chunk size must be between ", kMinMbufSize, " and ",
                             kMaxMbufSize, " bytes");
       }
       o->mbuf_size = static_cast<uint32_t>(n);
       return std::string();
     }},
    {"workers", 0, "N|auto", "a number", "1", nullptr,
     "event-loop threads (default: {}; auto = one per core)",
     [](const char* arg, Options* o) {
       int64_t n = 0;
       if (absl::string_view(arg) == "auto") {
         o->workers = 0;
       } else if (!ParseCount(arg, &n) || n < 1 || n > kMaxWorkers) {
         return absl::StrCat("option --workers requires a number from 1 to ", kMaxWorkers,
                             " or auto");
       } else {
         o->workers = static_cast<uint32_t>(n);
       }
       return std::string();
     }},
    {"max-request-bytes", 0, "N", "a number", "536870912", nullptr,
     "largest request or reply accepted (default: {})",
     [](const char* arg, Options* o) {
       uint64_t v = 0;
       if (!absl::SimpleAtoi(absl::string_view(arg), &v) || v < kMinMaxRequestBytes ||
           v > kMaxMaxRequestBytes) {
         return absl::StrCat("option --max-request-bytes requires a number from ",
                             kMinMaxRequestBytes, " to ", kMaxMaxRequestBytes);
       }
       o->max_request_bytes = v;
       return std::string();
     }},
    {"client-output-limit", 0, "N", "a number", "1073741824", nullptr,
     "disconnect a client with more unread reply bytes\n(default: {})",
     [](const char* arg, Options* o) {
       uint64_t v = 0;
       if (!absl::SimpleAtoi(absl::string_view(arg), &v) || v < kMinClientOutputLimit) {
         return absl::StrCat("option --client-output-limit requires a number of at least ",
                             kMinClientOutputLimit);
       }
       o->client_output_limit = v;
       return std::string();
     }},
    {"admin-port", 0, "N", "a number", nullptr, "off",
     "serve /metrics /stats /healthz /servers over HTTP (default: {})",
     [](const char* arg, Options* o) {
       int64_t n = 0;
       if (!ParseCount(arg, &n) || n < 1 || n > kMaxPort) {
         return absl::StrCat("option --admin-port value ", arg, " is not a valid port");
       }
       o->admin_port = static_cast<uint16_t>(n);
       return std::string();
     }},
    {"admin-addr", 0, "S", "a string", "127.0.0.1", nullptr,
     "admin endpoint address (default: {})",
     &SetText<&Options::admin_addr>},
    {"slowlog-us", 0, "N", "a number", nullptr, "off",
     "log and count requests slower than N microseconds (default: {})",
     [](const char* arg, Options* o) {
       int64_t n = 0;
       if (!ParseCount(arg, &n)) {
         return std::string("option --slowlog-us requires a number of microseconds");
       }
       o->slowlog_us = static_cast<uint64_t>(n);
       return std::string();
     }},
    {"drain-timeout", 0, "S", "a number of seconds", "3", nullptr,
     "on SIGTERM/SIGINT, seconds to answer requests already\nreceived before exiting "
     "(default: {}; 0 = exit at once)",
     [](const char* arg, Options* o) {
       double seconds = 0;
       if (!absl::SimpleAtod(absl::string_view(arg), &seconds) || !(seconds >= 0) ||
           seconds > kMaxDrainSeconds) {
         return absl::StrCat("option --drain-timeout requires a number of seconds from 0 to ",
                             kMaxDrainSeconds);
       }
       o->drain_timeout_ms = static_cast<uint32_t>(seconds * 1000 + 0.5);
       return std::string();
     }},
    {"upgrade-socket", 0, "S", "a path", nullptr, "off",
     "unix socket for zero-downtime binary upgrades (default: {})",
     [](const char* arg, Options* o) {
       if (*arg == '\0') return std::string("option --upgrade-socket requires a path");
       o->upgrade_socket = arg;
       return std::string();
     }},
};

// getopt_long's code for kFlags[i]: its letter, or a value past every char for long-only flags.
constexpr int kLongOnlyBase = 1000;
int OptionCode(size_t i) {
  return kFlags[i].short_name != 0 ? kFlags[i].short_name : kLongOnlyBase + static_cast<int>(i);
}

const Flag* FlagForCode(int code) {
  for (size_t i = 0; i < std::size(kFlags); ++i) {
    if (OptionCode(i) == code) return &kFlags[i];
  }
  return nullptr;
}

// "-c" for twemproxy's flags (also when spelled --conf-file, as getopt reports them), "--workers"
// for ours.
std::string DisplayName(const Flag& flag) {
  return flag.short_name != 0 ? std::string{'-', flag.short_name}
                              : absl::StrCat("--", flag.name);
}

ParsedOptions Fail(std::string message) {
  ParsedOptions parsed;
  parsed.exit_now = true;
  parsed.exit_code = 1;
  parsed.message = std::move(message);
  parsed.usage_after = true;
  return parsed;
}

}  // namespace

std::string VersionBanner() {
  return absl::StrCat("This is ", kProxyName, "-", kProxyVersion, " (", kCompatName, "-",
                      kCompatVersion, " compatible)\nasync event backend: epoll\n\n");
}

std::string UsageText() {
  // twemproxy's synopsis, kept verbatim; the option list below it is generated from kFlags.
  std::string out =
      "Usage: shardproxy [-?hVdDt] [-v verbosity level] [-o output file]\n"
      "                  [-c conf file] [-s stats port] [-a stats addr]\n"
      "                  [-i stats interval] [-p pid file] [-m mbuf size]\n"
      "                  [--workers N|auto]\n"
      "\n"
      "Options:\n";
  // The help starts at this column; a longer flag column pushes it right on that line only.
  constexpr size_t kHelpColumn = 25;
  for (const Flag& flag : kFlags) {
    std::string line = flag.short_name != 0
                           ? absl::StrCat("  ", DisplayName(flag), ", --", flag.name)
                           : absl::StrCat("      --", flag.name);
    if (flag.arg != nullptr) absl::StrAppend(&line, "=", flag.arg);
    line.resize(std::max(line.size() + 1, kHelpColumn), ' ');
    const char* shown = flag.default_shown != nullptr ? flag.default_shown : flag.default_arg;
    const std::string help = absl::StrReplaceAll(
        flag.help, {{"{}", shown != nullptr ? shown : ""},
                    {"\n", absl::StrCat("\n", std::string(kHelpColumn + 2, ' '))}});
    absl::StrAppend(&out, line, ": ", help, "\n");
  }
  return out;
}

std::string StatsDescription() {
  std::string out = "pool stats:\n";
#define PROXY_DESCRIBE_(name, description) \
  absl::StrAppend(&out, absl::StrFormat("  %-20s\"%s\"\n", #name, description));
#define PROXY_DESCRIBE_TS_(name, description) PROXY_DESCRIBE_(name, description)
  PROXY_POOL_STATS(PROXY_DESCRIBE_, PROXY_DESCRIBE_)
  out += "\nserver stats:\n";
  PROXY_SERVER_STATS(PROXY_DESCRIBE_, PROXY_DESCRIBE_, PROXY_DESCRIBE_TS_)
#undef PROXY_DESCRIBE_
#undef PROXY_DESCRIBE_TS_
  return out;
}

ParsedOptions ParseOptions(int argc, char** argv) {
  // getopt's tables, built once from kFlags. The leading ':' makes getopt report a missing
  // argument as ':' so that we print twemproxy's message ourselves.
  static const auto* const kLongOptions = [] {
    auto* options = new std::vector<struct option>();
    for (size_t i = 0; i < std::size(kFlags); ++i) {
      const int has_arg = kFlags[i].arg != nullptr ? required_argument : no_argument;
      options->push_back({kFlags[i].name, has_arg, nullptr, OptionCode(i)});
    }
    options->push_back({nullptr, 0, nullptr, 0});
    return options;
  }();
  static const std::string* const kShortOptions = [] {
    auto* letters = new std::string(":");
    for (const Flag& flag : kFlags) {
      if (flag.short_name == 0) continue;
      letters->push_back(flag.short_name);
      if (flag.arg != nullptr) letters->push_back(':');
    }
    return letters;
  }();

  ParsedOptions parsed;
  for (const Flag& flag : kFlags) {
    if (flag.default_arg == nullptr) continue;
    const std::string error = flag.set(flag.default_arg, &parsed.options);
    if (!error.empty()) return Fail(absl::StrCat("shardproxy: bad default of --", flag.name,
                                                 ": ", error));
  }
  opterr = 0;  // we print twemproxy's messages ourselves
  optind = 0;  // glibc: 0 also resets getopt's state inside a cluster (-xyz) of a previous call
  for (;;) {
    const int c = getopt_long(argc, argv, kShortOptions->c_str(), kLongOptions->data(), nullptr);
    if (c == -1) break;
    if (c == ':') {
      const Flag* flag = FlagForCode(optopt);
      return Fail(absl::StrCat("shardproxy: option ", flag != nullptr ? DisplayName(*flag) : "?",
                               " requires ", flag != nullptr ? flag->needs : "an argument"));
    }
    const Flag* flag = FlagForCode(c);
    if (flag == nullptr) {  // '?': not one of ours
      if (optopt != 0 && optopt < 256) {
        return Fail(absl::StrFormat("shardproxy: invalid option -- '%c'", optopt));
      }
      return Fail(absl::StrCat("shardproxy: invalid option '", argv[optind - 1], "'"));
    }
    const std::string error = flag->set(optarg, &parsed.options);
    if (!error.empty()) return Fail(absl::StrCat("shardproxy: ", error));
  }
  if (optind < argc) {
    return Fail(absl::StrCat("shardproxy: unexpected argument '", argv[optind], "'"));
  }
  return parsed;
}

}  // namespace proxy

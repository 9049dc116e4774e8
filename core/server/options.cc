// Command-line parsing with twemproxy's flags, defaults and error messages.
#include "core/server/options.h"

#include <getopt.h>

#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "api/stats.h"
#include "core/common/version.h"

namespace proxy {
namespace {

constexpr int kWorkersOption = 1000;
constexpr int kMaxRequestBytesOption = 1001;
constexpr int kClientOutputLimitOption = 1002;
constexpr int kAdminPortOption = 1003;
constexpr int kAdminAddrOption = 1004;
constexpr int kSlowlogOption = 1005;
constexpr int kDrainTimeoutOption = 1006;
constexpr int kUpgradeSocketOption = 1007;

// twemproxy's nc_atoi: digits only, non-negative int.
bool ParseCount(const char* text, int64_t* out) {
  absl::string_view s(text);
  if (s.empty() || s.size() > 10) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  int64_t v = 0;
  if (!absl::SimpleAtoi(s, &v) || v > 2147483647) return false;
  *out = v;
  return true;
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
  return "Usage: shardproxy [-?hVdDt] [-v verbosity level] [-o output file]\n"
         "                  [-c conf file] [-s stats port] [-a stats addr]\n"
         "                  [-i stats interval] [-p pid file] [-m mbuf size]\n"
         "                  [--workers N|auto]\n"
         "\n"
         "Options:\n"
         "  -h, --help             : this help\n"
         "  -V, --version          : show version and exit\n"
         "  -t, --test-conf        : test configuration for syntax errors and exit\n"
         "  -d, --daemonize        : run as a daemon\n"
         "  -D, --describe-stats   : print stats description and exit\n"
         "  -v, --verbose=N        : set logging level (default: 5, min: 0, max: 11)\n"
         "  -o, --output=S         : set logging file (default: stderr)\n"
         "  -c, --conf-file=S      : set configuration file (default: conf/nutcracker.yml)\n"
         "  -s, --stats-port=N     : set stats monitoring port (default: 22222)\n"
         "  -a, --stats-addr=S     : set stats monitoring ip (default: 0.0.0.0)\n"
         "  -i, --stats-interval=N : set stats aggregation interval in msec (default: 30000 "
         "msec)\n"
         "  -p, --pid-file=S       : set pid file (default: off)\n"
         "  -m, --mbuf-size=N      : set size of mbuf chunk in bytes (default: 16384 bytes)\n"
         "      --workers=N|auto   : event-loop threads (default: 1; auto = one per core)\n"
         "      --max-request-bytes=N : largest request or reply accepted (default: 536870912)\n"
         "      --client-output-limit=N : disconnect a client with more unread reply bytes\n"
         "                             (default: 1073741824)\n"
         "      --admin-port=N     : serve /metrics /stats /healthz /servers over HTTP (default: off)\n"
         "      --admin-addr=S     : admin endpoint address (default: 127.0.0.1)\n"
         "      --slowlog-us=N     : log and count requests slower than N microseconds (default: off)\n"
         "      --drain-timeout=S  : on SIGTERM/SIGINT, seconds to answer requests already\n"
         "                           received before exiting (default: 3; 0 = exit at once)\n"
         "      --upgrade-socket=S : unix socket for zero-downtime binary upgrades (default: off)\n";
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
  static const struct option kLongOptions[] = {
      {"help", no_argument, nullptr, 'h'},
      {"version", no_argument, nullptr, 'V'},
      {"test-conf", no_argument, nullptr, 't'},
      {"daemonize", no_argument, nullptr, 'd'},
      {"describe-stats", no_argument, nullptr, 'D'},
      {"verbose", required_argument, nullptr, 'v'},
      {"output", required_argument, nullptr, 'o'},
      {"conf-file", required_argument, nullptr, 'c'},
      {"stats-port", required_argument, nullptr, 's'},
      {"stats-interval", required_argument, nullptr, 'i'},
      {"stats-addr", required_argument, nullptr, 'a'},
      {"pid-file", required_argument, nullptr, 'p'},
      {"mbuf-size", required_argument, nullptr, 'm'},
      {"workers", required_argument, nullptr, kWorkersOption},
      {"max-request-bytes", required_argument, nullptr, kMaxRequestBytesOption},
      {"client-output-limit", required_argument, nullptr, kClientOutputLimitOption},
      {"admin-port", required_argument, nullptr, kAdminPortOption},
      {"admin-addr", required_argument, nullptr, kAdminAddrOption},
      {"slowlog-us", required_argument, nullptr, kSlowlogOption},
      {"drain-timeout", required_argument, nullptr, kDrainTimeoutOption},
      {"upgrade-socket", required_argument, nullptr, kUpgradeSocketOption},
      {nullptr, 0, nullptr, 0},
  };
  ParsedOptions parsed;
  Options& o = parsed.options;
  opterr = 0;  // we print twemproxy's messages ourselves
  optind = 1;
  for (;;) {
    int c = getopt_long(argc, argv, ":hVtdDv:o:c:s:i:a:p:m:", kLongOptions, nullptr);
    if (c == -1) break;
    int64_t n = 0;
    switch (c) {
      case 'h':
        o.show_help = true;
        break;
      case 'V':
        o.show_version = true;
        break;
      case 't':
        o.test_conf = true;
        break;
      case 'd':
        o.daemonize = true;
        break;
      case 'D':
        o.describe_stats = true;
        break;
      case 'v':
        if (!ParseCount(optarg, &n)) return Fail("shardproxy: option -v requires a number");
        o.log_level = static_cast<int>(std::min<int64_t>(n, 11));
        break;
      case 'o':
        o.log_file = optarg;
        break;
      case 'c':
        o.conf_file = optarg;
        break;
      case 's':
        if (!ParseCount(optarg, &n)) return Fail("shardproxy: option -s requires a number");
        if (n < 1 || n > 65535) {
          return Fail(absl::StrCat("shardproxy: option -s value ", n, " is not a valid port"));
        }
        o.stats_port = static_cast<uint16_t>(n);
        break;
      case 'i':
        if (!ParseCount(optarg, &n)) return Fail("shardproxy: option -i requires a number");
        o.stats_interval_ms = static_cast<uint32_t>(n);
        break;
      case 'a':
        o.stats_addr = optarg;
        break;
      case 'p':
        o.pid_file = optarg;
        break;
      case 'm':
        if (!ParseCount(optarg, &n) || n == 0) {
          return Fail("shardproxy: option -m requires a non-zero number");
        }
        if (n < 512 || n > 16777216) {
          return Fail("shardproxy: mbuf chunk size must be between 512 and 16777216 bytes");
        }
        o.mbuf_size = static_cast<uint32_t>(n);
        break;
      case kWorkersOption:
        if (absl::string_view(optarg) == "auto") {
          o.workers = 0;
        } else if (!ParseCount(optarg, &n) || n < 1 || n > 1024) {
          return Fail("shardproxy: option --workers requires a number from 1 to 1024 or auto");
        } else {
          o.workers = static_cast<uint32_t>(n);
        }
        break;
      case kMaxRequestBytesOption: {
        uint64_t v = 0;
        if (!absl::SimpleAtoi(absl::string_view(optarg), &v) || v < 1024 ||
            v > (uint64_t{4} << 30) - 1) {
          // A request's arguments are indexed with 32-bit offsets (api/codec.h ArgList).
          return Fail(
              "shardproxy: option --max-request-bytes requires a number from 1024 to 4294967295");
        }
        o.max_request_bytes = v;
        break;
      }
      case kClientOutputLimitOption: {
        uint64_t v = 0;
        if (!absl::SimpleAtoi(absl::string_view(optarg), &v) || v < (1u << 20)) {
          return Fail("shardproxy: option --client-output-limit requires a number of at least "
                      "1048576");
        }
        o.client_output_limit = v;
        break;
      }
      case kAdminPortOption:
        if (!ParseCount(optarg, &n) || n < 1 || n > 65535) {
          return Fail(absl::StrCat("shardproxy: option --admin-port value ", optarg,
                                   " is not a valid port"));
        }
        o.admin_port = static_cast<uint16_t>(n);
        break;
      case kAdminAddrOption:
        o.admin_addr = optarg;
        break;
      case kSlowlogOption:
        if (!ParseCount(optarg, &n)) {
          return Fail("shardproxy: option --slowlog-us requires a number of microseconds");
        }
        o.slowlog_us = static_cast<uint64_t>(n);
        break;
      case kDrainTimeoutOption: {
        double seconds = 0;
        if (!absl::SimpleAtod(absl::string_view(optarg), &seconds) || !(seconds >= 0) ||
            seconds > 3600) {
          return Fail("shardproxy: option --drain-timeout requires a number of seconds from 0 "
                      "to 3600");
        }
        o.drain_timeout_ms = static_cast<uint32_t>(seconds * 1000 + 0.5);
        break;
      }
      case kUpgradeSocketOption:
        if (*optarg == '\0') return Fail("shardproxy: option --upgrade-socket requires a path");
        o.upgrade_socket = optarg;
        break;
      case ':': {
        const int opt = optopt;
        const char* what = "a number";
        if (opt == 'o' || opt == 'c' || opt == 'p') what = "a file name";
        if (opt == 'a') what = "a string";
        if (opt == kWorkersOption) return Fail("shardproxy: option --workers requires a number");
        if (opt == kAdminPortOption || opt == kSlowlogOption) {
          return Fail(absl::StrCat("shardproxy: option --",
                                   opt == kAdminPortOption ? "admin-port" : "slowlog-us",
                                   " requires a number"));
        }
        if (opt == kAdminAddrOption) return Fail("shardproxy: option --admin-addr requires a string");
        if (opt == kDrainTimeoutOption) {
          return Fail("shardproxy: option --drain-timeout requires a number of seconds");
        }
        if (opt == kUpgradeSocketOption) {
          return Fail("shardproxy: option --upgrade-socket requires a path");
        }
        if (opt == kClientOutputLimitOption) {
          return Fail("shardproxy: option --client-output-limit requires a number");
        }
        if (opt == kMaxRequestBytesOption) {
          return Fail("shardproxy: option --max-request-bytes requires a number");
        }
        return Fail(absl::StrFormat("shardproxy: option -%c requires %s", opt, what));
      }
      default:
        if (optopt != 0 && optopt < 256) {
          return Fail(absl::StrFormat("shardproxy: invalid option -- '%c'", optopt));
        }
        return Fail(absl::StrCat("shardproxy: invalid option '", argv[optind - 1], "'"));
    }
  }
  if (optind < argc) {
    return Fail(absl::StrCat("shardproxy: unexpected argument '", argv[optind], "'"));
  }
  return parsed;
}

}  // namespace proxy

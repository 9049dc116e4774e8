// The command line: defaults, the generated usage text and twemproxy's error messages, all of
// which come from the one flag table in core/server/options.cc.
#include "core/server/options.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace proxy {
namespace {

using ::testing::HasSubstr;

ParsedOptions Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "shardproxy");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  return ParseOptions(static_cast<int>(args.size()), argv.data());
}

// Every field, one "name=value" per line, so that a whole Options compares in one expectation.
std::string Describe(const Options& o) {
  return absl::StrCat("help=", o.show_help, " version=", o.show_version, " test=", o.test_conf,
                      " daemonize=", o.daemonize, " describe=", o.describe_stats, "\n",
                      "log_level=", o.log_level, "\nlog_file=", o.log_file,
                      "\nconf_file=", o.conf_file, "\nstats=", o.stats_addr, ":", o.stats_port,
                      "\nstats_interval_ms=", o.stats_interval_ms, "\npid_file=", o.pid_file,
                      "\nmbuf_size=", o.mbuf_size, "\nworkers=", o.workers,
                      "\nmax_request_bytes=", o.max_request_bytes,
                      "\nclient_output_limit=", o.client_output_limit,
                      "\nadmin=", o.admin_addr, ":", o.admin_port, "\nslowlog_us=", o.slowlog_us,
                      "\ndrain_timeout_ms=", o.drain_timeout_ms,
                      "\nupgrade_socket=", o.upgrade_socket, "\n");
}

TEST(OptionsTest, DefaultsAreTwemproxysPlusOurs) {
  const ParsedOptions parsed = Parse({});
  ASSERT_FALSE(parsed.exit_now) << parsed.message;
  EXPECT_EQ(Describe(parsed.options),
            "help=0 version=0 test=0 daemonize=0 describe=0\n"
            "log_level=5\nlog_file=\nconf_file=conf/nutcracker.yml\nstats=0.0.0.0:22222\n"
            "stats_interval_ms=30000\npid_file=\nmbuf_size=16384\nworkers=1\n"
            "max_request_bytes=536870912\nclient_output_limit=1073741824\n"
            "admin=127.0.0.1:0\nslowlog_us=0\ndrain_timeout_ms=3000\nupgrade_socket=\n");
}

TEST(OptionsTest, ShortAndLongFormsSetTheSameFields) {
  const ParsedOptions a = Parse({"-t", "-d", "-v", "7", "-o", "log", "-c", "x.yml", "-s", "1",
                                 "-a", "::1", "-i", "10", "-p", "pid", "-m", "512"});
  const ParsedOptions b =
      Parse({"--test-conf", "--daemonize", "--verbose=7", "--output=log", "--conf-file=x.yml",
             "--stats-port=1", "--stats-addr=::1", "--stats-interval=10", "--pid-file=pid",
             "--mbuf-size=512"});
  ASSERT_FALSE(a.exit_now) << a.message;
  ASSERT_FALSE(b.exit_now) << b.message;
  EXPECT_EQ(Describe(a.options), Describe(b.options));
  EXPECT_EQ(Describe(a.options),
            "help=0 version=0 test=1 daemonize=1 describe=0\n"
            "log_level=7\nlog_file=log\nconf_file=x.yml\nstats=::1:1\n"
            "stats_interval_ms=10\npid_file=pid\nmbuf_size=512\nworkers=1\n"
            "max_request_bytes=536870912\nclient_output_limit=1073741824\n"
            "admin=127.0.0.1:0\nslowlog_us=0\ndrain_timeout_ms=3000\nupgrade_socket=\n");
}

TEST(OptionsTest, OurFlags) {
  const ParsedOptions parsed =
      Parse({"--workers", "auto", "--max-request-bytes=1024", "--client-output-limit=1048576",
             "--admin-port=9", "--admin-addr=0.0.0.0", "--slowlog-us=50", "--drain-timeout=0.25",
             "--upgrade-socket=/tmp/u", "-v", "99"});
  ASSERT_FALSE(parsed.exit_now) << parsed.message;
  const Options& o = parsed.options;
  EXPECT_EQ(o.workers, 0u);
  EXPECT_EQ(o.max_request_bytes, 1024u);
  EXPECT_EQ(o.client_output_limit, 1048576u);
  EXPECT_EQ(o.admin_port, 9);
  EXPECT_EQ(o.admin_addr, "0.0.0.0");
  EXPECT_EQ(o.slowlog_us, 50u);
  EXPECT_EQ(o.drain_timeout_ms, 250u);
  EXPECT_EQ(o.upgrade_socket, "/tmp/u");
  EXPECT_EQ(o.log_level, 11);  // clamped like twemproxy
}

TEST(OptionsTest, ErrorsAreTwemproxysMessagesFollowedByTheUsage) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"-x"}, "shardproxy: invalid option -- 'x'"},
      {{"-?"}, "shardproxy: invalid option -- '?'"},
      {{"--bogus"}, "shardproxy: invalid option '--bogus'"},
      {{"extra"}, "shardproxy: unexpected argument 'extra'"},
      {{"-c"}, "shardproxy: option -c requires a file name"},
      {{"--conf-file"}, "shardproxy: option -c requires a file name"},
      {{"-a"}, "shardproxy: option -a requires a string"},
      {{"-m"}, "shardproxy: option -m requires a number"},
      {{"--workers"}, "shardproxy: option --workers requires a number"},
      {{"--drain-timeout"}, "shardproxy: option --drain-timeout requires a number of seconds"},
      {{"--upgrade-socket"}, "shardproxy: option --upgrade-socket requires a path"},
      {{"--admin-addr"}, "shardproxy: option --admin-addr requires a string"},
      {{"-s", "0"}, "shardproxy: option -s value 0 is not a valid port"},
      {{"-m", "0"}, "shardproxy: option -m requires a non-zero number"},
      {{"-m", "100"}, "shardproxy: mbuf chunk size must be between 512 and 16777216 bytes"},
      {{"--workers", "1025"},
       "shardproxy: option --workers requires a number from 1 to 1024 or auto"},
      {{"--max-request-bytes", "1023"},
       "shardproxy: option --max-request-bytes requires a number from 1024 to 4294967295"},
      {{"--client-output-limit", "1"},
       "shardproxy: option --client-output-limit requires a number of at least 1048576"},
      {{"--admin-port", "x"}, "shardproxy: option --admin-port value x is not a valid port"},
      {{"--slowlog-us", "x"}, "shardproxy: option --slowlog-us requires a number of microseconds"},
      {{"--drain-timeout", "3601"},
       "shardproxy: option --drain-timeout requires a number of seconds from 0 to 3600"},
      {{"--upgrade-socket="}, "shardproxy: option --upgrade-socket requires a path"},
  };
  for (const auto& [args, message] : cases) {
    const ParsedOptions parsed = Parse(args);
    EXPECT_TRUE(parsed.exit_now) << args[0];
    EXPECT_EQ(parsed.exit_code, 1) << args[0];
    EXPECT_TRUE(parsed.usage_after) << args[0];
    EXPECT_EQ(parsed.message, message) << args[0];
  }
}

TEST(OptionsTest, UsageListsEveryFlagWithItsDefault) {
  const std::string usage = UsageText();
  EXPECT_EQ(usage.rfind("Usage: shardproxy [-?hVdDt] [-v verbosity level]", 0), 0u);
  for (const char* line : {
           "  -h, --help             : this help\n",
           "  -v, --verbose=N        : set logging level (default: 5, min: 0, max: 11)\n",
           "  -o, --output=S         : set logging file (default: stderr)\n",
           "  -c, --conf-file=S      : set configuration file (default: conf/nutcracker.yml)\n",
           "  -i, --stats-interval=N : set stats aggregation interval in msec (default: 30000 "
           "msec)\n",
           "  -m, --mbuf-size=N      : set size of mbuf chunk in bytes (default: 16384 bytes)\n",
           "      --workers=N|auto   : event-loop threads (default: 1; auto = one per core)\n",
           "      --max-request-bytes=N : largest request or reply accepted (default: 536870912)\n",
           "      --drain-timeout=S  : on SIGTERM/SIGINT, seconds to answer requests already\n"
           "                           received before exiting (default: 3; 0 = exit at once)\n",
           "      --upgrade-socket=S : unix socket for zero-downtime binary upgrades (default: "
           "off)\n",
       }) {
    EXPECT_THAT(usage, HasSubstr(line));
  }
}

}  // namespace
}  // namespace proxy

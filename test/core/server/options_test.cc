// The command line: defaults, the generated usage text and twemproxy's error messages, all of
// which come from the one flag table in core/server/options.cc.
#include "core/server/options.h"

#include <string>
#include <vector>

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

TEST(OptionsTest, DefaultsAreTwemproxysPlusOurs) {
  const ParsedOptions parsed = Parse({});
  ASSERT_FALSE(parsed.exit_now) << parsed.message;
  const Options& o = parsed.options;
  EXPECT_FALSE(o.show_help || o.show_version || o.test_conf || o.daemonize || o.describe_stats);
  EXPECT_EQ(o.log_level, 5);
  EXPECT_EQ(o.log_file, "");
  EXPECT_EQ(o.conf_file, "conf/nutcracker.yml");
  EXPECT_EQ(o.stats_port, 22222);
  EXPECT_EQ(o.stats_addr, "0.0.0.0");
  EXPECT_EQ(o.stats_interval_ms, 30000u);
  EXPECT_EQ(o.pid_file, "");
  EXPECT_EQ(o.mbuf_size, 16384u);
  EXPECT_EQ(o.workers, 1u);
  EXPECT_EQ(o.max_request_bytes, 512ull << 20);
  EXPECT_EQ(o.client_output_limit, 1ull << 30);
  EXPECT_EQ(o.admin_port, 0);
  EXPECT_EQ(o.admin_addr, "127.0.0.1");
  EXPECT_EQ(o.slowlog_us, 0u);
  EXPECT_EQ(o.drain_timeout_ms, 3000u);
  EXPECT_EQ(o.upgrade_socket, "");
}

TEST(OptionsTest, ShortAndLongFormsSetTheSameFields) {
  const ParsedOptions a = Parse({"-t", "-d", "-v", "7", "-o", "log", "-c", "x.yml", "-s", "1",
                                 "-a", "::1", "-i", "10", "-p", "pid", "-m", "512"});
  const ParsedOptions b =
      Parse({"--test-conf", "--daemonize", "--verbose=7", "--output=log", "--conf-file=x.yml",
             "--stats-port=1", "--stats-addr=::1", "--stats-interval=10", "--pid-file=pid",
             "--mbuf-size=512"});
  for (const ParsedOptions* parsed : {&a, &b}) {
    ASSERT_FALSE(parsed->exit_now) << parsed->message;
    const Options& o = parsed->options;
    EXPECT_TRUE(o.test_conf);
    EXPECT_TRUE(o.daemonize);
    EXPECT_EQ(o.log_level, 7);
    EXPECT_EQ(o.log_file, "log");
    EXPECT_EQ(o.conf_file, "x.yml");
    EXPECT_EQ(o.stats_port, 1);
    EXPECT_EQ(o.stats_addr, "::1");
    EXPECT_EQ(o.stats_interval_ms, 10u);
    EXPECT_EQ(o.pid_file, "pid");
    EXPECT_EQ(o.mbuf_size, 512u);
  }
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

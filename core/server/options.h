// twemproxy's command line plus shardproxy's own flags.
#pragma once

#include <cstdint>
#include <string>

namespace proxy {

// The defaults are not written here: ParseOptions applies each flag's default from its row in
// kFlags (options.cc), the same row that shows it in the usage text.
struct Options {
  bool show_help = false;
  bool show_version = false;
  bool test_conf = false;
  bool daemonize = false;
  bool describe_stats = false;
  int log_level = 0;  // 0..11, twemproxy's levels
  std::string log_file;  // empty = stderr
  std::string conf_file;
  uint16_t stats_port = 0;
  std::string stats_addr;
  uint32_t stats_interval_ms = 0;
  std::string pid_file;  // empty = none
  uint32_t mbuf_size = 0;
  // shardproxy extensions.
  uint32_t workers = 0;  // 0 = one per core ("auto")
  uint64_t max_request_bytes = 0;  // larger requests/replies are refused
  // A client with more reply bytes waiting than this (it is not reading) is disconnected.
  uint64_t client_output_limit = 0;
  uint16_t admin_port = 0;  // 0 = no admin endpoint
  std::string admin_addr;
  uint64_t slowlog_us = 0;  // 0 = no slow log
  // Graceful shutdown (SIGTERM/SIGINT, or after handing over to a successor): at most this
  // long to answer the requests already received; 0 = exit at once, like twemproxy.
  uint32_t drain_timeout_ms = 0;
  // Binary upgrade (docs/upgrade.md): the unix socket where this process hands its listening
  // sockets to a successor, and where a new process looks for a predecessor. Empty = off.
  std::string upgrade_socket;
};

// Parse result: either options to run with, or a message and exit code to stop with.
struct ParsedOptions {
  Options options;
  bool exit_now = false;
  int exit_code = 0;
  std::string message;  // printed to stderr (followed by the usage text when usage_after)
  bool usage_after = false;
};

ParsedOptions ParseOptions(int argc, char** argv);

// The usage text (twemproxy's, plus our extensions), ending in a newline.
std::string UsageText();
// "This is shardproxy-X (nutcracker-0.5.0 compatible)\nasync event backend: epoll\n\n".
std::string VersionBanner();
// The `-D` stats description, twemproxy's exact layout.
std::string StatsDescription();

}  // namespace proxy

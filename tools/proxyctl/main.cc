// proxyctl: tools for operators — validate a config, show where keys go, list plugins (all
// offline: they share the proxy's config path and open no socket), and read a running proxy's
// latency percentiles from its admin endpoint.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <netdb.h>
#include <sys/socket.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "api/codec.h"
#include "api/distribution.h"
#include "api/filter.h"
#include "api/hash.h"
#include "api/placement.h"
#include "api/registry.h"
#include "core/config/config.h"
#include "tools/proxyctl/metrics_text.h"

namespace proxy {
namespace {

constexpr char kUsage[] =
    "Usage: proxyctl <command> [options]\n"
    "\n"
    "Commands:\n"
    "  check --conf-file FILE               validate a nutcracker.yml; prints every error with\n"
    "                                       file:line:col and exits 1 if there is any\n"
    "  route --conf-file FILE --pool POOL [KEY...]\n"
    "                                       print where each key goes (keys from stdin, one per\n"
    "                                       line, when none are given):\n"
    "                                       key <TAB> host:port <TAB> name <TAB> hash\n"
    "  plugins                              list every linked protocol, hash, distribution and\n"
    "                                       filter\n"
    "  stats --admin HOST:PORT              latency percentiles and counters of a running proxy\n"
    "                                       (started with --admin-port), as tables\n"
    "  help                                 this text\n";

struct Args {
  std::string conf_file;
  std::string pool;
  std::string admin;
  std::vector<std::string> rest;
  std::string error;
};

// Accepts --conf-file F, --conf-file=F, -c F, --pool P, --pool=P; everything else is positional.
Args ParseArgs(int argc, char** argv, int first) {
  Args args;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    auto value_of = [&](const std::string& name, std::string* out) -> bool {
      if (arg == name) {
        if (i + 1 >= argc) {
          args.error = absl::StrCat("option ", name, " requires a value");
          return true;
        }
        *out = argv[++i];
        return true;
      }
      if (arg.rfind(name + "=", 0) == 0) {
        *out = arg.substr(name.size() + 1);
        return true;
      }
      return false;
    };
    if (value_of("--conf-file", &args.conf_file) || value_of("-c", &args.conf_file) ||
        value_of("--pool", &args.pool) || value_of("--admin", &args.admin)) {
      if (!args.error.empty()) return args;
      continue;
    }
    if (arg == "--") {
      for (++i; i < argc; ++i) args.rest.push_back(argv[i]);
      break;
    }
    if (arg.size() > 1 && arg[0] == '-' && args.rest.empty()) {
      args.error = absl::StrCat("unknown option '", arg, "'");
      return args;
    }
    args.rest.push_back(arg);
  }
  return args;
}

void PrintWarnings(const config::LoadResult& result) {
  for (const config::Diagnostic& warning : result.warnings) {
    std::fprintf(stderr, "warning: %s\n", warning.ToString().c_str());
  }
}

int Check(const Args& args) {
  if (args.conf_file.empty()) {
    std::fprintf(stderr, "proxyctl check: --conf-file is required\n");
    return 2;
  }
  config::LoadResult result = config::LoadConfigFile(args.conf_file);
  if (!result.ok()) {
    std::fputs(config::FormatDiagnostics(result.errors).c_str(), stderr);
    std::fprintf(stderr, "%s: invalid: %zu error%s\n", args.conf_file.c_str(),
                 result.errors.size(), result.errors.size() == 1 ? "" : "s");
    return 1;
  }
  PrintWarnings(result);
  int servers = 0;
  std::vector<std::string> pools;
  for (const config::v1::Pool& pool : result.bootstrap.pools()) {
    servers += pool.servers_size();
    pools.push_back(absl::StrCat(pool.name(), " (", pool.protocol(), ", ", pool.servers_size(),
                                 " server", pool.servers_size() == 1 ? "" : "s", ")"));
  }
  std::printf("%s: ok: %d pool%s, %d server%s: %s\n", args.conf_file.c_str(),
              result.bootstrap.pools_size(), result.bootstrap.pools_size() == 1 ? "" : "s",
              servers, servers == 1 ? "" : "s", absl::StrJoin(pools, ", ").c_str());
  return 0;
}

std::string Address(const config::v1::Server& server) {
  if (server.has_tcp()) return absl::StrCat(server.tcp().host(), ":", server.tcp().port());
  return server.unix_path();
}

int Route(const Args& args) {
  if (args.conf_file.empty() || args.pool.empty()) {
    std::fprintf(stderr, "proxyctl route: --conf-file and --pool are required\n");
    return 2;
  }
  config::LoadResult result = config::LoadConfigFile(args.conf_file);
  if (!result.ok()) {
    std::fputs(config::FormatDiagnostics(result.errors).c_str(), stderr);
    return 1;
  }
  const config::v1::Pool* pool = nullptr;
  std::vector<std::string> names;
  for (const config::v1::Pool& p : result.bootstrap.pools()) {
    names.push_back(p.name());
    if (p.name() == args.pool) pool = &p;
  }
  if (pool == nullptr) {
    std::fprintf(stderr, "proxyctl route: no pool '%s' in %s (pools: %s)\n", args.pool.c_str(),
                 args.conf_file.c_str(), absl::StrJoin(names, ", ").c_str());
    return 1;
  }
  absl::StatusOr<KeyPlacementPtr> placement = KeyPlacement::Create(*pool);
  if (!placement.ok()) {
    std::fprintf(stderr, "proxyctl route: %s\n", std::string(placement.status().message()).c_str());
    return 1;
  }
  auto print = [&](const std::string& key) {
    const uint32_t hash = (*placement)->HashOf(key);
    const config::v1::Server& server = pool->servers((*placement)->ServerFor(key));
    std::printf("%s\t%s\t%s\t%u\n", key.c_str(), Address(server).c_str(), server.name().c_str(),
                hash);
  };
  if (args.rest.empty()) {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      print(line);
    }
  } else {
    for (const std::string& key : args.rest) print(key);
  }
  return 0;
}

// GET http://host:port/path over a plain socket (loopback admin endpoints); "" on failure.
std::string HttpGet(const std::string& host_port, const std::string& path, std::string* error) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) {
    *error = "expected HOST:PORT";
    return "";
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (getaddrinfo(host_port.substr(0, colon).c_str(), host_port.substr(colon + 1).c_str(), &hints,
                  &result) != 0 || result == nullptr) {
    *error = "cannot resolve " + host_port;
    return "";
  }
  const int fd = socket(result->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const bool connected = fd >= 0 && connect(fd, result->ai_addr, result->ai_addrlen) == 0;
  freeaddrinfo(result);
  if (!connected) {
    *error = absl::StrCat("cannot connect to ", host_port, ": ", std::strerror(errno));
    if (fd >= 0) close(fd);
    return "";
  }
  const std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: ", host_port,
                                           "\r\nConnection: close\r\n\r\n");
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    *error = "write failed";
    close(fd);
    return "";
  }
  std::string response;
  char chunk[65536];
  ssize_t n;
  while ((n = read(fd, chunk, sizeof(chunk))) > 0) response.append(chunk, static_cast<size_t>(n));
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  const std::string status = response.substr(0, response.find("\r\n"));
  if (body == std::string::npos || status.find(" 200 ") == std::string::npos) {
    *error = "unexpected reply: " + response.substr(0, response.find("\r\n"));
    return "";
  }
  return response.substr(body + 4);
}

std::string Millis(double seconds) {
  if (std::isnan(seconds)) return "-";
  return absl::StrFormat("%.3f", seconds * 1000.0);
}

int Stats(const Args& args) {
  if (args.admin.empty()) {
    std::fprintf(stderr, "proxyctl stats: --admin HOST:PORT is required\n");
    return 2;
  }
  std::string error;
  const std::string text = HttpGet(args.admin, "/metrics", &error);
  if (text.empty()) {
    std::fprintf(stderr, "proxyctl stats: %s\n", error.c_str());
    return 1;
  }
  const ctl::Metrics metrics = ctl::ParseMetrics(text);
  std::printf("%-16s %-12s %10s %8s %10s %10s %10s %10s\n", "POOL", "COMMAND", "REQUESTS",
              "ERRORS", "P50_MS", "P90_MS", "P99_MS", "P99.9_MS");
  for (const auto& [series, histogram] : metrics.histograms) {
    if (series.rfind("shardproxy_request_duration_seconds{", 0) != 0) continue;
    const std::string pool = ctl::LabelValue(series, "pool");
    const std::string command = ctl::LabelValue(series, "command");
    const std::string labels = series.substr(series.find('{'));
    auto value = [&](const std::string& name) {
      auto it = metrics.values.find(name + labels);
      return it == metrics.values.end() ? 0.0 : it->second;
    };
    std::printf("%-16s %-12s %10.0f %8.0f %10s %10s %10s %10s\n", pool.c_str(), command.c_str(),
                histogram.count, value("shardproxy_request_errors_total"),
                Millis(ctl::Quantile(histogram, 0.5)).c_str(),
                Millis(ctl::Quantile(histogram, 0.9)).c_str(),
                Millis(ctl::Quantile(histogram, 0.99)).c_str(),
                Millis(ctl::Quantile(histogram, 0.999)).c_str());
  }
  std::printf("\n%-16s %-24s %6s %10s %10s %10s %10s %10s\n", "POOL", "SERVER", "UP", "REQUESTS",
              "P50_MS", "P90_MS", "P99_MS", "P99.9_MS");
  for (const auto& [series, histogram] : metrics.histograms) {
    if (series.rfind("shardproxy_server_duration_seconds{", 0) != 0) continue;
    const std::string labels = series.substr(series.find('{'));
    auto up = metrics.values.find("shardproxy_server_up" + labels);
    std::printf("%-16s %-24s %6s %10.0f %10s %10s %10s %10s\n",
                ctl::LabelValue(series, "pool").c_str(), ctl::LabelValue(series, "server").c_str(),
                up == metrics.values.end() ? "?" : (up->second > 0 ? "yes" : "no"),
                histogram.count, Millis(ctl::Quantile(histogram, 0.5)).c_str(),
                Millis(ctl::Quantile(histogram, 0.9)).c_str(),
                Millis(ctl::Quantile(histogram, 0.99)).c_str(),
                Millis(ctl::Quantile(histogram, 0.999)).c_str());
  }
  return 0;
}

template <class Factory>
void ListPlugins() {
  for (const std::string& name : Registry<Factory>::Names()) {
    std::printf("%s\t%s\t%s\n", std::string(Factory::kCategory).c_str(), name.c_str(),
                std::string(Registry<Factory>::Find(name)->Description()).c_str());
  }
}

int Main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string command = argv[1];
  if (command == "help" || command == "--help" || command == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  Args args = ParseArgs(argc, argv, 2);
  if (!args.error.empty()) {
    std::fprintf(stderr, "proxyctl %s: %s\n%s", command.c_str(), args.error.c_str(), kUsage);
    return 2;
  }
  if (command == "check") {
    if (!args.rest.empty()) {
      std::fprintf(stderr, "proxyctl check: unexpected argument '%s'\n", args.rest[0].c_str());
      return 2;
    }
    return Check(args);
  }
  if (command == "route") return Route(args);
  if (command == "stats") return Stats(args);
  if (command == "plugins") {
    ListPlugins<CodecFactory>();
    ListPlugins<HashFunctionFactory>();
    ListPlugins<DistributionFactory>();
    ListPlugins<FilterFactory>();
    return 0;
  }
  std::fprintf(stderr, "proxyctl: unknown command '%s'\n%s", command.c_str(), kUsage);
  return 2;
}

}  // namespace
}  // namespace proxy

int main(int argc, char** argv) {
  // `bazel run` starts us inside the runfiles tree; resolve relative paths (--conf-file) against
  // the directory the user ran bazel from.
  if (const char* dir = std::getenv("BUILD_WORKING_DIRECTORY"); dir != nullptr && *dir != '\0') {
    if (chdir(dir) != 0) std::perror("chdir to BUILD_WORKING_DIRECTORY");
  }
  return proxy::Main(argc, argv);
}

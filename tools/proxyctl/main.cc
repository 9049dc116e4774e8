// proxyctl: tools for operators — validate a config, show where keys go, compare two configs,
// list plugins (all offline: they share the proxy's config path and open no socket), and talk to
// a running proxy's admin endpoint (latency percentiles, config reload).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <netdb.h>
#include <sys/socket.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "api/codec.h"
#include "api/discovery.h"
#include "api/distribution.h"
#include "api/filter.h"
#include "api/hash.h"
#include "api/placement.h"
#include "api/registry.h"
#include "core/config/config.h"
#include "core/config/diff.h"
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
    "                                       and, when the pool lists replicas: for that server,\n"
    "                                       a 5th field replicas=host:port,host:port (file\n"
    "                                       order); with sentinels: host:port is the configured\n"
    "                                       starting address of the Sentinel master name\n"
    "  plugins                              list every linked protocol, hash, distribution,\n"
    "                                       filter, discovery and topology plugin\n"
    "  diff OLD NEW [--keys [FILE]] [--format=text|tsv]\n"
    "                                       what a config change does, per pool (matched by\n"
    "                                       name): changed keys, servers added/removed/changed and\n"
    "                                       the exact share of the 32-bit hash space that moves,\n"
    "                                       per (from server -> to server), servers named by node\n"
    "                                       name (explicit name, else host:port); with --keys, how\n"
    "                                       many of those keys (one per line; FILE '-' or none =\n"
    "                                       stdin) move, counted as `route` places them.\n"
    "                                       --format=tsv prints only tab-separated records:\n"
    "                                         pool <pool> unchanged|changed|added|removed <keys,|->\n"
    "                                         server <pool> added|removed|changed <node> <old> <new>\n"
    "                                         space <pool> same|exact|all|key-dependent|not-compared\n"
    "                                               <moved|-> 4294967296 <percent|->\n"
    "                                         space-move <pool> <from> <to> <count> <percent>\n"
    "                                         keys <pool> same|exact|all <moved|-> <keys>\n"
    "                                         key-move <pool> <from> <to> <count>\n"
    "                                       exit 0: no key moves; 1: keys move (or may: random,\n"
    "                                       a hash change without --keys) or a pool is added or\n"
    "                                       removed; 2: a file is invalid (its errors with\n"
    "                                       file:line:col) or bad usage. See docs/proxyctl-diff.md\n"
    "  reload --admin HOST:PORT             ask a running proxy (--admin-port) to reload its\n"
    "                                       config (POST /reload) and print its answer; exit 0 on\n"
    "                                       success, 1 when the proxy refused (the errors are\n"
    "                                       printed), 2 when it cannot be reached\n"
    "  stats --admin HOST:PORT              latency percentiles and counters of a running proxy\n"
    "                                       (started with --admin-port), as tables\n"
    "  help                                 this text\n";

struct Args {
  std::string conf_file;
  std::string pool;
  std::string admin;
  std::string format;
  bool keys = false;      // --keys given
  std::string keys_file;  // its file; "" or "-" = stdin
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
    // --keys takes an optional file: alone (or before another option) it means stdin.
    if (arg == "--keys") {
      args.keys = true;
      if (i + 1 < argc && (argv[i + 1][0] != '-' || std::string(argv[i + 1]) == "-")) {
        args.keys_file = argv[++i];
      }
      continue;
    }
    if (arg.rfind("--keys=", 0) == 0) {
      args.keys = true;
      args.keys_file = arg.substr(7);
      continue;
    }
    if (value_of("--conf-file", &args.conf_file) || value_of("-c", &args.conf_file) ||
        value_of("--pool", &args.pool) || value_of("--admin", &args.admin) ||
        value_of("--format", &args.format)) {
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
  // The 5th field per server (node name) that has replicas; the first 4 fields stay exactly
  // as they were for scripts that cut them.
  absl::flat_hash_map<std::string, std::string> replicas;
  for (const config::v1::ReplicaSet& set : pool->replicas()) {
    std::vector<std::string> addresses;
    for (const config::v1::Server& replica : set.replicas()) addresses.push_back(Address(replica));
    if (!addresses.empty()) {
      replicas[set.server()] = absl::StrCat("\treplicas=", absl::StrJoin(addresses, ","));
    }
  }
  auto print = [&](const std::string& key) {
    const uint32_t hash = (*placement)->HashOf(key);
    const config::v1::Server& server = pool->servers((*placement)->ServerFor(key));
    auto extra = replicas.find(server.node_name());
    std::printf("%s\t%s\t%s\t%u%s\n", key.c_str(), Address(server).c_str(), server.name().c_str(),
                hash, extra == replicas.end() ? "" : extra->second.c_str());
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

struct HttpResponse {
  bool connected = false;  // false: the request never got an answer (error says why)
  int code = 0;            // the status code, 0 when the status line is malformed
  std::string status;      // the status line
  std::string body;
};

// METHOD http://host:port/path over a plain socket (loopback admin endpoints), HTTP/1.0 with
// Connection: close, so the body is everything after the header.
HttpResponse HttpRequest(const std::string& method, const std::string& host_port,
                         const std::string& path, std::string* error) {
  HttpResponse response;
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) {
    *error = "expected HOST:PORT";
    return response;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (getaddrinfo(host_port.substr(0, colon).c_str(), host_port.substr(colon + 1).c_str(), &hints,
                  &result) != 0 || result == nullptr) {
    *error = "cannot resolve " + host_port;
    return response;
  }
  const int fd = socket(result->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const bool connected = fd >= 0 && connect(fd, result->ai_addr, result->ai_addrlen) == 0;
  freeaddrinfo(result);
  if (!connected) {
    *error = absl::StrCat("cannot connect to ", host_port, ": ", std::strerror(errno));
    if (fd >= 0) close(fd);
    return response;
  }
  const std::string request =
      absl::StrCat(method, " ", path, " HTTP/1.0\r\nHost: ", host_port,
                   method == "GET" ? "" : "\r\nContent-Length: 0", "\r\nConnection: close\r\n\r\n");
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    *error = absl::StrCat("cannot send the request to ", host_port, ": ", std::strerror(errno));
    close(fd);
    return response;
  }
  std::string raw;
  char chunk[65536];
  ssize_t n;
  while ((n = read(fd, chunk, sizeof(chunk))) > 0) raw.append(chunk, static_cast<size_t>(n));
  close(fd);
  const size_t body = raw.find("\r\n\r\n");
  if (body == std::string::npos) {
    *error = raw.empty() ? absl::StrCat(host_port, " closed the connection without an answer")
                         : "unexpected reply: " + raw.substr(0, raw.find("\r\n"));
    return response;
  }
  response.connected = true;
  response.status = raw.substr(0, raw.find("\r\n"));
  // "HTTP/1.x CODE reason"
  const size_t space = response.status.find(' ');
  if (response.status.rfind("HTTP/", 0) == 0 && space != std::string::npos) {
    response.code = std::atoi(response.status.c_str() + space + 1);
  }
  response.body = raw.substr(body + 4);
  return response;
}

// GET http://host:port/path; "" on failure or a non-200 answer.
std::string HttpGet(const std::string& host_port, const std::string& path, std::string* error) {
  HttpResponse response = HttpRequest("GET", host_port, path, error);
  if (!response.connected) return "";
  if (response.code != 200) {
    *error = "unexpected reply: " + response.status;
    return "";
  }
  return response.body;
}

int Reload(const Args& args) {
  if (args.admin.empty()) {
    std::fprintf(stderr, "proxyctl reload: --admin HOST:PORT is required\n");
    return 2;
  }
  if (!args.rest.empty()) {
    std::fprintf(stderr, "proxyctl reload: unexpected argument '%s'\n", args.rest[0].c_str());
    return 2;
  }
  std::string error;
  HttpResponse response = HttpRequest("POST", args.admin, "/reload", &error);
  if (!response.connected) {
    std::fprintf(stderr, "proxyctl reload: %s\n", error.c_str());
    return 2;
  }
  const bool ok = response.code >= 200 && response.code < 300;
  // The proxy's answer: what changed on success, the config errors otherwise.
  std::fputs(response.body.c_str(), stdout);
  if (!response.body.empty() && response.body.back() != '\n') std::fputc('\n', stdout);
  if (!ok) std::fprintf(stderr, "proxyctl reload: %s\n", response.status.c_str());
  return ok ? 0 : 1;
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

// ---------------------------------------------------------------------------------------------
// diff

const char* KindName(config::PoolChange kind) {
  switch (kind) {
    case config::PoolChange::kUnchanged: return "unchanged";
    case config::PoolChange::kChanged: return "changed";
    case config::PoolChange::kAdded: return "added";
    case config::PoolChange::kRemoved: return "removed";
  }
  return "?";
}

const char* PlacementName(config::Placement placement) {
  switch (placement) {
    case config::Placement::kSame: return "same";
    case config::Placement::kExact: return "exact";
    case config::Placement::kAll: return "all";
    case config::Placement::kKeyDependent: return "key-dependent";
    case config::Placement::kNotCompared: return "not-compared";
  }
  return "?";
}

// "12.5000" (the TSV form has no % sign).
std::string Number(uint64_t count, uint64_t total) {
  std::string percent = config::Percent(count, total);
  percent.pop_back();
  return percent;
}

const char* Dash(const std::string& s) { return s.empty() ? "-" : s.c_str(); }

bool ReadKeys(const Args& args, std::vector<std::string>* keys) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (!args.keys_file.empty() && args.keys_file != "-") {
    file.open(args.keys_file);
    if (!file) {
      std::fprintf(stderr, "proxyctl diff: cannot read %s: %s\n", args.keys_file.c_str(),
                   std::strerror(errno));
      return false;
    }
    in = &file;
  }
  std::string line;
  while (std::getline(*in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    keys->push_back(line);
  }
  return true;
}

const config::v1::Pool* FindPool(const config::v1::Bootstrap& bootstrap, const std::string& name) {
  for (const config::v1::Pool& pool : bootstrap.pools()) {
    if (pool.name() == name) return &pool;
  }
  return nullptr;
}

int Diff(const Args& args) {
  if (args.rest.size() != 2) {
    std::fprintf(stderr, "proxyctl diff: expected two files, OLD and NEW\n%s", kUsage);
    return 2;
  }
  const bool tsv = args.format == "tsv";
  if (!args.format.empty() && args.format != "tsv" && args.format != "text") {
    std::fprintf(stderr, "proxyctl diff: --format must be text or tsv, not '%s'\n",
                 args.format.c_str());
    return 2;
  }
  // Both files are checked, so that one run reports every error of both.
  config::LoadResult before = config::LoadConfigFile(args.rest[0]);
  config::LoadResult after = config::LoadConfigFile(args.rest[1]);
  bool invalid = false;
  for (const auto* result : {&before, &after}) {
    if (result->ok()) continue;
    const std::string& file = result == &before ? args.rest[0] : args.rest[1];
    std::fputs(config::FormatDiagnostics(result->errors).c_str(), stderr);
    std::fprintf(stderr, "%s: invalid: %zu error%s\n", file.c_str(), result->errors.size(),
                 result->errors.size() == 1 ? "" : "s");
    invalid = true;
  }
  if (invalid) return 2;
  std::vector<std::string> keys;
  if (args.keys && !ReadKeys(args, &keys)) return 2;

  bool moves = false;
  const std::vector<config::PoolDiff> diffs =
      config::DiffBootstraps(before.bootstrap, after.bootstrap);
  for (const config::PoolDiff& diff : diffs) {
    const bool compared =
        diff.kind == config::PoolChange::kChanged || diff.kind == config::PoolChange::kUnchanged;
    // Key counts: only for pools both files have; a key-dependent pool is judged by its keys.
    std::optional<config::KeyMoves> key_moves;
    if (args.keys && compared) {
      absl::StatusOr<config::KeyMoves> counted =
          config::CountKeyMoves(*FindPool(before.bootstrap, diff.name),
                                *FindPool(after.bootstrap, diff.name), keys);
      if (!counted.ok()) {
        std::fprintf(stderr, "proxyctl diff: pool '%s': %s\n", diff.name.c_str(),
                     std::string(counted.status().message()).c_str());
        return 2;
      }
      key_moves = *std::move(counted);
    }
    if (diff.kind == config::PoolChange::kAdded || diff.kind == config::PoolChange::kRemoved) {
      moves = true;
    } else if (diff.placement == config::Placement::kKeyDependent && key_moves.has_value() &&
               !diff.key_prefix_changed) {
      moves = moves || key_moves->moved > 0;
    } else {
      moves = moves || config::MovesKeys(diff);
    }

    if (tsv) {
      std::printf("pool\t%s\t%s\t%s\n", diff.name.c_str(), KindName(diff.kind),
                  diff.changed_keys.empty() ? "-" : absl::StrJoin(diff.changed_keys, ",").c_str());
      auto servers = [&](const std::vector<config::ServerChange>& list, const char* what) {
        for (const config::ServerChange& server : list) {
          std::printf("server\t%s\t%s\t%s\t%s\t%s\n", diff.name.c_str(), what,
                      server.node_name.c_str(), Dash(server.before), Dash(server.after));
        }
      };
      servers(diff.servers_added, "added");
      servers(diff.servers_removed, "removed");
      servers(diff.servers_changed, "changed");
      const bool exact = diff.placement == config::Placement::kExact ||
                         diff.placement == config::Placement::kSame;
      std::printf("space\t%s\t%s\t%s\t%llu\t%s\n", diff.name.c_str(),
                  PlacementName(diff.placement),
                  exact ? absl::StrCat(diff.moved).c_str() : "-",
                  static_cast<unsigned long long>(config::kHashSpace),
                  exact ? Number(diff.moved, config::kHashSpace).c_str() : "-");
      for (const config::ServerMove& move : diff.moves) {
        std::printf("space-move\t%s\t%s\t%s\t%llu\t%s\n", diff.name.c_str(), move.from.c_str(),
                    move.to.c_str(), static_cast<unsigned long long>(move.count),
                    Number(move.count, config::kHashSpace).c_str());
      }
      if (key_moves.has_value()) {
        const bool all = key_moves->placement == config::Placement::kAll;
        std::printf("keys\t%s\t%s\t%s\t%llu\n", diff.name.c_str(),
                    PlacementName(key_moves->placement),
                    all ? "-" : absl::StrCat(key_moves->moved).c_str(),
                    static_cast<unsigned long long>(key_moves->keys));
        for (const config::ServerMove& move : key_moves->moves) {
          std::printf("key-move\t%s\t%s\t%s\t%llu\n", diff.name.c_str(), move.from.c_str(),
                      move.to.c_str(), static_cast<unsigned long long>(move.count));
        }
      }
      continue;
    }

    // The human form: the summary line, then the details.
    std::printf("%s\n", config::SummaryLine(diff).c_str());
    for (const config::ServerChange& server : diff.servers_added) {
      std::printf("  + server %s (%s)\n", server.node_name.c_str(), server.after.c_str());
    }
    for (const config::ServerChange& server : diff.servers_removed) {
      std::printf("  - server %s (%s)\n", server.node_name.c_str(), server.before.c_str());
    }
    for (const config::ServerChange& server : diff.servers_changed) {
      std::printf("  ~ server %s (%s -> %s)\n", server.node_name.c_str(), server.before.c_str(),
                  server.after.c_str());
    }
    if (!diff.moves.empty()) {
      std::printf("  hash space moving, from -> to (hash values of 4294967296):\n");
      for (const config::ServerMove& move : diff.moves) {
        std::printf("    %s -> %s: %llu (%s)\n", move.from.c_str(), move.to.c_str(),
                    static_cast<unsigned long long>(move.count),
                    config::Percent(move.count, config::kHashSpace).c_str());
      }
    }
    if (key_moves.has_value() && diff.kind == config::PoolChange::kChanged) {
      if (key_moves->placement == config::Placement::kAll) {
        std::printf("  keys: all %llu may move (random distribution)\n",
                    static_cast<unsigned long long>(key_moves->keys));
      } else {
        std::printf("  keys: %llu of %llu move (%s)\n",
                    static_cast<unsigned long long>(key_moves->moved),
                    static_cast<unsigned long long>(key_moves->keys),
                    config::Percent(key_moves->moved, key_moves->keys).c_str());
        for (const config::ServerMove& move : key_moves->moves) {
          std::printf("    %s -> %s: %llu\n", move.from.c_str(), move.to.c_str(),
                      static_cast<unsigned long long>(move.count));
        }
      }
    }
  }
  return moves ? 1 : 0;
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
  if (command == "reload") return Reload(args);
  if (command == "diff") return Diff(args);
  if (command == "plugins") {
    ListPlugins<CodecFactory>();
    ListPlugins<HashFunctionFactory>();
    ListPlugins<DistributionFactory>();
    ListPlugins<FilterFactory>();
    ListPlugins<ServerDiscoveryFactory>();
    ListPlugins<TopologyDiscoveryFactory>();
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

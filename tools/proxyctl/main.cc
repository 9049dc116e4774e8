// proxyctl: offline tools for operators — validate a config, show where keys go, list plugins.
// Shares the proxy's config path (core/config) and opens no socket.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/codec.h"
#include "api/distribution.h"
#include "api/filter.h"
#include "api/hash.h"
#include "api/placement.h"
#include "api/registry.h"
#include "core/config/config.h"

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
    "  help                                 this text\n";

struct Args {
  std::string conf_file;
  std::string pool;
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
        value_of("--pool", &args.pool)) {
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

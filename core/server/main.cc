// main() of //:proxy: twemproxy's command line, config test mode, and (from the serving issue on)
// the event loops. Plugins are linked in by the root BUILD.bazel, never named here.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/config/config.h"
#include "core/server/options.h"

namespace proxy {
namespace {

void Print(const std::string& text) { std::fputs(text.c_str(), stderr); }

int TestConf(const Options& options) {
  config::LoadResult result = config::LoadConfigFile(options.conf_file);
  Print(config::FormatDiagnostics(result.errors));
  if (result.ok()) {
    for (const config::Diagnostic& warning : result.warnings) {
      Print("warning: " + warning.ToString() + "\n");
    }
  }
  // twemproxy's exact lines: scripts grep for them.
  std::fprintf(stderr, "nutcracker: configuration file '%s' syntax is %s\n",
               options.conf_file.c_str(), result.ok() ? "ok" : "invalid");
  return result.ok() ? 0 : 1;
}

int Main(int argc, char** argv) {
  ParsedOptions parsed = ParseOptions(argc, argv);
  if (parsed.exit_now) {
    Print(parsed.message + "\n");
    if (parsed.usage_after) Print(UsageText());
    return parsed.exit_code;
  }
  const Options& options = parsed.options;
  if (options.show_help || options.show_version || options.describe_stats) {
    Print(VersionBanner());
    if (options.show_help) Print(UsageText());
    if (options.describe_stats) {
      if (options.show_help) Print("\n");
      Print(StatsDescription());
    }
    return 0;
  }
  if (options.test_conf) return TestConf(options);

  config::LoadResult result = config::LoadConfigFile(options.conf_file);
  if (!result.ok()) {
    Print(config::FormatDiagnostics(result.errors));
    std::fprintf(stderr, "nutcracker: configuration file '%s' syntax is invalid\n",
                 options.conf_file.c_str());
    return 1;
  }
  for (const config::Diagnostic& warning : result.warnings) {
    Print("warning: " + warning.ToString() + "\n");
  }
  Print("shardproxy: the configuration is valid, but this build cannot serve traffic yet "
        "(the data path lands with the redis serving issue)\n");
  return 1;
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

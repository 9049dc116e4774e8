// main() of //:proxy: twemproxy's command line, config test mode, then the event loops
// (core/server/server.cc). Plugins are linked in by the root BUILD.bazel, never named here.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "core/common/log.h"
#include "core/common/version.h"
#include "core/config/config.h"
#include "core/server/options.h"
#include "core/server/process.h"
#include "core/server/server.h"

namespace proxy {
namespace {

// How long a new process waits for its predecessor to answer on the upgrade socket: the
// predecessor answers from its event loop, so anything longer than a few loop turns means it is
// stuck, and the new process gives up (exit 1) rather than half-upgrade.
constexpr absl::Duration kUpgradeConnectTimeout = absl::Seconds(10);

void Print(const std::string& text) { std::fputs(text.c_str(), stderr); }

// twemproxy's -d: double fork + setsid, stdio to /dev/null; the directory is kept.
bool Daemonize() {
  pid_t pid = fork();
  if (pid < 0) {
    std::fprintf(stderr, "fork() failed: %s\n", std::strerror(errno));
    return false;
  }
  if (pid > 0) _exit(0);
  if (setsid() < 0) return false;
  signal(SIGHUP, SIG_IGN);
  pid = fork();
  if (pid < 0) return false;
  if (pid > 0) _exit(0);
  umask(0);
  int fd = open("/dev/null", O_RDWR);
  if (fd >= 0) {
    dup2(fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO) close(fd);
  }
  signal(SIGHUP, SIG_DFL);
  return true;
}

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
  const char* argv0 = argc > 0 ? argv[0] : "proxy";
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

  if (!log::Init(options.log_level, options.log_file)) {
    std::fprintf(stderr, "opening log file '%s' failed: %s\n", options.log_file.c_str(),
                 std::strerror(errno));
    return 1;
  }
  if (options.daemonize && !Daemonize()) return 1;
  InstallCrashHandler(argv0);
  PidFile pid_file;
  // With --upgrade-socket a running predecessor may hold the pid file: it is created once that
  // one has handed over (RunServer), or below when there is none.
  const bool may_upgrade = !options.upgrade_socket.empty();
  if (!may_upgrade && !options.pid_file.empty() && !pid_file.Create(options.pid_file)) return 1;
  PROXY_LOG(log::kNotice, "shardproxy-%s (nutcracker-%s compatible) started on pid %d",
            kProxyVersion, kCompatVersion, static_cast<int>(getpid()));
  RaiseFileLimit();

  config::LoadResult result = config::LoadConfigFile(options.conf_file);
  if (!result.ok()) {
    pid_file.Remove();
    for (const config::Diagnostic& error : result.errors) {
      PROXY_LOG(log::kError, "%s", error.ToString());
    }
    std::fprintf(stderr, "nutcracker: configuration file '%s' syntax is invalid\n",
                 options.conf_file.c_str());
    return 1;
  }
  for (const config::Diagnostic& warning : result.warnings) {
    PROXY_LOG(log::kWarn, "%s", warning.ToString());
  }
  std::unique_ptr<UpgradeClient> predecessor;
  if (may_upgrade) {
    absl::StatusOr<std::unique_ptr<UpgradeClient>> connected =
        UpgradeClient::Connect(options.upgrade_socket, kUpgradeConnectTimeout);
    if (connected.ok()) {
      predecessor = *std::move(connected);
    } else if (!absl::IsNotFound(connected.status())) {
      // Never two half-upgraded processes: the running one keeps serving.
      PROXY_LOG(log::kError, "upgrade through '%s' failed: %s", options.upgrade_socket,
                connected.status().message());
      return 1;
    }
    if (predecessor == nullptr && !options.pid_file.empty() &&
        !pid_file.Create(options.pid_file)) {
      return 1;
    }
  }
  const int code = RunServer(options, result.bootstrap, pid_file, std::move(predecessor));
  pid_file.Remove();
  return code;
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

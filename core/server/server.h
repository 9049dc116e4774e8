// The serving process: builds the pools, starts the workers, handles signals until
// SIGINT/SIGTERM, then shuts down cleanly.
#pragma once

#include <memory>

#include "api/config/v1/bootstrap.pb.h"
#include "core/server/options.h"
#include "core/server/process.h"
#include "core/server/upgrade.h"

namespace proxy {

// Serves `bootstrap` until SIGINT/SIGTERM (drained), SIGQUIT, or a successor took over (binary
// upgrade, drained); returns the process exit code (0 after a signal or a handover, 1 when
// startup fails, with the reason logged). `predecessor`: the process this one upgrades (its
// sockets are used instead of binding; it is told to stop once this one serves, and then
// `pid_file` is created, when --pid-file is given). Without a predecessor `pid_file` is already
// created by the caller.
int RunServer(const Options& options, const config::v1::Bootstrap& bootstrap, PidFile& pid_file,
              std::unique_ptr<UpgradeClient> predecessor);

}  // namespace proxy

// The serving process: builds the pools, starts the workers, handles signals until
// SIGINT/SIGTERM, then shuts down cleanly.
#pragma once

#include "api/config/v1/bootstrap.pb.h"
#include "core/server/options.h"

namespace proxy {

// Serves `bootstrap` until SIGINT or SIGTERM; returns the process exit code (0 after a signal,
// 1 when startup fails, with the reason logged).
int RunServer(const Options& options, const config::v1::Bootstrap& bootstrap);

}  // namespace proxy

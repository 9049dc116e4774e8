// Post-parse validation of a loaded Bootstrap (twemproxy's checks, in its order, plus ours; README "Compatibility"): every problem is
// reported with its file:line:col; nothing here opens a socket.
#pragma once

#include "api/config/v1/bootstrap.pb.h"
#include "core/config/diagnostics.h"

namespace proxy::config {

// Cross-field and cross-pool checks. Each pool's protocol checks its own keys
// (CodecFactory::ValidatePool) and each filter its config (FilterFactory::Create with
// validate_only, through core/config/filter_chain.h); the issues they return are placed here at
// their file:line:col. `sources` must be parallel to `bootstrap.pools`.
void ValidateBootstrap(const config::v1::Bootstrap& bootstrap, const SourceMap& sources,
                       DiagnosticSink* sink);

}  // namespace proxy::config

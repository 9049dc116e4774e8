// Post-parse validation of a loaded Bootstrap (twemproxy's checks, in its order, plus ours; README "Compatibility"): every problem is
// reported with its file:line:col; nothing here opens a socket.
#pragma once

#include "api/config/v1/bootstrap.pb.h"
#include "core/config/diagnostics.h"

namespace proxy::config {

// Cross-field and cross-pool checks; filter configs are validated by their factories
// (FilterFactory::Create with validate_only). `sources` must be parallel to `bootstrap.pools`.
void ValidateBootstrap(const config::v1::Bootstrap& bootstrap, const SourceMap& sources,
                       DiagnosticSink* sink);

}  // namespace proxy::config

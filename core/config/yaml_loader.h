// YAML text → config::v1::Bootstrap, recording where every value was written and collecting
// every structural and value error (twemproxy's nutcracker.yml grammar).
#pragma once

#include <string>
#include <vector>

#include "api/config/v1/bootstrap.pb.h"
#include "core/config/diagnostics.h"

namespace proxy::config {

// Converts `text` (read from `file`) into `bootstrap`, filling `sources` in parallel. Defaults are
// applied for unset keys. Problems go to `sink`; a pool with errors is still added (as far as it
// could be read) so that later checks can report more.
void LoadYaml(const std::string& text, config::v1::Bootstrap* bootstrap, SourceMap* sources,
              DiagnosticSink* sink);

// The pool keys we accept: twemproxy's in the order it documents them, then ours. Derived
// from the key table in yaml_loader.cc (PoolLoader::Keys), which also dispatches and defaults.
const std::vector<std::string>& KnownPoolKeys();

}  // namespace proxy::config

// The one config entry point shared by `proxy` (serve and --test-conf) and `proxyctl check`:
// read → YAML → proto → validate, collecting every error.
#pragma once

#include <string>
#include <vector>

#include "api/config/v1/bootstrap.pb.h"
#include "core/config/diagnostics.h"

namespace proxy::config {

struct LoadResult {
  config::v1::Bootstrap bootstrap;
  SourceMap sources;
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;
  // True when the file could not be read at all (twemproxy prints its "invalid" line once then).
  bool unreadable = false;

  bool ok() const { return errors.empty(); }
};

// Loads and validates `text` as if read from `file` (the name used in messages).
LoadResult LoadConfigText(const std::string& text, const std::string& file);

// Reads `path` and loads it; an unreadable file is one error naming the OS reason.
LoadResult LoadConfigFile(const std::string& path);

}  // namespace proxy::config

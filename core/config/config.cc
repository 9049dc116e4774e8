// Read → parse → validate.
#include "core/config/config.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "core/config/validator.h"
#include "core/config/yaml_loader.h"

namespace proxy::config {
namespace {

// Relative paths in `tls:` and `server_tls:` are relative to the configuration file's directory
// (docs/tls.md), so that a config and its certificates can move together; they are made
// absolute here, before validation and before the proxy (whatever its working directory) loads
// them.
void ResolveTlsPaths(const std::string& file, config::v1::Bootstrap* bootstrap) {
  const size_t slash = file.rfind('/');
  if (slash == std::string::npos) return;  // the working directory is the file's
  const std::string dir = file.substr(0, slash + 1);
  auto resolve = [&dir](std::string* path) {
    if (!path->empty() && (*path)[0] != '/') *path = dir + *path;
  };
  for (config::v1::Pool& pool : *bootstrap->mutable_pools()) {
    for (config::v1::Tls* tls : {pool.has_tls() ? pool.mutable_tls() : nullptr,
                                 pool.has_server_tls() ? pool.mutable_server_tls() : nullptr}) {
      if (tls == nullptr) continue;
      resolve(tls->mutable_cert());
      resolve(tls->mutable_key());
      resolve(tls->mutable_ca());
    }
  }
}

}  // namespace

LoadResult LoadConfigText(const std::string& text, const std::string& file) {
  LoadResult result;
  DiagnosticSink sink(file);
  result.sources.file = file;
  result.bootstrap.set_source(file);
  LoadYaml(text, &result.bootstrap, &result.sources, &sink);
  ResolveTlsPaths(file, &result.bootstrap);
  if (result.bootstrap.pools_size() > 0) {
    ValidateBootstrap(result.bootstrap, result.sources, &sink);
  }
  result.errors = std::move(sink.errors());
  result.warnings = std::move(sink.warnings());
  return result;
}

LoadResult LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult result;
    result.unreadable = true;
    result.errors.push_back(
        {path, {}, "", "", absl::StrCat("cannot open configuration: ", std::strerror(errno))});
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    LoadResult result;
    result.unreadable = true;
    result.errors.push_back(
        {path, {}, "", "", absl::StrCat("cannot read configuration: ", std::strerror(errno))});
    return result;
  }
  return LoadConfigText(text.str(), path);
}

}  // namespace proxy::config

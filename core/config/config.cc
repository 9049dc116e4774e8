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

LoadResult LoadConfigText(const std::string& text, const std::string& file) {
  LoadResult result;
  DiagnosticSink sink(file);
  result.sources.file = file;
  result.bootstrap.set_source(file);
  LoadYaml(text, &result.bootstrap, &result.sources, &sink);
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

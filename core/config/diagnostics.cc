// Formatting of config diagnostics.
#include "core/config/diagnostics.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace proxy::config {

std::string Diagnostic::ToString() const {
  std::string out = file;
  if (pos.line > 0) absl::StrAppend(&out, ":", pos.line, ":", pos.column);
  absl::StrAppend(&out, ": ");
  if (!pool.empty()) absl::StrAppend(&out, "pool '", pool, "': ");
  if (!key.empty()) absl::StrAppend(&out, key, ": ");
  absl::StrAppend(&out, message);
  return out;
}

SourcePos PoolSource::KeyOrPool(const std::string& key) const {
  auto it = keys.find(key);
  return it == keys.end() ? name : it->second;
}

std::string FormatDiagnostics(const std::vector<Diagnostic>& diagnostics) {
  std::vector<const Diagnostic*> sorted;
  for (const Diagnostic& d : diagnostics) sorted.push_back(&d);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic* a, const Diagnostic* b) {
    if (a->pos.line != b->pos.line) return a->pos.line < b->pos.line;
    return a->pos.column < b->pos.column;
  });
  std::string out;
  for (const Diagnostic* d : sorted) absl::StrAppend(&out, d->ToString(), "\n");
  return out;
}

absl::Status DiagnosticsToStatus(const std::vector<Diagnostic>& errors) {
  if (errors.empty()) return absl::OkStatus();
  std::string text = FormatDiagnostics(errors);
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return absl::InvalidArgumentError(text);
}

}  // namespace proxy::config

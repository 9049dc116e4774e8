// A request's command name, and client-chosen text made safe to quote inside a one-line error
// reply: used by the filters that refuse commands by name.
#pragma once

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "api/codec.h"

namespace proxy::filters::common {

// The name a request is known by: Request::command (redis "GET", memcache "get"), else the
// decoder's name of an unknown command in args[0]; empty when there is neither.
absl::string_view CommandName(const Request& request);

// Longest name quoted; longer (client-chosen) names are cut and end in "...".
inline constexpr size_t kMaxQuotedName = 64;

// `name` with every byte outside printable ASCII replaced by '?', at most kMaxQuotedName bytes
// of it (then "..."), so that a reply stays one short line whatever the client sent.
std::string Quotable(absl::string_view name);

}  // namespace proxy::filters::common

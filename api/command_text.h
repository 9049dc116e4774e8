// A request's command name, client-chosen text made safe to quote inside a one-line error
// reply, and the text of an unsupported command's refusal: one wording for the filters that
// refuse commands by name and for the core (which refuses what a chain without
// reject_unsupported lets through).
#pragma once

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "api/codec.h"

namespace proxy {

// The name a request is known by: Request::command (redis "GET", memcache "get"), else the
// decoder's name of an unknown command in args[0]; empty when there is neither.
absl::string_view CommandName(const Request& request);

// Longest name quoted; longer (client-chosen) names are cut and end in "...".
inline constexpr size_t kMaxQuotedName = 64;

// `name` with every byte outside printable ASCII replaced by '?', at most kMaxQuotedName bytes
// of it (then "..."), so that a reply stays one short line whatever the client sent.
std::string Quotable(absl::string_view name);

// The refusal of a CommandKind::kUnsupported request, without the protocol's error prefix:
// "unsupported command 'NAME': REASON" with the codec's reason (Codec::UnsupportedReason), "...:
// it is not proxied" for a known command without one, "unknown or unsupported command 'NAME'"
// for a name the codec does not know.
std::string UnsupportedCommandText(const Request& request, const Codec& codec);

}  // namespace proxy

// Hash-tag extraction per key; the extraction rule itself is api::HashTagKey (shared with the
// placement code and `proxyctl route`).
#include "filters/hash_tag/hash_tag_filter.h"

#include <vector>

#include "api/placement.h"

namespace proxy::filters::hash_tag {

FilterStatus HashTagFilter::OnRequest(Request& request, FilterCallbacks& callbacks) {
  if (tag_.empty()) {
    return FilterStatus::kContinue;
  }
  const size_t count = request.KeyCount();
  if (count == 0) {
    return FilterStatus::kContinue;
  }
  std::vector<absl::string_view>& hash_keys = callbacks.Context().hash_keys;
  hash_keys.clear();
  hash_keys.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    hash_keys.push_back(HashTagKey(request.Key(i), tag_));
  }
  return FilterStatus::kContinue;
}

}  // namespace proxy::filters::hash_tag

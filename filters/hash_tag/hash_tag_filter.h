// The hash_tag filter: records, for every key of a request, the bytes twemproxy hashes under the
// pool's two-byte hash_tag in RequestContext::hash_keys.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "api/codec.h"
#include "api/filter.h"

namespace proxy::filters::hash_tag {

// One per worker, shared by the pool's clients (it keeps only its tag). With no tag the filter does
// nothing (hash_keys stays empty and the router hashes the keys as they are).
class HashTagFilter final : public Filter {
 public:
  // `tag`: two bytes such as "{}", or empty for none.
  explicit HashTagFilter(absl::string_view tag) : tag_(tag) {}

  FilterStatus OnRequest(Request& request, FilterCallbacks& callbacks) override;

 private:
  const std::string tag_;  // two bytes: fits the small-string buffer, no allocation
};

}  // namespace proxy::filters::hash_tag

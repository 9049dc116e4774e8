// The `hello` filter, a tiny plugin defined only in test/ to prove that a new filter needs no
// change to core/: a GET of the magic key is answered locally with "<greeting> <pool name>".
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/codec.h"
#include "api/filter.h"
#include "api/stats.h"
#include "test/custom_filter/hello_filter.pb.h"

namespace proxy::test::custom_filter {

inline constexpr absl::string_view kDefaultMagicKey = "__proxy_hello__";
inline constexpr absl::string_view kDefaultGreeting = "hello from pool";

// Everything the filters of one pool share, computed once by the factory.
struct HelloAnswer {
  std::string magic_key;
  std::string reply;                // the complete wire reply, e.g. "$22\r\nhello from ...\r\n"
  Counter* answered = nullptr;      // "hello.answered" in the pool's scope; null = not counted
};

// Validates `config` (kInvalidArgument naming the field) and builds the answer for `pool_name`
// in `protocol` ("redis" or "memcache").
absl::StatusOr<std::shared_ptr<HelloAnswer>> MakeHelloAnswer(
    const v1::HelloConfig& config, absl::string_view pool_name, absl::string_view protocol);

// Per client connection: answers `GET <magic_key>` (any case) with SendLocalReply; everything
// else passes on unchanged.
class HelloFilter final : public Filter {
 public:
  explicit HelloFilter(std::shared_ptr<const HelloAnswer> answer) : answer_(std::move(answer)) {}

  FilterStatus OnRequest(Request& request, FilterCallbacks& callbacks) override;

 private:
  std::shared_ptr<const HelloAnswer> answer_;
};

}  // namespace proxy::test::custom_filter

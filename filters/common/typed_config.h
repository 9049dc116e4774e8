// Turns the generic config message a FilterFactory::Create() receives into the filter's own
// config type, with an error naming the expected type when it is something else.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace proxy::filters::common {

// A copy of `config` as `ConfigProto`. Accepts the generated class itself and any other message
// with the same full name (e.g. a DynamicMessage); kInvalidArgument for any other type.
template <class ConfigProto>
absl::StatusOr<ConfigProto> TypedConfig(const google::protobuf::Message& config) {
  const std::string& expected = ConfigProto::descriptor()->full_name();
  const std::string& actual = config.GetDescriptor()->full_name();
  if (actual != expected) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: expected a ", expected, " message, got a ", actual));
  }
  if (const auto* typed = dynamic_cast<const ConfigProto*>(&config)) {
    return *typed;
  }
  ConfigProto copy;
  if (!copy.ParseFromString(config.SerializeAsString())) {
    return absl::InvalidArgumentError(absl::StrCat("config: does not parse as ", expected));
  }
  return copy;
}

}  // namespace proxy::filters::common

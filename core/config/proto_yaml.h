// Fills a protobuf message from a YAML mapping by field name (used for per-filter `config:`).
#pragma once

#include <string>
#include <vector>

#include "core/config/yaml_tree.h"
#include "google/protobuf/message.h"

namespace proxy::config {

struct ProtoYamlError {
  SourcePos pos;
  std::string message;
};

// Mapping keys are the message's field names. Scalars convert to the field's type (bool: true or
// false; integers: decimal; enums: the value's name), lists fill repeated fields, mappings fill
// message fields. Every problem is appended to `errors`; valid fields are still set.
void FillMessageFromYaml(const YamlNode& node, google::protobuf::Message* message,
                         std::vector<ProtoYamlError>* errors);

}  // namespace proxy::config

// A small YAML document tree with source positions, built from yaml-cpp's event stream so that
// duplicate keys, anchors, tags and flow collections stay visible to the validator.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace proxy::config {

// 1-based position in the source text.
struct SourcePos {
  int line = 0;
  int column = 0;
};

struct YamlNode;
using YamlNodePtr = std::unique_ptr<YamlNode>;

// One node. Mappings keep every entry in file order, duplicates included.
struct YamlNode {
  enum class Kind { kNull, kScalar, kSequence, kMapping };
  Kind kind = Kind::kNull;
  SourcePos pos;         // an empty value is placed at its mapping key or its list "-"
  std::string value;    // kScalar: the scalar's text
  bool quoted = false;  // kScalar: written with quotes
  bool flow = false;    // kSequence/kMapping: written as [..] / {..}
  std::string tag;      // an explicit tag such as "!!str", else empty
  bool anchored = false;
  bool alias = false;   // an alias (*name); kind is kNull then
  std::vector<YamlNodePtr> items;                          // kSequence
  std::vector<std::pair<YamlNodePtr, YamlNodePtr>> entries;  // kMapping: key, value

  absl::string_view KindName() const;
};

// The parsed file: its documents, or a syntax error.
struct YamlFile {
  std::vector<YamlNodePtr> documents;
  bool syntax_ok = true;
  SourcePos error_pos;
  std::string error;  // yaml-cpp's message when !syntax_ok
};

// Parses `text` completely. Never throws: yaml-cpp's exceptions become `error`.
YamlFile ParseYaml(const std::string& text);

}  // namespace proxy::config

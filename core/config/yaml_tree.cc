// Builds YamlNode trees from yaml-cpp's EventHandler callbacks (the one place that catches
// yaml-cpp exceptions: the proxy's own code reports errors as absl::Status, never by throwing).
#include "core/config/yaml_tree.h"

#include <algorithm>
#include <sstream>

#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/exceptions.h"
#include "yaml-cpp/mark.h"
#include "yaml-cpp/parser.h"

namespace proxy::config {
namespace {

SourcePos ToPos(const YAML::Mark& mark) {
  if (mark.is_null()) return SourcePos{0, 0};
  return SourcePos{mark.line + 1, mark.column + 1};
}

// yaml-cpp reports implicit tags as "?" (plain) and "!" (quoted/non-specific); anything else is
// an explicit tag the user wrote.
std::string ExplicitTag(const std::string& tag) {
  if (tag.empty() || tag == "?" || tag == "!") return "";
  const std::string kYamlPrefix = "tag:yaml.org,2002:";
  if (tag.rfind(kYamlPrefix, 0) == 0) return "!!" + tag.substr(kYamlPrefix.size());
  return tag;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsDelimiter(char c) { return IsSpace(c) || c == '#'; }

class TreeBuilder : public YAML::EventHandler {
 public:
  TreeBuilder(const std::string& text, std::vector<YamlNodePtr>* documents)
      : text_(text), documents_(documents) {}

  void OnDocumentStart(const YAML::Mark&) override { stack_.clear(); }
  void OnDocumentEnd() override {
    // An empty document (e.g. a file of comments) produces no root node.
    documents_->push_back(std::move(root_));
    root_.reset();
  }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto node = std::make_unique<YamlNode>();
    node->pos = ToPos(mark);
    node->anchored = anchor != YAML::NullAnchor;
    // yaml-cpp turns the plain scalars ~ / null / Null / NULL into nulls; libyaml (twemproxy)
    // keeps them as text, so recover the spelling from the source.
    for (const char* word : {"null", "Null", "NULL", "~"}) {
      const size_t len = std::char_traits<char>::length(word);
      if (mark.pos >= 0 && static_cast<size_t>(mark.pos) + len <= text_.size() &&
          text_.compare(mark.pos, len, word) == 0 &&
          (mark.pos + len == text_.size() || IsDelimiter(text_[mark.pos + len]))) {
        node->kind = YamlNode::Kind::kScalar;
        node->value = word;
        break;
      }
    }
    if (node->kind == YamlNode::Kind::kNull) {
      // An empty value: yaml-cpp marks the token after it, often on a later line. Point at the
      // "-" of an empty list item (Add() points an empty mapping value at its key).
      size_t i = mark.pos >= 0 ? std::min(static_cast<size_t>(mark.pos), text_.size()) : 0;
      while (i > 0 && IsSpace(text_[i - 1])) {
        --i;
      }
      if (i > 0 && text_[i - 1] == '-') {
        node->pos = PosOf(i - 1);
      }
    }
    Add(std::move(node));
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    auto node = std::make_unique<YamlNode>();
    node->pos = ToPos(mark);
    node->alias = true;
    Add(std::move(node));
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    auto node = std::make_unique<YamlNode>();
    node->kind = YamlNode::Kind::kScalar;
    node->pos = ToPos(mark);
    node->value = value;
    node->quoted = tag == "!";
    node->tag = ExplicitTag(tag);
    node->anchored = anchor != YAML::NullAnchor;
    if (node->quoted && unclosed_error_.empty() && !QuoteClosed(mark)) {
      unclosed_pos_ = node->pos;
      unclosed_error_ = "quoted value has no closing quote";
    }
    Add(std::move(node));
  }

  // yaml-cpp accepts a quoted scalar that is never closed when the text ends with a newline
  // (the scalar swallows the rest of the file); libyaml, and so twemproxy, rejects it.
  const std::string& unclosed_error() const { return unclosed_error_; }
  SourcePos unclosed_pos() const { return unclosed_pos_; }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value style) override {
    Open(YamlNode::Kind::kSequence, mark, tag, anchor, style);
  }
  void OnSequenceEnd() override { Close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value style) override {
    Open(YamlNode::Kind::kMapping, mark, tag, anchor, style);
  }
  void OnMapEnd() override { Close(); }

 private:
  void Open(YamlNode::Kind kind, const YAML::Mark& mark, const std::string& tag,
            YAML::anchor_t anchor, YAML::EmitterStyle::value style) {
    auto node = std::make_unique<YamlNode>();
    node->kind = kind;
    node->pos = ToPos(mark);
    node->tag = ExplicitTag(tag);
    node->anchored = anchor != YAML::NullAnchor;
    node->flow = style == YAML::EmitterStyle::Flow;
    YamlNode* raw = node.get();
    Add(std::move(node));
    stack_.push_back(raw);
  }

  void Close() {
    if (!stack_.empty()) stack_.pop_back();
  }

  // Attaches `node` to the open collection (or makes it the root).
  void Add(YamlNodePtr node) {
    if (stack_.empty()) {
      root_ = std::move(node);
      return;
    }
    YamlNode* parent = stack_.back();
    if (parent->kind == YamlNode::Kind::kSequence) {
      parent->items.push_back(std::move(node));
    } else if (parent->entries.empty() || parent->entries.back().second != nullptr) {
      parent->entries.emplace_back(std::move(node), nullptr);
    } else {
      if (node->kind == YamlNode::Kind::kNull && !node->alias) {
        node->pos = parent->entries.back().first->pos;  // an empty value: point at its key
      }
      parent->entries.back().second = std::move(node);
    }
  }

  // False when the quoted scalar starting at `mark` runs to the end of the text.
  bool QuoteClosed(const YAML::Mark& mark) const {
    if (mark.pos < 0 || static_cast<size_t>(mark.pos) >= text_.size()) {
      return true;
    }
    const size_t open = static_cast<size_t>(mark.pos);
    const char quote = text_[open];
    if (quote != '"' && quote != '\'') {
      return true;  // e.g. an anchor or tag comes first
    }
    for (size_t i = open + 1; i < text_.size(); ++i) {
      if (quote == '"' && text_[i] == '\\') {
        ++i;  // an escaped character
      } else if (text_[i] == quote) {
        if (quote == '\'' && i + 1 < text_.size() && text_[i + 1] == '\'') {
          ++i;  // '' is an escaped single quote
        } else {
          return true;
        }
      }
    }
    return false;
  }

  // The 1-based position of byte `offset` of the text.
  SourcePos PosOf(size_t offset) const {
    SourcePos pos{1, 1};
    for (size_t i = 0; i < offset && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++pos.line;
        pos.column = 1;
      } else {
        ++pos.column;
      }
    }
    return pos;
  }

  const std::string& text_;
  std::vector<YamlNodePtr>* documents_;
  std::vector<YamlNode*> stack_;
  YamlNodePtr root_;
  SourcePos unclosed_pos_;
  std::string unclosed_error_;
};

}  // namespace

absl::string_view YamlNode::KindName() const {
  if (alias) return "an alias";
  switch (kind) {
    case Kind::kNull:
      return "an empty value";
    case Kind::kScalar:
      return "a scalar";
    case Kind::kSequence:
      return "a list";
    case Kind::kMapping:
      return "a mapping";
  }
  return "a value";
}

YamlFile ParseYaml(const std::string& text) {
  YamlFile file;
  std::istringstream stream(text);
  try {
    YAML::Parser parser(stream);
    TreeBuilder builder(text, &file.documents);
    while (parser.HandleNextDocument(builder)) {
    }
    if (!builder.unclosed_error().empty()) {
      file.syntax_ok = false;
      file.error_pos = builder.unclosed_pos();
      file.error = builder.unclosed_error();
    }
  } catch (const YAML::Exception& e) {
    file.syntax_ok = false;
    file.error_pos = ToPos(e.mark);
    file.error = e.msg;
  }
  return file;
}

}  // namespace proxy::config

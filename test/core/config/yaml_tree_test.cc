// Tests for the YAML tree builder: positions, scalars kept as written, and the YAML features
// (anchors, aliases, tags, flow style, duplicate keys) it must keep visible to the loader.
#include "core/config/yaml_tree.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace proxy::config {
namespace {

using Kind = YamlNode::Kind;
using ::testing::HasSubstr;

// The only document of `text`, which must parse.
const YamlNode& Root(const YamlFile& file) {
  EXPECT_TRUE(file.syntax_ok) << file.error;
  EXPECT_EQ(file.documents.size(), 1u);
  static const YamlNode kEmpty;
  if (file.documents.empty() || file.documents[0] == nullptr) {
    return kEmpty;
  }
  return *file.documents[0];
}

// The value of `key` in mapping `node` (the first one if repeated).
const YamlNode& ValueOf(const YamlNode& node, const std::string& key) {
  for (const auto& [k, v] : node.entries) {
    if (k->value == key) {
      return *v;
    }
  }
  ADD_FAILURE() << "no key " << key;
  static const YamlNode kEmpty;
  return kEmpty;
}

TEST(ParseYamlTest, RecordsOneBasedPositionsOfKeysAndValues) {
  YamlFile file = ParseYaml(R"EOF(alpha:
  listen: 127.0.0.1:22121
  servers:
   - 127.0.0.1:6379:1
)EOF");
  const YamlNode& root = Root(file);
  ASSERT_EQ(root.kind, Kind::kMapping);
  ASSERT_EQ(root.entries.size(), 1u);
  const auto& [pool_key, pool] = root.entries[0];
  EXPECT_EQ(pool_key->value, "alpha");
  EXPECT_EQ(pool_key->pos.line, 1);
  EXPECT_EQ(pool_key->pos.column, 1);
  ASSERT_EQ(pool->kind, Kind::kMapping);
  const YamlNode& listen = ValueOf(*pool, "listen");
  EXPECT_EQ(listen.kind, Kind::kScalar);
  EXPECT_EQ(listen.value, "127.0.0.1:22121");
  EXPECT_EQ(listen.pos.line, 2);
  EXPECT_EQ(listen.pos.column, 11);
  const YamlNode& servers = ValueOf(*pool, "servers");
  ASSERT_EQ(servers.kind, Kind::kSequence);
  EXPECT_FALSE(servers.flow);
  ASSERT_EQ(servers.items.size(), 1u);
  EXPECT_EQ(servers.items[0]->value, "127.0.0.1:6379:1");
  EXPECT_EQ(servers.items[0]->pos.line, 4);
  EXPECT_EQ(servers.items[0]->pos.column, 6);
}

TEST(ParseYamlTest, MarksQuotedScalars) {
  YamlFile file = ParseYaml("a: \"x\"\nb: 'y'\nc: z\n");
  const YamlNode& root = Root(file);
  EXPECT_TRUE(ValueOf(root, "a").quoted);
  EXPECT_TRUE(ValueOf(root, "b").quoted);
  EXPECT_FALSE(ValueOf(root, "c").quoted);
  EXPECT_EQ(ValueOf(root, "a").value, "x");
  EXPECT_EQ(ValueOf(root, "a").tag, "");
}

TEST(ParseYamlTest, KeepsNullSpellingsAsText) {
  // libyaml (twemproxy) has no null: these are plain strings there.
  YamlFile file = ParseYaml("a: null\nb: ~\nc: Null\nd: NULL\ne: nullx\n");
  const YamlNode& root = Root(file);
  for (const auto& [key, text] : std::vector<std::pair<std::string, std::string>>{
           {"a", "null"}, {"b", "~"}, {"c", "Null"}, {"d", "NULL"}, {"e", "nullx"}}) {
    const YamlNode& value = ValueOf(root, key);
    EXPECT_EQ(value.kind, Kind::kScalar) << key;
    EXPECT_EQ(value.value, text) << key;
  }
}

TEST(ParseYamlTest, EmptyMappingValueIsPlacedAtItsKey) {
  YamlFile file = ParseYaml(R"EOF(alpha:
  hash:
  listen: x
  timeout:
)EOF");
  const YamlNode& pool = ValueOf(Root(file), "alpha");
  const YamlNode& hash = ValueOf(pool, "hash");
  EXPECT_EQ(hash.kind, Kind::kNull);
  EXPECT_EQ(hash.pos.line, 2);
  EXPECT_EQ(hash.pos.column, 3);
  const YamlNode& timeout = ValueOf(pool, "timeout");
  EXPECT_EQ(timeout.kind, Kind::kNull);
  EXPECT_EQ(timeout.pos.line, 4);
  EXPECT_EQ(timeout.pos.column, 3);
}

TEST(ParseYamlTest, EmptyListItemIsPlacedAtItsDash) {
  YamlFile file = ParseYaml(R"EOF(servers:
   - a
   -
   - b
   -
)EOF");
  const YamlNode& servers = ValueOf(Root(file), "servers");
  ASSERT_EQ(servers.items.size(), 4u);
  EXPECT_EQ(servers.items[1]->kind, Kind::kNull);
  EXPECT_EQ(servers.items[1]->pos.line, 3);
  EXPECT_EQ(servers.items[1]->pos.column, 4);
  EXPECT_EQ(servers.items[3]->kind, Kind::kNull);
  EXPECT_EQ(servers.items[3]->pos.line, 5);
  EXPECT_EQ(servers.items[3]->pos.column, 4);
}

TEST(ParseYamlTest, KeepsDuplicateKeysInFileOrder) {
  YamlFile file = ParseYaml("a: 1\nb: 2\na: 3\n");
  const YamlNode& root = Root(file);
  ASSERT_EQ(root.entries.size(), 3u);
  EXPECT_EQ(root.entries[0].first->value, "a");
  EXPECT_EQ(root.entries[0].second->value, "1");
  EXPECT_EQ(root.entries[2].first->value, "a");
  EXPECT_EQ(root.entries[2].second->value, "3");
  EXPECT_EQ(root.entries[2].first->pos.line, 3);
}

TEST(ParseYamlTest, RecordsAnchorsAliasesAndTags) {
  YamlFile file = ParseYaml(R"EOF(a: &x one
b: *x
c: !!str two
d: !custom three
e: &y
  k: v
)EOF");
  const YamlNode& root = Root(file);
  EXPECT_TRUE(ValueOf(root, "a").anchored);
  EXPECT_EQ(ValueOf(root, "a").value, "one");
  const YamlNode& alias = ValueOf(root, "b");
  EXPECT_TRUE(alias.alias);
  EXPECT_EQ(alias.pos.line, 2);
  EXPECT_EQ(alias.pos.column, 4);
  EXPECT_EQ(alias.KindName(), "an alias");
  EXPECT_EQ(ValueOf(root, "c").tag, "!!str");
  EXPECT_EQ(ValueOf(root, "c").value, "two");
  EXPECT_EQ(ValueOf(root, "d").tag, "!custom");
  EXPECT_TRUE(ValueOf(root, "e").anchored);
  EXPECT_EQ(ValueOf(root, "e").kind, Kind::kMapping);
}

TEST(ParseYamlTest, RecordsFlowStyle) {
  YamlFile file = ParseYaml("a: [x, y]\nb: {}\nc:\n  - z\n");
  const YamlNode& root = Root(file);
  EXPECT_EQ(ValueOf(root, "a").kind, Kind::kSequence);
  EXPECT_TRUE(ValueOf(root, "a").flow);
  EXPECT_EQ(ValueOf(root, "a").items.size(), 2u);
  EXPECT_EQ(ValueOf(root, "b").kind, Kind::kMapping);
  EXPECT_TRUE(ValueOf(root, "b").flow);
  EXPECT_FALSE(ValueOf(root, "c").flow);
}

TEST(ParseYamlTest, CountsDocuments) {
  EXPECT_EQ(ParseYaml("").documents.size(), 0u);
  EXPECT_EQ(ParseYaml("# only a comment\n").documents.size(), 0u);
  EXPECT_EQ(ParseYaml("a: 1\n").documents.size(), 1u);
  EXPECT_EQ(ParseYaml("a: 1\n---\nb: 2\n").documents.size(), 2u);
}

TEST(ParseYamlTest, AcceptsDocumentMarkersAndVersionDirective) {
  YamlFile file = ParseYaml("%YAML 1.1\n---\na: 1\n...\n");
  EXPECT_EQ(ValueOf(Root(file), "a").value, "1");
}

TEST(ParseYamlTest, TabIndentationIsASyntaxErrorWithPosition) {
  YamlFile file = ParseYaml("alpha:\n  listen: x\n\tservers: y\n");
  EXPECT_FALSE(file.syntax_ok);
  EXPECT_EQ(file.error_pos.line, 3);
  EXPECT_EQ(file.error_pos.column, 1);
  EXPECT_THAT(file.error, HasSubstr("tab"));
}

TEST(ParseYamlTest, UnclosedFlowListIsASyntaxError) {
  YamlFile file = ParseYaml("a: [x, y\nb: 1\n");
  EXPECT_FALSE(file.syntax_ok);
  EXPECT_GT(file.error_pos.line, 0);
  EXPECT_FALSE(file.error.empty());
}

TEST(ParseYamlTest, UnclosedQuotesAreSyntaxErrors) {
  for (const char* text : {"a: \"x\nb: 1\n", "a: 'x\nb: 1\n", "a: \"x\\\"\n", "a: 'x''\n"}) {
    YamlFile file = ParseYaml(text);
    EXPECT_FALSE(file.syntax_ok) << text;
    EXPECT_EQ(file.error_pos.line, 1) << text;
    EXPECT_EQ(file.error_pos.column, 4) << text;
  }
}

TEST(ParseYamlTest, ClosedQuotesWithEscapesAreFine) {
  YamlFile file = ParseYaml("a: \"x\\\"y\"\nb: 'it''s'\nc: ''\nd: \"multi\n  line\"\n");
  const YamlNode& root = Root(file);
  EXPECT_EQ(ValueOf(root, "a").value, "x\"y");
  EXPECT_EQ(ValueOf(root, "b").value, "it's");
  EXPECT_EQ(ValueOf(root, "c").value, "");
  EXPECT_EQ(ValueOf(root, "d").value, "multi line");
}

TEST(YamlNodeTest, KindNamesReadAsProse) {
  YamlNode node;
  EXPECT_EQ(node.KindName(), "an empty value");
  node.kind = Kind::kScalar;
  EXPECT_EQ(node.KindName(), "a scalar");
  node.kind = Kind::kSequence;
  EXPECT_EQ(node.KindName(), "a list");
  node.kind = Kind::kMapping;
  EXPECT_EQ(node.KindName(), "a mapping");
}

}  // namespace
}  // namespace proxy::config

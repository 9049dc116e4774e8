// Tests of the memcache command table: names, ids and how each command is treated.
#include "protocols/memcache/command_table.h"

#include "absl/strings/ascii.h"
#include "gtest/gtest.h"

namespace proxy::protocols::memcache::test {
namespace {

TEST(MemcacheCommandTableTest, NamesAreLowerCaseAndShortAndIdsRoundTrip) {
  const CommandTable& table = CommandTable::Get();
  ASSERT_GT(table.size(), 0u);
  for (uint16_t id = 1; id <= table.size(); ++id) {
    const CommandSpec* spec = table.ById(id);
    ASSERT_NE(spec, nullptr);
    EXPECT_LE(spec->name.size(), kMaxCommandNameSize) << spec->name;
    EXPECT_EQ(absl::AsciiStrToLower(spec->name), spec->name);
    EXPECT_EQ(table.Find(spec->name), spec);
    EXPECT_EQ(table.IdOf(*spec), id);
  }
  EXPECT_EQ(table.ById(0), nullptr);
  EXPECT_EQ(table.ById(static_cast<uint16_t>(table.size() + 1)), nullptr);
}

TEST(MemcacheCommandTableTest, LookupIsExactAndCaseSensitive) {
  const CommandTable& table = CommandTable::Get();
  EXPECT_NE(table.Find("get"), nullptr);
  EXPECT_EQ(table.Find("GET"), nullptr);
  EXPECT_EQ(table.Find("ge"), nullptr);
  EXPECT_EQ(table.Find("gett"), nullptr);
  EXPECT_EQ(table.Find(""), nullptr);
  EXPECT_EQ(table.Find("cache_memlimitx"), nullptr);
}

TEST(MemcacheCommandTableTest, ClassifiesEveryCommand) {
  const CommandTable& table = CommandTable::Get();
  struct Expected {
    const char* name;
    Syntax syntax;
    CommandKind kind;
  };
  const Expected expected[] = {
      {"get", Syntax::kRetrieval, CommandKind::kRead},
      {"gets", Syntax::kRetrieval, CommandKind::kRead},
      {"gat", Syntax::kGat, CommandKind::kRead},
      {"gats", Syntax::kGat, CommandKind::kRead},
      {"set", Syntax::kStorage, CommandKind::kWrite},
      {"add", Syntax::kStorage, CommandKind::kWrite},
      {"replace", Syntax::kStorage, CommandKind::kWrite},
      {"append", Syntax::kStorage, CommandKind::kWrite},
      {"prepend", Syntax::kStorage, CommandKind::kWrite},
      {"cas", Syntax::kCas, CommandKind::kWrite},
      {"incr", Syntax::kArithmetic, CommandKind::kWrite},
      {"decr", Syntax::kArithmetic, CommandKind::kWrite},
      {"touch", Syntax::kTouch, CommandKind::kWrite},
      {"delete", Syntax::kDelete, CommandKind::kWrite},
      {"mg", Syntax::kMeta, CommandKind::kRead},
      {"ms", Syntax::kMetaSet, CommandKind::kWrite},
      {"md", Syntax::kMeta, CommandKind::kWrite},
      {"ma", Syntax::kMeta, CommandKind::kWrite},
      {"me", Syntax::kMeta, CommandKind::kRead},
      {"mn", Syntax::kNoop, CommandKind::kLocal},
      {"version", Syntax::kVersion, CommandKind::kRead},
      {"quit", Syntax::kQuit, CommandKind::kLocal},
      {"stats", Syntax::kAdmin, CommandKind::kUnsupported},
      {"flush_all", Syntax::kAdmin, CommandKind::kUnsupported},
      {"verbosity", Syntax::kAdmin, CommandKind::kUnsupported},
      {"shutdown", Syntax::kAdmin, CommandKind::kUnsupported},
      {"cache_memlimit", Syntax::kAdmin, CommandKind::kUnsupported},
      {"slabs", Syntax::kAdmin, CommandKind::kUnsupported},
      {"lru", Syntax::kAdmin, CommandKind::kUnsupported},
      {"lru_crawler", Syntax::kAdmin, CommandKind::kUnsupported},
      {"watch", Syntax::kAdmin, CommandKind::kUnsupported},
      {"extstore", Syntax::kAdmin, CommandKind::kUnsupported},
      {"misbehave", Syntax::kAdmin, CommandKind::kUnsupported},
      {"debugtime", Syntax::kAdmin, CommandKind::kUnsupported},
  };
  EXPECT_EQ(table.size(), sizeof(expected) / sizeof(expected[0]));
  for (const Expected& e : expected) {
    const CommandSpec* spec = table.Find(e.name);
    ASSERT_NE(spec, nullptr) << e.name;
    EXPECT_EQ(spec->syntax, e.syntax) << e.name;
    EXPECT_EQ(spec->kind, e.kind) << e.name;
  }
}

}  // namespace
}  // namespace proxy::protocols::memcache::test

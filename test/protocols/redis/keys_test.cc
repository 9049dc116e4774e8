// Tests of the one key extractor (protocols/redis/command_table.h FindKeys) and of the command
// table's invariants: for every command of the table, the decoder's routing keys and
// RewriteKeys' mapped arguments are exactly the positions FindKeys names.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "protocols/redis/command_table.h"
#include "protocols/redis/redis_codec.h"
#include "test/fakes/string_buffer.h"

namespace proxy::protocols::redis::test {
namespace {

using proxy::test::StringBuffer;

std::string Resp(const std::vector<std::string>& args) {
  std::string out = absl::StrCat("*", args.size(), "\r\n");
  for (const std::string& arg : args) absl::StrAppend(&out, "$", arg.size(), "\r\n", arg, "\r\n");
  return out;
}

KeyError Find(const CommandSpec& spec, const std::vector<std::string>& argv, KeyPositions* keys) {
  return FindKeys(
      spec, argv.size(),
      [&argv](size_t i, char* dst, size_t max) {
        const size_t n = std::min(argv[i].size(), max);
        argv[i].copy(dst, n);
        return argv[i].size();
      },
      keys);
}

// A valid request of `spec` with `extra` more arguments than its arity's minimum (variadic
// commands only): arguments "a<i>", numkeys naming every argument after it (one at least).
std::vector<std::string> Example(const CommandSpec& spec, size_t extra) {
  size_t argc = static_cast<size_t>(spec.arity < 0 ? -spec.arity : spec.arity) + extra;
  if (spec.rule == KeyRule::kNumkeys) {
    argc = std::max(argc, static_cast<size_t>(spec.numkeys_at) + 2);
  }
  std::vector<std::string> argv = {std::string(spec.name)};
  for (size_t i = 1; i < argc; ++i) argv.push_back(absl::StrCat("a", i));
  if (spec.rule == KeyRule::kNumkeys) {
    argv[spec.numkeys_at] = absl::StrCat(argc - spec.numkeys_at - 1);
  }
  return argv;
}

std::vector<std::string> KeysAt(const std::vector<std::string>& argv, const KeyPositions& keys) {
  std::vector<std::string> out;
  keys.ForEach([&](size_t i) { out.push_back(argv[i]); });
  return out;
}

TEST(CommandTableInvariantsTest, KeyRulesFitTheArity) {
  const CommandTable& table = CommandTable::Get();
  for (uint16_t id = 1; id <= table.size(); ++id) {
    const CommandSpec& spec = *table.ById(id);
    SCOPED_TRACE(spec.name);
    const int min_argc = spec.arity < 0 ? -spec.arity : spec.arity;
    ASSERT_GE(min_argc, 1);
    ASSERT_GE(spec.key_step, 1);
    switch (spec.rule) {
      case KeyRule::kNone:
        EXPECT_TRUE(spec.kind == CommandKind::kLocal || spec.kind == CommandKind::kUnsupported);
        break;
      case KeyRule::kPlaceholder:
        EXPECT_EQ(spec.kind, CommandKind::kRead);
        break;
      case KeyRule::kRange:
        EXPECT_GE(spec.first_key, 1);
        EXPECT_LT(spec.last_key < 0 ? min_argc + spec.last_key : spec.last_key, min_argc);
        EXPECT_GE(spec.last_key < 0 ? min_argc + spec.last_key : spec.last_key, spec.first_key);
        break;
      case KeyRule::kSplit:
        EXPECT_TRUE(spec.op == Op::kMget || spec.op == Op::kDel || spec.op == Op::kUnlink ||
                    spec.op == Op::kTouch || spec.op == Op::kExists || spec.op == Op::kMset);
        EXPECT_GT(min_argc, spec.key_step);
        break;
      case KeyRule::kNumkeys:
        EXPECT_GE(spec.numkeys_at, 1);
        EXPECT_GT(min_argc, spec.numkeys_at);  // EVAL s 0: no key, refused by FindKeys
        break;
    }
    // Served commands are read or write (Request::is_write), local or refused; the flags
    // agree with the refusal families.
    EXPECT_EQ((spec.flags & kFlagBlocking) != 0, spec.refusal == Refusal::kBlocking);
    EXPECT_EQ((spec.flags & kFlagPubSub) != 0, spec.refusal == Refusal::kPubSub);
    if (spec.kind == CommandKind::kLocal) {
      EXPECT_EQ(spec.refusal, Refusal::kNone);
    }
    if (spec.kind == CommandKind::kUnsupported) {
      EXPECT_NE(spec.refusal, Refusal::kNone);
    }
    // The lower-case name is static storage that matches the name.
    EXPECT_EQ(spec.lower.size(), spec.name.size());
    EXPECT_EQ(table.FindAnyCase(spec.lower), &spec);
  }
}

// The decoder's routing keys and RewriteKeys' mapped arguments are FindKeys' positions, for
// every command with keys, at its minimum argument count and with more arguments.
TEST(FindKeysTest, DecoderAndRewriteAgreeForEveryCommand) {
  const CommandTable& table = CommandTable::Get();
  const RedisCodec codec("", 0);
  size_t checked = 0;
  for (uint16_t id = 1; id <= table.size(); ++id) {
    const CommandSpec& spec = *table.ById(id);
    if (spec.rule == KeyRule::kNone || spec.rule == KeyRule::kPlaceholder) continue;
    for (size_t extra : {size_t{0}, size_t{spec.key_step} * 2}) {
      if (extra > 0 && spec.arity > 0) continue;
      const std::vector<std::string> argv = Example(spec, extra);
      const std::string wire = Resp(argv);
      SCOPED_TRACE(absl::StrJoin(argv, " "));
      KeyPositions keys;
      ASSERT_EQ(Find(spec, argv, &keys), KeyError::kNone);
      ASSERT_GT(keys.count(), 0u);
      const std::vector<std::string> expected_keys = KeysAt(argv, keys);
      ASSERT_EQ(expected_keys.size(), keys.count());

      std::vector<std::string> mapped = argv;
      keys.ForEach([&](size_t i) { mapped[i] = "p:" + mapped[i]; });
      // As an array and as an inline command (which RewriteKeys reads from `rewritten`).
      for (const std::string& form : {wire, absl::StrCat(absl::StrJoin(argv, " "), "\r\n")}) {
        RequestDecoderPtr decoder = codec.NewRequestDecoder(DecoderLimits());
        StringBuffer buffer(form);
        Request request;
        std::string error;
        ASSERT_EQ(decoder->Decode(buffer, &request, &error), DecodeResult::kMessage) << error;
        std::vector<std::string> decoded;
        for (size_t i = 0; i < request.KeyCount(); ++i) decoded.emplace_back(request.Key(i));
        EXPECT_EQ(decoded, expected_keys);
        EXPECT_EQ(request.colocated_keys,
                  spec.rule != KeyRule::kSplit && expected_keys.size() > 1);
        std::string out;
        ASSERT_TRUE(codec.RewriteKeys(
            request, buffer, [](absl::string_view key) { return absl::StrCat("p:", key); },
            &out));
        EXPECT_EQ(out, Resp(mapped));
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 150u);  // every keyed command, twice when variadic
}

TEST(FindKeysTest, PositionsOfEachRule) {
  const CommandTable& table = CommandTable::Get();
  KeyPositions keys;
  ASSERT_EQ(Find(*table.Find("GET"), {"GET", "k"}, &keys), KeyError::kNone);
  EXPECT_EQ(keys.count(), 1u);
  EXPECT_TRUE(keys.IsKey(1));
  EXPECT_FALSE(keys.IsKey(0));

  ASSERT_EQ(Find(*table.Find("MSETNX"), {"MSETNX", "a", "1", "b", "2"}, &keys), KeyError::kNone);
  EXPECT_EQ(keys.count(), 2u);
  EXPECT_TRUE(keys.IsKey(1) && keys.IsKey(3));
  EXPECT_FALSE(keys.IsKey(2) || keys.IsKey(4));

  ASSERT_EQ(Find(*table.Find("BITOP"), {"BITOP", "AND", "d", "a", "b"}, &keys), KeyError::kNone);
  EXPECT_EQ(keys.count(), 3u);
  EXPECT_FALSE(keys.IsKey(1));

  ASSERT_EQ(Find(*table.Find("MSET"), {"MSET", "a", "1", "b", "2"}, &keys), KeyError::kNone);
  EXPECT_EQ(keys.count(), 2u);
  EXPECT_EQ(keys.step, 2);

  const std::vector<std::string> zinter = {"ZINTERSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"};
  ASSERT_EQ(Find(*table.Find("ZINTERSTORE"), zinter, &keys), KeyError::kNone);
  EXPECT_EQ(KeysAt(zinter, keys), (std::vector<std::string>{"d", "a", "b"}));
  EXPECT_FALSE(keys.IsKey(2) || keys.IsKey(5) || keys.IsKey(6));

  // No key: local, unsupported and placeholder commands.
  ASSERT_EQ(Find(*table.Find("PING"), {"PING"}, &keys), KeyError::kNone);
  EXPECT_EQ(keys.count(), 0u);
  ASSERT_EQ(Find(*table.Find("COMMAND"), {"COMMAND", "COUNT"}, &keys), KeyError::kNone);
  EXPECT_EQ(keys.count(), 0u);
}

TEST(FindKeysTest, ErrorsAndTheirTexts) {
  const CommandTable& table = CommandTable::Get();
  const CommandSpec& get = *table.Find("GET");
  const CommandSpec& eval = *table.Find("EVAL");
  const CommandSpec& zunion = *table.Find("ZUNION");
  KeyPositions keys;
  EXPECT_EQ(Find(get, {"GET"}, &keys), KeyError::kWrongArity);
  EXPECT_EQ(Find(get, {"GET", "a", "b"}, &keys), KeyError::kWrongArity);
  EXPECT_EQ(Find(*table.Find("PING"), {"PING", "a", "b"}, &keys), KeyError::kWrongArity);
  EXPECT_EQ(Find(*table.Find("MSET"), {"MSET", "a", "1", "b"}, &keys), KeyError::kWrongArity);
  EXPECT_EQ(Find(*table.Find("MSETNX"), {"MSETNX", "a", "1", "b"}, &keys),
            KeyError::kWrongArity);
  EXPECT_EQ(KeyErrorText(get, KeyError::kWrongArity),
            "wrong number of arguments for 'get' command");

  EXPECT_EQ(Find(eval, {"EVAL", "s", "x", "k"}, &keys), KeyError::kNotAnInteger);
  EXPECT_EQ(Find(eval, {"EVAL", "s", "01", "k"}, &keys), KeyError::kNotAnInteger);
  EXPECT_EQ(Find(eval, {"EVAL", "s", std::string(30, '1'), "k"}, &keys),
            KeyError::kNotAnInteger);
  EXPECT_EQ(Find(eval, {"EVAL", "s", "-1", "k"}, &keys), KeyError::kNegativeNumkeys);
  EXPECT_EQ(Find(eval, {"EVAL", "s", "0"}, &keys), KeyError::kNoKeys);
  EXPECT_EQ(Find(eval, {"EVAL", "s", "2", "k"}, &keys), KeyError::kTooManyNumkeys);
  EXPECT_EQ(Find(zunion, {"ZUNION", "0", "a"}, &keys), KeyError::kNoKeys);
  EXPECT_EQ(Find(zunion, {"ZUNION", "-1", "a"}, &keys), KeyError::kNoKeys);
  EXPECT_EQ(Find(zunion, {"ZUNION", "3", "a", "b"}, &keys), KeyError::kTooManyNumkeys);

  EXPECT_EQ(KeyErrorText(eval, KeyError::kNotAnInteger),
            "value is not an integer or out of range");
  EXPECT_EQ(KeyErrorText(eval, KeyError::kNegativeNumkeys), "Number of keys can't be negative");
  EXPECT_EQ(KeyErrorText(eval, KeyError::kNoKeys),
            "'eval' without keys cannot be routed by the proxy: numkeys must be at least 1");
  EXPECT_EQ(KeyErrorText(zunion, KeyError::kNoKeys),
            "at least 1 input key is needed for 'zunion' command");
  EXPECT_EQ(KeyErrorText(eval, KeyError::kTooManyNumkeys),
            "Number of keys can't be greater than number of args");
}

// RewriteKeys refuses bytes whose keys do not match the decoded request's (another command's).
TEST(FindKeysTest, RewriteRefusesARequestThatIsNotTheDecodedOne) {
  const RedisCodec codec("", 0);
  RequestDecoderPtr decoder = codec.NewRequestDecoder(DecoderLimits());
  StringBuffer decoded(Resp({"MGET", "a", "b"}));
  Request request;
  std::string error;
  ASSERT_EQ(decoder->Decode(decoded, &request, &error), DecodeResult::kMessage);
  StringBuffer other(Resp({"MGET", "a", "b", "c"}));
  request.wire_size = other.Length();
  std::string out;
  EXPECT_FALSE(codec.RewriteKeys(
      request, other, [](absl::string_view key) { return std::string(key); }, &out));
}

}  // namespace
}  // namespace proxy::protocols::redis::test

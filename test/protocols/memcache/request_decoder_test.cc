// Tests of the memcache request decoder: every request form under every feeding, pipelines,
// noreply, every error text, key validation, line limits, 1 MiB and 100 MiB data blocks.
#include "protocols/memcache/request_decoder.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "test/fakes/string_buffer.h"
#include "test/protocols/memcache/decode_util.h"

namespace proxy::protocols::memcache::test {
namespace {

struct Case {
  std::string wire;
  // "wire=*" stands for "wire=<wire.size()>": a request's wire_size is all of its bytes.
  std::string expected;
};

// Decodes the concatenated wires of `pieces` under every feeding; expects their lines each time.
void ExpectEverywhere(const std::vector<Case>& pieces,
                      const DecoderLimits& limits = DecoderLimits()) {
  std::string wire;
  std::vector<std::string> expected;
  for (const Case& piece : pieces) {
    wire += piece.wire;
    expected.push_back(absl::StrReplaceAll(piece.expected,
                                           {{"wire=*", absl::StrCat("wire=", piece.wire.size())}}));
  }
  for (const Feeding& feeding : AllFeedings(wire.size())) {
    ASSERT_EQ(DecodeRequests(wire, feeding, limits), expected)
        << FeedingName(feeding) << " for " << absl::CEscape(wire);
  }
}

// The request that follows every invalid one, to show that the stream stayed in sync.
const Case kNext = {"get next\r\n", "message get read wire=* args=[next]"};

TEST(MemcacheRequestDecoderTest, EveryRequestFormUnderEveryFeeding) {
  const std::vector<Case> cases = {
      {"get foo\r\n", "message get read wire=* args=[foo]"},
      {"gets foo\r\n", "message gets read wire=* args=[foo]"},
      {"get foo\n", "message get read wire=* args=[foo]"},
      {"get a b a\r\n", "message get multikey wire=* args=[a|b|a]"},
      {"gets k1 k2\r\n", "message gets multikey wire=* args=[k1|k2]"},
      {"   get  a   b  \r\n", "message get multikey wire=* args=[a|b]"},
      {"get caf\xc3\xa9\r\n", "message get read wire=* args=[caf\xc3\xa9]"},
      {"gat 100 foo\r\n", "message gat read wire=* args=[foo]"},
      {"gats -1 a b\r\n", "message gats multikey wire=* args=[a|b] exptime=-1"},
      {"gat +60 a b c\n", "message gat multikey wire=* args=[a|b|c] exptime=+60"},
      {"set foo 5 0 3\r\nbar\r\n", "message set write wire=* args=[foo]"},
      {"set k 0 -1 0\r\n\r\n", "message set write wire=* args=[k]"},
      {"set k 0 0 4\r\n\r\n\r\n\r\n", "message set write wire=* args=[k]"},
      {"set k 0 0 3\nbar\r\n", "message set write wire=* args=[k]"},
      {"set k 0 0 3 noreply\r\nbar\r\n", "message set write wire=* noreply args=[k]"},
      {"set k 0 0 3 whatever\r\nbar\r\n", "message set write wire=* args=[k]"},
      {"set k +1 0 +3\r\nbar\r\n", "message set write wire=* args=[k]"},
      {"add k 1 2 1\r\nx\r\n", "message add write wire=* args=[k]"},
      {"replace k 1 2 1 noreply\r\nx\r\n", "message replace write wire=* noreply args=[k]"},
      {"append k 0 0 1\r\nx\r\n", "message append write wire=* args=[k]"},
      {"prepend k 0 0 1\r\nx\r\n", "message prepend write wire=* args=[k]"},
      {"cas k 0 0 3 99\r\nbar\r\n", "message cas write wire=* args=[k]"},
      {"cas k 0 0 3 99 noreply\r\nbar\r\n", "message cas write wire=* noreply args=[k]"},
      {"incr n 5\r\n", "message incr write wire=* args=[n]"},
      {"decr n 3 noreply\r\n", "message decr write wire=* noreply args=[n]"},
      {"incr n -1\r\n", "message incr write wire=* args=[n]"},
      {"touch k 100\r\n", "message touch write wire=* args=[k]"},
      {"touch k -1 noreply\r\n", "message touch write wire=* noreply args=[k]"},
      {"delete k\r\n", "message delete write wire=* args=[k]"},
      {"delete k noreply\r\n", "message delete write wire=* noreply args=[k]"},
      {"delete k 0\r\n", "message delete write wire=* args=[k]"},
      {"delete k 0 noreply\r\n", "message delete write wire=* noreply args=[k]"},
      {"mg k v f t\r\n", "message mg read wire=* args=[k]"},
      {"mg a2V5 b v\r\n", "message mg read wire=* args=[a2V5]"},
      {"md k\r\n", "message md write wire=* args=[k]"},
      {"ma k N0 J1 MI\r\n", "message ma write wire=* args=[k]"},
      {"me k\r\n", "message me read wire=* args=[k]"},
      {"ms k 2 T0 F5\r\nhi\r\n", "message ms write wire=* args=[k]"},
      {"ms k 0\r\n\r\n", "message ms write wire=* args=[k]"},
      {"mn\r\n", "message mn local wire=* args=[]"},
      {"mn x\r\n", "message mn local wire=* args=[]"},
      {"quit\r\n", "message quit local wire=* args=[]"},
      {"version\r\n", "message version read wire=* synthetic args=[placeholder]"},
      {"stats\r\n", "message stats unsupported wire=* args=[stats]"},
      {"stats slabs\r\n", "message stats unsupported wire=* args=[stats]"},
      {"flush_all 10\r\n", "message flush_all unsupported wire=* args=[flush_all]"},
      {"verbosity 1\r\n", "message verbosity unsupported wire=* args=[verbosity]"},
      {"shutdown\r\n", "message shutdown unsupported wire=* args=[shutdown]"},
      {"lru_crawler metadump all\r\n", "message lru_crawler unsupported wire=* args=[lru_crawler]"},
      {"watch fetchers\r\n", "message watch unsupported wire=* args=[watch]"},
      {"cache_memlimit 100\r\n", "message cache_memlimit unsupported wire=* args=[cache_memlimit]"},
      {"slabs reassign 1 2\r\n", "message slabs unsupported wire=* args=[slabs]"},
      {"misbehave\r\n", "message misbehave unsupported wire=* args=[misbehave]"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::CEscape(c.wire));
    ExpectEverywhere({c, kNext});
  }
}

TEST(MemcacheRequestDecoderTest, PipelineOfAThousandMixedCommands) {
  const std::vector<Case> mix = {
      {"get key:1\r\n", "message get read wire=* args=[key:1]"},
      {"set key:2 0 0 10\r\nsome\r\nvalu\r\n", "message set write wire=* args=[key:2]"},
      {"set q 0 0 1 noreply\r\nx\r\n", "message set write wire=* noreply args=[q]"},
      {"mn\r\n", "message mn local wire=* args=[]"},
      {"get a bb ccc\r\n", "message get multikey wire=* args=[a|bb|ccc]"},
      {"incr counter 1\n", "message incr write wire=* args=[counter]"},
      {"GET a\r\n", "invalid - read wire=* args=[] error=ERROR"},
      {"stats\r\n", "message stats unsupported wire=* args=[stats]"},
      {"delete gone noreply\r\n", "message delete write wire=* noreply args=[gone]"},
      {"ms m 3\r\nabc\r\n", "message ms write wire=* args=[m]"},
      {"gats 5 x y\r\n", "message gats multikey wire=* args=[x|y] exptime=5"},
  };
  std::string wire;
  std::vector<std::string> expected;
  for (int i = 0; i < 1000; ++i) {
    const Case& c = mix[(i * 7 + i / 3) % mix.size()];
    wire += c.wire;
    expected.push_back(
        absl::StrReplaceAll(c.expected, {{"wire=*", absl::StrCat("wire=", c.wire.size())}}));
  }
  for (const Feeding& feeding : AllFeedings(wire.size())) {
    ASSERT_EQ(DecodeRequests(wire, feeding), expected) << FeedingName(feeding);
  }
}

TEST(MemcacheRequestDecoderTest, InvalidRequestsAnswerWithMemcachedTextsAndStayInSync) {
  const std::string k251(251, 'a');
  const std::vector<Case> cases = {
      // memcached answers ERROR for unknown commands and wrong token counts.
      {"GET a\r\n", "invalid - read wire=* args=[] error=ERROR"},
      {"foo bar\r\n", "invalid - read wire=* args=[] error=ERROR"},
      {"get\ta\r\n", "invalid - read wire=* args=[] error=CLIENT_ERROR bad command line format"},
      {"\r\n", "invalid - read wire=* args=[] error=ERROR"},
      {"   \n", "invalid - read wire=* args=[] error=ERROR"},
      {"get\r\n", "invalid get read wire=* args=[] error=ERROR"},
      {"get   \r\n", "invalid get read wire=* args=[] error=ERROR"},
      {"gat 10\r\n", "invalid gat read wire=* args=[] error=ERROR"},
      {"incr k\r\n", "invalid incr write wire=* args=[] error=ERROR"},
      {"incr k 1 2 3\r\n", "invalid incr write wire=* args=[] error=ERROR"},
      {"touch k\r\n", "invalid touch write wire=* args=[] error=ERROR"},
      {"delete\r\n", "invalid delete write wire=* args=[] error=ERROR"},
      {"delete k 0 noreply x\r\n", "invalid delete write wire=* args=[] error=ERROR"},
      {"mg\r\n", "invalid mg read wire=* args=[] error=ERROR"},
      {"me\r\n", "invalid me read wire=* args=[] error=CLIENT_ERROR bad command line format"},
      // Keys.
      {"get " + k251 + "\r\n",
       "invalid get read wire=* args=[] error=CLIENT_ERROR bad command line format"},
      {"get a " + k251 + " b\r\n",
       "invalid get read wire=* args=[] error=CLIENT_ERROR bad command line format"},
      {"get a\x01"
       "b\r\n",
       "invalid get read wire=* args=[] error=CLIENT_ERROR bad command line format"},
      {"get a\tb\r\n",
       "invalid get read wire=* args=[] error=CLIENT_ERROR bad command line format"},
      {"get a\x7f\r\n",
       "invalid get read wire=* args=[] error=CLIENT_ERROR bad command line format"},
      {"get a\rb\r\n",
       "invalid get read wire=* args=[] error=CLIENT_ERROR bad command line format"},
      {"gets a\r\r\n",
       "invalid gets read wire=* args=[] error=CLIENT_ERROR bad command line format"},
      {"incr " + k251 + " 1\r\n",
       "invalid incr write wire=* args=[] error=CLIENT_ERROR bad command line format"},
      {"touch " + k251 + " 1\r\n",
       "invalid touch write wire=* args=[] error=CLIENT_ERROR bad command line format"},
      {"delete " + k251 + "\r\n",
       "invalid delete write wire=* args=[] error=CLIENT_ERROR bad command line format"},
      {"mg " + k251 + " v\r\n",
       "invalid mg read wire=* args=[] error=CLIENT_ERROR bad command line format"},
      // Others.
      {"gat x k\r\n",
       "invalid gat read wire=* args=[] error=CLIENT_ERROR invalid exptime argument"},
      {"gats 1.5 a b\r\n",
       "invalid gats read wire=* args=[] error=CLIENT_ERROR invalid exptime argument"},
      {"delete k 1\r\n",
       "invalid delete write wire=* args=[] error=CLIENT_ERROR bad command line format.  Usage: "
       "delete <key> [noreply]"},
      {"delete k x y\r\n",
       "invalid delete write wire=* args=[] error=CLIENT_ERROR bad command line format.  Usage: "
       "delete <key> [noreply]"},
      {"mg k v q\r\n",
       "invalid mg read wire=* args=[] error=CLIENT_ERROR quiet mode (q flag) is not supported by "
       "the proxy"},
      {"md k q\r\n",
       "invalid md write wire=* args=[] error=CLIENT_ERROR quiet mode (q flag) is not supported by "
       "the proxy"},
      {"ma k q N0\r\n",
       "invalid ma write wire=* args=[] error=CLIENT_ERROR quiet mode (q flag) is not supported by "
       "the proxy"},
      // Storage with a known data length: the data block is dropped with the line.
      {"set " + k251 + " 0 0 1\r\nx\r\n",
       "invalid set write wire=* args=[] error=CLIENT_ERROR bad command line format"},
      {"set k x 0 1\r\nx\r\n",
       "invalid set write wire=* args=[] error=CLIENT_ERROR bad command line format"},
      {"set k -1 0 1\r\nx\r\n",
       "invalid set write wire=* args=[] error=CLIENT_ERROR bad command line format"},
      {"add k 0 1x 1\r\nx\r\n",
       "invalid add write wire=* args=[] error=CLIENT_ERROR bad command line format"},
      {"cas k 0 0 1 -1\r\nx\r\n",
       "invalid cas write wire=* args=[] error=CLIENT_ERROR bad command line format"},
      {"cas k 0 0 1 18446744073709551616\r\nx\r\n",
       "invalid cas write wire=* args=[] error=CLIENT_ERROR bad command line format"},
      {"ms " + k251 + " 2\r\nhi\r\n",
       "invalid ms write wire=* args=[] error=CLIENT_ERROR bad command line format"},
      {"ms k 2 T0 q\r\nhi\r\n",
       "invalid ms write wire=* args=[] error=CLIENT_ERROR quiet mode (q flag) is not supported by "
       "the proxy"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::CEscape(c.wire));
    ExpectEverywhere({c, kNext});
  }
}

TEST(MemcacheRequestDecoderTest, NoreplyRequestsThatCannotBeServedGetNoReplyAtAll) {
  const std::string k251(251, 'a');
  // An empty error text: the codec's EncodeError appends nothing, as memcached stays silent.
  const std::vector<Case> cases = {
      {"set " + k251 + " 0 0 1 noreply\r\nx\r\n",
       "invalid set write wire=* noreply args=[] error="},
      {"cas k x 0 1 1 noreply\r\nx\r\n", "invalid cas write wire=* noreply args=[] error="},
      {"incr " + k251 + " 1 noreply\r\n", "invalid incr write wire=* noreply args=[] error="},
            {"delete k 1 noreply\r\n", "invalid delete write wire=* noreply args=[] error="},
      {"delete " + k251 + " noreply\r\n", "invalid delete write wire=* noreply args=[] error="},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::CEscape(c.wire));
    ExpectEverywhere({c, kNext});
  }
}

TEST(MemcacheRequestDecoderTest, KeysOfUpTo250BytesAreAccepted) {
  const std::string k250(250, 'k');
  ExpectEverywhere(
      {{"get " + k250 + "\r\n", "message get read wire=* args=[" + k250 + "]"},
       {"set " + k250 + " 0 0 1\r\nx\r\n", "message set write wire=* args=[" + k250 + "]"},
       {"mg " + k250 + " v\r\n", "message mg read wire=* args=[" + k250 + "]"}});
  DecoderLimits limits;
  limits.max_key_bytes = 8;
  ExpectEverywhere({{"get 12345678\r\n", "message get read wire=* args=[12345678]"},
                    {"get 123456789\r\n",
                     "invalid get read wire=* args=[] error=CLIENT_ERROR bad command line format"}},
                   limits);
}

TEST(MemcacheRequestDecoderTest, ProtocolErrorsHaveExactTextsAndAreSticky) {
  const std::vector<Case> cases = {
      // The data block's length cannot be known.
      {"set k 0 0\r\n", "CLIENT_ERROR bad command line format"},
      {"set k 0 0 x\r\nx\r\n", "CLIENT_ERROR bad command line format"},
      {"set k 0 0 -1\r\n", "CLIENT_ERROR bad command line format"},
      {"set k 0 0 2147483646\r\n", "CLIENT_ERROR bad command line format"},
      {"set k 0 0 1 noreply extra\r\nx\r\n", "CLIENT_ERROR bad command line format"},
      {"cas k 0 0 1\r\nx\r\n", "CLIENT_ERROR bad command line format"},
      {"set\r\n", "CLIENT_ERROR bad command line format"},
      {"ms k\r\nhi\r\n", "CLIENT_ERROR bad command line format"},
      {"ms k x\r\nhi\r\n", "CLIENT_ERROR bad command line format"},
      {"ms k S2\r\nhi\r\n", "CLIENT_ERROR bad command line format"},
      // Data blocks must be exactly <bytes> long and end in CRLF.
      {"set foo 0 0 3\r\nbarbaz\r\n", "CLIENT_ERROR bad data chunk"},
      {"set foo 0 0 3\r\nbar\n", "CLIENT_ERROR bad data chunk"},
      {"set foo 0 0 3\r\nbar\rx", "CLIENT_ERROR bad data chunk"},
      {"set foo 0 0 3 noreply\r\nba\r\n\r\n", "CLIENT_ERROR bad data chunk"},
      {"ms k 3\r\nhi\r\nxx", "CLIENT_ERROR bad data chunk"},
      {"set " + std::string(300, 'k') + " 0 0 1\r\nxx", "CLIENT_ERROR bad data chunk"},
      // Binary protocol and admin commands with noreply.
      {std::string("\x80\x00\x00\x03get", 7),
       "a binary-protocol request after ASCII requests; a connection speaks one protocol, "
       "chosen by its first byte"},
      {"flush_all noreply\r\n",
       "CLIENT_ERROR command 'flush_all' is not supported by the proxy, and with noreply the "
       "refusal can only be reported by closing the connection"},
      {"verbosity 1 noreply\r\n",
       "CLIENT_ERROR command 'verbosity' is not supported by the proxy, and with noreply the "
       "refusal can only be reported by closing the connection"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::CEscape(c.wire));
    ExpectEverywhere({{c.wire, "protocol-error error=" + c.expected}});
  }
}

TEST(MemcacheRequestDecoderTest, ErrorAfterGoodRequestsKeepsTheGoodOnes) {
  ExpectEverywhere({{"get a\r\n", "message get read wire=* args=[a]"},
                    {"mn\r\n", "message mn local wire=* args=[]"},
                    {"set k 0 0 1\r\nxy", "protocol-error error=CLIENT_ERROR bad data chunk"}});
}

TEST(MemcacheRequestDecoderTest, LinesOver2048BytesAreRefusedExceptGetAndGets) {
  // memcached 1.6.18 closes a connection that holds more than 2048 bytes without an LF (CR
  // included) unless they start a get/gets: 2048 bytes before the LF are fine, 2049 are not.
  const std::string with_cr = "version" + std::string(2047 - 7, ' ') + "\r\n";
  const std::string bare_lf = "version" + std::string(2048 - 7, ' ') + "\n";
  ASSERT_EQ(with_cr.size(), 2049u);
  ExpectEverywhere({{with_cr, "message version read wire=* synthetic args=[placeholder]"},
                    {bare_lf, "message version read wire=* synthetic args=[placeholder]"}});
  const std::string too_long = "version" + std::string(2048 - 7, ' ');  // 2048 bytes
  // 2048 bytes without an LF: the LF may still come.
  EXPECT_TRUE(DecodeRequests(too_long, Feeding{}).empty());
  for (const std::string& wire : {too_long + "\r\n", too_long + "x\n", too_long + "\r\r",
                                  too_long + "yy", "set " + std::string(3000, 'k')}) {
    SCOPED_TRACE(wire.size());
    ExpectEverywhere({{wire, "protocol-error error=CLIENT_ERROR line too long"}});
  }
  // Large multi-gets: memcached reads them too. 1,000 keys make a line of ~8 KB.
  for (const char* command : {"get", "gets"}) {
    std::string line = command;
    std::string args;
    for (int i = 0; i < 1000; ++i) {
      absl::StrAppend(&line, " key:", i);
      absl::StrAppend(&args, i == 0 ? "" : "|", "key:", i);
    }
    line += "\r\n";
    ExpectEverywhere({{line, absl::StrCat("message ", command, " multikey wire=* args=[", args,
                                          "]")},
                      kNext});
  }
  // ...but not gat/gats (finding 11: memcached closes the connection on them)...
  for (const char* command : {"gat 10", "gats 10"}) {
    std::string line = command;
    for (int i = 0; i < 1000; ++i) {
      absl::StrAppend(&line, " key:", i);
    }
    ExpectEverywhere({{line + "\r\n", "protocol-error error=CLIENT_ERROR line too long"}});
  }
  // ...and only when they start within memcached's 100 leading spaces.
  ExpectEverywhere({{std::string(101, ' ') + "get " + std::string(3000, 'k') + "\r\n",
                     "protocol-error error=CLIENT_ERROR line too long"}});
  ExpectEverywhere({{std::string(100, ' ') + "get " + std::string(3000, 'k') + "\r\n",
                     "invalid get read wire=* args=[] error=CLIENT_ERROR bad command line "
                     "format"},
                    kNext});
}

TEST(MemcacheRequestDecoderTest, LongMultiGetsAreCheckedLikeShortOnes) {
  // Control bytes, bad keys and too many keys in a line over 2048 bytes (the in-place path).
  std::string keys;
  for (int i = 0; i < 600; ++i) absl::StrAppend(&keys, " k", i);
  ExpectEverywhere({{"get" + keys + " a\x01" + "b\r\n",
                     "invalid get read wire=* args=[] error=CLIENT_ERROR bad command line format"},
                    {"gets" + keys + " " + std::string(251, 'x') + "\r\n",
                     "invalid gets read wire=* args=[] error=CLIENT_ERROR bad command line "
                     "format"},
                    kNext});
  ExpectEverywhere({{"get" + std::string(3000, ' ') + "\r\n", "invalid get read wire=* args=[] error=ERROR"},
                    kNext});
  DecoderLimits limits;
  limits.max_args = 600;
  ExpectEverywhere({{"get" + keys + "\r\n", "message get multikey wire=* args=[" +
                                                absl::StrReplaceAll(keys.substr(1), {{" ", "|"}}) +
                                                "]"},
                    {"get" + keys + " one_more\r\n",
                     "invalid get read wire=* args=[] error=too many keys in one request; the "
                     "proxy's limit is 600"},
                    kNext},
                   limits);
}

TEST(MemcacheRequestDecoderTest, ControlBytesInALineAreNeverForwarded) {
  // memcached cuts its line at a NUL (finding 1): "incr k 1 noreply\0" would be answered although
  // the proxy saw noreply, and the reverse. Every control byte but the CR before the LF is
  // refused, never forwarded:
  //   - only in the key token: memcached's answer to a bad key (silent with a clean noreply; a
  //     storage line's block skipped by its clean length);
  //   - anywhere else: "bad command line format"; when the line may carry a data block (its
  //     first token, control bytes left out, names set/add/.../cas/ms), error and close.
  const std::string bf = "CLIENT_ERROR bad command line format";
  const std::string ce = bf + ": control character in the command line";
  const std::vector<Case> keep_open = {
      {std::string("incr k 1 noreply\0\r\n", 19), "invalid incr write wire=* args=[] error=" + bf},
      {std::string("incr k 1\0 noreply\r\n", 19), "invalid incr write wire=* args=[] error=" + bf},
      {std::string("decr k 1 noreply\0\r\n", 19), "invalid decr write wire=* args=[] error=" + bf},
      {std::string("touch k 0\0 noreply\r\n", 20),
       "invalid touch write wire=* args=[] error=" + bf},
      {std::string("incr k\0 1 noreply\r\n", 19), "invalid incr write wire=* noreply args=[] error="},
      {std::string("delete k\0 noreply\r\n", 19),
       "invalid delete write wire=* noreply args=[] error="},
      {std::string("delete k\0\r\n", 11), "invalid delete write wire=* args=[] error=" + bf},
      {std::string("get a\0b\r\n", 9), "invalid get read wire=* args=[] error=" + bf},
      {"mg k\tv\r\n", "invalid mg read wire=* args=[] error=" + bf},
      {"mn\x7f\r\n", "invalid - read wire=* args=[] error=" + bf},
      {std::string("\0\r\n", 3), "invalid - read wire=* args=[] error=" + bf},
      {"version\x0b\r\n", "invalid - read wire=* args=[] error=" + bf},
      {"\x1bget k\r\n", "invalid - read wire=* args=[] error=" + bf},
      // Storage lines with a dirty key only: the block is skipped by its clean length.
      {std::string("set k\0 0 0 1\r\nx\r\n", 17), "invalid set write wire=* args=[] error=" + bf},
      {std::string("set k\0 0 0 1 noreply\r\nx\r\n", 25),
       "invalid set write wire=* noreply args=[] error="},
      {"ms k\x01 1 T0\r\nx\r\n", "invalid ms write wire=* args=[] error=" + bf},
  };
  for (const Case& c : keep_open) {
    SCOPED_TRACE(absl::CEscape(c.wire));
    ExpectEverywhere({c, kNext});
  }
  for (const std::string& wire :
       {std::string("set k 0 0 1 noreply\0\r\nx\r\n", 26), std::string("set k 0 0 1\0\r\nx\r\n", 17),
        std::string("cas k 0 0 1 1\0 noreply\r\nx\r\n", 28), std::string("s\0et k 0 0 1\r\n", 14),
        std::string("ms k 1 T1\0\r\nx\r\n", 15), std::string("append k 0 0\t1\r\nx\r\n"),
        std::string("\0prepend k 0 0 1\r\n", 18), std::string("add k 0\r0 1\r\nx\r\n"),
        std::string("set\0 k 0 0 1\r\nx\r\n", 17)}) {
    SCOPED_TRACE(absl::CEscape(wire));
    ExpectEverywhere({{wire, "protocol-error error=" + ce}});
  }
}

TEST(MemcacheRequestDecoderTest, MetaFlagsAreOnlyThoseMemcachedFramesLikeTheProxy) {
  auto flags = [](int n) {
    std::string out;
    for (int i = 0; i < n; ++i) absl::StrAppend(&out, " O", i);
    return out;
  };
  auto invalid = [](const char* command, const char* kind, absl::string_view text) {
    return absl::StrCat("invalid ", command, " ", kind, " wire=* args=[] error=", text);
  };
  const std::vector<Case> cases = {
      // memcached refuses more than 20 tokens (its count includes an empty last one) before it
      // reads ms's data length, then runs the data block as commands (finding 2). The proxy
      // allows 19 tokens: ms with 16 flags, the others with 17, and skips the block itself.
      {"ms k 9 T1" + flags(16) + "\r\nflush_all\r\n",
       invalid("ms", "write", "CLIENT_ERROR options flags are too long")},
      {"mg k T1" + flags(17) + "\r\n", invalid("mg", "read", "CLIENT_ERROR options flags are too long")},
      // Unknown letters, duplicates, values where none is taken, bad numbers and modes.
      {"ms k 2 Z\r\nhi\r\n", invalid("ms", "write", "CLIENT_ERROR invalid flag")},
      {"ms k 2 T1 T2\r\nhi\r\n", invalid("ms", "write", "CLIENT_ERROR duplicate flag")},
      {"ms k 2 Tx\r\nhi\r\n", invalid("ms", "write", "CLIENT_ERROR bad token in command line format")},
      {"ms k 2 T2147483648\r\nhi\r\n",
       invalid("ms", "write", "CLIENT_ERROR bad token in command line format")},
      {"ms k 2 F4294967296\r\nhi\r\n",
       invalid("ms", "write", "CLIENT_ERROR bad token in command line format")},
      {"ms k 2 Me\r\nhi\r\n", invalid("ms", "write", "CLIENT_ERROR bad token in command line format")},
      {"ms k 2 kx\r\nhi\r\n", invalid("ms", "write", "CLIENT_ERROR bad token in command line format")},
      {"ms k 2 \x80x\r\nhi\r\n", invalid("ms", "write", "CLIENT_ERROR invalid flag")},
      {"ms !!!! 2 b\r\nhi\r\n", invalid("ms", "write", "CLIENT_ERROR error decoding key")},
      {"mg k E1\r\n", invalid("mg", "read", "CLIENT_ERROR invalid flag")},
      {"mg k C1\r\n", invalid("mg", "read", "CLIENT_ERROR invalid flag")},
      {"mg k T\r\n", invalid("mg", "read", "CLIENT_ERROR bad token in command line format")},
      {"mg k O" + std::string(32, 'x') + "\r\n", invalid("mg", "read", "CLIENT_ERROR opaque token too long")},
      {"mg Zm8 b v\r\n", invalid("mg", "read", "CLIENT_ERROR error decoding key")},
      {"mg Zm8=x b\r\n", invalid("mg", "read", "CLIENT_ERROR error decoding key")},
      {"md k x\r\n", invalid("md", "write", "CLIENT_ERROR invalid flag")},
      {"ma k Mi\r\n", invalid("ma", "write", "CLIENT_ERROR bad token in command line format")},
      {"ma k D-1\r\n", invalid("ma", "write", "CLIENT_ERROR bad token in command line format")},
      {"me k v\r\n", invalid("me", "read", "CLIENT_ERROR bad command line format")},
      {"me !!!! b\r\n", invalid("me", "read", "CLIENT_ERROR bad command line format")},
      {"me k b x\r\n", invalid("me", "read", "CLIENT_ERROR bad command line format")},
      // Accepted: what memcached certainly parses as the proxy does.
      // Duplicates are refused, so a line of distinct flags stays below the token limit.
      {"ms k 2 T1" + flags(15) + "\r\nhi\r\n", invalid("ms", "write", "CLIENT_ERROR duplicate flag")},
      {"ms Zm9v 2 b c C0 F4294967295 I k O" + std::string(31, 'o') + " s T-2147483648 MS N5\r\nhi\r\n",
       "message ms write wire=* args=[Zm9v]"},
      {"ms Zm8= 2 b\r\nhi\r\n", "message ms write wire=* args=[Zm8=]"},
      {"mg Zm9v b c f h k l O s t u v N30 R30 T30\r\n",
       "message mg read wire=* args=[Zm9v]"},
      {"md k C1 I k O1 T1\r\n", "message md write wire=* args=[k]"},
      {"ma k c C1 D18446744073709551615 J0 k M- N0 O t T1 v\r\n", "message ma write wire=* args=[k]"},
      {"me Zm9v b\r\n", "message me read wire=* args=[Zm9v]"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::CEscape(c.wire));
    ExpectEverywhere({c, kNext});
  }
}

TEST(MemcacheRequestDecoderTest, StorageNumbersAreOnlyThoseMemcachedCertainlyAccepts) {
  // memcached refuses a bad flags/exptime/cas number without reading the data block: the proxy
  // forwards only numbers memcached accepts (32-bit flags and exptime) and skips the block of
  // the others itself.
  const std::string bad = "CLIENT_ERROR bad command line format";
  const std::vector<Case> cases = {
      {"set k 4294967296 0 1\r\nx\r\n", "invalid set write wire=* args=[] error=" + bad},
      {"set k 0 2147483648 1\r\nx\r\n", "invalid set write wire=* args=[] error=" + bad},
      {"set k 0 -2147483649 1\r\nx\r\n", "invalid set write wire=* args=[] error=" + bad},
      {"set k -0 0 1\r\nx\r\n", "invalid set write wire=* args=[] error=" + bad},
      {"set k 0 0x10 1\r\nx\r\n", "invalid set write wire=* args=[] error=" + bad},
      {"add k 4294967296 0 1 noreply\r\nx\r\n",
       "invalid add write wire=* noreply args=[] error="},
      {"set k 4294967295 2147483647 1\r\nx\r\n", "message set write wire=* args=[k]"},
      {"set k +5 -2147483648 01\r\nx\r\n", "message set write wire=* args=[k]"},
      {"cas k 0 0 1 18446744073709551615\r\nx\r\n", "message cas write wire=* args=[k]"},
      {"gat 2147483648 a b\r\n",
       "invalid gat read wire=* args=[] error=CLIENT_ERROR invalid exptime argument"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::CEscape(c.wire));
    ExpectEverywhere({c, kNext});
  }
}

TEST(MemcacheRequestDecoderTest, MultiGetLinesAndKeyCountsAreBounded) {
  DecoderLimits limits;
  limits.max_message_bytes = 4096;
  limits.max_args = 3;
  ExpectEverywhere({{"get a b c\r\n", "message get multikey wire=* args=[a|b|c]"},
                    {"get a b c d\r\n",
                     "invalid get read wire=* args=[] error=too many keys in one request; the proxy's "
                     "limit is 3"},
                    kNext},
                   limits);
  std::string line = "get";
  while (line.size() < 5000) {
    line += " key";
  }
  for (const std::string& wire : {line, line + "\r\n"}) {
    ExpectEverywhere({{wire,
                       "protocol-error error=request line exceeds the proxy's limit of 4096 "
                       "bytes"}},
                     limits);
  }
}

TEST(MemcacheRequestDecoderTest, ValuesOverTheLimitAreRefusedBeforeTheyArrive) {
  DecoderLimits limits;
  limits.max_message_bytes = 1000;
  ExpectEverywhere(
      {{"set k 0 0 1000\r\n" + std::string(1000, 'v') + "\r\n",
        "message set write wire=* args=[k]"},
       {"set k 0 0 1001\r\n",
        "protocol-error error=object too large for the proxy: 1001 bytes, limit 1000"}},
      limits);
  ExpectEverywhere({{"ms k 5000 T0\r\n",
                     "protocol-error error=object too large for the proxy: 5000 bytes, "
                     "limit 1000"}},
                   limits);
}

TEST(MemcacheRequestDecoderTest, OneMebibyteValueUnderEveryFeeding) {
  const std::string data(1 << 20, 'x');
  ExpectEverywhere(
      {{"set big 0 0 1048576\r\n" + data + "\r\n", "message set write wire=* args=[big]"},
       {"ms big 1048576 T0\r\n" + data + "\r\n", "message ms write wire=* args=[big]"},
       kNext});
}

TEST(MemcacheRequestDecoderTest, HundredMebibyteValueIsSkippedByLengthNotScanned) {
  constexpr size_t kSize = 100u << 20;
  const std::string line = absl::StrCat("set huge 1 0 ", kSize, "\r\n");
  VirtualBuffer buffer(line, kSize, "\r\nget after\r\n");
  MemcacheRequestDecoder decoder{DecoderLimits()};
  Request request;
  std::string error;
  // Arrives in 7 MiB steps (a socket read is smaller still; the decoder keeps its position).
  size_t visible = 0;
  DecodeResult result = DecodeResult::kNeedMoreData;
  while (result == DecodeResult::kNeedMoreData && visible < buffer.total()) {
    visible += 7u << 20;
    buffer.set_visible(visible);
    result = decoder.Decode(buffer, &request, &error);
  }
  ASSERT_EQ(result, DecodeResult::kMessage) << error;
  EXPECT_EQ(request.command, "set");
  EXPECT_EQ(request.wire_size, line.size() + kSize + 2);
  ASSERT_EQ(request.args.size(), 1u);
  EXPECT_EQ(request.args[0], "huge");
  // Only the views of one peek window next to the line were handed out (the search for the
  // line's end stops at its LF); the block itself was skipped by arithmetic.
  EXPECT_LE(buffer.filler_bytes_read(), 16u << 10);
  buffer.Drain(request.wire_size);
  ASSERT_EQ(decoder.Decode(buffer, &request, &error), DecodeResult::kMessage);
  EXPECT_EQ(request.args[0], "after");
}

}  // namespace
}  // namespace proxy::protocols::memcache::test

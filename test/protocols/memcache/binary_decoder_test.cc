// Tests of the memcache binary request and reply decoders: every request form and every header
// error under every feeding (all at once, byte by byte, every 2-way split, small chunks), quiet
// batches and how they end, limits.
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "protocols/memcache/binary_reply_decoder.h"
#include "protocols/memcache/binary_request_decoder.h"
#include "test/fakes/decoder_feeding.h"
#include "test/protocols/memcache/binary_wire.h"

namespace proxy::protocols::memcache::test {
namespace {

using ::proxy::test::AllFeedings;
using ::proxy::test::FeedDecoder;
using ::proxy::test::Feeding;
using ::proxy::test::FeedingName;
using ::proxy::test::KindName;
using ::proxy::test::ResultName;

// "<result> <command> <kind> wire=<n> op=<hex> opaque=<hex> [batch] [noop] [status=<hex>]
//  args=[a|b] [ops=<hex>]" plus " error=<text>" for kInvalidRequest; protocol errors:
// "protocol-error op=<hex> opaque=<hex> error=<text>".
std::string Describe(DecodeResult result, const Request& r, const std::string& error) {
  if (result == DecodeResult::kProtocolError) {
    return absl::StrCat(ResultName(result), " op=", absl::Hex(r.command_id),
                        " opaque=", absl::Hex(r.codec_tag), " error=", error);
  }
  std::vector<std::string> args;
  for (size_t i = 0; i < r.args.size(); ++i) args.emplace_back(r.args[i]);
  std::string line = absl::StrCat(ResultName(result), " ", r.command, " ", KindName(r.kind),
                                  " wire=", r.wire_size, " op=", absl::Hex(r.command_id),
                                  " opaque=", absl::Hex(r.codec_tag));
  if ((r.codec_flags & binary_flags::kBinary) == 0) line += " NOT-BINARY";
  if (r.codec_flags & binary_flags::kBatch) line += " batch";
  if (r.codec_flags & binary_flags::kClientNoop) line += " noop";
  if (r.codec_flags & binary_flags::kStatusHint) {
    absl::StrAppend(&line, " status=", absl::Hex(r.codec_flags & binary_flags::kStatusMask));
  }
  if (r.is_write) line += " write";
  if (!r.expects_reply) line += " noreply";
  absl::StrAppend(&line, " args=[", absl::StrJoin(args, "|"), "]");
  if (!r.rewritten.empty()) absl::StrAppend(&line, " ops=", absl::BytesToHexString(r.rewritten));
  if (result == DecodeResult::kInvalidRequest) absl::StrAppend(&line, " error=", error);
  return line;
}

std::string DescribeReply(DecodeResult result, const Reply& reply, const std::string& error) {
  if (result == DecodeResult::kProtocolError) {
    return absl::StrCat(ResultName(result), " error=", error);
  }
  return absl::StrCat(ResultName(result), " wire=", reply.wire_size,
                      reply.is_error ? " error" : "");
}

void PoisonRequest(Request* r) {
  r->wire_size = 12345;
  r->kind = CommandKind::kLocal;
  r->args.Add("stale");
  r->rewritten = "stale";
  r->codec_flags = 0x0fff;
  r->codec_tag = 0xdead;
  r->command_id = 0xbeef;
  r->expects_reply = false;
}

struct Case {
  std::string wire;
  // "wire=*" stands for the size of `wire`.
  std::string expected;
};

std::vector<std::string> DecodeAll(absl::string_view wire, const Feeding& feeding,
                                   const DecoderLimits& limits) {
  BinaryRequestDecoder decoder(limits);
  return FeedDecoder<BinaryRequestDecoder, Request>(decoder, wire, feeding, Describe,
                                                     PoisonRequest);
}

void ExpectEverywhere(const std::vector<Case>& pieces,
                      const DecoderLimits& limits = DecoderLimits()) {
  std::string wire;
  std::vector<std::string> expected;
  for (const Case& piece : pieces) {
    wire += piece.wire;
    if (piece.expected.empty()) continue;  // part of the next line's message
    expected.push_back(absl::StrReplaceAll(piece.expected,
                                           {{"wire=*", absl::StrCat("wire=", piece.wire.size())}}));
  }
  for (const Feeding& feeding : AllFeedings(wire.size())) {
    ASSERT_EQ(DecodeAll(wire, feeding, limits), expected)
        << FeedingName(feeding) << " for " << absl::BytesToHexString(wire);
  }
}

std::vector<std::string> DecodeReplies(absl::string_view wire, const Feeding& feeding,
                                       const DecoderLimits& limits) {
  BinaryReplyDecoder decoder(limits);
  return FeedDecoder<BinaryReplyDecoder, Reply>(decoder, wire, feeding, DescribeReply,
                                                [](Reply* r) {
                                                  r->wire_size = 12345;
                                                  r->is_error = true;
                                                });
}

void ExpectRepliesEverywhere(const std::vector<Case>& pieces,
                             const DecoderLimits& limits = DecoderLimits()) {
  std::string wire;
  std::vector<std::string> expected;
  for (const Case& piece : pieces) {
    wire += piece.wire;
    if (piece.expected.empty()) continue;
    expected.push_back(absl::StrReplaceAll(piece.expected,
                                           {{"wire=*", absl::StrCat("wire=", piece.wire.size())}}));
  }
  for (const Feeding& feeding : AllFeedings(wire.size())) {
    ASSERT_EQ(DecodeReplies(wire, feeding, limits), expected)
        << FeedingName(feeding) << " for " << absl::BytesToHexString(wire);
  }
}

const Case kNext = {Get(0x00, "next", 0x77), "message get read wire=* op=0 opaque=77 args=[next]"};

TEST(BinaryRequestDecoderTest, EverySupportedRequestUnderEveryFeeding) {
  Msg incr;
  incr.opcode = 0x05;
  incr.key = "n";
  incr.extras = IncrExtras(5, 10, 0);
  incr.opaque = 9;
  Msg decr = incr;
  decr.opcode = 0x06;
  Msg append;
  append.opcode = 0x0e;
  append.key = "k";
  append.value = "tail";
  Msg del;
  del.opcode = 0x04;
  del.key = "gone";
  del.cas = 77;
  Msg vbucket;  // memcached ignores the vbucket field: forwarded as received
  vbucket.opcode = 0x00;
  vbucket.key = "v";
  vbucket.status = 0x1234;
  ExpectEverywhere({
      {Get(0x00, "foo", 0x01020304), "message get read wire=* op=0 opaque=1020304 args=[foo]"},
      {Get(0x0c, "foo", 2), "message getk read wire=* op=c opaque=2 args=[foo]"},
      {Get(0x1d, "foo", 3), "message gat read wire=* op=1d opaque=3 args=[foo]"},
      {Get(0x23, "foo", 3), "message gatk read wire=* op=23 opaque=3 args=[foo]"},
      {Get(0x1c, "foo", 4), "message touch write wire=* op=1c opaque=4 write args=[foo]"},
      {Set("k", "value", 5), "message set write wire=* op=1 opaque=5 write args=[k]"},
      {Set("k", "", 5, 7, 0x02), "message add write wire=* op=2 opaque=5 write args=[k]"},
      {Set("k", "v", 6, 0, 0x03, 99), "message replace write wire=* op=3 opaque=6 write args=[k]"},
      {Encode(append), "message append write wire=* op=e opaque=0 write args=[k]"},
      {Encode(del), "message delete write wire=* op=4 opaque=0 write args=[gone]"},
      {Encode(incr), "message incr write wire=* op=5 opaque=9 write args=[n]"},
      {Encode(decr), "message decr write wire=* op=6 opaque=9 write args=[n]"},
      {Encode(vbucket), "message get read wire=* op=0 opaque=0 args=[v]"},
      {Set(std::string(250, 'k'), "x", 1), absl::StrCat("message set write wire=* op=1 opaque=1 "
                                                        "write args=[", std::string(250, 'k'),
                                                        "]")},
      // Binary keys are length-framed: any byte is fine.
      {Get(0x00, std::string("a\r\n \0b", 6), 1),
       absl::StrCat("message get read wire=* op=0 opaque=1 args=[", std::string("a\r\n \0b", 6),
                    "]")},
      kNext,
  });
}

TEST(BinaryRequestDecoderTest, LocalAndRefusedRequests) {
  Msg flush;
  flush.opcode = 0x08;
  flush.extras = Extras32(0);
  Msg stat;
  stat.opcode = 0x10;
  stat.key = "items";
  Msg setq;
  setq.opcode = 0x11;
  setq.key = "k";
  setq.extras = Extras32x2(0, 0);
  setq.value = "v";
  Msg sasl;
  sasl.opcode = 0x21;
  sasl.key = "PLAIN";
  sasl.value = std::string("\0u\0p", 4);
  ExpectEverywhere({
      {Noop(1), "message noop local wire=* op=a opaque=1 args=[]"},
      {Simple(0x0b, 2), "message version local wire=* op=b opaque=2 args=[]"},
      {Encode(flush), "message flush unsupported wire=* op=8 opaque=0 write args=[]"},
      {Encode(stat), "message stat unsupported wire=* op=10 opaque=0 args=[]"},
      {Encode(setq), "message setq unsupported wire=* op=11 opaque=0 write args=[]"},
      {Encode(sasl), "message sasl_auth unsupported wire=* op=21 opaque=0 args=[]"},
      {Simple(0x1b, 3), "message verbosity unsupported wire=* op=1b opaque=3 args=[]"},
      {Simple(0x17, 4), "message quitq local wire=* op=17 opaque=4 args=[]"},
      {Simple(0x07, 5), "message quit local wire=* op=7 opaque=5 args=[]"},
      kNext,
  });
}

TEST(BinaryRequestDecoderTest, UnknownOpcodesAndDataTypesAreSkippedWithAnError) {
  Msg unknown;
  unknown.opcode = 0x55;
  unknown.value = "whatever";
  unknown.opaque = 0xabc;
  Msg typed;
  typed.opcode = 0x00;
  typed.key = "k";
  typed.data_type = 1;
  ExpectEverywhere({
      {Encode(unknown),
       "invalid unknown read wire=* op=55 opaque=abc status=81 args=[] error=Unknown command "
       "(opcode 0x55)"},
      kNext,
      {Encode(typed),
       "invalid get read wire=* op=0 opaque=0 status=4 args=[] error=invalid data type 0x1 "
       "(only 0, raw bytes, is defined)"},
      kNext,
  });
}

TEST(BinaryRequestDecoderTest, QuietBatchEndingWithNoopIsOneRequest) {
  const std::string batch = Get(0x0d, "k1", 1) + Get(0x09, "k2", 2) + Get(0x1e, "k3", 3) +
                            Get(0x24, "k1", 4) + Noop(0xfeed);
  ExpectEverywhere({
      {batch,
       "message getkq multikey wire=* op=a opaque=feed batch noop args=[k1|k2|k3|k1] "
       "ops=0d0000000109000000021e00000003000000642400000004" "00000064"},
      kNext,
      // A batch of one key.
      {Get(0x09, "solo", 0x10) + Noop(0x11),
       "message getq multikey wire=* op=a opaque=11 batch noop args=[solo] ops=0900000010"},
      kNext,
  });
}

TEST(BinaryRequestDecoderTest, QuietBatchEndingWithAnotherRequestLeavesItForTheNextCall) {
  ExpectEverywhere({
      {Get(0x09, "a", 1) + Get(0x09, "b", 2),
       "message getq multikey wire=* op=9 opaque=1 batch args=[a|b] ops=09000000010900000002"},
      {Get(0x00, "c", 3), "message get read wire=* op=0 opaque=3 args=[c]"},
      {Get(0x0d, "d", 4),
       "message getkq multikey wire=* op=d opaque=4 batch args=[d] ops=0d00000004"},
      {Set("e", "v", 5), "message set write wire=* op=1 opaque=5 write args=[e]"},
      {Get(0x0d, "f", 6),
       "message getkq multikey wire=* op=d opaque=6 batch args=[f] ops=0d00000006"},
      {Simple(0x08, 7), "message flush unsupported wire=* op=8 opaque=7 write args=[]"},
      {Get(0x0d, "g", 8),
       "message getkq multikey wire=* op=d opaque=8 batch args=[g] ops=0d00000008"},
      {Simple(0x0b, 9), "message version local wire=* op=b opaque=9 args=[]"},
  });
  // A noop that is not a valid noop (it has a key) ends the batch and is then a protocol error.
  Msg bad_noop;
  bad_noop.opcode = 0x0a;
  bad_noop.key = "x";
  ExpectEverywhere({
      {Get(0x09, "a", 1),
       "message getq multikey wire=* op=9 opaque=1 batch args=[a] ops=0900000001"},
      {Encode(bad_noop), "protocol-error op=a opaque=0 error=binary protocol error: 'noop' takes "
                         "no key"},
  });
  // A bad magic after a batch: the batch first, then the protocol error.
  ExpectEverywhere({
      {Get(0x09, "a", 1),
       "message getq multikey wire=* op=9 opaque=1 batch args=[a] ops=0900000001"},
      {std::string(24, 'x'),
       "protocol-error op=78 opaque=78787878 error=binary protocol error: bad magic byte 0x78 (a "
       "request starts with 0x80)"},
  });
}

TEST(BinaryRequestDecoderTest, QuietBatchesAreCutAtTheLimits) {
  DecoderLimits limits;
  limits.max_args = 2;
  ExpectEverywhere({
                       {Get(0x09, "a", 1) + Get(0x09, "b", 2),
                        "message getq multikey wire=* op=9 opaque=1 batch args=[a|b] "
                        "ops=09000000010900000002"},
                       {Get(0x09, "c", 3) + Noop(4),
                        "message getq multikey wire=* op=a opaque=4 batch noop args=[c] "
                        "ops=0900000003"},
                   },
                   limits);
  limits = DecoderLimits();
  limits.max_message_bytes = 60;  // two 25-byte getq fit, a third does not
  ExpectEverywhere({
                       {Get(0x09, "a", 1) + Get(0x09, "b", 2),
                        "message getq multikey wire=* op=9 opaque=1 batch args=[a|b] "
                        "ops=09000000010900000002"},
                       {Get(0x09, "c", 3) + Noop(4),
                        "message getq multikey wire=* op=a opaque=4 batch noop args=[c] "
                        "ops=0900000003"},
                   },
                   limits);
}

TEST(BinaryRequestDecoderTest, HeadersMemcachedWouldCloseOnAreProtocolErrors) {
  struct Bad {
    const char* what;
    Msg msg;
    std::string error;
  };
  std::vector<Bad> cases;
  auto add = [&](const char* what, Msg m, std::string error) {
    cases.push_back(Bad{what, std::move(m), std::move(error)});
  };
  Msg m;
  m.opcode = 0x00;
  m.key = "k";
  {
    Msg b = m;
    b.magic = 0x81;
    add("response magic", b,
        "binary protocol error: bad magic byte 0x81 (a request starts with 0x80)");
  }
  {
    Msg b = m;
    b.key_length = 5;
    add("key over the body", b,
        "binary protocol error: key length 5 + extras length 0 exceed the body length 1");
  }
  {
    Msg b = m;
    b.extras = Extras32(1);
    add("get with extras", b, "binary protocol error: 'get' takes 0 bytes of extras, not 4");
  }
  {
    Msg b = m;
    b.value = "v";
    add("get with a value", b,
        "binary protocol error: 'get' takes no value (body of 2 bytes, extras and key 1)");
  }
  {
    Msg b = m;
    b.key = "";
    add("get without a key", b, "binary protocol error: 'get' without a key");
  }
  {
    Msg b = m;
    b.opcode = 0x1c;  // memcached itself does not check touch's body length: it would read the
    b.extras = Extras32(0);  // surplus as the next request
    b.value = std::string(24, 'x');
    add("touch with a surplus body", b,
        "binary protocol error: 'touch' takes no value (body of 29 bytes, extras and key 5)");
  }
  {
    Msg b = m;
    b.opcode = 0x01;
    b.extras = Extras32(0);
    add("set with 4 bytes of extras", b,
        "binary protocol error: 'set' takes 8 bytes of extras, not 4");
  }
  {
    Msg b = m;
    b.opcode = 0x05;
    b.extras = Extras32x2(0, 0);
    add("incr with 8 bytes of extras", b,
        "binary protocol error: 'incr' takes 20 bytes of extras, not 8");
  }
  {
    Msg b;
    b.opcode = 0x0a;
    b.value = "x";
    add("noop with a body", b,
        "binary protocol error: 'noop' takes no value (body of 1 bytes, extras and key 0)");
  }
  {
    Msg b;
    b.opcode = 0x08;
    b.key = std::string(251, 'k');
    add("any opcode with a key over 250 bytes", b,
        "binary protocol error: key of 251 bytes (at most 250)");
  }
  for (const Bad& bad : cases) {
    SCOPED_TRACE(bad.what);
    ExpectEverywhere({
        kNext,
        {Encode(bad.msg) + Get(0x00, "after", 1),
         absl::StrCat("protocol-error op=", absl::Hex(bad.msg.opcode), " opaque=0 error=",
                      bad.error)},
    });
  }
}

TEST(BinaryRequestDecoderTest, RequestsOverTheLimitAreRefusedFromTheHeader) {
  DecoderLimits limits;
  limits.max_message_bytes = 1024;
  Msg big;
  big.opcode = 0x01;
  big.key = "k";
  big.extras = Extras32x2(0, 0);
  big.body_length = 2000000000;  // the body never comes: refused from the header alone
  std::string wire = Encode(big);
  ExpectEverywhere(
      {
          {wire, "protocol-error op=1 opaque=0 error=binary protocol error: request of "
                 "2000000024 bytes exceeds the proxy's limit of 1024 bytes"},
      },
      limits);
  // Whatever --max-request-bytes allows, memcached's int value length bounds the body.
  limits.max_message_bytes = 4294967295u;
  big.body_length = 2147483646;
  ExpectEverywhere({{Encode(big), "protocol-error op=1 opaque=0 error=binary protocol error: "
                                  "body of 2147483646 bytes (memcached takes at most "
                                  "2147483645)"}},
                   limits);
  limits.max_message_bytes = 1024;
  // At the limit it is fine.
  ExpectEverywhere({{Set("k", std::string(1024 - 24 - 9, 'v'), 1),
                     "message set write wire=* op=1 opaque=1 write args=[k]"}},
                   limits);
}

TEST(BinaryReplyDecoderTest, ResponsesAndQuietBatchesUnderEveryFeeding) {
  ExpectRepliesEverywhere({
      {Response(0x01, 0, "", 1), "message wire=*"},
      {Hit(0x00, "", "value", 2), "message wire=*"},
      {Response(0x00, 0x0001, "Not found", 3), "message wire=*"},
      {Response(0x02, 0x0002, "Data exists for key.", 3), "message wire=*"},
      {Response(0x05, 0x0006, "Non-numeric server-side value for incr or decr", 3),
       "message wire=* error"},
      {Response(0x55, 0x0081, "Unknown command", 3), "message wire=* error"},
      // A batch: hits (getq, getkq, gatq, gatkq) up to the noop are one reply.
      {Hit(0x0d, "k1", "v1", 1) + Hit(0x09, "", "v2", 2) + Hit(0x1e, "", "v3", 3) +
           Hit(0x24, "k4", "v4", 4) + Response(0x0a, 0, "", 5),
       "message wire=*"},
      {Response(0x0a, 0, "", 6), "message wire=*"},
      {Response(0x0b, 0, "1.6.18", 7), "message wire=*"},
  });
}

TEST(BinaryReplyDecoderTest, MalformedResponsesCloseTheConnection) {
  Msg over;
  over.magic = 0x81;
  over.key_length = 9;
  Msg typed;
  typed.magic = 0x81;
  typed.data_type = 2;
  ExpectRepliesEverywhere({
      {Response(0x01, 0, "", 1), "message wire=*"},
      {Set("k", "v", 1), "protocol-error error=binary reply with magic byte 0x80 (a response "
                         "starts with 0x81)"},
  });
  ExpectRepliesEverywhere({
      {Encode(over), "protocol-error error=binary reply with key length 9 + extras length 0 over "
                     "its body length 0"},
  });
  ExpectRepliesEverywhere({
      {Encode(typed), "protocol-error error=binary reply with data type 0x2"},
  });
  DecoderLimits limits;
  limits.max_message_bytes = 100;
  ExpectRepliesEverywhere(
      {
          {Hit(0x09, "", std::string(40, 'v'), 1) + Hit(0x09, "", std::string(40, 'v'), 2),
           "protocol-error error=reply exceeds the proxy's limit of 100 bytes"},
      },
      limits);
}

}  // namespace
}  // namespace proxy::protocols::memcache::test

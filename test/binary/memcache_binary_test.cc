// The memcache binary protocol end to end: raw binary requests through the real //:proxy to
// three real memcached servers (set/get/getk, quiet multi-gets split across servers, incr/decr,
// delete, touch/gat, version, noop, quit, refusals, protocol errors), with an ASCII client on
// the same port at the same time. The first test checks the wire format the others rely on
// against memcached directly, without the proxy.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"
#include "test/protocols/memcache/binary_wire.h"

namespace proxy::test {
namespace {

namespace wire = ::proxy::protocols::memcache::test;
using std::chrono::milliseconds;
using wire::Msg;

// A response with the cas left out (it differs from server to server).
struct Resp {
  uint8_t magic = 0;
  uint8_t opcode = 0;
  uint16_t status = 0;
  uint32_t opaque = 0;
  std::string extras;
  std::string key;
  std::string value;
  uint64_t cas = 0;
  bool ok = false;  // a whole response arrived

  std::string Show() const {
    if (!ok) return "(no response)";
    return absl::StrCat("magic=", absl::Hex(magic), " op=", absl::Hex(opcode),
                        " status=", absl::Hex(status), " opaque=", absl::Hex(opaque),
                        " extras=", absl::BytesToHexString(extras), " key=", key,
                        " value=", absl::CHexEscape(value));
  }
};

uint64_t BE(absl::string_view bytes) {
  uint64_t v = 0;
  for (const char c : bytes) v = v << 8 | static_cast<uint8_t>(c);
  return v;
}

Resp ReadResp(Client& client) {
  Resp r;
  const std::string header = client.ReadExactly(24);
  if (header.size() != 24) return r;
  r.magic = static_cast<uint8_t>(header[0]);
  r.opcode = static_cast<uint8_t>(header[1]);
  const size_t key_length = BE(header.substr(2, 2));
  const size_t extras_length = static_cast<uint8_t>(header[4]);
  r.status = static_cast<uint16_t>(BE(header.substr(6, 2)));
  const size_t body = BE(header.substr(8, 4));
  r.opaque = static_cast<uint32_t>(BE(header.substr(12, 4)));
  r.cas = BE(header.substr(16, 8));
  const std::string rest = client.ReadExactly(body);
  if (rest.size() != body || key_length + extras_length > body) return r;
  r.extras = rest.substr(0, extras_length);
  r.key = rest.substr(extras_length, key_length);
  r.value = rest.substr(extras_length + key_length);
  r.ok = true;
  return r;
}

// Expected response fields (what the tests compare).
std::string Expect(uint8_t opcode, uint16_t status, uint32_t opaque, absl::string_view extras,
                   absl::string_view key, absl::string_view value) {
  Resp r;
  r.ok = true;
  r.magic = 0x81;
  r.opcode = opcode;
  r.status = status;
  r.opaque = opaque;
  r.extras = std::string(extras);
  r.key = std::string(key);
  r.value = std::string(value);
  return r.Show();
}

std::string Flags(uint32_t flags) { return wire::Extras32(flags); }

std::string Incr(uint8_t opcode, absl::string_view key, uint64_t delta, uint64_t initial,
                 uint32_t opaque) {
  Msg m;
  m.opcode = opcode;
  m.key = std::string(key);
  m.extras = wire::IncrExtras(delta, initial, 0);
  m.opaque = opaque;
  return wire::Encode(m);
}

std::string Delete(absl::string_view key, uint32_t opaque) {
  Msg m;
  m.opcode = 0x04;
  m.key = std::string(key);
  m.opaque = opaque;
  return wire::Encode(m);
}

std::string Counter(uint64_t value) {
  std::string s;
  wire::PutBE(value, 8, &s);
  return s;
}

Resp Roundtrip(Client& client, absl::string_view bytes) {
  if (!client.Send(bytes)) return Resp();
  return ReadResp(client);
}

class MemcacheBinary : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(FindExecutable("memcached").empty()) << "apt-get install memcached";
    for (int i = 0; i < 3; ++i) {
      servers_.push_back(std::make_unique<MemcachedServer>());
      ASSERT_TRUE(servers_.back()->ok());
    }
    port_ = FreePort();
    // md5: twemproxy's fnv1a_64 (32 bits of it) puts short keys like "mk1" ... "mk39" on one
    // ketama point range; the multi-get test needs keys on every server.
    std::string yaml = absl::StrCat("alpha:\n  listen: 127.0.0.1:", port_,
                                    "\n  hash: md5\n  distribution: ketama\n"
                                    "  timeout: 3000\n", PoolExtras(), "  servers:\n");
    for (const auto& server : servers_) {
      absl::StrAppend(&yaml, "   - 127.0.0.1:", server->port(), ":1\n");
    }
    proxy_ = std::make_unique<ProxyProcess>(yaml, std::vector<int>{port_});
    ASSERT_TRUE(proxy_->ok()) << proxy_->Log();
  }

  // More pool settings (YAML lines), e.g. a filter chain.
  virtual std::string PoolExtras() const { return ""; }

  std::unique_ptr<Client> Connect() {
    auto client = std::make_unique<Client>(port_, milliseconds(5000));
    EXPECT_TRUE(client->connected());
    return client;
  }

  // Which backend holds `key` (ASCII get on each, directly); -1 when none.
  int Locate(absl::string_view key) {
    for (size_t i = 0; i < servers_.size(); ++i) {
      Client direct(servers_[i]->port(), milliseconds(5000));
      if (!direct.Send(absl::StrCat("get ", key, "\r\n"))) continue;
      if (direct.ReadMemcacheReply() != "END\r\n") return static_cast<int>(i);
    }
    return -1;
  }

  std::vector<std::unique_ptr<MemcachedServer>> servers_;
  int port_ = 0;
  std::unique_ptr<ProxyProcess> proxy_;
};

// The bytes the other tests expect, checked against memcached itself (no proxy).
TEST_F(MemcacheBinary, WireFormatOfMemcachedItself) {
  Client direct(servers_[0]->port(), milliseconds(5000));
  ASSERT_TRUE(direct.connected());
  EXPECT_EQ(Roundtrip(direct, wire::Set("k1", "v1", 0x11, 5)).Show(),
            Expect(0x01, 0, 0x11, "", "", ""));
  EXPECT_EQ(Roundtrip(direct, wire::Get(0x00, "k1", 0x12)).Show(),
            Expect(0x00, 0, 0x12, Flags(5), "", "v1"));
  EXPECT_EQ(Roundtrip(direct, wire::Get(0x0c, "nope", 0x13)).Show(),
            Expect(0x0c, 1, 0x13, "", "nope", ""));
  EXPECT_EQ(Roundtrip(direct, wire::Get(0x00, "nope", 0x14)).Show(),
            Expect(0x00, 1, 0x14, "", "", "Not found"));
  // A quiet batch: hits only, then the noop.
  ASSERT_TRUE(direct.Send(wire::Get(0x0d, "k1", 1) + wire::Get(0x0d, "nope", 2) +
                          wire::Get(0x09, "k1", 3) + wire::Noop(4)));
  EXPECT_EQ(ReadResp(direct).Show(), Expect(0x0d, 0, 1, Flags(5), "k1", "v1"));
  EXPECT_EQ(ReadResp(direct).Show(), Expect(0x09, 0, 3, Flags(5), "", "v1"));
  EXPECT_EQ(ReadResp(direct).Show(), Expect(0x0a, 0, 4, "", "", ""));
  EXPECT_EQ(Roundtrip(direct, Incr(0x05, "n", 5, 10, 5)).Show(),
            Expect(0x05, 0, 5, "", "", Counter(10)));
  EXPECT_EQ(Roundtrip(direct, wire::Get(0x1c, "k1", 6)).Show(),
            Expect(0x1c, 0, 6, Flags(5), "", ""));
  EXPECT_EQ(Roundtrip(direct, wire::Simple(0x0b, 7)).Show(), Expect(0x0b, 0, 7, "", "", "1.6.18"));
}

TEST_F(MemcacheBinary, SetGetGetkDeleteThroughTheProxyLandWhereAsciiDoes) {
  auto client = Connect();
  auto ascii = Connect();
  for (int i = 0; i < 12; ++i) {
    const std::string key = absl::StrCat("key:", i);
    const std::string value = absl::StrCat("value-", i, std::string("\0\r\n", 3));
    EXPECT_EQ(Roundtrip(*client, wire::Set(key, value, 100 + i, 7)).Show(),
              Expect(0x01, 0, 100 + i, "", "", ""));
    EXPECT_EQ(Roundtrip(*client, wire::Get(0x00, key, 200 + i)).Show(),
              Expect(0x00, 0, 200 + i, Flags(7), "", value));
    EXPECT_EQ(Roundtrip(*client, wire::Get(0x0c, key, 300 + i)).Show(),
              Expect(0x0c, 0, 300 + i, Flags(7), key, value));
    // The ASCII protocol on the same port sees it: the same key bytes are hashed.
    ASSERT_TRUE(ascii->Send(absl::StrCat("get ", key, "\r\n")));
    EXPECT_EQ(ascii->ReadMemcacheReply(),
              absl::StrCat("VALUE ", key, " 7 ", value.size(), "\r\n", value, "\r\nEND\r\n"));
    EXPECT_GE(Locate(key), 0);
  }
  // add on an existing key, cas mismatch, append/prepend.
  EXPECT_EQ(Roundtrip(*client, wire::Set("key:0", "x", 1, 0, 0x02)).Show(),
            Expect(0x02, 2, 1, "", "", "Data exists for key."));
  EXPECT_EQ(Roundtrip(*client, wire::Set("key:0", "x", 2, 0, 0x01, 987654321)).Show(),
            Expect(0x01, 2, 2, "", "", "Data exists for key."));
  Msg append;
  append.opcode = 0x0e;
  append.key = "key:1";
  append.value = "+tail";
  append.opaque = 3;
  EXPECT_EQ(Roundtrip(*client, wire::Encode(append)).Show(), Expect(0x0e, 0, 3, "", "", ""));
  Msg prepend = append;
  prepend.opcode = 0x0f;
  prepend.value = "head+";
  EXPECT_EQ(Roundtrip(*client, wire::Encode(prepend)).Show(), Expect(0x0f, 0, 3, "", "", ""));
  EXPECT_EQ(Roundtrip(*client, wire::Get(0x00, "key:1", 4)).Show(),
            Expect(0x00, 0, 4, Flags(7), "", std::string("head+value-1\0\r\n+tail", 20)));
  // delete, then a miss.
  EXPECT_EQ(Roundtrip(*client, Delete("key:2", 5)).Show(), Expect(0x04, 0, 5, "", "", ""));
  EXPECT_EQ(Roundtrip(*client, Delete("key:2", 6)).Show(), Expect(0x04, 1, 6, "", "", "Not found"));
  EXPECT_EQ(Roundtrip(*client, wire::Get(0x0c, "key:2", 7)).Show(),
            Expect(0x0c, 1, 7, "", "key:2", ""));
  EXPECT_EQ(Locate("key:2"), -1);
}

TEST_F(MemcacheBinary, QuietMultiGetAcrossThreeServersKeepsOrderAndOpaques) {
  auto client = Connect();
  std::set<int> used;
  std::vector<std::string> keys;
  for (int i = 0; i < 40; ++i) {
    keys.push_back(absl::StrCat("mk", i));
    ASSERT_EQ(Roundtrip(*client, wire::Set(keys.back(), absl::StrCat("v", i), 0, i)).Show(),
              Expect(0x01, 0, 0, "", "", ""));
    used.insert(Locate(keys.back()));
  }
  ASSERT_EQ(used, (std::set<int>{0, 1, 2})) << "the keys should cover every server";
  // getkq/getq/gatkq mixed, in a scrambled order, misses in between, a key twice.
  std::string batch;
  std::vector<std::string> expected;
  uint32_t opaque = 1000;
  for (int round = 0; round < 40; ++round) {
    const int i = (round * 17) % 40;
    const uint8_t opcode = round % 3 == 0 ? 0x0d : (round % 3 == 1 ? 0x09 : 0x24);
    batch += wire::Get(opcode, keys[i], opaque);
    expected.push_back(Expect(opcode, 0, opaque, Flags(i), opcode == 0x09 ? "" : keys[i],
                              absl::StrCat("v", i)));
    ++opaque;
    batch += wire::Get(0x0d, absl::StrCat("missing", round), opaque++);
  }
  batch += wire::Get(0x09, keys[5], 77);
  expected.push_back(Expect(0x09, 0, 77, Flags(5), "", "v5"));
  batch += wire::Noop(0xabcdef);
  expected.push_back(Expect(0x0a, 0, 0xabcdef, "", "", ""));
  ASSERT_TRUE(client->Send(batch));
  for (const std::string& want : expected) EXPECT_EQ(ReadResp(*client).Show(), want);
  // Then the connection goes on.
  EXPECT_EQ(Roundtrip(*client, wire::Noop(5)).Show(), Expect(0x0a, 0, 5, "", "", ""));

  // A batch ended by a get instead of a noop: the hits, then the get's own response.
  ASSERT_TRUE(client->Send(wire::Get(0x09, keys[1], 1) + wire::Get(0x09, "nope", 2) +
                           wire::Get(0x0d, keys[2], 3) + wire::Get(0x00, keys[3], 4)));
  EXPECT_EQ(ReadResp(*client).Show(), Expect(0x09, 0, 1, Flags(1), "", "v1"));
  EXPECT_EQ(ReadResp(*client).Show(), Expect(0x0d, 0, 3, Flags(2), keys[2], "v2"));
  EXPECT_EQ(ReadResp(*client).Show(), Expect(0x00, 0, 4, Flags(3), "", "v3"));
  // A one-key batch (one server: forwarded as received, the server's noop response passed on).
  ASSERT_TRUE(client->Send(wire::Get(0x0d, keys[7], 0x70) + wire::Noop(0x71)));
  EXPECT_EQ(ReadResp(*client).Show(), Expect(0x0d, 0, 0x70, Flags(7), keys[7], "v7"));
  EXPECT_EQ(ReadResp(*client).Show(), Expect(0x0a, 0, 0x71, "", "", ""));
  // A batch with no hit and its noop: just the noop.
  EXPECT_EQ(Roundtrip(*client, wire::Get(0x09, "none1", 1) + wire::Get(0x09, "none2", 2) +
                                   wire::Noop(3))
                .Show(),
            Expect(0x0a, 0, 3, "", "", ""));
}

TEST_F(MemcacheBinary, IncrDecrTouchGat) {
  auto client = Connect();
  EXPECT_EQ(Roundtrip(*client, Incr(0x05, "counter", 5, 100, 1)).Show(),
            Expect(0x05, 0, 1, "", "", Counter(100)));
  EXPECT_EQ(Roundtrip(*client, Incr(0x05, "counter", 5, 100, 2)).Show(),
            Expect(0x05, 0, 2, "", "", Counter(105)));
  EXPECT_EQ(Roundtrip(*client, Incr(0x06, "counter", 200, 0, 3)).Show(),
            Expect(0x06, 0, 3, "", "", Counter(0)));
  ASSERT_EQ(Roundtrip(*client, wire::Set("text", "abc", 4)).Show(), Expect(0x01, 0, 4, "", "", ""));
  EXPECT_EQ(Roundtrip(*client, Incr(0x05, "text", 1, 0, 5)).Show(),
            Expect(0x05, 6, 5, "", "", "Non-numeric server-side value for incr or decr"));
  // touch and gat (exptime 100 in the builders).
  ASSERT_EQ(Roundtrip(*client, wire::Set("t", "tv", 6, 9)).Show(), Expect(0x01, 0, 6, "", "", ""));
  EXPECT_EQ(Roundtrip(*client, wire::Get(0x1c, "t", 7)).Show(),
            Expect(0x1c, 0, 7, Flags(9), "", ""));
  EXPECT_EQ(Roundtrip(*client, wire::Get(0x1d, "t", 8)).Show(),
            Expect(0x1d, 0, 8, Flags(9), "", "tv"));
  EXPECT_EQ(Roundtrip(*client, wire::Get(0x23, "t", 9)).Show(),
            Expect(0x23, 0, 9, Flags(9), "t", "tv"));
  EXPECT_EQ(Roundtrip(*client, wire::Get(0x1c, "absent", 10)).Show(),
            Expect(0x1c, 1, 10, "", "", "Not found"));
  // gatq in a batch.
  EXPECT_EQ(Roundtrip(*client, wire::Get(0x1e, "absent", 11) + wire::Get(0x1e, "t", 12) +
                                   wire::Noop(13))
                .Show(),
            Expect(0x1e, 0, 12, Flags(9), "", "tv"));
  EXPECT_EQ(ReadResp(*client).Show(), Expect(0x0a, 0, 13, "", "", ""));
}

TEST_F(MemcacheBinary, VersionNoopAndQuitAreAnsweredByTheProxy) {
  auto client = Connect();
  EXPECT_EQ(Roundtrip(*client, wire::Simple(0x0b, 1)).Show(),
            Expect(0x0b, 0, 1, "", "", "1.6.0-shardproxy"));
  EXPECT_EQ(Roundtrip(*client, wire::Noop(2)).Show(), Expect(0x0a, 0, 2, "", "", ""));
  EXPECT_EQ(Roundtrip(*client, wire::Simple(0x07, 3)).Show(), Expect(0x07, 0, 3, "", "", ""));
  EXPECT_TRUE(client->WaitForClose());
  auto quiet = Connect();
  ASSERT_TRUE(quiet->Send(wire::Simple(0x17, 4)));
  EXPECT_EQ(quiet->ReadAll(), "") << "quitq closes without a response";
}

TEST_F(MemcacheBinary, RefusedAndUnknownRequestsAreAnsweredAndNeverForwarded) {
  auto client = Connect();
  ASSERT_EQ(Roundtrip(*client, wire::Set("keep", "me", 1)).Show(), Expect(0x01, 0, 1, "", "", ""));
  const int home = Locate("keep");
  ASSERT_GE(home, 0);
  Msg flush;
  flush.opcode = 0x08;
  flush.opaque = 2;
  Resp r = Roundtrip(*client, wire::Encode(flush));
  EXPECT_EQ(r.opcode, 0x08);
  EXPECT_EQ(r.status, 0x0083);
  EXPECT_EQ(r.opaque, 2u);
  EXPECT_EQ(r.value,
            "unsupported command 'flush': keys are spread over several servers; run it on each "
            "server directly");
  Msg setq;
  setq.opcode = 0x11;
  setq.key = "keep";
  setq.extras = wire::Extras32x2(0, 0);
  setq.value = "changed";
  setq.opaque = 3;
  r = Roundtrip(*client, wire::Encode(setq));
  EXPECT_EQ(r.Show(), Expect(0x11, 0x0083, 3, "", "",
                             "unsupported command 'setq': quiet mutations are not supported by "
                             "the proxy (it could not know whether a response comes); use the "
                             "non-quiet opcode"));
  r = Roundtrip(*client, wire::Simple(0x10, 4));  // stat
  EXPECT_EQ(r.status, 0x0083);
  EXPECT_EQ(r.opaque, 4u);
  Msg sasl;
  sasl.opcode = 0x21;
  sasl.key = "PLAIN";
  sasl.value = std::string("\0u\0p", 4);
  sasl.opaque = 5;
  EXPECT_EQ(Roundtrip(*client, wire::Encode(sasl)).status, 0x0083);
  Msg unknown;
  unknown.opcode = 0x55;
  unknown.value = "whatever";
  unknown.opaque = 6;
  EXPECT_EQ(Roundtrip(*client, wire::Encode(unknown)).Show(),
            Expect(0x55, 0x0081, 6, "", "", "Unknown command (opcode 0x55)"));
  // Still usable, and nothing was flushed or overwritten.
  EXPECT_EQ(Roundtrip(*client, wire::Get(0x00, "keep", 7)).Show(),
            Expect(0x00, 0, 7, Flags(0), "", "me"));
  EXPECT_EQ(Locate("keep"), home);
}

TEST_F(MemcacheBinary, HeadersMemcachedWouldCloseOnCloseOnlyThatClient) {
  auto bystander = Connect();
  ASSERT_EQ(Roundtrip(*bystander, wire::Set("safe", "value", 1)).Show(),
            Expect(0x01, 0, 1, "", "", ""));
  std::vector<std::string> attacks;
  {
    Msg m;  // touch with a body longer than extras + key: memcached would read the rest as the
    m.opcode = 0x1c;  // next request (here: a flush)
    m.key = "safe";
    m.extras = wire::Extras32(0);
    Msg flush;
    flush.opcode = 0x08;
    m.value = wire::Encode(flush);
    attacks.push_back(wire::Encode(m));
  }
  {
    Msg m;  // get with extras
    m.opcode = 0x00;
    m.key = "safe";
    m.extras = wire::Extras32(0);
    attacks.push_back(wire::Encode(m));
  }
  {
    Msg m;  // key over 250 bytes
    m.opcode = 0x00;
    static const std::string long_key(300, 'k');
    m.key = long_key;
    attacks.push_back(wire::Encode(m));
  }
  attacks.push_back(wire::Noop(1) + std::string("GET safe\r\n") + std::string(14, ' '));
  for (const std::string& attack : attacks) {
    SCOPED_TRACE(absl::BytesToHexString(attack.substr(0, 32)));
    auto attacker = Connect();
    ASSERT_TRUE(attacker->Send(attack));
    Resp r = ReadResp(*attacker);
    if (r.opcode == 0x0a && r.status == 0) r = ReadResp(*attacker);  // the noop's answer
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.magic, 0x81);
    // memcached's answer before it closes: invalid arguments, with the proxy's reason.
    EXPECT_EQ(r.status, 0x0004) << r.Show();
    EXPECT_EQ(r.value.rfind("binary protocol error: ", 0), 0u) << r.Show();
    EXPECT_TRUE(attacker->WaitForClose());
    EXPECT_EQ(Roundtrip(*bystander, wire::Get(0x00, "safe", 2)).Show(),
              Expect(0x00, 0, 2, Flags(0), "", "value"));
  }
}

TEST_F(MemcacheBinary, AsciiAndBinaryClientsShareThePortAndTheServers) {
  std::atomic<int> binary_ok{0};
  std::atomic<int> ascii_ok{0};
  constexpr int kRounds = 300;
  std::thread binary_thread([&] {
    auto client = Connect();
    for (int i = 0; i < kRounds; ++i) {
      const std::string key = absl::StrCat("bin:", i % 20);
      const std::string value = absl::StrCat("b", i);
      if (Roundtrip(*client, wire::Set(key, value, i)).Show() != Expect(0x01, 0, i, "", "", "")) {
        continue;
      }
      // A two-key batch (usually two servers) and the noop.
      const std::string other = absl::StrCat("bin:", (i + 7) % 20);
      if (!client->Send(wire::Get(0x0d, key, 1) + wire::Get(0x0d, other, 2) + wire::Noop(3))) {
        continue;
      }
      const Resp first = ReadResp(*client);
      Resp last = ReadResp(*client);
      if (last.opcode == 0x0d) last = ReadResp(*client);  // `other` was set before: a hit
      if (first.Show() == Expect(0x0d, 0, 1, Flags(0), key, value) &&
          last.Show() == Expect(0x0a, 0, 3, "", "", "")) {
        ++binary_ok;
      }
    }
  });
  std::thread ascii_thread([&] {
    auto client = Connect();
    for (int i = 0; i < kRounds; ++i) {
      const std::string key = absl::StrCat("ascii:", i % 20);
      const std::string value = absl::StrCat("a", i);
      if (!client->Send(absl::StrCat("set ", key, " 0 0 ", value.size(), "\r\n", value,
                                     "\r\n")) ||
          client->ReadMemcacheReply() != "STORED\r\n") {
        continue;
      }
      const std::string other = absl::StrCat("ascii:", (i + 7) % 20);
      if (!client->Send(absl::StrCat("get ", key, " ", other, "\r\n"))) continue;
      const std::string reply = client->ReadMemcacheReply();
      if (reply.rfind(absl::StrCat("VALUE ", key, " 0 ", value.size(), "\r\n", value, "\r\n"),
                      0) == 0) {
        ++ascii_ok;
      }
    }
  });
  binary_thread.join();
  ascii_thread.join();
  EXPECT_EQ(binary_ok.load(), kRounds);
  EXPECT_EQ(ascii_ok.load(), kRounds);
  // Each sees the other's keys in its own protocol.
  auto ascii = Connect();
  ASSERT_TRUE(ascii->Send("get bin:0\r\n"));
  EXPECT_EQ(ascii->ReadMemcacheReply().rfind("VALUE bin:0 0 ", 0), 0u);
  auto client = Connect();
  const Resp r = Roundtrip(*client, wire::Get(0x0c, "ascii:0", 9));
  EXPECT_EQ(r.status, 0) << r.Show();
  EXPECT_EQ(r.key, "ascii:0");
}

TEST_F(MemcacheBinary, AServerDownAnswersInternalErrorsWithTheRequestsOpcodeAndOpaque) {
  auto client = Connect();
  // Keys on server 1 and on the others.
  std::string down_key;
  std::string up_key;
  for (int i = 0; i < 60 && (down_key.empty() || up_key.empty()); ++i) {
    const std::string key = absl::StrCat("f", i);
    ASSERT_EQ(Roundtrip(*client, wire::Set(key, "v", 1)).Show(), Expect(0x01, 0, 1, "", "", ""));
    (Locate(key) == 1 ? down_key : up_key) = key;
  }
  ASSERT_FALSE(down_key.empty());
  ASSERT_FALSE(up_key.empty());
  servers_[1]->Stop();
  Resp r = Roundtrip(*client, wire::Get(0x0c, down_key, 0x1234));
  EXPECT_EQ(r.opcode, 0x0c) << r.Show();
  EXPECT_EQ(r.opaque, 0x1234u);
  EXPECT_EQ(r.status, 0x0084);
  EXPECT_FALSE(r.value.empty());
  // A batch over a dead server: one error response, for the client's noop.
  r = Roundtrip(*client,
                wire::Get(0x0d, up_key, 1) + wire::Get(0x0d, down_key, 2) + wire::Noop(0x77));
  EXPECT_EQ(r.opcode, 0x0a) << r.Show();
  EXPECT_EQ(r.opaque, 0x77u);
  EXPECT_EQ(r.status, 0x0084);
  // The other servers still answer, on the same connection.
  EXPECT_EQ(Roundtrip(*client, wire::Get(0x00, up_key, 3)).Show(),
            Expect(0x00, 0, 3, Flags(0), "", "v"));
  ASSERT_TRUE(servers_[1]->Restart());
  EXPECT_TRUE(WaitUntil(
      [&] {
        return Roundtrip(*client, wire::Set(down_key, "again", 4)).Show() ==
               Expect(0x01, 0, 4, "", "", "");
      },
      milliseconds(5000), milliseconds(50)));
  EXPECT_EQ(Roundtrip(*client, wire::Get(0x00, down_key, 5)).Show(),
            Expect(0x00, 0, 5, Flags(0), "", "again"));
}

// key_prefix: binary requests get the prefix (each quiet get of a batch too), responses that
// carry a key get it back without it.
class MemcacheBinaryKeyPrefix : public MemcacheBinary {
 protected:
  std::string PoolExtras() const override {
    return "  filters:\n"
           "    - name: key_prefix\n"
           "      config:\n"
           "        prefix: \"app:\"\n"
           "    - reject_unsupported\n"
           "    - hash_tag\n"
           "    - router\n"
           "    - stats\n";
  }
};

TEST_F(MemcacheBinaryKeyPrefix, KeysArePrefixedOnTheServersAndNotInResponses) {
  auto client = Connect();
  std::set<int> used;
  for (int i = 0; i < 30; ++i) {
    const std::string key = absl::StrCat("pk", i);
    ASSERT_EQ(Roundtrip(*client, wire::Set(key, absl::StrCat("v", i), i, i)).Show(),
              Expect(0x01, 0, i, "", "", ""));
    EXPECT_EQ(Locate(key), -1) << "stored without the prefix";
    used.insert(Locate("app:" + key));
  }
  EXPECT_EQ(used, (std::set<int>{0, 1, 2}));
  EXPECT_EQ(Roundtrip(*client, wire::Get(0x0c, "pk3", 1)).Show(),
            Expect(0x0c, 0, 1, Flags(3), "pk3", "v3"));
  EXPECT_EQ(Roundtrip(*client, wire::Get(0x0c, "absent", 2)).Show(),
            Expect(0x0c, 1, 2, "", "absent", ""));
  EXPECT_EQ(Roundtrip(*client, wire::Get(0x23, "pk4", 3)).Show(),
            Expect(0x23, 0, 3, Flags(4), "pk4", "v4"));
  // A batch over every server, with its noop, and one ended by a get.
  std::string batch;
  for (int i = 29; i >= 0; i -= 2) batch += wire::Get(0x0d, absl::StrCat("pk", i), 100 + i);
  ASSERT_TRUE(client->Send(batch + wire::Noop(7)));
  for (int i = 29; i >= 0; i -= 2) {
    EXPECT_EQ(ReadResp(*client).Show(),
              Expect(0x0d, 0, 100 + i, Flags(i), absl::StrCat("pk", i), absl::StrCat("v", i)));
  }
  EXPECT_EQ(ReadResp(*client).Show(), Expect(0x0a, 0, 7, "", "", ""));
  ASSERT_TRUE(client->Send(wire::Get(0x0d, "pk1", 1) + wire::Get(0x0d, "pk2", 2) +
                           wire::Get(0x0c, "pk5", 3)));
  EXPECT_EQ(ReadResp(*client).Show(), Expect(0x0d, 0, 1, Flags(1), "pk1", "v1"));
  EXPECT_EQ(ReadResp(*client).Show(), Expect(0x0d, 0, 2, Flags(2), "pk2", "v2"));
  EXPECT_EQ(ReadResp(*client).Show(), Expect(0x0c, 0, 3, Flags(5), "pk5", "v5"));
  // A key that the prefix would take past 250 bytes is refused, and nothing is stored.
  const std::string long_key(248, 'k');
  const Resp refused = Roundtrip(*client, wire::Set(long_key, "x", 9));
  EXPECT_EQ(refused.opcode, 0x01);
  EXPECT_EQ(refused.opaque, 9u);
  EXPECT_EQ(refused.status, 0x0083) << refused.Show();
  EXPECT_EQ(Roundtrip(*client, wire::Noop(10)).Show(), Expect(0x0a, 0, 10, "", "", ""));
}

// One attacker input: valid binary requests (including refused and quiet ones), mutated by byte
// flips, length tampering, truncation and splices, sometimes starting with ASCII.
std::string AttackInput(std::mt19937& rng) {
  const auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  std::string bytes;
  const int requests = 1 + pick(6);
  for (int i = 0; i < requests; ++i) {
    const std::string key = absl::StrCat("atk", pick(5));
    Msg flush;
    flush.opcode = 0x08;
    Msg setq;
    setq.opcode = 0x11;
    setq.key = key;
    setq.extras = wire::Extras32x2(0, 0);
    setq.value = "x";
    switch (pick(10)) {
      case 0: bytes += wire::Set(key, std::string(pick(40), 'v'), rng()); break;
      case 1: bytes += wire::Get(static_cast<uint8_t>(pick(2) ? 0x09 : 0x0d), key, rng()); break;
      case 2: bytes += wire::Noop(rng()); break;
      case 3: bytes += wire::Encode(flush); break;
      case 4: bytes += wire::Encode(setq); break;
      case 5: bytes += wire::Get(0x1c, key, rng()); break;
      case 6: bytes += Incr(0x05, key, 1, 0, rng()); break;
      case 7: bytes += wire::Get(0x00, key, rng()); break;
      case 8: bytes += wire::Simple(static_cast<uint8_t>(pick(256)), rng()); break;
      default: bytes += Delete(key, rng()); break;
    }
  }
  const int edits = pick(4);
  for (int e = 0; e < edits && !bytes.empty(); ++e) {
    const size_t at = rng() % bytes.size();
    switch (pick(4)) {
      case 0: bytes[at] = static_cast<char>(rng()); break;
      case 1: bytes.insert(at, 1, static_cast<char>(rng())); break;
      case 2: bytes.erase(at, 1 + pick(8)); break;
      default: {  // a header length field (key, extras or body) of the first request
        static const size_t kFields[] = {2, 3, 4, 8, 9, 10, 11};
        const size_t field = kFields[pick(7)];
        if (field < bytes.size()) bytes[field] = static_cast<char>(rng());
        break;
      }
    }
  }
  if (pick(20) == 0) bytes = "flush_all\r\n" + bytes;  // an ASCII client (refused there)
  if (!bytes.empty() && pick(3) == 0) bytes[0] = '\x80';
  return bytes;
}

// Attackers send mutated binary input on the server connections victims share (one per
// server); every victim reply must stay exact, nothing may be flushed, the proxy must live.
TEST_F(MemcacheBinary, MutatedBinaryInputNeverDisturbsOtherClients) {
  std::atomic<bool> stop{false};
  std::atomic<int> victim_rounds{0};
  std::atomic<int> victim_failures{0};
  std::string first_failure;
  std::thread victim([&] {
    auto client = Connect();
    auto ascii = Connect();
    for (int i = 0; !stop.load() || i < 50; ++i) {
      const std::string key = absl::StrCat("victim:", i % 10);
      const std::string value = absl::StrCat("value", i);
      const std::string other = absl::StrCat("victim:", (i + 3) % 10);
      bool ok = Roundtrip(*client, wire::Set(key, value, i, 3)).Show() ==
                Expect(0x01, 0, i, "", "", "");
      ok = ok && client->Send(wire::Get(0x0d, key, 1) + wire::Get(0x09, "victim:none", 2) +
                              wire::Noop(3));
      ok = ok && ReadResp(*client).Show() == Expect(0x0d, 0, 1, Flags(3), key, value);
      ok = ok && ReadResp(*client).Show() == Expect(0x0a, 0, 3, "", "", "");
      ok = ok && ascii->Send(absl::StrCat("get ", key, " ", other, "\r\n"));
      const std::string reply = ok ? ascii->ReadMemcacheReply() : std::string();
      ok = ok && reply.rfind(absl::StrCat("VALUE ", key, " 3 ", value.size(), "\r\n", value,
                                          "\r\n"),
                             0) == 0;
      if (!ok && victim_failures.fetch_add(1) == 0) {
        first_failure = absl::StrCat("round ", i, " reply ", absl::CHexEscape(reply));
      }
      if (!ok) break;
      ++victim_rounds;
    }
  });
  std::mt19937 rng(20261207);
  for (int i = 0; i < 400; ++i) {
    Client attacker(port_, milliseconds(50));
    if (!attacker.connected()) continue;
    attacker.Send(AttackInput(rng));
    if (i % 2 == 0) attacker.ReadAll();  // sometimes read what comes back for a while
  }
  stop = true;
  victim.join();
  EXPECT_EQ(victim_failures.load(), 0) << first_failure;
  EXPECT_GE(victim_rounds.load(), 50);
  // Nothing reached a server that the proxy refuses.
  for (const auto& server : servers_) {
    Client direct(server->port(), milliseconds(5000));
    ASSERT_TRUE(direct.Send("stats\r\n"));
    std::string stats;
    for (int i = 0; i < 200; ++i) {
      const std::string line = direct.ReadMemcacheReply();
      if (line.empty() || line == "END\r\n") break;
      stats += line;
    }
    EXPECT_NE(stats.find("STAT cmd_flush 0\r\n"), std::string::npos) << stats;
  }
  auto client = Connect();
  EXPECT_EQ(Roundtrip(*client, wire::Noop(1)).Show(), Expect(0x0a, 0, 1, "", "", ""));
}

}  // namespace
}  // namespace proxy::test

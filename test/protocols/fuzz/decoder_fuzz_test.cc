// The fuzz entry in CI: seeds from both protocols (memcache ASCII and binary), mutated
// deterministically (a fixed-seed PRNG flips, inserts, deletes and splices bytes), 20,000 inputs
// through every decoder.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "test/protocols/fuzz/decoder_fuzz.h"

namespace proxy::test {
namespace {

const std::vector<std::string>& Seeds() {
  static const auto* seeds = new std::vector<std::string>{
      "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n",
      "*3\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nb\r\n*1\r\n$4\r\nPING\r\n",
      "SET k v\r\nPING\n",
      "*4\r\n$4\r\nEVAL\r\n$8\r\nreturn 1\r\n$1\r\n1\r\n$1\r\nk\r\n",
      "+OK\r\n-ERR x\r\n:12\r\n$3\r\nbar\r\n$-1\r\n*2\r\n*1\r\n:1\r\n*-1\r\n",
      // redis RESP3 replies (the RESP3 reply decoder).
      "_\r\n#t\r\n,1.5\r\n(123\r\n!3\r\nERR\r\n=8\r\ntxt:abcd\r\n%1\r\n+a\r\n~1\r\n_\r\n",
      "|1\r\n+ttl\r\n:9\r\n*2\r\n%0\r\n|0\r\n~2\r\n#f\r\n,-inf\r\n>1\r\n+push\r\n",
      "get a b c\r\ngets k\r\n",
      "set k 0 0 3\r\nabc\r\ncas k 0 0 1 9 noreply\r\nx\r\n",
      "mg foo v t\r\nms k 2 T0\r\nhi\r\nmn\r\n",
      "VALUE k 0 3\r\nabc\r\nEND\r\nSTORED\r\n12\r\nVA 2 t\r\nhi\r\nHD\r\n",
      "gat 10 a b\r\nincr n 5\r\ndelete k noreply\r\nversion\r\nquit\r\n",
      // memcache binary: get, set, a getkq/getq batch ended by noop, a gatq batch ended by a
      // get; responses: a get hit, a batch's hits and noop.
      std::string("\x80\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x07"
                  "\x00\x00\x00\x00\x00\x00\x00\x00k"
                  "\x80\x01\x00\x01\x08\x00\x00\x00\x00\x00\x00\x0a\x00\x00\x00\x08"
                  "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00kv",
                  59),
      std::string("\x80\x0d\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x01"
                  "\x00\x00\x00\x00\x00\x00\x00\x00" "a"
                  "\x80\x09\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x02"
                  "\x00\x00\x00\x00\x00\x00\x00\x00" "b"
                  "\x80\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03"
                  "\x00\x00\x00\x00\x00\x00\x00\x00",
                  74),
      std::string("\x80\x1e\x00\x01\x04\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x01"
                  "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x64z"
                  "\x80\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x02"
                  "\x00\x00\x00\x00\x00\x00\x00\x00z",
                  54),
      std::string("\x81\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x06\x00\x00\x00\x07"
                  "\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00hi"
                  "\x81\x0d\x00\x01\x04\x00\x00\x00\x00\x00\x00\x06\x00\x00\x00\x01"
                  "\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00" "av"
                  "\x81\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03"
                  "\x00\x00\x00\x00\x00\x00\x00\x00",
                  84),
  };
  return *seeds;
}

std::string Mutate(std::string s, std::mt19937& rng) {
  const int edits = 1 + static_cast<int>(rng() % 8);
  for (int e = 0; e < edits; ++e) {
    const size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (rng() % 5) {
      case 0:
        if (!s.empty() && at < s.size()) s[at] = static_cast<char>(rng());
        break;
      case 1:
        s.insert(at, 1, static_cast<char>(rng()));
        break;
      case 2:
        if (at < s.size()) s.erase(at, 1 + rng() % 4);
        break;
      case 3: {
        const std::string& other = Seeds()[rng() % Seeds().size()];
        s.insert(at, other.substr(rng() % other.size()));
        break;
      }
      default:
        s.insert(at, std::to_string(static_cast<int>(rng() % 100000) - 5));
        break;
    }
  }
  return s;
}

TEST(DecoderFuzzTest, TwentyThousandMutatedInputsNeverBreakADecoder) {
  std::mt19937 rng(20261126);
  int runs = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string input(1, static_cast<char>(rng() % 8));
    input += Mutate(Seeds()[rng() % Seeds().size()], rng);
    FuzzDecoders(reinterpret_cast<const uint8_t*>(input.data()), input.size());
    ++runs;
  }
  EXPECT_EQ(runs, 20000);
}

}  // namespace
}  // namespace proxy::test

// Tests for our MD5 implementation: the RFC 1321 test suite plus padding-boundary lengths.
#include "hashes/common/md5.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace proxy::hashes {
namespace {

std::string Md5Hex(absl::string_view in) {
  uint8_t digest[kMd5DigestSize];
  Md5(in, digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), kMd5DigestSize));
}

TEST(Md5Test, MatchesRfc1321TestSuite) {
  EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Md5Hex("a"), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(Md5Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Md5Hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(Md5Hex("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b");
  EXPECT_EQ(Md5Hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
            "d174ab98d277d9f5a5611c2c9f419d9f");
  EXPECT_EQ(Md5Hex("1234567890123456789012345678901234567890"
                   "1234567890123456789012345678901234567890"),
            "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(Md5Test, HandlesEveryPaddingBoundary) {
  // 55 bytes still fit the length in the last block; 56..63 need an extra padding block.
  EXPECT_EQ(Md5Hex(std::string(55, 'a')), "ef1772b6dff9a122358552954ad0df65");
  EXPECT_EQ(Md5Hex(std::string(56, 'a')), "3b0c8ac703f828b04c6c197006d17218");
  EXPECT_EQ(Md5Hex(std::string(63, 'a')), "b06521f39153d618550606be297466d5");
  EXPECT_EQ(Md5Hex(std::string(64, 'a')), "014842d480b571495a4a0363793f7367");
  EXPECT_EQ(Md5Hex(std::string(65, 'a')), "c743a45e0d2e6a95cb859adae0248435");
  EXPECT_EQ(Md5Hex(std::string(127, 'a')), "020406e1d05cdc2aa287641f7ae2cc39");
  EXPECT_EQ(Md5Hex(std::string(128, 'a')), "e510683b3f5ffe4093d021808bc6ff70");
  EXPECT_EQ(Md5Hex(std::string(1000, 'a')), "cabe45dcc9ae5b66ba86600cca6b8ba8");
}

TEST(Md5Test, HashesEveryByteValue) {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) {
    all_bytes.push_back(static_cast<char>(i));
  }
  EXPECT_EQ(Md5Hex(all_bytes), "e2c865db4162bed963bfaa9ef6ac18f0");
  EXPECT_EQ(Md5Hex("The quick brown fox jumps over the lazy dog"),
            "9e107d9d372bb6826bd81d3542a419d6");
}

}  // namespace
}  // namespace proxy::hashes

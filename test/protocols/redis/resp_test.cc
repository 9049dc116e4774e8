// The RESP writers of protocols/redis/resp.h against absl's formatting of the same text, at
// every digit-count boundary (split requests and merged replies are built with them).
#include "protocols/redis/resp.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace proxy::protocols::redis {
namespace {

std::vector<size_t> Boundaries() {
  std::vector<size_t> numbers = {0, std::numeric_limits<size_t>::max()};
  for (size_t power = 1; power <= 1000000000000000000ull; power *= 10) {
    numbers.push_back(power - 1);
    numbers.push_back(power);
    numbers.push_back(power + 1);
  }
  return numbers;
}

TEST(RespWriterTest, HeadersAtEveryDigitCount) {
  for (const size_t number : Boundaries()) {
    const std::string expected = absl::StrCat("*", number, "\r\n");
    EXPECT_EQ(HeaderSize(number), expected.size()) << number;
    char text[24];
    const char* end = WriteHeader('*', number, text);
    EXPECT_EQ(std::string(text, static_cast<size_t>(end - text)), expected);
    std::string appended = "x";
    AppendArrayHeader(number, &appended);
    EXPECT_EQ(appended, "x" + expected);
  }
}

TEST(RespWriterTest, BulksWrittenInPlaceEqualAppendedOnes) {
  for (const std::string& bytes :
       {std::string(), std::string("k"), std::string(9, 'a'), std::string(10, 'b'),
        std::string(100, 'c'), std::string("a\r\nb\0c", 6)}) {
    const std::string expected = absl::StrCat("$", bytes.size(), "\r\n", bytes, "\r\n");
    std::string appended;
    AppendBulk(bytes, &appended);
    EXPECT_EQ(appended, expected);
    std::string written(BulkSize(bytes.size()), '?');
    EXPECT_EQ(WriteBulk(bytes, written.data()), written.data() + written.size());
    EXPECT_EQ(written, expected);
  }
}

}  // namespace
}  // namespace proxy::protocols::redis

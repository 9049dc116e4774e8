// Tests for the name → factory registry and the status macros.
#include "api/registry.h"

#include "api/hash.h"
#include "api/status_macros.h"
#include "gtest/gtest.h"

namespace proxy {
namespace {

class ConstantHash : public HashFunction {
 public:
  explicit ConstantHash(uint32_t value) : value_(value) {}
  uint32_t Hash(absl::string_view) const override { return value_; }

 private:
  uint32_t value_;
};

class ConstantHashFactory : public HashFunctionFactory {
 public:
  ConstantHashFactory(std::string name, uint32_t value) : name_(std::move(name)), value_(value) {}
  absl::string_view Name() const override { return name_; }
  absl::string_view Description() const override { return "test hash"; }
  HashFunctionPtr Create() const override { return std::make_unique<ConstantHash>(value_); }

 private:
  std::string name_;
  uint32_t value_;
};

using HashRegistry = Registry<HashFunctionFactory>;

TEST(RegistryTest, AddFindAndRejectDuplicate) {
  ASSERT_TRUE(HashRegistry::Add(std::make_unique<ConstantHashFactory>("test_zeta", 7)).ok());
  const HashFunctionFactory* found = HashRegistry::Find("test_zeta");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->Create()->Hash("x"), 7u);
  absl::Status dup = HashRegistry::Add(std::make_unique<ConstantHashFactory>("test_zeta", 8));
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.message(), "hash 'test_zeta' is registered twice");
  EXPECT_EQ(HashRegistry::Find("test_zeta")->Create()->Hash("x"), 7u);
  EXPECT_EQ(HashRegistry::Find("no_such_hash"), nullptr);
}

TEST(RegistryTest, NamesAreSorted) {
  ASSERT_TRUE(HashRegistry::Add(std::make_unique<ConstantHashFactory>("test_b", 1)).ok());
  ASSERT_TRUE(HashRegistry::Add(std::make_unique<ConstantHashFactory>("test_a", 1)).ok());
  std::vector<std::string> names = HashRegistry::Names();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
}

TEST(RegistryTest, ScopedOverrideRestoresPrevious) {
  ASSERT_TRUE(HashRegistry::Add(std::make_unique<ConstantHashFactory>("test_over", 1)).ok());
  {
    ScopedFactoryOverride<HashFunctionFactory> override(
        std::make_unique<ConstantHashFactory>("test_over", 2));
    EXPECT_EQ(HashRegistry::Find("test_over")->Create()->Hash(""), 2u);
  }
  EXPECT_EQ(HashRegistry::Find("test_over")->Create()->Hash(""), 1u);
  {
    ScopedFactoryOverride<HashFunctionFactory> added(
        std::make_unique<ConstantHashFactory>("test_new", 3));
    EXPECT_NE(HashRegistry::Find("test_new"), nullptr);
  }
  EXPECT_EQ(HashRegistry::Find("test_new"), nullptr);
}

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::Status Quarter(int x, int* out) {
  PROXY_ASSIGN_OR_RETURN(int half, Half(x));
  PROXY_ASSIGN_OR_RETURN(*out, Half(half));
  PROXY_RETURN_IF_ERROR(absl::OkStatus());
  return absl::OkStatus();
}

TEST(StatusMacrosTest, PropagateErrorsAndValues) {
  int out = 0;
  EXPECT_TRUE(Quarter(8, &out).ok());
  EXPECT_EQ(out, 2);
  EXPECT_EQ(Quarter(6, &out).message(), "odd");
}

}  // namespace
}  // namespace proxy

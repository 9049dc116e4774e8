// Behaviour tests for the modula distribution: input checks and weight-repeated slots.
#include <cstdint>
#include <vector>

#include "api/distribution.h"
#include "api/registry.h"
#include "gtest/gtest.h"

namespace proxy::hashes {
namespace {

DistributionPtr BuildModula(const std::vector<Endpoint>& servers) {
  const DistributionFactory* factory = Registry<DistributionFactory>::Find("modula");
  EXPECT_NE(factory, nullptr);
  if (factory == nullptr) {
    return nullptr;
  }
  absl::StatusOr<DistributionPtr> built = factory->Build(servers);
  EXPECT_TRUE(built.ok()) << built.status();
  return built.ok() ? *std::move(built) : nullptr;
}

TEST(ModulaTest, IsRegisteredAsModula) {
  const DistributionFactory* factory = Registry<DistributionFactory>::Find("modula");
  ASSERT_NE(factory, nullptr);
  EXPECT_EQ(factory->Name(), "modula");
  EXPECT_FALSE(factory->Description().empty());
}

TEST(ModulaTest, BuildRejectsEmptySetZeroWeightAndOverflowingTotal) {
  const DistributionFactory* factory = Registry<DistributionFactory>::Find("modula");
  ASSERT_NE(factory, nullptr);
  EXPECT_EQ(factory->Build({}).status().code(), absl::StatusCode::kInvalidArgument);
  const std::vector<Endpoint> zero = {{"a:1", 0}};
  EXPECT_EQ(factory->Build(zero).status().code(), absl::StatusCode::kInvalidArgument);
  const std::vector<Endpoint> huge = {{"a:1", 0xF0000000u}, {"b:1", 0xF0000000u}};
  EXPECT_EQ(factory->Build(huge).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ModulaTest, EqualWeightsPickHashModuloServerCount) {
  DistributionPtr modula = BuildModula({{"a:1", 1}, {"b:1", 1}, {"c:1", 1}});
  ASSERT_NE(modula, nullptr);
  for (uint32_t hash : {0u, 1u, 2u, 3u, 100u, 4275688823u, UINT32_MAX}) {
    EXPECT_EQ(modula->Select(hash), hash % 3) << hash;
  }
}

TEST(ModulaTest, EachServerOwnsWeightConsecutiveSlots) {
  // Slots: [0, 1, 1, 2, 2, 2]; server = slots[hash % 6].
  DistributionPtr modula = BuildModula({{"a:1", 1}, {"b:1", 2}, {"c:1", 3}});
  ASSERT_NE(modula, nullptr);
  const uint32_t slots[6] = {0, 1, 1, 2, 2, 2};
  for (uint32_t hash = 0; hash < 60; ++hash) {
    EXPECT_EQ(modula->Select(hash), slots[hash % 6]) << hash;
  }
  EXPECT_EQ(modula->Select(UINT32_MAX), slots[UINT32_MAX % 6]);
}

TEST(ModulaTest, LargeWeightsNeedNoSlotArray) {
  DistributionPtr modula = BuildModula({{"a:1", 1000000000}, {"b:1", 2000000000}});
  ASSERT_NE(modula, nullptr);
  EXPECT_EQ(modula->Select(999999999), 0u);
  EXPECT_EQ(modula->Select(1000000000), 1u);
  EXPECT_EQ(modula->Select(2999999999u), 1u);
  EXPECT_EQ(modula->Select(3000000000u), 0u);
}

}  // namespace
}  // namespace proxy::hashes

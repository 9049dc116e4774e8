// CLUSTER SLOTS replies → the topology the redis_cluster plugin reports (masters by address,
// merged slot ranges, replicas; an empty IP is the node asked).
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "protocols/redis/cluster/cluster_discovery.h"
#include "protocols/redis/sentinel/resp_reader.h"

namespace proxy::protocols::redis::cluster {
namespace {

using sentinel::RespValue;

RespValue Int(int64_t v) {
  RespValue value;
  value.type = RespValue::Type::kInteger;
  value.integer = v;
  return value;
}
RespValue Str(const std::string& s) {
  RespValue value;
  value.type = RespValue::Type::kBulk;
  value.text = s;
  return value;
}
RespValue Arr(std::vector<RespValue> elements) {
  RespValue value;
  value.type = RespValue::Type::kArray;
  value.elements = std::move(elements);
  return value;
}
RespValue Node(const std::string& ip, int64_t port) {
  return Arr({Str(ip), Int(port), Str("0123456789abcdef"), Arr({})});
}

TEST(ClusterSlotsTest, MastersWithMergedRangesAndReplicas) {
  const RespValue reply = Arr({
      Arr({Int(5461), Int(10922), Node("127.0.0.1", 7002), Node("127.0.0.1", 7005)}),
      Arr({Int(0), Int(100), Node("127.0.0.1", 7001), Node("127.0.0.1", 7004)}),
      Arr({Int(101), Int(5460), Node("", 7001)}),  // "" is the node asked
      Arr({Int(10923), Int(16383), Node("127.0.0.1", 7003)}),
  });
  absl::StatusOr<DiscoveredTopology> topology =
      ParseClusterSlots(reply, Address("127.0.0.1", 7001));
  ASSERT_TRUE(topology.ok()) << topology.status();
  ASSERT_EQ(topology->masters.size(), 3u);
  const DiscoveredNode& first = topology->masters[0];
  EXPECT_EQ(first.host, "127.0.0.1");
  EXPECT_EQ(first.port, 7001u);
  EXPECT_EQ(first.slots, (std::vector<std::pair<uint32_t, uint32_t>>{{0, 5460}}));
  EXPECT_EQ(first.replicas, (std::vector<std::pair<std::string, uint32_t>>{{"127.0.0.1", 7004}}));
  EXPECT_EQ(topology->masters[1].port, 7002u);
  EXPECT_EQ(topology->masters[2].port, 7003u);
  EXPECT_TRUE(topology->masters[2].replicas.empty());
}

TEST(ClusterSlotsTest, MalformedRepliesAreRefused) {
  const Address asked("127.0.0.1", 7001);
  EXPECT_FALSE(ParseClusterSlots(Str("x"), asked).ok());
  RespValue error;
  error.type = RespValue::Type::kError;
  error.text = "ERR This instance has cluster support disabled";
  const absl::StatusOr<DiscoveredTopology> disabled = ParseClusterSlots(error, asked);
  ASSERT_FALSE(disabled.ok());
  EXPECT_EQ(disabled.status().message(), "ERR This instance has cluster support disabled");
  EXPECT_FALSE(ParseClusterSlots(Arr({Arr({Int(0), Int(16384), Node("h", 1)})}), asked).ok());
  EXPECT_FALSE(ParseClusterSlots(Arr({Arr({Int(5), Int(4), Node("h", 1)})}), asked).ok());
  EXPECT_FALSE(ParseClusterSlots(Arr({Arr({Int(0), Int(1), Node("h", 0)})}), asked).ok());
  EXPECT_FALSE(ParseClusterSlots(Arr({Arr({Int(0), Int(1)})}), asked).ok());
  EXPECT_FALSE(ParseClusterSlots(Arr({Arr({Int(0), Int(1), Str("h")})}), asked).ok());
}

}  // namespace
}  // namespace proxy::protocols::redis::cluster

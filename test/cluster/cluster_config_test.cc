// `proxyctl check` on Redis Cluster pools (issue 13, part 1): the cluster places the keys and
// fails nodes over itself, so a pool that names another hash or asks for auto_eject_hosts is
// refused with a message that says why; a plain cluster pool is valid.
#include <chrono>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"

namespace proxy::test {
namespace {

CommandResult Check(const std::string& name, const std::string& extra_keys) {
  const std::string path = TempPath(absl::StrCat(name, ".yml"));
  std::ofstream(path) << "c:\n  listen: 127.0.0.1:22121\n  redis: true\n  redis_cluster: true\n"
                      << extra_keys
                      << "  servers:\n   - 127.0.0.1:7000:1\n   - 127.0.0.1:7001:1\n";
  return RunCommand({Runfile("proxyctl"), "check", "--conf-file", path},
                    std::chrono::milliseconds(20000));
}

TEST(ClusterConfigTest, PlainClusterPoolIsValid) {
  const CommandResult result = Check("plain", "");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(absl::StrContains(result.output, ": ok: ")) << result.output;
  // read_from: replica needs no replicas: list (the cluster reports them).
  const CommandResult replica = Check("replica", "  read_from: replica\n");
  EXPECT_EQ(replica.exit_code, 0) << replica.output;
}

TEST(ClusterConfigTest, OtherHashIsRefusedNamingCrc16) {
  const CommandResult result = Check("fnv", "  hash: fnv1a_64\n");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_TRUE(absl::StrContains(result.output, "fnv1a_64")) << result.output;
  EXPECT_TRUE(absl::StrContains(result.output, "CRC16")) << result.output;
  // The line of the offending key (file:line:col).
  EXPECT_TRUE(absl::StrContains(result.output, "fnv.yml:5:")) << result.output;
  // Writing the cluster's own hash is fine.
  const CommandResult crc16 = Check("crc16", "  hash: crc16\n");
  EXPECT_EQ(crc16.exit_code, 0) << crc16.output;
}

TEST(ClusterConfigTest, AutoEjectHostsIsRefused) {
  const CommandResult result = Check("eject", "  auto_eject_hosts: true\n");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_TRUE(absl::StrContains(result.output, "auto_eject_hosts")) << result.output;
  EXPECT_TRUE(absl::StrContains(result.output, "redis_cluster")) << result.output;
}

}  // namespace
}  // namespace proxy::test

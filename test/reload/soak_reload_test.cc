// Memory and file descriptors after 1,000 reloads (issue 11, item 5). Two small valid configs
// alternate: A (one redis pool, two servers) and B (the same pool with a third server and other
// weights, plus a second pool that connects at once), so that every reload builds and drops a
// pool, a listener, a server and its connection. Three client connections stay open throughout
// and are used every 50 reloads.
//
// Baseline: after the first 50 reloads (allocator caches, the log buffer and the like have
// reached their working size by then). After 1,000: the fd count is exactly the baseline (same
// config, same clients: any difference is a leak) and VmRSS has grown by less than 2 MiB. That
// tolerance is 2 KiB per reload over the 950 measured, below what leaking any per-reload
// structure would cost (a parsed config and its pool objects, a ketama continuum of 160 points
// per server, a listener's buffers), and well above the allocator's page-level noise.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"
#include "test/reload/reload_util.h"

namespace proxy::test {
namespace {

using std::chrono::milliseconds;

constexpr int kReloads = 1000;
constexpr int kBaselineAfter = 50;
#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer's allocator keeps freed chunks per size class and never returns them (measured:
// +13 MiB over the 950 reloads even without its quarantine, while the normal build grows by about
// 0.1 MiB): here the bound only catches leaks of more than about 26 KiB a reload (24 MiB over
// 950); the normal suite holds the proxy to 2 MiB.
constexpr long kRssToleranceKb = 24 * 1024;
#else
constexpr long kRssToleranceKb = 2048;
#endif

// Under AddressSanitizer (the CI's second suite) freed memory is held in a quarantine of up to
// 256 MiB before reuse, which would read as growth: the proxy started here runs without it, so
// that VmRSS still measures what the proxy keeps. Leaks proper are LeakSanitizer's to report
// (bazel/sanitizer_test_wrapper.sh fails the test on any report).
void WithoutAsanQuarantine() {
#if defined(__SANITIZE_ADDRESS__)
  const char* options = std::getenv("ASAN_OPTIONS");
  std::string value = options != nullptr ? options : "";
  absl::StrAppend(&value, value.empty() ? "" : ":",
                  "quarantine_size_mb=0:thread_local_quarantine_size_kb=0");
  setenv("ASAN_OPTIONS", value.c_str(), 1);
#endif
}

TEST(SoakReloadTest, ThousandReloadsKeepMemoryAndDescriptorsFlat) {
  WithoutAsanQuarantine();
  RedisServer r1, r2, r3;
  ASSERT_TRUE(r1.ok() && r2.ok() && r3.ok());
  const int port = FreePort();
  const int extra_port = FreePort();
  const std::string config_a = ConfigYaml({{"rpool", port, true,
                                            {ServerLine(r1.port(), 1, "r1"),
                                             ServerLine(r2.port(), 1, "r2")},
                                            "  preconnect: true\n"}});
  const std::string config_b = ConfigYaml({
      {"rpool", port, true,
       {ServerLine(r1.port(), 2, "r1"), ServerLine(r2.port(), 1, "r2"),
        ServerLine(r3.port(), 1, "r3")},
       "  hash_tag: \"{}\"\n  preconnect: true\n"},
      {"xpool", extra_port, true, {ServerLine(r3.port(), 1, "x3")}, "  preconnect: true\n"},
  });
  ReloadableProxy proxy("soak", config_a, {port});
  ASSERT_TRUE(proxy.ok()) << proxy.Log();
  std::vector<std::unique_ptr<Client>> clients;
  for (int c = 0; c < 3; ++c) {
    clients.push_back(std::make_unique<Client>(port));
    ASSERT_EQ(clients.back()->Command({"SET", absl::StrCat("soak", c), "0"}), "+OK\r\n");
  }
  auto use_clients = [&](int i) {
    for (size_t c = 0; c < clients.size(); ++c) {
      // "{s}" with hash_tag in B, the whole key in A: the key may move, so write, then read.
      const std::string key = absl::StrCat("soak{s}", c, ":", i);
      const std::string value = absl::StrCat(i);
      ASSERT_EQ(clients[c]->Command({"SET", key, value}), "+OK\r\n") << "reload " << i;
      ASSERT_EQ(clients[c]->Command({"GET", key}), RedisBulk(value)) << "reload " << i;
    }
  };
  // preconnect: the proxy holds one connection to each server of the file.
  Backend b1(r1.port(), true), b2(r2.port(), true);
  ASSERT_TRUE(WaitUntil(
      [&] { return b1.OtherClientIds().size() == 1 && b2.OtherClientIds().size() == 1; }));
  const std::vector<int64_t> ids1 = b1.OtherClientIds();
  const std::vector<int64_t> ids2 = b2.OtherClientIds();
  const long rss_start = proxy.RssKb();
  const int fds_start = proxy.FdCount();
  long rss_baseline = 0;
  int fds_baseline = 0;
  const auto started = std::chrono::steady_clock::now();
  for (int i = 1; i <= kReloads; ++i) {
    const bool to_b = i % 2 == 1;
    proxy.WriteConfig(to_b ? config_b : config_a);
    if (i % 100 == 0) {
      ASSERT_EQ(proxy.ReloadBySignal(), ReloadableProxy::SignalOutcome::kApplied)
          << "reload " << i;
    } else {
      const auto [code, body] = proxy.PostReload();
      ASSERT_EQ(code, 200) << "reload " << i << ": " << body;
    }
    if (i % 50 == 0) use_clients(i);
    if (HasFatalFailure()) return;
    if (i == kBaselineAfter) {
      // Config A again; the removed server's connection closes once idle.
      ASSERT_TRUE(WaitUntil([&] {
        Backend b3(r3.port(), true);
        return b3.OtherClientIds().empty();
      }));
      rss_baseline = proxy.RssKb();
      fds_baseline = proxy.FdCount();
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(proxy.Generation(), kReloads + 1);
  EXPECT_EQ(proxy.Reloads(true), kReloads);
  EXPECT_EQ(proxy.Reloads(false), 0);

  // Config A (1,000 is even), the same three clients.
  EXPECT_TRUE(PortRefuses(extra_port));
  EXPECT_TRUE(WaitUntil([&] { return proxy.FdCount() == fds_baseline; }, milliseconds(5000)))
      << proxy.FdCount() << " fds after " << kReloads << " reloads, " << fds_baseline
      << " after " << kBaselineAfter;
  const int fds_end = proxy.FdCount();
  EXPECT_EQ(fds_baseline, fds_start) << "fds at start vs after " << kBaselineAfter << " reloads";
  const long rss_end = proxy.RssKb();
  EXPECT_LT(rss_end - rss_baseline, kRssToleranceKb)
      << "VmRSS " << rss_baseline << " KiB after " << kBaselineAfter << " reloads, " << rss_end
      << " KiB after " << kReloads;
  use_clients(kReloads + 1);
  // The servers that stay in both files kept their single connection all along.
  EXPECT_EQ(b1.OtherClientIds(), ids1);
  EXPECT_EQ(b2.OtherClientIds(), ids2);
  Client fresh(port);
  EXPECT_EQ(fresh.Command({"PING"}), "+PONG\r\n");
  std::printf(
      "soak: %d reloads in %.1f s (%.2f ms each); VmRSS %ld KiB at start, %ld KiB after %d, %ld "
      "KiB after %d; fds %d at start, %d after %d, %d at the end\n",
      kReloads, seconds, seconds * 1000 / kReloads, rss_start, rss_baseline, kBaselineAfter,
      rss_end, kReloads, fds_start, fds_baseline, kBaselineAfter, fds_end);
}

}  // namespace
}  // namespace proxy::test

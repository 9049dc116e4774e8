// ServerDiscovery for Redis Sentinel (registered as "redis_sentinel"; docs/high-availability.md).
//
// ResolveAll asks the sentinels in order, the first that knows a master answering for it:
// SENTINEL get-master-addr-by-name, SENTINEL master (its config epoch) and SENTINEL replicas
// (replicas without s_down/o_down/disconnected flags and with master-link-status ok).
//
// Start runs one thread that keeps a SUBSCRIBE connection to every sentinel (+switch-master and
// the replica events), reconnecting each with exponential backoff, and re-queries every sentinel
// periodically so that a switch published while no subscription was up is still seen. When the
// sentinels disagree (one has not learnt a failover yet), the answer with the highest config
// epoch wins, so a lagging sentinel never moves a server back to its demoted master.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/discovery.h"
#include "protocols/redis/sentinel/connection.h"

namespace proxy::protocols::redis::sentinel {

using Address = std::pair<std::string, uint32_t>;

struct SentinelOptions {
  std::vector<Address> sentinels;  // asked in this order
  std::string password;            // AUTH to the sentinels; empty = none
  // The pool's servers: node name (= Sentinel master name) and configured address (the starting
  // guess, what `changed` compares against until a sentinel answers).
  std::vector<DiscoveredServer> servers;
  absl::Duration io_timeout = absl::Seconds(1);  // one connect or command on one sentinel
  absl::Duration requery_interval = absl::Seconds(5);
  absl::Duration backoff_initial = absl::Milliseconds(100);
  absl::Duration backoff_max = absl::Seconds(3);
  // Where problems and state changes are reported (must be thread-safe); default: stderr lines
  // prefixed "sentinel: ". Plugins cannot use the core's log (test/deps), so the core passes
  // its own sink here.
  std::function<void(absl::string_view)> log;
};

// The options for `pool` (its sentinels, sentinel_password and servers' node names).
SentinelOptions OptionsFromPool(const config::v1::Pool& pool);

// What one sentinel says about one master.
struct MasterAnswer {
  std::string host;
  uint32_t port = 0;
  int64_t config_epoch = -1;
  std::vector<Address> replicas;  // healthy only, sorted
};

// ResolveAll with its reasons: every server not resolved has one line in `errors`.
struct ResolveReport {
  std::vector<DiscoveredServer> servers;
  std::vector<std::string> errors;
};

class SentinelDiscovery final : public ServerDiscovery {
 public:
  explicit SentinelDiscovery(SentinelOptions options);
  ~SentinelDiscovery() override;

  std::vector<DiscoveredServer> ResolveAll(absl::Duration timeout) override;
  absl::Status Start(std::function<void(const DiscoveredServer&)> changed) override;
  void Stop() override;
  void SetLogSink(std::function<void(absl::string_view)> sink) override {
    options_.log = std::move(sink);
  }

  // ResolveAll, returning the errors instead of only logging them.
  ResolveReport Resolve(absl::Duration timeout);

  // One master from one open connection: NotFound when that sentinel does not monitor it.
  static absl::StatusOr<MasterAnswer> QueryMaster(SentinelConnection& conn,
                                                  const std::string& name, absl::Time deadline);

 private:
  struct Known {
    std::string host;
    uint32_t port = 0;
    std::vector<Address> replicas;
    int64_t config_epoch = -1;
    bool from_switch = false;  // the address came from a +switch-master, not from a query
  };
  struct Subscriber;

  void Run();
  // Starts a subscription (non-blocking); the poll loop carries it on.
  void Subscribe(Subscriber& sub);
  absl::Status SendSubscribe(Subscriber& sub);
  absl::Status HandshakeReply(Subscriber& sub, const RespValue& reply);
  // Closes a subscription (or an attempt) and schedules the next attempt with backoff.
  void Drop(Subscriber& sub, const absl::Status& why);
  void Drain(Subscriber& sub);
  void HandleMessage(Subscriber& sub, const RespValue& message);
  void Requery(const std::vector<Subscriber>& subs);
  // Applies a change under the lock; returns the server to report, if any.
  bool Apply(const std::string& name, const Known& next, DiscoveredServer* report);
  void Report(const DiscoveredServer& server);
  void Log(absl::string_view message) const;

  SentinelOptions options_;
  int cancel_fd_ = -1;  // eventfd: readable once Stop() was called
  std::mutex mu_;
  std::map<std::string, Known> known_;  // by master name (guarded by mu_)
  std::function<void(const DiscoveredServer&)> changed_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  absl::Time next_requery_;                          // watcher thread only
  std::map<size_t, std::string> requery_problem_;  // watcher thread only: last one logged
};

}  // namespace proxy::protocols::redis::sentinel

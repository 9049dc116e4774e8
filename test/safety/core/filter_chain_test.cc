// Issue 9, findings 13 and 5 (core part), in-process: a Worker built from a pool whose chain
// holds filters defined here, in front of the real router, with a real redis-server behind it.
//   * a filter that answers (SendLocalReply / SendLocalError) still sees its request intact
//     after answering: the answer is only recorded during the chain and completed after it;
//   * a filter that answers and returns kContinue: the request is not forwarded (the backend
//     never sees it) and no later filter runs on it; the first answer wins;
//   * a filter that stops without answering: the client still gets an error;
//   * filters may refuse more, never less: a filter that turns MULTI into a read does not get it
//     forwarded, and a filter that marks a request unsupported gets it refused;
//   * OnComplete runs exactly once per request on every filter.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/filter.h"
#include "api/registry.h"
#include "core/config/config.h"
#include "core/proxy/shared_pool.h"
#include "core/proxy/worker.h"
#include "gtest/gtest.h"
#include "test/safety/core/safety_util.h"

namespace proxy::safety_test {
namespace {

// What the filters saw (written on the worker thread, read by the test).
struct Observed {
  std::atomic<int> answered{0};
  std::atomic<int> intact_after_answer{0};
  std::atomic<int> later_filter_saw_answered{0};
  std::atomic<int> first_completes{0};
  std::atomic<int> second_completes{0};
};
Observed& Seen() {
  static auto* seen = new Observed();
  return *seen;
}

bool KeyStarts(const Request& request, absl::string_view prefix) {
  return request.KeyCount() > 0 && absl::StartsWith(request.Key(0), prefix);
}

// First in the chain: answers some requests and returns kContinue anyway, stops others
// without an answer, and tries to change what is refused.
class MeddlingFilter : public Filter {
 public:
  FilterStatus OnRequest(Request& request, FilterCallbacks& callbacks) override {
    if (request.kind == CommandKind::kUnsupported) {
      request.kind = CommandKind::kRead;  // tries to let SUBSCRIBE & co through
      return FilterStatus::kContinue;
    }
    if (KeyStarts(request, "refuse:")) {
      request.kind = CommandKind::kUnsupported;  // refuses more
      return FilterStatus::kContinue;
    }
    if (KeyStarts(request, "stop:")) return FilterStatus::kStop;  // no answer
    if (!KeyStarts(request, "answered:")) return FilterStatus::kContinue;
    const std::string key(request.Key(0));
    const std::string command(request.command);
    if (key == "answered:error") {
      callbacks.SendLocalError("answered by the test filter");
    } else {
      callbacks.SendLocalReply("+ANSWERED\r\n");
    }
    callbacks.SendLocalReply("+SECOND-ANSWER\r\n");  // the first answer wins
    ++Seen().answered;
    // The request (and its context) must still be this request after answering.
    if (request.KeyCount() == 1 && request.Key(0) == key && request.command == command &&
        !callbacks.Context().routed) {
      ++Seen().intact_after_answer;
    }
    return FilterStatus::kContinue;  // answered, yet asks to go on: must not be forwarded
  }
  void OnComplete(const Request& request, const Outcome& outcome) override {
    ++Seen().first_completes;
  }
};

// Second in the chain: must never run on an answered request.
class WatchingFilter : public Filter {
 public:
  FilterStatus OnRequest(Request& request, FilterCallbacks& callbacks) override {
    if (KeyStarts(request, "answered:")) ++Seen().later_filter_saw_answered;
    return FilterStatus::kContinue;
  }
  void OnComplete(const Request& request, const Outcome& outcome) override {
    ++Seen().second_completes;
  }
};

template <class FilterType>
class TestFactory : public FilterFactory {
 public:
  explicit TestFactory(absl::string_view name) : name_(name) {}
  absl::string_view Name() const override { return name_; }
  absl::string_view Description() const override { return "filter chain test filter"; }
  std::unique_ptr<google::protobuf::Message> NewConfigProto() const override { return nullptr; }
  absl::StatusOr<FilterFactoryFn> Create(const google::protobuf::Message& config,
                                         FactoryContext& context) const override {
    return FilterFactoryFn([] { return FilterPtr(new FilterType()); });
  }

 private:
  std::string name_;
};

class MeddlingFactory : public TestFactory<MeddlingFilter> {
 public:
  MeddlingFactory() : TestFactory("test_meddling") {}
};
class WatchingFactory : public TestFactory<WatchingFilter> {
 public:
  WatchingFactory() : TestFactory("test_watching") {}
};
PROXY_REGISTER_FACTORY(MeddlingFactory, FilterFactory)
PROXY_REGISTER_FACTORY(WatchingFactory, FilterFactory)

class FilterChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.ok());
    listen_ = FreePort();
    config::LoadResult loaded =
        config::LoadConfigText(RedisPoolYaml("alpha", listen_, {redis_.port()}), "chain.yml");
    ASSERT_TRUE(loaded.ok()) << loaded.errors.size() << " config errors";
    config::v1::Pool pool = loaded.bootstrap.pools(0);
    pool.clear_filters();
    for (const char* name : {"test_meddling", "test_watching", "router"}) {
      pool.add_filters()->set_name(name);
    }
    absl::StatusOr<SharedPoolPtr> shared = BuildSharedPool(pool, ProxyLimits());
    ASSERT_TRUE(shared.ok()) << shared.status();
    shared_ = *std::move(shared);
    absl::StatusOr<std::shared_ptr<ListenSockets>> listener = OpenListener(shared_->config, 1);
    ASSERT_TRUE(listener.ok()) << listener.status();
    shared_->listener = *std::move(listener);
    worker_ = std::make_unique<Worker>(0, std::vector<std::shared_ptr<const SharedPool>>{shared_});
    absl::Status status = worker_->Init();
    ASSERT_TRUE(status.ok()) << status;
    worker_->Start();
  }
  void TearDown() override {
    if (worker_ == nullptr) return;
    // Every client has gone before the loop stops (nothing is left to free by hand).
    PoolStats& stats = worker_->pools()[0]->stats();
    EXPECT_TRUE(WaitUntil([&] { return stats.client_connections.Get() == 0; },
                          milliseconds(20000)));
    worker_->Stop();
    worker_->Join();
    worker_.reset();
  }

  Redis redis_;
  int listen_ = 0;
  SharedPoolPtr shared_;
  std::unique_ptr<Worker> worker_;
};

TEST_F(FilterChainTest, AnswersAreCompletedAfterTheChainAndNeverForwarded) {
  Observed& seen = Seen();
  const int answered_before = seen.answered.load();
  const int intact_before = seen.intact_after_answer.load();
  {
    Conn client(listen_);
    ASSERT_TRUE(client.connected());
    // Pipelined, so that the answered requests are at the head of the queue when answered.
    const std::vector<std::vector<std::string>> commands = {
        {"SET", "answered:reply", "x"}, {"SET", "plain", "1"},     {"SET", "answered:error", "x"},
        {"GET", "plain"},               {"GET", "answered:reply"}, {"SET", "answered:last", "x"}};
    std::string bytes;
    for (const auto& command : commands) bytes += Resp(command);
    ASSERT_TRUE(client.Send(bytes));
    EXPECT_EQ(client.ReadReply(), "+ANSWERED\r\n");
    EXPECT_EQ(client.ReadReply(), "+OK\r\n");
    EXPECT_EQ(client.ReadReply(), "-ERR answered by the test filter\r\n");
    EXPECT_EQ(client.ReadReply(), "$1\r\n1\r\n");
    EXPECT_EQ(client.ReadReply(), "+ANSWERED\r\n");
    EXPECT_EQ(client.ReadReply(), "+ANSWERED\r\n");
    // The connection is in a sane state afterwards.
    EXPECT_EQ(client.Command({"GET", "plain"}), "$1\r\n1\r\n");
  }
  EXPECT_EQ(seen.answered.load() - answered_before, 4);
  EXPECT_EQ(seen.intact_after_answer.load() - intact_before, 4)
      << "a filter saw its request finished (and recycled) under it after answering";
  EXPECT_EQ(seen.later_filter_saw_answered.load(), 0)
      << "a filter after the one that answered still ran on the request";
  // Nothing answered by the filter reached the backend.
  EXPECT_EQ(redis_.Direct({"EXISTS", "answered:reply", "answered:error", "answered:last"}),
            ":0\r\n");
  EXPECT_EQ(redis_.Direct({"GET", "plain"}), "$1\r\n1\r\n");
}

TEST_F(FilterChainTest, StopWithoutAnswerStillAnswers) {
  Conn client(listen_);
  EXPECT_EQ(client.Command({"SET", "stop:x", "1"}),
            "-ERR request stopped by a filter without a reply\r\n");
  EXPECT_EQ(client.Command({"SET", "after", "1"}), "+OK\r\n");
  EXPECT_EQ(redis_.Direct({"EXISTS", "stop:x"}), ":0\r\n");
}

TEST_F(FilterChainTest, FiltersMayRefuseMoreNeverLess) {
  Conn client(listen_);
  Conn bystander(listen_);
  const std::string monitor = client.Command({"MONITOR"});
  EXPECT_TRUE(absl::StartsWith(monitor, "-ERR unsupported command 'MONITOR'")) << monitor;
  const std::string subscribe = client.Command({"SUBSCRIBE", "news"});
  EXPECT_TRUE(absl::StartsWith(subscribe, "-ERR unsupported command 'SUBSCRIBE'")) << subscribe;
  EXPECT_EQ(bystander.Command({"SET", "b", "1"}), "+OK\r\n");
  EXPECT_EQ(bystander.Command({"GET", "b"}), "$1\r\n1\r\n");
  const std::string refused = client.Command({"SET", "refuse:x", "1"});
  EXPECT_TRUE(absl::StartsWith(refused, "-ERR unsupported command 'SET'")) << refused;
  EXPECT_EQ(redis_.Direct({"EXISTS", "refuse:x"}), ":0\r\n");
  const std::string commandstats = redis_.Direct({"INFO", "commandstats"});
  EXPECT_FALSE(absl::StrContains(commandstats, "cmdstat_monitor")) << commandstats;
  EXPECT_FALSE(absl::StrContains(commandstats, "cmdstat_subscribe")) << commandstats;
  // MONITOR, SUBSCRIBE and the SET a filter marked unsupported.
  EXPECT_EQ(worker_->pools()[0]->stats().unsupported_refused.Get(), 3);
}

TEST_F(FilterChainTest, OnCompleteOncePerRequestOnEveryFilter) {
  Observed& seen = Seen();
  const int first_before = seen.first_completes.load();
  const int second_before = seen.second_completes.load();
  {
    Conn client(listen_);
    std::string bytes;
    const std::vector<std::vector<std::string>> commands = {
        {"SET", "answered:a", "1"}, {"SET", "k", "1"}, {"SET", "stop:s", "1"},
        {"MULTI"},                  {"GET", "k"},      {"SET", "refuse:r", "1"}};
    for (const auto& command : commands) bytes += Resp(command);
    ASSERT_TRUE(client.Send(bytes));
    for (size_t i = 0; i < commands.size(); ++i) EXPECT_FALSE(client.ReadReply().empty()) << i;
  }
  EXPECT_EQ(seen.first_completes.load() - first_before, 6);
  EXPECT_EQ(seen.second_completes.load() - second_before, 6);
}

}  // namespace
}  // namespace proxy::safety_test

#include "protocols/redis/sentinel/sentinel_discovery.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace proxy::protocols::redis::sentinel {
namespace {

// The channels the watcher subscribes to on every sentinel. +switch-master moves a server;
// the others change a master's set of healthy replicas (the payload names the master after '@').
constexpr const char* kSwitchMaster = "+switch-master";
const std::vector<std::string>& Channels() {
  static const auto* channels = new std::vector<std::string>{
      kSwitchMaster, "+sdown", "-sdown", "+slave", "+slave-reconf-done", "-odown"};
  return *channels;
}

std::string AddressText(const std::string& host, uint32_t port) {
  return absl::StrCat(host.find(':') != std::string::npos ? "[" + host + "]" : host, ":", port);
}

bool ParsePort(absl::string_view text, uint32_t* port) {
  return absl::SimpleAtoi(text, port) && *port > 0 && *port <= 65535;
}

// A flat RESP2 map (field, value, field, value...) as SENTINEL master / replicas send it.
std::map<std::string, std::string> FlatMap(const RespValue& value) {
  std::map<std::string, std::string> fields;
  if (!value.is_array()) return fields;
  for (size_t i = 0; i + 1 < value.elements.size(); i += 2) {
    if (value.elements[i].is_string() && value.elements[i + 1].is_string()) {
      fields[value.elements[i].text] = value.elements[i + 1].text;
    }
  }
  return fields;
}

bool HealthyReplica(const std::map<std::string, std::string>& fields) {
  auto flags = fields.find("flags");
  auto link = fields.find("master-link-status");
  if (flags == fields.end() || link == fields.end() || link->second != "ok") return false;
  for (absl::string_view flag : absl::StrSplit(flags->second, ',')) {
    if (flag == "s_down" || flag == "o_down" || flag == "disconnected") return false;
  }
  return true;
}

absl::Status Unexpected(const SentinelConnection& conn, absl::string_view command,
                        const RespValue& reply) {
  return absl::DataLossError(absl::StrCat(
      "sentinel ", conn.name(), ": unexpected reply to ", command,
      reply.is_error() ? absl::StrCat(": -", Printable(reply.text)) : std::string()));
}

}  // namespace

SentinelOptions OptionsFromPool(const config::v1::Pool& pool) {
  SentinelOptions options;
  for (const config::v1::Sentinel& s : pool.sentinels()) {
    options.sentinels.emplace_back(s.tcp().host(), s.tcp().port());
  }
  options.password = pool.sentinel_password();
  for (const config::v1::Server& server : pool.servers()) {
    DiscoveredServer d;
    d.server = server.node_name();
    if (server.has_tcp()) {
      d.host = server.tcp().host();
      d.port = server.tcp().port();
    }
    options.servers.push_back(std::move(d));
  }
  return options;
}

absl::StatusOr<MasterAnswer> SentinelDiscovery::QueryMaster(SentinelConnection& conn,
                                                            const std::string& name,
                                                            absl::Time deadline) {
  MasterAnswer answer;
  absl::StatusOr<RespValue> addr =
      conn.Command({"SENTINEL", "get-master-addr-by-name", name}, deadline);
  if (!addr.ok()) return addr.status();
  if (addr->is_null()) {
    return absl::NotFoundError(
        absl::StrCat("sentinel ", conn.name(), " does not monitor a master named '", name, "'"));
  }
  if (addr->is_error() && absl::StartsWith(addr->text, "NOAUTH")) {
    return absl::PermissionDeniedError(
        absl::StrCat("sentinel ", conn.name(), ": -", Printable(addr->text),
                     " (the sentinels need sentinel_password)"));
  }
  if (!addr->is_array() || addr->elements.size() != 2 || !addr->elements[0].is_string() ||
      !addr->elements[1].is_string() || addr->elements[0].text.empty() ||
      !ParsePort(addr->elements[1].text, &answer.port)) {
    return Unexpected(conn, "SENTINEL get-master-addr-by-name", *addr);
  }
  answer.host = addr->elements[0].text;

  absl::StatusOr<RespValue> master = conn.Command({"SENTINEL", "master", name}, deadline);
  if (!master.ok()) return master.status();
  if (master->is_array()) {
    const auto fields = FlatMap(*master);
    auto epoch = fields.find("config-epoch");
    if (epoch == fields.end() || !absl::SimpleAtoi(epoch->second, &answer.config_epoch)) {
      answer.config_epoch = -1;
    }
  } else if (!master->is_error()) {
    // An error here means the master was removed between the two commands: no epoch.
    return Unexpected(conn, "SENTINEL master", *master);
  }

  // "replicas" since Redis 5; older sentinels only know "slaves".
  absl::StatusOr<RespValue> replicas = conn.Command({"SENTINEL", "replicas", name}, deadline);
  if (!replicas.ok()) return replicas.status();
  if (replicas->is_error() && absl::StrContains(replicas->text, "Unknown sentinel subcommand")) {
    replicas = conn.Command({"SENTINEL", "slaves", name}, deadline);
    if (!replicas.ok()) return replicas.status();
  }
  if (replicas->is_error()) return answer;  // the master went away meanwhile: no replicas
  if (!replicas->is_array()) return Unexpected(conn, "SENTINEL replicas", *replicas);
  for (const RespValue& replica : replicas->elements) {
    if (!replica.is_array()) return Unexpected(conn, "SENTINEL replicas", *replicas);
    const auto fields = FlatMap(replica);
    auto ip = fields.find("ip");
    auto port_field = fields.find("port");
    uint32_t port = 0;
    if (ip == fields.end() || ip->second.empty() || port_field == fields.end() ||
        !ParsePort(port_field->second, &port)) {
      return Unexpected(conn, "SENTINEL replicas", *replicas);
    }
    if (HealthyReplica(fields)) answer.replicas.emplace_back(ip->second, port);
  }
  std::sort(answer.replicas.begin(), answer.replicas.end());
  answer.replicas.erase(std::unique(answer.replicas.begin(), answer.replicas.end()),
                        answer.replicas.end());
  return answer;
}

SentinelDiscovery::SentinelDiscovery(SentinelOptions options) : options_(std::move(options)) {
  cancel_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  for (const DiscoveredServer& server : options_.servers) {
    Known& known = known_[server.server];
    known.host = server.host;
    known.port = server.port;
  }
}

SentinelDiscovery::~SentinelDiscovery() {
  Stop();
  if (cancel_fd_ >= 0) ::close(cancel_fd_);
}

void SentinelDiscovery::Log(absl::string_view message) const {
  if (options_.log) {
    options_.log(message);
  } else {
    std::fprintf(stderr, "sentinel: %.*s\n", static_cast<int>(message.size()), message.data());
  }
}

ResolveReport SentinelDiscovery::Resolve(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  ResolveReport report;
  std::set<std::string> pending;
  for (const auto& server : options_.servers) pending.insert(server.server);
  std::map<std::string, std::vector<std::string>> why;  // per master, one line per sentinel
  std::map<std::string, MasterAnswer> answers;
  if (options_.sentinels.empty()) report.errors.push_back("no sentinels configured");

  for (const Address& sentinel : options_.sentinels) {
    if (pending.empty() || absl::Now() >= deadline) break;
    // Not cancellable by Stop(): ResolveAll belongs to the caller's thread and has its deadline.
    SentinelConnection conn(sentinel.first, sentinel.second, /*cancel_fd=*/-1);
    absl::Status connected =
        conn.Connect(options_.password, std::min(deadline, absl::Now() + options_.io_timeout));
    if (!connected.ok()) {
      for (const std::string& name : pending) why[name].push_back(connected.ToString());
      continue;
    }
    for (auto it = pending.begin(); it != pending.end();) {
      absl::StatusOr<MasterAnswer> answer =
          QueryMaster(conn, *it, std::min(deadline, absl::Now() + options_.io_timeout));
      if (answer.ok()) {
        answers[*it] = *std::move(answer);
        it = pending.erase(it);
        continue;
      }
      why[*it].push_back(answer.status().ToString());
      if (!conn.connected()) {
        // The connection is gone (timeout, reset, malformed reply): the next sentinel answers
        // for the rest.
        for (auto rest = std::next(it); rest != pending.end(); ++rest) {
          why[*rest].push_back(absl::StrCat("sentinel ", conn.name(), ": connection lost"));
        }
        break;
      }
      ++it;
    }
  }

  std::lock_guard<std::mutex> lock(mu_);
  for (const DiscoveredServer& server : options_.servers) {
    auto answer = answers.find(server.server);
    if (answer == answers.end()) {
      std::vector<std::string>& reasons = why[server.server];
      if (reasons.empty()) reasons.push_back("timed out before any sentinel was asked");
      report.errors.push_back(absl::StrCat("master '", server.server,
                                           "' not resolved: ", absl::StrJoin(reasons, "; ")));
      continue;
    }
    Known& known = known_[server.server];
    if (answer->second.config_epoch >= known.config_epoch || known.config_epoch < 0) {
      known.host = answer->second.host;
      known.port = answer->second.port;
      known.replicas = answer->second.replicas;
      known.config_epoch = answer->second.config_epoch;
      known.from_switch = false;
    }
    DiscoveredServer d;
    d.server = server.server;
    d.host = known.host;
    d.port = known.port;
    d.replicas = known.replicas;
    report.servers.push_back(std::move(d));
  }
  return report;
}

std::vector<DiscoveredServer> SentinelDiscovery::ResolveAll(absl::Duration timeout) {
  ResolveReport report = Resolve(timeout);
  for (const std::string& error : report.errors) Log(error);
  return std::move(report.servers);
}

struct SentinelDiscovery::Subscriber {
  enum class State { kIdle, kConnecting, kHandshake, kSubscribed };
  Address address;
  std::unique_ptr<SentinelConnection> conn;  // set unless kIdle
  State state = State::kIdle;
  absl::Time next_attempt = absl::InfinitePast();  // kIdle: when to try again
  absl::Time handshake_deadline;                   // kConnecting / kHandshake
  size_t replies_pending = 0;                      // kHandshake: AUTH + confirmations to come
  bool auth_pending = false;                       // kHandshake: the first of them is AUTH's
  absl::Duration backoff;
  bool ever_subscribed = false;
  bool failing_logged = false;  // a failed attempt was logged; quiet until it works again
};

absl::Status SentinelDiscovery::Start(std::function<void(const DiscoveredServer&)> changed) {
  if (thread_.joinable()) return absl::FailedPreconditionError("sentinel watcher already started");
  if (cancel_fd_ < 0) return absl::InternalError("eventfd failed");
  if (options_.sentinels.empty()) return absl::FailedPreconditionError("no sentinels configured");
  uint64_t drain = 0;
  while (::read(cancel_fd_, &drain, sizeof(drain)) > 0) {
  }
  stopping_.store(false);
  changed_ = std::move(changed);
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void SentinelDiscovery::Stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true);
  const uint64_t one = 1;
  while (::write(cancel_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
  }
  thread_.join();
  changed_ = nullptr;
}

void SentinelDiscovery::Run() {
  std::vector<Subscriber> subs(options_.sentinels.size());
  for (size_t i = 0; i < subs.size(); ++i) {
    subs[i].address = options_.sentinels[i];
    subs[i].backoff = options_.backoff_initial;
  }
  // The first query once the subscriptions had their chance (it then asks only the sentinels
  // that answered): anything that changed between ResolveAll and Start is reported by then.
  next_requery_ = absl::Now() + options_.io_timeout;
  bool first_query = true;
  while (!stopping_.load()) {
    const absl::Time now = absl::Now();
    bool handshaking = false;
    for (Subscriber& sub : subs) {
      if (sub.state == Subscriber::State::kIdle && now >= sub.next_attempt) Subscribe(sub);
      handshaking = handshaking || sub.state == Subscriber::State::kConnecting ||
                    sub.state == Subscriber::State::kHandshake;
    }
    // ... or as soon as every first attempt has ended either way.
    if (first_query && !handshaking) next_requery_ = std::min(next_requery_, now);
    if (absl::Now() >= next_requery_) {
      next_requery_ = absl::Now() + options_.requery_interval;
      first_query = false;
      Requery(subs);
      if (stopping_.load()) break;
    }

    // The subscriptions (being made or made) and the stop signal, in one poll: a sentinel that
    // never answers holds nothing but its own subscription.
    std::vector<pollfd> fds;
    std::vector<Subscriber*> polled;
    absl::Time wake = next_requery_;
    for (Subscriber& sub : subs) {
      switch (sub.state) {
        case Subscriber::State::kIdle:
          wake = std::min(wake, sub.next_attempt);
          continue;
        case Subscriber::State::kConnecting:
          fds.push_back({sub.conn->fd(), POLLOUT, 0});
          wake = std::min(wake, sub.handshake_deadline);
          break;
        case Subscriber::State::kHandshake:
          fds.push_back({sub.conn->fd(), POLLIN, 0});
          wake = std::min(wake, sub.handshake_deadline);
          break;
        case Subscriber::State::kSubscribed:
          fds.push_back({sub.conn->fd(), POLLIN, 0});
          break;
      }
      polled.push_back(&sub);
    }
    fds.push_back({cancel_fd_, POLLIN, 0});
    const absl::Duration left = wake - absl::Now();
    const int timeout_ms =
        left <= absl::ZeroDuration()
            ? 0
            : static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 60000));
    const int n = ::poll(fds.data(), fds.size(), timeout_ms);
    if (n < 0 && errno != EINTR) {
      Log(absl::StrCat("poll failed: ", std::strerror(errno)));
      break;
    }
    if (n > 0 && (fds.back().revents & POLLIN) != 0) break;
    for (size_t i = 0; n > 0 && i < polled.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Subscriber& sub = *polled[i];
      if (sub.state == Subscriber::State::kConnecting) {
        absl::Status status = sub.conn->ConnectFinish();
        if (status.ok()) status = SendSubscribe(sub);
        if (!status.ok()) Drop(sub, status);
        continue;
      }
      absl::Status read = sub.conn->ReadAvailable();
      if (!read.ok()) {
        Drop(sub, read);
        continue;
      }
      Drain(sub);
    }
    // Deadlines after the events: a reply that arrived while a query held the thread counts.
    const absl::Time after = absl::Now();
    for (Subscriber& sub : subs) {
      if ((sub.state == Subscriber::State::kConnecting ||
           sub.state == Subscriber::State::kHandshake) &&
          after >= sub.handshake_deadline) {
        Drop(sub, absl::DeadlineExceededError(
                      absl::StrCat("sentinel ", sub.conn->name(), ": no answer to SUBSCRIBE within ",
                                   absl::FormatDuration(options_.io_timeout))));
      }
    }
  }
  for (Subscriber& sub : subs) sub.conn.reset();
}

void SentinelDiscovery::Subscribe(Subscriber& sub) {
  sub.conn = std::make_unique<SentinelConnection>(sub.address.first, sub.address.second,
                                                  cancel_fd_);
  sub.state = Subscriber::State::kConnecting;
  sub.handshake_deadline = absl::Now() + options_.io_timeout;
  absl::Status status = sub.conn->ConnectStart();
  if (!status.ok()) Drop(sub, status);
}

absl::Status SentinelDiscovery::SendSubscribe(Subscriber& sub) {
  // AUTH and SUBSCRIBE in one write: a few hundred bytes on a fresh socket never block.
  sub.auth_pending = !options_.password.empty();
  if (sub.auth_pending) {
    absl::Status sent = sub.conn->Send({"AUTH", options_.password}, sub.handshake_deadline);
    if (!sent.ok()) return sent;
  }
  std::vector<std::string> args = {"SUBSCRIBE"};
  args.insert(args.end(), Channels().begin(), Channels().end());
  absl::Status sent = sub.conn->Send(args, sub.handshake_deadline);
  if (!sent.ok()) return sent;
  sub.state = Subscriber::State::kHandshake;
  sub.replies_pending = Channels().size() + (sub.auth_pending ? 1 : 0);
  return absl::OkStatus();
}

// A handshake reply: AUTH's, then one ["subscribe", channel, count] per channel.
absl::Status SentinelDiscovery::HandshakeReply(Subscriber& sub, const RespValue& reply) {
  if (sub.auth_pending) {
    sub.auth_pending = false;
    --sub.replies_pending;
    if (reply.is_error()) {
      return absl::PermissionDeniedError(absl::StrCat(
          "sentinel ", sub.conn->name(), ": AUTH refused: ", Printable(reply.text)));
    }
    return absl::OkStatus();
  }
  if (reply.is_error()) {
    return absl::UnavailableError(absl::StrCat("sentinel ", sub.conn->name(),
                                               ": SUBSCRIBE refused: -", Printable(reply.text)));
  }
  if (!reply.is_array() || reply.elements.size() != 3 || !reply.elements[0].is_string() ||
      reply.elements[0].text != "subscribe") {
    return Unexpected(*sub.conn, "SUBSCRIBE", reply);
  }
  if (--sub.replies_pending > 0) return absl::OkStatus();

  if (sub.ever_subscribed || sub.failing_logged) {
    Log(absl::StrCat("subscribed again to sentinel ", sub.conn->name()));
    // A switch may have been published while this subscription was down: ask now.
    next_requery_ = absl::Now();
  }
  sub.state = Subscriber::State::kSubscribed;
  sub.ever_subscribed = true;
  sub.failing_logged = false;
  sub.backoff = options_.backoff_initial;
  return absl::OkStatus();
}

void SentinelDiscovery::Drop(Subscriber& sub, const absl::Status& why) {
  if (sub.state == Subscriber::State::kSubscribed) {
    if (why.code() != absl::StatusCode::kCancelled) {
      Log(absl::StrCat("lost the subscription (reconnecting): ", why.ToString()));
    }
    sub.backoff = options_.backoff_initial;
  } else if (!sub.failing_logged && why.code() != absl::StatusCode::kCancelled) {
    Log(absl::StrCat("cannot subscribe (retrying with backoff up to ",
                     absl::FormatDuration(options_.backoff_max), "): ", why.ToString()));
    sub.failing_logged = true;
  }
  sub.conn.reset();
  sub.state = Subscriber::State::kIdle;
  sub.next_attempt = absl::Now() + sub.backoff;
  sub.backoff = std::min(sub.backoff * 2, options_.backoff_max);
}

void SentinelDiscovery::Drain(Subscriber& sub) {
  while (sub.conn != nullptr) {
    absl::StatusOr<std::optional<RespValue>> next = sub.conn->NextBuffered();
    if (!next.ok()) {
      Drop(sub, next.status());
      return;
    }
    if (!next->has_value()) return;
    if (sub.state == Subscriber::State::kHandshake) {
      absl::Status status = HandshakeReply(sub, **next);
      if (!status.ok()) {
        Drop(sub, status);
        return;
      }
      continue;
    }
    HandleMessage(sub, **next);
  }
}

void SentinelDiscovery::HandleMessage(Subscriber& sub, const RespValue& message) {
  if (!message.is_array() || message.elements.size() != 3 ||
      !message.elements[0].is_string() || !message.elements[1].is_string() ||
      !message.elements[2].is_string()) {
    Drop(sub, Unexpected(*sub.conn, "a pub/sub message", message));
    return;
  }
  if (message.elements[0].text != "message") return;  // late subscribe confirmations
  const std::string& channel = message.elements[1].text;
  const std::vector<absl::string_view> words =
      absl::StrSplit(message.elements[2].text, ' ', absl::SkipEmpty());
  if (channel == kSwitchMaster) {
    // "<master name> <old ip> <old port> <new ip> <new port>"
    uint32_t port = 0;
    if (words.size() != 5 || !ParsePort(words[4], &port) || words[3].empty()) {
      Log(absl::StrCat("sentinel ", sub.conn->name(), ": ignored a malformed +switch-master: \"",
                       Printable(message.elements[2].text), "\""));
      return;
    }
    const std::string name(words[0]);
    DiscoveredServer report;
    bool changed = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = known_.find(name);
      if (it == known_.end()) return;  // another pool's master
      Known next = it->second;
      next.host = std::string(words[3]);
      next.port = port;
      if (next.host == it->second.host && next.port == it->second.port) return;  // a duplicate
      // The new master was a replica; the other replicas follow it once reconfigured, so they
      // stay readable (their data is the old master's) until the next query says otherwise.
      next.replicas.erase(
          std::remove(next.replicas.begin(), next.replicas.end(), Address(next.host, port)),
          next.replicas.end());
      next.from_switch = true;
      it->second = next;
      report.server = name;
      report.host = next.host;
      report.port = next.port;
      report.replicas = next.replicas;
      changed = true;
    }
    if (changed) {
      Log(absl::StrCat("master '", name, "' switched to ", AddressText(report.host, report.port),
                       " (", sub.conn->name(), ")"));
      Report(report);
    }
    // The replicas of the new master settle within a second or two: look again soon.
    next_requery_ = std::min(next_requery_, absl::Now() + absl::Seconds(1));
    return;
  }
  // Instance events: "<type> <name> <ip> <port> @ <master name> <master ip> <master port>";
  // only replicas of our masters matter (a master's own s_down is Sentinel's business).
  if (words.size() == 8 && words[0] == "slave" && words[4] == "@") {
    std::lock_guard<std::mutex> lock(mu_);
    if (known_.count(std::string(words[5])) != 0) {
      // Several sentinels report the same event: one query shortly after covers them all.
      next_requery_ = std::min(next_requery_, absl::Now() + absl::Milliseconds(200));
    }
  }
}

void SentinelDiscovery::Requery(const std::vector<Subscriber>& subs) {
  std::vector<std::string> names;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, known] : known_) names.push_back(name);
  }
  // Every sentinel that holds a subscription is asked (all of them when none does: a sentinel
  // that cannot be subscribed to would only hold the thread for io_timeout); per master the
  // highest config epoch wins (first on a tie).
  bool any_subscribed = false;
  for (const Subscriber& sub : subs) {
    any_subscribed = any_subscribed || sub.state == Subscriber::State::kSubscribed;
  }
  std::map<std::string, MasterAnswer> best;
  for (size_t i = 0; i < options_.sentinels.size(); ++i) {
    if (stopping_.load()) return;
    if (any_subscribed && subs[i].state != Subscriber::State::kSubscribed) continue;
    const Address& sentinel = options_.sentinels[i];
    SentinelConnection conn(sentinel.first, sentinel.second, cancel_fd_);
    // Unreachable sentinels are the subscriber's to report; a query that fails on a connected
    // one (a malformed reply, a refused command) is logged once until it changes.
    if (!conn.Connect(options_.password, absl::Now() + options_.io_timeout).ok()) continue;
    std::string problem;
    for (const std::string& name : names) {
      absl::StatusOr<MasterAnswer> answer =
          QueryMaster(conn, name, absl::Now() + options_.io_timeout);
      if (!answer.ok()) {
        if (answer.status().code() == absl::StatusCode::kDataLoss ||
            answer.status().code() == absl::StatusCode::kPermissionDenied) {
          problem = answer.status().ToString();
        }
        if (!conn.connected()) break;
        continue;
      }
      auto it = best.find(name);
      if (it == best.end() || answer->config_epoch > it->second.config_epoch) {
        best[name] = *std::move(answer);
      }
    }
    if (!problem.empty() && problem != requery_problem_[i]) Log(problem);
    requery_problem_[i] = problem;
  }
  for (const auto& [name, answer] : best) {
    Known next;
    next.host = answer.host;
    next.port = answer.port;
    next.replicas = answer.replicas;
    next.config_epoch = answer.config_epoch;
    DiscoveredServer report;
    if (Apply(name, next, &report)) {
      Log(absl::StrCat("master '", name, "' is at ", AddressText(report.host, report.port),
                       " with ", report.replicas.size(), " healthy replica(s)"));
      Report(report);
    }
  }
}

bool SentinelDiscovery::Apply(const std::string& name, const Known& next,
                              DiscoveredServer* report) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = known_.find(name);
  if (it == known_.end()) return false;
  Known& known = it->second;
  if (next.config_epoch < known.config_epoch) return false;  // a sentinel that lags behind
  const bool same_address = next.host == known.host && next.port == known.port;
  // A switch we saw published is newer than a query at the same epoch (a lagging sentinel).
  if (!same_address && known.from_switch && next.config_epoch == known.config_epoch) return false;
  const bool same = same_address && next.replicas == known.replicas;
  known.host = next.host;
  known.port = next.port;
  known.replicas = next.replicas;
  known.config_epoch = next.config_epoch;
  if (same_address) known.from_switch = false;
  if (same) return false;
  report->server = name;
  report->host = known.host;
  report->port = known.port;
  report->replicas = known.replicas;
  return true;
}

void SentinelDiscovery::Report(const DiscoveredServer& server) {
  if (changed_) changed_(server);
}

}  // namespace proxy::protocols::redis::sentinel

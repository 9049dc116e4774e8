// Differential framing fuzzer: attacker clients throw generated and mutated requests of both
// protocols at the real //:proxy while victim clients on the same pools (one server connection
// per server, so attackers and victims share it) write and read back their own keys and check
// every reply exactly, in order, each within a deadline. Whatever the attackers send, the proxy
// and the backend (real redis-server / memcached started here on free 127.0.0.1 ports) must
// frame it the same way, or refuse it: a disagreement shifts the replies of the shared
// connection, smuggles a command the proxy refused, or blocks the backend, and the victims or
// the backend checks see it.
//
// Pools (each with its own two backends, server_connections: 1, auto_eject_hosts on):
//   redis_timeout / memcache_timeout    default filter chain, pool `timeout: 3000`
//   redis_plain   / memcache_plain      default filter chain, no timeout
//   redis_nofilter / memcache_nofilter  `filters:` without reject_unsupported, no timeout
//
// Pass = every victim reply exactly right and on time, nothing missing or extra; canary keys
// written directly on every backend at the start are intact; the backends' command statistics
// show no refused or connection-mode command (INFO commandstats, memcached cmd_flush); every
// MULTI block applied all of its writes or none (none after DISCARD); no server ejected; the
// proxy still running.
//
// Deterministic inputs: DIFF_FUZZ_SEED (default kDefaultSeed) seeds every attacker;
// DIFF_FUZZ_INPUTS attack inputs per protocol (default kDefaultInputs, split over its pools and
// attackers). DIFF_FUZZ_SECONDS runs for that long instead (tools/fuzz.sh --differential).
// DIFF_FUZZ_POOLS=name,name runs only those pools; DIFF_FUZZ_DEADLINE_MS is the per-reply
// deadline of the victims (default 10000). On a failure the test prints the attack inputs that
// preceded it (C-escaped, with the write boundaries), then replays each of them alone against a
// fresh proxy and fresh backends and names the one that breaks a victim by itself.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "test/differential/attacks.h"
#include "test/differential/processes.h"

namespace proxy::test::differential {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr uint64_t kDefaultSeed = 20261206;
// Per protocol. Sized so that the CI run (plain and sanitized) stays well under 2 minutes on a
// loaded 2-core machine.
constexpr uint64_t kDefaultInputs = 30000;
constexpr int kAttackersPerPool = 2;
constexpr int kVictimsPerPool = 2;
constexpr int kPoolTimeoutMs = 3000;
constexpr size_t kRecentRecords = 512;

std::string Esc(absl::string_view bytes, size_t max = 600) {
  if (bytes.size() <= max) return absl::StrCat("\"", absl::CHexEscape(bytes), "\"");
  return absl::StrCat("\"", absl::CHexEscape(bytes.substr(0, max / 2)), "\" ... (",
                      bytes.size() - max, " more bytes) ... \"",
                      absl::CHexEscape(bytes.substr(bytes.size() - max / 2)), "\"");
}

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  uint64_t n = 0;
  if (value == nullptr || !absl::SimpleAtoi(value, &n)) return fallback;
  return n;
}

struct Settings {
  uint64_t seed = kDefaultSeed;
  uint64_t inputs = kDefaultInputs;  // per protocol; 0 with seconds > 0
  uint64_t seconds = 0;
  int deadline_ms = 10000;
  std::set<std::string> pools;  // empty = all
  std::set<std::string> skip;   // input classes not generated (see AttackOptions::skip)
  uint64_t max_seconds = 75;    // the count-bounded run stops here in any case
};

Settings ReadSettings() {
  Settings s;
  s.seed = EnvNumber("DIFF_FUZZ_SEED", kDefaultSeed);
  s.seconds = EnvNumber("DIFF_FUZZ_SECONDS", 0);
  s.inputs = EnvNumber("DIFF_FUZZ_INPUTS", s.seconds > 0 ? 0 : kDefaultInputs);
  s.deadline_ms = static_cast<int>(EnvNumber("DIFF_FUZZ_DEADLINE_MS", 10000));
  s.max_seconds = EnvNumber("DIFF_FUZZ_MAX_SECONDS", 75);
  if (const char* pools = std::getenv("DIFF_FUZZ_POOLS"); pools != nullptr) {
    for (absl::string_view p : absl::StrSplit(pools, ',', absl::SkipEmpty())) {
      s.pools.insert(std::string(p));
    }
  }
  if (const char* skip = std::getenv("DIFF_FUZZ_SKIP"); skip != nullptr) {
    for (absl::string_view p : absl::StrSplit(skip, ',', absl::SkipEmpty())) {
      s.skip.insert(std::string(p));
    }
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Sockets

int Connect(int port) {
  const int fd = ConnectTo(port);  // the harness's (TCP_NODELAY), made non-blocking here
  if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

// Closes with a reset (no FIN, no lingering) or normally.
void CloseSocket(int fd, bool reset) {
  if (fd < 0) return;
  if (reset) {
    linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  }
  close(fd);
}

int MsUntil(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Sends everything before the deadline; false on error, close or timeout.
bool SendAll(int fd, absl::string_view bytes, Clock::time_point deadline) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      const int wait = MsUntil(deadline);
      if (wait == 0 || poll(&p, 1, wait) <= 0) return false;
      continue;
    }
    return false;
  }
  return true;
}

// Reads what is there (waiting up to `wait_ms` for the first bytes) into `out`. Returns false
// when the peer closed or the socket failed.
bool ReadAvailable(int fd, int wait_ms, std::string* out) {
  if (wait_ms > 0) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, wait_ms) <= 0) return true;
  }
  char chunk[65536];
  for (;;) {
    const ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
    if (n > 0) {
      if (out != nullptr) out->append(chunk, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;
  }
}

// Length of the first complete RESP reply in `data`; 0 when incomplete; npos when it cannot be
// one (then the whole buffer is the reply, for the error message).
size_t RespFrame(absl::string_view data, size_t pos = 0) {
  if (pos >= data.size()) return 0;
  const size_t eol = data.find("\r\n", pos);
  if (eol == absl::string_view::npos) return 0;
  const char type = data[pos];
  if (type == '+' || type == '-' || type == ':') return eol + 2 - pos;
  int64_t n = 0;
  if ((type != '$' && type != '*') || !absl::SimpleAtoi(data.substr(pos + 1, eol - pos - 1), &n)) {
    return absl::string_view::npos;
  }
  if (type == '$') {
    if (n < 0) return eol + 2 - pos;
    const size_t end = eol + 2 + static_cast<size_t>(n) + 2;
    return data.size() >= end ? end - pos : 0;
  }
  size_t at = eol + 2;
  for (int64_t i = 0; i < n; ++i) {
    const size_t len = RespFrame(data, at);
    if (len == 0 || len == absl::string_view::npos) return len;
    at += len;
  }
  return at - pos;
}

// Length of the first complete memcache reply: VALUE blocks up to END, a VA block, or a line.
size_t MemcacheFrame(absl::string_view data) {
  auto line_end = [&](size_t from) { return data.find("\r\n", from); };
  if (absl::StartsWith(data, "VALUE ")) {
    size_t pos = 0;
    while (data.compare(pos, 6, "VALUE ") == 0) {
      const size_t eol = line_end(pos);
      if (eol == absl::string_view::npos) return 0;
      std::vector<absl::string_view> parts =
          absl::StrSplit(data.substr(pos, eol - pos), ' ', absl::SkipEmpty());
      size_t bytes = 0;
      if (parts.size() < 4 || !absl::SimpleAtoi(parts[3], &bytes)) return absl::string_view::npos;
      pos = eol + 2 + bytes + 2;
      if (data.size() < pos) return 0;
    }
    if (data.size() < pos + 5) return data.size() - pos >= 5 ? absl::string_view::npos : 0;
    if (data.compare(pos, 5, "END\r\n") == 0) return pos + 5;
    return absl::string_view::npos;
  }
  const size_t eol = line_end(0);
  if (eol == absl::string_view::npos) return 0;
  if (absl::StartsWith(data, "VA ")) {
    std::vector<absl::string_view> parts = absl::StrSplit(data.substr(0, eol), ' ');
    size_t bytes = 0;
    if (parts.size() < 2 || !absl::SimpleAtoi(parts[1], &bytes)) return absl::string_view::npos;
    const size_t end = eol + 2 + bytes + 2;
    return data.size() >= end ? end : 0;
  }
  return eol + 2;
}

// A client connection with an input buffer and framed reads against a deadline.
class Connection {
 public:
  explicit Connection(int port) : fd_(Connect(port)) {}
  ~Connection() { CloseSocket(fd_, false); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  bool ok() const { return fd_ >= 0; }
  bool Send(absl::string_view bytes, int timeout_ms = 10000) {
    return SendAll(fd_, bytes, Clock::now() + milliseconds(timeout_ms));
  }
  // One reply; `closed` is set when the peer closed. "" (with `timed_out`) when none came.
  std::string Read(bool redis, int timeout_ms, bool* timed_out, bool* closed) {
    const auto deadline = Clock::now() + milliseconds(timeout_ms);
    *timed_out = *closed = false;
    for (;;) {
      const size_t len = redis ? RespFrame(buffer_) : MemcacheFrame(buffer_);
      if (len == absl::string_view::npos) {
        std::string all;
        all.swap(buffer_);
        return all;
      }
      if (len > 0) {
        std::string reply = buffer_.substr(0, len);
        buffer_.erase(0, len);
        return reply;
      }
      const int wait = MsUntil(deadline);
      if (wait == 0) {
        *timed_out = true;
        std::string partial;
        partial.swap(buffer_);
        return partial;
      }
      if (!ReadAvailable(fd_, std::min(wait, 200), &buffer_)) {
        *closed = true;
        const size_t again = redis ? RespFrame(buffer_) : MemcacheFrame(buffer_);
        if (again == 0 || again == absl::string_view::npos) {
          std::string all;
          all.swap(buffer_);
          return all;
        }
        *closed = false;  // a complete reply is still buffered
      }
    }
  }
  // Bytes that arrived without being asked for (waits `wait_ms` for them).
  std::string Unexpected(int wait_ms) {
    ReadAvailable(fd_, wait_ms, &buffer_);
    std::string out;
    out.swap(buffer_);
    return out;
  }
  // Reads until `terminator` ends the buffer (e.g. memcached's stats END).
  std::string ReadUntil(absl::string_view terminator, int timeout_ms) {
    const auto deadline = Clock::now() + milliseconds(timeout_ms);
    while (!absl::EndsWith(buffer_, terminator) && MsUntil(deadline) > 0) {
      if (!ReadAvailable(fd_, std::min(MsUntil(deadline), 200), &buffer_)) break;
    }
    std::string out;
    out.swap(buffer_);
    return out;
  }

 private:
  int fd_;
  std::string buffer_;
};

// One command to a backend, straight (not through the proxy).
std::string DirectRedis(int port, const std::vector<std::string>& args) {
  Connection c(port);
  if (!c.ok() || !c.Send(Resp(args))) return "";
  bool timed_out = false, closed = false;
  return c.Read(true, 10000, &timed_out, &closed);
}

std::string DirectMemcache(int port, absl::string_view request, absl::string_view terminator) {
  Connection c(port);
  if (!c.ok() || !c.Send(request)) return "";
  return c.ReadUntil(terminator, 10000);
}

// ---------------------------------------------------------------------------------------------
// Pools and what happened on them

struct PoolSpec {
  std::string name;
  bool redis;
  bool timeout;
  bool no_reject;
};

const std::vector<PoolSpec>& AllPools() {
  static const auto* pools = new std::vector<PoolSpec>{
      {"redis_timeout", true, true, false},     {"redis_plain", true, false, false},
      {"redis_nofilter", true, false, true},    {"memcache_timeout", false, true, false},
      {"memcache_plain", false, false, false},  {"memcache_nofilter", false, false, true}};
  return *pools;
}

std::string PoolYaml(const PoolSpec& spec, int port, const std::vector<int>& backends) {
  std::string yaml = absl::StrCat(spec.name, ":\n  listen: 127.0.0.1:", port,
                                  "\n  hash: fnv1a_64\n  distribution: ketama\n"
                                  "  server_connections: 1\n  auto_eject_hosts: true\n"
                                  "  server_failure_limit: 2\n  server_retry_timeout: 60000\n");
  if (spec.redis) yaml += "  redis: true\n";
  if (spec.timeout) absl::StrAppend(&yaml, "  timeout: ", kPoolTimeoutMs, "\n");
  yaml += "  servers:\n";
  for (size_t i = 0; i < backends.size(); ++i) {
    absl::StrAppend(&yaml, "   - 127.0.0.1:", backends[i], ":1 s", i + 1, "\n");
  }
  if (spec.no_reject) yaml += "  filters:\n   - hash_tag\n   - router\n   - stats\n";
  return yaml;
}

struct AttackRecord {
  double at = 0;  // seconds since the start
  int attacker = 0;
  uint64_t connection = 0;  // per attacker
  uint64_t index = 0;       // inputs sent on that connection before this one
  std::string bytes;
  std::vector<size_t> splits;
  std::vector<std::string> transaction_keys;  // see AttackKind::kTransaction
  bool transaction_commits = false;
};

// One MULTI block's keys and how it ended (AttackKind::kTransaction).
struct TransactionGroup {
  std::vector<std::string> keys;
  bool commits = false;
};

std::string Describe(const AttackRecord& r) {
  std::vector<std::string> cuts;
  for (size_t s : r.splits) cuts.push_back(std::to_string(s));
  return absl::StrCat("t=", r.at, "s attacker ", r.attacker, " connection ", r.connection,
                      " input #", r.index, " (", r.bytes.size(), " bytes",
                      cuts.empty() ? "" : ", written in pieces cut at ", absl::StrJoin(cuts, ","),
                      "): ", Esc(r.bytes));
}

class PoolRun {
 public:
  PoolRun(const PoolSpec& spec, Clock::time_point start) : spec_(spec), start_(start) {}

  const PoolSpec& spec() const { return spec_; }
  double Now() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  bool stopped() const { return stop_.load(); }
  void Stop() { stop_ = true; }

  void Record(AttackRecord record) {
    std::lock_guard<std::mutex> lock(mu_);
    recent_.push_back(std::move(record));
    if (recent_.size() > kRecentRecords) recent_.pop_front();
  }

  void AddTransaction(const std::vector<std::string>& keys, bool commits) {
    if (keys.empty()) return;
    std::lock_guard<std::mutex> lock(mu_);
    transactions_.push_back(TransactionGroup{keys, commits});
  }
  std::vector<TransactionGroup> Transactions() {
    std::lock_guard<std::mutex> lock(mu_);
    return transactions_;
  }

  // The first failure keeps the attack inputs sent between `since` and `until` (seconds) as
  // its suspects, and every recent input as their connections' history; it stops the pool:
  // after a desync every later reply is noise.
  void Fail(const std::string& what, double since, double until) {
    std::lock_guard<std::mutex> lock(mu_);
    ++failures_;
    if (!failure_.empty()) return;
    failure_ = what;
    failed_at_ = Now();
    history_.assign(recent_.begin(), recent_.end());
    for (const AttackRecord& r : recent_) {
      if (r.at >= since - 0.05 && r.at <= until + 0.002) context_.push_back(r);
    }
    stop_ = true;
  }

  bool failed() {
    std::lock_guard<std::mutex> lock(mu_);
    return !failure_.empty();
  }
  std::string failure() {
    std::lock_guard<std::mutex> lock(mu_);
    return failure_;
  }
  double failed_at() {
    std::lock_guard<std::mutex> lock(mu_);
    return failed_at_;
  }
  std::vector<AttackRecord> context() {
    std::lock_guard<std::mutex> lock(mu_);
    return context_;
  }
  std::vector<AttackRecord> history() {
    std::lock_guard<std::mutex> lock(mu_);
    return history_;
  }

  std::atomic<uint64_t> inputs{0};
  std::atomic<uint64_t> victim_replies{0};
  std::atomic<bool> victims_stop{false};
  int port = 0;
  std::vector<int> backends;

 private:
  const PoolSpec spec_;
  const Clock::time_point start_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::deque<AttackRecord> recent_;
  std::vector<TransactionGroup> transactions_;
  std::string failure_;
  double failed_at_ = 0;
  int failures_ = 0;
  std::vector<AttackRecord> context_;
  std::vector<AttackRecord> history_;
};

// ---------------------------------------------------------------------------------------------
// Attackers

struct AttackerPlan {
  uint64_t quota = 0;                 // inputs to send; 0 = until `until`
  Clock::time_point until;            // used when quota == 0
  uint64_t seed = 0;
};

void RunAttacker(PoolRun& pool, int id, const AttackerPlan& plan,
                 const std::set<std::string>& skip) {
  Rng rng(plan.seed);
  const PoolSpec& spec = pool.spec();
  AttackOptions options;
  options.skip = skip;
  options.no_reject_filter = spec.no_reject;
  options.pool = spec.name;
  int fd = -1;
  uint64_t connection = 0, index = 0, sent = 0;
  auto reconnect = [&] {
    CloseSocket(fd, rng.Percent(90));
    fd = Connect(pool.port);
    ++connection;
    index = 0;
  };
  while (!pool.stopped()) {
    if ((plan.quota > 0 && sent >= plan.quota) || Clock::now() >= plan.until) break;
    const uint64_t serial = (static_cast<uint64_t>(id) << 40) | sent;
    AttackInput input =
        spec.redis ? RedisAttack(rng, options, serial) : MemcacheAttack(rng, options, serial);
    const std::vector<size_t> splits = SplitPoints(rng, input.bytes.size());
    if (fd < 0 || input.kind == AttackKind::kTransaction) reconnect();
    if (fd < 0) {
      std::this_thread::sleep_for(milliseconds(10));
      continue;
    }
    if (input.kind == AttackKind::kTransaction) {
      pool.AddTransaction(input.transaction_keys, input.transaction_commits);
    }
    AttackRecord record;
    record.at = pool.Now();
    record.attacker = id;
    record.connection = connection;
    record.index = index++;
    record.bytes = input.bytes;
    record.splits = splits;
    record.transaction_keys = input.transaction_keys;
    record.transaction_commits = input.transaction_commits;
    pool.Record(std::move(record));
    ++sent;
    pool.inputs.fetch_add(1);
    bool ok = true;
    size_t from = 0;
    const auto deadline = Clock::now() + milliseconds(3000);
    for (size_t i = 0; i <= splits.size() && ok; ++i) {
      const size_t to = i < splits.size() ? splits[i] : input.bytes.size();
      ok = SendAll(fd, absl::string_view(input.bytes).substr(from, to - from), deadline);
      from = to;
      if (ok && i < splits.size() && rng.Percent(30)) {
        std::this_thread::sleep_for(std::chrono::microseconds(rng.Below(1500)));
      }
    }
    // Whatever comes back is read and dropped; sometimes wait a little for it.
    if (ok) ok = ReadAvailable(fd, rng.Percent(20) ? 3 : 0, nullptr);
    if (!ok || rng.Percent(20)) {
      CloseSocket(fd, rng.Percent(90));
      fd = -1;
    }
  }
  CloseSocket(fd, true);
}

// ---------------------------------------------------------------------------------------------
// Victims

// One request of a victim and the reply it must get (none for noreply).
struct Op {
  std::string bytes;
  std::optional<std::string> expected;
  std::string what;
};

std::string Bulk(absl::string_view s) { return absl::StrCat("$", s.size(), "\r\n", s, "\r\n"); }

class Victim {
 public:
  Victim(PoolRun& pool, int id, uint64_t seed, int deadline_ms)
      : pool_(pool), id_(id), rng_(seed), deadline_ms_(deadline_ms),
        redis_(pool.spec().redis) {
    for (int i = 0; i < 12; ++i) {
      keys_.push_back(redis_ ? absl::StrCat("vk:", pool.spec().name, ":", id, ":", i)
                             : absl::StrCat("vk-", pool.spec().name, "-", id, "-", i));
    }
    for (int i = 0; i < 3; ++i) {
      counters_.push_back(redis_ ? absl::StrCat("vc:", pool.spec().name, ":", id, ":", i)
                                 : absl::StrCat("vc-", pool.spec().name, "-", id, "-", i));
    }
  }

  // Batches until the pool stops or `max_batches` (0: no limit); then reads every key back and
  // checks that nothing unasked-for arrives. Returns false on the first wrong reply.
  bool Run(uint64_t max_batches) {
    conn_ = std::make_unique<Connection>(pool_.port);
    if (!conn_->ok()) {
      Fail("cannot connect to the proxy", pool_.Now() - 5, pool_.Now());
      return false;
    }
    uint64_t batches = 0;
    while (!pool_.stopped() && !pool_.victims_stop.load()) {
      if (max_batches > 0 && batches++ >= max_batches) break;
      if (!Exchange(Batch())) return false;
    }
    if (pool_.stopped()) return true;
    return Final();
  }

 private:
  void Fail(const std::string& what, double since, double until) {
    pool_.Fail(absl::StrCat("victim ", id_, ": ", what), since, until);
  }

  std::string Value() {
    std::string v = absl::StrCat("val-", pool_.spec().name, "-", id_, "-", ++serial_, "-");
    const size_t n = rng_.Percent(3) ? rng_.Between(3000, 40000) : rng_.Below(40);
    for (size_t i = 0; i < n; ++i) {
      v.push_back(rng_.Percent(90) ? static_cast<char>('a' + rng_.Below(26))
                                   : static_cast<char>(rng_.Below(256)));
    }
    return v;
  }

  std::vector<Op> Batch() {
    std::vector<Op> ops;
    const size_t n = rng_.Percent(60) ? 1 : rng_.Between(2, 5);
    for (size_t i = 0; i < n; ++i) ops.push_back(redis_ ? RedisOp() : MemcacheOp());
    return ops;
  }

  Op RedisOp() {
    const std::string& key = rng_.Pick(keys_);
    auto current = [&](const std::string& k) {
      auto it = values_.find(k);
      return it == values_.end() ? std::string("$-1\r\n") : Bulk(it->second);
    };
    switch (rng_.Below(7)) {
      case 0:
      case 1: {
        const std::string v = Value();
        values_[key] = v;
        return {Resp({"SET", key, v}), std::string("+OK\r\n"), absl::StrCat("SET ", key)};
      }
      case 2: {
        std::vector<std::string> args = {"MGET"};
        std::string expected;
        const size_t n = rng_.Between(2, 4);
        std::set<std::string> used;
        while (used.size() < n) used.insert(rng_.Pick(keys_));
        for (const std::string& k : used) {
          args.push_back(k);
          expected += current(k);
        }
        return {Resp(args), absl::StrCat("*", n, "\r\n", expected),
                absl::StrCat("MGET ", absl::StrJoin(used, " "))};
      }
      case 3: {
        const bool existed = values_.erase(key) > 0;
        return {Resp({"DEL", key}), std::string(existed ? ":1\r\n" : ":0\r\n"),
                absl::StrCat("DEL ", key)};
      }
      case 4: {
        const std::string& counter = rng_.Pick(counters_);
        const int64_t delta = static_cast<int64_t>(rng_.Below(1000)) - 300;
        const int64_t v = (counts_[counter] += delta);
        return {Resp({"INCRBY", counter, std::to_string(delta)}), absl::StrCat(":", v, "\r\n"),
                absl::StrCat("INCRBY ", counter, " ", delta)};
      }
      case 5: {
        const std::string suffix = absl::StrCat("+", ++serial_);
        std::string& v = values_[key];
        v += suffix;
        return {Resp({"APPEND", key, suffix}), absl::StrCat(":", v.size(), "\r\n"),
                absl::StrCat("APPEND ", key)};
      }
      default:
        return {Resp({"GET", key}), current(key), absl::StrCat("GET ", key)};
    }
  }

  std::string McValue(const std::string& k) {
    auto it = items_.find(k);
    if (it == items_.end()) return "";
    return absl::StrCat("VALUE ", k, " ", it->second.first, " ", it->second.second.size(), "\r\n",
                        it->second.second, "\r\n");
  }

  Op MemcacheOp() {
    const std::string& key = rng_.Pick(keys_);
    switch (rng_.Below(9)) {
      case 0:
      case 1: {
        const std::string v = Value();
        const uint32_t flags = static_cast<uint32_t>(rng_.Next());
        items_[key] = {flags, v};
        const bool noreply = rng_.Percent(15);
        return {absl::StrCat("set ", key, " ", flags, " 0 ", v.size(), noreply ? " noreply" : "",
                             "\r\n", v, "\r\n"),
                noreply ? std::nullopt : std::optional<std::string>("STORED\r\n"),
                absl::StrCat("set ", key, noreply ? " noreply" : "")};
      }
      case 2: {
        std::set<std::string> used;
        const size_t n = rng_.Between(2, 4);
        while (used.size() < n) used.insert(rng_.Pick(keys_));
        std::string expected;
        for (const std::string& k : used) expected += McValue(k);
        const std::string line = absl::StrCat("get ", absl::StrJoin(used, " "));
        return {absl::StrCat(line, "\r\n"), expected + "END\r\n", line};
      }
      case 3: {
        const bool existed = items_.erase(key) > 0;
        return {absl::StrCat("delete ", key, "\r\n"),
                std::string(existed ? "DELETED\r\n" : "NOT_FOUND\r\n"),
                absl::StrCat("delete ", key)};
      }
      case 4: {
        const std::string& counter = rng_.Pick(counters_);
        auto it = counts_.find(counter);
        if (it == counts_.end() || rng_.Percent(5)) {
          const int64_t start = static_cast<int64_t>(rng_.Below(1000000));
          counts_[counter] = start;
          const std::string text = std::to_string(start);
          return {absl::StrCat("set ", counter, " 0 0 ", text.size(), "\r\n", text, "\r\n"),
                  std::string("STORED\r\n"), absl::StrCat("set ", counter, " ", text)};
        }
        const int64_t delta = static_cast<int64_t>(rng_.Below(1000));
        const bool incr = rng_.Percent(60);
        it->second = incr ? it->second + delta : std::max<int64_t>(0, it->second - delta);
        return {absl::StrCat(incr ? "incr " : "decr ", counter, " ", delta, "\r\n"),
                absl::StrCat(it->second, "\r\n"),
                absl::StrCat(incr ? "incr " : "decr ", counter, " ", delta)};
      }
      case 5: {
        auto it = items_.find(key);
        std::string expected = "EN\r\n";
        if (it != items_.end()) {
          expected = absl::StrCat("VA ", it->second.second.size(), " f", it->second.first, "\r\n",
                                  it->second.second, "\r\n");
        }
        return {absl::StrCat("mg ", key, " v f\r\n"), expected, absl::StrCat("mg ", key, " v f")};
      }
      case 6: {
        const bool exists = items_.count(key) > 0;
        return {absl::StrCat("touch ", key, " 0\r\n"),
                std::string(exists ? "TOUCHED\r\n" : "NOT_FOUND\r\n"),
                absl::StrCat("touch ", key)};
      }
      case 7: {
        const std::string suffix = absl::StrCat("+", ++serial_);
        auto it = items_.find(key);
        const bool exists = it != items_.end();
        if (exists) it->second.second += suffix;
        return {absl::StrCat("append ", key, " 0 0 ", suffix.size(), "\r\n", suffix, "\r\n"),
                std::string(exists ? "STORED\r\n" : "NOT_STORED\r\n"),
                absl::StrCat("append ", key)};
      }
      default:
        return {absl::StrCat("get ", key, "\r\n"), McValue(key) + "END\r\n",
                absl::StrCat("get ", key)};
    }
  }

  // Sends the batch (cut into 1-3 writes) and checks every reply in order.
  bool Exchange(const std::vector<Op>& ops) {
    std::string bytes;
    for (const Op& op : ops) bytes += op.bytes;
    const double sent_at = pool_.Now();
    const std::vector<size_t> cuts = rng_.Percent(20) ? SplitPoints(rng_, bytes.size())
                                                      : std::vector<size_t>();
    size_t from = 0;
    for (size_t i = 0; i <= cuts.size(); ++i) {
      const size_t to = i < cuts.size() ? cuts[i] : bytes.size();
      if (!conn_->Send(absl::string_view(bytes).substr(from, to - from), deadline_ms_)) {
        Fail(absl::StrCat("the proxy stopped taking requests (send failed) for ", ops[0].what),
             sent_at - 2 * deadline_ms_ / 1000.0, sent_at);
        return false;
      }
      from = to;
    }
    for (size_t i = 0; i < ops.size(); ++i) {
      if (!ops[i].expected.has_value()) continue;
      bool timed_out = false, closed = false;
      const std::string reply = conn_->Read(redis_, deadline_ms_, &timed_out, &closed);
      if (reply == *ops[i].expected && !timed_out) {
        pool_.victim_replies.fetch_add(1);
        continue;
      }
      std::string what = absl::StrCat(
          "reply to `", ops[i].what, "` (request ", i + 1, " of ", ops.size(), " in one batch, ",
          Esc(ops[i].bytes, 200), ") ",
          timed_out ? absl::StrCat("MISSING: nothing complete within ", deadline_ms_, " ms")
                    : closed ? "MISSING: the proxy closed the connection"
                             : "WRONG",
          ":\n    expected ", Esc(*ops[i].expected, 300), "\n    got      ", Esc(reply, 300));
      // The culprit was sent before this batch (a request stuck behind it, or the one whose
      // reply it got, is older than the batch): up to a pool timeout and a deadline earlier.
      Fail(what, sent_at - deadline_ms_ / 1000.0 - kPoolTimeoutMs / 1000.0 - 1, sent_at);
      return false;
    }
    return true;
  }

  // Every key read back, then nothing more may arrive.
  bool Final() {
    std::vector<Op> ops;
    for (const std::string& k : keys_) {
      if (redis_) {
        auto it = values_.find(k);
        ops.push_back({Resp({"GET", k}), it == values_.end() ? "$-1\r\n" : Bulk(it->second),
                       absl::StrCat("final GET ", k)});
      } else {
        ops.push_back({absl::StrCat("get ", k, "\r\n"), McValue(k) + "END\r\n",
                       absl::StrCat("final get ", k)});
      }
    }
    for (const Op& op : ops) {
      if (!Exchange({op})) return false;
    }
    const std::string extra = conn_->Unexpected(300);
    if (!extra.empty()) {
      Fail(absl::StrCat("EXTRA bytes after the last reply: ", Esc(extra, 300)),
           pool_.Now() - deadline_ms_ / 1000.0, pool_.Now());
      return false;
    }
    return true;
  }

  PoolRun& pool_;
  const int id_;
  Rng rng_;
  const int deadline_ms_;
  const bool redis_;
  std::unique_ptr<Connection> conn_;
  std::vector<std::string> keys_;
  std::vector<std::string> counters_;
  uint64_t serial_ = 0;
  std::map<std::string, std::string> values_;                       // redis
  std::map<std::string, std::pair<uint32_t, std::string>> items_;  // memcache
  std::map<std::string, int64_t> counts_;
};

// ---------------------------------------------------------------------------------------------
// Backend evidence: canaries, command statistics, transaction keys

// Commands that must never reach a redis backend through the proxy (refused by the default
// chain, answered by the proxy itself, or changing the mode of a connection whatever the
// chain). MULTI/EXEC/DISCARD/WATCH/UNWATCH do reach it, on dedicated connections only (the
// victims, which share the pool's connections, would see a MULTI or WATCH there), and HELLO is
// the proxy's own handshake of its RESP3 connections; every CLIENT subcommand is answered by
// the proxy or refused.
const std::set<std::string>& ForbiddenRedisCommands() {
  static const auto* names = new std::set<std::string>{
      "flushall", "flushdb", "subscribe",
      "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe", "monitor",
      "reset", "readonly", "readwrite", "blpop", "brpop",
      "brpoplpush", "blmove", "blmpop", "bzpopmin", "bzpopmax", "bzmpop", "xread", "xreadgroup",
      "wait", "swapdb", "shutdown", "select", "auth", "debug", "config|set", "config|resetstat",
      "config|rewrite", "script|flush"};
  return *names;
}

// name -> calls + rejected + failed, from INFO commandstats.
std::map<std::string, int64_t> RedisCommandStats(int port) {
  std::map<std::string, int64_t> out;
  const std::string info = DirectRedis(port, {"INFO", "commandstats"});
  for (absl::string_view line : absl::StrSplit(info, "\r\n")) {
    if (!absl::ConsumePrefix(&line, "cmdstat_")) continue;
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    int64_t total = 0;
    for (absl::string_view field : absl::StrSplit(line.substr(colon + 1), ',')) {
      for (absl::string_view name : {"calls=", "rejected_calls=", "failed_calls="}) {
        int64_t n = 0;
        if (absl::StartsWith(field, name) &&
            absl::SimpleAtoi(field.substr(name.size()), &n)) {
          total += n;
        }
      }
    }
    out[std::string(line.substr(0, colon))] = total;
  }
  return out;
}

int64_t MemcacheStat(int port, absl::string_view name) {
  const std::string stats = DirectMemcache(port, "stats\r\n", "END\r\n");
  for (absl::string_view line : absl::StrSplit(stats, "\r\n")) {
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
    int64_t n = 0;
    if (parts.size() == 3 && parts[0] == "STAT" && parts[1] == name &&
        absl::SimpleAtoi(parts[2], &n)) {
      return n;
    }
  }
  return -1;
}

std::string CanaryKey(bool redis, int port, int i) {
  return redis ? absl::StrCat("canary:", port, ":", i) : absl::StrCat("canary-", port, "-", i);
}
std::string CanaryValue(int port, int i) { return absl::StrCat("canary value ", port, " #", i); }

// Evidence on one pool's backends; "" when clean.
class BackendWatch {
 public:
  explicit BackendWatch(PoolRun& pool) : pool_(pool) {}

  bool Setup() {
    for (int port : pool_.backends) {
      for (int i = 0; i < 4; ++i) {
        const std::string k = CanaryKey(pool_.spec().redis, port, i);
        const std::string v = CanaryValue(port, i);
        const std::string reply =
            pool_.spec().redis
                ? DirectRedis(port, {"SET", k, v})
                : DirectMemcache(port, absl::StrCat("set ", k, " 0 0 ", v.size(), "\r\n", v, "\r\n"),
                                 "\r\n");
        if (reply != (pool_.spec().redis ? "+OK\r\n" : "STORED\r\n")) return false;
      }
      if (pool_.spec().redis) {
        baseline_redis_[port] = RedisCommandStats(port);
      } else {
        baseline_flush_[port] = MemcacheStat(port, "cmd_flush");
        if (baseline_flush_[port] < 0) return false;
      }
    }
    return true;
  }

  std::string Check() {
    std::vector<std::string> problems;
    if (pool_.spec().redis) CheckTransactions(&problems);
    for (int port : pool_.backends) {
      const std::string where = absl::StrCat("backend 127.0.0.1:", port);
      for (int i = 0; i < 4; ++i) {
        const std::string k = CanaryKey(pool_.spec().redis, port, i);
        const std::string v = CanaryValue(port, i);
        const std::string expected =
            pool_.spec().redis ? Bulk(v)
                               : absl::StrCat("VALUE ", k, " 0 ", v.size(), "\r\n", v, "\r\nEND\r\n");
        const std::string got = pool_.spec().redis
                                    ? DirectRedis(port, {"GET", k})
                                    : DirectMemcache(port, absl::StrCat("get ", k, "\r\n"), "END\r\n");
        if (got != expected) {
          problems.push_back(absl::StrCat(where, ": canary ", k, " is ", Esc(got, 100),
                                          " (flushed or overwritten through the proxy?)"));
        }
      }
      if (pool_.spec().redis) {
        const auto stats = RedisCommandStats(port);
        if (stats.empty()) problems.push_back(absl::StrCat(where, ": INFO commandstats failed"));
        for (const auto& [name, count] : stats) {
          const bool forbidden = ForbiddenRedisCommands().count(name) > 0 ||
                                 absl::StartsWith(name, "config|") ||
                                 absl::StartsWith(name, "client") ||
                                 absl::StartsWith(name, "script|");
          if (!forbidden) continue;
          const int64_t before = baseline_redis_[port].count(name) ? baseline_redis_[port][name] : 0;
          if (count > before) {
            problems.push_back(absl::StrCat(where, ": executed `", name, "` ", count - before,
                                            " time(s); the proxy must never forward it"));
          }
        }
      } else {
        const int64_t flushes = MemcacheStat(port, "cmd_flush");
        if (flushes != baseline_flush_[port]) {
          problems.push_back(absl::StrCat(where, ": cmd_flush went from ", baseline_flush_[port],
                                          " to ", flushes,
                                          ": a flush_all reached it through the proxy"));
        }
      }
    }
    return absl::StrJoin(problems, "\n  ");
  }

 private:
  // Each MULTI block applied all its writes or none; none after DISCARD.
  void CheckTransactions(std::vector<std::string>* problems) {
    for (const TransactionGroup& group : pool_.Transactions()) {
      int64_t present = 0;
      for (int port : pool_.backends) {
        std::vector<std::string> args = {"EXISTS"};
        args.insert(args.end(), group.keys.begin(), group.keys.end());
        int64_t n = 0;
        const std::string reply = DirectRedis(port, args);
        absl::string_view got = reply;
        if (!absl::ConsumePrefix(&got, ":") || !absl::ConsumeSuffix(&got, "\r\n") ||
            !absl::SimpleAtoi(got, &n)) {
          problems->push_back(absl::StrCat("backend 127.0.0.1:", port, ": EXISTS failed"));
          return;
        }
        present += n;
      }
      const int64_t all = static_cast<int64_t>(group.keys.size());
      if ((!group.commits && present != 0) || (present != 0 && present != all)) {
        problems->push_back(absl::StrCat(
            "a MULTI block ending in ", group.commits ? "EXEC" : "DISCARD", " applied ", present,
            " of its ", all, " writes (", absl::StrJoin(group.keys, " "),
            "): a transaction must apply all or nothing, and nothing after DISCARD"));
        return;
      }
    }
  }

  PoolRun& pool_;
  std::map<int, std::map<std::string, int64_t>> baseline_redis_;
  std::map<int, int64_t> baseline_flush_;
};

// The ejections counted by the proxy (twemproxy JSON on the stats port), summed over pools.
int64_t Ejections(int stats_port, std::string* json) {
  Connection c(stats_port);
  if (!c.ok()) return -1;
  *json = c.ReadUntil("}\n", 5000);
  if (json->empty()) *json = c.Unexpected(500);
  int64_t total = 0;
  size_t pos = 0;
  const std::string key = "\"server_ejects\":";
  while ((pos = json->find(key, pos)) != std::string::npos) {
    pos += key.size();
    while (pos < json->size() && (*json)[pos] == ' ') ++pos;
    size_t end = pos;
    while (end < json->size() && absl::ascii_isdigit(static_cast<unsigned char>((*json)[end]))) {
      ++end;
    }
    int64_t n = 0;
    if (absl::SimpleAtoi(json->substr(pos, end - pos), &n)) total += n;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// The environment: backends and one proxy for a set of pools.

class Deployment {
 public:
  // With `backend_ports` (one pool only), the pool uses those running backends.
  Deployment(const std::vector<PoolSpec>& specs, Clock::time_point start,
             const std::vector<int>* backend_ports = nullptr) {
    for (const PoolSpec& spec : specs) {
      pools_.push_back(std::make_unique<PoolRun>(spec, start));
      PoolRun& pool = *pools_.back();
      if (backend_ports != nullptr) {
        pool.backends = *backend_ports;
      } else {
        for (int i = 0; i < 2; ++i) {
          backends_.push_back(spec.redis ? Server::Redis() : Server::Memcached());
          ok_ = ok_ && backends_.back()->ok();
          pool.backends.push_back(backends_.back()->port());
        }
      }
      pool.port = FreePort();
      yaml_ += PoolYaml(spec, pool.port, pool.backends);
      ports_.push_back(pool.port);
      watches_.push_back(std::make_unique<BackendWatch>(pool));
    }
    if (!ok_) {
      problem_ = "a backend did not start";
      return;
    }
    for (auto& watch : watches_) {
      if (!watch->Setup()) {
        ok_ = false;
        problem_ = "cannot write the canaries or read the baseline statistics";
        return;
      }
    }
    stats_port_ = FreePort();
    // -v 4: errors and warnings only; attack inputs would otherwise fill the log.
    proxy_ = Server::Proxy(yaml_, ports_,
                           {"-s", std::to_string(stats_port_), "-a", "127.0.0.1", "-v", "4"});
    if (!proxy_->ok()) {
      ok_ = false;
      problem_ = absl::StrCat("the proxy did not start with\n", yaml_, "log:\n", proxy_->Log());
    }
  }

  bool ok() const { return ok_; }
  const std::string& problem() const { return problem_; }
  const std::string& yaml() const { return yaml_; }
  std::vector<std::unique_ptr<PoolRun>>& pools() { return pools_; }
  BackendWatch& watch(size_t i) { return *watches_[i]; }
  Server& proxy() { return *proxy_; }
  std::vector<int> backend_ports() const {
    std::vector<int> ports;
    for (const auto& b : backends_) ports.push_back(b->port());
    return ports;
  }
  int stats_port() const { return stats_port_; }

 private:
  bool ok_ = true;
  std::string problem_;
  std::string yaml_;
  std::vector<int> ports_;
  int stats_port_ = 0;
  // Declared first, destroyed last: the proxy stops before its backends.
  std::vector<std::unique_ptr<Server>> backends_;
  std::vector<std::unique_ptr<PoolRun>> pools_;
  std::vector<std::unique_ptr<BackendWatch>> watches_;
  std::unique_ptr<Server> proxy_;
};

// Watches the backends while the attack runs, so that a smuggled command is caught close to the
// input that smuggled it.
void RunMonitor(Deployment& d, size_t index, std::atomic<bool>& done) {
  PoolRun& pool = *d.pools()[index];
  double clean_at = pool.Now();
  while (!done.load() && !pool.stopped()) {
    for (int i = 0; i < 10 && !done.load(); ++i) std::this_thread::sleep_for(milliseconds(20));
    const std::string problem = d.watch(index).Check();
    if (!problem.empty()) {
      pool.Fail(absl::StrCat("backend evidence:\n  ", problem), clean_at, pool.Now());
      return;
    }
    clean_at = pool.Now();
  }
}

// Replays recorded attacker connections (one, or several together: each on its own socket, in
// the recorded order, with the recorded write boundaries) against a fresh proxy on `backends`,
// of the same pool shape, while one victim runs: true if the victim or the backend evidence
// fails; `how` says how.
bool Replay(const PoolSpec& spec, const std::vector<int>& backends,
                    const std::vector<AttackRecord>& records, std::string* how) {
  Deployment d({spec}, Clock::now(), &backends);
  if (!d.ok()) {
    *how = d.problem();
    return false;
  }
  PoolRun& pool = *d.pools()[0];
  static std::atomic<uint64_t> runs{0};
  const uint64_t run = 1000 + ++runs;
  std::thread victim([&pool, run] { Victim(pool, static_cast<int>(run), run, 5000).Run(0); });
  std::map<std::pair<int, uint64_t>, int> sockets;
  for (const AttackRecord& r : records) {
    pool.AddTransaction(r.transaction_keys, r.transaction_commits);
    int& fd = sockets.try_emplace({r.attacker, r.connection}, -1).first->second;
    if (fd < 0) fd = Connect(pool.port);
    size_t from = 0;
    for (size_t i = 0; i <= r.splits.size(); ++i) {
      const size_t to = i < r.splits.size() ? std::min(r.splits[i], r.bytes.size()) : r.bytes.size();
      if (to < from) continue;
      SendAll(fd, absl::string_view(r.bytes).substr(from, to - from),
              Clock::now() + milliseconds(2000));
      from = to;
    }
    ReadAvailable(fd, 0, nullptr);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  std::this_thread::sleep_for(milliseconds(spec.timeout ? kPoolTimeoutMs + 1000 : 1000));
  pool.victims_stop = true;
  victim.join();
  for (auto& [key, fd] : sockets) CloseSocket(fd, true);
  if (!pool.failed()) {
    const std::string evidence = d.watch(0).Check();
    if (!evidence.empty()) pool.Fail(evidence, 0, pool.Now());
  }
  if (!pool.failed()) return false;
  *how = pool.failure();
  return true;
}

std::string DescribeAll(const std::vector<AttackRecord>& inputs) {
  std::string out;
  for (const AttackRecord& r : inputs) absl::StrAppend(&out, "\n    ", Describe(r));
  return out;
}

// Makes a reproducing connection smaller: drops whole inputs, then write boundaries, then
// chunks of bytes (halving the chunk size), keeping every step that still reproduces.
std::vector<AttackRecord> Minimize(const PoolSpec& spec, const std::vector<int>& backends,
                                   std::vector<AttackRecord> inputs, Clock::time_point until,
                                   std::string* how) {
  auto still = [&](const std::vector<AttackRecord>& candidate) {
    if (Clock::now() > until) return false;
    std::string h;
    if (!Replay(spec, backends, candidate, &h)) return false;
    *how = h;
    return true;
  };
  for (size_t i = 0; inputs.size() > 1 && i < inputs.size();) {
    std::vector<AttackRecord> candidate = inputs;
    candidate.erase(candidate.begin() + static_cast<std::ptrdiff_t>(i));
    if (still(candidate)) {
      inputs = candidate;
    } else {
      ++i;
    }
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].splits.empty()) continue;
    std::vector<AttackRecord> candidate = inputs;
    candidate[i].splits.clear();
    if (still(candidate)) inputs = candidate;
  }
  // Whole lines first (cheap on long pipelines), then ever smaller chunks of bytes.
  for (size_t i = 0; i < inputs.size(); ++i) {
    for (size_t at = 0; at < inputs[i].bytes.size();) {
      size_t end = inputs[i].bytes.find('\n', at);
      end = end == std::string::npos ? inputs[i].bytes.size() : end + 1;
      if (at == 0 && end == inputs[i].bytes.size()) break;
      std::vector<AttackRecord> candidate = inputs;
      candidate[i].bytes.erase(at, end - at);
      candidate[i].splits.clear();
      if (still(candidate)) {
        inputs = candidate;
      } else {
        at = end;
      }
    }
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    for (size_t chunk = std::max<size_t>(1, inputs[i].bytes.size() / 2); chunk >= 1; chunk /= 2) {
      for (size_t at = 0; at < inputs[i].bytes.size();) {
        std::vector<AttackRecord> candidate = inputs;
        candidate[i].bytes.erase(at, chunk);
        std::vector<size_t>& cuts = candidate[i].splits;
        cuts.erase(std::remove_if(cuts.begin(), cuts.end(),
                                  [&](size_t c) { return c >= candidate[i].bytes.size(); }),
                   cuts.end());
        if (still(candidate)) {
          inputs = candidate;
        } else {
          at += chunk;
        }
      }
      if (chunk == 1) break;
    }
  }
  return inputs;
}

TEST(DifferentialFuzzTest, VictimsNeverSeeAnAttackersBytes) {
  ASSERT_FALSE(FindExecutable("redis-server").empty()) << "apt-get install redis-server";
  ASSERT_FALSE(FindExecutable("memcached").empty()) << "apt-get install memcached";
  const Settings settings = ReadSettings();
  std::vector<PoolSpec> specs;
  for (const PoolSpec& spec : AllPools()) {
    if (settings.pools.empty() || settings.pools.count(spec.name)) specs.push_back(spec);
  }
  ASSERT_FALSE(specs.empty()) << "DIFF_FUZZ_POOLS names no pool";
  std::cout << "[differential] seed " << settings.seed << " (DIFF_FUZZ_SEED), "
            << (settings.seconds > 0 ? absl::StrCat(settings.seconds, " s")
                                     : absl::StrCat(settings.inputs, " attack inputs per protocol"))
            << ", pools " << absl::StrJoin(specs, ",", [](std::string* out, const PoolSpec& s) {
                 out->append(s.name);
               })
            << (settings.skip.empty() ? "" : ", skipping ") << absl::StrJoin(settings.skip, ",")
            << std::endl;

  const auto start = Clock::now();
  Deployment d(specs, start);
  ASSERT_TRUE(d.ok()) << d.problem();

  size_t redis_pools = 0, memcache_pools = 0;
  for (const PoolSpec& s : specs) (s.redis ? redis_pools : memcache_pools)++;
  const auto attack_start = Clock::now();
  std::vector<std::thread> attackers, victims, monitors;
  std::atomic<bool> monitors_done{false};
  uint64_t attacker_of_protocol[2] = {0, 0};  // memcache, redis
  for (size_t p = 0; p < d.pools().size(); ++p) {
    PoolRun& pool = *d.pools()[p];
    const size_t pools_of_protocol = pool.spec().redis ? redis_pools : memcache_pools;
    for (int a = 0; a < kAttackersPerPool; ++a) {
      AttackerPlan plan;
      plan.seed = settings.seed * 1000003 + p * 101 + static_cast<uint64_t>(a);
      plan.until = attack_start + std::chrono::seconds(settings.seconds > 0 ? settings.seconds
                                                                            : settings.max_seconds);
      if (settings.inputs > 0) {
        const uint64_t share = pools_of_protocol * kAttackersPerPool;
        const uint64_t nth = attacker_of_protocol[pool.spec().redis ? 1 : 0]++;
        plan.quota = settings.inputs / share + (nth < settings.inputs % share ? 1 : 0);
      }
      attackers.emplace_back([&pool, a, plan, &settings] {
        RunAttacker(pool, a, plan, settings.skip);
      });
    }
    for (int v = 0; v < kVictimsPerPool; ++v) {
      const uint64_t seed = settings.seed * 7919 + p * 13 + static_cast<uint64_t>(v);
      victims.emplace_back([&pool, v, seed, &settings] {
        Victim(pool, v, seed, settings.deadline_ms).Run(0);
      });
    }
    monitors.emplace_back([&d, p, &monitors_done] { RunMonitor(d, p, monitors_done); });
  }
  for (std::thread& t : attackers) t.join();
  const double attack_seconds = std::chrono::duration<double>(Clock::now() - attack_start).count();
  // A little more victim traffic after the last input: late effects (timeouts) show up here.
  std::this_thread::sleep_for(milliseconds(1000));
  for (auto& pool : d.pools()) pool->victims_stop = true;
  for (std::thread& t : victims) t.join();
  monitors_done = true;
  for (std::thread& t : monitors) t.join();

  // The totals, per protocol and per pool.
  uint64_t redis_inputs = 0, memcache_inputs = 0;
  for (auto& pool : d.pools()) {
    (pool->spec().redis ? redis_inputs : memcache_inputs) += pool->inputs.load();
  }
  std::cout << "[differential] attack inputs run: redis " << redis_inputs << ", memcache "
            << memcache_inputs << " in " << attack_seconds << " s ("
            << static_cast<uint64_t>((redis_inputs + memcache_inputs) / std::max(attack_seconds, 1e-3))
            << " inputs/s)" << std::endl;
  for (auto& pool : d.pools()) {
    std::cout << "[differential]   " << pool->spec().name << ": " << pool->inputs.load()
              << " attack inputs, " << pool->victim_replies.load() << " victim replies checked, "
              << (pool->failed() ? absl::StrCat("FAILED at t=", pool->failed_at(), "s") : "clean")
              << std::endl;
  }

  // Final evidence, on every pool that did not fail already.
  for (size_t p = 0; p < d.pools().size(); ++p) {
    PoolRun& pool = *d.pools()[p];
    if (pool.failed()) continue;
    const std::string problem = d.watch(p).Check();
    if (!problem.empty()) {
      pool.Fail(absl::StrCat("backend evidence:\n  ", problem), 0, pool.Now());
    }
  }
  std::string stats_json;
  const int64_t ejections = Ejections(d.stats_port(), &stats_json);
  EXPECT_EQ(ejections, 0) << "servers were ejected (stats port):\n" << stats_json;
  EXPECT_TRUE(d.proxy().Running()) << "the proxy died; log:\n" << d.proxy().Log();

  for (auto& pool : d.pools()) {
    if (!pool->failed()) continue;
    std::string report = absl::StrCat("pool ", pool->spec().name, " (seed ", settings.seed,
                                      "): ", pool->failure(), "\n  at t=", pool->failed_at(),
                                      "s; the attack inputs sent to this pool shortly before:\n");
    const std::vector<AttackRecord> context = pool->context();
    const size_t first = context.size() > 24 ? context.size() - 24 : 0;
    if (first > 0) absl::StrAppend(&report, "    (", first, " earlier ones not shown)\n");
    for (size_t i = first; i < context.size(); ++i) {
      absl::StrAppend(&report, "    ", Describe(context[i]), "\n");
    }
    ADD_FAILURE() << report;
  }

  // Name the connection that breaks a fresh pool by itself (newest suspects first; bounded),
  // and with DIFF_FUZZ_MINIMIZE=SECONDS make it as small as possible.
  const uint64_t minimize_seconds = EnvNumber("DIFF_FUZZ_MINIMIZE", 0);
  for (auto& pool : d.pools()) {
    if (!pool->failed()) continue;
    const std::vector<AttackRecord> context = pool->context();
    const std::vector<AttackRecord> history = pool->history();
    std::vector<std::unique_ptr<Server>> backends;
    std::vector<int> ports;
    for (int i = 0; i < 2; ++i) {
      backends.push_back(pool->spec().redis ? Server::Redis() : Server::Memcached());
      ports.push_back(backends.back()->port());
    }
    int tried = 0;
    bool reproduced = false;
    for (size_t i = context.size(); i-- > 0 && tried < 24 && !reproduced;) {
      std::vector<AttackRecord> connection_inputs;
      for (const AttackRecord& r : history) {
        if (r.attacker == context[i].attacker && r.connection == context[i].connection &&
            r.index <= context[i].index) {
          connection_inputs.push_back(r);
        }
      }
      if (connection_inputs.empty() || connection_inputs.front().index != 0) {
        continue;  // the start of that connection is not known
      }
      if (i + 1 < context.size() && context[i + 1].attacker == context[i].attacker &&
          context[i + 1].connection == context[i].connection) {
        continue;  // a longer prefix of the same connection was tried already
      }
      ++tried;
      std::string how;
      if (!Replay(pool->spec(), ports, connection_inputs, &how)) continue;
      reproduced = true;
      std::cout << "[differential] REPRODUCED on a fresh " << pool->spec().name
                << " pool by one connection sending:" << DescribeAll(connection_inputs)
                << "\n  -> " << how << std::endl;
      if (minimize_seconds > 0) {
        std::vector<AttackRecord> small =
            Minimize(pool->spec(), ports, connection_inputs,
                     Clock::now() + std::chrono::seconds(minimize_seconds), &how);
        small.erase(std::remove_if(small.begin(), small.end(),
                                   [](const AttackRecord& r) { return r.bytes.empty(); }),
                    small.end());
        std::cout << "[differential] MINIMIZED (" << pool->spec().name << "):" << DescribeAll(small)
                  << "\n  -> " << how << std::endl;
      }
    }
    if (!reproduced) {
      std::cout << "[differential] " << pool->spec().name << ": no single connection among the "
                << tried << " newest suspects reproduces it alone" << std::endl;
      // All the recorded connections together (those whose start is known), then without each
      // connection in turn while it still fails.
      std::set<std::pair<int, uint64_t>> complete;
      for (const AttackRecord& r : history) {
        if (r.index == 0) complete.insert({r.attacker, r.connection});
      }
      std::vector<AttackRecord> together;
      for (const AttackRecord& r : history) {
        if (complete.count({r.attacker, r.connection})) together.push_back(r);
      }
      std::string how;
      if (Replay(pool->spec(), ports, together, &how)) {
        const auto until = Clock::now() + std::chrono::seconds(std::max<uint64_t>(60, minimize_seconds));
        for (auto it = complete.begin(); it != complete.end() && Clock::now() < until;) {
          std::vector<AttackRecord> fewer;
          for (const AttackRecord& r : together) {
            if (std::make_pair(r.attacker, r.connection) != *it) fewer.push_back(r);
          }
          std::string h;
          if (!fewer.empty() && Replay(pool->spec(), ports, fewer, &h)) {
            together = fewer;
            how = h;
          }
          ++it;
        }
        std::cout << "[differential] REPRODUCED on a fresh " << pool->spec().name << " pool by "
                  << "these connections together (each on its own socket, in this order):"
                  << DescribeAll(together) << "\n  -> " << how << std::endl;
        if (minimize_seconds > 0) {
          std::vector<AttackRecord> small =
              Minimize(pool->spec(), ports, together,
                       Clock::now() + std::chrono::seconds(minimize_seconds), &how);
          small.erase(std::remove_if(small.begin(), small.end(),
                                     [](const AttackRecord& r) { return r.bytes.empty(); }),
                      small.end());
          std::cout << "[differential] MINIMIZED (" << pool->spec().name
                    << "):" << DescribeAll(small) << "\n  -> " << how << std::endl;
        }
      } else {
        std::cout << "[differential] " << pool->spec().name << ": the recorded connections "
                  << "together do not reproduce it either (timing)" << std::endl;
      }
    }
  }
}

}  // namespace
}  // namespace proxy::test::differential

// Helpers for the live-reload tests; see reload_util.h.
#include "test/reload/reload_util.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace proxy::test {

std::pair<int, std::string> HttpPost(int port, const std::string& path, const std::string& body) {
  // A reload of a large config may take a while: a generous receive timeout.
  Client client(port, std::chrono::milliseconds(60000));
  if (!client.connected()) return {0, ""};
  client.Send(absl::StrCat("POST ", path, " HTTP/1.0\r\nHost: x\r\nContent-Length: ", body.size(),
                           "\r\n\r\n", body));
  const std::string response = client.ReadAll();
  int code = 0;
  if (response.size() > 12) absl::SimpleAtoi(response.substr(9, 3), &code);
  const size_t at = response.find("\r\n\r\n");
  return {code, at == std::string::npos ? "" : response.substr(at + 4)};
}

std::optional<double> MetricValue(absl::string_view metrics, absl::string_view series) {
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (!absl::ConsumePrefix(&line, series) || !absl::ConsumePrefix(&line, " ")) continue;
    double value = 0;
    // A sample may carry a timestamp after the value.
    const absl::string_view number = line.substr(0, line.find(' '));
    if (absl::SimpleAtod(number, &value)) return value;
  }
  return std::nullopt;
}

std::string ServerLine(int port, int weight, const std::string& name) {
  std::string line = absl::StrCat("127.0.0.1:", port, ":", weight);
  if (!name.empty()) absl::StrAppend(&line, " ", name);
  return line;
}

std::string PoolYaml(const PoolSpec& pool) {
  std::string yaml = absl::StrCat(pool.name, ":\n  listen: 127.0.0.1:", pool.listen_port,
                                  "\n  redis: ", pool.redis ? "true" : "false", "\n", pool.extra,
                                  "  servers:\n");
  for (const std::string& s : pool.servers) absl::StrAppend(&yaml, "   - ", s, "\n");
  return yaml;
}

std::string ConfigYaml(const std::vector<PoolSpec>& pools) {
  std::string yaml;
  for (const PoolSpec& pool : pools) absl::StrAppend(&yaml, PoolYaml(pool), "\n");
  return yaml;
}

ReloadableProxy::ReloadableProxy(const std::string& name, const std::string& yaml,
                                 const std::vector<int>& listen_ports,
                                 std::vector<std::string> extra_args)
    : conf_path_(TempPath(absl::StrCat(name, "-", getpid(), ".yml"))),
      log_path_(conf_path_ + ".log"),
      admin_port_(FreePort()),
      stats_port_(FreePort()) {
  WriteConfig(yaml);
  std::vector<std::string> argv = {Runfile("proxy"),
                                   "-c",
                                   conf_path_,
                                   "-v",
                                   "6",
                                   "-s",
                                   std::to_string(stats_port_),
                                   "-a",
                                   "127.0.0.1",
                                   "--admin-port",
                                   std::to_string(admin_port_)};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  if (!process_.Start(argv, log_path_)) return;
  std::vector<int> ports = listen_ports;
  ports.push_back(admin_port_);
  for (int port : ports) {
    if (!WaitForPortWhileRunning(process_, port, std::chrono::milliseconds(10000))) return;
  }
  ok_ = process_.Running();
}

std::string ReloadableProxy::Log() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void ReloadableProxy::WriteConfig(const std::string& yaml) {
  const std::string temp = conf_path_ + ".new";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << yaml;
  }
  std::rename(temp.c_str(), conf_path_.c_str());
}

std::pair<int, std::string> ReloadableProxy::PostReload() {
  return HttpPost(admin_port_, "/reload");
}

std::pair<int, std::string> ReloadableProxy::Apply(const std::string& yaml) {
  WriteConfig(yaml);
  return PostReload();
}

ReloadableProxy::SignalOutcome ReloadableProxy::ReloadBySignal(std::chrono::milliseconds timeout) {
  const int64_t generation = Generation();
  const int64_t failures = Reloads(false);
  process_.Kill(SIGUSR1);
  SignalOutcome outcome = SignalOutcome::kTimedOut;
  WaitUntil(
      [&] {
        const std::string metrics = Metrics();
        const auto g = MetricValue(metrics, "shardproxy_config_generation");
        const auto f =
            MetricValue(metrics, "shardproxy_config_reloads_total{result=\"failure\"}");
        if (g && static_cast<int64_t>(*g) != generation) {
          outcome = SignalOutcome::kApplied;
          return true;
        }
        if (f && static_cast<int64_t>(*f) != failures) {
          outcome = SignalOutcome::kFailed;
          return true;
        }
        return false;
      },
      timeout);
  return outcome;
}

std::string ReloadableProxy::Metrics() { return HttpGet(admin_port_, "/metrics").second; }

int64_t ReloadableProxy::Generation() {
  const auto v = MetricValue(Metrics(), "shardproxy_config_generation");
  return v ? static_cast<int64_t>(*v) : -1;
}

int64_t ReloadableProxy::Reloads(bool success) {
  const auto v = MetricValue(Metrics(), success
                                            ? "shardproxy_config_reloads_total{result=\"success\"}"
                                            : "shardproxy_config_reloads_total{result=\"failure\"}");
  return v ? static_cast<int64_t>(*v) : -1;
}

std::string ReloadableProxy::StatsJson() {
  Client client(stats_port_);
  if (!client.connected()) return "";
  return client.ReadAll();
}

namespace {

// Calls `each` with the link target of every entry of /proc/<pid>/fd; -1 when unreadable.
int ForEachFd(pid_t pid, const std::function<bool(const std::string&)>& count_it) {
  const std::string dir = absl::StrCat("/proc/", pid, "/fd");
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    char target[256] = {};
    const ssize_t len =
        readlink(absl::StrCat(dir, "/", e->d_name).c_str(), target, sizeof(target) - 1);
    if (count_it(len > 0 ? std::string(target, static_cast<size_t>(len)) : "")) ++n;
  }
  closedir(d);
  return n;
}

}  // namespace

int ReloadableProxy::FdCount() const {
  return ForEachFd(process_.pid(), [](const std::string&) { return true; });
}

int ReloadableProxy::SocketCount() const {
  return ForEachFd(process_.pid(),
                   [](const std::string& target) { return absl::StartsWith(target, "socket:"); });
}

long ReloadableProxy::RssKb() const { return proxy::test::RssKb(process_.pid()); }

std::map<std::string, std::string> RouteKeys(const std::string& conf, const std::string& pool,
                                             const std::vector<std::string>& keys,
                                             std::string* error) {
  std::map<std::string, std::string> route;
  const CommandResult result =
      RunCommand({Runfile("proxyctl"), "route", "--conf-file", conf, "--pool", pool},
                 std::chrono::milliseconds(30000), absl::StrCat(absl::StrJoin(keys, "\n"), "\n"));
  if (result.exit_code != 0) {
    *error = absl::StrCat("proxyctl route exited ", result.exit_code, ": ", result.output);
    return {};
  }
  for (absl::string_view line : absl::StrSplit(result.output, '\n', absl::SkipEmpty())) {
    const std::vector<std::string> fields = absl::StrSplit(line, '\t');
    if (fields.size() != 4) {
      *error = absl::StrCat("unexpected proxyctl route line: ", line);
      return {};
    }
    route[fields[0]] = fields[1];
  }
  if (route.size() != keys.size()) {
    *error = absl::StrCat("proxyctl route answered ", route.size(), " keys of ", keys.size());
    return {};
  }
  return route;
}

std::string Address(int port) { return absl::StrCat("127.0.0.1:", port); }

Backend::Backend(int port, bool redis) : port_(port), redis_(redis), client_(port) {
  if (redis_ && client_.connected()) {
    client_.Command({"CLIENT", "SETNAME", "reload-checker"});
  }
}

std::optional<std::string> Backend::Get(const std::string& key) {
  error_.clear();
  if (redis_) {
    const std::string reply = client_.Command({"GET", key});
    if (reply == "$-1\r\n") return std::nullopt;
    const size_t eol = reply.find("\r\n");
    if (reply.empty() || reply[0] != '$' || eol == std::string::npos) {
      error_ = absl::StrCat("redis ", port_, " GET ", key, ": ", reply);
      return std::nullopt;
    }
    return reply.substr(eol + 2, reply.size() - eol - 4);
  }
  if (!client_.Send(MemcacheGet(key))) {
    error_ = absl::StrCat("memcached ", port_, ": send failed");
    return std::nullopt;
  }
  const std::string reply = client_.ReadMemcacheReply();
  if (reply == "END\r\n") return std::nullopt;
  if (!absl::StartsWith(reply, "VALUE ")) {
    error_ = absl::StrCat("memcached ", port_, " get ", key, ": ", reply);
    return std::nullopt;
  }
  // VALUE <key> <flags> <bytes>\r\n<data>\r\nEND\r\n
  const size_t eol = reply.find("\r\n");
  return reply.substr(eol + 2, reply.size() - eol - 2 - 7);
}

std::vector<int64_t> Backend::OtherClientIds() {
  std::vector<int64_t> ids;
  if (!redis_) return ids;
  const std::string reply = client_.Command({"CLIENT", "LIST"});
  for (absl::string_view line : absl::StrSplit(reply, '\n', absl::SkipEmpty())) {
    if (absl::StrContains(line, " name=reload-checker ")) continue;
    const size_t at = line.find("id=");
    if (at == absl::string_view::npos) continue;
    const absl::string_view rest = line.substr(at + 3);
    int64_t id = 0;
    if (absl::SimpleAtoi(rest.substr(0, rest.find(' ')), &id)) ids.push_back(id);
  }
  return ids;
}

std::string RedisSet(const std::string& key, const std::string& value) {
  return Resp({"SET", key, value});
}
std::string RedisGet(const std::string& key) { return Resp({"GET", key}); }
std::string RedisBulk(const std::string& value) {
  return absl::StrCat("$", value.size(), "\r\n", value, "\r\n");
}
std::string MemcacheSet(const std::string& key, const std::string& value) {
  return absl::StrCat("set ", key, " 0 0 ", value.size(), "\r\n", value, "\r\n");
}
std::string MemcacheGet(const std::string& key) { return absl::StrCat("get ", key, "\r\n"); }
std::string MemcacheValue(const std::string& key, const std::string& value) {
  return absl::StrCat("VALUE ", key, " 0 ", value.size(), "\r\n", value, "\r\nEND\r\n");
}

std::string WriteKeys(Client& client, bool redis, const std::vector<std::string>& keys,
                      const std::string& tag) {
  std::string pipeline;
  for (const std::string& key : keys) {
    const std::string value = absl::StrCat(key, "=", tag);
    absl::StrAppend(&pipeline, redis ? RedisSet(key, value) : MemcacheSet(key, value));
  }
  if (!client.Send(pipeline)) return "send failed (connection closed?)";
  for (const std::string& key : keys) {
    const std::string reply = redis ? client.ReadReply() : client.ReadMemcacheReply();
    const std::string expected = redis ? "+OK\r\n" : "STORED\r\n";
    if (reply != expected) {
      return absl::StrCat("writing ", key, ": expected ", absl::StripSuffix(expected, "\r\n"),
                          ", got '", reply, "'", reply.empty() ? " (timeout or closed)" : "");
    }
  }
  return "";
}

std::string CheckPlacement(const std::map<std::string, std::string>& route,
                           std::vector<Backend*> backends, const std::string& tag) {
  std::vector<std::string> problems;
  for (const auto& [key, address] : route) {
    const std::string value = absl::StrCat(key, "=", tag);
    std::vector<std::string> found_on;
    bool on_named = false;
    for (Backend* backend : backends) {
      const std::optional<std::string> got = backend->Get(key);
      if (!backend->error().empty()) problems.push_back(backend->error());
      if (!got) continue;
      const std::string here = Address(backend->port());
      if (here == address && *got == value) on_named = true;
      found_on.push_back(absl::StrCat(here, *got == value ? "" : " (stale value " + *got + ")"));
    }
    if (!on_named || found_on.size() != 1) {
      problems.push_back(absl::StrCat(key, ": route says ", address, ", found on [",
                                      absl::StrJoin(found_on, ", "), "]"));
    }
    if (problems.size() >= 10) break;
  }
  return absl::StrJoin(problems, "\n");
}

}  // namespace proxy::test

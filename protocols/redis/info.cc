// INFO sections, the servers' INFO request and the merged document (protocols/redis/info.h).
#include "protocols/redis/info.h"

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "protocols/redis/resp.h"

namespace proxy::protocols::redis {
namespace {

// Reads "<type><digits>\r\n" at the start of `reply`; the payload follows.
bool ReadLength(absl::string_view reply, char type, size_t* pos, size_t* length) {
  if (reply.empty() || reply[0] != type) {
    return false;
  }
  const size_t crlf = reply.find("\r\n");
  int64_t value = 0;
  if (crlf == absl::string_view::npos || !ParseStrictInt64(reply.substr(1, crlf - 1), &value) ||
      value < 0) {
    return false;
  }
  *pos = crlf + 2;
  *length = static_cast<size_t>(value);
  return reply.size() - *pos == *length + 2 && reply.substr(*pos + *length) == "\r\n";
}

// "7.0.15" → {7, 0, 15}; a part that is not a number counts as 0.
std::vector<int64_t> VersionParts(absl::string_view version) {
  std::vector<int64_t> parts;
  for (absl::string_view part : absl::StrSplit(version, '.')) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(part, &value)) {
      value = 0;
    }
    parts.push_back(value);
  }
  return parts;
}

// The value of `field` in an INFO text ("field:value" lines); false when absent.
bool FindField(absl::string_view text, absl::string_view field, absl::string_view* value) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    absl::ConsumeSuffix(&line, "\r");
    if (line.size() > field.size() && line[field.size()] == ':' &&
        absl::StartsWith(line, field)) {
      *value = line.substr(field.size() + 1);
      return true;
    }
  }
  return false;
}

int64_t FieldOrZero(absl::string_view text, absl::string_view field) {
  absl::string_view value;
  int64_t number = 0;
  if (!FindField(text, field, &value) || !absl::SimpleAtoi(value, &number)) {
    return 0;
  }
  return number;
}

// The port of a listen address ("127.0.0.1:22121", "[::1]:6379"); 0 for a unix socket path.
int64_t ListenPort(absl::string_view listen) {
  if (absl::StartsWith(listen, "/")) {
    return 0;
  }
  const size_t colon = listen.rfind(':');
  int64_t port = 0;
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port)) {
    return 0;
  }
  return port;
}

// One database's line summed over the servers: the fields in the order first seen.
struct DbLine {
  std::vector<std::pair<std::string, int64_t>> fields;
  double ttl_weighted = 0;   // sum of avg_ttl * expires (a double: the product may pass 2^63)
  int64_t ttl_expires = 0;   // sum of expires of the servers that report avg_ttl
  bool has_avg_ttl = false;
};

// Adds the "dbN:k=v,..." lines of one server's text to `dbs` (keyed by N).
void AddKeyspace(absl::string_view text, std::map<int64_t, DbLine>* dbs) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    absl::ConsumeSuffix(&line, "\r");
    int64_t db = 0;
    const size_t colon = line.find(':');
    if (!absl::StartsWith(line, "db") || colon == absl::string_view::npos ||
        !absl::SimpleAtoi(line.substr(2, colon - 2), &db) || db < 0) {
      continue;
    }
    DbLine& entry = (*dbs)[db];
    int64_t expires = 0;
    int64_t avg_ttl = -1;
    for (absl::string_view pair : absl::StrSplit(line.substr(colon + 1), ',')) {
      const size_t eq = pair.find('=');
      int64_t value = 0;
      if (eq == absl::string_view::npos || !absl::SimpleAtoi(pair.substr(eq + 1), &value)) {
        continue;
      }
      const absl::string_view name = pair.substr(0, eq);
      if (name == "avg_ttl") {
        avg_ttl = value;
        entry.has_avg_ttl = true;
        continue;
      }
      if (name == "expires") {
        expires = value;
      }
      auto it = std::find_if(entry.fields.begin(), entry.fields.end(),
                             [&](const auto& field) { return field.first == name; });
      if (it == entry.fields.end()) {
        entry.fields.emplace_back(std::string(name), value);
      } else {
        it->second += value;
      }
    }
    if (avg_ttl >= 0) {
      entry.ttl_weighted += static_cast<double>(avg_ttl) * static_cast<double>(expires);
      entry.ttl_expires += expires;
    }
  }
}

void AppendField(absl::string_view name, absl::string_view value, std::string* out) {
  absl::StrAppend(out, name, ":", value, "\r\n");
}

void AppendField(absl::string_view name, int64_t value, std::string* out) {
  absl::StrAppend(out, name, ":", value, "\r\n");
}

}  // namespace

uint16_t InfoSectionBits(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (lower == "default" || lower == "all" || lower == "everything") return kInfoEvery;
  if (lower == "server") return kInfoServer;
  if (lower == "clients") return kInfoClients;
  if (lower == "persistence") return kInfoPersistence;
  if (lower == "stats") return kInfoStats;
  if (lower == "replication") return kInfoReplication;
  if (lower == "keyspace") return kInfoKeyspace;
  return 0;
}

std::string InfoServerRequest(uint16_t sections) {
  const uint16_t needed = sections & (kInfoServer | kInfoPersistence | kInfoKeyspace);
  std::string request;
  if (needed == kInfoServer || needed == kInfoPersistence || needed == kInfoKeyspace ||
      needed == 0) {
    const absl::string_view section = needed == kInfoPersistence ? "persistence"
                                      : needed == kInfoKeyspace  ? "keyspace"
                                                                 : "server";
    AppendArrayHeader(2, &request);
    AppendBulk("info", &request);
    AppendBulk(section, &request);
  } else {
    AppendArrayHeader(1, &request);
    AppendBulk("info", &request);
  }
  return request;
}

bool InfoReplyText(absl::string_view reply, absl::string_view* text) {
  size_t pos = 0;
  size_t length = 0;
  if (ReadLength(reply, '$', &pos, &length)) {
    *text = reply.substr(pos, length);
    return true;
  }
  if (ReadLength(reply, '=', &pos, &length) && length >= 4 && reply[pos + 3] == ':') {
    *text = reply.substr(pos + 4, length - 4);
    return true;
  }
  return false;
}

std::string MergeInfoDocument(uint16_t sections, absl::Span<const absl::string_view> texts,
                              const Codec::PoolFacts& facts) {
  std::string doc;
  auto section = [&](absl::string_view title) {
    if (!doc.empty()) doc.append("\r\n");
    absl::StrAppend(&doc, "# ", title, "\r\n");
  };
  if (sections & kInfoServer) {
    section("Server");
    absl::string_view lowest;
    std::vector<int64_t> lowest_parts;
    for (absl::string_view text : texts) {
      absl::string_view version;
      if (!FindField(text, "redis_version", &version)) continue;
      std::vector<int64_t> parts = VersionParts(version);
      if (lowest.empty() || parts < lowest_parts) {
        lowest = version;
        lowest_parts = std::move(parts);
      }
    }
    if (!lowest.empty()) AppendField("redis_version", lowest, &doc);
    AppendField("redis_mode", "standalone", &doc);
    AppendField("proxy", "shardproxy", &doc);
    AppendField("proxy_version", facts.proxy_version, &doc);
    AppendField("proxy_pool", facts.pool, &doc);
    AppendField("proxy_servers", facts.servers, &doc);
    AppendField("proxy_servers_ejected", facts.servers_ejected, &doc);
    AppendField("proxy_workers", facts.workers, &doc);
    AppendField("process_id", facts.process_id, &doc);
    AppendField("tcp_port", ListenPort(facts.listen), &doc);
    AppendField("uptime_in_seconds", static_cast<int64_t>(facts.uptime_s), &doc);
    AppendField("uptime_in_days", static_cast<int64_t>(facts.uptime_s / 86400), &doc);
  }
  if (sections & kInfoClients) {
    section("Clients");
    AppendField("connected_clients", static_cast<int64_t>(facts.client_connections), &doc);
    AppendField("blocked_clients", 0, &doc);
  }
  if (sections & kInfoPersistence) {
    section("Persistence");
    int64_t loading = 0;
    int64_t eta = 0;
    for (absl::string_view text : texts) {
      const int64_t server_loading = FieldOrZero(text, "loading");
      loading = std::max(loading, server_loading);
      if (server_loading > 0) eta = std::max(eta, FieldOrZero(text, "loading_eta_seconds"));
    }
    AppendField("loading", loading, &doc);
    if (loading > 0) AppendField("loading_eta_seconds", eta, &doc);
  }
  if (sections & kInfoStats) {
    section("Stats");
    AppendField("total_connections_received", static_cast<int64_t>(facts.total_connections),
                &doc);
    AppendField("total_commands_processed", static_cast<int64_t>(facts.requests), &doc);
    AppendField("proxy_requests_refused", static_cast<int64_t>(facts.refused), &doc);
  }
  if (sections & kInfoReplication) {
    section("Replication");
    AppendField("role", "master", &doc);
    AppendField("connected_slaves", 0, &doc);
  }
  if (sections & kInfoKeyspace) {
    section("Keyspace");
    std::map<int64_t, DbLine> dbs;
    for (absl::string_view text : texts) AddKeyspace(text, &dbs);
    for (const auto& [db, line] : dbs) {
      absl::StrAppend(&doc, "db", db, ":");
      bool first = true;
      for (const auto& [name, value] : line.fields) {
        absl::StrAppend(&doc, first ? "" : ",", name, "=", value);
        first = false;
        if (name == "expires" && line.has_avg_ttl) {
          // avg_ttl stays where redis prints it: after expires.
          absl::StrAppend(&doc, ",avg_ttl=",
                          line.ttl_expires > 0
                              ? static_cast<int64_t>(line.ttl_weighted /
                                                     static_cast<double>(line.ttl_expires))
                              : 0);
        }
      }
      doc.append("\r\n");
    }
  }
  return doc;
}

}  // namespace proxy::protocols::redis

// INFO on a sharding proxy: the sections a client asks for (kept in Request::codec_flags), the
// INFO each server is asked, and the one document the client gets, built from every server's
// reply and the proxy's own facts (RedisCodec::MergeBroadcast).
//
// The document has redis's form ("# Section" headers, "field:value" lines, CRLF line ends, a
// blank line between sections) and these sections, in redis's order:
//
//   # Server       redis_version = the LOWEST version among the servers (a client that checks
//                  features sees what every server supports), redis_mode:standalone, the
//                  proxy's facts (proxy, proxy_version, proxy_pool, proxy_servers,
//                  proxy_servers_ejected, proxy_workers), process_id, tcp_port (the pool's
//                  listen port; 0 for a unix socket), uptime_in_seconds, uptime_in_days
//   # Clients      connected_clients (the pool's client connections), blocked_clients:0
//   # Persistence  loading = the highest among the servers (1 while any server loads; with
//                  loading_eta_seconds = the highest, as ioredis's ready check waits on them)
//   # Stats        total_connections_received, total_commands_processed (the pool's
//                  requests), proxy_requests_refused
//   # Replication  role:master, connected_slaves:0 (the pool is what clients write to)
//   # Keyspace     one line per database found on any server, fields summed over the servers
//                  (keys, expires, and any other count such as redis 7.4's subexpiry), except
//                  avg_ttl: the average of the servers' avg_ttl weighted by their `expires`
//                  (what redis's estimate would be over the union), 0 without expiring keys
//
// Other sections (memory, cpu, commandstats, errorstats, cluster, modules...) describe one
// server, not the pool: they are left out, like a section redis does not know (which redis
// answers with an empty document). Section names are case-insensitive; no name, "default",
// "all" and "everything" mean every section above.
//
// Each server is asked only what the document needs: `INFO keyspace` for the keyspace alone,
// `INFO persistence` for persistence alone, `INFO server` when no server section is needed
// (clients, stats, replication), and plain `INFO` (redis's default sections hold all three)
// otherwise; one section per request, so that redis 6 servers (one section argument) answer.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "api/codec.h"

namespace proxy::protocols::redis {

// Bits of Request::codec_flags of an INFO request.
enum InfoSection : uint16_t {
  kInfoServer = 1 << 0,
  kInfoClients = 1 << 1,
  kInfoPersistence = 1 << 2,
  kInfoStats = 1 << 3,
  kInfoReplication = 1 << 4,
  kInfoKeyspace = 1 << 5,
  kInfoEvery = (1 << 6) - 1,
};

// The bits of one section name as a client gives it (any case); 0 for a section the proxy does
// not answer.
uint16_t InfoSectionBits(absl::string_view name);

// The INFO request (a RESP array) sent to every server for `sections`.
std::string InfoServerRequest(uint16_t sections);

// The text of an INFO reply: a bulk string, or a verbatim string (its "txt:" prefix removed).
// False for anything else (an error, a truncated reply).
bool InfoReplyText(absl::string_view reply, absl::string_view* text);

// The merged document for `sections` from the servers' INFO texts (see the top of this file).
std::string MergeInfoDocument(uint16_t sections, absl::Span<const absl::string_view> texts,
                              const Codec::PoolFacts& facts);

}  // namespace proxy::protocols::redis

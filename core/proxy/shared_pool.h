// The process-wide, immutable part of a pool, built once from the config and shared by every
// worker: the config, its codec, the filter factories and the limits.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "api/codec.h"
#include "api/config/v1/bootstrap.pb.h"
#include "api/filter.h"

namespace proxy {

// Limits that keep memory bounded (command-line flags).
struct ProxyLimits {
  DecoderLimits decoder;
  size_t read_chunk = 16384;  // bytes per read(2) (twemproxy's -m mbuf size)
  // A client whose unanswered requests or unsent reply bytes exceed these is not read from
  // until they drain (pipelining backpressure).
  size_t max_pending_requests = 65536;
  size_t max_client_output_bytes = 64u << 20;
  // Hard limit: a client with more reply bytes waiting (in its socket buffer queue and in
  // replies held for ordering) is disconnected, like redis's client-output-buffer-limit.
  size_t client_output_limit = 1u << 30;
  // Requests slower than this are counted and logged (rate-limited); 0 = off.
  uint64_t slowlog_us = 0;
};

struct SharedPool {
  config::v1::Pool config;
  CodecPtr codec;
  // The filter chain, resolved: factory + parsed config per entry (default chain when the
  // config has no `filters:`).
  struct FilterEntry {
    const FilterFactory* factory;
    std::unique_ptr<google::protobuf::Message> config;
  };
  std::vector<FilterEntry> filters;
  ProxyLimits limits;
  int unix_listen_fd = -1;  // shared by all workers for unix-socket listeners
};
using SharedPoolPtr = std::unique_ptr<SharedPool>;

// The chain used when a pool has no `filters:` list.
const std::vector<std::string>& DefaultFilterChain();

// Resolves the pool's protocol, codec and filters through the registries.
absl::StatusOr<SharedPoolPtr> BuildSharedPool(const config::v1::Pool& config,
                                              const ProxyLimits& limits);

}  // namespace proxy

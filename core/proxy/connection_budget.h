// How many shared server connections each worker of a pool may open, so that the pool's
// `max_server_connections: M` bounds what the whole process opens to each of its servers
// (docs/configuration.md). Pure arithmetic: PoolRuntime computes its quota once when it is
// built or updated by a reload, never per request.
#pragma once

#include <cstdint>

namespace proxy {

// The workers that accept the pool's clients: min(workers, M), every worker when M is 0.
// At least 1 (0 workers counts as 1, as OpenListener does).
uint32_t ServingWorkers(uint32_t workers, uint32_t max_server_connections);

// The shared connections worker `worker` may open to each server of the pool, per connection
// class (api/codec.h Codec::Variant), when `serving` workers accept the pool's clients:
//   - 0 for a worker that does not serve (worker >= serving);
//   - max(1, server_connections) when M is 0 (no cap: twemproxy's server_connections per
//     worker);
//   - else M spread over the serving workers, the first M % serving getting one more, capped
//     at server_connections and never below 1: with serving = ServingWorkers(workers, M) the
//     sum over the workers is at most M. `serving` is fixed when the listener is opened (a
//     reload keeps it), so a reload that lowers M below it leaves each serving worker 1
//     connection (and the sum above M) until the next restart.
uint32_t WorkerConnectionQuota(uint32_t worker, uint32_t serving, uint32_t server_connections,
                               uint32_t max_server_connections);

}  // namespace proxy

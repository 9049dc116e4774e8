#include "core/proxy/connection_budget.h"

#include <algorithm>

namespace proxy {

uint32_t ServingWorkers(uint32_t workers, uint32_t max_server_connections) {
  const uint32_t all = std::max<uint32_t>(1, workers);
  return max_server_connections == 0 ? all : std::min(all, max_server_connections);
}

uint32_t WorkerConnectionQuota(uint32_t worker, uint32_t serving, uint32_t server_connections,
                               uint32_t max_server_connections) {
  serving = std::max<uint32_t>(1, serving);
  if (worker >= serving) return 0;
  // server_connections is never 0 in a validated config; a pool built in code may leave it.
  const uint32_t per_worker = std::max<uint32_t>(1, server_connections);
  if (max_server_connections == 0) return per_worker;
  const uint32_t share =
      max_server_connections / serving + (worker < max_server_connections % serving ? 1 : 0);
  return std::clamp<uint32_t>(share, 1, per_worker);
}

}  // namespace proxy

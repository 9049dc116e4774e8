#!/usr/bin/env bash
# Throughput and proxy CPU of Redis Cluster and TLS pools (issue 13), measured with
# redis-benchmark on 127.0.0.1. The side-by-side harness (docs/bench/README.md) runs plain
# backends and a plaintext load generator only, so these two kinds of pool are measured here:
#
#   cluster: a 3-master Redis Cluster; shardproxy (redis_cluster: true), optionally predixy
#            (ClusterServerPool, --predixy BIN), and redis-benchmark --cluster straight to the
#            nodes (the ceiling: a cluster-aware client, no proxy).
#   tls:     one redis-server with a plain and a TLS port; shardproxy plain → plain, TLS → plain
#            (client side), TLS → TLS (both sides), and redis-benchmark straight to redis
#            (plain, TLS).
#
# Usage: tools/bench_cluster_tls.sh --proxy BIN [--predixy BIN] [--requests N] [--out FILE]
# The proxy and predixy run on CPU 0, redis-benchmark on CPU 1, the servers unpinned. Each
# figure is the median of 3 runs; proxy CPU is utime+stime over the run divided by requests.
set -euo pipefail

proxy=""
predixy=""
requests=200000
out=/dev/stdout
while [ $# -gt 0 ]; do
  case "$1" in
    --proxy) proxy=$(realpath "$2"); shift 2 ;;
    --predixy) predixy=$(realpath "$2"); shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$proxy" ] || { echo "--proxy BIN is required" >&2; exit 2; }

# shellcheck source=tools/bench_common.sh
source "$(dirname "$0")/bench_common.sh"

# One measurement: label, pid of the proxy (0 = none), redis-benchmark arguments.
rows=()
measure() {
  local label=$1 pid=$2; shift 2
  local results=() cpus=()
  for _ in 1 2 3; do
    local before=0 after=0
    [ "$pid" != 0 ] && before=$(cpu_ticks "$pid")
    local rps
    # The mean over the commands run (SET and GET: two runs of $requests each).
    rps=$(taskset -c 1 redis-benchmark -q -n "$requests" -r 100000 -d 3 -c 50 "$@" 2>/dev/null |
          tr '\r' '\n' | awk '/requests per second/ {for (i = 1; i < NF; i++) if ($(i + 1) == "requests") s += $i; n++}
               END {printf "%.0f", s / n}')
    local commands
    commands=$(printf '%s\n' "$@" | grep -A1 -x -- -t | tail -1 | tr ',' '\n' | wc -l)
    [ "$pid" != 0 ] && after=$(cpu_ticks "$pid")
    results+=("$rps")
    # clock ticks (1/100 s) per request, as microseconds
    cpus+=("$(awk -v t=$((after - before)) -v n=$((requests * commands)) \
              'BEGIN {printf "%.2f", t * 10000 / n}')")
  done
  local median_rps median_cpu
  median_rps=$(printf '%s\n' "${results[@]}" | sort -g | sed -n 2p)
  median_cpu=$(printf '%s\n' "${cpus[@]}" | sort -g | sed -n 2p)
  [ "$pid" = 0 ] && median_cpu="-"
  rows+=("| $label | $median_rps | $median_cpu |")
}

# ---------------------------------------------------------------------------------------------
# Redis Cluster: 3 masters, no replicas.
nodes=()
for i in 1 2 3; do
  port=$(free_port)
  bus=$(free_port)
  mkdir -p "$work/node$i"
  (cd "$work/node$i" && exec redis-server --port "$port" --cluster-enabled yes \
     --cluster-port "$bus" --cluster-config-file nodes.conf --save '' --appendonly no \
     --logfile "$work/node$i/log") &
  pids+=($!)
  nodes+=("$port")
done
for port in "${nodes[@]}"; do wait_port "$port"; done
redis-cli --cluster create "127.0.0.1:${nodes[0]}" "127.0.0.1:${nodes[1]}" \
  "127.0.0.1:${nodes[2]}" --cluster-yes >/dev/null
for _ in $(seq 1 100); do
  ok=0
  for port in "${nodes[@]}"; do
    redis-cli -p "$port" cluster info | grep -q 'cluster_state:ok' && ok=$((ok + 1))
  done
  [ "$ok" = 3 ] && break
  sleep 0.1
done

cluster_port=$(free_port)
cat > "$work/cluster.yml" <<EOF
cluster:
  listen: 127.0.0.1:$cluster_port
  redis: true
  redis_cluster: true
  servers:
   - 127.0.0.1:${nodes[0]}:1
EOF
taskset -c 0 "$proxy" -c "$work/cluster.yml" -s "$(free_port)" >"$work/cluster-proxy.log" 2>&1 &
cluster_pid=$!
pids+=("$cluster_pid")
wait_port "$cluster_port"

measure "cluster: redis-benchmark --cluster, no proxy (SET+GET)" 0 --cluster -p "${nodes[0]}" -t set,get
measure "cluster: shardproxy (SET+GET)" "$cluster_pid" -p "$cluster_port" -t set,get
measure "cluster: shardproxy, -P 16 (SET+GET)" "$cluster_pid" -p "$cluster_port" -t set,get -P 16
measure "cluster: shardproxy MSET of 10 keys" "$cluster_pid" -p "$cluster_port" -t mset
if [ -n "$predixy" ]; then
  predixy_port=$(free_port)
  cat > "$work/predixy.conf" <<EOF
Name PredixyBench
Bind 127.0.0.1:$predixy_port
WorkerThreads 1
ClientTimeout 300
LogVerbSample 0
LogDebugSample 0
LogInfoSample 0
LogNoticeSample 0
LogWarnSample 1
LogErrorSample 1
ClusterServerPool {
    MasterReadPriority 100
    StaticSlaveReadPriority 0
    DynamicSlaveReadPriority 0
    RefreshInterval 5
    ServerTimeout 1
    ServerFailureLimit 10
    ServerRetryTimeout 1
    KeepAlive 120
    Servers {
        + 127.0.0.1:${nodes[0]}
    }
}
EOF
  taskset -c 0 "$predixy" "$work/predixy.conf" >"$work/predixy.log" 2>&1 &
  predixy_pid=$!
  pids+=("$predixy_pid")
  wait_port "$predixy_port"
  measure "cluster: predixy (SET+GET)" "$predixy_pid" -p "$predixy_port" -t set,get
  measure "cluster: predixy, -P 16 (SET+GET)" "$predixy_pid" -p "$predixy_port" -t set,get -P 16
  measure "cluster: predixy MSET of 10 keys" "$predixy_pid" -p "$predixy_port" -t mset
fi

# ---------------------------------------------------------------------------------------------
# TLS: certificates made here (a CA, a certificate for 127.0.0.1).
(cd "$work" &&
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=bench-ca -keyout ca.key -out ca.crt 2>/dev/null &&
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=127.0.0.1 \
    -keyout server.key -out server.csr 2>/dev/null &&
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > san.ext &&
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile san.ext -out server.crt 2>/dev/null)
redis_plain=$(free_port)
redis_tls=$(free_port)
redis-server --port "$redis_plain" --tls-port "$redis_tls" --tls-cert-file "$work/server.crt" \
  --tls-key-file "$work/server.key" --tls-ca-cert-file "$work/ca.crt" --tls-auth-clients no \
  --save '' --appendonly no --logfile "$work/redis-tls.log" &
pids+=($!)
wait_port "$redis_plain"
tls_cli=(--tls --cacert "$work/ca.crt")
plain_port=$(free_port)
client_tls_port=$(free_port)
both_tls_port=$(free_port)
cat > "$work/tls.yml" <<EOF
plain:
  listen: 127.0.0.1:$plain_port
  redis: true
  servers:
   - 127.0.0.1:$redis_plain:1
client_tls:
  listen: 127.0.0.1:$client_tls_port
  redis: true
  tls: {cert: $work/server.crt, key: $work/server.key}
  servers:
   - 127.0.0.1:$redis_plain:1
both_tls:
  listen: 127.0.0.1:$both_tls_port
  redis: true
  tls: {cert: $work/server.crt, key: $work/server.key}
  server_tls: {ca: $work/ca.crt}
  servers:
   - 127.0.0.1:$redis_tls:1
EOF
taskset -c 0 "$proxy" -c "$work/tls.yml" -s "$(free_port)" >"$work/tls-proxy.log" 2>&1 &
tls_pid=$!
pids+=("$tls_pid")
wait_port "$plain_port"
wait_port "$client_tls_port" "${tls_cli[@]}"

measure "tls: redis-benchmark straight to redis, plain (SET+GET)" 0 -p "$redis_plain" -t set,get
measure "tls: redis-benchmark straight to redis, TLS (SET+GET)" 0 -p "$redis_tls" "${tls_cli[@]}" -t set,get
measure "tls: shardproxy plain → plain (SET+GET)" "$tls_pid" -p "$plain_port" -t set,get
measure "tls: shardproxy TLS → plain (SET+GET)" "$tls_pid" -p "$client_tls_port" "${tls_cli[@]}" -t set,get
measure "tls: shardproxy TLS → TLS (SET+GET)" "$tls_pid" -p "$both_tls_port" "${tls_cli[@]}" -t set,get
measure "tls: shardproxy TLS → TLS, -P 16 (SET+GET)" "$tls_pid" -p "$both_tls_port" "${tls_cli[@]}" -t set,get -P 16
measure "tls: shardproxy plain → plain, -P 16 (SET+GET)" "$tls_pid" -p "$plain_port" -t set,get -P 16

{
  echo "# Cluster and TLS pools, $(date -u '+%Y-%m-%d %H:%M') UTC"
  echo
  echo "- proxy: \`$(basename "$proxy")\` sha256 $(sha256sum "$proxy" | cut -c1-12); $requests requests per run, 50 clients, 3-byte values, 100000 random keys; median of 3 runs"
  echo "- machine: $(nproc) cpus; proxies on CPU 0, redis-benchmark on CPU 1, servers unpinned"
  echo "- SET+GET: redis-benchmark -t set,get, the mean of its two figures; proxy CPU in microseconds per request (clock ticks: 10 ms resolution over the run)"
  echo
  echo "| target | requests/s | proxy CPU us/req |"
  echo "|---|---:|---:|"
  printf '%s\n' "${rows[@]}"
} > "$out"

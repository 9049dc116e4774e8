#!/usr/bin/env bash
# Worker scaling (issue 15): throughput and proxy CPU per request with --workers 1..N, and the
# backend connections each run opened (the admin endpoint's /servers), measured with
# redis-benchmark on 127.0.0.1.
#
# The same command gives the N-worker curve on any machine: run it with --max-workers up to the
# cores left after the load generator and the backends (e.g. on 16 cores: --max-workers 12
# --lg-threads 3 --servers 8). On a 2-core machine the load generator and the redis-servers
# share the cores with the proxy, so the curve there shows the ceiling of the machine, not of
# the proxy: the report's CPU column says how much of it the proxy used.
#
# Usage: tools/bench_workers.sh --proxy BIN [--max-workers N] [--servers K] [--requests R]
#          [--pipeline P] [--clients C] [--lg-threads T] [--server-connections S]
#          [--max-server-connections M] [--runs X] [--out FILE]
#
# The pool uses `reuseport: true`, so that the kernel spreads the load generator's connections
# evenly over the workers (with one shared listening socket the worker that wakes first takes
# a burst of connects, and a short benchmark then measures fewer workers than it asked for).
# Nothing is pinned (the proxy's threads go where the scheduler puts them). Each figure is the
# median of --runs runs; proxy CPU is utime+stime of the whole process over a run divided by its
# requests.
set -euo pipefail

proxy=""
max_workers=$(nproc)
servers=4
requests=1000000
pipeline=16
clients=50
lg_threads=1
server_connections=1
max_server_connections=0
runs=3
out=/dev/stdout
while [ $# -gt 0 ]; do
  case "$1" in
    --proxy) proxy=$(realpath "$2"); shift 2 ;;
    --max-workers) max_workers=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --pipeline) pipeline=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --lg-threads) lg_threads=$2; shift 2 ;;
    --server-connections) server_connections=$2; shift 2 ;;
    --max-server-connections) max_server_connections=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$proxy" ] || { echo "--proxy BIN is required" >&2; exit 2; }

# shellcheck source=tools/bench_common.sh
source "$(dirname "$0")/bench_common.sh"
median() { sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }

# Backends.
server_lines=""
for i in $(seq 1 "$servers"); do
  port=$(free_port)
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$work" --logfile "$work/redis$i.log" &
  pids+=($!)
  wait_port "$port"
  server_lines+="    - 127.0.0.1:$port:1 s$i"$'\n'
done

listen=$(free_port)
cat > "$work/proxy.yml" <<EOF
bench:
  listen: 127.0.0.1:$listen
  hash: fnv1a_64
  distribution: ketama
  redis: true
  reuseport: true
  preconnect: true
  auto_eject_hosts: false
  server_connections: $server_connections
  max_server_connections: $max_server_connections
  servers:
$server_lines
EOF

hz=$(getconf CLK_TCK)
rows=()
base_get=""
base_set=""
for workers in $(seq 1 "$max_workers"); do
  stats=$(free_port)
  admin=$(free_port)
  "$proxy" -c "$work/proxy.yml" -s "$stats" -a 127.0.0.1 --workers "$workers" \
    --admin-port "$admin" > "$work/proxy$workers.log" 2>&1 &
  ppid=$!
  pids+=($ppid)
  wait_port "$listen"
  declare -A rate=() cpu=()
  for test in get set; do
    rates=()
    cpus=()
    for _ in $(seq 1 "$runs"); do
      t0=$(cpu_ticks "$ppid")
      line=$(redis-benchmark -p "$listen" -t "$test" -n "$requests" -c "$clients" -P "$pipeline" \
               -d 3 -r 100000 --threads "$lg_threads" --csv 2>/dev/null | tail -1)
      t1=$(cpu_ticks "$ppid")
      ops=$(echo "$line" | awk -F'","' '{print $2}' | tr -d '"')
      rates+=("$ops")
      cpus+=("$(awk -v t=$((t1 - t0)) -v hz="$hz" -v n="$requests" 'BEGIN{printf "%.3f", t / hz * 1e6 / n}')")
    done
    rate[$test]=$(printf '%s\n' "${rates[@]}" | median)
    cpu[$test]=$(printf '%s\n' "${cpus[@]}" | median)
  done
  # Backend connections as /servers reports them (established, summed over the workers).
  servers_json=$(curl -s "http://127.0.0.1:$admin/servers")
  conns=$(echo "$servers_json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(e.get("connections",0) for e in d if e.get("role")=="master"))')
  limit=$(echo "$servers_json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(e.get("connection_limit",0) for e in d if e.get("role")=="master"))')
  kill "$ppid"
  wait "$ppid" 2>/dev/null || true
  [ -n "$base_get" ] || { base_get=${rate[get]}; base_set=${rate[set]}; }
  rows+=("$(awk -v w="$workers" -v g="${rate[get]}" -v s="${rate[set]}" -v bg="$base_get" \
    -v bs="$base_set" -v cg="${cpu[get]}" -v cs="${cpu[set]}" -v c="$conns" -v l="$limit" \
    'BEGIN{printf "| %d | %.0f | %.2f | %.0f | %.2f | %s | %s | %d / %d |", w, g, g/bg, s, s/bs, cg, cs, c, l}')")
  unset rate cpu
done

{
  echo "redis-benchmark -P $pipeline -c $clients -d 3 --threads $lg_threads, $requests requests, median of $runs;"
  echo "$servers redis-servers, server_connections $server_connections, max_server_connections $max_server_connections, $(nproc) CPUs, nothing pinned."
  echo
  echo "| workers | GET ops/s | x 1 worker | SET ops/s | x 1 worker | proxy CPU µs/op GET | proxy CPU µs/op SET | backend connections / limit |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
} > "$out"

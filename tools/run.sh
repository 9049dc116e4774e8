#!/usr/bin/env bash
# The first run: with no arguments, starts the backends configs/nutcracker.yml names (a local
# redis-server or memcached for each 127.0.0.1 server, data in a temp dir), waits until they
# answer, runs the proxy on that file (stats on 127.0.0.1:22222), prints how to try each pool, and
# stops everything it started on Ctrl-C, TERM or exit.
#
# With arguments it runs only the proxy with those flags, e.g.
#   tools/run.sh --conf-file my.yml        (your own backends)
#   tools/run.sh -t -c configs/nutcracker.yml
#
# The proxy is `bazel run //:proxy` (built first; missing Debian packages are installed by
# tools/setup.sh). PROXY_BIN=/path/to/proxy uses an already built binary instead and skips the
# setup step (//test/run:run_sh_test does this: bazel cannot run inside a bazel test).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${PROXY_BIN:-}" ]; then
  tools/setup.sh
fi

if [ "$#" -gt 0 ]; then
  if [ -n "${PROXY_BIN:-}" ]; then
    exec "$PROXY_BIN" "$@"
  fi
  exec bazel run //:proxy -- "$@"
fi

CONF=configs/nutcracker.yml
STATS_PORT=22222

# One line per pool ("pool NAME LISTEN PROTOCOL AUTH") and per server ("server POOL ADDRESS"),
# from the simple block layout of nutcracker.yml (the proxy itself validates the file).
parse() {
  awk '
    function unquote(v) { gsub(/^["'"'"']|["'"'"']$/, "", v); return v }
    function flush() {
      if (pool != "") print "pool", pool, listen, (redis == "true" || proto == "redis") ? "redis" : (proto != "" ? proto : "memcache"), (auth == "" ? "-" : auth)
    }
    /^[[:space:]]*(#|$)/ { next }
    /^[^[:space:]-]/ { flush(); pool = $1; sub(/:$/, "", pool); listen = ""; redis = ""; proto = ""; auth = ""; next }
    /^[[:space:]]+-[[:space:]]/ { servers[++n] = pool " " unquote($2); next }
    /^[[:space:]]+[a-z_]+:/ {
      key = $1; sub(/:$/, "", key); val = unquote($2)
      if (key == "listen") listen = val
      else if (key == "redis") redis = val
      else if (key == "protocol") proto = val
      else if (key == "redis_auth") auth = val
    }
    END { flush(); for (i = 1; i <= n; i++) print "server", servers[i] }
  ' "$CONF"
}

declare -A POOL_LISTEN POOL_PROTO POOL_AUTH BACKEND_KIND BACKEND_AUTH BACKEND_POOL
POOLS=()
BACKENDS=()
SKIPPED=()
while read -r kind a b c d; do
  if [ "$kind" = pool ]; then
    POOLS+=("$a"); POOL_LISTEN[$a]=$b; POOL_PROTO[$a]=$c; POOL_AUTH[$a]=$d
    continue
  fi
  pool=$a address=$b
  # host:port:weight, or /path/to.sock:weight (a unix-socket server)
  hostport=${address%:*}
  host=${hostport%:*} port=${hostport##*:}
  case "$host" in
    127.0.0.1|localhost) ;;
    *) SKIPPED+=("pool '$pool': server $address is not a 127.0.0.1 TCP address; run.sh does not start it (the proxy will report it unreachable)")
       continue ;;
  esac
  case "${POOL_PROTO[$pool]}" in
    redis|memcache) ;;
    *) SKIPPED+=("pool '$pool': protocol '${POOL_PROTO[$pool]}' has no local server run.sh knows how to start")
       continue ;;
  esac
  if [ -n "${BACKEND_KIND[$port]:-}" ]; then
    continue  # the same server in two pools
  fi
  BACKENDS+=("$port"); BACKEND_KIND[$port]=${POOL_PROTO[$pool]}; BACKEND_POOL[$port]=$pool
  BACKEND_AUTH[$port]=${POOL_AUTH[$pool]}
done < <(parse)

# Every TCP port this needs must be free; say who holds a busy one and what to do.
busy() {
  ss -Hltn "sport = :$1" 2>/dev/null | grep -q . && return 0
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
check_port() {
  local port=$1 what=$2 holder
  busy "$port" || return 0
  holder=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'users:(([^)]*))' | head -1 || true)
  echo "run.sh: port $port ($what) is already in use${holder:+ by $holder}." >&2
  echo "  Stop that process (is another tools/run.sh or a system redis/memcached service running?)," >&2
  echo "  or run the proxy alone on a config of your own with your own backends:" >&2
  echo "    tools/run.sh --conf-file my.yml" >&2
  exit 1
}
for port in "${BACKENDS[@]}"; do
  check_port "$port" "${BACKEND_KIND[$port]} server of pool '${BACKEND_POOL[$port]}'"
done
for pool in "${POOLS[@]}"; do
  listen=${POOL_LISTEN[$pool]}
  case "$listen" in
    /*) if ss -Hlx 2>/dev/null | grep -q " $listen "; then
          echo "run.sh: the unix socket $listen (pool '$pool') is already served by another process; stop it first." >&2
          exit 1
        fi ;;
    *) check_port "${listen##*:}" "listen address of pool '$pool'" ;;
  esac
done
check_port "$STATS_PORT" "the proxy's stats port"

# Build first, so that the backends do not wait for a cold build.
if [ -n "${PROXY_BIN:-}" ]; then
  bin=$PROXY_BIN
else
  bazel build //:proxy
  bin=bazel-bin/proxy
fi

DATA=$(mktemp -d "${TMPDIR:-/tmp}/shardproxy-run.XXXXXX")
PIDS=()
cleanup() {
  trap - EXIT INT TERM
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$DATA"
  echo "run.sh: stopped the proxy and ${#BACKENDS[@]} backends" >&2
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for port in "${BACKENDS[@]}"; do
  if [ "${BACKEND_KIND[$port]}" = redis ]; then
    args=(redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$DATA"
          --daemonize no)
    [ "${BACKEND_AUTH[$port]}" != - ] && args+=(--requirepass "${BACKEND_AUTH[$port]}")
  else
    args=(memcached -l 127.0.0.1 -p "$port" -U 0 -m 64)
    [ "$(id -u)" -eq 0 ] && args+=(-u root)
  fi
  "${args[@]}" >"$DATA/${BACKEND_KIND[$port]}-$port.log" 2>&1 &
  PIDS+=($!)
  echo "run.sh: started ${args[0]} pid $! on 127.0.0.1:$port (pool '${BACKEND_POOL[$port]}')"
done
for msg in "${SKIPPED[@]}"; do echo "run.sh: $msg"; done

wait_port() {
  local i
  for i in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "run.sh: nothing answers on 127.0.0.1:$1 after 10 s (log: $2)" >&2
  return 1
}
for port in "${BACKENDS[@]}"; do
  wait_port "$port" "$DATA/${BACKEND_KIND[$port]}-$port.log"
done

"$bin" --conf-file "$CONF" --stats-addr 127.0.0.1 --stats-port "$STATS_PORT" &
PIDS+=($!)
proxy_pid=$!
echo "run.sh: started the proxy pid $proxy_pid on $CONF (stats: 127.0.0.1:$STATS_PORT)"
for pool in "${POOLS[@]}"; do
  listen=${POOL_LISTEN[$pool]}
  case "$listen" in
    /*) for i in $(seq 100); do [ -S "$listen" ] && break; sleep 0.1; done ;;
    *) wait_port "${listen##*:}" "the proxy's output above" ;;
  esac
done

echo
echo "shardproxy is serving configs/nutcracker.yml. Try each pool:"
for pool in "${POOLS[@]}"; do
  listen=${POOL_LISTEN[$pool]}
  if [ "${POOL_PROTO[$pool]}" = redis ]; then
    if [ "${listen:0:1}" = / ]; then target="-s $listen"; else target="-p ${listen##*:}"; fi
    [ "${POOL_AUTH[$pool]}" != - ] && target+=" -a ${POOL_AUTH[$pool]} --no-auth-warning"
    echo "  $pool (redis): redis-cli $target set a b && redis-cli $target get a"
  elif [ "${POOL_PROTO[$pool]}" = memcache ]; then
    if [ "${listen:0:1}" = / ]; then target="-U $listen"; else target="127.0.0.1 ${listen##*:}"; fi
    # Two connections, one after the other: pipelined on one connection, the get can overtake
    # the set when the pool has server_connections > 1 (each request may take another one).
    echo "  $pool (memcache): printf 'set a 0 0 1\\r\\nb\\r\\n' | nc -q 1 $target && printf 'get a\\r\\n' | nc -q 1 $target"
  else
    echo "  $pool (${POOL_PROTO[$pool]}): $listen"
  fi
done
echo "Stats: nc 127.0.0.1 $STATS_PORT. Backend data and logs: $DATA. Ctrl-C stops everything."
wait "$proxy_pid"

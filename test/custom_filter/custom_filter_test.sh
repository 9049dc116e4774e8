#!/usr/bin/env bash
# End-to-end test of the test-only `hello` filter in its own binary (proxy_with_custom_filter =
# //core/server:main + bazel/plugins.bzl + :hello): config validation under `-t` (errors with
# file:line:col, the stock //:proxy not knowing the name), then serving over a real redis-server
# and memcached started here on free 127.0.0.1 ports.
set -u

root="${TEST_SRCDIR}/${TEST_WORKSPACE}"
custom="$root/test/custom_filter/proxy_with_custom_filter"
stock="$root/proxy"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
failures=0
checks=0
pids=()

pass() { checks=$((checks + 1)); }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL: $*"; }
# expect_eq WHAT EXPECTED ACTUAL
expect_eq() { if [ "$2" == "$3" ]; then pass; else fail "$1: expected [$2], got [$3]"; fi; }
# expect_contains WHAT NEEDLE HAYSTACK
expect_contains() {
  if [[ "$3" == *"$2"* ]]; then pass; else fail "$1: [$2] not found in [$3]"; fi
}

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
}
trap cleanup EXIT

for tool in redis-server redis-cli memcached; do
  if ! command -v "$tool" >/dev/null; then
    echo "FAIL: $tool is not installed (apt-get install redis-server redis-tools memcached)"
    exit 1
  fi
done

# True when something accepts TCP connections on 127.0.0.1:PORT.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A port nothing listens on right now (the start_* helpers retry if it is taken meanwhile),
# below Linux's ephemeral range (32768 and up): a port there can be the local end of another
# test's outgoing connection, which nothing "listens" on but which still makes bind() fail.
free_port() {
  local port
  for _ in $(seq 200); do
    port=$((20000 + RANDOM % 12000))
    if ! listening "$port"; then echo "$port"; return 0; fi
  done
  return 1
}
# Polls until PORT accepts connections (true) or PID exits / 10 s pass (false).
wait_listening() {
  local port="$1" pid="$2"
  for _ in $(seq 500); do
    listening "$port" && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.02
  done
  return 1
}
# start NAME CMD...: runs CMD (which must contain the word PORT) on a free port, retrying when
# that port was taken; sets $started_port and records the pid.
start() {
  local name="$1"; shift
  local port pid args
  for _ in 1 2 3 4 5; do
    port=$(free_port) || break
    args=("${@//PORT/$port}")
    "${args[@]}" >"$tmp/$name.log" 2>&1 &
    pid=$!
    if wait_listening "$port" "$pid"; then
      pids+=("$pid")
      started_port="$port"
      return 0
    fi
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  echo "FAIL: $name did not start; log:"
  cat "$tmp/$name.log"
  exit 1
}

# ---------------------------------------------------------------------------------------------
# 1. Validation under -t: no sockets, the filter's own Create() in validate_only mode.

good="$tmp/good.yml"
cat >"$good" <<'EOF'
alpha:
  listen: 127.0.0.1:22121
  redis: true
  servers:
   - 127.0.0.1:6379:1
  filters:
   - hello
   - hash_tag
   - router
   - stats
beta:
  listen: 127.0.0.1:22122
  servers:
   - 127.0.0.1:11211:1
  filters:
   - name: hello
     config:
       magic_key: whoami
       greeting: hi from
   - hash_tag
   - router
EOF
out=$("$custom" -t -c "$good" 2>&1)
expect_eq "custom binary accepts a good config: exit code" 0 $?
expect_contains "custom binary accepts a good config" \
  "nutcracker: configuration file '$good' syntax is ok" "$out"

out=$("$stock" -t -c "$good" 2>&1)
expect_eq "//:proxy does not link hello: exit code" 1 $?
expect_contains "//:proxy does not link hello" \
  "$good:7:6: pool 'alpha': filters: 'hello' is not a valid filter (valid: command_policy," "$out"

bad="$tmp/bad.yml"
cat >"$bad" <<'EOF'
alpha:
  listen: 127.0.0.1:22121
  redis: true
  servers:
   - 127.0.0.1:6379:1
  filters:
   - name: hello
     config:
       magic_key: two words
   - router
beta:
  listen: 127.0.0.1:22122
  servers:
   - 127.0.0.1:11211:1
  filters:
   - name: hello
     config:
       greting: typo
   - router
EOF
out=$("$custom" -t -c "$bad" 2>&1)
expect_eq "custom binary rejects a bad config: exit code" 1 $?
expected="$bad:9:8: pool 'alpha': filters: hello: magic_key: 'two words' is not a usable key"
expected+=" (one word of printable ASCII, at most 250 bytes)"
expect_contains "the factory's error, at the config's position" "$expected" "$out"
expected="$bad:18:8: pool 'beta': filters: hello: unknown setting 'greting'"
expected+=" (valid: magic_key, greeting)"
expect_contains "the loader's error, at the unknown setting" "$expected" "$out"
expect_contains "twemproxy's summary line" \
  "nutcracker: configuration file '$bad' syntax is invalid" "$out"

# ---------------------------------------------------------------------------------------------
# 2. Serving: the filter answers its key locally; everything else reaches the real servers.

user_args=()
[ "$(id -u)" -eq 0 ] && user_args=(-u root)
start redis redis-server --port PORT --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp"
redis_port=$started_port
start memcached memcached -p PORT -l 127.0.0.1 -U 0 -t 1 -m 16 "${user_args[@]}"
memcached_port=$started_port

alpha_port=$(free_port)
beta_port=$(free_port)
gamma_port=$(free_port)
delta_port=$(free_port)
conf="$tmp/serve.yml"
cat >"$conf" <<EOF
alpha:
  listen: 127.0.0.1:$alpha_port
  redis: true
  servers:
   - 127.0.0.1:$redis_port:1
  filters:
   - hello
   - hash_tag
   - router
   - stats
beta:
  listen: 127.0.0.1:$beta_port
  servers:
   - 127.0.0.1:$memcached_port:1
  filters:
   - name: hello
     config:
       magic_key: whoami
       greeting: hi from
   - hash_tag
   - router
   - stats
gamma:
  listen: 127.0.0.1:$gamma_port
  redis: true
  servers:
   - 127.0.0.1:$redis_port:1
  filters:
   - instance
   - hash_tag
   - router
   - stats
delta:
  listen: 127.0.0.1:$delta_port
  redis: true
  servers:
   - 127.0.0.1:$redis_port:1
  filters:
   - hello
   - instance
   - router
EOF
start proxy "$custom" -c "$conf" -s PORT -a 127.0.0.1 -v 6
if ! wait_listening "$alpha_port" "${pids[-1]}" || ! wait_listening "$beta_port" "${pids[-1]}"; then
  echo "FAIL: the proxy does not listen on $alpha_port and $beta_port; log:"
  cat "$tmp/proxy.log"
  exit 1
fi

rc() { redis-cli -h 127.0.0.1 -p "$alpha_port" "$@" 2>&1; }
direct() { redis-cli -h 127.0.0.1 -p "$redis_port" "$@" 2>&1; }

expect_eq "GET of the magic key is answered by the filter" "hello from pool alpha" \
  "$(rc GET __proxy_hello__)"
expect_eq "in any command case" "hello from pool alpha" "$(rc get __proxy_hello__)"
expect_eq "...and never reaches redis" "0" "$(direct EXISTS __proxy_hello__)"
expect_eq "other keys are forwarded: SET" "OK" "$(rc SET greeting:k v1)"
expect_eq "other keys are forwarded: GET" "v1" "$(rc GET greeting:k)"
expect_eq "the value really is in redis" "v1" "$(direct GET greeting:k)"
expect_eq "only GET is intercepted: SET of the magic key is forwarded" "OK" \
  "$(rc SET __proxy_hello__ stored)"
expect_eq "redis has it" "stored" "$(direct GET __proxy_hello__)"
expect_eq "GET still answers locally" "hello from pool alpha" "$(rc GET __proxy_hello__)"
expect_eq "MGET is not a GET: forwarded" "$(printf 'stored\nv1')" \
  "$(rc MGET __proxy_hello__ greeting:k)"

# memcache: one connection, a pipeline of requests, then quit (the proxy closes after replying).
mc() {
  exec 4<>"/dev/tcp/127.0.0.1/$beta_port" || return 1
  printf '%b' "$1quit\r\n" >&4
  timeout 10 cat <&4
  exec 4<&-
}
reply=$(mc 'get whoami\r\nset mc:k 0 0 2\r\nv2\r\nget mc:k\r\nget whoami\r\n')
hello='VALUE whoami 0 12\r\nhi from beta\r\nEND\r\n'
expected=$(printf "${hello}STORED\\r\\nVALUE mc:k 0 2\\r\\nv2\\r\\nEND\\r\\n${hello}")
expect_eq "memcache pool: the filter's answer in order with forwarded replies" "$expected" "$reply"

# 3. Filters that keep no client state (api/filter.h KeepsClientState): when the whole chain
# says so (gamma: instance, hash_tag, router, stats), one filter object serves every client;
# with one filter that keeps client state in the chain (delta: hello), each client has its own.
# Every redis-cli call is a new client connection.
wait_listening "$gamma_port" "${pids[-1]}" && wait_listening "$delta_port" "${pids[-1]}"
gc() { redis-cli -h 127.0.0.1 -p "$gamma_port" "$@" 2>&1; }
dc() { redis-cli -h 127.0.0.1 -p "$delta_port" "$@" 2>&1; }
first=$(gc GET __proxy_instance__)
second=$(gc GET __proxy_instance__)
third=$(gc GET __proxy_instance__)
if [[ "$first" =~ ^[0-9]+$ ]]; then pass; else fail "shared chain: a number, got [$first]"; fi
expect_eq "shared chain: the second client is served by the same filter object" "$first" "$second"
expect_eq "shared chain: and the third" "$first" "$third"
expect_eq "shared chain: requests are still forwarded" "OK" "$(gc SET shared:k v3)"
expect_eq "shared chain: and answered" "v3" "$(gc GET shared:k)"
one=$(dc GET __proxy_instance__)
two=$(dc GET __proxy_instance__)
if [[ "$one" =~ ^[0-9]+$ && "$two" =~ ^[0-9]+$ ]]; then
  pass
else
  fail "own chains: numbers, got [$one] [$two]"
fi
if [ "$one" != "$two" ] && [ "$one" != "$first" ] && [ "$two" != "$first" ]; then
  pass
else
  fail "a chain with a filter that keeps client state: each client its own ([$one] [$two]," \
    "shared [$first])"
fi
expect_eq "own chains: hello still answers" "hello from pool delta" "$(dc GET __proxy_hello__)"

if [ "$failures" -ne 0 ]; then
  echo "--- proxy log"
  cat "$tmp/proxy.log"
fi
echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]

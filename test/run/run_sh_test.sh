#!/usr/bin/env bash
# tools/run.sh with no arguments, as a first-time user runs it: it must start the backends of
# configs/nutcracker.yml, run the proxy, print a way to try each pool, and leave nothing running
# after it is stopped. Run from the source workspace (found through the runfiles symlink of
# configs/nutcracker.yml) with PROXY_BIN set to the built //:proxy, since bazel cannot run inside
# a bazel test. The ports are the fixed ones of configs/nutcracker.yml (the test is exclusive).
set -uo pipefail

runfiles=${TEST_SRCDIR:-$0.runfiles}/${TEST_WORKSPACE:-shardproxy}
conf=$(readlink -f "$runfiles/configs/nutcracker.yml")
root=${conf%/configs/nutcracker.yml}
proxy=$(readlink -f "$runfiles/proxy")
tmp=${TEST_TMPDIR:-$(mktemp -d)}
log=$tmp/run.log
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

[ -x "$root/tools/run.sh" ] || { echo "FAIL: no tools/run.sh under $root"; exit 1; }
PROXY_BIN=$proxy TMPDIR=$tmp "$root/tools/run.sh" >"$log" 2>&1 &
run_pid=$!

ready=0
for _ in $(seq 300); do
  if grep -q "Try each pool" "$log"; then ready=1; break; fi
  kill -0 "$run_pid" 2>/dev/null || break
  sleep 0.1
done
if [ "$ready" -ne 1 ]; then
  echo "FAIL: tools/run.sh did not get ready within 30 s; its output:"
  cat "$log"
  kill "$run_pid" 2>/dev/null; wait "$run_pid"
  exit 1
fi
sleep 0.5  # the last pool's hint line follows the header
cat "$log"

# Every pool of the example config has a hint, and the hint works as printed.
pools=$(grep -cE '^[A-Za-z0-9_-]+:' "$conf")
hints=$(grep -cE '^  [A-Za-z0-9_-]+ \((redis|memcache)\): ' "$log")
[ "$hints" -eq "$pools" ] || fail "$pools pools in configs/nutcracker.yml, $hints hints printed"
while IFS= read -r line; do
  pool=$(awk '{print $1}' <<<"$line")
  kind=$(sed -E 's/^ +[^ ]+ \(([a-z]+)\).*/\1/' <<<"$line")
  cmd=${line#*): }
  out=$(timeout 10 bash -c "$cmd" </dev/null 2>&1 | tr -d '\r')
  case "$kind" in
    redis) want=$'OK\nb' ;;
    memcache) want=$'STORED\nVALUE a 0 1\nb\nEND' ;;
  esac
  if [ "$out" = "$want" ]; then
    echo "ok: pool $pool ($kind): $cmd"
  else
    fail "pool $pool ($kind): '$cmd' printed '$out', expected '$want'"
  fi
done < <(grep -E '^  [A-Za-z0-9_-]+ \((redis|memcache)\): ' "$log")

# Stopping run.sh stops everything it started.
pids=$(grep -oE 'pid [0-9]+' "$log" | awk '{print $2}')
[ "$(wc -w <<<"$pids")" -ge 2 ] || fail "run.sh printed no pids: $pids"
kill -TERM "$run_pid"
wait "$run_pid"
echo "run.sh exited with $? after TERM"
sleep 0.5
for pid in $pids; do
  if kill -0 "$pid" 2>/dev/null; then
    fail "pid $pid ($(cat /proc/"$pid"/cmdline 2>/dev/null | tr '\0' ' ')) still runs after run.sh stopped"
  fi
done
for port in $(grep -oE '127\.0\.0\.1:[0-9]+' "$conf" | cut -d: -f2 | sort -u) 22222; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    fail "127.0.0.1:$port still accepts connections after run.sh stopped"
  fi
done
grep -q "run.sh: stopped the proxy" "$log" || fail "run.sh did not say it stopped everything"

if [ "$failures" -ne 0 ]; then
  echo "$failures failures"
  exit 1
fi
echo "PASS"

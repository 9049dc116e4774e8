#!/usr/bin/env bash
# proxyctl reload (and stats, which shares its HTTP client) against a real proxy's admin
# endpoint: the exit code follows the HTTP status, the body is printed as the proxy sent it
# (compared with Python's http.client), and an unreachable endpoint exits 2.
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/test/tools/testlib.sh"
ctl="$root/proxyctl"
proxy="$root/proxy"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# post PORT: "<status code>" on the first line, then the body, as Python's client sees them.
post() {
  python3 - "$1" <<'PY'
import http.client, sys
connection = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=20)
connection.request("POST", "/reload")
response = connection.getresponse()
sys.stdout.write("%d\n" % response.status)
sys.stdout.write(response.read().decode())
PY
}

listen=$(free_port); stats=$(free_port); admin=$(free_port)
conf="$tmp/reload.yml"
cat > "$conf" <<YAML
cache:
  listen: 127.0.0.1:$listen
  servers:
   - 127.0.0.1:1:1
YAML
"$proxy" -c "$conf" -s "$stats" -a 127.0.0.1 --admin-port "$admin" -o "$tmp/proxy.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null' EXIT
for _ in $(seq 1 200); do
  (exec 3<>"/dev/tcp/127.0.0.1/$admin") 2>/dev/null && break
  sleep 0.05
done

# stats still reads /metrics through the shared client.
out=$("$ctl" stats --admin "127.0.0.1:$admin"); rc=$?
expect_eq "stats exit code" 0 "$rc"
expect_contains "stats table" "POOL" "$out"

# reload of an unchanged config: the exit code follows the status class.
out=$("$ctl" reload --admin "127.0.0.1:$admin" 2>"$tmp/err"); rc=$?
reply=$(post "$admin")
code=$(head -1 <<<"$reply")
if [ "$code" -ge 200 ] && [ "$code" -lt 300 ]; then
  expect_eq "reload exit code for HTTP $code" 0 "$rc"
  [ -n "$out" ] && pass || fail "reload printed no body for HTTP $code"
else
  expect_eq "reload exit code for HTTP $code" 1 "$rc"
  expect_eq "reload prints the body" "$(tail -n +2 <<<"$reply")" "$out"
  expect_contains "reload names the status" "proxyctl reload: HTTP/1." "$(cat "$tmp/err")"
fi

# An invalid config is refused: never a 2xx, whatever the endpoint answers.
cat > "$conf" <<YAML
cache:
  listen: 127.0.0.1:$listen
  hash: sha1
  servers:
   - 127.0.0.1:1:1
YAML
out=$("$ctl" reload --admin "127.0.0.1:$admin" 2>"$tmp/err"); rc=$?
reply=$(post "$admin")
expect_eq "refused reload exit code" 1 "$rc"
expect_eq "refused reload prints the body" "$(tail -n +2 <<<"$reply")" "$out"
code=$(head -1 <<<"$reply")
[ "$code" -ge 400 ] && pass || fail "an invalid config was answered with HTTP $code"

# No proxy there: exit 2.
kill "$pid"; wait "$pid" 2>/dev/null
"$ctl" reload --admin "127.0.0.1:$admin" >"$tmp/out" 2>"$tmp/err"; rc=$?
expect_eq "unreachable admin exit code" 2 "$rc"
expect_contains "unreachable admin reason" "cannot connect to 127.0.0.1:$admin" "$(cat "$tmp/err")"
"$ctl" reload 2>/dev/null
expect_eq "reload without --admin" 2 "$?"
"$ctl" reload --admin nonsense 2>/dev/null
expect_eq "reload with a bad HOST:PORT" 2 "$?"
expect_contains "usage documents reload" "reload --admin HOST:PORT" "$("$ctl" help)"

finish

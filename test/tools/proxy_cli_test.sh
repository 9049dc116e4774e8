#!/usr/bin/env bash
# //:proxy's twemproxy-compatible command line: -h -V -D -t and option errors.
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/test/tools/testlib.sh"
proxy="$root/proxy"

# Everything goes to stderr, stdout stays empty (as in twemproxy).
out=$("$proxy" -V 2>"$tmp/err"); rc=$?
expect_eq "-V exit" 0 "$rc"
expect_eq "-V stdout" "" "$out"
expect_contains "-V banner" "nutcracker-0.5.0 compatible" "$(cat "$tmp/err")"
expect_contains "-V backend" "async event backend: epoll" "$(cat "$tmp/err")"

"$proxy" --help 2>"$tmp/err"; expect_eq "--help exit" 0 "$?"
for flag in "-h, --help" "-t, --test-conf" "-d, --daemonize" "-D, --describe-stats" "-v, --verbose=N" \
            "-o, --output=S" "-c, --conf-file=S" "-s, --stats-port=N" "-a, --stats-addr=S" \
            "-i, --stats-interval=N" "-p, --pid-file=S" "-m, --mbuf-size=N" "--workers=N|auto"; do
  expect_contains "usage lists $flag" "$flag" "$(cat "$tmp/err")"
done

# -D: twemproxy's exact description block (names left-justified in 20 columns).
"$proxy" -D 2>"$tmp/err"; expect_eq "-D exit" 0 "$?"
cat > "$tmp/expected_d" <<'TXT'
pool stats:
  client_eof          "# eof on client connections"
  client_err          "# errors on client connections"
  client_connections  "# active client connections"
  server_ejects       "# times backend server was ejected"
  forward_error       "# times we encountered a forwarding error"
  fragments           "# fragments created from a multi-vector request"

server stats:
  server_eof          "# eof on server connections"
  server_err          "# errors on server connections"
  server_timedout     "# timeouts on server connections"
  server_connections  "# active server connections"
  server_ejected_at   "timestamp when server was ejected in usec since epoch"
  requests            "# requests"
  request_bytes       "total request bytes"
  responses           "# responses"
  response_bytes      "total response bytes"
  in_queue            "# requests in incoming queue"
  in_queue_bytes      "current request bytes in incoming queue"
  out_queue           "# requests in outgoing queue"
  out_queue_bytes     "current request bytes in outgoing queue"
TXT
expect_eq "-D description" "$(cat "$tmp/expected_d")" "$(tail -n +4 "$tmp/err")"

# -t: twemproxy's lines and exit codes, plus every reason (twemproxy prints none).
conf="$root/configs/nutcracker.yml"
"$proxy" -t -c "$conf" 2>"$tmp/err"; rc=$?
expect_eq "-t valid exit" 0 "$rc"
expect_eq "-t valid line" "nutcracker: configuration file '$conf' syntax is ok" "$(tail -1 "$tmp/err")"
"$proxy" --test-conf --conf-file="$conf" 2>/dev/null; expect_eq "long options" 0 "$?"
printf 'alpha:\n  listen: 127.0.0.1:1\n  timeout: abc\n  servers:\n   - 127.0.0.1:2:1\n' > "$tmp/bad.yml"
"$proxy" -t -c "$tmp/bad.yml" 2>"$tmp/err"; rc=$?
expect_eq "-t invalid exit" 1 "$rc"
expect_contains "-t prints the reason" "bad.yml:3:12: pool 'alpha': timeout: 'abc' is not a number" "$(cat "$tmp/err")"
expect_eq "-t invalid line" "nutcracker: configuration file '$tmp/bad.yml' syntax is invalid" "$(tail -1 "$tmp/err")"
"$proxy" -t -c "$tmp/missing.yml" 2>"$tmp/err"; expect_eq "-t missing file exit" 1 "$?"
expect_contains "-t missing file reason" "No such file or directory" "$(cat "$tmp/err")"
# -h/-V/-D take precedence over -t.
"$proxy" -t -V -c "$tmp/bad.yml" 2>/dev/null; expect_eq "-V before -t" 0 "$?"

# Option errors: the specific message, then the usage, exit 1.
check_option_error() {
  local what="$1" message="$2"; shift 2
  "$proxy" "$@" 2>"$tmp/err"; local rc=$?
  expect_eq "$what exit" 1 "$rc"
  expect_contains "$what message" "$message" "$(cat "$tmp/err")"
  expect_contains "$what usage" "Usage: shardproxy" "$(cat "$tmp/err")"
}
check_option_error "unknown option" "invalid option -- 'x'" -x
check_option_error "-? is rejected like twemproxy" "invalid option -- '?'" '-?'
check_option_error "-v non-number" "option -v requires a number" -v abc
check_option_error "-s port 0" "option -s value 0 is not a valid port" -s 0
check_option_error "-s port 70000" "option -s value 70000 is not a valid port" -s 70000
check_option_error "-s non-number" "option -s requires a number" -s x
check_option_error "-i negative" "option -i requires a number" -i -5
check_option_error "-m zero" "option -m requires a non-zero number" -m 0
check_option_error "-m too small" "mbuf chunk size must be between 512 and 16777216 bytes" -m 100
check_option_error "-m too big" "mbuf chunk size must be between 512 and 16777216 bytes" -m 16777217
check_option_error "-c missing argument" "option -c requires a file name" -c
check_option_error "-a missing argument" "option -a requires a string" -a
check_option_error "--workers bad" "option --workers requires a number from 1 to 1024 or auto" --workers 0
"$proxy" -t --workers auto -c "$conf" 2>/dev/null; expect_eq "--workers auto accepted" 0 "$?"
"$proxy" -t -v 99 -m 512 -s 1 -i 0 -c "$conf" 2>/dev/null; expect_eq "edge values accepted" 0 "$?"

finish

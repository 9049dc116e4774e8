#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian 12 machine: installs what is missing, builds
# everything, runs every test (unit, golden vectors, config, CLI, integration against real
# redis-server and memcached started by the tests, the differential framing fuzzer), then prints
# the totals as "N passed, M failed" on the last line.
#
#   tools/test.sh               the normal build, then the same suite under AddressSanitizer +
#                               UndefinedBehaviorSanitizer (bazel --config=asan, see .bazelrc)
#   tools/test.sh --sanitize    only the sanitized run
#   tools/test.sh --no-sanitize only the normal run
# Other arguments are bazel options, passed to each `bazel test //...` run.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=(normal asan)
args=()
for a in "$@"; do
  case "$a" in
    --sanitize) runs=(asan) ;;
    --no-sanitize) runs=(normal) ;;
    *) args+=("$a") ;;
  esac
done

tools/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
status=0

# Adds the per-test-case totals of the JUnit XML files of the tests that exist now. Both runs
# write to their own output tree, but bazel-testlogs points at the last one: count right after
# each run.
count_results() {
  local label="$1" p=0 f=0 target path xml t e bad
  for target in $(bazel query 'tests(//...)' 2>/dev/null); do
    path=${target#//}
    xml="bazel-testlogs/${path/://}/test.xml"
    if [ ! -f "$xml" ]; then
      f=$((f + 1))
      echo "no result for $target ($label)"
      continue
    fi
    # The first element carrying a tests= attribute holds the totals (gtest: <testsuites>,
    # Bazel's own XML for sh_test: <testsuite>).
    read -r t bad e < <(grep -o -m1 -E '<testsuites? [^>]*tests="[0-9]+"[^>]*' "$xml" |
      awk '{
        t = f = e = 0
        if (match($0, /tests="[0-9]+"/)) t = substr($0, RSTART + 7, RLENGTH - 8)
        if (match($0, /failures="[0-9]+"/)) f = substr($0, RSTART + 10, RLENGTH - 11)
        if (match($0, /errors="[0-9]+"/)) e = substr($0, RSTART + 8, RLENGTH - 9)
        print t, f, e
      }')
    t=${t:-0}; bad=${bad:-0}; e=${e:-0}
    bad=$((bad + e))
    [ "$bad" -gt "$t" ] && bad=$t
    p=$((p + t - bad))
    f=$((f + bad))
  done
  echo "$label: $p passed, $f failed"
  passed=$((passed + p))
  failed=$((failed + f))
  # A failing bazel run must never count as clean.
  if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then
    failed=$((failed + 1))
  fi
}

for run in "${runs[@]}"; do
  start=$(date +%s)
  if [ "$run" = asan ]; then
    bazel test --config=asan //... "${args[@]}"
  else
    bazel test //... "${args[@]}"
  fi
  rc=$?
  [ "$rc" -ne 0 ] && status=1
  echo "$run run: bazel exit $rc in $(( $(date +%s) - start )) s"
  if [ "$run" = asan ]; then
    # bazel-testlogs follows the last build; query with the same options so that it stays.
    count_results "sanitized (asan+ubsan)" "$rc"
  else
    count_results "normal" "$rc"
  fi
done

echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]

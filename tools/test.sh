#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian 12 machine: installs what is missing, builds
# everything, runs every test (unit, golden vectors, config, CLI, integration against real
# redis-server and memcached started by the tests), then prints the totals as
# "N passed, M failed" on the last line.
set -uo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

bazel test //... "$@"
rc=$?

# Totals per test case, from the JUnit XML files of the tests that exist now.
passed=0
failed=0
for target in $(bazel query 'tests(//...)' 2>/dev/null); do
  path=${target#//}
  xml="bazel-testlogs/${path/://}/test.xml"
  if [ ! -f "$xml" ]; then
    failed=$((failed + 1))
    echo "no result for $target"
    continue
  fi
  # The first element carrying a tests= attribute holds the totals (gtest: <testsuites>,
  # Bazel's own XML for sh_test: <testsuite>).
  read -r t f e < <(grep -o -m1 -E '<testsuites? [^>]*tests="[0-9]+"[^>]*' "$xml" |
    awk '{
      t = f = e = 0
      if (match($0, /tests="[0-9]+"/)) t = substr($0, RSTART + 7, RLENGTH - 8)
      if (match($0, /failures="[0-9]+"/)) f = substr($0, RSTART + 10, RLENGTH - 11)
      if (match($0, /errors="[0-9]+"/)) e = substr($0, RSTART + 8, RLENGTH - 9)
      print t, f, e
    }')
  t=${t:-0}; f=${f:-0}; e=${e:-0}
  bad=$((f + e))
  [ "$bad" -gt "$t" ] && bad=$t
  passed=$((passed + t - bad))
  failed=$((failed + bad))
done
# A failing bazel run must never print a clean total.
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
fi
echo "$passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Runs one test under `--config=asan` (see .bazelrc): every sanitized process the test starts
# (the test binary itself, and the //:proxy processes of the integration tests, which inherit
# this environment) writes any AddressSanitizer / UndefinedBehaviorSanitizer / LeakSanitizer
# report to a file under $TEST_TMPDIR/sanitizer; after the test those files are printed and the
# test fails when there is one, even if every assertion passed (a proxy that reported an error
# while being stopped, or in a child process whose exit status nobody reads, still fails it).
set -u
dir="${TEST_TMPDIR:-/tmp}/sanitizer"
# The suppressions file sits next to this script (in the runfiles tree when run by bazel).
here="$(cd "$(dirname "$0")" && pwd)"
supp=""
for f in "$0.runfiles/${TEST_WORKSPACE:-shardproxy}/bazel/lsan_suppressions.txt" \
         "$here/lsan_suppressions.txt" \
         "${TEST_SRCDIR:-}/${TEST_WORKSPACE:-shardproxy}/bazel/lsan_suppressions.txt"; do
  if [ -f "$f" ]; then supp="$f"; break; fi
done
[ -n "$supp" ] || echo "sanitizer wrapper: bazel/lsan_suppressions.txt not found" >&2
rm -rf "$dir"
mkdir -p "$dir"
common="halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$dir/report"
# Options given by the caller come last, so that they win (e.g. ASAN_OPTIONS=detect_leaks=0).
# A 16 MB quarantine (default 256 MB) and 10-frame allocation stacks keep the sanitized proxy's
# RSS close enough to the normal one for the tests that assert a memory bound on it
# (test/safety/core/memory_bounds_test.cc, test/safety/memcache/memcache_safety_test.cc), while
# freed memory still sits out 16 MB of later allocations before it is reused.
export ASAN_OPTIONS="$common:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:quarantine_size_mb=16:malloc_context_size=10${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="$common${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LSAN_OPTIONS="log_path=$dir/report:print_suppressions=0${supp:+:suppressions=$supp}${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
"$@"
rc=$?
# A report is a file with an error in it (not, e.g., only a list of the suppressions used).
reports=$(grep -l -E 'ERROR: (Address|Leak|Undefined|Thread)Sanitizer|runtime error:|SUMMARY: ' \
  $(find "$dir" -type f -name 'report*' 2>/dev/null | sort) /dev/null 2>/dev/null)
if [ -n "$reports" ]; then
  for f in $reports; do
    echo "==== sanitizer report $f"
    cat "$f"
  done >&2
  echo "sanitizer: $(echo "$reports" | wc -l) report(s) above; the test fails" >&2
  # Count it in the JUnit XML too (tools/test.sh totals test cases from it).
  xml="${XML_OUTPUT_FILE:-}"
  if [ -n "$xml" ] && [ -f "$xml" ]; then
    awk 'BEGIN { done = 0 }
      !done && match($0, /<testsuites? [^>]*failures="[0-9]+"/) {
        s = substr($0, RSTART, RLENGTH)
        match(s, /failures="[0-9]+"/)
        n = substr(s, RSTART + 10, RLENGTH - 11) + 1
        sub(/failures="[0-9]+"/, "failures=\"" n "\"", $0)
        done = 1
      }
      { print }' "$xml" > "$xml.tmp" && mv "$xml.tmp" "$xml"
  fi
  [ "$rc" -eq 0 ] && rc=1
fi
exit "$rc"

#!/usr/bin/env bash
# Checks the genquery outputs (every transitive dependency label) against the layering rules.
set -u
dir="${TEST_SRCDIR}/${TEST_WORKSPACE}/test/deps"
failures=0

# check NAME FILE ALLOWED_REGEX: every label of ours in FILE must match ALLOWED_REGEX.
check() {
  local name="$1" file="$2" allowed="$3"
  if [ ! -s "$file" ]; then
    echo "FAIL $name: $file is missing or empty"; failures=$((failures + 1)); return
  fi
  local ours bad
  ours=$(grep -E '^//' "$file")
  bad=$(printf '%s\n' "$ours" | grep -vE "$allowed")
  if [ -n "$bad" ]; then
    echo "FAIL $name: forbidden dependencies:"; printf '  %s\n' $bad
    failures=$((failures + 1))
  else
    echo "ok   $name: $(printf '%s\n' "$ours" | wc -l) labels of ours, all allowed"
  fi
}

check "api depends on nothing of ours" "$dir/api_deps" '^//(api|third_party)[:/]'
check "core depends on api, not on plugins" "$dir/core_deps" '^//(api|core|third_party|tools/proxyctl)[:/]'
check "hash/distribution plugins depend on api and their own tree" "$dir/hashes_deps" \
  '^//(api|third_party|hashes)[:/]'
check "filter plugins depend on api and their own tree" "$dir/filters_deps" \
  '^//(api|third_party|filters)[:/]'
check "protocol plugins depend on api and their own tree" "$dir/protocols_deps" \
  '^//(api|third_party|protocols)[:/]'

# The rule must be able to fail: a plugin label is caught by the core pattern.
if printf '//hashes/functions:md5\n' | grep -qE '^//(api|core|third_party|tools/proxyctl)[:/]'; then
  echo "FAIL self-check: the core pattern accepts a plugin label"; failures=$((failures + 1))
fi
# The queries really cover the targets they claim (guards against an empty scope).
grep -q '^//core/config:config$' "$dir/core_deps" || { echo "FAIL core_deps lacks //core/config"; failures=$((failures + 1)); }
grep -q '^//hashes/distributions:ketama$' "$dir/hashes_deps" || { echo "FAIL hashes_deps lacks ketama"; failures=$((failures + 1)); }
grep -q '^//filters/router:router$' "$dir/filters_deps" || { echo "FAIL filters_deps lacks the router"; failures=$((failures + 1)); }
grep -q '^//core/proxy:proxy$' "$dir/core_deps" || { echo "FAIL core_deps lacks //core/proxy"; failures=$((failures + 1)); }

[ "$failures" -eq 0 ] && echo "PASS" || echo "$failures rule(s) broken"
exit "$failures"

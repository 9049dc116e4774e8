#!/usr/bin/env bash
# proxyctl check / route / plugins, run as an operator would.
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/test/tools/testlib.sh"
ctl="$root/proxyctl"
golden="$root/test/golden"

# --- check: every example config is valid, with a one-line summary on stdout.
for conf in "$root"/configs/*.yml; do
  out=$("$ctl" check --conf-file "$conf" 2>"$tmp/err"); rc=$?
  expect_eq "check $(basename "$conf") exit code" 0 "$rc"
  expect_contains "check $(basename "$conf") summary" ": ok: " "$out"
done
out=$("$ctl" check --conf-file "$root/configs/nutcracker.yml")
expect_contains "summary counts" "ok: 5 pools, 10 servers" "$out"

# --- check: every error, each with file:line:col, exit 1.
cat > "$tmp/bad.yml" <<'YAML'
alpha:
  listen: 127.0.0.1:22121
  hash: sha1
  servers:
   - 127.0.0.1:6379
beta:
  listen: 127.0.0.1:22122
  distribution: consistent
  servers:
   - 127.0.0.1:6380:0
YAML
"$ctl" check --conf-file "$tmp/bad.yml" >"$tmp/out" 2>"$tmp/err"; rc=$?
err=$(cat "$tmp/err")
expect_eq "invalid config exit code" 1 "$rc"
expect_eq "nothing on stdout for an invalid config" "" "$(cat "$tmp/out")"
expect_contains "bad hash" "bad.yml:3:9: pool 'alpha': hash: 'sha1' is not a valid hash (valid: crc16, crc32, crc32a, fnv1_32, fnv1_64, fnv1a_32, fnv1a_64, hsieh, jenkins, md5, murmur, one_at_a_time)" "$err"
expect_contains "missing weight" "bad.yml:5:6: pool 'alpha': servers: '127.0.0.1:6379': expected" "$err"
expect_contains "bad distribution" "bad.yml:8:17: pool 'beta': distribution: 'consistent' is not a valid distribution (valid: ketama, modula, random)" "$err"
expect_contains "zero weight" "bad.yml:10:6: pool 'beta': servers: '127.0.0.1:6380:0': weight is zero" "$err"
expect_contains "error count" "invalid: 4 errors" "$err"

"$ctl" check --conf-file "$tmp/does-not-exist.yml" 2>"$tmp/err"; rc=$?
expect_eq "missing file exit code" 1 "$rc"
expect_contains "missing file reason" "No such file or directory" "$(cat "$tmp/err")"
"$ctl" check 2>/dev/null; expect_eq "check without --conf-file" 2 "$?"
"$ctl" frobnicate 2>/dev/null; expect_eq "unknown command" 2 "$?"

# --- plugins: every hash, distribution, each once.
plugins=$("$ctl" plugins)
expect_eq "hash plugins" 12 "$(grep -c $'^hash\t' <<<"$plugins")"
expect_eq "distribution plugins" 3 "$(grep -c $'^distribution\t' <<<"$plugins")"
for name in one_at_a_time md5 crc16 crc32 crc32a fnv1_64 fnv1a_64 fnv1_32 fnv1a_32 hsieh murmur jenkins; do
  grep -q $'^hash\t'"$name"$'\t' <<<"$plugins" && pass || fail "plugins lacks hash $name"
done

# --- route: output format, then bit-exact placement against twemproxy's golden vectors.
out=$("$ctl" route --conf-file "$root/configs/nutcracker.yml" --pool beta 'user:{42}:name' 'user:{42}:email')
expect_eq "route prints one line per key" 2 "$(wc -l <<<"$out")"
expect_eq "route has 4 tab-separated fields" 4 "$(head -1 <<<"$out" | awk -F'\t' '{print NF}')"
expect_eq "hash tag keeps both keys together" \
  "$(head -1 <<<"$out" | cut -f2-4)" "$(tail -1 <<<"$out" | cut -f2-4)"
expect_contains "route names the named server" $'\tserver' "$out"
"$ctl" route --conf-file "$root/configs/nutcracker.yml" --pool nope k 2>"$tmp/err"
expect_eq "unknown pool exit code" 1 "$?"
expect_contains "unknown pool lists pools" "pools: alpha, beta, gamma, delta, omega" "$(cat "$tmp/err")"

# For several vector combinations: write the pool, route every key via stdin, compare servers.
combos=0
while IFS=$'\t' read -r set dist hash tag; do
  servers=$(awk -F'\t' -v s="$set" 'NR>1 && $1==s {print $2; exit}' "$golden/distribution_vectors.tsv")
  {
    echo "pool:"
    echo "  listen: 127.0.0.1:22121"
    echo "  hash: $hash"
    echo "  distribution: $dist"
    [ -n "$tag" ] && echo "  hash_tag: \"$tag\""
    echo "  servers:"
    tr '|' '\n' <<<"$servers" | sed 's/^/   - /'
  } > "$tmp/route.yml"
  awk -F'\t' -v s="$set" -v d="$dist" -v h="$hash" -v t="$tag" \
    'NR>1 && $1==s && $3==d && $4==h && $5==t {print $6 "\t" $8}' \
    "$golden/distribution_vectors.tsv" > "$tmp/expected"
  cut -f1 "$tmp/expected" | "$ctl" route --conf-file "$tmp/route.yml" --pool pool > "$tmp/routed"
  # Expected server column is the YAML entry "host:port:weight [name]": compare host:port.
  paste <(cut -f2 "$tmp/expected" | sed -E 's/ .*//; s/:[0-9]+$//') <(cut -f2 "$tmp/routed") \
    | awk -F'\t' '$1 != $2 {bad++} END {exit bad > 0}'
  rc=$?
  rows=$(wc -l < "$tmp/expected")
  expect_eq "route $set/$dist/$hash/tag=$tag: all $rows keys on twemproxy's server" 0 "$rc"
  expect_eq "route $set/$dist/$hash/tag=$tag row count" 200 "$rows"
  combos=$((combos + 1))
done <<'COMBOS'
s3_equal	ketama	fnv1a_64	
s5_weighted	ketama	md5	{}
s3_named	ketama	murmur	{}
s4_unsorted_mixed	modula	crc32a	
s10_equal	modula	fnv1a_64	{}
s3_bigweights	ketama	crc32a	
COMBOS
expect_eq "route combinations checked" 6 "$combos"

finish

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
expect_contains "bad distribution" "bad.yml:8:17: pool 'beta': distribution: 'consistent' is not a valid distribution (valid: ketama, modula, random, redis_cluster)" "$err"
expect_contains "zero weight" "bad.yml:10:6: pool 'beta': servers: '127.0.0.1:6380:0': weight is zero" "$err"
expect_contains "error count" "invalid: 4 errors" "$err"

"$ctl" check --conf-file "$tmp/does-not-exist.yml" 2>"$tmp/err"; rc=$?
expect_eq "missing file exit code" 1 "$rc"
expect_contains "missing file reason" "No such file or directory" "$(cat "$tmp/err")"
"$ctl" check 2>/dev/null; expect_eq "check without --conf-file" 2 "$?"
"$ctl" frobnicate 2>/dev/null; expect_eq "unknown command" 2 "$?"

# --- check: the high-availability keys (configs/sentinel.yml, then every error and warning).
out=$("$ctl" check --conf-file "$root/configs/sentinel.yml" 2>"$tmp/err"); rc=$?
expect_eq "sentinel.yml exit code" 0 "$rc"
expect_contains "sentinel.yml summary" "ok: 1 pool, 2 servers: ha (redis, 2 servers)" "$out"
expect_eq "sentinel.yml has no warning" "" "$(cat "$tmp/err")"
cat > "$tmp/ha_bad.yml" <<'YAML'
ha:
  listen: 127.0.0.1:22140
  redis: true
  sentinels: [127.0.0.1:26379, 127.0.0.1:26379]
  sentinel_password: hunter2
  read_from: replicas
  health_check_interval: 5
  replicas:
    shard-a:
      - 127.0.0.1:6400
    shard-x:
      - 127.0.0.1:6410
  servers:
   - 127.0.0.1:6400:1 shard-a
   - 127.0.0.1:6401:1
cache:
  listen: 127.0.0.1:22141
  read_from: any
  auto_eject_drop: true
  servers:
   - 127.0.0.1:11211:1
YAML
"$ctl" check --conf-file "$tmp/ha_bad.yml" >"$tmp/out" 2>"$tmp/err"; rc=$?
expect_eq "HA errors exit code" 1 "$rc"
expect_eq "HA errors in file order with file:line:col" "$tmp/ha_bad.yml:4:32: pool 'ha': sentinels: '127.0.0.1:26379' is listed twice (first at line 4)
$tmp/ha_bad.yml:6:14: pool 'ha': read_from: 'replicas' is not a valid read_from (valid: master, prefer_replica, replica, any)
$tmp/ha_bad.yml:7:26: pool 'ha': health_check_interval: '5' is below 10 ms: every worker would send every server a check that often, and a server merely pausing for a moment (a fork for BGSAVE, a slow command) would count as failing; use at least 10 (1000 is typical), or 0 to turn checks off
$tmp/ha_bad.yml:10:9: pool 'ha': replicas: '127.0.0.1:6400' is the same address as server 'shard-a' (line 14), a master of this pool: a replica is another redis-server, one that replicates its master
$tmp/ha_bad.yml:11:5: pool 'ha': replicas: 'shard-x' is not a server of this pool (its servers: shard-a, 127.0.0.1:6401); a replicas: entry is a server's name, then its replicas
$tmp/ha_bad.yml:15:6: pool 'ha': servers: '127.0.0.1:6401:1' has no name: with sentinels: every server is named by its Sentinel master name (e.g. '127.0.0.1:6401:1 mymaster'); its address is only the starting guess, and keys are placed by the name, so a failover moves none
$tmp/ha_bad.yml:18:14: pool 'cache': read_from: is only valid for a redis pool (this pool's protocol is 'memcache')
$tmp/ha_bad.yml: invalid: 7 errors" "$(cat "$tmp/err")"
expect_eq "the sentinel password is never printed" 0 "$(grep -c hunter2 "$tmp/err")"
# Warnings only: valid (exit 0), each warning with file:line:col on stderr.
cat > "$tmp/ha_warn.yml" <<'YAML'
ha:
  listen: 127.0.0.1:22140
  redis: true
  read_from: replica
  auto_eject_drop: true
  servers:
   - 127.0.0.1:6400:1 shard-a
YAML
out=$("$ctl" check --conf-file "$tmp/ha_warn.yml" 2>"$tmp/err"); rc=$?
expect_eq "HA warnings exit code" 0 "$rc"
expect_contains "HA warnings summary" "ok: 1 pool, 1 server" "$out"
expect_contains "read_from warning" "warning: $tmp/ha_warn.yml:4:14: pool 'ha': read_from: 'replica' but no replica is known: the pool has neither replicas: nor sentinels: to discover them, so every read-only command fails with an error" "$(cat "$tmp/err")"
expect_contains "auto_eject_drop warning" "warning: $tmp/ha_warn.yml:5:20: pool 'ha': auto_eject_drop: has no effect without auto_eject_hosts: true" "$(cat "$tmp/err")"

# --- plugins: every hash, distribution, each once.
plugins=$("$ctl" plugins)
expect_eq "hash plugins" 12 "$(grep -c $'^hash\t' <<<"$plugins")"
expect_eq "distribution plugins" 4 "$(grep -c $'^distribution\t' <<<"$plugins")"
expect_eq "discovery plugins" 1 "$(grep -c $'^discovery\tredis_sentinel\t' <<<"$plugins")"
expect_eq "topology plugins" 1 "$(grep -c $'^topology\tredis_cluster\t' <<<"$plugins")"
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

# --- route with replicas: a 5th field for keys whose server lists replicas; the first 4 fields
# are exactly those of the same pool without replicas.
cat > "$tmp/plain.yml" <<'YAML'
pool:
  listen: 127.0.0.1:22150
  redis: true
  servers:
   - 127.0.0.1:6400:1 shard-a
   - 127.0.0.1:6401:1 shard-b
   - 127.0.0.1:6402:1 shard-c
YAML
{ cat "$tmp/plain.yml"; cat <<'YAML'
  replicas:
    shard-a:
      - 127.0.0.1:6410
      - 127.0.0.1:6420 shard-a-2
    shard-c: [/tmp/shard-c-replica.sock]
YAML
} > "$tmp/replicas.yml"
seq 1 300 | sed 's/^/key:/' > "$tmp/route_keys"
"$ctl" route --conf-file "$tmp/plain.yml" --pool pool < "$tmp/route_keys" > "$tmp/route_plain"
"$ctl" route --conf-file "$tmp/replicas.yml" --pool pool < "$tmp/route_keys" > "$tmp/route_replicas"
expect_eq "route with replicas: same first 4 fields" "$(cat "$tmp/route_plain")" "$(cut -f1-4 "$tmp/route_replicas")"
expect_eq "route without replicas: 4 fields" "4" "$(awk -F'\t' '{print NF}' "$tmp/route_plain" | sort -u)"
expect_eq "shard-a keys: its replicas, in file order" "replicas=127.0.0.1:6410,127.0.0.1:6420" \
  "$(awk -F'\t' '$3 == "shard-a" {print $5}' "$tmp/route_replicas" | sort -u)"
expect_eq "shard-b keys: no 5th field" "4" "$(awk -F'\t' '$3 == "shard-b" {print NF}' "$tmp/route_replicas" | sort -u)"
expect_eq "shard-c keys: a unix-socket replica" "replicas=/tmp/shard-c-replica.sock" \
  "$(awk -F'\t' '$3 == "shard-c" {print $5}' "$tmp/route_replicas" | sort -u)"
for shard in shard-a shard-b shard-c; do
  n=$(awk -F'\t' -v s=$shard '$3 == s' "$tmp/route_replicas" | wc -l)
  [ "$n" -gt 0 ] && pass || fail "no key of 300 on $shard: the route test proves nothing for it"
done
expect_contains "usage documents the replicas field" "a 5th field replicas=host:port,host:port" "$("$ctl" help)"

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

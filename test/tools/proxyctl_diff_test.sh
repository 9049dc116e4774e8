#!/usr/bin/env bash
# proxyctl diff, run as an operator would: for every hash function × distribution, the key moves
# it reports equal the moves counted here from `proxyctl route` on the two files; exit codes.
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/test/tools/testlib.sh"
ctl="$root/proxyctl"

hashes=$("$ctl" plugins | awk -F'\t' '$1 == "hash" {print $2}')
# redis_cluster places keys by a live cluster's slot map, which no file holds: not compared.
distributions=$("$ctl" plugins | awk -F'\t' '$1 == "distribution" && $2 != "redis_cluster" {print $2}')
expect_eq "hash functions" 12 "$(wc -w <<<"$hashes")"
expect_eq "distributions" 3 "$(wc -w <<<"$distributions")"

# 2000 keys: plain, hash-tagged ({} is set on the main pool) and binary-looking.
for i in $(seq 1 2000); do
  case $((i % 4)) in
    0) echo "user:$i" ;;
    1) echo "session:{$((i % 37))}:$i" ;;
    2) echo "k$((i * 7919))" ;;
    3) echo "obj/$i/$((i * i))" ;;
  esac
done > "$tmp/keys"

# pool_yaml NAME LISTEN HASH DISTRIBUTION SERVER...
pool_yaml() {
  local name=$1 listen=$2 hash=$3 dist=$4
  shift 4
  echo "$name:"
  echo "  listen: 127.0.0.1:$listen"
  echo "  hash: $hash"
  echo "  distribution: $dist"
  echo "  hash_tag: \"{}\""
  echo "  servers:"
  for server in "$@"; do echo "   - $server"; done
}

# moves FILE_OLD FILE_NEW POOL: "from<TAB>to<TAB>count" per pair, counted from `route` (the node
# name is the explicit name, else host:port: no port here is 11211).
moves() {
  "$ctl" route --conf-file "$1" --pool "$3" <"$tmp/keys" >"$tmp/route_old"
  "$ctl" route --conf-file "$2" --pool "$3" <"$tmp/keys" >"$tmp/route_new"
  paste "$tmp/route_old" "$tmp/route_new" | awk -F'\t' '
    { from = $3 != "" ? $3 : $2; to = $7 != "" ? $7 : $6; if ($1 != $5) print "key order broken";
      if (from != to) n[from "\t" to]++ }
    END { for (p in n) print p "\t" n[p] }' | sort
}

old_servers=("127.0.0.1:7001:1 alpha" "127.0.0.1:7002:1" "127.0.0.1:7003:2 gamma" "127.0.0.1:7004:1")
# A weight changed (7002: 1 → 3) and a server added (epsilon).
new_servers=("127.0.0.1:7001:1 alpha" "127.0.0.1:7002:3" "127.0.0.1:7003:2 gamma" "127.0.0.1:7004:1"
             "127.0.0.1:7005:1 epsilon")

combos=0
hash_list=($hashes)
for dist in $distributions; do
  for index in "${!hash_list[@]}"; do
    hash=${hash_list[$index]}
    other=${hash_list[$(((index + 1) % ${#hash_list[@]}))]}
    {
      pool_yaml main 22121 "$hash" "$dist" "${old_servers[@]}"
      pool_yaml rehash 22122 "$hash" ketama "${old_servers[@]}"
    } > "$tmp/old.yml"
    {
      pool_yaml main 22121 "$hash" "$dist" "${new_servers[@]}"
      # Same servers, another hash function: only the keys can tell what moves.
      pool_yaml rehash 22122 "$other" ketama "${old_servers[@]}"
    } > "$tmp/new.yml"
    what="$hash/$dist"
    out=$("$ctl" diff "$tmp/old.yml" "$tmp/new.yml" --keys "$tmp/keys" --format=tsv 2>"$tmp/err")
    rc=$?
    expect_eq "$what: exit code" 1 "$rc"
    expect_eq "$what: nothing on stderr" "" "$(cat "$tmp/err")"
    expect_eq "$what: main pool record" $'pool\tmain\tchanged\tservers' "$(grep $'^pool\tmain\t' <<<"$out")"
    expect_eq "$what: server added" $'server\tmain\tadded\tepsilon\t-\t127.0.0.1:7005:1 epsilon' \
      "$(grep $'^server\tmain\tadded' <<<"$out")"
    expect_eq "$what: weight changed" $'server\tmain\tchanged\t127.0.0.1:7002\t127.0.0.1:7002:1\t127.0.0.1:7002:3' \
      "$(grep $'^server\tmain\tchanged' <<<"$out")"
    if [ "$dist" == random ]; then
      expect_eq "$what: random space" $'space\tmain\tall\t-\t4294967296\t-' "$(grep $'^space\tmain' <<<"$out")"
      expect_eq "$what: random keys" $'keys\tmain\tall\t-\t2000' "$(grep $'^keys\tmain' <<<"$out")"
      expect_eq "$what: no key-move lines for random" "" "$(grep $'^key-move\tmain' <<<"$out")"
    else
      expected=$(moves "$tmp/old.yml" "$tmp/new.yml" main)
      actual=$(grep $'^key-move\tmain\t' <<<"$out" | cut -f3-5 | sort)
      expect_eq "$what: key moves per (from, to) equal route's" "$expected" "$actual"
      moved=$(awk -F'\t' '{s += $3} END {print s + 0}' <<<"$expected")
      [ "$moved" -gt 0 ] && pass || fail "$what: no key moved: the comparison proves nothing"
      expect_eq "$what: keys record" "keys	main	$([ "$moved" -gt 0 ] && echo exact || echo same)	$moved	2000" \
        "$(grep $'^keys\tmain' <<<"$out")"
      # The hash space: exact, and its moves add up to the total.
      space=$(grep $'^space\tmain' <<<"$out")
      expect_eq "$what: space is exact" exact "$(cut -f3 <<<"$space")"
      expect_eq "$what: space moves add up" "$(cut -f4 <<<"$space")" \
        "$(grep $'^space-move\tmain' <<<"$out" | awk -F'\t' '{s += $5} END {printf "%.0f\n", s}')"
    fi
    # Another hash: key-dependent; the key counts still equal route's.
    expect_eq "$what: rehash record" $'pool\trehash\tchanged\thash' "$(grep $'^pool\trehash\t' <<<"$out")"
    expect_eq "$what: rehash space" $'space\trehash\tkey-dependent\t-\t4294967296\t-' \
      "$(grep $'^space\trehash' <<<"$out")"
    expected=$(moves "$tmp/old.yml" "$tmp/new.yml" rehash)
    actual=$(grep $'^key-move\trehash\t' <<<"$out" | cut -f3-5 | sort)
    expect_eq "$what: rehash key moves equal route's" "$expected" "$actual"
    [ -n "$expected" ] && pass || fail "$what: no key moved under the other hash"
    combos=$((combos + 1))
  done
done
expect_eq "every hash × distribution pair was compared" 36 "$combos"

# --- the human form of the last pair, and keys from stdin (--keys alone, --keys -).
human=$("$ctl" diff "$tmp/old.yml" "$tmp/new.yml" --keys "$tmp/keys")
expect_contains "summary line" "pool main: servers +1 -0 ~1 (servers changed), every key may move" "$human"
expect_contains "added server line" "  + server epsilon (127.0.0.1:7005:1 epsilon)" "$human"
expect_contains "rehash summary" "pool rehash: servers +0 -0 ~0 (hash changed), the keys that move depend on the keys" "$human"
tsv_file=$("$ctl" diff "$tmp/old.yml" "$tmp/new.yml" --keys "$tmp/keys" --format=tsv)
expect_eq "--keys alone reads stdin" "$tsv_file" \
  "$("$ctl" diff "$tmp/old.yml" "$tmp/new.yml" --format tsv --keys <"$tmp/keys")"
expect_eq "--keys - reads stdin" "$tsv_file" \
  "$("$ctl" diff --keys - --format=tsv "$tmp/old.yml" "$tmp/new.yml" <"$tmp/keys")"

# --- exit codes.
pool_yaml main 22121 fnv1a_64 ketama "${old_servers[@]}" > "$tmp/a.yml"
out=$("$ctl" diff "$tmp/a.yml" "$tmp/a.yml" --keys "$tmp/keys"); rc=$?
expect_eq "identical files exit 0" 0 "$rc"
expect_eq "identical files summary" "pool main: unchanged" "$out"
{ pool_yaml main 22121 fnv1a_64 ketama "${old_servers[@]}"; echo "  timeout: 400"; } > "$tmp/b.yml"
out=$("$ctl" diff "$tmp/a.yml" "$tmp/b.yml" --format=tsv); rc=$?
expect_eq "a timeout change moves nothing: exit 0" 0 "$rc"
expect_contains "timeout record" $'pool\tmain\tchanged\ttimeout' "$out"
expect_contains "timeout space" $'space\tmain\tsame\t0\t4294967296\t0.0000' "$out"
# The high-availability keys: named by their YAML names, the password never shown, nothing moves.
# With sentinels: every server has a name (the Sentinel master name).
{ pool_yaml main 22121 fnv1a_64 ketama "127.0.0.1:7001:1 alpha" "127.0.0.1:7002:1 beta" \
    "127.0.0.1:7003:2 gamma"; echo "  redis: true"; } > "$tmp/ha1.yml"
{ cat "$tmp/ha1.yml"; cat <<'YAML'
  sentinels: [127.0.0.1:26379, 127.0.0.1:26380]
  sentinel_password: hunter2
  replicas:
    alpha:
      - 127.0.0.1:7101
  read_from: prefer_replica
  health_check_interval: 1000
  auto_eject_hosts: true
  auto_eject_drop: true
YAML
} > "$tmp/ha2.yml"
out=$("$ctl" diff "$tmp/ha1.yml" "$tmp/ha2.yml" --format=tsv --keys "$tmp/keys" 2>&1); rc=$?
expect_eq "HA keys move nothing: exit 0" 0 "$rc"
expect_contains "HA keys record" $'pool\tmain\tchanged\tauto_eject_hosts,sentinels,sentinel_password,replicas,read_from,health_check_interval,auto_eject_drop' "$out"
expect_contains "HA keys space" $'space\tmain\tsame\t0\t4294967296\t0.0000' "$out"
expect_contains "HA keys: no key moves" $'keys\tmain\tsame\t0\t2000' "$out"
out=$("$ctl" diff "$tmp/ha1.yml" "$tmp/ha2.yml" 2>&1)
expect_contains "HA keys summary" "(auto_eject_hosts, sentinels, sentinel_password, replicas, read_from, health_check_interval, auto_eject_drop changed), no key moves" "$out"
expect_eq "the sentinel password is never printed" 0 "$(grep -c hunter2 <<<"$out")"
{ cat "$tmp/a.yml"; pool_yaml extra 22123 fnv1a_64 ketama "127.0.0.1:7009:1"; } > "$tmp/c.yml"
out=$("$ctl" diff "$tmp/a.yml" "$tmp/c.yml"); rc=$?
expect_eq "a pool added: exit 1" 1 "$rc"
expect_contains "pool added" "pool extra: added (1 server)" "$out"
out=$("$ctl" diff "$tmp/c.yml" "$tmp/a.yml" --format=tsv); rc=$?
expect_eq "a pool removed: exit 1" 1 "$rc"
expect_contains "pool removed" $'pool\textra\tremoved\t-' "$out"
# Same servers, modula vs modula, reordered in the file: placement sorts them, nothing moves.
pool_yaml main 22121 md5 modula "127.0.0.1:7002:1" "127.0.0.1:7001:1" > "$tmp/d1.yml"
pool_yaml main 22121 md5 modula "127.0.0.1:7001:1" "127.0.0.1:7002:1" > "$tmp/d2.yml"
"$ctl" diff "$tmp/d1.yml" "$tmp/d2.yml" >/dev/null
expect_eq "reordered servers: exit 0" 0 "$?"

# A new key_prefix: the keys hash differently, and --keys (placing keys as given, like route)
# cannot see it: still exit 1.
for prefix in app1: app2:; do
  { pool_yaml main 22121 fnv1a_64 ketama "${old_servers[@]}"
    printf '  filters:\n   - name: key_prefix\n     config: {prefix: "%s"}\n' "$prefix"
    printf '   - reject_unsupported\n   - hash_tag\n   - router\n'; } > "$tmp/prefix_$prefix.yml"
done
out=$("$ctl" diff "$tmp/prefix_app1:.yml" "$tmp/prefix_app2:.yml" --keys "$tmp/keys" --format=tsv); rc=$?
expect_eq "a key_prefix change: exit 1 even with --keys" 1 "$rc"
expect_contains "key_prefix space" $'space\tmain\tkey-dependent' "$out"

cat > "$tmp/bad.yml" <<'YAML'
main:
  listen: 127.0.0.1:22121
  hash: sha1
  servers:
   - 127.0.0.1:7001:0
YAML
"$ctl" diff "$tmp/a.yml" "$tmp/bad.yml" >"$tmp/out" 2>"$tmp/err"; rc=$?
expect_eq "invalid file exit 2" 2 "$rc"
expect_eq "nothing on stdout for an invalid file" "" "$(cat "$tmp/out")"
expect_contains "file:line:col of the bad hash" "bad.yml:3:9: pool 'main': hash: 'sha1' is not a valid hash" "$(cat "$tmp/err")"
expect_contains "file:line:col of the zero weight" "bad.yml:5:6: pool 'main': servers: '127.0.0.1:7001:0': weight is zero" "$(cat "$tmp/err")"
expect_contains "error count" "bad.yml: invalid: 2 errors" "$(cat "$tmp/err")"
# The same lines as `proxyctl check` prints.
"$ctl" check --conf-file "$tmp/bad.yml" 2>"$tmp/check_err"
expect_eq "diff prints check's diagnostics" "$(cat "$tmp/check_err")" "$(cat "$tmp/err")"
"$ctl" diff "$tmp/does-not-exist.yml" "$tmp/a.yml" 2>"$tmp/err"
expect_eq "missing file exit 2" 2 "$?"
expect_contains "missing file reason" "No such file or directory" "$(cat "$tmp/err")"
"$ctl" diff "$tmp/a.yml" 2>/dev/null
expect_eq "one file only: exit 2" 2 "$?"
"$ctl" diff "$tmp/a.yml" "$tmp/a.yml" --format=json 2>/dev/null
expect_eq "unknown format: exit 2" 2 "$?"
"$ctl" diff "$tmp/a.yml" "$tmp/a.yml" --keys "$tmp/no-keys" 2>/dev/null
expect_eq "unreadable keys file: exit 2" 2 "$?"
expect_contains "usage documents diff" "diff OLD NEW [--keys [FILE]] [--format=text|tsv]" "$("$ctl" help)"

finish

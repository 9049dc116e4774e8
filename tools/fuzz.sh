#!/usr/bin/env bash
# Two fuzzers:
#
#   tools/fuzz.sh [SECONDS]
#     Coverage-guided fuzzing of the four decoders with libFuzzer + ASan + UBSan (clang 14 and
#     Debian's libclang-rt-14-dev), default 120 s. The same entry point
#     (test/protocols/fuzz/decoder_fuzz.cc) runs deterministically in CI.
#
#   tools/fuzz.sh --differential SECONDS [--sanitize]
#     The differential framing fuzzer (test/differential/differential_fuzz_test.cc: attacker and
#     victim clients sharing the proxy's server connections to real redis-server and memcached)
#     for SECONDS with a random seed, printed first (DIFF_FUZZ_SEED=N repeats a run; CI runs a
#     fixed seed and a bounded number of inputs). A failure is replayed alone and minimized
#     (DIFF_FUZZ_MINIMIZE=SECONDS, default 300). DIFF_FUZZ_POOLS, DIFF_FUZZ_SKIP and
#     DIFF_FUZZ_DEADLINE_MS are passed through (see the test's header comment). --sanitize runs
#     the proxy and the test built with --config=asan.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--differential" ]; then
  seconds="${2:?usage: tools/fuzz.sh --differential SECONDS [--sanitize]}"
  config=()
  [ "${3:-}" = "--sanitize" ] && config=(--config=asan)
  seed="${DIFF_FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
  echo "differential fuzzer: ${seconds} s, seed ${seed} (repeat with DIFF_FUZZ_SEED=${seed})"
  tools/setup.sh
  env_args=(--test_env=DIFF_FUZZ_SECONDS="$seconds" --test_env=DIFF_FUZZ_SEED="$seed"
            --test_env=DIFF_FUZZ_MINIMIZE="${DIFF_FUZZ_MINIMIZE:-300}")
  for var in DIFF_FUZZ_POOLS DIFF_FUZZ_SKIP DIFF_FUZZ_DEADLINE_MS; do
    [ -n "${!var:-}" ] && env_args+=(--test_env="$var=${!var}")
  done
  rc=0
  bazel test "${config[@]}" //test/differential:differential_fuzz_test "${env_args[@]}" \
    --test_timeout=$((seconds + 3600)) --test_output=all --nocache_test_results || rc=$?
  echo "differential fuzzer: seed ${seed}, exit ${rc}"
  exit "$rc"
fi

seconds="${1:-120}"
if ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q "install ok installed"; then
  apt-get install -y -qq libclang-rt-14-dev clang-14 >/dev/null
fi
out="${TMPDIR:-/tmp}/shardproxy-fuzz"
mkdir -p "$out/corpus"
# Seeds: one request or reply stream of each protocol (the first byte picks the slice size).
printf '\003*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n' > "$out/corpus/redis-request"
printf '\001+OK\r\n$3\r\nbar\r\n*2\r\n:1\r\n$-1\r\n' > "$out/corpus/redis-reply"
printf '\002get a b\r\nset k 0 0 3\r\nabc\r\nmg k v\r\n' > "$out/corpus/memcache-request"
printf '\000VALUE k 0 3\r\nabc\r\nEND\r\nVA 2 t\r\nhi\r\n' > "$out/corpus/memcache-reply"
printf '\001%%3\r\n+a\r\n_\r\n,1.5\r\n~1\r\n#t\r\n' > "$out/corpus/redis-resp3-reply"
# memcache binary: getkq "k" (opaque 1) then noop, and a get hit response.
printf '\002\x80\x0d\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00k\x80\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00' > "$out/corpus/memcache-binary-request"
clang++-14 -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -I. \
  test/protocols/fuzz/libfuzzer_main.cc test/protocols/fuzz/decoder_fuzz.cc \
  protocols/redis/request_decoder.cc protocols/redis/reply_decoder.cc \
  protocols/redis/command_table.cc protocols/redis/info.cc \
  protocols/memcache/request_decoder.cc protocols/memcache/reply_decoder.cc \
  protocols/memcache/command_table.cc protocols/memcache/binary_protocol.cc \
  protocols/memcache/binary_request_decoder.cc protocols/memcache/binary_reply_decoder.cc \
  test/fakes/string_buffer.cc -o "$out/decoder_fuzz" \
  $(pkg-config --libs absl_strings absl_str_format absl_flat_hash_map absl_statusor)
exec "$out/decoder_fuzz" -max_total_time="$seconds" -max_len=512 "$out/corpus"

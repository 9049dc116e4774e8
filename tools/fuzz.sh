#!/usr/bin/env bash
# Coverage-guided fuzzing of the four decoders with libFuzzer + ASan + UBSan (clang 14 and
# Debian's libclang-rt-14-dev). Usage: tools/fuzz.sh [SECONDS]   (default 120)
# The same entry point (test/protocols/fuzz/decoder_fuzz.cc) runs deterministically in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
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
clang++-14 -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -I. \
  test/protocols/fuzz/libfuzzer_main.cc test/protocols/fuzz/decoder_fuzz.cc \
  protocols/redis/request_decoder.cc protocols/redis/reply_decoder.cc \
  protocols/redis/command_table.cc protocols/memcache/request_decoder.cc \
  protocols/memcache/reply_decoder.cc protocols/memcache/command_table.cc \
  test/fakes/string_buffer.cc -o "$out/decoder_fuzz" \
  $(pkg-config --libs absl_strings absl_str_format absl_flat_hash_map absl_statusor)
exec "$out/decoder_fuzz" -max_total_time="$seconds" -max_len=512 "$out/corpus"

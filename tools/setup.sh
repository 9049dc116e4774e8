#!/usr/bin/env bash
# Installs what shardproxy needs to build, test, run and benchmark on Debian 12: the Debian
# packages below, and the node client libraries of the client matrix
# (//test/clients:client_matrix_test), pinned in test/clients/package.json + package-lock.json,
# into .clients/node_modules at the repository root (not committed). Idempotent: does nothing when
# everything is already there. Needs root (or sudo) only when a Debian package is missing; the
# npm step needs the npm registry only when .clients/ is missing or out of date.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # build
  bazel-bootstrap g++ pkg-config
  libabsl-dev libprotobuf-dev protobuf-compiler libyaml-cpp-dev libevent-dev
  # TLS (core/tls); the openssl CLI makes the TLS tests' certificates
  libssl-dev openssl
  libgtest-dev libgmock-dev
  # real backends and clients for the integration tests and tools/run.sh (ss: iproute2, nc)
  redis-server redis-tools memcached libmemcached-tools iproute2 netcat-openbsd
  # the client matrix (test/clients): python clients from Debian
  python3 python3-redis python3-pymemcache
  # the reference twemproxy, for side-by-side checks and benchmarks
  nutcracker
  # promtool, which checks our Prometheus /metrics output in the tests
  prometheus
)
# node + npm for the client matrix, unless a node is already installed (e.g. a newer one than
# Debian's 18: ioredis 6 and node-redis 6 ask for node >= 20).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
if [ "${#missing[@]}" -ne 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian packages start system-wide redis/memcached services on the default ports; the
  # tests start their own servers on free ports, so those are left alone.
fi

# Node clients: `npm ci` of the committed lock file into .clients/ (the copy of the lock file
# there says which one was installed). A failure (e.g. offline) is a warning: an existing
# .clients/ is kept, and without one only //test/clients:client_matrix_test fails, saying so.
lock=test/clients/package-lock.json
if [ -d .clients/node_modules ] && cmp -s "$lock" .clients/package-lock.json; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "setup: warning: npm not found; the node client libraries (test/clients) are not installed" >&2
  exit 0
fi
echo "setup: installing the node client libraries (test/clients/package.json) into .clients/" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp test/clients/package.json "$lock" "$tmp/"
if (cd "$tmp" && npm ci --no-audit --no-fund --prefer-offline --fetch-retries=1 --fetch-timeout=30000 \
      --loglevel=error >npm.log 2>&1); then
  rm -rf .clients
  mkdir -p .clients
  cp test/clients/package.json "$lock" .clients/
  mv "$tmp/node_modules" .clients/node_modules
else
  echo "setup: warning: npm ci failed (offline?); $( [ -d .clients/node_modules ] &&
    echo 'keeping the existing .clients/' || echo 'the client matrix test will fail'):" >&2
  tail -5 "$tmp/npm.log" >&2
fi

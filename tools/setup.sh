#!/usr/bin/env bash
# Installs the Debian 12 packages shardproxy needs to build, test and benchmark. Idempotent: does
# nothing when everything is already installed. Needs root (or sudo) only when something is
# missing.
set -euo pipefail

PACKAGES=(
  # build
  bazel-bootstrap g++ pkg-config
  libabsl-dev libprotobuf-dev protobuf-compiler libyaml-cpp-dev libevent-dev
  libgtest-dev libgmock-dev
  # real backends and clients for the integration tests
  redis-server redis-tools memcached libmemcached-tools
  # the reference twemproxy, for side-by-side checks and ../shared/bench
  nutcracker
  # promtool, which checks our Prometheus /metrics output in the tests
  prometheus
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian packages start system-wide redis/memcached services on the default ports; the tests
# start their own servers on free ports, so those are left alone.

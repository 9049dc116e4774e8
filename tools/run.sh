#!/usr/bin/env bash
# Builds and runs the proxy on configs/nutcracker.yml (or on the flags given), installing missing
# Debian packages first. Example: tools/run.sh --conf-file configs/single.yml
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
if [ "$#" -eq 0 ]; then
  set -- --conf-file configs/nutcracker.yml
fi
exec bazel run //:proxy -- "$@"

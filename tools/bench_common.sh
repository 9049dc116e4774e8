# Helpers shared by tools/bench_*.sh (sourced, not run): a scratch directory removed at exit with
# every process started into `pids`, free loopback ports, waiting for a redis port, and a
# process's CPU time.
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A TCP port nothing listens on right now (the kernel's pick).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# Waits up to 10 s until a redis (or a proxy) answers PING on 127.0.0.1:PORT; extra arguments
# go to redis-cli (e.g. --tls ...).
wait_port() {  # port [redis-cli args...]
  local port=$1; shift
  for _ in $(seq 1 100); do
    redis-cli -p "$port" "$@" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "port $port never answered" >&2
  return 1
}
# utime + stime of PID, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

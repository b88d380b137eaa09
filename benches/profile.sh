#!/usr/bin/env bash
# Overhead of `procscope profile` (a benchmark, not a test):
#   1. procscope's own CPU at 100 Hz on a 50-thread Node.js process (goal: ≤ 10% of a core);
#   2. an HTTP server's throughput under a loopback load generator (a Node.js client,
#      keep-alive, 32 connections), without, with, and again without profiling (goal:
#      unchanged within noise).
# Needs node and GNU time. Uses target/release/procscope when built, else the debug build
# (PROCSCOPE=path overrides). Workloads are this script's own children, stopped on exit.
#
#   benches/profile.sh [--seconds N]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=10
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    *) echo "usage: $0 [--seconds N]" >&2; exit 2 ;;
  esac
done
for tool in node /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install nodejs time)" >&2; exit 2; }
done
procscope="${PROCSCOPE:-}"
if [ -z "$procscope" ]; then
  if [ -x target/release/procscope ]; then procscope=target/release/procscope; else
    cargo build --quiet; procscope=target/debug/procscope; fi
fi

work="$(mktemp -d)"
children=()
cleanup() {
  for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# 50 threads: 7 of Node.js itself + a libuv pool of 42 (started by one fs call) + a Worker.
cat > "$work/fifty.js" <<'EOF'
const { Worker } = require('worker_threads');
new Worker('setInterval(() => {}, 1000)', { eval: true });
require('fs').readFile(__filename, () => setTimeout(() => console.log('ready'), 300));
setInterval(() => {}, 1000);
EOF
cat > "$work/server.js" <<'EOF'
require('http').createServer((q, r) => r.end('ok')).listen(0, '127.0.0.1', function () {
  console.log(this.address().port);
});
EOF
# Counts responses over SECONDS with 32 keep-alive connections; prints requests/s.
cat > "$work/load.js" <<'EOF'
const http = require('http');
const [port, seconds] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
let done = 0; const end = Date.now() + seconds * 1000;
function one() {
  if (Date.now() >= end) return;
  http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
    res.resume(); res.on('end', () => { done++; one(); });
  }).on('error', () => setTimeout(one, 10));
}
for (let i = 0; i < 32; i++) one();
setTimeout(() => { console.log((done / seconds).toFixed(0)); process.exit(0); }, seconds * 1000 + 200);
EOF

start() { # script [env...] -> pid in $started, first line in $line
  local script="$1"; shift
  local out="$work/out.$RANDOM"
  env "$@" node "$script" >"$out" &
  started=$!; children+=("$started")
  until [ -s "$out" ]; do sleep 0.05; done
  line=$(head -1 "$out")
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; procscope: $procscope"

start "$work/fifty.js" UV_THREADPOOL_SIZE=42
threads=$(ls "/proc/$started/task" | wc -l)
cpu=$( { /usr/bin/time -f '%U %S %e' "$procscope" profile "$started" --for "${seconds}s" --hz 100 --json >"$work/fifty.json"; } 2>&1 | tail -1)
read -r user sys wall <<<"$cpu"
ticks=$(grep -o '"ticks":[0-9]*' "$work/fifty.json" | head -1 | cut -d: -f2)
echo "50-thread process ($threads threads), ${seconds}s at 100 Hz: procscope CPU ${user}s user + ${sys}s sys over ${wall}s wall = $(awk -v u="$user" -v s="$sys" -v w="$wall" 'BEGIN{printf "%.1f", (u+s)/w*100}')% of one core; $ticks ticks"
kill "$started"; wait "$started" 2>/dev/null || true

start "$work/server.js"
port=$line
rate() { node "$work/load.js" "$port" "$seconds"; }
before=$(rate)
"$procscope" profile "$started" --for "$((seconds + 1))s" --hz 100 --json >/dev/null &
profiler=$!
during=$(rate)
wait "$profiler"
after=$(rate)
echo "HTTP server requests/s: without ${before}, profiled at 100 Hz ${during}, without again ${after}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# Side-by-side timings of procscope and the tools it replaces, on workloads this script
# starts itself and stops by PID. Needs hyperfine and GNU time (Debian: hyperfine, time).
#
#   benches/compare.sh [--runs N] [--out FILE]
#
# Prints a Markdown table (median wall time, ratio procscope/peer, peak RSS) and writes it
# to BENCHMARKS.md (or FILE).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=15
out=BENCHMARKS.md
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--out FILE]" >&2; exit 2 ;;
  esac
done

for tool in hyperfine /usr/bin/time jq; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install hyperfine time jq)" >&2; exit 2; }
done

cargo build --release --quiet
export PATH="$PWD/target/release:$PATH"
work="$(mktemp -d)"
workload_pids=()

cleanup() {
  # Only the processes this script started, by PID.
  if [ ${#workload_pids[@]} -gt 0 ]; then
    kill "${workload_pids[@]}" 2>/dev/null || true
    wait "${workload_pids[@]}" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# ~2000 idle processes.
start_idle_processes() {
  local count="$1"
  for _ in $(seq "$count"); do
    sleep 3600 </dev/null >/dev/null 2>&1 &
    workload_pids+=("$!")
  done
}

results="$work/results.md"
: > "$results"

# compare QUESTION GOAL CMD [PEER...]: times every command in one hyperfine run and
# appends one Markdown row per command; the first command is procscope's.
compare() {
  local question="$1" goal="$2"; shift 2
  local json="$work/run.json"
  hyperfine --shell=none --warmup 3 --runs "$runs" --export-json "$json" --style none "$@" >/dev/null
  local ours
  ours=$(jq '.results[0].median' "$json")
  local i=0
  for cmd in "$@"; do
    local median rss ratio
    median=$(jq ".results[$i].median" "$json")
    # Peak RSS in KiB of one run (GNU time, %M).
    rss=$( { /usr/bin/time -f '%M' sh -c "$cmd >/dev/null 2>&1" ; } 2>&1 | tail -1)
    ratio=$(awk -v a="$ours" -v b="$median" 'BEGIN { printf "%.2f", a / b }')
    if [ "$i" -eq 0 ]; then
      printf '| %s | `%s` | %.1f | - | %.1f | %s |\n' "$question" "$cmd" "$(awk -v m="$median" 'BEGIN{print m*1000}')" "$(awk -v k="$rss" 'BEGIN{print k/1024}')" "$goal" >> "$results"
    else
      printf '| | `%s` | %.1f | %s | %.1f | |\n' "$cmd" "$(awk -v m="$median" 'BEGIN{print m*1000}')" "$ratio" "$(awk -v k="$rss" 'BEGIN{print k/1024}')" >> "$results"
    fi
    i=$((i + 1))
  done
}

# A process with N threads; sets threads_pid (no subshell, so cleanup knows the PID).
start_threads_process() {
  local count="$1" ready="$work/threads.ready"
  python3 benches/workloads/threads.py "$count" > "$ready" 2>/dev/null </dev/null &
  threads_pid=$!
  workload_pids+=("$threads_pid")
  for _ in $(seq 100); do
    grep -q ready "$ready" 2>/dev/null && break
    sleep 0.1
  done
}

# A process with 10000 descriptors and a listener on 127.0.0.1; sets fds_pid and fds_port.
start_fds_process() {
  local ready="$work/fds.ready"
  python3 benches/workloads/fds.py 10000 > "$ready" 2>/dev/null </dev/null &
  fds_pid=$!
  workload_pids+=("$fds_pid")
  for _ in $(seq 100); do
    [ -s "$ready" ] && break
    sleep 0.1
  done
  fds_port=$(head -1 "$ready")
}

start_idle_processes 2000
processes=$(ls /proc | grep -c '^[0-9]')

peers_ps=("procscope ps" "ps aux")
command -v procs >/dev/null && peers_ps+=("procs --color disable --pager disable")
compare "list processes" "≤ 0.5x ps aux, ≤ 16 MiB" "${peers_ps[@]}"

compare "process tree" "≤ 0.1x pstree -p" "procscope tree" "pstree -p" "ps --forest -e"

start_threads_process 2000
compare "threads of a 2000-thread process (with WAIT and PC)" "≤ 0.3x ps -L -p" \
  "procscope threads $threads_pid" "ps -L -p $threads_pid" "top -H -b -n1 -p $threads_pid"

# An idle Node.js HTTP server with two worker_threads and a used libuv pool; sets node_pid.
start_node_process() {
  node benches/workloads/node-server.js > /dev/null 2>&1 < /dev/null &
  node_pid=$!
  workload_pids+=("$node_pid")
  sleep 2
}

if command -v node >/dev/null; then
  start_node_process
  compare "memory of a Node.js process" "≤ 1.0x pmap -X" \
    "procscope mem $node_pid" "pmap -x $node_pid" "pmap -X $node_pid"
  compare "every mapping of a Node.js process" "≤ 1.0x pmap -X" \
    "procscope mem --maps $node_pid" "pmap -X $node_pid"
  compare "Node.js thread roles (2 worker_threads, used libuv pool)" "≤ 2x without roles" \
    "procscope threads $node_pid" "procscope threads --no-roles $node_pid"
fi
compare "memory of a 2000-thread process" "≤ 1.0x pmap -X" \
  "procscope mem $threads_pid" "pmap -x $threads_pid" "pmap -X $threads_pid"
compare "every mapping of a 2000-thread process" "≤ 1.0x pmap -X" \
  "procscope mem --maps $threads_pid" "pmap -X $threads_pid"

start_fds_process
compare "descriptors of a 10000-fd process" "≤ 0.5x lsof -p" \
  "procscope fds $fds_pid" "lsof -p $fds_pid"
compare "who listens on a port" "≤ 0.6x ss -ltnp" \
  "procscope ports $fds_port" "ss -ltnp 'sport = :$fds_port'" "lsof -i :$fds_port" "fuser $fds_port/tcp"

{
  echo "# Benchmarks"
  echo
  echo "Measured by \`benches/compare.sh\` on $(date -u +%Y-%m-%d), $(nproc) CPUs, Linux $(uname -r),"
  echo "with $processes processes running; hyperfine median of $runs runs after 3 warm-ups."
  echo "Ratio = procscope's median / the peer's median (below 1 means procscope is faster)."
  echo
  echo "| question | command | median ms | ratio | peak RSS MiB | goal |"
  echo "|---|---|---:|---:|---:|---|"
  cat "$results"
} > "$out"
cat "$out"

#!/usr/bin/env bash
# Side-by-side timings of procscope and the tools it replaces, on workloads this script
# starts itself and stops by PID. Needs hyperfine, GNU time, jq and python3 (Debian:
# hyperfine, time, jq, python3); node and procs (cargo install procs) are used when present.
#
#   benches/compare.sh [--runs N] [--out FILE]
#
# Writes BENCHMARKS.md (or FILE): the goals not met first, then per question the procscope
# command and each peer with the median wall time, the ratio and peak RSS.
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
for tool in hyperfine /usr/bin/time jq python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install hyperfine time jq python3)" >&2; exit 2; }
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

results="$work/results.md"
unmet="$work/unmet.md"
: > "$results"
: > "$unmet"

# Why a goal may be missed, from profiles (perf record) of these workloads on this machine.
declare -A why=(
  [fds]="perf shows 85% of the time in the kernel: per descriptor a readlink of fd/N and an open/read/close of fdinfo/N (for the mode, flags and offset), each path lookup instantiating a proc inode, plus task-lock contention between the two reader threads on the one target. lsof does the same reads plus a stat per descriptor; procscope stats once per file (by mount and inode), so the floor is the four system calls per descriptor."
  [threads]="perf: the time is the kernel generating stat, status (the context-switch counts) and syscall for each thread, about 14 µs per file including its open/read/close; the reads are split across both CPUs, and wchan (a kernel stack unwind) is read only where the system call says little."
  [tree]="perf (30 runs at 2000 processes): 92% of tree's time is in the kernel: 30% reading stat (do_task_stat formatting it), 29% opening PID/stat (path walk and pid_revalidate), 9% closing, 8% listing /proc, 3% the fstat for the owner; parsing is 2% and the runtime check of multi-threaded executables under 1%. pstree does the same reads, so the ratio floats around the goal with machine noise."
  [mem]="the 2000-thread process has 4000 mappings and 2000 stack pointers to sample (one syscall file per thread), which pmap does not read."
  [ps]="the default columns need stat, status (the effective uid) and cmdline for each process."
  [ports]="every descriptor of every process must be read to map socket inodes to processes (the kernel keeps no reverse index); a 10000-descriptor process dominates."
)

# compare KEY QUESTION GOAL_TEXT GOAL_PEER GOAL_RATIO CMD [PEER...]: times the commands in
# one hyperfine run, appends a Markdown row per command (the first is procscope's), and
# records the goal as unmet when procscope's median exceeds GOAL_RATIO times peer number
# GOAL_PEER's (1 = the first peer).
compare() {
  local key="$1" question="$2" goal="$3" goal_peer="$4" goal_ratio="$5"; shift 5
  local json="$work/run.json"
  hyperfine --shell=none --warmup 3 --runs "$runs" --export-json "$json" --style none "$@" >/dev/null
  local ours
  ours=$(jq '.results[0].median' "$json")
  local i=0
  for cmd in "$@"; do
    local median rss ratio ms mib
    median=$(jq ".results[$i].median" "$json")
    rss=$( { /usr/bin/time -f '%M' sh -c "$cmd >/dev/null 2>&1" ; } 2>&1 | tail -1)
    ratio=$(awk -v a="$ours" -v b="$median" 'BEGIN { printf "%.2f", a / b }')
    ms=$(awk -v m="$median" 'BEGIN { printf "%.1f", m * 1000 }')
    mib=$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')
    if [ "$i" -eq 0 ]; then
      printf '| %s | `%s` | %s | - | %s | %s |\n' "$question" "$cmd" "$ms" "$mib" "$goal" >> "$results"
    else
      printf '| | `%s` | %s | %s | %s | |\n' "$cmd" "$ms" "$ratio" "$mib" >> "$results"
      if [ "$i" -eq "$goal_peer" ] && awk -v r="$ratio" -v g="$goal_ratio" 'BEGIN { exit !(r > g) }'; then
        printf -- '- **%s**: goal %s, measured %sx (`%s`). %s\n' "$question" "$goal" "$ratio" "$cmd" "${why[$key]:-}" >> "$unmet"
      fi
    fi
    i=$((i + 1))
  done
}

start_idle_processes() {
  for _ in $(seq "$1"); do
    sleep 3600 </dev/null >/dev/null 2>&1 &
    workload_pids+=("$!")
  done
}

# wait_for FILE: until the workload wrote its first line.
wait_for() {
  for _ in $(seq 100); do
    [ -s "$1" ] && return 0
    sleep 0.1
  done
}

start_idle_processes 2000
processes=$(ls /proc | grep -c '^[0-9]')

peers_ps=("procscope ps" "ps aux")
command -v procs >/dev/null && peers_ps+=("procs --color disable --pager disable")
compare ps "list processes" "≤ 0.5x ps aux" 1 0.5 "${peers_ps[@]}"
ps_rss=$( { /usr/bin/time -f '%M' procscope ps >/dev/null 2>&1 ; } 2>&1 | tail -1)
if [ "$ps_rss" -gt $((16 * 1024)) ]; then
  printf -- '- **list processes**: goal peak RSS ≤ 16 MiB, measured %s KiB.\n' "$ps_rss" >> "$unmet"
fi

compare tree "process tree" "≤ 0.1x pstree -p" 1 0.1 "procscope tree" "pstree -p" "ps --forest -e"

python3 benches/workloads/threads.py 2000 > "$work/threads.ready" 2>/dev/null </dev/null &
threads_pid=$!
workload_pids+=("$threads_pid")
wait_for "$work/threads.ready"
compare threads "threads of a 2000-thread process (with WAIT and PC)" "≤ 0.3x ps -L -p" 1 0.3 \
  "procscope threads $threads_pid" "ps -L -p $threads_pid" "top -H -b -n1 -p $threads_pid"
compare mem "memory of a 2000-thread process" "≤ 1.0x pmap -X" 2 1.0 \
  "procscope mem $threads_pid" "pmap -x $threads_pid" "pmap -X $threads_pid"
compare mem "every mapping of a 2000-thread process" "≤ 1.0x pmap -X" 1 1.0 \
  "procscope mem --maps $threads_pid" "pmap -X $threads_pid"

if command -v node >/dev/null; then
  node benches/workloads/node-server.js > /dev/null 2>&1 < /dev/null &
  node_pid=$!
  workload_pids+=("$node_pid")
  sleep 2
  compare mem "memory of a Node.js process" "≤ 1.0x pmap -X" 2 1.0 \
    "procscope mem $node_pid" "pmap -x $node_pid" "pmap -X $node_pid"
  compare mem "every mapping of a Node.js process" "≤ 1.0x pmap -X" 1 1.0 \
    "procscope mem --maps $node_pid" "pmap -X $node_pid"
  compare roles "Node.js thread roles (2 worker_threads, used libuv pool)" "≤ 2x without roles" 1 2.0 \
    "procscope threads $node_pid" "procscope threads --no-roles $node_pid"
fi

python3 benches/workloads/fds.py 10000 > "$work/fds.ready" 2>/dev/null </dev/null &
fds_pid=$!
workload_pids+=("$fds_pid")
wait_for "$work/fds.ready"
fds_port=$(head -1 "$work/fds.ready")
# The workload closes what it inherited, so it holds exactly its 10000 descriptors and the
# listener. (A target holding a pipe also makes procscope look for the pipe's other ends in
# every process's fd table: with 2000 processes that added about 40 ms here.)
compare fds "descriptors of a 10000-fd process" "≤ 0.5x lsof -p" 1 0.5 \
  "procscope fds $fds_pid" "lsof -p $fds_pid"
compare ports "who listens on a port" "≤ 0.6x ss -ltnp" 1 0.6 \
  "procscope ports $fds_port" "ss -ltnp 'sport = :$fds_port'" "lsof -i :$fds_port" "fuser $fds_port/tcp"

{
  echo "# Benchmarks"
  echo
  echo "Measured by \`benches/compare.sh\` on $(date -u +%Y-%m-%d), $(nproc) CPUs, Linux $(uname -r),"
  echo "with $processes processes running (2000 idle \`sleep\`s started by the script, plus its other"
  echo "workloads); hyperfine median of $runs runs after 3 warm-ups; peak RSS from GNU time."
  echo "Ratio = procscope's median / the peer's median (below 1 means procscope is faster)."
  echo
  echo "## Goals not met"
  echo
  if [ -s "$unmet" ]; then cat "$unmet"; else echo "None: every goal was met in this run."; fi
  echo
  echo "## Results"
  echo
  echo "| question | command | median ms | ratio | peak RSS MiB | goal |"
  echo "|---|---|---:|---:|---:|---|"
  cat "$results"
} > "$out"
cat "$out"

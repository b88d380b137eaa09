#!/usr/bin/env bash
# The live view's cost next to htop and top, on processes this script starts itself and
# stops by PID. Needs tmux, htop, procps (top) and GNU time (Debian: tmux htop procps time).
#
#   benches/top.sh [--seconds N] [--out FILE]
#
# Each viewer runs alone in a 200x50 tmux session of this script's own tmux server for N
# seconds (default 60) at a 1 s refresh, with about 2000 processes on the machine: its CPU
# time is utime+stime from /proc/PID/stat at the start and the end, its peak RSS is VmHWM.
# Then `ps --watch 1s --ndjson` against `top -b -d 1` the same way (to /dev/null), and the
# time of one refresh (read and render: `top --batch -n 2` minus `-n 1`, median of 5) at
# 2000 and at 10000 processes. Prints a Markdown table (and appends it to FILE).
#
# procscope shows the columns of top's default screen (PID USER PR NI VIRT RES S %CPU %MEM
# TIME+ COMMAND; procscope has no SHR), with the full command line as htop shows it.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "usage: $0 [--seconds N] [--out FILE]" >&2; exit 2 ;;
  esac
done
for tool in tmux htop top /usr/bin/time python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install tmux htop procps time python3)" >&2; exit 2; }
done

cargo build --release --quiet
procscope="$PWD/target/release/procscope"
socket="procscope-bench-$$"
sleepers=()

cleanup() {
  tmux -L "$socket" kill-server 2>/dev/null || true
  # Only the processes this script started, by PID.
  if [ ${#sleepers[@]} -gt 0 ]; then
    kill "${sleepers[@]}" 2>/dev/null || true
    wait "${sleepers[@]}" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# start_sleepers N: adds idle processes until about N exist on the machine.
start_sleepers() {
  local have
  have=$(ls /proc | grep -c '^[0-9]')
  for _ in $(seq $(( $1 - have ))); do
    sleep 7200 </dev/null >/dev/null 2>&1 &
    sleepers+=("$!")
  done
}

# cpu_ticks PID: utime + stime of PID.
cpu_ticks() {
  sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

hz=$(getconf CLK_TCK)
columns="pid,user,priority,nice,vsz,rss,state,cpu,mem,time,cmd"

# row NAME PID: watches PID for the run's seconds; prints "NAME | cpu s | % of one core | RSS".
measure() {
  local name="$1" pid="$2" before after rss
  sleep 2
  before=$(cpu_ticks "$pid")
  sleep "$seconds"
  after=$(cpu_ticks "$pid")
  rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  awk -v n="$name" -v t=$((after - before)) -v hz="$hz" -v s="$seconds" -v r="$rss" \
    'BEGIN { printf "| %s | %.2f s | %.2f%% | %.1f MiB |\n", n, t / hz, t / hz / s * 100, r / 1024 }'
}

# in_tmux NAME COMMAND...: runs a viewer in its own tmux session and measures it.
in_tmux() {
  local name="$1"; shift
  tmux -L "$socket" new-session -d -s bench -x 200 -y 50 "exec $*"
  local pid
  pid=$(tmux -L "$socket" display-message -p -t bench '#{pane_pid}')
  measure "$name" "$pid"
  tmux -L "$socket" kill-server
}

# piped NAME COMMAND...: runs a stream into /dev/null and measures it.
piped() {
  local name="$1"; shift
  "$@" >/dev/null 2>&1 &
  local pid=$!
  measure "$name" "$pid"
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# refresh_ms: one refresh of top --batch, in ms (median of 5 differences of -n 2 and -n 1).
refresh_ms() {
  python3 - "$procscope" "$columns" <<'PY'
import statistics, subprocess, sys, time
def run(n):
    start = time.perf_counter()
    subprocess.run([sys.argv[1], "top", "--batch", "-n", str(n), "-d", "1ms", "-o", sys.argv[2]],
                   stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start
print(f"{statistics.median(run(2) - run(1) for _ in range(5)) * 1000:.1f}")
PY
}

# Everything below also goes to FILE; no subshell, so every sleeper is in `sleepers` and the
# exit trap stops them all.
exec > >(tee -a "${out:-/dev/null}")
start_sleepers 2000
processes=$(ls /proc | grep -c '^[0-9]')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "### procscope top, $seconds s at 1 s refresh, $processes processes, load $load_before"
echo
echo "| viewer | CPU time | CPU | peak RSS |"
echo "|---|---|---|---|"
in_tmux "procscope top -d 1s" "$procscope" top -d 1s -o "$columns"
in_tmux "htop -d 10" htop -d 10
in_tmux "top -d 1" top -d 1
piped "procscope ps --watch 1s --ndjson" "$procscope" ps --watch 1s --ndjson -o "$columns"
piped "top -b -d 1" top -b -d 1
echo
echo "| one refresh (read + render) | ms |"
echo "|---|---|"
echo "| $processes processes | $(refresh_ms) |"
start_sleepers 10000
echo "| $(ls /proc | grep -c '^[0-9]') processes | $(refresh_ms) |"
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# The live view's cost next to htop and top, on processes this script starts itself and
# stops by PID. Needs tmux, htop, procps (top) and GNU time (Debian: tmux htop procps time).
#
#   benches/top.sh [--seconds N] [--out FILE]
#
# Each viewer runs alone in a 200x50 tmux session of this script's own tmux server for N
# seconds (default 60) at a 1 s refresh, with about 2000 processes on the machine: its CPU
# time is utime+stime from /proc/PID/stat at the start and the end, its peak RSS is VmHWM.
# Then `ps --watch 1s --ndjson` against `top -b -d 1` the same way (to /dev/null). Then the
# time of each refresh (read and render) at 2000 and at 10000 processes, as procscope itself
# measures it (`--timings FILE`: wall and CPU milliseconds of reading and of drawing each
# refresh): each scale runs in a PID namespace of its own (`unshare -Urpf --kill-child
# --mount-proc`) holding the idle processes, the full-screen view in a tmux server started
# inside it and `top --batch`, 11 refreshes at 1 s each; everything in it dies with it.
# Prints Markdown tables (and appends them to FILE).
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
# One tmux server per viewer: a new session on a server still shutting down after
# kill-server fails with "server exited unexpectedly".
sockets=()
sleepers=()

# stop_sleepers: stops the idle processes this script started (its own un-reaped children,
# by PID).
stop_sleepers() {
  if [ ${#sleepers[@]} -gt 0 ]; then
    kill "${sleepers[@]}" 2>/dev/null || true
    wait "${sleepers[@]}" 2>/dev/null || true
  fi
  sleepers=()
}

cleanup() {
  for socket in "${sockets[@]}"; do
    tmux -L "$socket" kill-server 2>/dev/null || true
  done
  stop_sleepers
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
  local socket="procscope-bench-$$-${#sockets[@]}"
  sockets+=("$socket")
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

# refresh_times N: in a new PID namespace with about N processes, runs `procscope top` in a
# 200x50 tmux session and then `top --batch` (to /dev/null), 11 refreshes each at 1 s, and
# prints a table row per viewer from their --timings lines: the first refresh (in --batch, the
# baseline read, which prints nothing, and after `+ fill` the read of the columns it deferred,
# made while the first interval passes), and the median and the largest of the next ten, in
# wall ms (CPU ms in parentheses).
refresh_times() {
  local dir
  dir=$(mktemp -d)
  cat >"$dir/inside.sh" <<'INSIDE'
set -u
n=$1 procscope=$2 columns=$3 dir=$4
for _ in $(seq $(( n - $(ls /proc | grep -c '^[0-9]') ))); do
  sleep infinity </dev/null >/dev/null 2>&1 &
done
ls /proc | grep -c '^[0-9]' >"$dir/processes"
TERM=${TERM:-xterm-256color} tmux -S "$dir/tmux" new-session -d -x 200 -y 50 \
  "exec $procscope top -d 1s -o $columns --timings $dir/tui"
for _ in $(seq 120); do
  [ "$(cat "$dir/tui" 2>/dev/null | wc -l)" -ge 11 ] && break
  sleep 0.5
done
tmux -S "$dir/tmux" kill-server
"$procscope" top --batch -n 10 -d 1s -o "$columns" --timings "$dir/batch" >/dev/null
INSIDE
  unshare -Urpf --kill-child --mount-proc bash "$dir/inside.sh" "$1" "$procscope" "$columns" "$dir"
  local processes
  processes=$(cat "$dir/processes")
  for viewer in tui batch; do
    awk -v p="$processes" -v v="$viewer" '
      { delete f; for (i = 1; i < NF; i += 2) f[$i] = $(i + 1) }
      $1 == "fill" { fill = sprintf(" + fill %.1f (%.1f)", f["read_ms"], f["read_cpu_ms"]); next }
      $1 != "refresh" { next }
      { r++
        if (r == 1) { first = f["total_ms"]; first_cpu = f["read_cpu_ms"] + f["render_cpu_ms"] }
        else if (r <= 11) { n++; t[n] = f["total_ms"]; c[n] = f["read_cpu_ms"] + f["render_cpu_ms"] } }
      END {
        # Sort the next ten (insertion sort keeps each CPU time with its wall time).
        for (i = 2; i <= n; i++) for (j = i; j > 1 && t[j - 1] > t[j]; j--) {
          x = t[j]; t[j] = t[j - 1]; t[j - 1] = x; x = c[j]; c[j] = c[j - 1]; c[j - 1] = x }
        m = int((n + 1) / 2)
        name = v == "tui" ? "procscope top (200x50)" : "procscope top --batch"
        printf "| %s | %s | %.1f (%.1f)%s | %.1f (%.1f) | %.1f (%.1f) |\n", p, name,
          first, first_cpu, fill, t[m], c[m], t[n], c[n] }' "$dir/$viewer"
  done
  rm -rf "$dir"
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
stop_sleepers
echo "One refresh (read + render), wall ms (CPU ms), from procscope's --timings:"
echo
echo "| processes | viewer | first refresh | median of the next 10 | largest of the next 10 |"
echo "|---|---|---|---|---|"
refresh_times 2000
refresh_times 10000
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

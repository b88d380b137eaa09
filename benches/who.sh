#!/usr/bin/env bash
# Timings of `procscope who`, `who --deleted` and `ports` (sock_diag) against lsof, fuser and
# ss, with ~2000 idle processes this script starts and stops by PID. Needs hyperfine, lsof,
# fuser (psmisc) and ss (iproute2).
#
#   benches/who.sh [--runs N] [--processes N]
#
# Prints one Markdown table: median wall time of each command and procscope's ratio to the
# peer, with the goal (≤ 0.5x for every row).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=10
processes=2000
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --processes) processes="$2"; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--processes N]" >&2; exit 2 ;;
  esac
done
for tool in hyperfine lsof fuser ss python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install hyperfine lsof psmisc iproute2 python3)" >&2; exit 2; }
done

cargo build --release --quiet
bin="$PWD/target/release/procscope"
work="$(mktemp -d)"
pids=()
cleanup() {
  # Only the processes this script started, by PID.
  if [ ${#pids[@]} -gt 0 ]; then
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# The file every question is about: held open by one sleep; a deleted file held by another.
echo data > "$work/held.log"
sleep 3600 3<"$work/held.log" </dev/null >/dev/null 2>&1 &
pids+=("$!")
head -c 1048576 /dev/zero > "$work/gone.log"
sleep 3600 3<"$work/gone.log" </dev/null >/dev/null 2>&1 &
pids+=("$!")
rm "$work/gone.log"
# A loopback listener for ports to find.
python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); time.sleep(3600)' </dev/null >/dev/null 2>&1 &
pids+=("$!")
for _ in $(seq "$processes"); do
  sleep 3600 </dev/null >/dev/null 2>&1 &
  pids+=("$!")
done
sleep 1

json="$work/times.json"
median() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["median"])' "$json" "$1"; }

echo "with $(ls -d /proc/[0-9]* 2>/dev/null | wc -l) processes; hyperfine median of $runs runs after 2 warm-ups; $(uptime)"
echo
echo "| question | procscope | peer | peer time | ratio | goal |"
echo "|---|---|---|---|---|---|"
row() { # QUESTION PROCSCOPE_CMD PEER_CMD
  hyperfine --style none --warmup 2 --runs "$runs" -N --ignore-failure \
    --export-json "$json" "$2" "$3" >/dev/null 2>&1
  local ours peer
  ours="$(median 0)"
  peer="$(median 1)"
  python3 -c 'import sys
o, p = float(sys.argv[1]), float(sys.argv[2])
met = "met" if o / p <= 0.5 else "NOT met"
print("| %s | %.1f ms | `%s` | %.1f ms | %.2fx | %s (≤ 0.5x) |" % (sys.argv[3], o * 1000, sys.argv[4], p * 1000, o / p, met))' \
    "$ours" "$peer" "$1" "$3"
}
row "who FILE" "$bin who $work/held.log" "lsof -w $work/held.log"
row "who FILE" "$bin who $work/held.log" "fuser $work/held.log"
row "who --deleted" "$bin who --deleted" "lsof -w +L1"
row "ports (listening TCP, sock_diag)" "$bin ports --tcp" "ss -ltnp"

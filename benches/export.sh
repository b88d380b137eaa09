#!/usr/bin/env bash
# Benchmark of one scrape: `procscope serve` vs prometheus-process-exporter at ~2000
# processes in 50 groups (the same groups and comparable metrics), without and with PSS,
# and serve's resident memory after 1000 scrapes. A benchmark, not a test: run by hand.
#
#   benches/export.sh [PROCSCOPE_BINARY]     (default: target/release/procscope)
#
# Everything runs inside a new user+PID namespace (unshare -Urpf --mount-proc): both
# exporters see the same 2000 sleeps and nothing else, and every process ends with the
# namespace's init. Needs: unshare, curl, python3, prometheus-process-exporter.
set -euo pipefail

BIN=$(realpath "${1:-target/release/procscope}")
GROUPS_N=${GROUPS_N:-50}
PER_GROUP=${PER_GROUP:-40}
SCRAPES=${SCRAPES:-20}
LONG_RUN=${LONG_RUN:-1000}

if [[ "${INSIDE_NS:-}" != 1 ]]; then
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
  exec env INSIDE_NS=1 unshare -Urpf --mount-proc "$0" "$BIN"
fi

work=$(mktemp -d)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
sleep_bin=$(command -v sleep)

# 50 executable names, 40 sleeps each; the process-exporter and procscope configs name
# the same 50 groups by comm.
: >"$work/groups.toml"
echo "process_names:" >"$work/pe.yml"
for g in $(seq -w 0 $((GROUPS_N - 1))); do
  name="bgrp$g"
  cp "$sleep_bin" "$work/$name"
  printf '[[group]]\ncomm = ["%s"]\n' "$name" >>"$work/groups.toml"
  printf '  - name: "%s"\n    comm: ["%s"]\n' "$name" "$name" >>"$work/pe.yml"
  for _ in $(seq "$PER_GROUP"); do "$work/$name" 100000 & done
done
echo "processes in the namespace: $(ls /proc | grep -c '^[0-9]')"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# CPU seconds (user+system) a process has used, from its stat.
cpu_of() { python3 -c "import os,sys; f=open('/proc/$1/stat').read().rsplit(')',1)[1].split(); print((int(f[11])+int(f[12]))/os.sysconf('SC_CLK_TCK'))"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

wait_up() {
  for _ in $(seq 200); do
    curl -sf -o /dev/null "http://127.0.0.1:$1/metrics" && return 0
    sleep 0.05
  done
  echo "server on $1 did not start" >&2; exit 1
}

# SCRAPES scrapes (after one warm-up): median wall ms, CPU ms per scrape.
measure() {
  local label=$1 port=$2 pid=$3
  curl -sf -o /dev/null "http://127.0.0.1:$port/metrics"
  local before; before=$(cpu_of "$pid")
  local times=()
  for _ in $(seq "$SCRAPES"); do
    times+=("$(curl -sf -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/metrics")")
  done
  local after; after=$(cpu_of "$pid")
  python3 - "$label" "$before" "$after" "$SCRAPES" "${times[@]}" <<'EOF'
import statistics, sys
label, before, after, n = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
walls = sorted(float(t) * 1000 for t in sys.argv[5:])
print(f"| {label} | {statistics.median(walls):.1f} | {min(walls):.1f}-{max(walls):.1f} | {(after - before) * 1000 / n:.1f} |")
EOF
}

run_pair() {
  local pss_flag=$1 smaps=$2 label=$3
  local p1; p1=$(free_port)
  "$BIN" serve --listen "127.0.0.1:$p1" --config "$work/groups.toml" $pss_flag 2>/dev/null &
  local serve_pid=$!
  local p2; p2=$(free_port)
  prometheus-process-exporter -config.path "$work/pe.yml" -web.listen-address "127.0.0.1:$p2" \
    -threads=false -gather-smaps="$smaps" >/dev/null 2>&1 &
  local pe_pid=$!
  wait_up "$p1"; wait_up "$p2"
  measure "procscope serve $label" "$p1" "$serve_pid"
  measure "process-exporter $label" "$p2" "$pe_pid"
  if [[ -z "$pss_flag" ]]; then
    local rss0; rss0=$(rss_kib "$serve_pid")
    for _ in $(seq "$LONG_RUN"); do curl -sf -o /dev/null "http://127.0.0.1:$p1/metrics"; done
    echo "serve RSS: ${rss0} KiB after warm-up, $(rss_kib "$serve_pid") KiB after $LONG_RUN more scrapes"
  fi
  # Our own un-reaped children.
  kill "$serve_pid" "$pe_pid"; wait "$serve_pid" "$pe_pid" 2>/dev/null || true
}

echo
echo "| scrape of $((GROUPS_N * PER_GROUP)) processes in $GROUPS_N groups | median wall ms | range | CPU ms/scrape |"
echo "|---|---|---|---|"
run_pair "" false "(no PSS)"
run_pair "--pss" true "(PSS: --pss / -gather-smaps)"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

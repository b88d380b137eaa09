#!/usr/bin/env bash
# Side-by-side timings of procscope and the tools it replaces, at several process counts.
# Each scale runs in its own PID and IPC namespace (unshare -ipf --mount-proc as root, -Uripf
# for anyone else: a user namespace would take away root's capabilities in the initial one,
# which every tool keeps when a user runs it with sudo; procscope's taskstats needs
# CAP_NET_ADMIN there): benches/scale.sh is its PID 1, starts the workloads, the real servers
# and idle processes, times every question against its peers in one hyperfine run, and when
# it ends the kernel ends everything it started. Needs
# hyperfine, GNU time, python3, util-linux unshare, lsof, psmisc, procps (Debian: hyperfine
# time python3 util-linux lsof psmisc procps iproute2); node, procs, PostgreSQL, nginx and
# redis-server (postgresql nginx-light redis-server) are used when present.
#
#   benches/compare.sh [--runs N] [--scales "100 2000 10000"] [--out FILE] [--only "KEY..."]
#                      [--baseline OLD_PROCSCOPE_BINARY]
#
# --only times a subset of the questions by key (ps ps-columns ps-one tree threads mem fds
# fds-peers fds-conns fds-conns-peers ports ports-mixed mem-node fds-1k threads-1k, and on the
# real servers of benches/workloads/servers.sh: listeners pg-tree pg-fds pg-mem nginx-ports
# nginx-fds redis-threads redis-mem node-tree node-threads).
# --baseline adds an older build of procscope as one more peer of every question, in the same
# hyperfine run: the ratio against it is the change in speed (issue 14's 5% rule). For a
# build from before `fds --peers` (a4386de and older) set BENCH_BASELINE_PEERS_BUILTIN=1: its
# plain `fds` is what searched the pipes' other ends.
#
# Writes BENCHMARKS.md (or FILE): the goals not met with their explanation, per scale each
# question with procscope's and every peer's median, ratio and peak RSS, and the growth of
# each command's time with the process count. pid_max must leave room for the largest scale
# plus a 10000-thread process (the 10000 scale uses a 2000-thread process).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=10
scales="100 2000 10000"
out=BENCHMARKS.md
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --scales) scales="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --only) export BENCH_ONLY="$2"; shift 2 ;;
    --baseline) export BENCH_BASELINE="$(realpath "$2")"; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--scales \"100 2000 10000\"] [--out FILE] [--only \"KEY...\"] [--baseline BIN]" >&2; exit 2 ;;
  esac
done
for tool in hyperfine /usr/bin/time python3 unshare lsof pstree pmap ss fuser; do
  command -v "$tool" >/dev/null || { echo "missing $tool (see the top of $0)" >&2; exit 2; }
done
pid_max=$(cat /proc/sys/kernel/pid_max)
for scale in $scales; do
  if [ $((scale + 10000 + 2000)) -gt "$pid_max" ]; then
    echo "scale $scale does not fit pid_max $pid_max with the thread workload" >&2
    exit 2
  fi
done

cargo build --release --quiet
export PATH="$PWD/target/release:$PATH"
work="$(mktemp -d)"
# PostgreSQL's data directory is below it, and PostgreSQL runs as its own user.
chmod 711 "$work"
# Whether the servers that need root can run (inside -Uripf every user looks like root).
export BENCH_REAL_ROOT=
[ "$(id -u)" = 0 ] && BENCH_REAL_ROOT=1
scale_pid=
cleanup() {
  # Only our own child: unshare --kill-child takes the whole namespace with it.
  if [ -n "$scale_pid" ]; then
    kill "$scale_pid" 2>/dev/null || true
    wait "$scale_pid" 2>/dev/null || true
  fi
  # BENCH_RAW=DIR keeps hyperfine's results, to rerun benches/report.py on them.
  if [ -n "${BENCH_RAW:-}" ]; then cp -r "$work" "$BENCH_RAW"; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# An IPC namespace too: a PostgreSQL killed with the namespace leaves no SysV segment behind.
namespaces=-Uripf
[ "$(id -u)" = 0 ] && namespaces=-ipf
for scale in $scales; do
  unshare "$namespaces" --kill-child --mount-proc bash benches/scale.sh "$scale" "$runs" "$work" &
  scale_pid=$!
  wait "$scale_pid" || echo "scale $scale ended with status $?" >&2
  scale_pid=
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# The hand-written sections of the previous file (below its "kept" marker) carry over.
previous="$work/previous.md"
if [ -f "$out" ]; then cp "$out" "$previous"; else : > "$previous"; fi
python3 benches/report.py "$work" "$runs" "$load_before" "$load_after" "$previous" > "$out"
cat "$out"

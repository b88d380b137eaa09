#!/usr/bin/env bash
# One scale of benches/compare.sh, run as PID 1 of a new PID namespace (compare.sh starts it
# with `unshare -ipf` or `-Uripf --kill-child --mount-proc`): starts the workloads and the real
# servers (benches/workloads/servers.sh), then idle processes until the namespace holds about
# SCALE processes, and times every question side by side with its peers in one hyperfine run
# each. Everything it starts dies with the namespace; PostgreSQL is stopped cleanly first.
#
#   benches/scale.sh SCALE RUNS OUTDIR
#
# BENCH_ONLY="fds ports" (set by compare.sh --only) times only the questions with those keys.
#
# Writes OUTDIR/SCALE.KEY.json (hyperfine's export), OUTDIR/rss.tsv (scale, key, command
# name, peak RSS KiB) and OUTDIR/questions.tsv (scale, key, question, goal peer, goal ratio,
# goal text).
set -uo pipefail
scale="$1" runs="$2" out="$3"
cd "$(dirname "$0")/.."
workloads=benches/workloads

if [ "$$" -ne 1 ]; then
  echo "scale.sh runs as PID 1 of its own PID namespace (see compare.sh)" >&2
  exit 2
fi

# wait_line FILE: until a workload printed its first line (it is ready).
wait_line() {
  for _ in $(seq 600); do
    [ -s "$1" ] && return 0
    sleep 0.1
  done
  echo "workload behind $1 did not start" >&2
  return 1
}

# Workloads: each reads stdin until EOF; all die with the namespace anyway.
# Below compare.sh's work directory, which its exit removes however this scale ends.
tmp="$(mktemp -d -p "$out")"
. "$workloads/servers.sh"
trap 'stop_servers; rm -rf "$tmp"' EXIT
threads_n=$([ "$scale" -le 2000 ] && echo 10000 || echo 2000)
python3 "$workloads/mixed_fds.py" 10000 > "$tmp/mixed" < <(sleep infinity) 2>/dev/null &
mixed_pid=$!
python3 "$workloads/conns.py" 1000 > "$tmp/conns" < <(sleep infinity) 2>/dev/null &
conns_pid=$!
python3 "$workloads/threads.py" "$threads_n" > "$tmp/threads" < /dev/null 2>/dev/null &
threads_pid=$!
node_pid=
if command -v node >/dev/null; then
  node "$workloads/node-server.js" > "$tmp/node" < /dev/null 2>&1 &
  node_pid=$!
fi
if [ "$scale" -le 100 ]; then
  python3 "$workloads/mixed_fds.py" 1000 > "$tmp/mixed1k" < <(sleep infinity) 2>/dev/null &
  mixed1k_pid=$!
  python3 "$workloads/threads.py" 1000 > "$tmp/threads1k" < /dev/null 2>/dev/null &
  threads1k_pid=$!
  wait_line "$tmp/mixed1k" && wait_line "$tmp/threads1k" || exit 1
fi
wait_line "$tmp/mixed" && wait_line "$tmp/conns" && wait_line "$tmp/threads" || exit 1
mixed_port=$(head -1 "$tmp/mixed")
conns_port=$(head -1 "$tmp/conns")
start_servers "$tmp"

present=$(ls /proc | grep -c '^[0-9]')
idle=$((scale - present))
for _ in $(seq "$idle"); do
  sleep infinity < /dev/null > /dev/null 2>&1 &
done
sleep 2 # node's worker threads and pool

# cpu_ticks: busy and total ticks of all CPUs so far (/proc/stat's first line).
cpu_ticks() {
  local _cpu user nice system idle iowait irq softirq steal _rest
  read -r _cpu user nice system idle iowait irq softirq steal _rest < /proc/stat
  echo "$((user + nice + system + irq + softirq + steal)) $((user + nice + system + idle + iowait + irq + softirq + steal))"
}
# Until the machine is quiet (the servers' and workloads' start-up done, under 5% of the
# CPUs busy over a second; at most 30 s): the first question timed would otherwise share
# the CPUs with it.
for _ in $(seq 30); do
  read -r busy0 total0 < <(cpu_ticks)
  sleep 1
  read -r busy1 total1 < <(cpu_ticks)
  [ $(((busy1 - busy0) * 100)) -lt $((5 * (total1 - total0))) ] && break
done
# Two seconds of listings, untimed: in a fresh namespace whichever command the first
# question timed first ran 10 to 20% slower than later (one build as both procscope and
# the baseline: 8.3 against 6.9 ms), the other questions not.
warm_until=$((SECONDS + 2))
while [ "$SECONDS" -lt "$warm_until" ]; do
  procscope ps > /dev/null 2>&1
  ps aux > /dev/null 2>&1
done
processes=$(ls /proc | grep -c '^[0-9]')
echo "scale $scale: $processes processes in the namespace, $(((busy1 - busy0) * 100 / (total1 - total0 + 1)))% busy" >&2

# q KEY QUESTION GOAL_PEER GOAL_RATIO GOAL_TEXT NAME CMD [NAME CMD]...: one hyperfine run of
# the commands (the first is procscope's), then each command's peak RSS once.
q() {
  local key="$1" question="$2" goal_peer="$3" goal_ratio="$4" goal="$5"; shift 5
  if [ -n "${BENCH_ONLY:-}" ] && [[ " $BENCH_ONLY " != *" $key "* ]]; then
    return 0
  fi
  local args=() names=() cmds=()
  while [ $# -gt 0 ]; do
    args+=(-n "$1" "$2")
    names+=("$1")
    cmds+=("$2")
    shift 2
  done
  if [ -n "${BENCH_BASELINE:-}" ]; then
    # The same question asked of an older build (compare.sh --baseline). A build from
    # before `fds --peers` (whose plain `fds` searched pipe peers) is asked plain `fds`
    # when BENCH_BASELINE_PEERS_BUILTIN is set.
    local base_cmd="${cmds[0]/procscope /$BENCH_BASELINE }" base_name="baseline ${names[0]#procscope }"
    if [ -n "${BENCH_BASELINE_PEERS_BUILTIN:-}" ]; then
      base_cmd="${base_cmd/ --peers/}"
    fi
    args+=(-n "$base_name" "$base_cmd")
    names+=("$base_name")
    cmds+=("$base_cmd")
  fi
  echo "scale $scale: $question" >&2
  if ! hyperfine --shell=none --warmup 2 --runs "$runs" --style none \
      --export-json "$out/$scale.$key.json" "${args[@]}" > /dev/null; then
    echo "scale $scale: $question failed" >&2
    return 0
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$scale" "$key" "$question" "$goal_peer" "$goal_ratio" \
    "$goal" >> "$out/questions.tsv"
  local i
  for i in "${!cmds[@]}"; do
    local rss
    rss=$( { /usr/bin/time -f '%M' sh -c "${cmds[$i]} >/dev/null 2>&1"; } 2>&1 | tail -1)
    printf '%s\t%s\t%s\t%s\n' "$scale" "$key" "${names[$i]}" "$rss" >> "$out/rss.tsv"
  done
}

peers_ps=("ps aux" "ps aux")
if command -v procs >/dev/null; then
  peers_ps+=("procs" "procs --color disable --pager disable")
fi
q ps "list processes" 1 0.5 "≤ 0.5x ps aux" "procscope ps" "procscope ps" "${peers_ps[@]}"
q ps-columns "PID and name of every process" 1 0.5 "≤ 0.5x ps -e -o pid,comm" \
  "procscope ps -o pid,name" "procscope ps -o pid,name" "ps -e -o pid,comm" "ps -e -o pid,comm"
q ps-one "one process by PID (start-up)" 1 0.5 "≤ 0.5x ps -p 1" \
  "procscope ps --pid 1" "procscope ps --pid 1" "ps -p 1" "ps -p 1"
q tree "process tree" 1 0.1 "≤ 0.1x pstree -p at ≥ 2000, 0.2 at ~500, 0.3 at ~100" \
  "procscope tree" "procscope tree" "pstree -p" "pstree -p" "ps --forest -e" "ps --forest -e"
q threads "threads of a $threads_n-thread process" 1 0.3 "≤ 0.3x ps -L -p" \
  "procscope threads THREADS" "procscope threads $threads_pid" \
  "ps -L -p THREADS" "ps -L -p $threads_pid" \
  "top -H -b -n1 -p THREADS" "top -H -b -n1 -p $threads_pid"
q mem "memory of a $threads_n-thread process" 2 1.0 "≤ 1.0x pmap -X" \
  "procscope mem THREADS" "procscope mem $threads_pid" \
  "pmap -x THREADS" "pmap -x $threads_pid" "pmap -X THREADS" "pmap -X $threads_pid"
q fds "descriptors of the mixed 10000-fd process" 1 0.5 "≤ 0.5x lsof -p" \
  "procscope fds MIXED" "procscope fds $mixed_pid" "lsof -p MIXED" "lsof -p $mixed_pid"
q fds-peers "descriptors of the mixed 10000-fd process, with the pipes' other ends" 1 0.5 \
  "≤ 0.5x lsof +E -p" \
  "procscope fds --peers MIXED" "procscope fds --peers $mixed_pid" \
  "lsof +E -p MIXED" "lsof +E -p $mixed_pid"
q fds-conns "descriptors of a server with 1000 TCP connections" 1 0.5 "≤ 0.5x lsof -p" \
  "procscope fds CONNS" "procscope fds $conns_pid" "lsof -p CONNS" "lsof -p $conns_pid"
q fds-conns-peers "descriptors of a server with 1000 TCP connections, with the pipes' other ends" \
  1 0.5 "≤ 0.5x lsof +E -p" \
  "procscope fds --peers CONNS" "procscope fds --peers $conns_pid" \
  "lsof +E -p CONNS" "lsof +E -p $conns_pid"
q ports "who listens on a port (1000 connections on it)" 1 0.5 "≤ 0.5x ss -ltnp" \
  "procscope ports PORT" "procscope ports $conns_port" \
  "ss -ltnp 'sport = :PORT'" "ss -ltnp 'sport = :$conns_port'" \
  "lsof -i :PORT" "lsof -i :$conns_port" "fuser PORT/tcp" "fuser $conns_port/tcp"
q ports-mixed "who listens on the mixed process's port" 1 0.5 "≤ 0.5x ss -ltnp" \
  "procscope ports PORT" "procscope ports $mixed_port" \
  "ss -ltnp 'sport = :PORT'" "ss -ltnp 'sport = :$mixed_port'"
if [ -n "$node_pid" ]; then
  q mem-node "memory of a Node.js process" 2 1.0 "≤ 1.0x pmap -X" \
    "procscope mem NODE" "procscope mem $node_pid" \
    "pmap -x NODE" "pmap -x $node_pid" "pmap -X NODE" "pmap -X $node_pid"
fi
if [ "$scale" -le 100 ]; then
  # Growth with descriptors and threads: the same questions on a tenth of the workload.
  q fds-1k "descriptors of the mixed 1000-fd process" 1 0.5 "≤ 0.5x lsof -p" \
    "procscope fds MIXED1K" "procscope fds $mixed1k_pid" "lsof -p MIXED1K" "lsof -p $mixed1k_pid"
  q threads-1k "threads of a 1000-thread process" 1 0.3 "≤ 0.3x ps -L -p" \
    "procscope threads THREADS1K" "procscope threads $threads1k_pid" \
    "ps -L -p THREADS1K" "ps -L -p $threads1k_pid"
fi

# The real servers. A subtree is still a walk of every process for pstree (and for procscope,
# which must find the children), so the tree goals are those of the whole tree.
tree_goal=$([ "$scale" -le 100 ] && echo 0.3 || { [ "$scale" -le 500 ] && echo 0.2 || echo 0.1; })
q listeners "every listening TCP socket and its processes" 1 0.5 "≤ 0.5x ss -ltnp" \
  "procscope ports" "procscope ports" "ss -ltnp" "ss -ltnp" \
  "lsof -iTCP -sTCP:LISTEN -nP" "lsof -iTCP -sTCP:LISTEN -nP"
if [ -n "$PG_PID" ]; then
  q pg-tree "PostgreSQL's process tree ($PG_CLIENTS backends)" 1 "$tree_goal" \
    "≤ $tree_goal""x pstree -p" \
    "procscope tree PG" "procscope tree $PG_PID" "pstree -p PG" "pstree -p $PG_PID"
  q pg-fds "descriptors of the PostgreSQL postmaster" 1 0.5 "≤ 0.5x lsof -p" \
    "procscope fds PG" "procscope fds $PG_PID" "lsof -p PG" "lsof -p $PG_PID"
  q pg-mem "memory of the PostgreSQL postmaster (shared buffers)" 2 1.0 "≤ 1.0x pmap -X" \
    "procscope mem PG" "procscope mem $PG_PID" \
    "pmap -x PG" "pmap -x $PG_PID" "pmap -X PG" "pmap -X $PG_PID"
fi
if [ -n "$NGINX_PID" ]; then
  nginx_worker=$(pgrep -P "$NGINX_PID" | sort -n | head -1)
  q nginx-ports "who listens on nginx's port (master and 2 workers)" 1 0.5 "≤ 0.5x ss -ltnp" \
    "procscope ports NGINX" "procscope ports $NGINX_PORT" \
    "ss -ltnp 'sport = :NGINX'" "ss -ltnp 'sport = :$NGINX_PORT'" \
    "lsof -i :NGINX" "lsof -i :$NGINX_PORT"
  q nginx-fds "descriptors of an nginx worker ($NGINX_CLIENTS keep-alive clients)" 1 0.5 \
    "≤ 0.5x lsof -p" \
    "procscope fds NGINXW" "procscope fds $nginx_worker" "lsof -p NGINXW" "lsof -p $nginx_worker"
fi
if [ -n "$REDIS_PID" ]; then
  q redis-threads "threads of redis" 1 0.3 "≤ 0.3x ps -L -p" \
    "procscope threads REDIS" "procscope threads $REDIS_PID" \
    "ps -L -p REDIS" "ps -L -p $REDIS_PID" "top -H -b -n1 -p REDIS" "top -H -b -n1 -p $REDIS_PID"
  q redis-mem "memory of redis" 2 1.0 "≤ 1.0x pmap -X" \
    "procscope mem REDIS" "procscope mem $REDIS_PID" \
    "pmap -x REDIS" "pmap -x $REDIS_PID" "pmap -X REDIS" "pmap -X $REDIS_PID"
fi
if [ -n "$CLUSTER_PID" ]; then
  q node-tree "a Node.js cluster's tree (primary, 2 workers)" 1 "$tree_goal" \
    "≤ $tree_goal""x pstree -p" \
    "procscope tree CLUSTER" "procscope tree $CLUSTER_PID" \
    "pstree -p CLUSTER" "pstree -p $CLUSTER_PID"
  q node-threads "threads of a Node.js cluster worker (with a worker_thread)" 1 0.3 \
    "≤ 0.3x ps -L -p" \
    "procscope threads WORKER" "procscope threads $CLUSTER_WORKER" \
    "ps -L -p WORKER" "ps -L -p $CLUSTER_WORKER" \
    "top -H -b -n1 -p WORKER" "top -H -b -n1 -p $CLUSTER_WORKER"
fi
printf '%s\t%s\n' "$scale" "$processes" >> "$out/processes.tsv"

"""Turns the results of benches/scale.sh runs into BENCHMARKS.md (Markdown on stdout).

    python3 benches/report.py WORKDIR RUNS LOAD_BEFORE LOAD_AFTER [PREVIOUS]

PREVIOUS is the BENCHMARKS.md being replaced: everything below its KEPT marker (the
hand-written profiles and the live view and exporter runs of benches/top.sh and
benches/export.sh) is copied to the end of the new file. A file without the marker has its
sections from the first of KEPT_HEADINGS on kept instead.
"""
import json
import os
import platform
import sys
import time
from collections import defaultdict

work, runs, load_before, load_after = sys.argv[1:5]
previous = sys.argv[5] if len(sys.argv) > 5 else None

KEPT = ("<!-- Kept by benches/report.py: everything below this line is hand-written or comes "
        "from benches/top.sh and benches/export.sh, and survives a rerun of compare.sh. -->")
KEPT_HEADINGS = ("## Reading these numbers", "## Profiles of the unmet goals", "## Live view",
                 "## Prometheus exporter")


def kept_sections(path):
    """The part of the previous BENCHMARKS.md that a rerun keeps (empty without one)."""
    if not path or not os.path.exists(path):
        return ""
    with open(path) as f:
        text = f.read()
    if KEPT in text:
        return text.split(KEPT, 1)[1].strip("\n")
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(KEPT_HEADINGS):
            return "\n".join(lines[i:]).strip("\n")
    return ""


# Why a goal may be missed: from perf profiles of these workloads (see BENCHMARKS.md notes).
WHY = {
    "ps-one": "showing one process is process start-up: the loader, std's main-thread stack "
    "probe (/proc/self/maps), the read watchdog's thread, four system files, /etc/passwd for "
    "the USER column and /etc/localtime for START; `ps -p 1` shows neither a user nor a start "
    "time.",
    "ps": "the 100-process namespace holds 11000 threads (the 10000- and 1000-thread "
    "workloads): listing /proc walks every one of them (1.6 to 2.8 ms, the kernel's "
    "next_tgid, on one CPU before any process can be read), and the CPU time of the "
    "10000-thread process is a pass over all of them (about 1.5 ms through its CPU clock, "
    "3 ms through stat, which `ps aux` reads). With start-up (about 2 ms: exec, the loader, "
    "relocations, argument parsing) that leaves a floor near half of `ps aux` for the reads "
    "that can run on two CPUs, and the time moves by 2 ms between runs with the listing and "
    "the readers' balance. procscope uses 0.75x ps aux's CPU here.",
    "fds": "per descriptor procscope makes at most 4.8 file system calls (a readlink, the "
    "fdinfo: open, read, close, and one stat per distinct file), lsof -p about 13 (strace -c on "
    "10003 descriptors: 30282 stat, 20957 read, 30184 close, 10071 readlink, 10225 open), but "
    "lsof's extra calls are cheap ones (stats of cached dentries, closes of unused numbers): "
    "perf puts both tools' kernel time in looking up fd/N and fdinfo/N (d_lookup, "
    "tid_fd_revalidate, ptrace_may_access) and in formatting fdinfo, which both do per "
    "descriptor. See the CPU ratio: the two reader threads lower procscope's wall time only "
    "where a second CPU is free. The other ends of pipes are searched only with `--peers` "
    "(against `lsof +E -p` below).",
    "fds-peers": "the other ends of the pipes need every other process's descriptor table "
    "read once (open, getdents, a readlink per descriptor, close), as lsof +E does.",
    "fds-conns": "1000 sockets: on top of the per-descriptor reads, the sock_diag dumps of "
    "every socket in the namespace (3000 TCP here) to find each one's endpoints.",
    "fds-conns-peers": "as fds --peers on the mixed process: every other process's table is "
    "read once for the server's one pipe.",
    "ports": "every descriptor of every process is read (a readlink each) to map socket "
    "inodes to processes, the kernel keeping no reverse index, exactly as `ss -p` does: perf "
    "shows the same kernel profile for both (readlink about 47%, the fd directory listings "
    "18 to 24%) and the CPU time is about equal. procscope makes fewer calls (readlinks "
    "relative to a handle on PID/fd, one listing, no getxattr) and spreads them over two "
    "reader threads, which is what the wall-time ratio gains on an idle machine.",
    "ports-mixed": "as above: every descriptor of every process is read.",
    "listeners": "as for `ports PORT`: every descriptor of every process is read to find "
    "the listeners' holders, and the holders that run a runtime are labelled (their "
    "executables' section headers, their children's environments).",
    "nginx-ports": "as for `ports PORT`: every descriptor of every process is read.",
    "pg-fds": "a process with few descriptors: start-up and the sock_diag dumps of every "
    "socket of the network namespace (the host's, which the benchmark shares: the "
    "workloads' 3000 TCP sockets among them) to name the socket ends.",
    "nginx-fds": "as for PostgreSQL: start-up and the sock_diag dumps of every socket.",
    "redis-threads": "a few threads: start-up, and the maps and symbol tables for the "
    "program counters.",
    "node-threads": "a few threads: start-up, the maps and symbol tables for the program "
    "counters, and Node.js's thread roles (its executable's section headers, each thread's "
    "name and wait).",
    "tree": "92% of the time is in the kernel opening and formatting PID/stat (four calls "
    "per process, the floor for the file and its owner); pstree does the same reads.",
    "threads": "per thread the kernel opens and formats task/TID/stat and syscall (WAIT, PC "
    "and the stack) and answers a taskstats question for the CTXSW column (`status`, a third "
    "file and the costliest, for a caller without CAP_NET_ADMIN); the files alone cost about "
    "200 ms of CPU per 10000 threads; with two CPUs the wall time cannot go much below half "
    "of procscope's CPU time. ps -L reads stat and status of every thread of every process "
    "before it filters, so the ratio falls with scale.",
    "threads-1k": "as for 10000 threads: two files and a taskstats answer per thread plus "
    "the fixed symbol-table reads, a larger share here.",
    "mem": "mem reads smaps and one syscall file per thread (the stack pointers that "
    "attribute thread stacks); pmap -x reads smaps only.",
    "mem-node": "as above, for Node.js's threads.",
}


def load(path):
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


questions = load(os.path.join(work, "questions.tsv"))
rss = {(s, k, n): int(v) for s, k, n, v in load(os.path.join(work, "rss.tsv")) if v.isdigit()}
processes = dict(load(os.path.join(work, "processes.tsv")))
scales = sorted({int(q[0]) for q in questions})

unmet = []
summary = {}  # (key, scale) -> ratio text
summary_rows = {}  # key -> (question, goal), in order of first appearance
tables = defaultdict(list)
medians = defaultdict(dict)  # (key, command name) -> scale -> seconds
for scale, key, question, goal_peer, goal_ratio, goal in questions:
    with open(os.path.join(work, f"{scale}.{key}.json")) as f:
        results = json.load(f)["results"]
    ours = results[0]["median"]
    for i, result in enumerate(results):
        name = result["command"]
        median = result["median"]
        medians[(key, name)][int(scale)] = median
        kib = rss.get((scale, key, name))
        mib = f"{kib / 1024:.1f}" if kib else "?"
        spread = f"± {result['stddev'] * 1000:.1f}" if result.get("stddev") else ""
        # CPU time (user + system, mean): what a loaded machine does not distort as much.
        cpu = (result.get("user") or 0) + (result.get("system") or 0)
        if i == 0:
            ours_cpu = cpu
            tables[scale].append(
                f"| {question} | `{name}` | {median * 1000:.1f} {spread} | - | {cpu * 1000:.0f} "
                f"| - | {mib} | {goal} |")
            if key == "ps" and kib and kib > 16 * 1024:
                unmet.append(f"- **{question}** at {scale} processes: goal peak RSS ≤ 16 MiB, "
                             f"measured {mib} MiB.")
            continue
        ratio = ours / median
        cpu_ratio = f"{ours_cpu / cpu:.2f}" if cpu else "-"
        tables[scale].append(f"| | `{name}` | {median * 1000:.1f} {spread} | {ratio:.2f} "
                             f"| {cpu * 1000:.0f} | {cpu_ratio} | {mib} | |")
        if i == int(goal_peer):
            summary_rows.setdefault(key, (question, goal))
            summary[(key, int(scale))] = (f"{ratio:.2f}" + (" ✗" if ratio > float(goal_ratio) else "")
                                          + (f" (CPU {cpu_ratio})" if cpu else ""))
        if i == int(goal_peer) and ratio > float(goal_ratio):
            unmet.append(f"- **{question}** at {scale} processes: goal {goal}, measured "
                         f"{ratio:.2f}x (`{name}`). {WHY.get(key, '')}")

print("# Benchmarks\n")
print(f"Measured by `benches/compare.sh` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
      f"{os.cpu_count()} CPUs, Linux {platform.release()}; load average (1, 5, 15 min) "
      f"{load_before} before and {load_after} after the run (the load average counts the "
      f"thousands of processes a scale starts and ends; each scale waits until the CPUs are "
      f"under 5% busy over a second, then runs two seconds of untimed listings). Each scale "
      f"runs in its own PID and IPC namespace holding about that many processes (idle "
      f"`sleep`s plus the workloads and the real servers); "
      f"hyperfine median of {runs} runs after 2 warm-ups, all commands of a question in one "
      f"hyperfine run; peak RSS from GNU time. Ratio = procscope's median / the peer's median "
      f"(below 1 means procscope is faster); CPU = mean user + system time of the command, "
      f"and CPU ratio procscope's over the peer's (less distorted by a loaded machine; "
      f"procscope's reader threads make its wall time lower than its CPU time on a quiet one).\n")
print("Workloads (benches/workloads/): `mixed_fds.py` holds 10000 descriptors (30% distinct "
      "files under /usr, 40% pipe ends whose other ends four helper processes hold, 20% unix "
      "socketpair ends, 10% TCP sockets on 127.0.0.1); `conns.py` is a server with 1000 "
      "established loopback connections (clients in a helper); `threads.py` parks N threads "
      "(10000 at the 100 and 2000 scales, 2000 at 10000 to stay within pid_max 32768); "
      "`node-server.js` an idle Node.js server with worker_threads; `servers.sh` the real "
      "servers of the conformance suite on loopback: PostgreSQL with 8 `psql` backends, "
      "nginx (a master, 2 workers, 50 keep-alive clients), redis with 50 clients and a "
      "Node.js cluster (`node-cluster.js`: a primary, 2 workers, one with a worker_thread).\n")
print("## Summary: procscope / the goal's peer\n")
print("Wall-time ratio (the goal), ✗ where it is missed, and in brackets the ratio of CPU time "
      "(user + system).\n")
print("| question | goal | " + " | ".join(f"{s} processes" for s in scales) + " |")
print("|---|---|" + "---:|" * len(scales))
for key, (question, goal) in summary_rows.items():
    cells = " | ".join(summary.get((key, s), "-") for s in scales)
    print(f"| {question} | {goal} | {cells} |")
print()
print("## Goals not met\n")
print("\n".join(unmet) if unmet else "None: every goal was met in this run.")
for scale in scales:
    print(f"\n## {scale} processes (measured: {processes.get(str(scale), '?')})\n")
    print("| question | command | median ms | ratio | CPU ms | CPU ratio | peak RSS MiB | goal |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    print("\n".join(tables[str(scale)]))

if len(scales) > 1:
    print("\n## Growth with the process count\n")
    head = " | ".join(f"{s} ms" for s in scales)
    steps = " | ".join(f"{a}→{b} (×{b / a:.0f} processes)" for a, b in zip(scales, scales[1:]))
    print(f"| command | {head} | {steps} | µs per added process (last step) |")
    print("|---|" + "---:|" * (len(scales) * 2))
    for (key, name), by_scale in medians.items():
        # The thread workload is smaller at the largest scale: not the same question there.
        if len(by_scale) < len(scales) or key in ("threads", "mem"):
            continue
        times = [by_scale[s] for s in scales]
        cells = " | ".join(f"{t * 1000:.1f}" for t in times)
        growth = " | ".join(f"×{b / a:.1f}" for a, b in zip(times, times[1:]))
        per = (times[-1] - times[-2]) / (scales[-1] - scales[-2]) * 1e6
        print(f"| `{name}` | {cells} | {growth} | {per:.1f} |")

kept = kept_sections(previous)
print(f"\n{KEPT}\n")
if kept:
    print(kept)

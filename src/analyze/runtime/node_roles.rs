//! Node.js thread roles from evidence. Each thread gets the set of roles its evidence fits
//! (its wait, stack size, futex address, epoll set, start time, name); the sets are then
//! narrowed by how many threads of a role can exist (one scheduler, one per isolate...).
//! A role is given only when exactly one candidate is left, else `unknown` with the
//! candidates. Pure: no reading.

use std::collections::BTreeSet;

use super::facts::{base_evidence, futex_address};
use super::{RoleAssignment, RoleContext, RoleEvidence, RuntimeInfo, ThreadFacts, ThreadRole};
use crate::analyze::syscalls;
use crate::analyze::waits;
use crate::parse::syscall::SyscallState;

pub const MAIN: ThreadRole = ThreadRole::JsMain;
pub const POOL: ThreadRole = ThreadRole::LibuvPool;
pub const V8: ThreadRole = ThreadRole::V8Worker;
pub const SCHEDULER: ThreadRole = ThreadRole::DelayedTaskScheduler;
pub const SIGNAL: ThreadRole = ThreadRole::SignalInspector;
pub const INSPECTOR: ThreadRole = ThreadRole::InspectorIo;
pub const WORKER: ThreadRole = ThreadRole::WorkerThread;
pub const UNKNOWN: ThreadRole = ThreadRole::Unknown;

/// Every role but the main thread's, which only TID == PID gives.
const OTHERS: &[ThreadRole] = &[POOL, V8, SCHEDULER, SIGNAL, INSPECTOR, WORKER];

/// Thread names Node.js and libuv set (node ≥ 22.17/23.7 for libuv-worker, ≥ 23.8 for the
/// rest, `node-` prefixed from 25.5), cut to 15 bytes by the kernel.
const NAMES: &[(&str, ThreadRole)] = &[
    ("V8Worker", V8),
    ("node-V8Worker", V8),
    ("libuv-worker", POOL),
    ("DelayedTaskSche", SCHEDULER),
    ("SignalInspector", SIGNAL),
    ("InspectorIo", INSPECTOR),
    ("WorkerThread", WORKER),
];

/// Names that say nothing about a worker_thread (inherited or the default).
const PLAIN_NAMES: &[&str] = &[
    "node",
    "nodejs",
    "WorkerThread",
    "MainThread",
    "node-MainThread",
];

/// A stack this close to an expected size (mapping plus guard) has that size.
const STACK_SLACK: u64 = 64 << 10;
/// The SignalInspector runs on 32 KiB (plus guard).
const SMALL_STACK: u64 = 64 << 10;
/// libuv's default stack when RLIMIT_STACK is unlimited.
const UNLIMITED_STACK: u64 = 2 << 20;
/// Node's default `--v8-pool-size`.
const DEFAULT_V8_POOL: usize = 4;

/// What the process-wide settings say about roles.
struct Expectations {
    /// The stack of threads created with libuv's default size (V8 workers, the scheduler,
    /// the inspector thread), when the stack limit was read.
    platform_stack: Option<u64>,
    v8_pool: Option<usize>,
    /// False when the process holds no TCP listener: no inspector thread.
    inspector_possible: bool,
    worker_threads: Option<usize>,
    /// Threads started before this tick were started with the process.
    startup_until: Option<u64>,
    /// How many threads wait on each futex word (address & !7) in heap memory.
    shared_words: std::collections::HashMap<u64, usize>,
}

/// The futex word a thread waits on in heap or anonymous memory (8-byte aligned, so both
/// halves of a glibc condition variable's signal pair count as one).
fn heap_futex_word(thread: &ThreadFacts) -> Option<u64> {
    let address = thread.state.as_ref().and_then(futex_address)?;
    matches!(thread.futex_region, Some("heap" | "anonymous")).then_some(address & !7)
}

fn shared_futex_words(threads: &[ThreadFacts]) -> std::collections::HashMap<u64, usize> {
    let mut words = std::collections::HashMap::new();
    for word in threads.iter().filter_map(heap_futex_word) {
        *words.entry(word).or_insert(0) += 1;
    }
    words
}

/// The role of each thread (same order as `threads`).
pub fn assign(
    info: &RuntimeInfo,
    context: &RoleContext,
    threads: &[ThreadFacts],
) -> Vec<RoleAssignment> {
    let mut expect = expectations(info, context);
    expect.shared_words = shared_futex_words(threads);
    // The scheduler starts before V8's platform workers (which wait together on one
    // condition variable): a thread started after them is not it.
    let platform_started = threads
        .iter()
        .filter(|t| {
            heap_futex_word(t).is_some_and(|w| expect.shared_words.get(&w).is_some_and(|&n| n >= 2))
        })
        .filter_map(|t| t.start_ticks)
        .max();
    if platform_started.is_some() {
        expect.startup_until = platform_started;
    }
    let ranks = creation_ranks(threads);
    let mut judged: Vec<(BTreeSet<ThreadRole>, String)> = threads
        .iter()
        .map(|thread| judge(context.pid, thread, &expect))
        .collect();
    // Listeners in the loops of threads that cannot be the inspector (the main thread's
    // server) are not the inspector's; when every listener is such, there is none.
    let accounted: BTreeSet<u16> = threads
        .iter()
        .zip(&judged)
        .filter(|(_, (candidates, _))| !candidates.contains(&INSPECTOR))
        .flat_map(|(thread, _)| thread.epoll_listener_ports.iter().copied())
        .collect();
    if let Some(ports) = &context.listener_ports {
        expect.inspector_possible = ports.iter().any(|port| !accounted.contains(port));
    }
    narrow(&mut judged, &expect);
    threads
        .iter()
        .zip(judged)
        .zip(ranks)
        .map(|((thread, (candidates, rule)), rank)| assignment(thread, candidates, rule, rank))
        .collect()
}

fn expectations(info: &RuntimeInfo, context: &RoleContext) -> Expectations {
    let mut flags: Vec<String> = context
        .cmdline
        .as_deref()
        .map(node_flags)
        .unwrap_or_default();
    if let Some((_, options)) = info.settings.iter().find(|(k, _)| k == "NODE_OPTIONS") {
        flags.extend(options.split_ascii_whitespace().map(str::to_owned));
    }
    let v8_pool = match flag_value(&flags, "--v8-pool-size") {
        None => Some(DEFAULT_V8_POOL),
        Some(value) => value.parse().ok().filter(|&n: &usize| n > 0),
    };
    // The inspector listens on a TCP port (9229, a flag's, or any given to
    // inspector.open(); process.title may hide the flags): without any listener, none.
    let inspector_possible = true;
    let platform_stack = context.stack_limit.map(|limit| match limit {
        Some(bytes) if bytes >= 16 << 10 => bytes,
        _ => UNLIMITED_STACK,
    });
    Expectations {
        platform_stack,
        v8_pool,
        inspector_possible,
        worker_threads: context.isolates.and_then(|n| n.checked_sub(1)),
        shared_words: Default::default(),
        startup_until: context
            .start_ticks
            .map(|start| start + context.ticks_per_second.max(1)),
    }
}

/// The Node.js options on a command line: the arguments before the script or `-e` code.
fn node_flags(cmdline: &[Vec<u8>]) -> Vec<String> {
    const TAKES_VALUE: &[&str] = &["-r", "--require", "--import", "--loader", "-C"];
    let mut flags = Vec::new();
    let mut args = cmdline.iter().skip(1).map(|a| String::from_utf8_lossy(a));
    while let Some(arg) = args.next() {
        if arg == "-e" || arg == "--eval" || arg == "-p" || arg == "--print" || arg == "--" {
            break;
        }
        if !arg.starts_with('-') {
            break;
        }
        if TAKES_VALUE.contains(&arg.as_ref()) {
            args.next();
        }
        flags.push(arg.into_owned());
    }
    flags
}

/// The value of `--flag=value` or `--flag value`; an empty value for a bare `--flag`.
fn flag_value(flags: &[String], flag: &str) -> Option<String> {
    flags.iter().enumerate().find_map(|(i, arg)| {
        if let Some(value) = arg.strip_prefix(flag).and_then(|r| r.strip_prefix('=')) {
            return Some(value.to_owned());
        }
        (arg == flag).then(|| match flags.get(i + 1) {
            Some(next) if !next.starts_with('-') && flag.ends_with("size") => next.clone(),
            _ => String::new(),
        })
    })
}

/// Creation order by start time (ticks), then TID: TIDs alone mislead once PIDs wrap.
pub(super) fn creation_ranks(threads: &[ThreadFacts]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..threads.len()).collect();
    order.sort_by_key(|&i| (threads[i].start_ticks.unwrap_or(u64::MAX), threads[i].tid));
    let mut ranks = vec![0; threads.len()];
    for (rank, index) in order.into_iter().enumerate() {
        ranks[index] = rank;
    }
    ranks
}

/// The roles one thread's own evidence fits, and that evidence in words.
fn judge(pid: u32, thread: &ThreadFacts, expect: &Expectations) -> (BTreeSet<ThreadRole>, String) {
    if thread.tid == pid {
        return (
            BTreeSet::from([MAIN]),
            "TID equals PID: the thread that runs JavaScript".into(),
        );
    }
    let (mut candidates, mut rule) = by_evidence(thread, expect);
    let late = matches!(
        (thread.start_ticks, expect.startup_until),
        (Some(start), Some(until)) if start > until
    );
    if late && candidates.len() > 1 && candidates.remove(&SCHEDULER) {
        rule.push_str("; not the scheduler: started after the platform threads");
    }
    let name = String::from_utf8_lossy(&thread.name);
    if let Some((_, role)) = NAMES.iter().find(|(known, _)| *known == name) {
        if candidates.contains(role) {
            candidates = BTreeSet::from([*role]);
            rule = format!("thread name {name}, consistent with: {rule}");
        } else {
            candidates.insert(*role);
            rule = format!("thread name {name} contradicts: {rule}");
        }
    }
    (candidates, rule)
}

fn by_evidence(thread: &ThreadFacts, expect: &Expectations) -> (BTreeSet<ThreadRole>, String) {
    let stack = thread.stack.map(|s| s.size_bytes + s.guard_bytes);
    let stack_text = stack.map_or_else(|| "unknown".to_owned(), human);
    let platform = match (stack, expect.platform_stack) {
        (Some(size), Some(expected)) => size.abs_diff(expected) <= STACK_SLACK,
        _ => true,
    };
    let set = |roles: &[ThreadRole]| roles.iter().copied().collect::<BTreeSet<_>>();
    let Some(state) = thread.state else {
        return (set(OTHERS), "not sampled (no ptrace access)".into());
    };
    let SyscallState::InSyscall { nr, .. } = state else {
        let why = if thread.always_running {
            "running in every sample: no registers to judge by"
        } else {
            "running when sampled (try --samples)"
        };
        return (set(OTHERS), why.into());
    };
    match syscalls::name(nr) {
        Some("futex" | "futex_wait" | "futex_waitv") => {
            if stack.is_some_and(|s| s <= SMALL_STACK) {
                return (
                    set(&[SIGNAL]),
                    format!("futex wait on a {stack_text} stack"),
                );
            }
            match thread.futex_region {
                Some("static") => (
                    set(&[POOL]),
                    format!("futex in static data (libuv's work queue), {stack_text} stack"),
                ),
                Some("heap" | "anonymous") => {
                    let sharing = heap_futex_word(thread)
                        .and_then(|word| expect.shared_words.get(&word))
                        .copied()
                        .unwrap_or(0);
                    let pool_sized = expect.v8_pool.is_none_or(|n| sharing <= n);
                    if platform && sharing >= 2 && pool_sized {
                        let text = format!(
                            "futex in heap memory shared by {sharing} threads (V8's task queue), {stack_text} stack"
                        );
                        return (set(&[V8]), text);
                    }
                    let mut roles = set(&[WORKER]);
                    if platform {
                        roles.insert(V8);
                    }
                    let text = format!(
                        "futex in heap memory (V8's task queue, or Atomics.wait), {stack_text} stack"
                    );
                    (roles, text)
                }
                _ => (set(&[]), "futex address not in a known mapping".into()),
            }
        }
        Some("epoll_wait" | "epoll_pwait" | "epoll_pwait2") => {
            epoll_roles(thread, expect, platform, &stack_text)
        }
        // V8's platform workers sleep too (a backoff inside a task), on the same stack size
        // as libuv's pool: a sleep alone does not tell them apart.
        Some("clock_nanosleep" | "nanosleep") if platform => (
            set(&[POOL, V8, WORKER]),
            format!(
                "sleeping in {} (a pool job, or a V8 worker's backoff), {stack_text} stack",
                waits::describe(&state, None).text
            ),
        ),
        Some(_) => (
            set(&[POOL, WORKER]),
            format!(
                "blocked in {} (work or synchronous I/O)",
                waits::describe(&state, None).text
            ),
        ),
        None => (set(&[POOL, WORKER]), format!("blocked in system call {nr}")),
    }
}

fn epoll_roles(
    thread: &ThreadFacts,
    expect: &Expectations,
    platform: bool,
    stack_text: &str,
) -> (BTreeSet<ThreadRole>, String) {
    let mut roles = BTreeSet::from([WORKER]);
    let mut notes = vec![format!("own event loop (epoll) on a {stack_text} stack")];
    if platform && !thread.epoll_listener_ports.is_empty() {
        roles.insert(INSPECTOR);
        notes.push(format!(
            "listens on TCP port {:?} (the inspector's, or a server's)",
            thread.epoll_listener_ports
        ));
    }
    let at_startup = match (thread.start_ticks, expect.startup_until) {
        (Some(start), Some(until)) => start <= until,
        _ => true,
    };
    if platform && thread.epoll_listener_ports.is_empty() && at_startup {
        roles.insert(SCHEDULER);
        notes.push("no listener, started with the process".into());
    }
    (roles, notes.join("; "))
}

/// Removes a role from every undecided thread once as many threads as can have it are
/// decided: one scheduler, one inspector thread, one per extra isolate, the V8 pool size.
fn narrow(judged: &mut [(BTreeSet<ThreadRole>, String)], expect: &Expectations) {
    let inspectors = usize::from(expect.inspector_possible);
    let mut quotas: Vec<(ThreadRole, usize)> = vec![
        (MAIN, 1),
        (SCHEDULER, 1),
        (SIGNAL, 1),
        (INSPECTOR, inspectors),
    ];
    if let Some(n) = expect.worker_threads {
        quotas.push((WORKER, n));
    }
    if let Some(n) = expect.v8_pool {
        quotas.push((V8, n));
    }
    loop {
        let mut changed = false;
        for &(role, quota) in &quotas {
            let decided = judged
                .iter()
                .filter(|(c, _)| c.len() == 1 && c.contains(&role))
                .count();
            if decided < quota {
                continue;
            }
            for (candidates, rule) in judged.iter_mut() {
                if candidates.len() > 1 && candidates.remove(&role) {
                    rule.push_str(&format!("; not {role}: all {quota} decided"));
                    changed = true;
                }
            }
        }
        // Exactly one scheduler exists, and every live isolate but the main one has its
        // worker_thread: when exactly that many threads can be one, they all are.
        let mut exact = vec![(SCHEDULER, 1)];
        if let Some(n) = expect.worker_threads {
            exact.push((WORKER, n));
        }
        for (role, required) in exact {
            changed |= must_be(judged, role, required);
        }
        if !changed {
            break;
        }
    }
}

/// Gives `role` to every thread that could have it when exactly `required` can.
fn must_be(
    judged: &mut [(BTreeSet<ThreadRole>, String)],
    role: ThreadRole,
    required: usize,
) -> bool {
    let able: Vec<usize> = (0..judged.len())
        .filter(|&i| judged[i].0.contains(&role))
        .collect();
    if required == 0 || able.len() != required {
        return false;
    }
    let mut changed = false;
    for i in able {
        if judged[i].0.len() > 1 {
            judged[i].0 = BTreeSet::from([role]);
            judged[i].1.push_str(&format!(
                "; the only thread that can be the {required} {role}(s) that must exist"
            ));
            changed = true;
        }
    }
    changed
}

fn assignment(
    thread: &ThreadFacts,
    candidates: BTreeSet<ThreadRole>,
    rule: String,
    rank: usize,
) -> RoleAssignment {
    let name = String::from_utf8_lossy(&thread.name).into_owned();
    let futex = thread.state.as_ref().and_then(futex_address);
    let role = if candidates.len() == 1 {
        *candidates.iter().next().unwrap_or(&UNKNOWN)
    } else {
        UNKNOWN
    };
    let rule = match candidates.len() {
        1 => rule,
        0 => format!("no role's evidence fits: {rule}"),
        _ => format!(
            "candidates {}: {rule}",
            candidates
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let detail = (role == WORKER && !PLAIN_NAMES.contains(&name.as_str())).then(|| name.clone());
    RoleAssignment {
        role,
        detail,
        evidence: RoleEvidence {
            futex_address: futex,
            futex_region: futex.and(thread.futex_region).map(str::to_owned),
            epoll_targets: thread.epoll_targets.clone(),
            ..base_evidence(thread, rule, rank, candidates.into_iter().collect())
        },
    }
}

fn human(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{} KiB", bytes >> 10)
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
#[path = "node_roles_tests.rs"]
mod tests;

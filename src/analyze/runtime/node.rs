//! Node.js: recognised by its executable (it exports the N-API registration symbols, or
//! needs libnode that does), versioned from the binary, cluster roles from the environment,
//! and each thread's role from evidence that works without names: what it is blocked in,
//! where the futex it waits on lives, its stack size, its epoll set, its creation order.

use std::collections::BTreeMap;

use super::{
    ClusterRole, ProcessFacts, RoleAssignment, RoleEvidence, Runtime, RuntimeInfo, ThreadFacts,
};
use crate::analyze::syscalls;
use crate::analyze::waits;
use crate::parse::syscall::SyscallState;

/// Symbols only a Node.js binary (or libnode) exports.
pub const SYMBOLS: &[&str] = &["napi_module_register", "node_module_register"];
/// The shared library that distribution builds of Node.js link.
pub const LIBRARY: &str = "libnode.so";
/// The marker before the version in the binary's read-only data.
pub const VERSION_MARKER: &[u8] = b"node.js/v";

/// Environment variables that change Node.js's threads or cluster.
const SETTINGS: &[&str] = &[
    "UV_THREADPOOL_SIZE",
    "NODE_OPTIONS",
    "NODE_CLUSTER_SCHED_POLICY",
];

/// Thread names Node.js and libuv set (node ≥ 22.17/23.7 for libuv-worker, ≥ 23.8 for the
/// rest, `node-` prefixed from 25.5), cut to 15 bytes by the kernel.
const NAMES: &[(&str, &str)] = &[
    ("V8Worker", "v8-worker"),
    ("node-V8Worker", "v8-worker"),
    ("libuv-worker", "libuv-pool"),
    ("DelayedTaskSche", "delayed-task-scheduler"),
    ("SignalInspector", "signal-inspector"),
    ("InspectorIo", "inspector-io"),
    ("WorkerThread", "worker-thread"),
];

/// worker_threads run on a 4 MiB stack (`kStackSize`), libuv's pool on 8 MiB, the
/// SignalInspector on 32 KiB; sizes include the guard page.
const WORKER_STACK: std::ops::RangeInclusive<u64> = (4 << 20) - (64 << 10)..=(4 << 20) + (64 << 10);
const SMALL_STACK: u64 = 64 << 10;

/// The Node.js analyzer.
pub struct Node;

impl Runtime for Node {
    fn detect(&self, process: &ProcessFacts) -> Option<RuntimeInfo> {
        let binary = process.binary?;
        if binary.exports.is_empty() {
            return None;
        }
        let env = |key: &str| {
            process
                .environ?
                .iter()
                .find(|(k, _)| k == key.as_bytes())
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        };
        let cluster = match (
            env("NODE_UNIQUE_ID").and_then(|id| id.parse().ok()),
            env("NODE_CHANNEL_FD"),
        ) {
            (Some(id), _) => Some(ClusterRole::Worker {
                id,
                primary: process.ppid,
            }),
            (None, Some(_)) => Some(ClusterRole::ForkedChild {
                parent: process.ppid,
            }),
            (None, None) => None,
        };
        let settings = SETTINGS
            .iter()
            .filter_map(|key| Some(((*key).to_owned(), env(key)?)))
            .collect();
        Some(RuntimeInfo {
            runtime: "node".into(),
            version: binary.version.clone(),
            cluster,
            settings,
        })
    }

    fn thread_roles(&self, pid: u32, threads: &[ThreadFacts]) -> Vec<RoleAssignment> {
        threads
            .iter()
            .enumerate()
            .map(|(rank, thread)| classify(pid, rank, thread))
            .collect()
    }

    fn summary(&self, info: &RuntimeInfo, roles: &[RoleAssignment]) -> String {
        let count = |role: &str| roles.iter().filter(|r| r.role == role).count();
        let pool_setting = match info
            .settings
            .iter()
            .find(|(k, _)| k == "UV_THREADPOOL_SIZE")
        {
            Some((_, size)) => format!("UV_THREADPOOL_SIZE={size}"),
            None => "UV_THREADPOOL_SIZE unset: default 4".into(),
        };
        let pool = match count("libuv-pool") {
            0 => format!("libuv pool not started yet ({pool_setting})"),
            n => format!("{n} libuv pool thread{} ({pool_setting})", plural(n)),
        };
        let mut parts = vec![
            format!("{} JavaScript main thread", count("js-main")),
            pool,
            format!(
                "{} V8 worker{}",
                count("v8-worker"),
                plural(count("v8-worker"))
            ),
            format!(
                "{} worker_thread{}",
                count("worker-thread"),
                plural(count("worker-thread"))
            ),
            format!(
                "inspector {}",
                if count("inspector-io") > 0 {
                    "on"
                } else {
                    "off"
                }
            ),
        ];
        let unknown = count("unknown");
        if unknown > 0 {
            parts.push(format!("{unknown} unknown"));
        }
        let version = info
            .version
            .as_deref()
            .map(|v| format!(" v{v}"))
            .unwrap_or_default();
        format!("Node.js{version} — {}", parts.join(", "))
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The role of one thread, by the first rule that applies.
fn classify(pid: u32, rank: usize, thread: &ThreadFacts) -> RoleAssignment {
    let name = String::from_utf8_lossy(&thread.name).into_owned();
    let futex = match thread.state {
        Some(SyscallState::InSyscall { nr, args, .. }) if is_futex(nr) => Some(args[0]),
        _ => None,
    };
    let mut evidence = RoleEvidence {
        rule: String::new(),
        name: Some(name.clone()),
        stack_bytes: thread.stack.map(|s| s.size_bytes + s.guard_bytes),
        wait: thread.state.map(|state| waits::describe(&state, None).text),
        futex_address: futex,
        futex_region: futex.and(thread.futex_region).map(str::to_owned),
        epoll_targets: thread.epoll_targets.clone(),
        creation_rank: rank,
    };
    let (role, rule) = decide(
        pid,
        rank,
        thread,
        &name,
        futex.is_some(),
        evidence.stack_bytes,
    );
    evidence.rule = rule;
    let detail = (role == "worker-thread"
        && ![
            "node",
            "nodejs",
            "WorkerThread",
            "MainThread",
            "node-MainThread",
        ]
        .contains(&name.as_str()))
    .then_some(name);
    RoleAssignment {
        role: role.to_owned(),
        detail,
        evidence,
    }
}

fn decide(
    pid: u32,
    rank: usize,
    thread: &ThreadFacts,
    name: &str,
    in_futex: bool,
    stack: Option<u64>,
) -> (&'static str, String) {
    if thread.tid == pid {
        return (
            "js-main",
            "TID equals PID: the thread that runs JavaScript".into(),
        );
    }
    if let Some((_, role)) = NAMES.iter().find(|(known, _)| *known == name) {
        return (role, format!("thread name {name}"));
    }
    let in_epoll = matches!(thread.state, Some(SyscallState::InSyscall { nr, .. }) if is_epoll(nr));
    let stack_text = stack.map(human).unwrap_or_else(|| "unknown".into());
    if in_futex {
        if stack.is_some_and(|s| s <= SMALL_STACK) {
            return (
                "signal-inspector",
                format!("futex wait on a {stack_text} stack"),
            );
        }
        return match thread.futex_region {
            Some("static") => (
                "libuv-pool",
                format!("futex in static data (libuv's work queue), {stack_text} stack"),
            ),
            Some("heap" | "anonymous") => (
                "v8-worker",
                format!("futex in heap memory (V8's task queue), {stack_text} stack"),
            ),
            _ => ("unknown", "futex address not in a known mapping".into()),
        };
    }
    if in_epoll {
        if stack.is_some_and(|s| WORKER_STACK.contains(&s)) {
            return (
                "worker-thread",
                format!("own event loop (epoll) on a {stack_text} stack"),
            );
        }
        if thread.epoll_has_listener {
            return (
                "inspector-io",
                "epoll set holds a listening socket (the inspector port)".into(),
            );
        }
        if rank == 1 {
            return (
                "delayed-task-scheduler",
                "first thread after main, waiting in epoll".into(),
            );
        }
        return (
            "unknown",
            "waits in epoll but matches no known thread".into(),
        );
    }
    match thread.state {
        Some(SyscallState::Running) => ("unknown", "running when sampled (try --samples)".into()),
        None => ("unknown", "not sampled (no ptrace access)".into()),
        _ => ("unknown", "blocked in a call no known thread uses".into()),
    }
}

fn is_futex(nr: u64) -> bool {
    matches!(
        syscalls::name(nr),
        Some("futex" | "futex_wait" | "futex_waitv")
    )
}

fn is_epoll(nr: u64) -> bool {
    matches!(
        syscalls::name(nr),
        Some("epoll_wait" | "epoll_pwait" | "epoll_pwait2")
    )
}

fn human(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{} KiB", bytes >> 10)
    }
}

/// Cluster primaries: each process whose children include cluster workers, with them.
pub fn primaries(workers: &[(u32, u32)]) -> BTreeMap<u32, Vec<u32>> {
    let mut primaries: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for &(worker, primary) in workers {
        primaries.entry(primary).or_default().push(worker);
    }
    for list in primaries.values_mut() {
        list.sort_unstable();
    }
    primaries
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::analyze::stacks::StackMapping;
    use crate::collect::binary::BinaryFacts;

    fn stack(size: u64) -> Option<StackMapping> {
        Some(StackMapping {
            start: 0,
            end: size - 4096,
            size_bytes: size - 4096,
            guard_bytes: 4096,
            main: false,
        })
    }

    fn thread(
        tid: u32,
        nr: u64,
        arg0: u64,
        stack_size: u64,
        region: Option<&'static str>,
    ) -> ThreadFacts {
        ThreadFacts {
            tid,
            name: b"node".to_vec(),
            state: Some(SyscallState::InSyscall {
                nr,
                args: [arg0, 0, 0, 0, 0, 0],
                sp: 1,
                pc: 2,
            }),
            stack: stack(stack_size),
            futex_region: region,
            epoll_targets: None,
            epoll_has_listener: false,
        }
    }

    #[test]
    fn node_20_threads_without_names() {
        // The shape of the captured node 20 process: main, DelayedTaskScheduler, 4 V8
        // workers, SignalInspector, 2 worker_threads, 4 libuv pool threads.
        let mib8 = 8 << 20;
        let mut threads = vec![
            thread(100, 281, 14, 132 << 10, None),
            thread(102, 281, 9, mib8, None),
        ];
        threads.extend((103..107).map(|tid| thread(tid, 202, 0x6ad0854, mib8, Some("heap"))));
        threads.push(thread(107, 202, 0x5660460, 36 << 10, Some("static")));
        threads.extend((108..110).map(|tid| thread(tid, 281, 18, 4 << 20, None)));
        threads.extend((110..114).map(|tid| thread(tid, 202, 0x566f9cc, mib8, Some("static"))));
        let roles: Vec<String> = Node
            .thread_roles(100, &threads)
            .into_iter()
            .map(|r| r.role)
            .collect();
        let expected = [
            "js-main",
            "delayed-task-scheduler",
            "v8-worker",
            "v8-worker",
            "v8-worker",
            "v8-worker",
            "signal-inspector",
            "worker-thread",
            "worker-thread",
            "libuv-pool",
            "libuv-pool",
            "libuv-pool",
            "libuv-pool",
        ];
        assert_eq!(roles, expected);
    }

    #[test]
    fn names_from_newer_versions() {
        let named = |tid: u32, name: &str| {
            let mut t = thread(tid, 202, 0, 8 << 20, None);
            t.name = name.as_bytes().to_vec();
            t
        };
        let threads = vec![
            named(1, "node-MainThread"),
            named(2, "DelayedTaskSche"),
            named(3, "node-V8Worker"),
            named(4, "libuv-worker"),
            named(5, "SignalInspector"),
            named(6, "InspectorIo"),
            named(7, "WorkerThread"),
        ];
        let roles: Vec<String> = Node
            .thread_roles(1, &threads)
            .into_iter()
            .map(|r| r.role)
            .collect();
        assert_eq!(
            roles,
            [
                "js-main",
                "delayed-task-scheduler",
                "v8-worker",
                "libuv-pool",
                "signal-inspector",
                "inspector-io",
                "worker-thread"
            ]
        );
    }

    #[test]
    fn named_worker_thread_keeps_its_name_and_inspector_is_found_by_its_listener() {
        let mut worker = thread(9, 281, 20, 4 << 20, None);
        worker.name = b"bg-worker".to_vec();
        let mut inspector = thread(10, 281, 30, 8 << 20, None);
        inspector.epoll_has_listener = true;
        let roles = Node.thread_roles(1, &[thread(1, 281, 14, 132 << 10, None), worker, inspector]);
        assert_eq!(roles[1].role, "worker-thread");
        assert_eq!(roles[1].detail.as_deref(), Some("bg-worker"));
        assert_eq!(roles[2].role, "inspector-io");
    }

    #[test]
    fn running_threads_stay_unknown() {
        let mut running = thread(5, 0, 0, 8 << 20, None);
        running.state = Some(SyscallState::Running);
        let roles = Node.thread_roles(1, &[thread(1, 281, 14, 1 << 17, None), running]);
        assert_eq!(roles[1].role, "unknown");
        assert!(roles[1].evidence.rule.contains("running"));
    }

    #[test]
    fn detection_and_cluster_roles() {
        let binary = BinaryFacts {
            exports: vec!["napi_module_register".into()],
            needs: vec![],
            version: Some("20.20.2".into()),
        };
        let env = vec![
            (b"NODE_UNIQUE_ID".to_vec(), b"2".to_vec()),
            (b"NODE_CHANNEL_FD".to_vec(), b"3".to_vec()),
        ];
        let facts = ProcessFacts {
            pid: 10,
            ppid: 5,
            binary: Some(&binary),
            environ: Some(&env),
        };
        let info = Node.detect(&facts).unwrap();
        assert_eq!(
            info.cluster,
            Some(ClusterRole::Worker { id: 2, primary: 5 })
        );
        assert_eq!(info.label(), "node 20.20.2 cluster worker 2");
        let plain = BinaryFacts::default();
        assert!(
            Node.detect(&ProcessFacts {
                pid: 1,
                ppid: 0,
                binary: Some(&plain),
                environ: None
            })
            .is_none()
        );
        assert_eq!(
            primaries(&[(11, 5), (10, 5)]),
            BTreeMap::from([(5, vec![10, 11])])
        );
    }

    #[test]
    fn summary_line() {
        let info = RuntimeInfo {
            runtime: "node".into(),
            version: Some("20.20.2".into()),
            cluster: None,
            settings: vec![],
        };
        let roles: Vec<RoleAssignment> = ["js-main", "v8-worker", "v8-worker", "libuv-pool"]
            .iter()
            .map(|r| RoleAssignment {
                role: (*r).into(),
                detail: None,
                evidence: RoleEvidence::default(),
            })
            .collect();
        assert_eq!(
            Node.summary(&info, &roles),
            "Node.js v20.20.2 — 1 JavaScript main thread, 1 libuv pool thread (UV_THREADPOOL_SIZE unset: default 4), 2 V8 workers, 0 worker_threads, inspector off"
        );
    }
}

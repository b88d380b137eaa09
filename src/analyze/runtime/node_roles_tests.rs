//! Unit tests of the Node.js role rules, on thread shapes captured from real processes.

use super::*;
use crate::model::code::StackMapping;

const MIB: u64 = 1 << 20;

fn thread(tid: u32, nr: u64, arg0: u64, stack: u64, region: Option<&'static str>) -> ThreadFacts {
    ThreadFacts {
        tid,
        name: b"node".to_vec(),
        state: Some(SyscallState::InSyscall {
            nr,
            args: [arg0, 0, 0, 0, 0, 0],
            sp: 1,
            pc: 2,
        }),
        stack: Some(StackMapping {
            start: 0,
            end: stack - 4096,
            size_bytes: stack - 4096,
            guard_bytes: 4096,
            main: false,
        }),
        futex_region: region,
        epoll_targets: None,
        epoll_listener_ports: vec![],
        start_ticks: Some(1000 + u64::from(tid % 100)),
        always_running: false,
    }
}

fn context(pid: u32, isolates: usize) -> RoleContext {
    RoleContext {
        pid,
        start_ticks: Some(1000),
        ticks_per_second: 100,
        stack_limit: Some(Some(8 * MIB)),
        isolates: Some(isolates),
        cmdline: Some(vec![b"node".to_vec(), b"app.js".to_vec()]),
        listener_ports: Some(vec![41234]),
        ..RoleContext::default()
    }
}

fn info() -> RuntimeInfo {
    RuntimeInfo {
        runtime: "node".into(),
        version: None,
        cluster: None,
        settings: vec![],
    }
}

fn roles(context: &RoleContext, threads: &[ThreadFacts]) -> Vec<ThreadRole> {
    assign(&info(), context, threads)
        .into_iter()
        .map(|r| r.role)
        .collect()
}

/// main, scheduler, 4 V8 workers, SignalInspector: node 20's idle process.
fn base() -> Vec<ThreadFacts> {
    let mut server = thread(100, 281, 14, 132 << 10, None);
    server.epoll_listener_ports = vec![41234];
    let mut threads = vec![server, thread(102, 281, 9, 8 * MIB, None)];
    threads.extend((103..107).map(|tid| thread(tid, 202, 0x6ad0854, 8 * MIB, Some("heap"))));
    threads.push(thread(107, 202, 0x5660460, 36 << 10, Some("static")));
    threads
}

const BASE: [ThreadRole; 7] = [MAIN, SCHEDULER, V8, V8, V8, V8, SIGNAL];

#[test]
fn node_20_threads_without_names() {
    let mut threads = base();
    threads.extend((108..110).map(|tid| thread(tid, 281, 18, 4 * MIB, None)));
    threads.extend((110..114).map(|tid| thread(tid, 202, 0x566f9cc, 8 * MIB, Some("static"))));
    let mut expected = BASE.to_vec();
    expected.extend([WORKER, WORKER, POOL, POOL, POOL, POOL]);
    assert_eq!(roles(&context(100, 3), &threads), expected);
}

#[test]
fn worker_in_atomics_wait_is_not_a_v8_worker() {
    let mut threads = base();
    threads.push(thread(
        108,
        202,
        0x7f00_1234_0000,
        4 * MIB,
        Some("anonymous"),
    ));
    let mut expected = BASE.to_vec();
    expected.push(WORKER);
    assert_eq!(roles(&context(100, 2), &threads), expected);
    // Without an isolate count, V8 workers are still known by their shared condition
    // variable; a lone V8-sized thread in a heap futex stays undecided.
    let mut unsure = context(100, 2);
    unsure.isolates = None;
    assert_eq!(roles(&unsure, &threads), expected);
    let mut lone = base();
    lone.truncate(3);
    lone.push(thread(
        108,
        202,
        0x7f00_1234_0000,
        8 * MIB,
        Some("anonymous"),
    ));
    let got = roles(&unsure, &lone);
    assert_eq!((got[2], got[3]), (UNKNOWN, UNKNOWN), "{got:?}");
}

#[test]
fn worker_with_an_http_server_on_8_mib_is_not_the_inspector() {
    let mut threads = base();
    let mut server = thread(108, 281, 20, 8 * MIB, None);
    server.epoll_listener_ports = vec![41235];
    server.start_ticks = Some(1500);
    threads.push(server);
    let mut serving = context(100, 2);
    serving.listener_ports = Some(vec![41234, 41235]);
    let assigned = assign(&info(), &serving, &threads);
    let got: Vec<ThreadRole> = assigned.iter().map(|r| r.role).collect();
    let mut expected = BASE.to_vec();
    expected.push(WORKER);
    assert_eq!(got, expected);
    // On the inspector's port, with isolates uncounted, it could be either: unknown,
    // with both candidates.
    threads[7].epoll_listener_ports = vec![9229];
    let mut inspecting = context(100, 2);
    inspecting.listener_ports = Some(vec![9229]);
    assert_eq!(
        assign(&info(), &inspecting, &threads)[7].role,
        WORKER,
        "the second isolate's thread"
    );
    inspecting.isolates = None;
    let assigned = assign(&info(), &inspecting, &threads);
    assert_eq!(assigned[7].role, UNKNOWN);
    assert_eq!(assigned[7].evidence.candidates, [INSPECTOR, WORKER]);
    assert!(assigned[7].evidence.rule.starts_with("candidates"));
}

#[test]
fn late_worker_after_pid_wrap_is_not_the_scheduler() {
    let mut threads = base();
    // Created late (PIDs wrapped): the lowest TID but the newest start time.
    let mut late = thread(7, 281, 20, 4 * MIB, None);
    late.start_ticks = Some(1900);
    threads.insert(0, late);
    let got = roles(&context(100, 2), &threads);
    assert_eq!(got[0], WORKER);
    assert_eq!(got[1..], BASE);
    // Even on 8 MiB, its late start rules out the scheduler.
    threads[0].stack = threads[2].stack;
    let got = roles(&context(100, 2), &threads);
    assert_eq!(got[0], WORKER);
    assert_eq!(got[2], SCHEDULER);
}

#[test]
fn busy_pool_is_named_only_when_every_other_role_is_accounted_for() {
    let mut threads = base();
    for tid in 110..118 {
        let mut busy = thread(tid, 0, 0, 8 * MIB, None);
        busy.state = Some(SyscallState::Running);
        busy.stack = None;
        busy.always_running = true;
        threads.push(busy);
    }
    let got = roles(&context(100, 1), &threads);
    assert!(got[7..].iter().all(|&r| r == POOL), "{got:?}");
    // A second isolate that no blocked thread accounts for: could be a busy worker.
    let got = roles(&context(100, 2), &threads);
    assert!(got[7..].iter().all(|&r| r == UNKNOWN), "{got:?}");
}

#[test]
fn names_decide_only_when_the_evidence_agrees() {
    let named = |tid: u32, name: &str| {
        let mut t = thread(tid, 0, 0, 8 * MIB, None);
        t.state = Some(SyscallState::Running);
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
    let mut inspecting = context(1, 2);
    inspecting.listener_ports = Some(vec![9229]);
    assert_eq!(
        roles(&inspecting, &threads),
        [MAIN, SCHEDULER, V8, POOL, SIGNAL, INSPECTOR, WORKER]
    );
    // A worker_thread named `V8Worker` by its user, on a 4 MiB stack.
    let mut fake = thread(8, 202, 0x7f00_0000_0000, 4 * MIB, Some("anonymous"));
    fake.name = b"V8Worker".to_vec();
    let assigned = assign(&info(), &context(1, 2), std::slice::from_ref(&fake));
    assert_eq!(
        assigned[0].role, WORKER,
        "the one thread for the second isolate"
    );
    let mut unsure = context(1, 2);
    unsure.isolates = None;
    let assigned = assign(&info(), &unsure, &[fake]);
    assert_eq!(assigned[0].role, UNKNOWN);
    assert_eq!(assigned[0].evidence.candidates, [V8, WORKER]);
}

#[test]
fn flags_from_the_command_line() {
    let args = |list: &[&str]| {
        list.iter()
            .map(|a| a.as_bytes().to_vec())
            .collect::<Vec<_>>()
    };
    let flags = node_flags(&args(&[
        "node",
        "--v8-pool-size=2",
        "--inspect=127.0.0.1:9333",
        "app.js",
        "--v8-pool-size=9",
    ]));
    assert_eq!(flag_value(&flags, "--v8-pool-size").as_deref(), Some("2"));
    assert_eq!(
        flag_value(&flags, "--inspect").as_deref(),
        Some("127.0.0.1:9333")
    );
    let flags = node_flags(&args(&["node", "-r", "x.js", "-e", "--inspect"]));
    assert_eq!(flags, ["-r"]);
}

/// Node 24 under load: a V8 platform worker caught in `clock_nanosleep` (a backoff inside a
/// task) was named a libuv pool thread; a sleep on the platform's stack size tells neither.
#[test]
fn a_sleeping_platform_thread_is_not_named_a_pool_thread() {
    let mut threads = base();
    threads[2] = thread(103, 230, 0, 8 * MIB, None);
    let got = roles(&context(100, 1), &threads);
    assert_ne!(got[2], POOL, "{got:?}");
    assert_eq!(got[..2], [MAIN, SCHEDULER]);
}

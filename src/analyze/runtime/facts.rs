//! The facts roles are judged by, derived from what `collect::thread_facts` read and the
//! process's memory map: each thread's stack mapping, where a futex it waits on lives, its
//! epoll set; the process's context. Runtime-neutral: a runtime derives its own counts
//! (Node.js's isolates) from the context in its `thread_roles`. Pure: no reading.

use super::{RoleContext, RoleEvidence, ThreadFacts, ThreadRole};
use crate::analyze::memory::address_region;
use crate::analyze::stacks::stack_of;
use crate::analyze::syscalls;
use crate::analyze::waits;
use crate::collect::thread_facts::RoleReads;
use crate::parse::maps::Mapping;
use crate::parse::syscall::SyscallState;

/// The epoll descriptor a thread in `epoll_wait`/`epoll_pwait`/`epoll_pwait2` waits on: the
/// parameter `collect::thread_facts::read` needs.
pub fn epoll_fd(state: &SyscallState) -> Option<i32> {
    first_argument(state, &["epoll_wait", "epoll_pwait", "epoll_pwait2"])
        .and_then(|fd| i32::try_from(fd).ok())
}

/// The address a thread in a futex call waits on.
pub fn futex_address(state: &SyscallState) -> Option<u64> {
    first_argument(state, &["futex", "futex_wait", "futex_waitv"])
}

/// The first argument of the system call a thread is blocked in, when it is one of `calls`.
fn first_argument(state: &SyscallState, calls: &[&str]) -> Option<u64> {
    match state {
        SyscallState::InSyscall { nr, args, .. }
            if syscalls::name(*nr).is_some_and(|name| calls.contains(&name)) =>
        {
            Some(args[0])
        }
        _ => None,
    }
}

/// The evidence every runtime records for a thread: its name, stack size, wait, creation
/// rank and start, and the roles that fit; a runtime adds what else it judged by.
pub fn base_evidence(
    thread: &ThreadFacts,
    rule: String,
    rank: usize,
    candidates: Vec<ThreadRole>,
) -> RoleEvidence {
    RoleEvidence {
        rule,
        name: Some(String::from_utf8_lossy(&thread.name).into_owned()),
        stack_bytes: thread.stack.map(|s| s.size_bytes + s.guard_bytes),
        wait: thread.state.map(|state| waits::describe(&state, None).text),
        creation_rank: rank,
        start_ticks: thread.start_ticks,
        candidates,
        ..RoleEvidence::default()
    }
}

/// The facts of each thread read, and of its process.
pub fn role_facts(reads: &RoleReads, maps: &[Mapping]) -> (Vec<ThreadFacts>, RoleContext) {
    let facts = reads
        .threads
        .iter()
        .map(|thread| {
            let state = thread.observed.state;
            let sp = state.and_then(|s| s.registers()).map(|(sp, _)| sp);
            ThreadFacts {
                tid: thread.observed.tid,
                name: thread.observed.name.clone(),
                state,
                stack: sp.and_then(|sp| stack_of(maps, sp)),
                futex_region: state
                    .as_ref()
                    .and_then(futex_address)
                    .and_then(|address| address_region(maps, address)),
                epoll_targets: thread.epoll_targets.clone(),
                epoll_listener_ports: thread.epoll_listener_ports.clone(),
                start_ticks: thread.observed.start_ticks,
                always_running: thread.observed.always_running,
            }
        })
        .collect();
    let context = RoleContext {
        pid: reads.pid,
        start_ticks: reads.start_ticks,
        ticks_per_second: reads.ticks_per_second,
        stack_limit: reads.stack_limit,
        isolates: None,
        cmdline: reads.cmdline.clone(),
        listener_ports: Some(reads.listener_ports.clone()),
        exe: reads.exe.clone(),
        maps: maps.to_vec(),
    };
    (facts, context)
}

//! The facts roles are judged by, derived from what `collect::thread_facts` read and the
//! process's memory map: each thread's stack mapping, where a futex it waits on lives, its
//! epoll set; the process's context. Runtime-neutral: a runtime derives its own counts
//! (Node.js's isolates) from the context in its `thread_roles`. Pure: no reading.

use super::{RoleContext, ThreadFacts};
use crate::analyze::memory::address_region;
use crate::analyze::stacks::stack_of;
use crate::analyze::syscalls;
use crate::collect::thread_facts::RoleReads;
use crate::parse::maps::Mapping;
use crate::parse::syscall::SyscallState;

/// The epoll descriptor a thread in `epoll_wait`/`epoll_pwait`/`epoll_pwait2` waits on: the
/// parameter `collect::thread_facts::read` needs.
pub fn epoll_fd(state: &SyscallState) -> Option<i32> {
    match state {
        SyscallState::InSyscall { nr, args, .. }
            if matches!(
                syscalls::name(*nr),
                Some("epoll_wait" | "epoll_pwait" | "epoll_pwait2")
            ) =>
        {
            i32::try_from(args[0]).ok()
        }
        _ => None,
    }
}

/// The address a thread in a futex call waits on.
fn futex_address(state: &SyscallState) -> Option<u64> {
    match state {
        SyscallState::InSyscall { nr, args, .. }
            if matches!(
                syscalls::name(*nr),
                Some("futex" | "futex_wait" | "futex_waitv")
            ) =>
        {
            Some(args[0])
        }
        _ => None,
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

//! The reads behind thread roles: for each observed thread its stack mapping, where a futex
//! it waits on lives and the epoll set it waits on (with listening ports); for the process
//! its stack limit, V8 isolates, command line and listening ports. Judging is in
//! `analyze::runtime`.

use std::collections::{HashMap, HashSet};

use crate::analyze::memory::address_region;
use crate::analyze::runtime::{RoleContext, ThreadFacts};
use crate::analyze::stacks::stack_of;
use crate::analyze::syscalls;
use crate::collect::fds::{epoll_targets, socket_inode};
use crate::collect::net::SocketTables;
use crate::collect::{ProcessDir, ProcessSample, SystemInfo};
use crate::parse::limits::parse_limits;
use crate::parse::maps::Mapping;
use crate::parse::syscall::SyscallState;

/// One thread as observed: what the role analysis starts from.
#[derive(Debug, Clone)]
pub struct Observed {
    pub tid: u32,
    pub name: Vec<u8>,
    /// The most telling state seen (a blocked one when there was any).
    pub state: Option<SyscallState>,
    pub start_ticks: Option<u64>,
    /// Running in every sample.
    pub always_running: bool,
}

impl Observed {
    /// Each thread as one sample caught it: its name, what it was in and when it started.
    pub fn of_samples(threads: &[ProcessSample]) -> Vec<Observed> {
        threads
            .iter()
            .map(|thread| Observed {
                tid: thread.tid,
                name: thread.name().unwrap_or_default(),
                state: thread.syscall().ok(),
                start_ticks: thread.stat().ok().map(|s| s.starttime_ticks),
                always_running: false,
            })
            .collect()
    }
}

/// The listening TCP sockets of a process: inode → local port.
fn listeners(dir: &ProcessDir, tables: &SocketTables) -> HashMap<u64, u16> {
    let listening: HashMap<u64, u16> = tables
        .inet
        .iter()
        .filter(|(proto, s)| proto.is_tcp() && s.state == 0x0A)
        .map(|(_, s)| (s.inode, s.local.1))
        .collect();
    let held: HashSet<u64> = dir
        .numeric_entries("fd")
        .unwrap_or_default()
        .into_iter()
        .filter_map(|fd| socket_inode(dir, fd as i32))
        .collect();
    listening
        .into_iter()
        .filter(|(inode, _)| held.contains(inode))
        .collect()
}

/// The facts of each observed thread and of its process.
pub fn read(
    dir: &ProcessDir,
    process: &ProcessSample,
    observed: &[Observed],
    maps: &[Mapping],
    system: &SystemInfo,
) -> (Vec<ThreadFacts>, RoleContext) {
    let tables = SocketTables::of_process(dir);
    let listening = listeners(dir, &tables);
    let facts = observed
        .iter()
        .map(|thread| thread_facts(dir, thread, maps, &listening))
        .collect();
    let stack_limit = dir
        .read("limits")
        .ok()
        .map(|raw| parse_limits(&raw))
        .and_then(|limits| limits.into_iter().find(|l| l.name == "Max stack size"))
        .map(|limit| limit.soft);
    let exe = process
        .exe()
        .ok()
        .cloned()
        .or_else(|| dir.readlink("exe").ok());
    let mut ports: Vec<u16> = listening.values().copied().collect();
    ports.sort_unstable();
    let context = RoleContext {
        pid: process.pid,
        start_ticks: process.stat().ok().map(|s| s.starttime_ticks),
        ticks_per_second: system.ticks_per_second,
        stack_limit,
        isolates: crate::analyze::runtime::node::isolates(maps, exe.as_deref()),
        cmdline: process.cmdline().ok().cloned().or_else(|| {
            dir.read("cmdline")
                .ok()
                .map(|raw| crate::parse::cmdline::parse_cmdline(&raw))
        }),
        listener_ports: Some(ports),
    };
    (facts, context)
}

fn thread_facts(
    dir: &ProcessDir,
    thread: &Observed,
    maps: &[Mapping],
    listening: &HashMap<u64, u16>,
) -> ThreadFacts {
    let state = thread.state;
    let sp = state.and_then(|s| s.registers()).map(|(sp, _)| sp);
    let (futex_region, epoll_targets) = match state {
        Some(SyscallState::InSyscall { nr, args, .. }) => match syscalls::name(nr) {
            Some("futex" | "futex_wait" | "futex_waitv") => (address_region(maps, args[0]), None),
            Some("epoll_wait" | "epoll_pwait" | "epoll_pwait2") => {
                (None, epoll_targets(dir, args[0] as i32))
            }
            _ => (None, None),
        },
        _ => (None, None),
    };
    let epoll_listener_ports = epoll_targets
        .iter()
        .flatten()
        .filter_map(|&fd| socket_inode(dir, fd))
        .filter_map(|inode| listening.get(&inode).copied())
        .collect();
    ThreadFacts {
        tid: thread.tid,
        name: thread.name.clone(),
        state,
        stack: sp.and_then(|sp| stack_of(maps, sp)),
        futex_region,
        epoll_targets,
        epoll_listener_ports,
        start_ticks: thread.start_ticks,
        always_running: thread.always_running,
    }
}

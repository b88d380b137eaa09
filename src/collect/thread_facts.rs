//! The reads behind thread roles: for each observed thread the epoll set it waits on (with
//! the listening ports among its descriptors); for the process its stack limit, executable,
//! command line and listening ports. Which system call is an epoll wait is the caller's
//! word (a parameter); the judging (stack mappings, futex regions, roles) is
//! `analyze::runtime`'s.

use std::collections::{HashMap, HashSet};

use crate::collect::fds::{epoll_targets, socket_inode};
use crate::collect::net::SocketTables;
use crate::collect::{ProcessDir, ProcessSample, SystemInfo};
use crate::parse::limits::parse_limits;
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

/// What was read for one observed thread.
#[derive(Debug, Clone)]
pub struct ThreadReads {
    pub observed: Observed,
    /// For a thread in an epoll wait: the descriptors its epoll instance watches.
    pub epoll_targets: Option<Vec<i32>>,
    /// The local ports of listening TCP sockets among those descriptors.
    pub epoll_listener_ports: Vec<u16>,
}

/// What was read for a process and its observed threads.
#[derive(Debug, Clone, Default)]
pub struct RoleReads {
    pub pid: u32,
    /// The process's start, in clock ticks after boot.
    pub start_ticks: Option<u64>,
    pub ticks_per_second: u64,
    /// RLIMIT_STACK's soft limit: `Some(None)` when unlimited, `None` when unread.
    pub stack_limit: Option<Option<u64>>,
    /// The executable's path (`exe`), if readable.
    pub exe: Option<Vec<u8>>,
    /// The command line, if readable.
    pub cmdline: Option<Vec<Vec<u8>>>,
    /// The local ports of every listening TCP socket the process holds (ascending).
    pub listener_ports: Vec<u16>,
    pub threads: Vec<ThreadReads>,
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

/// Reads what the roles of `observed` threads are judged by. `epoll_fd` says, for a
/// thread's state, which epoll descriptor it waits on (if it is in an epoll wait).
pub fn read(
    dir: &ProcessDir,
    process: &ProcessSample,
    observed: &[Observed],
    system: &SystemInfo,
    epoll_fd: impl Fn(&SyscallState) -> Option<i32>,
) -> RoleReads {
    let tables = SocketTables::of_process(dir);
    let listening = listeners(dir, &tables);
    let threads = observed
        .iter()
        .map(|thread| {
            let epoll_targets = thread
                .state
                .as_ref()
                .and_then(&epoll_fd)
                .and_then(|fd| epoll_targets(dir, fd));
            let epoll_listener_ports = epoll_targets
                .iter()
                .flatten()
                .filter_map(|&fd| socket_inode(dir, fd))
                .filter_map(|inode| listening.get(&inode).copied())
                .collect();
            ThreadReads {
                observed: thread.clone(),
                epoll_targets,
                epoll_listener_ports,
            }
        })
        .collect();
    let stack_limit = dir
        .read("limits")
        .ok()
        .map(|raw| parse_limits(&raw))
        .and_then(|limits| limits.into_iter().find(|l| l.name == "Max stack size"))
        .map(|limit| limit.soft);
    let mut listener_ports: Vec<u16> = listening.values().copied().collect();
    listener_ports.sort_unstable();
    RoleReads {
        pid: process.pid,
        start_ticks: process.stat().ok().map(|s| s.starttime_ticks),
        ticks_per_second: system.ticks_per_second,
        stack_limit,
        exe: process
            .exe()
            .ok()
            .cloned()
            .or_else(|| dir.readlink("exe").ok()),
        cmdline: process.cmdline().ok().cloned().or_else(|| {
            dir.read("cmdline")
                .ok()
                .map(|raw| crate::parse::cmdline::parse_cmdline(&raw))
        }),
        listener_ports,
        threads,
    }
}

//! What a profiled thread waits on, resolved: a descriptor's target, an epoll set's
//! members by kind, module symbols for blocked program counters, and the JIT symbol file
//! (`/tmp/perf-PID.map`, read through the process's root without following links).

use std::collections::HashMap;
use std::sync::Arc;

use rustix::fs::{Mode, OFlags, ResolveFlags};

use crate::collect::ProcessDir;
use crate::collect::fds::epoll_targets;
use crate::collect::modules::{ModuleFile, open_debug_file, open_module, read_small_module};
use crate::collect::net::SocketTables;
use crate::model::fd_kind::{FdKind, classify};
use crate::model::profile::EpollSet;
use crate::parse::elf_symbols::{Loaded, ModuleSymbols};
use crate::parse::link::inode_of;
use crate::parse::maps::Mapping;
use crate::parse::perfmap::PerfMap;

/// The JIT symbol file is bounded: V8 appends for as long as it compiles.
const MAX_PERF_MAP: u64 = 64 << 20;

/// The target of descriptor `fd` (`/data/a.csv`, `socket:[123]`), raw bytes.
pub fn fd_target(dir: &ProcessDir, fd: i64) -> Option<Vec<u8>> {
    dir.readlink(&format!("fd/{fd}")).ok()
}

/// The members of epoll instance `epfd`, counted by kind.
pub fn epoll_set(dir: &ProcessDir, epfd: i64, tables: &SocketTables) -> Option<EpollSet> {
    let targets = epoll_targets(dir, i32::try_from(epfd).ok()?)?;
    let mut set = EpollSet {
        fd: epfd,
        listeners: 0,
        connections: 0,
        sockets: 0,
        timerfds: 0,
        signalfds: 0,
        eventfds: 0,
        pipes: 0,
        other: 0,
        text: String::new(),
    };
    for fd in targets {
        let Some(target) = fd_target(dir, i64::from(fd)) else {
            set.other += 1;
            continue;
        };
        match classify(&target, None) {
            FdKind::Socket => {
                let inode = inode_of(&target, b"socket");
                let inet = tables
                    .inet
                    .iter()
                    .find(|(_, s)| Some(s.inode) == inode)
                    .map(|(proto, s)| (proto.is_tcp(), s.state));
                match inet {
                    Some((true, 0x0A)) => set.listeners += 1,
                    Some((true, 0x01)) => set.connections += 1,
                    _ => set.sockets += 1,
                }
            }
            FdKind::TimerFd => set.timerfds += 1,
            FdKind::SignalFd => set.signalfds += 1,
            FdKind::EventFd => set.eventfds += 1,
            FdKind::Pipe | FdKind::Fifo => set.pipes += 1,
            _ => set.other += 1,
        }
    }
    set.text = describe_set(&set);
    Some(set)
}

fn describe_set(set: &EpollSet) -> String {
    let parts: Vec<String> = [
        (set.listeners, "listener", "listeners"),
        (set.connections, "connection", "connections"),
        (set.sockets, "other socket", "other sockets"),
        (set.timerfds, "timerfd", "timerfds"),
        (set.signalfds, "signalfd", "signalfds"),
        (set.eventfds, "eventfd", "eventfds"),
        (set.pipes, "pipe", "pipes"),
        (set.other, "other", "others"),
    ]
    .iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
    .collect();
    if parts.is_empty() {
        "empty".into()
    } else {
        parts.join(", ")
    }
}

/// The symbols of the module a mapping belongs to (only a file proven to be the mapped
/// one), with its separate debug file's when the build IDs match.
pub fn module_symbols(dir: &ProcessDir, mapping: &Mapping) -> Loaded {
    let file = match open_module(dir, mapping) {
        ModuleFile::Verified(file) => file,
        ModuleFile::Missing => return Loaded::NoSymbols,
        ModuleFile::Unverified => return Loaded::Unverified,
    };
    let Some(mut symbols) = parse_module(file) else {
        return Loaded::NoSymbols;
    };
    let debug = symbols
        .debug_path()
        .and_then(|path| open_debug_file(dir, &path))
        .and_then(parse_module)
        .filter(|debug| debug.build_id.is_some() && debug.build_id == symbols.build_id);
    if let Some(debug) = debug {
        symbols.merge_debug(debug);
    }
    Loaded::Symbols(Arc::new(symbols))
}

/// Parses a module read whole when small, else on demand.
fn parse_module(file: std::fs::File) -> Option<ModuleSymbols> {
    match read_small_module(file) {
        Ok(bytes) => ModuleSymbols::parse(bytes.as_slice()),
        Err(file) => ModuleSymbols::parse(&object::ReadCache::new(file)),
    }
}

/// The JIT symbol file of a process (`--perf-basic-prof`): `/tmp/perf-NSPID.map` inside
/// the process's root, opened without following links, only a regular file owned by the
/// process's user, bounded in size.
pub fn perf_map(dir: &ProcessDir) -> Option<PerfMap> {
    let (uid, _) = dir.owner().ok()?;
    let ns_pid = innermost_pid(dir)?;
    let root = rustix::fs::openat(
        dir.handle(),
        "root",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let file = rustix::fs::openat2(
        &root,
        format!("tmp/perf-{ns_pid}.map"),
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
    )
    .ok()?;
    let stat = rustix::fs::fstat(&file).ok()?;
    let regular =
        rustix::fs::FileType::from_raw_mode(stat.st_mode) == rustix::fs::FileType::RegularFile;
    if !regular || stat.st_uid != uid {
        return None;
    }
    let mut raw = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(std::fs::File::from(file), MAX_PERF_MAP),
        &mut raw,
    )
    .ok()?;
    Some(PerfMap::parse(&raw))
}

/// The process's PID in its own PID namespace (the last `NSpid:` number).
fn innermost_pid(dir: &ProcessDir) -> Option<u32> {
    let status = dir.read("status").ok()?;
    let keyed = crate::parse::keyed::Keyed::new(status);
    keyed
        .numbers("NSpid")
        .and_then(|ids| ids.last().copied())
        .and_then(|id| u32::try_from(id).ok())
        .or(Some(dir.pid()))
}

/// Descriptor targets resolved once per descriptor number while sampling.
#[derive(Debug, Default)]
pub struct TargetCache {
    targets: HashMap<i64, Option<Vec<u8>>>,
}

impl TargetCache {
    /// The target of `fd`, read the first time it is asked for.
    pub fn get(&mut self, dir: &ProcessDir, fd: i64) -> Option<&[u8]> {
        self.targets
            .entry(fd)
            .or_insert_with(|| fd_target(dir, fd))
            .as_deref()
    }

    /// Every descriptor asked for, with its target.
    pub fn resolved(&self) -> &HashMap<i64, Option<Vec<u8>>> {
        &self.targets
    }
}

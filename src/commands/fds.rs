//! `procscope fds PID`: every open file descriptor with its type, mode, offset and what it
//! points to (a path, a socket's endpoints, a pipe's other ends, an epoll set).

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::analyze::fd_kind::split_deleted;
use crate::analyze::sockets::socket_info;
use crate::collect::fds::{FdEntry, open_files_soft_limit, read_fds};
use crate::collect::holders::{Holder, Kind, access_mode, scan_holders_except};
use crate::collect::net::{SocketIndex, SocketTables};
use crate::collect::target::{NotAProcess, open_process};
use crate::collect::{Needs, ProcFs, ProcessSample, SystemInfo, TaskKind};
use crate::commands::not_a_process;
use crate::exit;
use crate::model::Unavailable;
use crate::model::fd::{FdList, FdRow, PeerFd};
use crate::model::fd_kind::{FdKind, classify};
use crate::model::fields::FdField;
use crate::model::report::FdsReport;
use crate::model::socket::describe as describe_socket;
use crate::model::text::lossless;
use crate::parse::fdinfo::describe_flags;
use crate::parse::link::inode_of;
use crate::text::units;

/// Reads every descriptor of `pid` and what it refers to, with the other ends of its pipes.
pub fn run(pid: u32, procfs: &ProcFs, system: &SystemInfo) -> anyhow::Result<FdsReport> {
    run_with(pid, true, procfs, system)
}

/// Reads every descriptor of `pid` and what it refers to; with `peers`, also who holds the
/// other ends of its pipes (every process's descriptor table read once, like `lsof +E`).
pub fn run_with(
    pid: u32,
    search_peers: bool,
    procfs: &ProcFs,
    system: &SystemInfo,
) -> anyhow::Result<FdsReport> {
    crate::query::pid::check_pid_max(pid, system.pid_max).map_err(crate::exit::usage)?;
    let (dir, process) =
        open_process(procfs, pid, Needs::STAT).map_err(|why| not_a_process("fds", pid, why))?;
    if process.kind() == TaskKind::Zombie {
        return Err(exit::target_pid(
            pid,
            Unavailable::Zombie,
            format!(
                "PID {pid} is a zombie: it has exited and holds no open files (its parent has not reaped it yet)"
            ),
        ));
    }
    let entries = read_fds(&dir).map_err(|why| match why {
        Unavailable::Gone => not_a_process("fds", pid, NotAProcess::Missing),
        why => exit::target_pid(
            pid,
            why,
            format!("cannot read the file descriptors of PID {pid}: {why}"),
        ),
    })?;
    let tables = if entries.iter().any(|e| e.target.starts_with(b"socket:")) {
        SocketTables::for_descriptors(&dir, &entries)
    } else {
        SocketTables::default()
    };
    let index = tables.index();
    let pipes: HashSet<u64> = entries
        .iter()
        .filter_map(|e| inode_of(&e.target, b"pipe"))
        .collect();
    let (peers, peer_scan_denied) = if pipes.is_empty() || !search_peers {
        (HashMap::new(), 0)
    } else {
        pipe_peers(procfs, pid, &entries, &pipes)
    };
    let fds = rows(pid, &entries, &index, &peers, search_peers);
    let mut by_type = BTreeMap::new();
    for row in &fds {
        *by_type.entry(row.kind.name().to_owned()).or_insert(0) += 1;
    }
    let soft_limit = open_files_soft_limit(&dir);
    let process_name = process.name().ok().map(|name| lossless(&name).0);
    Ok(FdsReport {
        list: FdList {
            pid,
            process_name,
            fds,
            by_type,
            soft_limit,
            peer_scan_denied,
            peers_searched: search_peers,
        },
        denied_hint: crate::collect::system::denied_hint(),
    })
}

/// One row per descriptor: sockets by their protocol and ends, pipes with their other ends
/// (when `search_peers`).
fn rows(
    pid: u32,
    entries: &[FdEntry],
    index: &SocketIndex<'_>,
    peers: &HashMap<u64, Vec<PeerFd>>,
    search_peers: bool,
) -> Vec<FdRow> {
    entries
        .iter()
        .map(|entry| {
            let mut row = describe_entry(entry);
            if row.kind == FdKind::Socket
                && let Some(inode) = inode_of(&entry.target, b"socket")
            {
                let info = socket_info(index, inode);
                row.description = describe_socket(&info);
                row.kind = FdKind::of_protocol(&info.proto);
                row.socket = Some(info);
            }
            if let Some(inode) = inode_of(&entry.target, b"pipe").filter(|_| search_peers) {
                let own = entry.info.as_ref().ok().and_then(|info| info.flags);
                let holders = peers.get(&inode).map_or(&[][..], Vec::as_slice);
                let others = other_ends(holders, (pid, entry.fd), own);
                row.description = pipe_description(&row.target, &others, pid, own);
                row.pipe_peers = Some(others);
            }
            row
        })
        .collect()
}

/// Every holder of the pipes in `inodes`, by pipe inode, with process names and the end
/// each holds. The table of `pid` was read already (`entries`): one pass over every other
/// process's table.
fn pipe_peers(
    procfs: &ProcFs,
    pid: u32,
    entries: &[FdEntry],
    inodes: &HashSet<u64>,
) -> (HashMap<u64, Vec<PeerFd>>, usize) {
    let mut holders = scan_holders_except(procfs, Kind::Pipes, false, Some(pid));
    holders.add_sorted(
        entries
            .iter()
            .filter_map(|e| Some((inode_of(&e.target, b"pipe")?, Holder { pid, fd: e.fd })))
            .collect(),
    );
    holders.by_inode.retain(|inode, _| inodes.contains(inode));
    // The target's own access modes were read with its descriptors; only other holders'
    // fdinfo is read here.
    let own_modes: HashMap<u32, u32> = entries
        .iter()
        .filter_map(|e| Some((e.fd, e.info.as_ref().ok()?.flags? & 0o3)))
        .collect();
    // procscope's own descriptors (inherited from the shell) are not the user's business.
    let me = std::process::id();
    for list in holders.by_inode.values_mut() {
        list.retain(|holder| holder.pid != me);
    }
    let mut names: HashMap<u32, Option<String>> = HashMap::new();
    let mut name_of = |pid: u32| {
        names
            .entry(pid)
            .or_insert_with(|| {
                ProcessSample::read(procfs, pid, Needs::STAT)
                    .ok()
                    .and_then(|s| s.name().ok())
                    .map(|name| lossless(&name).0)
            })
            .clone()
    };
    let peers = holders
        .by_inode
        .into_iter()
        .map(|(inode, list)| {
            let peers = list
                .into_iter()
                .map(|h| PeerFd {
                    pid: h.pid,
                    name: name_of(h.pid),
                    fd: h.fd,
                    direction: own_modes
                        .get(&h.fd)
                        .copied()
                        .filter(|_| h.pid == pid)
                        .or_else(|| access_mode(procfs, h))
                        .and_then(direction_name)
                        .map(str::to_owned),
                })
                .collect();
            (inode, peers)
        })
        .collect();
    (peers, holders.denied)
}

/// `read`, `write` or `read_write` for an access mode.
fn direction_name(mode: u32) -> Option<&'static str> {
    match mode {
        0 => Some("read"),
        1 => Some("write"),
        2 => Some("read_write"),
        _ => None,
    }
}

/// The holders on the other end from descriptor `own` (pid, fd) with open flags `flags`: a
/// read end's writers, a write end's readers. Holders whose end is unknown may be either,
/// so they stay; an end opened read-write (a FIFO) has every other holder as its peer.
fn other_ends(holders: &[PeerFd], own: (u32, u32), flags: Option<u32>) -> Vec<PeerFd> {
    let wanted = match flags.map(|f| f & 0o3).and_then(direction_name) {
        Some("read") => Some("write"),
        Some("write") => Some("read"),
        _ => None,
    };
    holders
        .iter()
        .filter(|peer| (peer.pid, peer.fd) != own)
        .filter(|peer| match (wanted, peer.direction.as_deref()) {
            (Some(wanted), Some(direction)) => direction == wanted || direction == "read_write",
            _ => true,
        })
        .cloned()
        .collect()
}

/// At most this many other ends are named in a table; JSON lists them all.
const SHOWN_PEERS: usize = 3;

/// `pipe:[123] <- 4711 node fd 5, fd 4` for a read end (the arrow points the way data
/// flows), `->` for a write end, `<->` when unknown (and `+N more` past a few).
fn pipe_description(target: &str, peers: &[PeerFd], own_pid: u32, flags: Option<u32>) -> String {
    if peers.is_empty() {
        return target.to_owned();
    }
    let mut ends: Vec<String> = peers
        .iter()
        .take(SHOWN_PEERS)
        .map(|peer| {
            if peer.pid == own_pid {
                format!("fd {}", peer.fd)
            } else {
                let name = peer.name.as_deref().unwrap_or("?");
                format!("{} {name} fd {}", peer.pid, peer.fd)
            }
        })
        .collect();
    if peers.len() > SHOWN_PEERS {
        ends.push(format!("+{} more", peers.len() - SHOWN_PEERS));
    }
    let arrow = match flags.map(|f| f & 0o3) {
        Some(0) => "<-",
        Some(1) => "->",
        _ => "<->",
    };
    format!("{target} {arrow} {}", ends.join(", "))
}

/// The row of one descriptor from what the kernel said about it.
fn describe_entry(entry: &FdEntry) -> FdRow {
    if let Some(why) = entry.target_unavailable {
        return unreadable_entry(entry, why);
    }
    let kind = classify(&entry.target, entry.file_type);
    let (path, deleted) = split_deleted(&entry.target, entry.nlink);
    let (target, target_b64) = lossless(path);
    let mut unavailable = BTreeMap::new();
    let info = match &entry.info {
        Ok(info) => Some(info),
        Err(why) => {
            for key in [FdField::Mode, FdField::Flags, FdField::Pos] {
                unavailable.insert(key, *why);
            }
            None
        }
    };
    let flags = info.and_then(|i| i.flags).map(describe_flags);
    let mut description = match kind {
        FdKind::MemFd => {
            let name = path.strip_prefix(b"/memfd:").unwrap_or(path);
            format!("memfd {}", String::from_utf8_lossy(name))
        }
        _ => String::from_utf8_lossy(path).into_owned(),
    };
    if deleted {
        description.push_str(" (deleted)");
    }
    let epoll_targets =
        (kind == FdKind::Epoll).then(|| info.map(|i| i.epoll_targets.clone()).unwrap_or_default());
    if let Some(targets) = &epoll_targets {
        let list: Vec<String> = targets.iter().map(i32::to_string).collect();
        description = format!(
            "epoll watching fds {}",
            if list.is_empty() {
                "none".into()
            } else {
                list.join(", ")
            }
        );
    }
    let eventfd_count = info
        .and_then(|i| i.eventfd_count)
        .filter(|_| kind == FdKind::EventFd);
    if let Some(count) = eventfd_count {
        description = format!("eventfd count {count}");
    }
    let pidfd_pid = info
        .and_then(|i| i.pidfd_pid)
        .filter(|_| kind == FdKind::PidFd);
    if let Some(target_pid) = pidfd_pid {
        description = format!("pidfd of PID {target_pid}");
    }
    let inotify_watches = (kind == FdKind::Inotify).then(|| info.map_or(0, |i| i.inotify_watches));
    if let Some(watches) = inotify_watches {
        description = format!(
            "inotify {}",
            units::count(watches as u64, "watch", "watches")
        );
    }
    FdRow {
        fd: entry.fd,
        kind,
        mode: flags.as_ref().map(|(access, _)| (*access).to_owned()),
        flags: flags.map(|(_, names)| names.into_iter().map(str::to_owned).collect()),
        pos: info.and_then(|i| i.pos),
        target,
        target_b64,
        deleted,
        description,
        socket: None,
        pipe_peers: None,
        epoll_targets,
        eventfd_count,
        pidfd_pid,
        inotify_watches,
        unavailable,
    }
}

/// A descriptor whose link the kernel would not show: listed, typed `unknown`, its target
/// marked (like lsof's `unknown` entries with `readlink: Permission denied`).
fn unreadable_entry(entry: &FdEntry, why: Unavailable) -> FdRow {
    let info = entry.info.as_ref().ok();
    let flags = info.and_then(|i| i.flags).map(describe_flags);
    let mut unavailable = BTreeMap::from([(FdField::Target, why)]);
    if let Err(info_why) = &entry.info {
        for key in [FdField::Mode, FdField::Flags, FdField::Pos] {
            unavailable.insert(key, *info_why);
        }
    }
    FdRow {
        fd: entry.fd,
        kind: FdKind::Unknown,
        mode: flags.as_ref().map(|(access, _)| (*access).to_owned()),
        flags: flags.map(|(_, names)| names.into_iter().map(str::to_owned).collect()),
        pos: info.and_then(|i| i.pos),
        target: String::new(),
        target_b64: None,
        deleted: false,
        description: format!("- ({why})"),
        socket: None,
        pipe_peers: None,
        epoll_targets: None,
        eventfd_count: None,
        pidfd_pid: None,
        inotify_watches: None,
        unavailable,
    }
}

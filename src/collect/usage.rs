//! The per-process files an exporter adds to what `ps` reads: `io`, `limits`,
//! `smaps_rollup`, `cgroup` and the descriptor links, each read through the process's
//! directory handle and only when asked for. Totals are made by the caller.

use crate::collect::net::{Proto, SocketTables};
use crate::collect::process::Field;
use crate::collect::{ProcFs, ProcessDir};
use crate::model::Unavailable;
use crate::model::fd_kind::{FdKind, classify};
use crate::parse::keyed::Keyed;
use crate::parse::limits::parse_limits;
use crate::parse::link::inode_of;
use crate::parse::net::InetSocket;
use crate::parse::smaps::parse_rollup;

/// These files are a few hundred bytes.
const SMALL_FILE: u64 = 1 << 16;

/// Which of the extra files to read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageNeeds {
    pub io: bool,
    pub fd_limit: bool,
    pub pss: bool,
    pub cgroup: bool,
    /// Read every descriptor link (for kinds and socket inodes); gives the count too.
    pub fd_links: bool,
}

/// The listening TCP and bound UDP sockets of the proc root's network namespace, from the
/// same socket tables as `ports` (sock_diag on the live /proc).
pub fn listening_inet(procfs: &ProcFs) -> Vec<(Proto, InetSocket)> {
    SocketTables::of_root(procfs)
        .inet
        .into_iter()
        .filter(|(proto, socket)| {
            socket.inode != 0
                && if proto.is_tcp() {
                    socket.state == TCP_LISTEN
                } else {
                    socket.remote.1 == 0
                }
        })
        .collect()
}

/// The `st` value of a listening TCP socket.
const TCP_LISTEN: u8 = 0x0A;

/// What was read; `None` where not asked for.
#[derive(Debug, Default)]
pub struct Usage {
    /// (read_bytes, write_bytes) from `io`.
    pub io: Option<Field<(u64, u64)>>,
    /// The soft limit on open descriptors (`None` inside for unlimited).
    pub fd_limit: Option<Field<Option<u64>>>,
    pub pss_bytes: Option<Field<u64>>,
    /// The cgroup v2 path (the `0::` line).
    pub cgroup: Option<Field<Vec<u8>>>,
    pub fds: Option<Field<FdSummary>>,
}

/// The descriptors of one process, summarised.
#[derive(Debug, Default, Clone)]
pub struct FdSummary {
    /// Entries in `fd/` (links that vanished during the read still count).
    pub open: u64,
    /// Count per kind; paths are `path` (no `stat` per descriptor).
    pub kinds: Vec<(&'static str, u64)>,
    /// Inodes of the sockets it holds.
    pub sockets: Vec<u64>,
}

/// Reads the extra files of one process.
pub fn read_usage(dir: &ProcessDir, needs: UsageNeeds) -> Usage {
    Usage {
        io: needs.io.then(|| read_io(dir)),
        fd_limit: needs.fd_limit.then(|| read_fd_limit(dir)),
        pss_bytes: needs.pss.then(|| {
            let raw = dir.read_whole("smaps_rollup", SMALL_FILE)?;
            parse_rollup(&raw)
                .map(|rollup| rollup.pss)
                .ok_or(Unavailable::ReadError)
        }),
        cgroup: needs.cgroup.then(|| read_cgroup(dir)),
        fds: needs.fd_links.then(|| read_fd_summary(dir)),
    }
}

fn read_io(dir: &ProcessDir) -> Field<(u64, u64)> {
    let keyed = Keyed::new(dir.read_whole("io", SMALL_FILE)?);
    match (keyed.number("read_bytes"), keyed.number("write_bytes")) {
        (Some(read), Some(write)) => Ok((read, write)),
        _ => Err(Unavailable::ReadError),
    }
}

fn read_fd_limit(dir: &ProcessDir) -> Field<Option<u64>> {
    let raw = dir.read_whole("limits", SMALL_FILE)?;
    parse_limits(&raw)
        .into_iter()
        .find(|limit| limit.name == "Max open files")
        .map(|limit| limit.soft)
        .ok_or(Unavailable::ReadError)
}

fn read_cgroup(dir: &ProcessDir) -> Field<Vec<u8>> {
    let raw = dir.read_whole("cgroup", SMALL_FILE)?;
    raw.split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(b"0::"))
        .map(<[u8]>::to_vec)
        .ok_or(Unavailable::Unsupported)
}

fn read_fd_summary(dir: &ProcessDir) -> Field<FdSummary> {
    let fd_dir = dir.subdir("fd")?;
    let fds = fd_dir.numeric_entries(".")?;
    let mut summary = FdSummary {
        open: fds.len() as u64,
        ..FdSummary::default()
    };
    let mut counts = [0u64; KINDS.len()];
    for fd in fds {
        let Ok(target) = fd_dir.readlink(&fd.to_string()) else {
            continue;
        };
        let kind = classify(&target, None);
        if kind == FdKind::Socket
            && let Some(inode) = inode_of(&target, b"socket")
        {
            summary.sockets.push(inode);
        }
        let index = KINDS.iter().position(|k| *k == kind).unwrap_or(0);
        counts[index] += 1;
    }
    summary.kinds = KINDS
        .iter()
        .zip(counts)
        .filter(|(_, count)| *count > 0)
        .map(|(kind, count)| (kind_name(*kind), count))
        .collect();
    Ok(summary)
}

/// The kinds a link target alone tells apart.
const KINDS: &[FdKind] = &[
    FdKind::File,
    FdKind::Pipe,
    FdKind::Socket,
    FdKind::EventFd,
    FdKind::Epoll,
    FdKind::TimerFd,
    FdKind::SignalFd,
    FdKind::Inotify,
    FdKind::MemFd,
    FdKind::PidFd,
    FdKind::AnonInode,
    FdKind::Other,
];

/// Without a `stat` a path may be a file, directory or device: call it a path.
fn kind_name(kind: FdKind) -> &'static str {
    match kind {
        FdKind::File => "path",
        other => other.name(),
    }
}

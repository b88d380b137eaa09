//! The `fds` payload: one entry per open file descriptor, and the socket type shared with
//! `ports`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use super::Unavailable;

/// The kind of an open file description: what `fds` lists as its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FdKind {
    File,
    Dir,
    #[serde(rename = "char")]
    CharDevice,
    #[serde(rename = "block")]
    BlockDevice,
    Pipe,
    Fifo,
    // A socket whose protocol the socket tables do not name.
    Socket,
    #[serde(rename = "eventfd")]
    EventFd,
    Epoll,
    #[serde(rename = "timerfd")]
    TimerFd,
    #[serde(rename = "signalfd")]
    SignalFd,
    Inotify,
    #[serde(rename = "memfd")]
    MemFd,
    #[serde(rename = "pidfd")]
    PidFd,
    // Any other anonymous inode (io_uring, bpf-map, perf_event...).
    AnonInode,
    Other,
    // Sockets by protocol (`fds` only; classifying a link target says `socket`).
    Tcp,
    Tcp6,
    Udp,
    Udp6,
    Unix,
    Netlink,
    // A descriptor whose link could not be read.
    Unknown,
}

impl FdKind {
    /// The name in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            FdKind::File => "file",
            FdKind::Dir => "dir",
            FdKind::CharDevice => "char",
            FdKind::BlockDevice => "block",
            FdKind::Pipe => "pipe",
            FdKind::Fifo => "fifo",
            FdKind::Socket => "socket",
            FdKind::EventFd => "eventfd",
            FdKind::Epoll => "epoll",
            FdKind::TimerFd => "timerfd",
            FdKind::SignalFd => "signalfd",
            FdKind::Inotify => "inotify",
            FdKind::MemFd => "memfd",
            FdKind::PidFd => "pidfd",
            FdKind::AnonInode => "anon_inode",
            FdKind::Other => "other",
            FdKind::Tcp => "tcp",
            FdKind::Tcp6 => "tcp6",
            FdKind::Udp => "udp",
            FdKind::Udp6 => "udp6",
            FdKind::Unix => "unix",
            FdKind::Netlink => "netlink",
            FdKind::Unknown => "unknown",
        }
    }

    /// A socket's kind from its protocol name (`tcp`, `unix`...), `socket` when unknown.
    pub fn of_protocol(proto: &str) -> FdKind {
        match proto {
            "tcp" => FdKind::Tcp,
            "tcp6" => FdKind::Tcp6,
            "udp" => FdKind::Udp,
            "udp6" => FdKind::Udp6,
            "unix" => FdKind::Unix,
            "netlink" => FdKind::Netlink,
            _ => FdKind::Socket,
        }
    }
}

/// A socket's endpoints and state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SocketInfo {
    /// `tcp`, `tcp6`, `udp`, `udp6`, `unix`, `netlink` or `socket` (another family).
    pub proto: String,
    pub local_address: Option<String>,
    pub local_port: Option<u16>,
    pub remote_address: Option<String>,
    pub remote_port: Option<u16>,
    /// `LISTEN`, `ESTABLISHED`, `UNCONNECTED`...
    pub state: Option<String>,
    /// A unix socket's path, `@name` for an abstract one.
    pub path: Option<String>,
    /// A netlink socket's protocol number.
    pub netlink_protocol: Option<u32>,
    /// A connected unix socket's peer: the inode of the socket at the other end (from
    /// sock_diag; absent where only `/proc/net/unix` could be read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_inode: Option<u64>,
    /// A unix socket's type: `stream`, `dgram` or `seqpacket`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket_type: Option<String>,
    pub inode: u64,
}

/// A descriptor (maybe in another process) on the other end of the same pipe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PeerFd {
    pub pid: u32,
    pub name: Option<String>,
    pub fd: u32,
    /// The end it holds, from its open flags: `read`, `write`, or `read_write` (a FIFO
    /// opened O_RDWR); null when its fdinfo could not be read.
    pub direction: Option<String>,
}

/// One open file descriptor.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FdRow {
    pub fd: u32,
    /// What the descriptor refers to; a socket by its protocol when the tables know it.
    #[serde(rename = "type")]
    pub kind: FdKind,
    /// `r`, `w` or `rw`.
    pub mode: Option<String>,
    /// Open flags by name: append, nonblock, sync, direct, noatime, cloexec, path.
    pub flags: Option<Vec<String>>,
    /// The file offset.
    pub pos: Option<u64>,
    /// The link target without ` (deleted)`: a path, `socket:[N]`, `pipe:[N]`...
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_b64: Option<String>,
    /// The file was unlinked while open.
    pub deleted: bool,
    /// What a table shows: the endpoints of a socket, a pipe's other ends, an epoll set.
    pub description: String,
    pub socket: Option<SocketInfo>,
    /// The descriptors on the other end of the pipe (this process or others): a read end's
    /// writers, a write end's readers; not other holders of the same end.
    pub pipe_peers: Option<Vec<PeerFd>>,
    /// The descriptors an epoll instance watches.
    pub epoll_targets: Option<Vec<i32>>,
    pub eventfd_count: Option<u64>,
    /// The process a pidfd refers to.
    pub pidfd_pid: Option<i64>,
    pub inotify_watches: Option<usize>,
    /// Why each null field has no value.
    pub unavailable: BTreeMap<super::fields::FdField, Unavailable>,
}

/// The descriptors of one process.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FdList {
    pub pid: u32,
    pub process_name: Option<String>,
    pub fds: Vec<FdRow>,
    /// How many descriptors of each type.
    pub by_type: BTreeMap<String, u64>,
    /// The soft RLIMIT_NOFILE.
    pub soft_limit: Option<u64>,
    /// Processes whose fd tables could not be read while looking for pipe peers.
    pub peer_scan_denied: usize,
}

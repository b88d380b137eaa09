//! The socket tables of one network namespace. Our own namespace's internet and unix
//! sockets come from the kernel through sock_diag (inode as a field, names cannot forge
//! records); other namespaces, fixture trees and kernels without sock_diag fall back to the
//! `net/tcp`, `tcp6`, `udp`, `udp6` and `unix` files (records whose inode repeats dropped).
//! Netlink sockets come from `net/netlink` (no names in it).

use std::collections::{HashMap, HashSet};

use crate::collect::fds::FdEntry;
use crate::collect::{ProcFs, ProcessDir, sock_diag};
use crate::model::Unavailable;
use crate::parse::link::inode_of;
use crate::parse::net::{InetSocket, UnixSocket, parse_inet, parse_netlink, parse_unix};

/// The four internet socket tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    Tcp,
    Tcp6,
    Udp,
    Udp6,
}

impl Proto {
    pub const ALL: [Proto; 4] = [Proto::Tcp, Proto::Tcp6, Proto::Udp, Proto::Udp6];

    /// The file name under `net/` and the protocol name shown to people.
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Tcp6 => "tcp6",
            Proto::Udp => "udp",
            Proto::Udp6 => "udp6",
        }
    }

    pub fn is_tcp(self) -> bool {
        matches!(self, Proto::Tcp | Proto::Tcp6)
    }

    fn is_v6(self) -> bool {
        matches!(self, Proto::Tcp6 | Proto::Udp6)
    }
}

/// Which of a namespace's socket tables to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    /// Of TCP, the listening sockets are enough (the kernel then skips the connections; a
    /// table read from a file still holds them).
    pub listening_only: bool,
    pub unix: bool,
    pub netlink: bool,
}

impl Wanted {
    /// Every table, every socket.
    pub const EVERY: Wanted = Wanted {
        listening_only: false,
        unix: true,
        netlink: true,
    };
}

/// Every socket of one network namespace.
#[derive(Debug, Default)]
pub struct SocketTables {
    /// Internet sockets in table order.
    pub inet: Vec<(Proto, InetSocket)>,
    pub unix: Vec<UnixSocket>,
    /// Netlink sockets: inode → protocol number.
    pub netlink: HashMap<u64, u32>,
    /// Netlink sockets no table lists (not bound yet): their protocol is not known.
    pub unbound_netlink: HashSet<u64>,
    /// Tables that could not be read, and why.
    pub missing: Vec<(&'static str, Unavailable)>,
}

impl SocketTables {
    /// Reads the tables: from sock_diag when `kernel` (our own network namespace), else (or
    /// where sock_diag fails) with `read` (a file name under `net/` → its bytes). Only the
    /// tables `wanted` names are read.
    fn read(
        read: impl Fn(&str) -> Result<Vec<u8>, Unavailable>,
        kernel: bool,
        wanted: Wanted,
    ) -> Self {
        let mut tables = Self::default();
        for proto in Proto::ALL {
            let udp = !proto.is_tcp();
            let dump = || sock_diag::inet_sockets_in(udp, proto.is_v6(), wanted.listening_only);
            match kernel.then(dump) {
                Some(Ok(sockets)) => tables.inet.extend(sockets.into_iter().map(|s| (proto, s))),
                _ => match read(proto.name()) {
                    Ok(raw) => tables.inet.extend(
                        unique(lines(&raw).filter_map(|line| parse_inet(line, proto.is_v6())))
                            .into_iter()
                            .map(|s| (proto, s)),
                    ),
                    Err(why) => tables.missing.push((proto.name(), why)),
                },
            }
        }
        if wanted.unix {
            match kernel.then(sock_diag::unix_sockets) {
                Some(Ok(sockets)) => tables.unix = sockets,
                _ => match read("unix") {
                    Ok(raw) => tables.unix = unique(lines(&raw).filter_map(parse_unix)),
                    Err(why) => tables.missing.push(("unix", why)),
                },
            }
        }
        if wanted.netlink {
            match read("netlink") {
                Ok(raw) => tables.netlink.extend(lines(&raw).filter_map(parse_netlink)),
                Err(why) => tables.missing.push(("netlink", why)),
            }
        }
        tables
    }

    /// The tables of `process`'s network namespace: from the kernel (sock_diag) when that
    /// is our own, else from its `net/` files.
    pub fn of_process(process: &ProcessDir) -> Self {
        Self::of_process_only(process, Wanted::EVERY)
    }

    /// As [`Self::of_process`], only the tables `wanted` names.
    pub fn of_process_only(process: &ProcessDir, wanted: Wanted) -> Self {
        Self::read(
            |name| process.read(&format!("net/{name}")),
            in_our_netns(process),
            wanted,
        )
    }

    /// The tables of `process`'s network namespace (see [`Self::of_process`]), plus the
    /// netlink sockets among `entries` that no table lists (an unbound netlink socket is in
    /// none): the kernel names their family in the `system.sockprotoname` attribute.
    pub fn for_descriptors(process: &ProcessDir, entries: &[FdEntry]) -> Self {
        let mut tables = Self::of_process(process);
        // One set of every listed inode: a process with thousands of sockets must not scan
        // the tables once per socket.
        let known: HashSet<u64> = (tables.netlink.keys().copied())
            .chain(tables.unix.iter().map(|s| s.inode))
            .chain(tables.inet.iter().map(|(_, s)| s.inode))
            .collect();
        let unlisted: Vec<(u32, u64)> = entries
            .iter()
            .filter_map(|entry| Some((entry.fd, inode_of(&entry.target, b"socket")?)))
            .filter(|(_, inode)| !known.contains(inode))
            .collect();
        for (fd, inode) in unlisted {
            if socket_family(process, fd).as_deref() == Some(b"NETLINK".as_slice()) {
                tables.unbound_netlink.insert(inode);
            }
        }
        tables
    }

    /// The tables of our own network namespace: from the kernel (sock_diag) on the live
    /// `/proc`, else from `net` below the proc root (a fixture tree).
    pub fn of_root(procfs: &ProcFs) -> Self {
        Self::of_root_only(procfs, Wanted::EVERY)
    }

    /// As [`Self::of_root`], only the tables `wanted` names.
    pub fn of_root_only(procfs: &ProcFs, wanted: Wanted) -> Self {
        Self::read(
            |name| procfs.read(&format!("net/{name}")),
            procfs.is_live(),
            wanted,
        )
    }

    /// Looks a socket up by inode: an internet, unix or netlink socket.
    pub fn index(&self) -> SocketIndex<'_> {
        let mut by_inode = HashMap::new();
        for (proto, socket) in &self.inet {
            if socket.inode != 0 {
                by_inode.insert(socket.inode, KnownSocket::Inet(*proto, socket));
            }
        }
        for socket in &self.unix {
            by_inode.insert(socket.inode, KnownSocket::Unix(socket));
        }
        for (&inode, &protocol) in &self.netlink {
            by_inode.insert(inode, KnownSocket::Netlink(Some(protocol)));
        }
        for &inode in &self.unbound_netlink {
            by_inode.insert(inode, KnownSocket::Netlink(None));
        }
        SocketIndex { by_inode }
    }
}

/// The byte counters (acked, received) of every TCP socket of our network namespace, by
/// inode, from sock_diag's tcp_info. Empty where sock_diag cannot answer.
pub fn tcp_byte_counters() -> HashMap<u64, (u64, u64)> {
    let mut counters = HashMap::new();
    for v6 in [false, true] {
        for socket in sock_diag::inet_sockets(false, v6).unwrap_or_default() {
            let Some(tcp) = socket.details.tcp else {
                continue;
            };
            if let (Some(acked), Some(received), true) =
                (tcp.bytes_acked, tcp.bytes_received, socket.inode != 0)
            {
                counters.insert(socket.inode, (acked, received));
            }
        }
    }
    counters
}

/// A socket found by its inode.
#[derive(Debug, Clone, Copy)]
pub enum KnownSocket<'a> {
    Inet(Proto, &'a InetSocket),
    Unix(&'a UnixSocket),
    /// A netlink socket and its protocol number, when known.
    Netlink(Option<u32>),
}

/// Sockets by inode.
#[derive(Default)]
pub struct SocketIndex<'a> {
    pub by_inode: HashMap<u64, KnownSocket<'a>>,
}

/// The socket family of descriptor `fd` of a live process as the kernel names it
/// (`NETLINK`, `UNIX`, `TCP`...), from the socket's `system.sockprotoname` attribute.
fn socket_family(process: &ProcessDir, fd: u32) -> Option<Vec<u8>> {
    use std::os::fd::AsRawFd;
    let path = format!("/proc/self/fd/{}/fd/{fd}", process.handle().as_raw_fd());
    let mut value = [0u8; 64];
    let length = rustix::fs::getxattr(path.as_str(), "system.sockprotoname", &mut value).ok()?;
    let name = &value[..length.min(value.len())];
    Some(name.strip_suffix(b"\0").unwrap_or(name).to_vec())
}

/// True when `process` is a live process (its directory is on a proc file system, not a
/// fixture) in the network namespace procscope runs in, whose sockets sock_diag lists.
fn in_our_netns(process: &ProcessDir) -> bool {
    let on_proc =
        rustix::fs::fstatfs(process.handle()).is_ok_and(|fs| fs.f_type == libc::PROC_SUPER_MAGIC);
    let theirs = rustix::fs::statat(process.handle(), "ns/net", rustix::fs::AtFlags::empty());
    let ours = rustix::fs::stat("/proc/self/ns/net");
    match (on_proc, theirs, ours) {
        (true, Ok(theirs), Ok(ours)) => {
            (theirs.st_dev, theirs.st_ino) == (ours.st_dev, ours.st_ino)
        }
        _ => false,
    }
}

/// A socket table record that can be told apart from others by its inode.
trait Record {
    fn inode(&self) -> u64;
}

impl Record for InetSocket {
    fn inode(&self) -> u64 {
        self.inode
    }
}

impl Record for UnixSocket {
    fn inode(&self) -> u64 {
        self.inode
    }
}

/// The records of a `/proc/net` table whose inode appears once. A socket name may hold a
/// newline and a forged record after it; the forged record either names an inode that is
/// listed for real too (both are dropped: neither can be trusted) or one no descriptor
/// refers to. Inode 0 (no file: TIME_WAIT, a connection not yet accepted) may repeat.
fn unique<T: Record>(records: impl Iterator<Item = T>) -> Vec<T> {
    let records: Vec<T> = records.collect();
    let mut count: HashMap<u64, usize> = HashMap::new();
    for record in &records {
        *count.entry(record.inode()).or_default() += 1;
    }
    records
        .into_iter()
        .filter(|r| r.inode() == 0 || count[&r.inode()] == 1)
        .collect()
}

fn lines(raw: &[u8]) -> impl Iterator<Item = &[u8]> {
    raw.split(|&b| b == b'\n').filter(|line| !line.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forged_unix_record_drops_both_claims_on_its_inode() {
        // An abstract name `@x\n0000…: … 20635 /run/docker.sock` splits its line in two.
        let table = b"Num       RefCount Protocol Flags    Type St Inode Path
0000000095254921: 00000002 00000000 00010000 0001 01 20635 /run/user.sock
00000000aaaaaaaa: 00000002 00000000 00010000 0001 01 30000 @x
0000000000000000: 00000002 00000000 00010000 0001 01 20635 /run/docker.sock
0000000095254922: 00000003 00000000 00000000 0001 03  1501
";
        let tables = SocketTables::read(
            |name| match name {
                "unix" => Ok(table.to_vec()),
                _ => Ok(Vec::new()),
            },
            false,
            Wanted::EVERY,
        );
        let inodes: Vec<u64> = tables.unix.iter().map(|s| s.inode).collect();
        assert_eq!(inodes, vec![30000, 1501]);
    }
}

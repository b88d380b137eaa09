//! The socket tables of one network namespace (`net/tcp`, `tcp6`, `udp`, `udp6`, `unix`,
//! `netlink`), read through a process's directory (its namespace) or the proc root (ours).

use std::collections::HashMap;

use crate::collect::{ProcFs, ProcessDir};
use crate::model::Unavailable;
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

/// Every socket of one network namespace.
#[derive(Debug, Default)]
pub struct SocketTables {
    /// Internet sockets in table order.
    pub inet: Vec<(Proto, InetSocket)>,
    pub unix: Vec<UnixSocket>,
    /// Netlink sockets: inode → protocol number.
    pub netlink: HashMap<u64, u32>,
    /// Tables that could not be read, and why.
    pub missing: Vec<(&'static str, Unavailable)>,
}

impl SocketTables {
    /// Reads the tables with `read` (a file name under `net/` → its bytes).
    fn read(read: impl Fn(&str) -> Result<Vec<u8>, Unavailable>) -> Self {
        let mut tables = Self::default();
        for proto in Proto::ALL {
            match read(proto.name()) {
                Ok(raw) => tables.inet.extend(
                    lines(&raw)
                        .filter_map(|line| parse_inet(line, proto.is_v6()))
                        .map(|s| (proto, s)),
                ),
                Err(why) => tables.missing.push((proto.name(), why)),
            }
        }
        match read("unix") {
            Ok(raw) => tables.unix.extend(lines(&raw).filter_map(parse_unix)),
            Err(why) => tables.missing.push(("unix", why)),
        }
        match read("netlink") {
            Ok(raw) => tables.netlink.extend(lines(&raw).filter_map(parse_netlink)),
            Err(why) => tables.missing.push(("netlink", why)),
        }
        tables
    }

    /// The tables of `process`'s network namespace.
    pub fn of_process(process: &ProcessDir) -> Self {
        Self::read(|name| process.read(&format!("net/{name}")))
    }

    /// The tables of our own network namespace (`net` below the proc root).
    pub fn of_root(procfs: &ProcFs) -> Self {
        Self::read(|name| procfs.read(&format!("net/{name}")))
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
            by_inode.insert(inode, KnownSocket::Netlink(protocol));
        }
        SocketIndex { by_inode }
    }
}

/// A socket found by its inode.
#[derive(Debug, Clone, Copy)]
pub enum KnownSocket<'a> {
    Inet(Proto, &'a InetSocket),
    Unix(&'a UnixSocket),
    Netlink(u32),
}

/// Sockets by inode.
#[derive(Default)]
pub struct SocketIndex<'a> {
    pub by_inode: HashMap<u64, KnownSocket<'a>>,
}

fn lines(raw: &[u8]) -> impl Iterator<Item = &[u8]> {
    raw.split(|&b| b == b'\n').filter(|line| !line.is_empty())
}

//! Who holds a port: the socket tables of every network namespace (ours through the proc
//! root, each other one once through one of its processes) and the processes holding each
//! listener. Shared by `ports` (which lists them) and `kill --port` (which selects them).

use std::collections::HashSet;

use crate::collect::ProcFs;
use crate::collect::holders::{HolderScan, Kind, netns_of, scan_holders};
use crate::collect::net::{Proto, SocketTables, Wanted};
use crate::exit::{Exit, Failure};
use crate::parse::net::InetSocket;

/// One listening socket on the port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortListener {
    /// The network namespace (inode) of its table, when known.
    pub netns: Option<u64>,
    pub inode: u64,
    /// Every process holding it, in PID order, each once.
    pub pids: Vec<u32>,
}

/// The listeners on one port across every namespace.
#[derive(Debug, Clone)]
pub struct PortHolders {
    /// procscope's own network namespace, when it could be read.
    pub own_netns: Option<u64>,
    pub listeners: Vec<PortListener>,
}

/// procscope's own network namespace (inode), read through the proc root.
pub fn own_netns(procfs: &ProcFs) -> Option<u64> {
    procfs
        .process(std::process::id())
        .ok()
        .and_then(|dir| netns_of(&dir))
}

/// True for a listening TCP socket or a bound, unconnected UDP socket.
pub fn is_listening(proto: Proto, socket: &InetSocket) -> bool {
    if proto.is_tcp() {
        socket.state == 0x0A
    } else {
        socket.remote.1 == 0
    }
}

/// The socket tables (those `wanted` names) of every network namespace: ours through the
/// proc root, each other one once, through one of its processes. Without any namespace
/// known (a fixture tree), the proc root's tables alone. Fails (fatal) when no table at all
/// can be read.
pub fn socket_tables(
    procfs: &ProcFs,
    holders: &HolderScan,
    own: Option<u64>,
    wanted: Wanted,
) -> anyhow::Result<Vec<(Option<u64>, SocketTables)>> {
    let mut tables = Vec::new();
    if let Some(own) = own {
        tables.push((Some(own), SocketTables::of_root_only(procfs, wanted)));
    }
    let mut seen: HashSet<u64> = own.into_iter().collect();
    let mut by_pid: Vec<(&u32, &u64)> = holders.netns.iter().collect();
    by_pid.sort();
    for (&pid, &netns) in by_pid {
        if seen.insert(netns)
            && let Ok(dir) = procfs.process(pid)
        {
            tables.push((Some(netns), SocketTables::of_process_only(&dir, wanted)));
        }
    }
    if tables.is_empty() {
        tables.push((None, SocketTables::of_root_only(procfs, wanted)));
    }
    let unreadable = |t: &SocketTables| {
        Proto::ALL
            .iter()
            .all(|p| t.missing.iter().any(|(name, _)| *name == p.name()))
    };
    if tables.iter().all(|(_, t)| unreadable(t)) {
        return Err(Failure {
            exit: Exit::Fatal,
            message: format!(
                "no socket tables under {}/net (a proc mounted with subset=pid has none): sockets cannot be listed",
                procfs.root().display()
            ),
        }
        .into());
    }
    Ok(tables)
}

/// The listening TCP and bound UDP sockets on `port` in every namespace, with their holders.
pub fn listeners_on(procfs: &ProcFs, port: u16) -> anyhow::Result<PortHolders> {
    let holders = scan_holders(procfs, Kind::Sockets, true);
    let own_netns = own_netns(procfs);
    let listeners = Wanted {
        listening_only: true,
        unix: false,
        netlink: false,
    };
    let tables = socket_tables(procfs, &holders, own_netns, listeners)?;
    let mut listeners = Vec::new();
    for (netns, table) in &tables {
        for (proto, socket) in &table.inet {
            if socket.local.1 == port && is_listening(*proto, socket) {
                listeners.push(PortListener {
                    netns: *netns,
                    inode: socket.inode,
                    pids: pids_holding(&holders, socket.inode),
                });
            }
        }
    }
    Ok(PortHolders {
        own_netns,
        listeners,
    })
}

/// The processes holding socket `inode`, each once (inode 0: a socket no file refers to).
fn pids_holding(holders: &HolderScan, inode: u64) -> Vec<u32> {
    let mut pids: Vec<u32> = Vec::new();
    if inode == 0 {
        return pids;
    }
    for holder in holders.by_inode.get(&inode).into_iter().flatten() {
        if !pids.contains(&holder.pid) {
            pids.push(holder.pid);
        }
    }
    pids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::holders::Holder;

    #[test]
    fn our_own_listener_is_found_with_us_as_its_holder() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let procfs = ProcFs::open(std::path::Path::new("/proc")).unwrap();
        let found = listeners_on(&procfs, port).unwrap();
        let ours: Vec<&PortListener> = found
            .listeners
            .iter()
            .filter(|l| l.pids.contains(&std::process::id()))
            .collect();
        assert_eq!(ours.len(), 1, "{:?}", found.listeners);
        assert_eq!(ours[0].netns, found.own_netns);
        drop(listener);
    }

    #[test]
    fn a_process_holding_a_socket_twice_is_listed_once() {
        let mut holders = HolderScan::default();
        holders.by_inode.insert(
            7,
            vec![
                Holder { pid: 10, fd: 3 },
                Holder { pid: 10, fd: 4 },
                Holder { pid: 12, fd: 3 },
            ],
        );
        assert_eq!(pids_holding(&holders, 7), vec![10, 12]);
        assert_eq!(pids_holding(&holders, 0), Vec::<u32>::new());
        assert_eq!(pids_holding(&holders, 8), Vec::<u32>::new());
    }
}

//! Which processes hold which sockets or pipes: every process's fd table read, each
//! `socket:[N]` / `pipe:[N]` link noted by inode (the kernel keeps no reverse index).

use std::collections::HashMap;

use crate::collect::fds::inode_of;
use crate::collect::scan::scan;
use crate::collect::{ProcFs, ProcessDir};
use crate::model::Unavailable;

/// One descriptor that refers to an inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    pub fd: u32,
}

/// The result of reading every fd table.
#[derive(Debug, Default)]
pub struct HolderScan {
    /// Inode → every (process, fd) that holds it, in PID order.
    pub by_inode: HashMap<u64, Vec<Holder>>,
    /// Each process's network namespace inode (when asked for).
    pub netns: HashMap<u32, u64>,
    /// Processes whose fd table we may not read (another user's, without privileges).
    pub denied: usize,
}

/// What to look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sockets,
    Pipes,
}

impl Kind {
    fn prefix(self) -> &'static [u8] {
        match self {
            Kind::Sockets => b"socket",
            Kind::Pipes => b"pipe",
        }
    }
}

/// Reads every process's fd table and notes the holders of every socket (or pipe), and with
/// `with_netns` each process's network namespace.
pub fn scan_holders(procfs: &ProcFs, kind: Kind, with_netns: bool) -> HolderScan {
    let Ok(pids) = procfs.pids() else {
        return HolderScan::default();
    };
    let prefix = kind.prefix();
    let scanned = scan(&pids, |pid| {
        let dir = procfs.process(pid)?;
        let netns = if with_netns { netns_of(&dir) } else { None };
        let held = match dir.numeric_entries("fd") {
            Ok(fds) => read_links(&dir, pid, &fds, prefix),
            Err(Unavailable::Gone) => return Err(Unavailable::Gone),
            Err(why) => Err(why),
        };
        Ok(Some((pid, netns, held)))
    });
    let mut result = HolderScan::default();
    for (pid, netns, held) in scanned.rows {
        if let Some(netns) = netns {
            result.netns.insert(pid, netns);
        }
        match held {
            Ok(held) => {
                for (inode, holder) in held {
                    result.by_inode.entry(inode).or_default().push(holder);
                }
            }
            Err(_) => result.denied += 1,
        }
    }
    result
}

/// The holders among `fds` of one process. Listing `fd/` can succeed where reading the
/// links is refused (a process with capabilities we lack): that counts as denied.
fn read_links(
    dir: &ProcessDir,
    pid: u32,
    fds: &[u32],
    prefix: &[u8],
) -> Result<Vec<(u64, Holder)>, Unavailable> {
    let mut held = Vec::new();
    for &fd in fds {
        match dir.readlink(&format!("fd/{fd}")) {
            Ok(target) => {
                held.extend(inode_of(&target, prefix).map(|inode| (inode, Holder { pid, fd })))
            }
            Err(Unavailable::PermissionDenied) => return Err(Unavailable::PermissionDenied),
            Err(_) => {}
        }
    }
    Ok(held)
}

/// The inode of a process's network namespace (`net:[4026531840]`).
pub fn netns_of(dir: &ProcessDir) -> Option<u64> {
    let link = dir.readlink("ns/net").ok()?;
    inode_of(&link, b"net")
}

//! Which processes hold which sockets or pipes: every process's fd table read, each
//! `socket:[N]` / `pipe:[N]` link noted by inode (the kernel keeps no reverse index).

use std::collections::HashMap;

use crate::collect::procfs::FdTable;
use crate::collect::scan::scan;
use crate::collect::{ProcFs, ProcessDir};
use crate::model::Unavailable;
use crate::parse::link::inode_of;

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

/// Processes with more descriptors than this have their links read in a second, shared
/// pass, so that one process with 10000 descriptors is split across the reader threads.
const BIG_FD_TABLE: usize = 256;

/// Reads every process's fd table and notes the holders of every socket (or pipe), and with
/// `with_netns` each process's network namespace.
pub fn scan_holders(procfs: &ProcFs, kind: Kind, with_netns: bool) -> HolderScan {
    scan_holders_except(procfs, kind, with_netns, None)
}

/// As [`scan_holders`], without reading the table of process `except` (a caller that has
/// read that table already adds its holders itself: `fds` on 10000 descriptors saves 10000
/// link reads).
pub fn scan_holders_except(
    procfs: &ProcFs,
    kind: Kind,
    with_netns: bool,
    except: Option<u32>,
) -> HolderScan {
    let Ok(mut pids) = procfs.pids() else {
        return HolderScan::default();
    };
    pids.retain(|&pid| Some(pid) != except);
    let prefix = kind.prefix();
    let first = scan(&pids, |pid| {
        let mut table = match procfs.fd_table(pid) {
            Ok(table) => table,
            Err(Unavailable::Gone) => return Err(Unavailable::Gone),
            Err(why) => return Ok(Some((pid, None, Table::Read(Err(why))))),
        };
        let fds = match table.fds() {
            Ok(fds) => fds,
            Err(why) => return Ok(Some((pid, None, Table::Read(Err(why))))),
        };
        let netns_of_pid = || {
            procfs
                .readlink(&format!("{pid}/ns/net"))
                .ok()
                .and_then(|l| inode_of(&l, b"net"))
        };
        if fds.len() > BIG_FD_TABLE {
            let netns = if with_netns { netns_of_pid() } else { None };
            return Ok(Some((pid, netns, Table::Big(table, fds))));
        }
        let held = read_links(&table, pid, &fds, prefix);
        // Only a namespace with a socket holder matters, and most processes hold none.
        let holds_any = held.as_ref().is_ok_and(|held| !held.is_empty());
        let netns = if with_netns && holds_any {
            netns_of_pid()
        } else {
            None
        };
        Ok(Some((pid, netns, Table::Read(held))))
    });
    let mut result = HolderScan::default();
    let mut big = Vec::new();
    for (pid, netns, table) in first.rows {
        if let Some(netns) = netns {
            result.netns.insert(pid, netns);
        }
        match table {
            Table::Read(Ok(held)) => result.add(held),
            Table::Read(Err(_)) => result.denied += 1,
            Table::Big(table, fds) => big.push((pid, table, fds)),
        }
    }
    result.add_big_tables(&big, prefix);
    for list in result.by_inode.values_mut() {
        list.sort_by_key(|holder| (holder.pid, holder.fd));
    }
    result
}

/// True when `pid` holds a descriptor for socket `inode` now (read through one fd table).
pub fn holds_socket(procfs: &ProcFs, pid: u32, inode: u64) -> bool {
    let Ok(mut table) = procfs.fd_table(pid) else {
        return false;
    };
    let Ok(fds) = table.fds() else {
        return false;
    };
    read_links(&table, pid, &fds, Kind::Sockets.prefix())
        .is_ok_and(|held| held.iter().any(|(held_inode, _)| *held_inode == inode))
}

/// A process's fd table after the first pass.
enum Table {
    /// Read already: the holders found, or why the table could not be read.
    Read(Result<Vec<(u64, Holder)>, Unavailable>),
    /// Too big for one reader thread: its table and descriptors, for the second pass.
    Big(FdTable, Vec<u32>),
}

impl HolderScan {
    /// Notes holders found elsewhere (call before the scan's lists are used: it keeps them
    /// in PID order).
    pub fn add_sorted(&mut self, held: Vec<(u64, Holder)>) {
        self.add(held);
        for list in self.by_inode.values_mut() {
            list.sort_by_key(|holder| (holder.pid, holder.fd));
        }
    }

    fn add(&mut self, held: Vec<(u64, Holder)>) {
        for (inode, holder) in held {
            self.by_inode.entry(inode).or_default().push(holder);
        }
    }

    /// Reads the links of the big tables as one shared list of (table, fd), so the reader
    /// threads meet once rather than once per table. A table with a link we may not read
    /// counts as denied and adds no holders.
    fn add_big_tables(&mut self, big: &[(u32, FdTable, Vec<u32>)], prefix: &[u8]) {
        let tables: Vec<&[u32]> = big.iter().map(|(_, _, fds)| fds.as_slice()).collect();
        let items = interleaved(&tables);
        let links = scan(&items, |(index, fd)| {
            let (pid, table, _) = &big[index];
            Ok(match table.linked_inode(fd, prefix) {
                Ok(inode) => inode.map(|inode| (index, Ok((inode, Holder { pid: *pid, fd })))),
                Err(Unavailable::PermissionDenied) => Some((index, Err(()))),
                Err(_) => None,
            })
        });
        let mut denied = vec![false; big.len()];
        for (index, link) in &links.rows {
            denied[*index] |= link.is_err();
        }
        self.denied += denied.iter().filter(|&&d| d).count();
        let held = (links.rows.into_iter())
            .filter(|(index, _)| !denied[*index])
            .filter_map(|(_, link)| link.ok())
            .collect();
        self.add(held);
    }
}

/// Descriptors in a run of the shared list of big tables' links.
const RUN: usize = 64;

/// The big tables' (table, fd) pairs in runs of [`RUN`], each run from the table with the
/// most runs left other than the previous run's: the readers take neighbouring runs, so they
/// mostly read different processes (two readers on one process contend for its locks,
/// about 15% more time per link).
fn interleaved(tables: &[&[u32]]) -> Vec<(usize, u32)> {
    let mut runs: Vec<_> = tables.iter().map(|fds| fds.chunks(RUN)).collect();
    let mut left: Vec<usize> = tables.iter().map(|fds| fds.len().div_ceil(RUN)).collect();
    let mut items = Vec::with_capacity(tables.iter().map(|fds| fds.len()).sum());
    let mut last = usize::MAX;
    loop {
        let others = (0..left.len()).filter(|&i| left[i] > 0 && i != last);
        let pick = (others.max_by_key(|&i| left[i]))
            .or_else(|| left.get(last).is_some_and(|&l| l > 0).then_some(last));
        let Some(index) = pick else {
            return items;
        };
        left[index] -= 1;
        let run = runs[index].next().unwrap_or_default();
        items.extend(run.iter().map(|&fd| (index, fd)));
        last = index;
    }
}

/// The holders among `fds` of one process. Listing `fd/` can succeed where reading the
/// links is refused (a process with capabilities we lack): that counts as denied.
fn read_links(
    table: &FdTable,
    pid: u32,
    fds: &[u32],
    prefix: &[u8],
) -> Result<Vec<(u64, Holder)>, Unavailable> {
    let mut held = Vec::new();
    for &fd in fds {
        match table.linked_inode(fd, prefix) {
            Ok(inode) => held.extend(inode.map(|inode| (inode, Holder { pid, fd }))),
            Err(Unavailable::PermissionDenied) => return Err(Unavailable::PermissionDenied),
            Err(_) => {}
        }
    }
    Ok(held)
}

/// The access mode (`O_ACCMODE` bits: 0 read, 1 write, 2 both) a holder opened its
/// descriptor with, from its fdinfo flags: which end of a pipe it holds.
pub fn access_mode(procfs: &ProcFs, holder: Holder) -> Option<u32> {
    let raw = procfs
        .read(&format!("{}/fdinfo/{}", holder.pid, holder.fd))
        .ok()?;
    crate::parse::fdinfo::parse_fdinfo(&raw)
        .flags
        .map(|flags| flags & 0o3)
}

/// The inode of a process's network namespace (`net:[4026531840]`).
pub fn netns_of(dir: &ProcessDir) -> Option<u64> {
    let link = dir.readlink("ns/net").ok()?;
    inode_of(&link, b"net")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn runs_alternate_between_tables_while_two_have_some_left() {
        let big: Vec<u32> = (0..5 * RUN as u32).collect();
        let small: Vec<u32> = (0..2 * RUN as u32 + 1).collect();
        let items = interleaved(&[&big, &small]);
        let tables: Vec<usize> = items.chunks(RUN).map(|run| run[0].0).collect();
        assert_eq!(tables, vec![0, 1, 0, 1, 0, 1, 0, 0]);
        // Every descriptor once, each table's in ascending order.
        for (index, fds) in [&big, &small].into_iter().enumerate() {
            let of_table: Vec<u32> = items.iter().filter(|i| i.0 == index).map(|i| i.1).collect();
            assert_eq!(&of_table, fds);
        }
        assert!(interleaved(&[]).is_empty());
    }

    #[test]
    fn links_are_read_whole_and_a_long_path_is_no_socket() {
        let dir = std::env::temp_dir().join(format!(
            "procscope-{}-{}",
            std::process::id(),
            "x".repeat(80)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let file = std::fs::File::create(dir.join("socket:[1]")).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let (reader, writer) = std::io::pipe().unwrap();
        let procfs = ProcFs::open(std::path::Path::new("/proc")).unwrap();
        let mut table = procfs.fd_table(std::process::id()).unwrap();
        let fds = table.fds().unwrap();
        let socket = table
            .linked_inode(listener.as_raw_fd() as u32, b"socket")
            .unwrap();
        let link = std::fs::read_link(format!("/proc/self/fd/{}", listener.as_raw_fd())).unwrap();
        assert_eq!(
            socket,
            inode_of(link.to_string_lossy().as_bytes(), b"socket")
        );
        assert!(socket.is_some());
        assert_eq!(
            table
                .linked_inode(file.as_raw_fd() as u32, b"socket")
                .unwrap(),
            None
        );
        let pipe = table
            .linked_inode(reader.as_raw_fd() as u32, b"pipe")
            .unwrap();
        assert_eq!(
            pipe,
            table
                .linked_inode(writer.as_raw_fd() as u32, b"pipe")
                .unwrap()
        );
        assert!(pipe.is_some());
        assert!(fds.contains(&(listener.as_raw_fd() as u32)));
        drop(file);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

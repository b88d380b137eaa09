//! The open file descriptors of one process: each link target, its fdinfo, and for paths
//! the file type.

use std::collections::HashMap;

use rustix::fs::{AtFlags, FileType};

use crate::collect::ProcessDir;
use crate::collect::process::Field;
use crate::collect::scan::scan;
use crate::model::Unavailable;
use crate::parse::fdinfo::{FdInfo, parse_fdinfo};
use crate::parse::link::inode_of;

/// What the kernel says about one descriptor.
#[derive(Debug, Clone)]
pub struct FdEntry {
    pub fd: u32,
    /// The link target: a path, `socket:[N]`, `pipe:[N]`, `anon_inode:[eventfd]`...
    pub target: Vec<u8>,
    pub info: Field<FdInfo>,
    /// The type of the file a path target names (regular, directory, device, FIFO).
    pub file_type: Option<FileType>,
    /// Why the link could not be read (`target` is then empty): the descriptor still
    /// counts, as `lsof` lists it, when the kernel lists the fd directory but denies the
    /// links (a process with capabilities the reader lacks).
    pub target_unavailable: Option<Unavailable>,
    /// The link count of that file (`st_nlink`): 0 for a deleted file. `None` when the file
    /// could not be stat'ed (or the target is not a path).
    pub nlink: Option<u64>,
}

/// Reads every descriptor of a process; a descriptor closed during the read is skipped.
/// The file type of a path is asked once per file (by mount and inode from fdinfo), not
/// once per descriptor: 10000 descriptors on `/dev/null` cost one `stat`.
pub fn read_fds(dir: &ProcessDir) -> Field<Vec<FdEntry>> {
    let fds = dir.numeric_entries("fd")?;
    let fd_dir = dir.subdir("fd")?;
    let info_dir = dir.subdir("fdinfo");
    let mut entries = scan(&fds, |fd| {
        let name = fd.to_string();
        let (target, target_unavailable) = match fd_dir.readlink(&name) {
            Ok(target) => (target, None),
            // Closed since the listing: skipped.
            Err(Unavailable::Gone) => return Err(Unavailable::Gone),
            Err(why) => (Vec::new(), Some(why)),
        };
        let info = info_dir
            .as_ref()
            .map_err(|why| *why)
            .and_then(|info_dir| info_dir.read_whole(&name, 1 << 20))
            .map(|raw| parse_fdinfo(&raw));
        Ok(Some(FdEntry {
            fd,
            target,
            info,
            file_type: None,
            target_unavailable,
            nlink: None,
        }))
    })
    .rows;
    let file_key = |entry: &FdEntry| {
        let info = entry.info.as_ref().ok()?;
        (entry.target.first() == Some(&b'/')).then_some((info.mnt_id?, info.ino?))
    };
    let mut representatives: HashMap<(u64, u64), u32> = HashMap::new();
    for entry in &entries {
        if let Some(key) = file_key(entry) {
            representatives.entry(key).or_insert(entry.fd);
        }
    }
    let to_stat: Vec<((u64, u64), u32)> = representatives.into_iter().collect();
    let types: HashMap<(u64, u64), (FileType, u64)> = scan(&to_stat, |(key, fd)| {
        // Through the handle on `fd/`: one path component to look up, not two.
        Ok(fd_dir
            .stat_target(&fd.to_string())
            .ok()
            .map(|kind| (key, kind)))
    })
    .rows
    .into_iter()
    .collect();
    for entry in &mut entries {
        let stat = match file_key(entry) {
            Some(key) => types.get(&key).copied(),
            // No fdinfo (denied or raced): ask about this descriptor itself.
            None if entry.target.first() == Some(&b'/') => {
                dir.stat_target(&format!("fd/{}", entry.fd)).ok()
            }
            None => None,
        };
        entry.file_type = stat.map(|(kind, _)| kind);
        entry.nlink = stat.map(|(_, nlink)| nlink);
    }
    Ok(entries)
}

/// The soft limit on open files (`Max open files` in `limits`), `None` when unlimited or
/// unreadable.
pub fn open_files_soft_limit(dir: &ProcessDir) -> Option<u64> {
    let raw = dir.read("limits").ok()?;
    let limits = crate::parse::limits::parse_limits(&raw);
    limits
        .into_iter()
        .find(|limit| limit.name == "Max open files")?
        .soft
}

/// The descriptors the epoll instance `epfd` of a process watches (its fdinfo `tfd:` lines).
pub fn epoll_targets(dir: &ProcessDir, epfd: i32) -> Option<Vec<i32>> {
    let raw = dir.read_whole(&format!("fdinfo/{epfd}"), 1 << 20).ok()?;
    Some(parse_fdinfo(&raw).epoll_targets)
}

/// The socket inode behind descriptor `fd` of a process, if it is a socket.
pub fn socket_inode(dir: &ProcessDir, fd: i32) -> Option<u64> {
    inode_of(&dir.readlink(&format!("fd/{fd}")).ok()?, b"socket")
}

impl ProcessDir {
    /// The type and link count of the file a link (`fd/3`) points to.
    pub fn stat_target(&self, link: &str) -> Result<(FileType, u64), Unavailable> {
        let stat = rustix::fs::statat(self.handle(), link, AtFlags::empty())
            .map_err(|errno| Unavailable::from_errno(errno.raw_os_error()))?;
        Ok((FileType::from_raw_mode(stat.st_mode), stat.st_nlink as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inodes_of_sockets_and_pipes() {
        assert_eq!(inode_of(b"socket:[327179]", b"socket"), Some(327179));
        assert_eq!(inode_of(b"pipe:[12]", b"pipe"), Some(12));
        assert_eq!(inode_of(b"pipe:[12]", b"socket"), None);
        assert_eq!(inode_of(b"socket:[x]", b"socket"), None);
        assert_eq!(inode_of(b"/tmp/socket:[1]", b"socket"), None);
    }
}

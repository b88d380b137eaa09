//! The open file descriptors of one process: each link target, its fdinfo, and for paths
//! the file type.

use rustix::fs::{AtFlags, FileType};

use crate::collect::ProcessDir;
use crate::collect::process::Field;
use crate::collect::scan::scan;
use crate::model::Unavailable;
use crate::parse::fdinfo::{FdInfo, parse_fdinfo};

/// What the kernel says about one descriptor.
#[derive(Debug, Clone)]
pub struct FdEntry {
    pub fd: u32,
    /// The link target: a path, `socket:[N]`, `pipe:[N]`, `anon_inode:[eventfd]`...
    pub target: Vec<u8>,
    pub info: Field<FdInfo>,
    /// The type of the file a path target names (regular, directory, device, FIFO).
    pub file_type: Option<FileType>,
}

/// Reads every descriptor of a process; a descriptor closed during the read is skipped.
pub fn read_fds(dir: &ProcessDir) -> Field<Vec<FdEntry>> {
    let fds = dir.numeric_entries("fd")?;
    let scanned = scan(&fds, |fd| {
        let target = dir.readlink(&format!("fd/{fd}"))?;
        let info = dir
            .read_whole(&format!("fdinfo/{fd}"), 1 << 20)
            .map(|raw| parse_fdinfo(&raw));
        let file_type = (target.first() == Some(&b'/'))
            .then(|| dir.stat_target(&format!("fd/{fd}")))
            .and_then(Result::ok);
        Ok(Some(FdEntry {
            fd,
            target,
            info,
            file_type,
        }))
    });
    Ok(scanned.rows)
}

/// The inode in `socket:[N]` or `pipe:[N]` when the target has that prefix.
pub fn inode_of(target: &[u8], prefix: &[u8]) -> Option<u64> {
    let rest = target.strip_prefix(prefix)?.strip_prefix(b":[")?;
    let digits = rest.strip_suffix(b"]")?;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

impl ProcessDir {
    /// The type of the file a link (`fd/3`) points to.
    pub fn stat_target(&self, link: &str) -> Result<FileType, Unavailable> {
        let stat = rustix::fs::statat(self.handle(), link, AtFlags::empty())
            .map_err(|errno| Unavailable::from_errno(errno.raw_os_error()))?;
        Ok(FileType::from_raw_mode(stat.st_mode))
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

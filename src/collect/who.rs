//! Who holds a file: every process's fd table, cwd, root, executable and file mappings
//! matched by (device, inode) against a set of targets, each process read through its own
//! directory handle; and the deleted-but-open files of the whole system. Matching never
//! compares path text, so a renamed, moved or hard-linked file is still found.

use std::collections::{HashMap, HashSet};

use rustix::fs::{AtFlags, FileType};

use crate::collect::scan::scan;
use crate::collect::{ProcFs, ProcessDir};
use crate::model::Unavailable;
use crate::parse::fdinfo::{FdInfo, parse_fdinfo};
use crate::parse::maps::parse_maps;

/// A file by its identity: (device, inode).
pub type FileId = (u64, u64);

/// What files to look for.
#[derive(Debug, Clone)]
pub enum Wanted {
    /// These exact files.
    Files(HashSet<FileId>),
    /// Every file on these devices (mount points, `fuser -m`).
    Devices(HashSet<u64>),
    /// Every open file whose link count is 0 (deleted but open, `lsof +L1`).
    Deleted,
}

/// How a process holds a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    Cwd,
    Root,
    Exe,
    Fd(u32),
    /// Mapped into memory (a library, a mapped data file) without a descriptor.
    Mapped,
}

/// One hold on one file.
#[derive(Debug, Clone)]
pub struct Hold {
    pub pid: u32,
    pub access: Access,
    pub file: FileId,
    /// The link target (`/var/log/app.log (deleted)`) or maps path, raw bytes.
    pub path: Vec<u8>,
    /// The file's size and link count, from `fstat` through the link.
    pub size: Option<u64>,
    pub nlink: Option<u64>,
    pub file_type: Option<FileType>,
    /// For a descriptor: its offset and open flags (fdinfo), or why they are unknown.
    pub info: Option<Result<FdInfo, Unavailable>>,
}

/// Every hold found, with the processes that could not be read.
#[derive(Debug, Default)]
pub struct HoldScan {
    pub holds: Vec<Hold>,
    /// Processes whose fd table (or cwd, root, exe, maps) we may not read.
    pub denied: usize,
}

/// The identity, size and link count of a link (`fd/3`, `cwd`) below a process directory.
fn stat_link(dir: &ProcessDir, link: &str) -> Result<rustix::fs::Stat, Unavailable> {
    rustix::fs::statat(dir.handle(), link, AtFlags::empty())
        .map_err(|errno| Unavailable::from_errno(errno.raw_os_error()))
}

/// The identity of a file the user named (following symbolic links, as `lsof FILE` does).
pub fn identify(path: &std::path::Path) -> std::io::Result<(FileId, FileType, u64)> {
    let stat = rustix::fs::stat(path)?;
    Ok((
        (stat.st_dev, stat.st_ino),
        FileType::from_raw_mode(stat.st_mode),
        stat.st_rdev,
    ))
}

/// Every file below `root` (not following symbolic links), with the path found for it.
/// Directories that cannot be read are counted, not fatal.
pub fn walk(root: &std::path::Path) -> (HashMap<FileId, Vec<u8>>, usize) {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    let mut found = HashMap::new();
    let mut unreadable = 0;
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        if let Ok(meta) = std::fs::symlink_metadata(&dir) {
            found
                .entry((meta.dev(), meta.ino()))
                .or_insert_with(|| dir.as_os_str().as_bytes().to_vec());
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            unreadable += 1;
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            let path = entry.path();
            if meta.is_dir() {
                pending.push(path);
            } else {
                found
                    .entry((meta.dev(), meta.ino()))
                    .or_insert_with(|| path.as_os_str().as_bytes().to_vec());
            }
        }
    }
    (found, unreadable)
}

impl Wanted {
    fn matches(&self, stat: &rustix::fs::Stat) -> bool {
        match self {
            Wanted::Files(files) => files.contains(&(stat.st_dev, stat.st_ino)),
            Wanted::Devices(devices) => devices.contains(&stat.st_dev),
            Wanted::Deleted => {
                stat.st_nlink == 0 && FileType::from_raw_mode(stat.st_mode) != FileType::Socket
            }
        }
    }

    fn matches_mapping(&self, device: (u32, u32), inode: u64) -> Option<u64> {
        let dev = rustix::fs::makedev(device.0, device.1);
        let hit = match self {
            Wanted::Files(files) => files.contains(&(dev, inode)),
            Wanted::Devices(devices) => devices.contains(&dev),
            Wanted::Deleted => false,
        };
        hit.then_some(dev)
    }
}

/// Reads every process and returns each hold on a wanted file, in PID order.
pub fn scan_holds(procfs: &ProcFs, wanted: &Wanted) -> HoldScan {
    let Ok(pids) = procfs.pids() else {
        return HoldScan::default();
    };
    let found = scan(&pids, |pid| {
        let dir = procfs.process(pid)?;
        Ok(Some(holds_of(&dir, wanted)))
    });
    let mut result = HoldScan::default();
    for (holds, denied) in found.rows {
        result.holds.extend(holds);
        result.denied += usize::from(denied);
    }
    result
}

/// The holds of one process, and whether part of it could not be read.
fn holds_of(dir: &ProcessDir, wanted: &Wanted) -> (Vec<Hold>, bool) {
    let mut holds = Vec::new();
    let mut denied = false;
    let mut has_executable = true;
    for (link, access) in [
        ("cwd", Access::Cwd),
        ("root", Access::Root),
        ("exe", Access::Exe),
    ] {
        match stat_link(dir, link) {
            Ok(stat) if wanted.matches(&stat) => {
                holds.push(hold(dir, access, link, &stat, None));
            }
            Err(Unavailable::PermissionDenied) => denied = true,
            // No executable: a kernel thread or a zombie (no memory, no open files), or a
            // process gone since the listing. Its fd table and maps are not read.
            Err(Unavailable::Gone) if access == Access::Exe => has_executable = false,
            _ => {}
        }
    }
    if !has_executable {
        return (holds, denied);
    }
    denied |= fd_holds(dir, wanted, &mut holds);
    if !matches!(wanted, Wanted::Deleted) {
        denied |= mapped_holds(dir, wanted, &mut holds);
    }
    (holds, denied)
}

/// The descriptors of one process on wanted files: one `stat` per descriptor, and the
/// link and fdinfo read only for the matches. True when the table could not be read.
fn fd_holds(dir: &ProcessDir, wanted: &Wanted, holds: &mut Vec<Hold>) -> bool {
    // Listed, then stat'ed as `fd/N` through the process's own handle: no second handle
    // on `fd/` to open and close per process.
    let fds = match dir.numeric_entries("fd") {
        Ok(fds) => fds,
        Err(why) => return why == Unavailable::PermissionDenied,
    };
    // A big table is stat'ed through a handle on `fd/` itself: one lookup per descriptor
    // instead of two (`fd`, then `N`), for the cost of one more open and close.
    let fd_dir = (fds.len() > BIG_TABLE)
        .then(|| dir.subdir("fd").ok())
        .flatten();
    for fd in fds {
        let link = format!("fd/{fd}");
        let stat = match &fd_dir {
            Some(fd_dir) => stat_link(fd_dir, &fd.to_string()),
            None => stat_link(dir, &link),
        };
        match stat {
            Ok(stat) if wanted.matches(&stat) => {
                let info = dir
                    .read_whole(&format!("fdinfo/{fd}"), 1 << 16)
                    .map(|raw| parse_fdinfo(&raw));
                holds.push(hold(dir, Access::Fd(fd), &link, &stat, Some(info)));
            }
            Err(Unavailable::PermissionDenied) => return true,
            _ => {}
        }
    }
    false
}

/// Descriptor tables larger than this are stat'ed through their own directory handle.
const BIG_TABLE: usize = 16;

fn hold(
    dir: &ProcessDir,
    access: Access,
    link: &str,
    stat: &rustix::fs::Stat,
    info: Option<Result<FdInfo, Unavailable>>,
) -> Hold {
    Hold {
        pid: dir.pid(),
        access,
        file: (stat.st_dev, stat.st_ino),
        path: dir.readlink(link).unwrap_or_default(),
        size: Some(stat.st_size as u64),
        #[allow(clippy::useless_conversion)] // u32 on some architectures
        nlink: Some(u64::from(stat.st_nlink)),
        file_type: Some(FileType::from_raw_mode(stat.st_mode)),
        info,
    }
}

/// Files mapped into memory (maps lines name device and inode), each file once per process.
/// True when maps could not be read.
fn mapped_holds(dir: &ProcessDir, wanted: &Wanted, holds: &mut Vec<Hold>) -> bool {
    let raw = match dir.read("maps") {
        Ok(raw) => raw,
        Err(why) => return why == Unavailable::PermissionDenied,
    };
    // The executable is listed once (as `exe`); other files may be both open and mapped.
    let mut seen: HashSet<FileId> = holds
        .iter()
        .filter(|h| h.access == Access::Exe)
        .map(|h| h.file)
        .collect();
    for mapping in parse_maps(&raw) {
        if mapping.inode == 0 {
            continue;
        }
        let Some(dev) = wanted.matches_mapping(mapping.device, mapping.inode) else {
            continue;
        };
        if seen.insert((dev, mapping.inode)) {
            holds.push(Hold {
                pid: dir.pid(),
                access: Access::Mapped,
                file: (dev, mapping.inode),
                path: mapping.path,
                size: None,
                nlink: None,
                file_type: None,
                info: None,
            });
        }
    }
    false
}

//! Opening the file behind a mapping as the target process sees it, without letting the
//! process choose which file we read: the path from `maps` is another user's data, so the
//! file is opened through the kernel's own reference (`map_files/START-END`) when we may,
//! else below the process's root with `openat2` refusing every symlink and magic link, and
//! either way it is trusted only if it is a regular file whose device and inode are the ones
//! the maps line names. Files are read on demand, never loaded whole.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{Mode, OFlags, ResolveFlags};

use crate::collect::procfs::ProcessDir;
use crate::parse::maps::Mapping;

/// The file behind a mapping, if one could be opened.
#[derive(Debug)]
pub enum ModuleFile {
    /// A regular file with the device and inode of the maps line.
    Verified(File),
    /// No file at that path (or no path at all): nothing to trust or distrust.
    Missing,
    /// No file, or one that is not provably the mapped one (a symlink or mount put over
    /// the path, a replaced file, a file system whose `stat` device differs from maps').
    Unverified,
}

impl ModuleFile {
    pub fn verified(self) -> Option<File> {
        match self {
            Self::Verified(file) => Some(file),
            Self::Missing | Self::Unverified => None,
        }
    }
}

const OPEN_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::NONBLOCK)
    .union(OFlags::NOCTTY)
    .union(OFlags::CLOEXEC);

/// Path resolution that stays inside a root and follows no link of any kind.
const RESOLVE: ResolveFlags = ResolveFlags::IN_ROOT
    .union(ResolveFlags::NO_SYMLINKS)
    .union(ResolveFlags::NO_MAGICLINKS);

/// The module file behind `mapping`: through `map_files/START-END` (the mapped file itself;
/// needs privileges), else `PATH` below the process's root without following links. Either
/// way it must be a regular file with the mapping's device and inode.
pub fn open_module(process: &ProcessDir, mapping: &Mapping) -> ModuleFile {
    if !mapping.is_file() {
        return ModuleFile::Missing;
    }
    let range = format!("map_files/{:x}-{:x}", mapping.start, mapping.end);
    let opened = match process.open(range.as_bytes()) {
        Ok(file) => Ok(OwnedFd::from(file)),
        Err(_) => open_in_root(process, &mapping.path),
    };
    match opened {
        Ok(fd) if is_file_of(&fd, mapping.device, mapping.inode) => {
            ModuleFile::Verified(File::from(fd))
        }
        Ok(_) => ModuleFile::Unverified,
        // A link on the way (ELOOP, EXDEV for a magic link), or a path leaving the root.
        Err(rustix::io::Errno::LOOP | rustix::io::Errno::XDEV) => ModuleFile::Unverified,
        Err(_) => ModuleFile::Missing,
    }
}

/// Opens `path` (absolute, as the process sees it) below the process's root directory,
/// refusing symlinks and magic links anywhere on the way, without blocking on a FIFO.
pub fn open_in_root(process: &ProcessDir, path: &[u8]) -> rustix::io::Result<OwnedFd> {
    use std::os::unix::ffi::OsStrExt;
    let root = rustix::fs::openat(
        process.handle(),
        "root",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let relative = path.strip_prefix(b"/").unwrap_or(path);
    let relative = std::ffi::OsStr::from_bytes(relative);
    rustix::fs::openat2(&root, relative, OPEN_FLAGS, Mode::empty(), RESOLVE)
}

/// True when `fd` is a regular file on device (major, minor) with this inode.
pub fn is_file_of(fd: impl AsFd, device: (u32, u32), inode: u64) -> bool {
    let Ok(stat) = rustix::fs::fstat(fd) else {
        return false;
    };
    let dev = stat.st_dev;
    rustix::fs::FileType::from_raw_mode(stat.st_mode) == rustix::fs::FileType::RegularFile
        && (rustix::fs::major(dev), rustix::fs::minor(dev)) == device
        && stat.st_ino == inode
}

/// The (device, inode) of an open file, the identity caches key on.
pub fn file_identity(fd: impl AsFd) -> Option<(u64, u64)> {
    let stat = rustix::fs::fstat(fd).ok()?;
    (rustix::fs::FileType::from_raw_mode(stat.st_mode) == rustix::fs::FileType::RegularFile)
        .then_some((stat.st_dev, stat.st_ino))
}

/// A separate debug file (`usr/lib/debug/.build-id/…`) below the target process's root
/// (without following links), else on our own root. The caller must check that its build ID
/// is the module's before using it.
pub fn open_debug_file(process: &ProcessDir, relative: &str) -> Option<File> {
    let theirs = open_in_root(process, relative.as_bytes())
        .ok()
        .filter(|fd| file_identity(fd).is_some())
        .map(File::from);
    theirs.or_else(|| {
        let ours = File::open(std::path::Path::new("/").join(relative)).ok()?;
        file_identity(&ours).map(|_| ours)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::ProcFs;
    use crate::parse::maps::parse_maps;

    fn own_process() -> ProcessDir {
        let procfs = ProcFs::open(std::path::Path::new("/proc")).unwrap();
        procfs.process(std::process::id()).unwrap()
    }

    #[test]
    fn our_own_executable_is_verified() {
        let maps = parse_maps(&std::fs::read("/proc/self/maps").unwrap());
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        use std::os::unix::ffi::OsStrExt;
        let mapping = maps
            .iter()
            .find(|m| m.path == exe.as_os_str().as_bytes())
            .unwrap();
        assert!(matches!(
            open_module(&own_process(), mapping),
            ModuleFile::Verified(_)
        ));
        // The same path with another inode is not the mapped file.
        let mut other = mapping.clone();
        other.inode += 1;
        assert!(matches!(
            open_module(&own_process(), &other),
            ModuleFile::Unverified
        ));
    }

    #[test]
    fn symlinks_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real");
        std::fs::write(&target, b"x").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        use std::os::unix::ffi::OsStrExt;
        let process = own_process();
        assert!(open_in_root(&process, target.as_os_str().as_bytes()).is_ok());
        assert_eq!(
            open_in_root(&process, link.as_os_str().as_bytes()).err(),
            Some(rustix::io::Errno::LOOP)
        );
    }
}

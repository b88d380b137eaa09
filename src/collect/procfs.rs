//! Handles on a proc tree (`/proc` or a fixture) and on one process directory in it.
//! Every read of a process goes through its directory handle, so a reused PID can never mix
//! two processes' data: reads through a stale handle fail with ESRCH.

use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};

use crate::model::Unavailable;

/// The root of a proc tree, opened once.
#[derive(Debug)]
pub struct ProcFs {
    root: PathBuf,
    dir: OwnedFd,
}

/// One process (or thread) directory, opened once and read relative to its handle.
#[derive(Debug)]
pub struct ProcessDir {
    pid: u32,
    dir: OwnedFd,
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::CLOEXEC);
const FILE_FLAGS: OFlags = OFlags::RDONLY.union(OFlags::CLOEXEC);

impl ProcFs {
    /// Opens the proc tree at `root`.
    pub fn open(root: &Path) -> std::io::Result<Self> {
        let dir = rustix::fs::open(root, DIR_FLAGS, Mode::empty())?;
        Ok(Self {
            root: root.to_path_buf(),
            dir,
        })
    }

    /// The path this tree was opened at.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// True when this is the live `/proc` of the running system.
    pub fn is_live(&self) -> bool {
        self.root == Path::new("/proc")
    }

    /// The numeric entries of the root, ascending: every process visible to us. A process can
    /// start or exit during the scan; the listing is a best-effort snapshot.
    pub fn pids(&self) -> std::io::Result<Vec<u32>> {
        let mut pids = numeric_entries(&self.dir)?;
        pids.sort_unstable();
        Ok(pids)
    }

    /// Opens the directory of `pid`.
    pub fn process(&self, pid: u32) -> Result<ProcessDir, Unavailable> {
        let dir = rustix::fs::openat(&self.dir, pid.to_string(), DIR_FLAGS, Mode::empty())
            .map_err(errno_reason)?;
        Ok(ProcessDir { pid, dir })
    }

    /// Reads a file below the root that is not about one process (`stat`, `meminfo`, `net/tcp`).
    pub fn read(&self, name: &str) -> Result<Vec<u8>, Unavailable> {
        read_at(&self.dir, name)
    }
}

impl ProcessDir {
    /// The PID (or TID) this directory belongs to.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Reads a whole file of this process.
    pub fn read(&self, name: &str) -> Result<Vec<u8>, Unavailable> {
        read_at(&self.dir, name)
    }

    /// Reads at most `limit` bytes of a file (a command line can be megabytes long).
    pub fn read_capped(&self, name: &str, limit: u64) -> Result<Vec<u8>, Unavailable> {
        let fd =
            rustix::fs::openat(&self.dir, name, FILE_FLAGS, Mode::empty()).map_err(errno_reason)?;
        let mut buf = Vec::new();
        File::from(fd)
            .take(limit)
            .read_to_end(&mut buf)
            .map_err(|err| Unavailable::from_io(&err))?;
        Ok(buf)
    }

    /// Reads a symbolic link (`exe`, `cwd`, `fd/3`) as raw bytes.
    pub fn readlink(&self, name: &str) -> Result<Vec<u8>, Unavailable> {
        rustix::fs::readlinkat(&self.dir, name, Vec::new())
            .map(|target| target.into_bytes())
            .map_err(errno_reason)
    }

    /// The owner of the directory: the process's effective uid and gid (root for
    /// non-dumpable processes).
    pub fn owner(&self) -> Result<(u32, u32), Unavailable> {
        let stat = rustix::fs::fstat(&self.dir).map_err(errno_reason)?;
        Ok((stat.st_uid, stat.st_gid))
    }

    /// Opens a numbered subdirectory such as `task/TID`.
    pub fn child(&self, path: &str, id: u32) -> Result<ProcessDir, Unavailable> {
        let dir =
            rustix::fs::openat(&self.dir, path, DIR_FLAGS, Mode::empty()).map_err(errno_reason)?;
        Ok(ProcessDir { pid: id, dir })
    }

    /// The numeric entries of a subdirectory (`task`, `fd`), ascending.
    pub fn numeric_entries(&self, path: &str) -> Result<Vec<u32>, Unavailable> {
        let dir =
            rustix::fs::openat(&self.dir, path, DIR_FLAGS, Mode::empty()).map_err(errno_reason)?;
        let mut ids = numeric_entries(&dir).map_err(|err| Unavailable::from_io(&err))?;
        ids.sort_unstable();
        Ok(ids)
    }
}

fn read_at(dir: &OwnedFd, name: &str) -> Result<Vec<u8>, Unavailable> {
    let fd = rustix::fs::openat(dir, name, FILE_FLAGS, Mode::empty()).map_err(errno_reason)?;
    let mut buf = Vec::with_capacity(1024);
    File::from(fd)
        .read_to_end(&mut buf)
        .map_err(|err| Unavailable::from_io(&err))?;
    Ok(buf)
}

fn numeric_entries(dir: &OwnedFd) -> std::io::Result<Vec<u32>> {
    let mut ids = Vec::new();
    for entry in rustix::fs::Dir::read_from(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if let Some(id) = crate::parse::stat::parse_num::<u32>(name) {
            ids.push(id);
        }
    }
    Ok(ids)
}

fn errno_reason(errno: rustix::io::Errno) -> Unavailable {
    Unavailable::from_errno(errno.raw_os_error())
}

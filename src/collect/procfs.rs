//! Handles on a proc tree (`/proc` or a fixture) and on one process directory in it.
//! Every read of a process goes through its directory handle, so a reused PID can never mix
//! two processes' data: reads through a stale handle fail with ESRCH.

use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};

use crate::collect::watchdog;
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
/// A process directory is opened as a path handle: cheaper than a full open, and enough to
/// open, stat and readlink relative to it.
const PATH_FLAGS: OFlags = OFlags::PATH.union(OFlags::DIRECTORY).union(OFlags::CLOEXEC);
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
        let mut pids = numeric_names(&mut rustix::fs::Dir::read_from(&self.dir)?)?;
        pids.sort_unstable();
        Ok(pids)
    }

    /// Opens the directory of `pid`.
    pub fn process(&self, pid: u32) -> Result<ProcessDir, Unavailable> {
        let dir = rustix::fs::openat(&self.dir, pid.to_string(), PATH_FLAGS, Mode::empty())
            .map_err(errno_reason)?;
        Ok(ProcessDir { pid, dir })
    }

    /// Reads a small one-piece file below the root (`PID/stat`) and the owner of the open
    /// file.
    pub fn read_with_owner(&self, name: &str) -> Result<(Vec<u8>, Option<u32>), Unavailable> {
        watchdog::guarded(|| {
            let fd = open_file(&self.dir, name)?;
            let owner = rustix::fs::fstat(&fd).ok().map(|stat| stat.st_uid);
            Ok((read_fd(&fd, 1 << 16, true)?, owner))
        })
    }

    /// Reads a one-piece file below the root (`PID/stat`), as [`ProcessDir::read_whole`].
    pub fn read_whole(&self, name: &str, limit: u64) -> Result<Vec<u8>, Unavailable> {
        watchdog::guarded(|| read_fd(&open_file(&self.dir, name)?, limit, true))
    }

    /// The descriptor table of `pid` (`PID/fd`), opened once: its entries are listed and its
    /// links read through the one handle.
    pub fn fd_table(&self, pid: u32) -> Result<FdTable, Unavailable> {
        let dir = rustix::fs::openat(&self.dir, format!("{pid}/fd"), DIR_FLAGS, Mode::empty())
            .map_err(errno_reason)?;
        Ok(FdTable {
            stream: rustix::fs::Dir::new(dir).map_err(errno_reason)?,
        })
    }

    /// Reads a symbolic link below the root (`PID/ns/net`).
    pub fn readlink(&self, name: &str) -> Result<Vec<u8>, Unavailable> {
        rustix::fs::readlinkat(&self.dir, name, Vec::new())
            .map(|target| target.into_bytes())
            .map_err(errno_reason)
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

    /// The directory handle, for the few calls the methods here do not cover.
    pub(crate) fn handle(&self) -> &OwnedFd {
        &self.dir
    }

    /// Reads a whole file of this process.
    pub fn read(&self, name: &str) -> Result<Vec<u8>, Unavailable> {
        read_at(&self.dir, name)
    }

    /// Reads at most `limit` bytes of a file that the kernel generates in one piece (`stat`,
    /// `status`, `cmdline`): a short read is its end, which saves a system call per file.
    /// Multi-record files (`maps`, `net/tcp`) must use [`Self::read`].
    pub fn read_whole(&self, name: &str, limit: u64) -> Result<Vec<u8>, Unavailable> {
        watchdog::guarded(|| read_fd(&open_file(&self.dir, name)?, limit, true))
    }

    /// Opens a file below this directory for reading (`root/usr/lib/libc.so.6`,
    /// `map_files/7f00-7f80`); the path is raw bytes.
    pub fn open(&self, path: &[u8]) -> Result<std::fs::File, Unavailable> {
        use std::os::unix::ffi::OsStrExt;
        let path = std::ffi::OsStr::from_bytes(path);
        watchdog::guarded(|| open_file(&self.dir, path)).map(std::fs::File::from)
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

    /// The files of thread `tid`, read as `task/TID/NAME` relative to this process's handle
    /// (no directory is opened per thread, and a stale handle still fails with ESRCH).
    pub fn task(&self, tid: u32) -> TaskFiles<'_> {
        TaskFiles { process: self, tid }
    }

    /// A handle on a subdirectory (`fd`, `fdinfo`), so that reading thousands of its
    /// entries does not look the directory up again each time.
    pub fn subdir(&self, path: &str) -> Result<ProcessDir, Unavailable> {
        let dir =
            rustix::fs::openat(&self.dir, path, PATH_FLAGS, Mode::empty()).map_err(errno_reason)?;
        Ok(ProcessDir { pid: self.pid, dir })
    }

    /// The numeric entries of a subdirectory (`task`, `fd`), ascending.
    pub fn numeric_entries(&self, path: &str) -> Result<Vec<u32>, Unavailable> {
        let dir =
            rustix::fs::openat(&self.dir, path, DIR_FLAGS, Mode::empty()).map_err(errno_reason)?;
        // Dir::new reads the handle it is given; read_from would reopen it (two more calls).
        let mut stream = rustix::fs::Dir::new(dir).map_err(errno_reason)?;
        let mut ids = numeric_names(&mut stream).map_err(|err| Unavailable::from_io(&err))?;
        ids.sort_unstable();
        Ok(ids)
    }
}

/// One process's descriptor table, for reading many of its links.
#[derive(Debug)]
pub struct FdTable {
    stream: rustix::fs::Dir,
}

impl FdTable {
    /// The open descriptors, ascending.
    pub fn fds(&mut self) -> Result<Vec<u32>, Unavailable> {
        let mut fds = numeric_names(&mut self.stream).map_err(|err| Unavailable::from_io(&err))?;
        fds.sort_unstable();
        Ok(fds)
    }

    /// The link target of descriptor `fd` (`socket:[N]`, a path...).
    pub fn readlink(&self, fd: u32) -> Result<Vec<u8>, Unavailable> {
        let dir = self.stream.fd().map_err(errno_reason)?;
        rustix::fs::readlinkat(dir, fd.to_string(), Vec::new())
            .map(|target| target.into_bytes())
            .map_err(errno_reason)
    }
}

/// The files of one process or thread, read by name.
pub trait Files {
    /// The PID or TID whose files these are.
    fn id(&self) -> u32;
    /// Reads a file that the kernel generates in one piece (see [`ProcessDir::read_whole`]).
    fn read_whole(&self, name: &str, limit: u64) -> Result<Vec<u8>, Unavailable>;
    /// Reads a symbolic link as raw bytes.
    fn readlink(&self, name: &str) -> Result<Vec<u8>, Unavailable>;
    /// The numeric entries of a subdirectory, ascending.
    fn numeric_entries(&self, name: &str) -> Result<Vec<u32>, Unavailable>;
    /// The runtime facts of the executable at `exe` (processes only).
    fn runtime_facts(
        &self,
        _exe: &[u8],
    ) -> Option<std::sync::Arc<crate::collect::binary::BinaryFacts>> {
        None
    }
    /// The starting environment (processes only).
    fn environ(&self) -> Result<crate::collect::process::Environ, Unavailable> {
        Err(Unavailable::Unsupported)
    }
}

impl Files for ProcessDir {
    fn id(&self) -> u32 {
        self.pid
    }

    fn read_whole(&self, name: &str, limit: u64) -> Result<Vec<u8>, Unavailable> {
        ProcessDir::read_whole(self, name, limit)
    }

    fn readlink(&self, name: &str) -> Result<Vec<u8>, Unavailable> {
        ProcessDir::readlink(self, name)
    }

    fn numeric_entries(&self, name: &str) -> Result<Vec<u32>, Unavailable> {
        ProcessDir::numeric_entries(self, name)
    }

    fn runtime_facts(
        &self,
        exe: &[u8],
    ) -> Option<std::sync::Arc<crate::collect::binary::BinaryFacts>> {
        crate::collect::runtime::binary_facts(self, exe)
    }

    fn environ(&self) -> Result<crate::collect::process::Environ, Unavailable> {
        crate::collect::runtime::read_environ(self)
    }
}

/// The files of one thread, below its process's directory handle.
#[derive(Debug, Clone, Copy)]
pub struct TaskFiles<'a> {
    process: &'a ProcessDir,
    tid: u32,
}

impl TaskFiles<'_> {
    fn path(&self, name: &str) -> String {
        format!("task/{}/{name}", self.tid)
    }
}

impl Files for TaskFiles<'_> {
    fn id(&self) -> u32 {
        self.tid
    }

    fn read_whole(&self, name: &str, limit: u64) -> Result<Vec<u8>, Unavailable> {
        self.process.read_whole(&self.path(name), limit)
    }

    fn readlink(&self, name: &str) -> Result<Vec<u8>, Unavailable> {
        self.process.readlink(&self.path(name))
    }

    fn numeric_entries(&self, name: &str) -> Result<Vec<u32>, Unavailable> {
        self.process.numeric_entries(&self.path(name))
    }
}

fn read_at(dir: &OwnedFd, name: &str) -> Result<Vec<u8>, Unavailable> {
    watchdog::guarded(|| read_fd(&open_file(dir, name)?, u64::MAX, false))
}

/// Opens a file for reading below `dir`; an open the watchdog interrupted is `TimedOut`.
fn open_file<P: rustix::path::Arg>(dir: &OwnedFd, name: P) -> Result<OwnedFd, Unavailable> {
    rustix::fs::openat(dir, name, FILE_FLAGS, Mode::empty()).map_err(|errno| match errno {
        rustix::io::Errno::INTR if watchdog::timed_out() => Unavailable::TimedOut,
        other => errno_reason(other),
    })
}

/// Reads until end of file (or the first short read when `short_is_end`) or `limit` bytes.
/// Unlike `read_to_end` it asks for no file size (proc files report 0), saving two system
/// calls per file.
fn read_fd(fd: &OwnedFd, limit: u64, short_is_end: bool) -> Result<Vec<u8>, Unavailable> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut buf: Vec<u8> = Vec::with_capacity(READ_CHUNK.min(limit));
    while buf.len() < limit {
        if buf.capacity() == buf.len() {
            buf.reserve(buf.len().max(READ_CHUNK));
        }
        // Read straight into the spare capacity (no zero-filling), never past `limit`.
        let room = (buf.capacity() - buf.len()).min(limit - buf.len());
        let before = buf.len();
        let result =
            rustix::io::read(fd, &mut buf.spare_capacity_mut()[..room]).map(|(init, _)| init.len());
        match result {
            Ok(n) => {
                // SAFETY: `read` initialized the first `n` bytes of the spare capacity.
                unsafe { buf.set_len(before + n) };
                if n == 0 || (short_is_end && n < room) {
                    break;
                }
            }
            Err(rustix::io::Errno::INTR) if watchdog::timed_out() => {
                return Err(Unavailable::TimedOut);
            }
            Err(rustix::io::Errno::INTR) => {}
            Err(errno) => return Err(errno_reason(errno)),
        }
    }
    Ok(buf)
}

/// The first read asks for this much; most proc files fit.
const READ_CHUNK: usize = 2048;

/// The numeric names in a directory stream.
fn numeric_names(dir: &mut rustix::fs::Dir) -> std::io::Result<Vec<u32>> {
    let handle = dir.fd()?;
    list_numeric(handle)
}

/// Directory listing buffer; a fill that leaves more than one entry's worth of room unused
/// was the last one.
const LISTING_BUFFER: usize = 32 * 1024;
/// The largest `linux_dirent64` record (a 255-byte name).
const MAX_RECORD: usize = 280;

/// The numeric entry names of a directory. Unlike a plain directory stream it does not ask
/// the kernel once more after a fill that ended short of the buffer (procfs fills as much as
/// fits, so a short fill is the end): one system call fewer per directory.
fn list_numeric(dir: BorrowedFd<'_>) -> std::io::Result<Vec<u32>> {
    let mut buffer = vec![std::mem::MaybeUninit::<u8>::uninit(); LISTING_BUFFER];
    let mut raw = rustix::fs::RawDir::new(dir, &mut buffer);
    let mut ids = Vec::new();
    let mut filled = 0usize;
    loop {
        if raw.is_buffer_empty() {
            if filled != 0 && filled + 2 * MAX_RECORD < LISTING_BUFFER {
                break;
            }
            filled = 0;
        }
        let Some(entry) = raw.next() else { break };
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        // The kernel's record length: the 19-byte header, the name and its NUL, 8-aligned.
        filled += (19 + name.len() + 1 + 7) & !7;
        if let Some(id) = crate::parse::stat::parse_num::<u32>(name) {
            ids.push(id);
        }
    }
    Ok(ids)
}

fn errno_reason(errno: rustix::io::Errno) -> Unavailable {
    Unavailable::from_errno(errno.raw_os_error())
}

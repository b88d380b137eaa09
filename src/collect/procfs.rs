//! Handles on a proc tree (`/proc` or a fixture) and on one process directory in it.
//! Every read of a process goes through its directory handle, so a reused PID can never mix
//! two processes' data: reads through a stale handle fail with ESRCH.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};

use crate::collect::dir_entries::{FIRST_BATCH, numeric_batches, numeric_names};
use crate::collect::proc_read::{fill, open_file, read_at, read_fd};
use crate::collect::watchdog;
use crate::model::Unavailable;
use crate::model::runtime::RuntimeProbe;

/// The root of a proc tree, opened once.
#[derive(Debug)]
pub struct ProcFs {
    root: PathBuf,
    dir: OwnedFd,
    /// What runtime detection probes executables for (none unless the caller says).
    runtimes: &'static [RuntimeProbe],
    /// A proc filesystem (not a fixture tree of plain files).
    kernel: bool,
    /// Whether the PIDs are those of procscope's own PID namespace (asked once, on first
    /// need: see [`ProcFs::pid_view`]).
    pids_are_ours: std::sync::OnceLock<bool>,
}

/// How far the PIDs of a proc tree can be trusted (see [`ProcFs::pid_view`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PidView {
    /// The live `/proc` of procscope's own PID namespace: its PIDs may be signalled.
    Live,
    /// Not the live `/proc` (a fixture tree, another mount): readable, never signalled.
    Elsewhere(String),
    /// A proc tree of another PID namespace: its PIDs may name other processes than the
    /// caller's. The reason is one line.
    Foreign(String),
}

/// `f_type` of a proc filesystem (linux/magic.h).
const PROC_SUPER_MAGIC: i64 = 0x9fa0;

/// One process (or thread) directory, opened once and read relative to its handle.
#[derive(Debug)]
pub struct ProcessDir {
    pid: u32,
    dir: OwnedFd,
    runtimes: &'static [RuntimeProbe],
    /// A `/proc/PID` directory of a proc filesystem: its owner is the effective uid.
    owned_by_euid: bool,
    /// A process of procscope's own PID namespace: its CPU clock can be read by PID.
    cpu_clock: bool,
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::CLOEXEC);
/// A process directory is opened as a path handle: cheaper than a full open, and enough to
/// open, stat and readlink relative to it.
const PATH_FLAGS: OFlags = OFlags::PATH.union(OFlags::DIRECTORY).union(OFlags::CLOEXEC);
pub(super) const FILE_FLAGS: OFlags = OFlags::RDONLY.union(OFlags::CLOEXEC);

impl ProcFs {
    /// Opens the proc tree at `root`.
    pub fn open(root: &Path) -> std::io::Result<Self> {
        let dir = rustix::fs::open(root, DIR_FLAGS, Mode::empty())?;
        let kernel = rustix::fs::fstatfs(&dir)
            .is_ok_and(|fs| i64::from(fs.f_type as i32) == PROC_SUPER_MAGIC);
        Ok(Self {
            root: root.to_path_buf(),
            dir,
            runtimes: &[],
            kernel,
            pids_are_ours: std::sync::OnceLock::new(),
        })
    }

    /// What runtime detection probes executables for.
    pub fn runtimes(&self) -> &'static [RuntimeProbe] {
        self.runtimes
    }

    /// The same tree, with runtime detection (`Needs::RUNTIME`) probing for `runtimes`.
    pub fn with_runtimes(self, runtimes: &'static [RuntimeProbe]) -> Self {
        Self { runtimes, ..self }
    }

    /// The root's directory handle, for the few calls the methods here do not cover.
    pub(crate) fn handle(&self) -> &OwnedFd {
        &self.dir
    }

    /// The path this tree was opened at.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// True when this is the live `/proc` of the running system.
    pub fn is_live(&self) -> bool {
        self.root == Path::new("/proc")
    }

    /// Whether this tree's PIDs are the ones the kernel uses for procscope's caller: only the
    /// live `/proc` of procscope's own PID namespace is [`PidView::Live`]. Remembered for
    /// the process directories opened later (their CPU clocks).
    pub fn pid_view(&self) -> PidView {
        let view = self.judge_pid_view();
        let _ = self.pids_are_ours.set(view == PidView::Live);
        view
    }

    fn judge_pid_view(&self) -> PidView {
        let root = self.root.display();
        let is_procfs = rustix::fs::fstatfs(&self.dir)
            .is_ok_and(|fs| i64::from(fs.f_type as i32) == PROC_SUPER_MAGIC);
        if !is_procfs {
            return PidView::Elsewhere(format!("{root} is not a proc filesystem"));
        }
        let me = std::process::id();
        let Ok(link) = self.readlink("self") else {
            return PidView::Foreign(format!(
                "{root}/self does not resolve: procscope is not in the PID namespace of this proc tree (only its mount namespace was entered?)"
            ));
        };
        let seen = crate::parse::stat::parse_num::<u32>(&link);
        if seen != Some(me) {
            return PidView::Foreign(format!(
                "{root} belongs to another PID namespace: it calls this process {}, the kernel here calls it {me}",
                String::from_utf8_lossy(&link)
            ));
        }
        // The same number could be a coincidence; NSpid lists one PID per namespace level
        // from the tree's namespace down to ours, so one entry means they are the same.
        let levels = self
            .read("self/status")
            .ok()
            .and_then(|raw| crate::parse::keyed::Keyed::new(raw).numbers("NSpid"));
        if levels.as_ref().is_some_and(|levels| levels.len() > 1) {
            return PidView::Foreign(format!(
                "{root} belongs to an outer PID namespace (NSpid {levels:?})"
            ));
        }
        if !self.is_live() {
            return PidView::Elsewhere(format!("{root} is not the live /proc"));
        }
        PidView::Live
    }

    /// A proc filesystem, not a fixture tree of plain files.
    pub fn is_kernel(&self) -> bool {
        self.kernel
    }

    /// Whether the root has an entry `PID` (a process, or a thread: the kernel answers a
    /// lookup of either, though it lists only processes).
    pub fn has_entry(&self, pid: u32) -> bool {
        rustix::fs::accessat(
            &self.dir,
            pid.to_string(),
            rustix::fs::Access::EXISTS,
            rustix::fs::AtFlags::empty(),
        )
        .is_ok()
    }

    /// The numeric entries of the root, ascending: every process visible to us. A process can
    /// start or exit during the scan; the listing is a best-effort snapshot.
    pub fn pids(&self) -> std::io::Result<Vec<u32>> {
        let mut pids = numeric_names(&mut rustix::fs::Dir::read_from(&self.dir)?)?;
        pids.sort_unstable();
        Ok(pids)
    }

    /// [`ProcFs::pids`] in batches as the kernel lists them (ascending on a proc
    /// filesystem), starting small: `each` gets each batch and whether it is the last.
    pub fn pid_batches(&self, each: impl FnMut(&[u32], bool)) -> std::io::Result<()> {
        let listing = rustix::fs::openat(&self.dir, ".", DIR_FLAGS, Mode::empty())?;
        numeric_batches(&listing, FIRST_BATCH, each)
    }

    /// Opens the directory of `pid`.
    pub fn process(&self, pid: u32) -> Result<ProcessDir, Unavailable> {
        let dir = rustix::fs::openat(&self.dir, pid.to_string(), PATH_FLAGS, Mode::empty())
            .map_err(errno_reason)?;
        Ok(ProcessDir {
            pid,
            dir,
            runtimes: self.runtimes,
            owned_by_euid: self.kernel,
            cpu_clock: self.kernel
                && *self
                    .pids_are_ours
                    .get_or_init(|| self.judge_pid_view() == PidView::Live),
        })
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

    /// What runtime detection probes this process's executable for.
    pub fn runtimes(&self) -> &'static [RuntimeProbe] {
        self.runtimes
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

    /// [`Self::read_whole`] into `buf` (cleared first), so that a caller reading thousands of
    /// small files reuses one buffer instead of allocating and growing one per file.
    pub fn read_whole_into(
        &self,
        name: &str,
        limit: u64,
        buf: &mut Vec<u8>,
    ) -> Result<(), Unavailable> {
        buf.clear();
        watchdog::guarded(|| fill(&open_file(&self.dir, name)?, limit, true, false, buf))
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

    /// The owner of the directory: the process's effective uid and gid (for `/proc/PID`
    /// itself also when the process is not dumpable; its files then belong to root).
    pub fn owner(&self) -> Result<(u32, u32), Unavailable> {
        let stat = rustix::fs::fstat(&self.dir).map_err(errno_reason)?;
        Ok((stat.st_uid, stat.st_gid))
    }

    /// How many threads the process has: the link count of its `task` directory (the
    /// kernel gives it one per thread plus two), one `stat` where `stat` or `status` would
    /// be formatted or the threads listed.
    pub fn thread_count(&self) -> Result<u64, Unavailable> {
        let task = rustix::fs::statat(&self.dir, "task", rustix::fs::AtFlags::empty())
            .map_err(errno_reason)?;
        // `st_nlink` is a u64 here, a u32 on some other architectures.
        #[allow(clippy::useless_conversion)]
        let links = u64::from(task.st_nlink);
        Ok(links.saturating_sub(2))
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
        Ok(ProcessDir {
            pid: self.pid,
            dir,
            runtimes: self.runtimes,
            owned_by_euid: false,
            cpu_clock: false,
        })
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

    /// The inode N when descriptor `fd` links to `PREFIX:[N]` (`socket:[N]`, `pipe:[N]`),
    /// read with the name and the target on the stack (scans read tens of thousands).
    pub fn linked_inode(&self, fd: u32, prefix: &[u8]) -> Result<Option<u64>, Unavailable> {
        use std::io::Write;
        let dir = self.stream.fd().map_err(errno_reason)?;
        let (mut name, mut target) = ([0u8; 12], [0u8; 64]);
        let _ = write!(&mut name[..], "{fd}");
        let name = std::ffi::CStr::from_bytes_until_nul(&name).unwrap_or_default();
        let length =
            rustix::fs::readlinkat_raw(dir, name, &mut target[..]).map_err(errno_reason)?;
        // A target that fills the buffer is a long path, never `PREFIX:[N]`.
        Ok((length < target.len())
            .then(|| crate::parse::link::inode_of(&target[..length], prefix))
            .flatten())
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
    /// The process directory behind these files, for reads that only a process has (its
    /// environment, its executable); `None` for a thread or a lone file.
    fn process_dir(&self) -> Option<&ProcessDir> {
        None
    }

    /// The euid as the owner of `/proc/PID` (one `fstat` instead of `status`; the kernel
    /// gives that directory the euid even when not dumpable). `None`: read `status`.
    fn euid_from_owner(&self) -> Option<Result<u32, Unavailable>> {
        None
    }

    /// The process's CPU time from its CPU clock, in nanoseconds; `None` where it cannot be
    /// read by PID (a thread, a fixture tree, another PID namespace's tree).
    fn cpu_clock_nanos(&self) -> Option<u64> {
        None
    }
}

impl Files for ProcessDir {
    fn id(&self) -> u32 {
        self.pid
    }

    fn euid_from_owner(&self) -> Option<Result<u32, Unavailable>> {
        self.owned_by_euid.then(|| self.owner().map(|(uid, _)| uid))
    }

    fn cpu_clock_nanos(&self) -> Option<u64> {
        self.cpu_clock
            .then(|| crate::collect::cpu_clock::process_cpu_nanos(self.pid))
            .flatten()
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

    fn process_dir(&self) -> Option<&ProcessDir> {
        Some(self)
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

pub(super) fn errno_reason(errno: rustix::io::Errno) -> Unavailable {
    Unavailable::from_errno(errno.raw_os_error())
}

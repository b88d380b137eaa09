//! One process read through its directory handle: exactly the files a request needs, each
//! kept as a fallible value so a denied or vanished field never hides the rest.

use std::sync::Arc;

use crate::collect::binary::BinaryFacts;
use crate::collect::procfs::{Files, ProcFs, ProcessDir};
use crate::collect::runtime;
use crate::model::Unavailable;
use crate::parse::cmdline::parse_argv;
use crate::parse::io::{IoCounters, parse_io};
use crate::parse::keyed::Keyed;
use crate::parse::stat::Stat;
use crate::parse::syscall::SyscallState;
use crate::query::needs::Needs;

use super::process_files::{OneFile, read_comm, read_stat_as_needed, read_statm_resident};
pub use super::process_files::{read_syscall, read_wchan};

/// At most this much of a command line is read (`argv_truncated` past it): a process can
/// fill its argument area with 6 MiB (of NULs, say) that a listing must not copy or hold.
pub const MAX_ARGV_BYTES: u64 = 256 << 10;

/// `stat` and `status` are a few KiB; anything far larger is not a proc file.
pub(super) const MAX_SMALL_FILE: u64 = 1 << 16;

/// Needs that are no file of the process's own (a request of one file plus these is still
/// one file).
const NOT_FILES: Needs = Needs::USER_NAMES
    .union(Needs::FAULTS)
    .union(Needs::CPU_CLOCK);

/// A process's starting environment as (name, value) pairs.
pub use crate::collect::runtime::Environ;

/// A fallible field: the value, or why it is missing.
pub type Field<T> = Result<T, Unavailable>;

/// The files read for one process, or for one thread of it (from `task/TID`).
#[derive(Debug)]
pub struct ProcessSample {
    /// The process (thread group) ID.
    pub pid: u32,
    /// The thread ID: equal to `pid` for a process and its main thread.
    pub tid: u32,
    pub stat: Option<Field<Stat>>,
    /// The name from `comm`, read only when `stat` (which holds it too) is not.
    pub comm: Option<Field<Vec<u8>>>,
    pub status: Option<Field<Keyed>>,
    pub cmdline: Option<Field<Vec<Vec<u8>>>>,
    /// The command line was cut (more than [`MAX_ARGV_BYTES`] or too many arguments).
    pub argv_truncated: bool,
    /// The exact `cmdline` bytes kept (padding included), read only for `Needs::RAW_CMDLINE`.
    pub cmdline_raw: Option<Vec<u8>>,
    pub exe: Option<Field<Vec<u8>>>,
    pub fd_count: Option<Field<usize>>,
    /// The exact resident set size (see [`Needs::RSS`]).
    pub rss: Option<Field<Resident>>,
    pub syscall: Option<Field<SyscallState>>,
    /// The kernel function the task sleeps in; `None` inside when it is not sleeping.
    pub wchan: Option<Field<Option<Vec<u8>>>>,
    /// The executable's runtime facts (`None` inside for an unreadable executable).
    pub binary: Option<Option<Arc<BinaryFacts>>>,
    /// The starting environment, read only for executables of a known runtime.
    pub environ: Option<Field<Environ>>,
    /// The I/O counters (`io`).
    pub io: Option<Field<IoCounters>>,
    /// The bytes of `cgroup` (with `Needs::CGROUP`).
    pub cgroup: Option<Field<Vec<u8>>>,
    /// The proportional set size in bytes, from `smaps_rollup` (with `Needs::PSS`).
    pub pss: Option<Field<u64>>,
    /// (kind, inode) of each namespace (with `Needs::NAMESPACES`).
    pub namespaces: Option<Field<Vec<(&'static str, u64)>>>,
    /// `oom_score`, `oom_score_adj` and the LSM label (with `Needs::SECURITY`).
    pub security: Option<SecuritySample>,
    /// The effective uid from the directory's owner (with `Needs::OWNER`, without status).
    pub owner: Option<Field<u32>>,
    /// The process's CPU time from the kernel's process CPU clock, read instead of stat's
    /// sum for a process of many threads (with `Needs::CPU_CLOCK`); `stat` is then the leader
    /// thread's, whose times and faults are that thread's own.
    pub cpu_clock_nanos: Option<u64>,
}

/// The per-process security files a listing may read.
#[derive(Debug, Clone)]
pub struct SecuritySample {
    pub oom_score: Field<i64>,
    pub oom_score_adj: Field<i64>,
    pub label: Field<Vec<u8>>,
}

/// The resident set size in the unit of its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resident {
    /// `VmRSS` from status.
    Kib(u64),
    /// The second field of statm.
    Pages(u64),
}

impl Resident {
    pub fn bytes(self, page_size: u64) -> u64 {
        match self {
            Self::Kib(kib) => kib * 1024,
            Self::Pages(pages) => pages * page_size,
        }
    }
}

/// What kind of task a process is, which decides what a failed read means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    Normal,
    Zombie,
    KernelThread,
}

impl ProcessSample {
    /// Opens `pid` and reads the files in `needs`. `Err(Gone)` when the process vanished
    /// before its essential files (stat, status) could be read: the caller skips it.
    /// The directory handle is closed afterwards: a listing must not hold thousands open.
    pub fn read(procfs: &ProcFs, pid: u32, needs: Needs) -> Result<Self, Unavailable> {
        // One file needs no directory handle (two system calls fewer per process): with one
        // read nothing can mix two processes' data. (With no file at all, opening the
        // directory is what tells a vanished process.)
        let one_file = |file: Needs| needs.contains(file) && file.union(NOT_FILES).contains(needs);
        if one_file(Needs::STAT) || one_file(Needs::COMM) {
            return Self::read_dir(&OneFile { procfs, pid }, needs);
        }
        let dir = procfs.process(pid)?;
        Self::read_dir(&dir, needs)
    }

    /// Reads thread `tid` of the process whose directory is `process`.
    pub fn read_thread(process: &ProcessDir, tid: u32, needs: Needs) -> Result<Self, Unavailable> {
        let mut sample = Self::read_dir(&process.task(tid), needs)?;
        sample.pid = process.pid();
        Ok(sample)
    }

    /// Reads the files in `needs` of a process (an opened directory) or thread.
    pub fn read_dir(dir: &impl Files, needs: Needs) -> Result<Self, Unavailable> {
        let owner = (needs.contains(Needs::OWNER) && !needs.contains(Needs::STATUS))
            .then(|| dir.euid_from_owner())
            .flatten();
        let needs = match owner {
            None if needs.contains(Needs::OWNER) => needs | Needs::STATUS,
            _ => needs,
        };
        // Kept while the listing is built (10000 threads keep 10000 of them): trimmed to its
        // length, a third less than the read buffer. Read before `stat`: its thread count
        // tells whether the CPU clock should stand in for stat's sum.
        let status = needs.contains(Needs::STATUS).then(|| {
            dir.read_whole("status", MAX_SMALL_FILE).map(|mut raw| {
                raw.shrink_to_fit();
                Keyed::new(raw)
            })
        });
        if let Some(Err(Unavailable::Gone)) = status {
            return Err(Unavailable::Gone);
        }
        let (stat, clock) = read_stat_as_needed(dir, needs, status.as_ref());
        if let Some(Err(Unavailable::Gone)) = stat {
            return Err(Unavailable::Gone);
        }
        let comm = (needs.contains(Needs::COMM) && stat.is_none()).then(|| read_comm(dir));
        if let Some(Err(Unavailable::Gone)) = comm {
            return Err(Unavailable::Gone);
        }
        let mut sample = Self {
            pid: dir.id(),
            tid: dir.id(),
            stat,
            comm,
            status,
            cmdline: None,
            argv_truncated: false,
            cmdline_raw: None,
            exe: None,
            fd_count: None,
            rss: None,
            syscall: None,
            wchan: None,
            binary: None,
            environ: None,
            io: None,
            cgroup: None,
            pss: None,
            namespaces: None,
            security: None,
            owner,
            cpu_clock_nanos: clock,
        };
        let kind = sample.kind();
        if needs.contains(Needs::RSS) {
            let rss = sample
                .resident_from_status(kind)
                .unwrap_or_else(|| read_statm_resident(dir).map_err(|why| explain(why, kind)));
            // Without stat or status, statm is what tells a vanished process apart.
            if rss == Err(Unavailable::Gone) {
                return Err(Unavailable::Gone);
            }
            sample.rss = Some(rss);
        }
        sample.read_identity(dir, needs, kind);
        sample.read_accounting(dir, needs, kind);
        Ok(sample)
    }

    /// The command line, executable, descriptor count, system call and runtime facts.
    fn read_identity(&mut self, dir: &impl Files, needs: Needs, kind: TaskKind) {
        let sample = self;
        if needs.contains(Needs::CMDLINE) {
            let raw = dir.read_whole("cmdline", MAX_ARGV_BYTES + 1);
            sample.cmdline = Some(match raw {
                Ok(mut raw) => {
                    let cut = raw.len() as u64 > MAX_ARGV_BYTES;
                    raw.truncate(MAX_ARGV_BYTES as usize);
                    let argv = parse_argv(&raw, cut);
                    sample.argv_truncated = argv.truncated;
                    if needs.contains(Needs::RAW_CMDLINE) {
                        sample.cmdline_raw = Some(raw);
                    }
                    Ok(argv.args)
                }
                Err(why) => Err(explain(why, kind)),
            });
        }
        if needs.contains(Needs::EXE) {
            sample.exe = Some(dir.readlink("exe").map_err(|why| explain(why, kind)));
        }
        if needs.contains(Needs::FD_COUNT) {
            sample.fd_count = Some(
                dir.numeric_entries("fd")
                    .map(|fds| fds.len())
                    .map_err(|why| explain(why, kind)),
            );
        }
        if needs.contains(Needs::SYSCALL) {
            sample.syscall = Some(read_syscall(dir).map_err(|why| explain(why, kind)));
        }
        if needs.contains(Needs::RUNTIME) {
            let binary = dir.process_dir().and_then(runtime::probed_facts);
            if binary.as_ref().is_some_and(|b| !b.runtimes.is_empty()) {
                sample.environ = Some(runtime::environ_of(dir));
            }
            sample.binary = Some(binary);
        }
    }

    /// I/O counters, cgroup, PSS, namespaces, security values, environment and wait channel.
    fn read_accounting(&mut self, dir: &impl Files, needs: Needs, kind: TaskKind) {
        let sample = self;
        if needs.contains(Needs::IO) {
            let raw = dir.read_whole("io", MAX_SMALL_FILE);
            let io = raw.and_then(|raw| parse_io(raw).ok_or(Unavailable::ReadError));
            sample.io = Some(io.map_err(|why| explain(why, kind)));
        }
        if needs.contains(Needs::CGROUP) {
            sample.cgroup = Some(
                dir.read_whole("cgroup", MAX_SMALL_FILE)
                    .map_err(|why| explain(why, kind)),
            );
        }
        if needs.contains(Needs::PSS) {
            let rollup = dir
                .read_whole("smaps_rollup", MAX_SMALL_FILE)
                .and_then(|raw| {
                    crate::parse::smaps::parse_rollup(&raw).ok_or(Unavailable::ReadError)
                });
            sample.pss = Some(rollup.map(|r| r.pss).map_err(|why| explain(why, kind)));
        }
        if needs.contains(Needs::NAMESPACES) {
            let links = crate::collect::security::read_namespaces(dir);
            sample.namespaces = Some(links.map_err(|why| explain(why, kind)));
        }
        if needs.contains(Needs::SECURITY) {
            use crate::collect::security::{read_label, read_number};
            sample.security = Some(SecuritySample {
                oom_score: read_number(dir, "oom_score").map_err(|why| explain(why, kind)),
                oom_score_adj: read_number(dir, "oom_score_adj").map_err(|why| explain(why, kind)),
                label: read_label(dir).map_err(|why| explain(why, kind)),
            });
        }
        if needs.contains(Needs::ENVIRON) && sample.environ.is_none() {
            sample.environ = Some(runtime::environ_of(dir).map_err(|why| explain(why, kind)));
        }
        if needs.contains(Needs::WCHAN) {
            sample.wchan = Some(read_wchan(dir).map_err(|why| explain(why, kind)));
        }
    }

    /// Zombie, kernel thread or normal, from stat (or status when only that was read).
    pub fn kind(&self) -> TaskKind {
        if let Some(Ok(stat)) = &self.stat {
            return if stat.is_zombie() {
                TaskKind::Zombie
            } else if stat.is_kernel_thread() {
                TaskKind::KernelThread
            } else {
                TaskKind::Normal
            };
        }
        if let Some(Ok(status)) = &self.status {
            if status.get("State").is_some_and(|s| s.starts_with(b"Z")) {
                return TaskKind::Zombie;
            }
            if status.number("Kthread") == Some(1) {
                return TaskKind::KernelThread;
            }
        }
        TaskKind::Normal
    }

    /// `VmRSS` from status when status was read: a zombie or kernel thread has none and no
    /// memory (0, as `ps` shows). `None` when status was not read or lacks it unexpectedly.
    fn resident_from_status(&self, kind: TaskKind) -> Option<Field<Resident>> {
        let status = self.status.as_ref()?.as_ref().ok()?;
        match status.number("VmRSS") {
            Some(kib) => Some(Ok(Resident::Kib(kib))),
            None if kind != TaskKind::Normal => Some(Ok(Resident::Kib(0))),
            None => None,
        }
    }

    /// The exact resident set size in bytes (with `Needs::RSS`).
    pub fn rss_bytes(&self, page_size: u64) -> Field<u64> {
        field(&self.rss).map(|rss| rss.bytes(page_size))
    }

    /// The CPU time of every thread, live and exited, in clock ticks: the process CPU clock
    /// where it was read, else stat's sum.
    pub fn cpu_ticks(&self, ticks_per_second: u64) -> Field<u64> {
        match self.cpu_clock_nanos {
            Some(nanos) => {
                let ticks = u128::from(nanos) * u128::from(ticks_per_second) / 1_000_000_000;
                Ok(u64::try_from(ticks).unwrap_or(u64::MAX))
            }
            None => self.stat().map(Stat::cpu_ticks),
        }
    }

    /// The stat fields, or why they are missing (a file the request's needs did not name reads
    /// as `read_error`, see [`field`]).
    pub fn stat(&self) -> Field<&Stat> {
        field(&self.stat)
    }

    pub fn status(&self) -> Field<&Keyed> {
        field(&self.status)
    }

    pub fn cmdline(&self) -> Field<&Vec<Vec<u8>>> {
        field(&self.cmdline)
    }

    pub fn exe(&self) -> Field<&Vec<u8>> {
        field(&self.exe)
    }

    pub fn fd_count(&self) -> Field<usize> {
        field(&self.fd_count).copied()
    }

    pub fn syscall(&self) -> Field<SyscallState> {
        field(&self.syscall).copied()
    }

    pub fn io(&self) -> Field<IoCounters> {
        field(&self.io).copied()
    }

    pub fn wchan(&self) -> Field<&Option<Vec<u8>>> {
        field(&self.wchan)
    }

    /// What is known for runtime detection (with `Needs::RUNTIME`).
    pub fn runtime_facts(&self) -> ProcessFacts<'_> {
        ProcessFacts {
            pid: self.pid,
            ppid: self
                .stat
                .as_ref()
                .and_then(|s| s.as_ref().ok())
                .map_or(0, |s| s.ppid),
            binary: self.binary.as_ref().and_then(|b| b.as_deref()),
            environ: self
                .environ
                .as_ref()
                .and_then(|e| e.as_ref().ok())
                .map(Vec::as_slice),
        }
    }

    /// The process name: comm from stat, else the unescaped `Name:` from status.
    pub fn name(&self) -> Field<Vec<u8>> {
        if let Some(Ok(stat)) = &self.stat {
            return Ok(stat.comm.clone());
        }
        if let Some(comm) = &self.comm {
            return comm.clone();
        }
        let status = self.status()?;
        status
            .get("Name")
            .map(crate::parse::keyed::unescape_status_name)
            .ok_or(Unavailable::ReadError)
    }

    /// Real, effective, saved and filesystem uid from status.
    pub fn uids(&self) -> Field<Vec<u64>> {
        ids(self.status()?, "Uid")
    }

    /// Real, effective, saved and filesystem gid from status.
    pub fn gids(&self) -> Field<Vec<u64>> {
        ids(self.status()?, "Gid")
    }

    /// The bytes of `/proc/PID/cgroup`.
    pub fn cgroup(&self) -> Field<&Vec<u8>> {
        field(&self.cgroup)
    }

    /// The inode of namespace `kind` (with `Needs::NAMESPACES`).
    pub fn namespace(&self, kind: &str) -> Field<u64> {
        field(&self.namespaces)?
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|&(_, inode)| inode)
            .ok_or(Unavailable::Unsupported)
    }

    /// The security files (with `Needs::SECURITY`).
    pub fn security(&self) -> Field<&SecuritySample> {
        self.security.as_ref().ok_or(Unavailable::ReadError)
    }

    /// The proportional set size in bytes (with `Needs::PSS`).
    pub fn pss_bytes(&self) -> Field<u64> {
        field(&self.pss).copied()
    }

    /// The starting environment (with `Needs::ENVIRON`).
    pub fn environ(&self) -> Field<&Environ> {
        field(&self.environ)
    }

    /// The effective uid.
    pub fn euid(&self) -> Field<u32> {
        if let Some(owner) = self.owner {
            return owner;
        }
        let uids = self.uids()?;
        uids.get(1)
            .and_then(|&uid| u32::try_from(uid).ok())
            .ok_or(Unavailable::ReadError)
    }
}

fn ids(status: &Keyed, key: &str) -> Field<Vec<u64>> {
    status
        .numbers(key)
        .filter(|ids| ids.len() == 4)
        .ok_or(Unavailable::ReadError)
}

fn field<T>(slot: &Option<Field<T>>) -> Field<&T> {
    match slot {
        Some(Ok(value)) => Ok(value),
        Some(Err(why)) => Err(*why),
        // A column asked for a file its needs did not name: report it rather than panic.
        None => Err(Unavailable::ReadError),
    }
}

/// Refines a failed read by what the process is: a zombie or kernel thread has no exe, cwd,
/// memory or files, and the kernel answers ENOENT/ESRCH for those.
pub fn explain(why: Unavailable, kind: TaskKind) -> Unavailable {
    match (why, kind) {
        (Unavailable::Gone | Unavailable::ReadError, TaskKind::Zombie) => Unavailable::Zombie,
        (Unavailable::Gone | Unavailable::ReadError, TaskKind::KernelThread) => {
            Unavailable::KernelThread
        }
        _ => why,
    }
}

/// What is known about a process when deciding its runtime.
#[derive(Debug, Clone, Copy)]
pub struct ProcessFacts<'a> {
    pub pid: u32,
    pub ppid: u32,
    /// What the executable, the runtime libraries it needs and the libraries the process
    /// maps say about each probed runtime, if read.
    pub binary: Option<&'a BinaryFacts>,
    /// The starting environment (`/proc/PID/environ`), if readable.
    pub environ: Option<&'a [(Vec<u8>, Vec<u8>)]>,
}

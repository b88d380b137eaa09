//! A process's small proc files kept open between the refreshes of a live view: `stat`,
//! `statm`, `status`, `io`, `schedstat` and `cmdline` are opened once and read again with
//! one `pread` each (the kernel regenerates them at offset 0), which saves the `openat` and
//! `close` that dominate the cost of a refresh. An open file stays bound to the process it was
//! opened for: once that process has exited, reads fail with `Gone` even if its PID names
//! another process by then. Descriptors (the process directory's own included) are counted
//! against a budget taken from RLIMIT_NOFILE. The directory and `schedstat` (all an idle
//! process's refresh reads) come first; the other files are kept only while the budget
//! still has room for every listed process's first two. Past the budget, files are opened
//! and closed per read as usual, and a process whose directory is not counted is not kept.

use std::os::fd::{BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use rustix::fs::{Mode, OFlags};

use crate::collect::proc_read::pread_whole;
use crate::collect::procfs::Files;
use crate::collect::{ProcFs, ProcessDir, watchdog};
use crate::model::Unavailable;

/// The files kept open, in the order of [`KeptProcess::files`].
const KEPT: [&str; 6] = ["stat", "statm", "status", "io", "schedstat", "cmdline"];

/// The index of `schedstat` in [`KEPT`].
const SCHEDSTAT: usize = 4;

/// A process's main thread's scheduling counters (`/proc/PID/schedstat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedStat {
    /// Nanoseconds on a CPU.
    pub run_ns: u64,
    /// Timeslices run: context switches in.
    pub timeslices: u64,
    /// Read through the descriptor kept since the process was first opened, so these are
    /// the counters of that same process (not of a later one on its PID).
    pub bound: bool,
}

/// Descriptors left for everything else (sockets, terminals, the detail pane's reads).
const RESERVE: u64 = 512;

/// How many more descriptors kept files may use; shared by every [`KeptProcess`].
#[derive(Debug)]
pub struct FdBudget {
    left: AtomicUsize,
    /// Descriptors held back for the directories and `schedstat` of processes not kept yet.
    reserve: AtomicUsize,
    /// The whole budget, and the descriptor table size it was grown to.
    total: usize,
    grown: AtomicUsize,
}

/// Descriptors a kept process needs before any other file: its directory and `schedstat`.
pub const ESSENTIAL: usize = 2;

impl FdBudget {
    /// Raises the soft RLIMIT_NOFILE to the hard one and budgets what is above a reserve.
    pub fn from_rlimit() -> Self {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let mut limit = getrlimit(Resource::Nofile);
        if limit.maximum.is_some() && limit.maximum != limit.current {
            limit.current = limit.maximum;
            // Refused (a sandbox): the soft limit stays, and so does a smaller budget.
            let _ = setrlimit(Resource::Nofile, limit);
        }
        let soft = getrlimit(Resource::Nofile).current.unwrap_or(1024);
        Self::new(soft.saturating_sub(RESERVE) as usize)
    }

    pub fn new(descriptors: usize) -> Self {
        Self {
            left: AtomicUsize::new(descriptors),
            reserve: AtomicUsize::new(0),
            total: descriptors,
            grown: AtomicUsize::new(0),
        }
    }

    /// Grows this process's descriptor table at once to hold `processes`' kept files (within
    /// the budget), `any` being an open descriptor to duplicate. The kernel doubles the table
    /// as descriptors are opened, and in a process with more than one thread each doubling
    /// waits for an RCU grace period while the reader threads wait on the table: ten of
    /// them on the way to 20000 descriptors made the first refresh at 10000 processes wait
    /// longer than it computed. One growth, made while no other thread shares the table
    /// (the watchdog thread leaves it, and is waited for here), does not wait.
    pub fn grow_table_for(&self, processes: usize, any: BorrowedFd) {
        let kept = processes.saturating_mul(KEPT.len() + 1).min(self.total);
        let want = kept + RESERVE as usize;
        if kept == 0 || want <= self.grown.load(Ordering::Relaxed) {
            return;
        }
        watchdog::wait_until_table_unshared(std::time::Duration::from_millis(50));
        // A descriptor numbered `want - 1` (below the soft limit, which is the budget plus
        // the reserve at most): the table grows to hold it; closed at once.
        let _ = rustix::io::fcntl_dupfd_cloexec(any, (want - 1) as i32);
        self.grown.store(want, Ordering::Relaxed);
    }

    /// Holds back [`ESSENTIAL`] descriptors for each of `processes` not kept yet (set
    /// before each refresh): files other than the directory and `schedstat` are then kept
    /// only from what is above it.
    pub fn hold_back_for(&self, processes: usize) {
        self.reserve
            .store(processes.saturating_mul(ESSENTIAL), Ordering::Relaxed);
    }

    /// Takes one descriptor from the budget, one above the reserve unless `essential`;
    /// false when none is left.
    fn take(&self, essential: bool) -> bool {
        let floor = if essential {
            0
        } else {
            self.reserve.load(Ordering::Relaxed)
        };
        self.left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                n.checked_sub(1).filter(|&after| after >= floor)
            })
            .is_ok()
    }

    fn give_back(&self, n: usize) {
        self.left.fetch_add(n, Ordering::Relaxed);
    }
}

/// A process directory whose small files stay open for the next refresh.
pub struct KeptProcess {
    dir: ProcessDir,
    files: [OnceLock<Result<OwnedFd, Unavailable>>; KEPT.len()],
    budget: Arc<FdBudget>,
    /// The directory's descriptor is counted in the budget: this may be kept. When not,
    /// no file is kept open either.
    counted: bool,
}

impl KeptProcess {
    /// Opens `/proc/PID` (its files are opened at their first read).
    pub fn open(procfs: &ProcFs, pid: u32, budget: &Arc<FdBudget>) -> Result<Self, Unavailable> {
        let counted = budget.take(true);
        let dir = procfs.process(pid).inspect_err(|_| {
            if counted {
                budget.give_back(1);
            }
        })?;
        Ok(Self {
            dir,
            files: Default::default(),
            budget: Arc::clone(budget),
            counted,
        })
    }

    /// True when this may be kept for the next refresh (its descriptors are budgeted);
    /// false when the budget was spent and it serves one read only.
    pub fn counted(&self) -> bool {
        self.counted
    }

    pub fn dir(&self) -> &ProcessDir {
        &self.dir
    }

    /// The main thread's `schedstat`: nanoseconds on a CPU and timeslices (each a switch
    /// in, so its voluntary + involuntary context switches, give or take the slice running
    /// now), from a 30-byte file instead of `status`. `None` when the kernel has no
    /// schedstat (CONFIG_SCHED_INFO off) or it is unreadable.
    pub fn schedstat(&self) -> Option<SchedStat> {
        let (raw, bound) = match self.file(SCHEDSTAT) {
            Some(Ok(fd)) => (watchdog::guarded(|| pread_whole(fd, 128)).ok()?, true),
            Some(Err(_)) => return None,
            None => (self.dir.read_whole("schedstat", 128).ok()?, false),
        };
        let text = std::str::from_utf8(&raw).ok()?;
        let mut fields = text.split_ascii_whitespace();
        let run_ns = fields.next()?.parse().ok()?;
        let timeslices = fields.nth(1)?.parse().ok()?;
        Some(SchedStat {
            run_ns,
            timeslices,
            bound,
        })
    }

    /// The kept descriptor of file `index`, opened at the first call; `None` when the budget
    /// is spent (the caller reads the usual way).
    fn file(&self, index: usize) -> Option<&Result<OwnedFd, Unavailable>> {
        if let Some(file) = self.files[index].get() {
            return Some(file);
        }
        if !self.counted || !self.budget.take(index == SCHEDSTAT) {
            return None;
        }
        let opened = rustix::fs::openat(
            self.dir.handle(),
            KEPT[index],
            OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY,
            Mode::empty(),
        )
        .map_err(|errno| errno.raw_os_error());
        if opened.is_err() {
            self.budget.give_back(1);
        }
        // Out of descriptors is not the file's answer: read it the usual way.
        if matches!(opened, Err(libc::EMFILE | libc::ENFILE)) {
            return None;
        }
        let opened = opened.map_err(Unavailable::from_errno);
        Some(self.files[index].get_or_init(|| opened))
    }
}

impl Drop for KeptProcess {
    fn drop(&mut self) {
        let open = self
            .files
            .iter()
            .filter(|f| matches!(f.get(), Some(Ok(_))))
            .count();
        self.budget.give_back(open + usize::from(self.counted));
    }
}

impl Files for KeptProcess {
    fn id(&self) -> u32 {
        self.dir.pid()
    }

    fn read_whole(&self, name: &str, limit: u64) -> Result<Vec<u8>, Unavailable> {
        let kept = KEPT.iter().position(|k| *k == name);
        match kept.and_then(|index| self.file(index)) {
            Some(Ok(fd)) => watchdog::guarded(|| pread_whole(fd, limit)),
            Some(Err(why)) => Err(*why),
            None => self.dir.read_whole(name, limit),
        }
    }

    fn readlink(&self, name: &str) -> Result<Vec<u8>, Unavailable> {
        self.dir.readlink(name)
    }

    fn numeric_entries(&self, name: &str) -> Result<Vec<u32>, Unavailable> {
        self.dir.numeric_entries(name)
    }

    fn process_dir(&self) -> Option<&ProcessDir> {
        self.dir.process_dir()
    }

    fn euid_from_owner(&self) -> Option<Result<u32, Unavailable>> {
        self.dir.euid_from_owner()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::{Needs, ProcessSample};

    #[test]
    fn kept_files_read_the_current_values_and_count_against_the_budget() {
        let procfs = ProcFs::open(std::path::Path::new("/proc")).unwrap();
        let budget = Arc::new(FdBudget::new(3));
        let me = KeptProcess::open(&procfs, std::process::id(), &budget).unwrap();
        let first = ProcessSample::read_dir(&me, Needs::STAT | Needs::STATUS).unwrap();
        assert_eq!(
            budget.left.load(Ordering::Relaxed),
            0,
            "the directory, stat and status kept"
        );
        // Burn CPU so that the kept `stat` must show more ticks when read again.
        let ticks = |s: &ProcessSample| s.stat().unwrap().cpu_ticks();
        let mut again = ProcessSample::read_dir(&me, Needs::STAT).unwrap();
        let mut spin = 0u64;
        while ticks(&again) == ticks(&first) {
            spin = std::hint::black_box(spin.wrapping_add(1));
            if spin.is_multiple_of(1 << 20) {
                again = ProcessSample::read_dir(&me, Needs::STAT).unwrap();
            }
        }
        // Past the budget a file is read the usual way, and still read.
        let io = ProcessSample::read_dir(&me, Needs::IO).unwrap();
        assert!(io.io().is_ok());
        drop(me);
        assert_eq!(budget.left.load(Ordering::Relaxed), 3, "given back");
    }

    #[test]
    fn the_reserve_keeps_room_for_directories_and_schedstat() {
        let procfs = ProcFs::open(std::path::Path::new("/proc")).unwrap();
        let budget = Arc::new(FdBudget::new(5));
        // Room for two processes' essentials: only the directory and schedstat are kept.
        budget.hold_back_for(2);
        let me = KeptProcess::open(&procfs, std::process::id(), &budget).unwrap();
        assert!(me.counted());
        assert!(
            ProcessSample::read_dir(&me, Needs::STAT)
                .unwrap()
                .stat()
                .is_ok()
        );
        assert_eq!(
            budget.left.load(Ordering::Relaxed),
            4,
            "stat read, not kept"
        );
        if me.schedstat().is_some() {
            assert_eq!(budget.left.load(Ordering::Relaxed), 3, "schedstat kept");
        }
        // A spent budget: the process is read, and not kept.
        let spent = Arc::new(FdBudget::new(0));
        let unkept = KeptProcess::open(&procfs, std::process::id(), &spent).unwrap();
        assert!(!unkept.counted());
        assert!(
            ProcessSample::read_dir(&unkept, Needs::STAT)
                .unwrap()
                .stat()
                .is_ok()
        );
        drop((me, unkept));
        assert_eq!(budget.left.load(Ordering::Relaxed), 5);
        assert_eq!(spent.left.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_kept_file_of_an_exited_process_says_gone() {
        let procfs = ProcFs::open(std::path::Path::new("/proc")).unwrap();
        let budget = Arc::new(FdBudget::new(8));
        let mut child = std::process::Command::new("sleep")
            .arg("1000")
            .spawn()
            .unwrap();
        let kept = KeptProcess::open(&procfs, child.id(), &budget).unwrap();
        assert!(kept.read_whole("stat", 4096).is_ok());
        // Our own un-reaped child.
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(kept.read_whole("stat", 4096), Err(Unavailable::Gone));
    }

    #[test]
    fn context_switches_from_schedstat_match_status() {
        let procfs = ProcFs::open(std::path::Path::new("/proc")).unwrap();
        let budget = Arc::new(FdBudget::new(8));
        // A child that sleeps (switches out) many times, then stops so its counters hold.
        let mut child = std::process::Command::new("sh")
            .args([
                "-c",
                "for i in 1 2 3 4 5 6 7 8; do sleep 0.01; done; kill -STOP $$",
            ])
            .spawn()
            .unwrap();
        let kept = KeptProcess::open(&procfs, child.id(), &budget).unwrap();
        let stopped = || {
            let stat = ProcessSample::read_dir(&kept, Needs::STAT).unwrap();
            stat.stat().unwrap().state == b'T'
        };
        while !stopped() {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let Some(switches) = kept.schedstat().map(|s| s.timeslices) else {
            eprintln!("notice: no /proc/PID/schedstat on this kernel; status is used instead");
            child.kill().unwrap();
            child.wait().unwrap();
            return;
        };
        let status = ProcessSample::read_dir(&kept, Needs::STATUS).unwrap();
        let status = status.status().unwrap();
        let counted = status.number("voluntary_ctxt_switches").unwrap()
            + status.number("nonvoluntary_ctxt_switches").unwrap();
        assert!(counted >= 8, "{counted}");
        assert!(switches.abs_diff(counted) <= 1, "{switches} vs {counted}");
        // Our own un-reaped child.
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

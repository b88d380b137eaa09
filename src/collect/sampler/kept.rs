//! A process's small proc files kept open between the refreshes of a live view: `stat`,
//! `statm`, `status`, `io`, `schedstat` and `cmdline` are opened once and read again with
//! one `pread` each (the kernel regenerates them at offset 0), which saves the `openat` and
//! `close` that dominate the cost of a refresh. An open file stays bound to the process it was
//! opened for: once that process has exited, reads fail with `Gone` even if its PID names
//! another process by then. Descriptors are counted against a budget taken from
//! RLIMIT_NOFILE; past it, files are opened and closed per read as usual.

use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use rustix::fs::{Mode, OFlags};

use crate::collect::procfs::{Files, pread_whole};
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
}

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
        }
    }

    /// Takes one descriptor from the budget; false when none is left.
    fn take(&self) -> bool {
        self.left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
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
}

impl KeptProcess {
    /// Opens `/proc/PID` (its files are opened at their first read).
    pub fn open(procfs: &ProcFs, pid: u32, budget: &Arc<FdBudget>) -> Result<Self, Unavailable> {
        Ok(Self {
            dir: procfs.process(pid)?,
            files: Default::default(),
            budget: Arc::clone(budget),
        })
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
        if !self.budget.take() {
            return None;
        }
        let opened = rustix::fs::openat(
            self.dir.handle(),
            KEPT[index],
            OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY,
            Mode::empty(),
        )
        .map_err(|errno| Unavailable::from_errno(errno.raw_os_error()));
        if opened.is_err() {
            self.budget.give_back(1);
        }
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
        self.budget.give_back(open);
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::{Needs, ProcessSample};

    #[test]
    fn kept_files_read_the_current_values_and_count_against_the_budget() {
        let procfs = ProcFs::open(std::path::Path::new("/proc")).unwrap();
        let budget = Arc::new(FdBudget::new(2));
        let me = KeptProcess::open(&procfs, std::process::id(), &budget).unwrap();
        let first = ProcessSample::read_dir(&me, Needs::STAT | Needs::STATUS).unwrap();
        assert_eq!(
            budget.left.load(Ordering::Relaxed),
            0,
            "stat and status kept"
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
        assert_eq!(budget.left.load(Ordering::Relaxed), 2, "given back");
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

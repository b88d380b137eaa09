//! Thread sampling without stopping, tracing or signalling: each tick reads every thread's
//! `syscall` (running, or the call with its arguments, sp and pc), `stat` (state letter,
//! CPU ticks, name) only on full ticks or when `syscall` is unreadable, and `wchan` only
//! when neither says what the thread waits on. Files stay open between ticks (one `pread`
//! each), so 100 Hz over 50 threads stays cheap. Aggregation is in `analyze::profile`.

pub mod kept;

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::os::fd::OwnedFd;

use rustix::fs::{Mode, OFlags};

use crate::collect::ProcessDir;
use crate::collect::process::{Field, read_wchan};
use crate::model::Unavailable;
use crate::parse::stat::{Stat, parse_stat};
use crate::parse::syscall::{SyscallState, parse_syscall};

/// One thread at one tick.
#[derive(Debug, Clone)]
pub struct ThreadTick {
    pub tid: u32,
    pub name: Vec<u8>,
    /// The state letter: R (running or runnable), S, D, T...
    pub state: u8,
    /// user + system CPU ticks so far.
    pub cpu_ticks: u64,
    pub start_ticks: u64,
    /// What it is in, or why that is unreadable (no ptrace access).
    pub syscall: Field<SyscallState>,
    /// The kernel wait channel, read only when `syscall` does not show a system call.
    pub wchan: Option<Vec<u8>>,
}

impl ThreadTick {
    /// On a CPU or waiting for one (what `R` and `syscall` = `running` both mean).
    pub fn is_running(&self) -> bool {
        match self.syscall {
            Ok(SyscallState::Running) => true,
            Ok(_) => false,
            Err(_) => self.state == b'R',
        }
    }
}

/// The open files of one thread, and its last `stat`.
struct TaskFiles {
    stat: OwnedFd,
    /// `None` once reading it was refused: not asked again.
    syscall: Option<OwnedFd>,
    last: Option<Stat>,
}

/// Samples the threads of one process, whose directory it borrows (`&ProcessDir`, for one
/// window) or owns (`ProcessDir`, for a live view that samples between refreshes).
pub struct Sampler<D: Borrow<ProcessDir>> {
    dir: D,
    tasks: BTreeMap<u32, TaskFiles>,
    buffer: Vec<u8>,
}

/// Threads are looked for again every this many ticks (new ones start, old ones end).
pub const RESCAN_EVERY: u32 = 10;

impl<D: Borrow<ProcessDir>> Sampler<D> {
    pub fn new(dir: D) -> Self {
        let mut sampler = Self {
            dir,
            tasks: BTreeMap::new(),
            buffer: vec![0; 4096],
        };
        sampler.rescan();
        sampler
    }

    /// The process this samples.
    pub fn dir(&self) -> &ProcessDir {
        self.dir.borrow()
    }

    /// A sampler of only these threads (no scan; `rescan` would add the others).
    pub fn of_threads(dir: D, tids: &[u32]) -> Self {
        let mut sampler = Self {
            dir,
            tasks: BTreeMap::new(),
            buffer: vec![0; 4096],
        };
        for &tid in tids {
            sampler.open_task(tid);
        }
        sampler
    }

    /// Opens the files of threads that started since the last scan; forgets ended ones.
    pub fn rescan(&mut self) {
        let Ok(tids) = self.dir().numeric_entries("task") else {
            return;
        };
        self.tasks.retain(|tid, _| tids.binary_search(tid).is_ok());
        for tid in tids {
            if !self.tasks.contains_key(&tid) {
                self.open_task(tid);
            }
        }
    }

    /// Opens a thread's `stat` and `syscall` (a thread already gone is left out).
    fn open_task(&mut self, tid: u32) {
        let dir: &ProcessDir = self.dir.borrow();
        let open = |name: &str| {
            rustix::fs::openat(
                dir.handle(),
                format!("task/{tid}/{name}"),
                OFlags::RDONLY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .ok()
        };
        if let Some(stat) = open("stat") {
            let syscall = open("syscall");
            let last = None;
            self.tasks.insert(
                tid,
                TaskFiles {
                    stat,
                    syscall,
                    last,
                },
            );
        }
    }

    /// Reads every thread once, `stat` too when `full` (CPU ticks and names are then
    /// current). A thread that ended is left out (and forgotten).
    pub fn tick(&mut self, full: bool) -> Vec<ThreadTick> {
        let mut ticks = Vec::with_capacity(self.tasks.len());
        let mut ended = Vec::new();
        let tids: Vec<u32> = self.tasks.keys().copied().collect();
        for tid in tids {
            match self.read_task(tid, full) {
                Some(tick) => ticks.push(tick),
                None => ended.push(tid),
            }
        }
        for tid in ended {
            self.tasks.remove(&tid);
        }
        ticks
    }

    /// Reads one thread (`stat` when `full`, or when `syscall` cannot be read); `None`
    /// when it is not known or has ended.
    pub fn read_task(&mut self, tid: u32, full: bool) -> Option<ThreadTick> {
        let files = self.tasks.get(&tid)?;
        let syscall = match &files.syscall {
            None => Err(Unavailable::PermissionDenied),
            Some(fd) => match pread_all(fd, &mut self.buffer) {
                Ok(raw) => parse_syscall(raw).ok_or(Unavailable::ReadError),
                Err(why) => Err(why),
            },
        };
        if matches!(syscall, Err(Unavailable::PermissionDenied))
            && let Some(files) = self.tasks.get_mut(&tid)
        {
            files.syscall = None;
        }
        if matches!(syscall, Err(Unavailable::Gone)) {
            return None;
        }
        let files = self.tasks.get_mut(&tid)?;
        if full || syscall.is_err() || files.last.is_none() {
            let raw = pread_all(&files.stat, &mut self.buffer).ok()?;
            files.last = Some(parse_stat(raw).ok()?);
        }
        let stat = files.last.as_ref()?;
        // Between full reads the state letter follows `syscall`: running is R.
        let state = match syscall {
            Ok(SyscallState::Running) => b'R',
            Ok(_) if stat.state == b'R' => b'S',
            _ => stat.state,
        };
        let telling = matches!(
            syscall,
            Ok(SyscallState::InSyscall { .. } | SyscallState::Running)
        );
        let (name, cpu_ticks, start_ticks) =
            (stat.comm.clone(), stat.cpu_ticks(), stat.starttime_ticks);
        let wchan = if telling || state == b'R' {
            None
        } else {
            read_wchan(&self.dir.borrow().task(tid)).ok().flatten()
        };
        Some(ThreadTick {
            tid,
            name,
            state,
            cpu_ticks,
            start_ticks,
            syscall,
            wchan,
        })
    }
}

/// Reads a small proc file from its start through an open descriptor.
fn pread_all<'b>(fd: &OwnedFd, buffer: &'b mut Vec<u8>) -> Result<&'b [u8], Unavailable> {
    loop {
        let n = rustix::io::pread(fd, &mut buffer[..], 0)
            .map_err(|errno| Unavailable::from_errno(errno.raw_os_error()))?;
        if n < buffer.len() {
            return Ok(&buffer[..n]);
        }
        let bigger = buffer.len() * 2;
        buffer.resize(bigger, 0);
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::collect::ProcFs;

    #[test]
    fn samples_our_own_threads() {
        let procfs = ProcFs::open(std::path::Path::new("/proc")).unwrap();
        let dir = procfs.process(std::process::id()).unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let parked = std::thread::spawn(move || rx.recv().ok());
        let mut sampler = Sampler::new(&dir);
        let me = unsafe { libc::gettid() } as u32;
        let mut ticks = sampler.tick(true);
        // Poll until the other thread is parked (it may not have reached its wait yet).
        for _ in 0..1000 {
            if ticks.iter().any(|t| t.tid != me && !t.is_running()) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
            ticks = sampler.tick(false);
        }
        assert!(ticks.len() >= 2);
        // This thread sees itself in its own system call (the pread); the parked one waits.
        let mine = ticks.iter().find(|t| t.tid == me).unwrap();
        assert!(
            matches!(mine.syscall, Ok(SyscallState::InSyscall { nr: 17, .. })),
            "{mine:?}"
        );
        assert!(ticks.iter().any(|t| t.tid != me && !t.is_running()));
        drop(tx);
        parked.join().unwrap();
        sampler.rescan();
        assert!(sampler.tick(true).iter().all(|t| t.tid != 0));
    }
}

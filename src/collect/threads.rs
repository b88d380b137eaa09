//! The threads of one process, read through its directory handle: each thread's `stat`,
//! `status` (or its context switches from taskstats) and `syscall`, running threads re-read
//! to catch them blocked. Judges nothing.

use std::cell::RefCell;
use std::fmt::Write as _;

use crate::collect::process::{Field, MAX_SMALL_FILE, explain};
use crate::collect::sampler::Sampler;
use crate::collect::scan::{alongside, scan_prepared};
use crate::collect::taskstats::threads_switches;
use crate::collect::{Needs, ProcessDir, ProcessSample};
use crate::model::Unavailable;
use crate::parse::keyed::Keyed;
use crate::parse::stat::parse_stat;
use crate::parse::syscall::{SyscallState, parse_syscall};
use crate::parse::taskstats::TaskSwitches;

/// The files each thread needs. `wchan` (an expensive read: the kernel unwinds the thread's
/// stack) is read only for threads whose `syscall` says little.
pub const THREAD_NEEDS: Needs = Needs::STAT.union(Needs::STATUS).union(Needs::SYSCALL);

/// Where the threads' context-switch counters (the only lines of `status` kept) come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switches {
    /// Each thread's `status` file.
    Status,
    /// The kernel's taskstats answers, where it gives them (to a caller with CAP_NET_ADMIN),
    /// else `status`: only for a proc tree whose IDs are those of procscope's own PID
    /// namespace (taskstats looks IDs up there).
    Taskstats,
}

/// Reads every thread of the process behind `dir`; running threads are re-read up to
/// `samples` times in all. Fails only when the task list cannot be read.
pub fn read_threads(
    dir: &ProcessDir,
    samples: u32,
    switches: Switches,
) -> Result<Vec<ProcessSample>, Unavailable> {
    let tids = dir.numeric_entries("task")?;
    // Files are opened as `TID/stat` below a handle on `task`: one path step fewer each.
    let tasks = dir.subdir("task")?;
    // Each chunk's context switches are asked of taskstats at once, before its files.
    let ask = |chunk: &[u32]| match switches {
        Switches::Taskstats => threads_switches(dir.pid(), chunk).into_iter(),
        Switches::Status => Vec::new().into_iter(),
    };
    let read = |tid, asked: &mut std::vec::IntoIter<Option<TaskSwitches>>| {
        read_thread(&tasks, dir, tid, asked.next().flatten()).map(Some)
    };
    let mut threads = scan_prepared(&tids, ask, read).rows;
    resample_running(dir, &mut threads, samples);
    Ok(threads)
}

/// [`read_threads`], with `other` (reads of the same process the caller needs next: its
/// maps, its executable) run on a thread of its own meanwhile, so that its reads overlap
/// the thread scan instead of adding to it.
pub fn read_threads_alongside<R: Send>(
    dir: &ProcessDir,
    samples: u32,
    switches: Switches,
    other: impl FnOnce() -> R + Send,
) -> (Result<Vec<ProcessSample>, Unavailable>, R) {
    alongside(|| read_threads(dir, samples, switches), other)
}

/// The context-switch counters, the only lines of a thread's `status` that are kept.
const KEPT_STATUS: [&str; 2] = ["voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"];

thread_local! {
    /// Each reader's file buffer and path, reused for every file it reads.
    static SCRATCH: RefCell<(Vec<u8>, String)> =
        RefCell::new((Vec::with_capacity(4096), String::with_capacity(32)));
}

/// Reads the [`THREAD_NEEDS`] files of thread `tid` into the reader's reused buffer, keeping
/// only the parsed values: `status` keeps only its context-switch lines ([`KEPT_STATUS`]),
/// which `counted` (taskstats' answer) stands for when there is one. `Err(Gone)` when the
/// thread exited before its stat or status could be read. `tasks` is the `task` directory
/// of the process `dir`.
fn read_thread(
    tasks: &ProcessDir,
    dir: &ProcessDir,
    tid: u32,
    counted: Option<TaskSwitches>,
) -> Result<ProcessSample, Unavailable> {
    SCRATCH.with_borrow_mut(|(buf, path)| {
        let mut read = |name: &str, buf: &mut Vec<u8>| {
            path.clear();
            let _ = write!(path, "{tid}/{name}");
            tasks.read_whole_into(path, MAX_SMALL_FILE, buf)
        };
        let stat =
            read("stat", buf).and_then(|()| parse_stat(buf).map_err(|_| Unavailable::ReadError));
        if let Err(Unavailable::Gone) = stat {
            return Err(Unavailable::Gone);
        }
        let status = match counted {
            Some(counted) => Ok(Keyed::from_numbers(&[
                (KEPT_STATUS[0], counted.voluntary),
                (KEPT_STATUS[1], counted.involuntary),
            ])),
            None => read("status", buf).map(|()| Keyed::only(buf, &KEPT_STATUS)),
        };
        if let Err(Unavailable::Gone) = status {
            return Err(Unavailable::Gone);
        }
        let syscall: Field<SyscallState> =
            read("syscall", buf).and_then(|()| parse_syscall(buf).ok_or(Unavailable::ReadError));
        // An empty sample of the thread (no file read), filled with what was read here.
        let mut sample = ProcessSample::read_thread(dir, tid, Needs::NONE)?;
        sample.stat = Some(stat);
        sample.status = Some(status);
        let kind = sample.kind();
        sample.syscall = Some(syscall.map_err(|why| explain(why, kind)));
        Ok(sample)
    })
}

/// Re-reads threads that were running, through the profile sampler, until each is caught
/// blocked or `samples` reads were made in all.
fn resample_running(dir: &ProcessDir, threads: &mut [ProcessSample], samples: u32) {
    let running = |t: &ProcessSample| matches!(t.syscall, Some(Ok(SyscallState::Running)));
    if samples <= 1 || !threads.iter().any(running) {
        return;
    }
    let tids: Vec<u32> = threads
        .iter()
        .filter(|t| running(t))
        .map(|t| t.tid)
        .collect();
    let mut sampler = Sampler::of_threads(dir, &tids);
    for _ in 1..samples {
        let mut any_running = false;
        for thread in threads.iter_mut().filter(|t| running(t)) {
            match sampler
                .read_task(thread.tid, false)
                .map(|tick| tick.syscall)
            {
                Some(Ok(state)) => thread.syscall = Some(Ok(state)),
                Some(Err(why)) => thread.syscall = Some(Err(why)),
                None => {}
            }
            any_running |= running(thread);
        }
        if !any_running {
            break;
        }
        std::thread::yield_now();
    }
}

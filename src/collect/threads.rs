//! The threads of one process, read through its directory handle: each thread's `stat`,
//! `status` and `syscall`, running threads re-read to catch them blocked. Judges nothing.

use crate::collect::sampler::Sampler;
use crate::collect::scan::scan;
use crate::collect::{Needs, ProcessDir, ProcessSample};
use crate::model::Unavailable;
use crate::parse::syscall::SyscallState;

/// The files each thread needs. `wchan` (an expensive read: the kernel unwinds the thread's
/// stack) is read only for threads whose `syscall` says little.
pub const THREAD_NEEDS: Needs = Needs::STAT.union(Needs::STATUS).union(Needs::SYSCALL);

/// Reads every thread of the process behind `dir`; running threads are re-read up to
/// `samples` times in all. Fails only when the task list cannot be read.
pub fn read_threads(dir: &ProcessDir, samples: u32) -> Result<Vec<ProcessSample>, Unavailable> {
    let tids = dir.numeric_entries("task")?;
    let mut threads = scan(&tids, |tid| {
        ProcessSample::read_thread(dir, tid, THREAD_NEEDS).map(Some)
    })
    .rows;
    resample_running(dir, &mut threads, samples);
    Ok(threads)
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

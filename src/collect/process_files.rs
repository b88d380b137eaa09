//! The one-file readers of a process (or thread) directory: stat, comm, statm, syscall, wchan,
//! and the path-based reader used when a request needs only `stat` or `comm`. Each returns the parsed value
//! or why it is missing; none decides anything.

use crate::collect::procfs::{Files, ProcFs};
use crate::model::Unavailable;
use crate::parse::keyed::Keyed;
use crate::parse::stat::{Stat, parse_stat};
use crate::parse::syscall::{SyscallState, parse_syscall};
use crate::query::needs::Needs;

use super::process::{Field, MAX_SMALL_FILE, Resident};

/// Reads `syscall`: what the task is blocked in, with its stack pointer and program counter.
pub fn read_syscall(dir: &impl Files) -> Field<SyscallState> {
    let raw = dir.read_whole("syscall", MAX_SMALL_FILE)?;
    parse_syscall(&raw).ok_or(Unavailable::ReadError)
}

/// Reads `wchan`: the kernel function a sleeping task waits in (`None` when not sleeping or
/// hidden from us).
pub fn read_wchan(dir: &impl Files) -> Field<Option<Vec<u8>>> {
    let raw = dir.read_whole("wchan", MAX_SMALL_FILE)?;
    let name = raw.trim_ascii();
    // "0" means not sleeping, or hidden from us.
    Ok((!name.is_empty() && name != b"0").then(|| name.to_vec()))
}

/// Reads `comm`: the name the kernel keeps (as in `stat`), without its newline.
pub(super) fn read_comm(dir: &impl Files) -> Field<Vec<u8>> {
    let mut raw = dir.read_whole("comm", MAX_SMALL_FILE)?;
    if raw.last() == Some(&b'\n') {
        raw.pop();
    }
    Ok(raw)
}

/// The resident pages from `statm` (`size resident shared text lib data dt`).
pub(super) fn read_statm_resident(dir: &impl Files) -> Field<Resident> {
    let raw = dir.read_whole("statm", MAX_SMALL_FILE)?;
    raw.split(|b| b.is_ascii_whitespace())
        .filter(|word| !word.is_empty())
        .nth(1)
        .and_then(|word| std::str::from_utf8(word).ok()?.parse().ok())
        .map(Resident::Pages)
        .ok_or(Unavailable::ReadError)
}

/// A process read by paths below the proc root (`PID/stat`), for requests of one file.
pub(super) struct OneFile<'a> {
    pub(super) procfs: &'a ProcFs,
    pub(super) pid: u32,
}

impl OneFile<'_> {
    fn path(&self, name: &str) -> String {
        format!("{}/{name}", self.pid)
    }
}

impl Files for OneFile<'_> {
    fn id(&self) -> u32 {
        self.pid
    }

    fn read_whole(&self, name: &str, limit: u64) -> Result<Vec<u8>, Unavailable> {
        self.procfs.read_whole(&self.path(name), limit)
    }

    fn readlink(&self, name: &str) -> Result<Vec<u8>, Unavailable> {
        self.procfs.readlink(&self.path(name))
    }

    fn numeric_entries(&self, _name: &str) -> Result<Vec<u32>, Unavailable> {
        // Only `stat` is read this way; listings go through a directory handle.
        Err(Unavailable::Unsupported)
    }
}

pub(super) fn read_stat(dir: &impl Files) -> Field<Stat> {
    let raw = dir.read_whole("stat", MAX_SMALL_FILE)?;
    parse_stat(&raw).map_err(|_| Unavailable::ReadError)
}

/// From this many threads on, a process's CPU total comes from its CPU clock (with
/// `Needs::CPU_CLOCK`): below it, stat's two passes over the threads cost less than the
/// extra system call.
const CPU_CLOCK_THREADS: u64 = 64;

/// Reads `stat` when `needs` has it (`None` otherwise), with the process CPU clock's reading
/// when it stands in for stat's sum: with `Needs::CPU_CLOCK`, for a process whose `status`
/// (read first) counts [`CPU_CLOCK_THREADS`] or more, `stat` is then the leader thread's.
pub(super) fn read_stat_as_needed(
    dir: &impl Files,
    needs: Needs,
    status: Option<&Field<Keyed>>,
) -> (Option<Field<Stat>>, Option<u64>) {
    if !needs.contains(Needs::STAT) {
        return (None, None);
    }
    let many_threads = status
        .and_then(|status| status.as_ref().ok()?.number("Threads"))
        .is_some_and(|count| count >= CPU_CLOCK_THREADS);
    let clock = (needs.contains(Needs::CPU_CLOCK) && many_threads)
        .then(|| dir.cpu_clock_nanos())
        .flatten();
    // Read after the clock: a leader read through this directory proves the clock was this
    // process's, not a later one's with the same PID.
    let stat = match clock {
        Some(_) => read_leader_stat(dir),
        None => read_stat(dir),
    };
    (Some(stat), clock)
}

/// Reads the leader thread's `stat` (`task/PID/stat`): the process's fields without the
/// kernel's pass over every thread for the summed times and faults.
pub fn read_leader_stat(dir: &impl Files) -> Field<Stat> {
    let raw = dir.read_whole(&format!("task/{}/stat", dir.id()), MAX_SMALL_FILE)?;
    parse_stat(&raw).map_err(|_| Unavailable::ReadError)
}

//! The one-file readers of a process (or thread) directory: stat, comm, statm, syscall, wchan,
//! and the path-based reader used when a request needs only `stat` or `comm`. Each returns the parsed value
//! or why it is missing; none decides anything.

use crate::collect::procfs::{Files, ProcFs};
use crate::model::Unavailable;
use crate::parse::stat::{Stat, parse_stat};
use crate::parse::syscall::{SyscallState, parse_syscall};

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

//! What `mem` reads: smaps, smaps_rollup, the executable's path, and each thread's stack
//! pointer and name.

use crate::collect::process::{Field, read_syscall};
use crate::collect::scan::{alongside, scan};
use crate::collect::{Needs, ProcessDir, ProcessSample};
use crate::parse::smaps::{Rollup, SmapsEntry, parse_rollup, parse_smaps};
use crate::parse::syscall::SyscallState;

/// A running thread is re-read this many times to catch it blocked.
const SP_SAMPLES: usize = 3;

/// The files behind `procscope mem PID`.
#[derive(Debug)]
pub struct MemoryFiles {
    pub smaps: Field<Vec<SmapsEntry>>,
    pub rollup: Field<Rollup>,
    pub exe: Option<Vec<u8>>,
    /// Each thread: TID, name, and its stack pointer when it could be sampled.
    pub threads: Vec<(u32, Vec<u8>, Option<u64>)>,
}

/// Reads the memory map of a process and where its threads' stacks are (with their names
/// when `names`). `smaps_rollup` (a second walk over every page table) and the threads are
/// read on a thread of their own while `smaps` is: the two walks overlap on two CPUs.
pub fn read_memory(dir: &ProcessDir, names: bool) -> MemoryFiles {
    let side_reads = || {
        let rollup = dir
            .read("smaps_rollup")
            .and_then(|raw| parse_rollup(&raw).ok_or(crate::model::Unavailable::Gone));
        (
            rollup,
            dir.readlink("exe").ok(),
            read_stack_pointers(dir, names),
        )
    };
    let (smaps, (rollup, exe, threads)) = alongside(
        || dir.read("smaps").map(|raw| parse_smaps(&raw)),
        side_reads,
    );
    MemoryFiles {
        smaps,
        rollup,
        exe,
        threads,
    }
}

/// Each thread: TID, name (when `names`) and its stack pointer when it could be sampled.
fn read_stack_pointers(dir: &ProcessDir, names: bool) -> Vec<(u32, Vec<u8>, Option<u64>)> {
    let tids = dir.numeric_entries("task").unwrap_or_default();
    scan(&tids, |tid| {
        let needs = if names {
            Needs::STAT | Needs::SYSCALL
        } else {
            Needs::SYSCALL
        };
        let thread = ProcessSample::read_thread(dir, tid, needs)?;
        let name = thread.name().unwrap_or_default();
        let mut state = thread.syscall().ok();
        for _ in 1..SP_SAMPLES {
            if state != Some(SyscallState::Running) {
                break;
            }
            state = read_syscall(&dir.task(tid)).ok();
        }
        let sp = state.and_then(|s| s.registers()).map(|(sp, _)| sp);
        Ok(Some((tid, name, sp)))
    })
    .rows
}

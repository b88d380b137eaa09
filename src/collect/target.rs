//! Opening one named process (`show PID`, `threads PID`...): it must exist and be a
//! process, not a thread of another one.

use crate::collect::{Needs, ProcFs, ProcessDir, ProcessSample};
use crate::model::Unavailable;

/// Why a command cannot report on a PID at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAProcess {
    /// No such process (or it exited).
    Missing,
    /// The PID is a thread of another process.
    ThreadOf(u32),
    /// Even the basic files were unreadable.
    Unreadable(Unavailable),
}

/// Opens `pid` and reads `needs` (always with status, for the thread-group check). A TID
/// is refused: `Tgid` must equal the PID.
pub fn open_process(
    procfs: &ProcFs,
    pid: u32,
    needs: Needs,
) -> Result<(ProcessDir, ProcessSample), NotAProcess> {
    let gone = |why| match why {
        Unavailable::Gone => NotAProcess::Missing,
        other => NotAProcess::Unreadable(other),
    };
    let dir = procfs.process(pid).map_err(gone)?;
    let sample = ProcessSample::read_dir(&dir, needs | Needs::STATUS).map_err(gone)?;
    if let Some(tgid) = sample.other_thread_group() {
        return Err(NotAProcess::ThreadOf(tgid));
    }
    Ok((dir, sample))
}

impl ProcessSample {
    /// The process this sample, read as `/proc/PID`, is a thread of, when its `status` names
    /// another Tgid (a thread's ID looked up as a PID); `None` for a process, or without
    /// `status`.
    pub fn other_thread_group(&self) -> Option<u32> {
        let tgid = self.status().ok()?.number("Tgid")?;
        (tgid != u64::from(self.pid)).then(|| u32::try_from(tgid).unwrap_or(u32::MAX))
    }
}

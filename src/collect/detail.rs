//! Everything `show` reads about one process, each file a fallible value.

use crate::collect::process::{Field, ProcessSample, TaskKind, explain};
use crate::collect::{Needs, ProcFs};
use crate::model::Unavailable;
use crate::parse::keyed::Keyed;
use crate::parse::limits::{Limit, parse_limits};

/// The files behind `procscope show PID`.
#[derive(Debug)]
pub struct ProcessDetailFiles {
    pub sample: ProcessSample,
    pub cwd: Field<Vec<u8>>,
    pub smaps_rollup: Field<Keyed>,
    pub limits: Field<Vec<Limit>>,
    pub cgroup: Field<Vec<u8>>,
}

/// Why `show` cannot report on a PID at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAProcess {
    /// No such process (or it exited).
    Missing,
    /// The PID is a thread of another process.
    ThreadOf(u32),
    /// Even the basic files were unreadable.
    Unreadable(Unavailable),
}

/// Reads one process for `show`. A TID is refused: `Tgid` must equal the PID.
pub fn read_detail(procfs: &ProcFs, pid: u32) -> Result<ProcessDetailFiles, NotAProcess> {
    let needs = Needs::STAT | Needs::STATUS | Needs::CMDLINE | Needs::EXE | Needs::FD_COUNT;
    let gone = |why| match why {
        Unavailable::Gone => NotAProcess::Missing,
        other => NotAProcess::Unreadable(other),
    };
    let dir = procfs.process(pid).map_err(gone)?;
    let sample = ProcessSample::read_dir(&dir, needs).map_err(gone)?;
    if let Ok(status) = sample.status() {
        match status.number("Tgid") {
            Some(tgid) if tgid != u64::from(pid) => return Err(NotAProcess::ThreadOf(tgid as u32)),
            _ => {}
        }
    }
    let kind = sample.kind();
    let read = |name: &str| dir.read(name).map_err(|why| explain(why, kind));
    let cwd = dir.readlink("cwd").map_err(|why| explain(why, kind));
    let smaps_rollup = match kind {
        TaskKind::KernelThread => Err(Unavailable::KernelThread),
        TaskKind::Zombie => Err(Unavailable::Zombie),
        TaskKind::Normal => read("smaps_rollup").and_then(|raw| {
            if raw.is_empty() {
                Err(Unavailable::Gone)
            } else {
                Ok(Keyed::new(raw))
            }
        }),
    };
    let limits = read("limits").map(|raw| parse_limits(&raw));
    let cgroup = read("cgroup");
    Ok(ProcessDetailFiles {
        cwd,
        smaps_rollup,
        limits,
        cgroup,
        sample,
    })
}

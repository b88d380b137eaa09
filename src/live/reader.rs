//! Reading one refresh's processes for the live view. Columns that cannot change while a
//! process lives (its command line, executable, runtime, user) are taken from the previous
//! refresh when the PID still has the same start time, as htop keeps command lines, so a
//! known process costs one `stat` read; each is read again once every [`STATIC_REFRESH`]
//! refreshes (spread over PIDs) so that a retitled command line shows.

use std::collections::HashMap;

use crate::collect::scan::{Scan, scan};
use crate::collect::{Field, Needs, ProcFs, ProcessSample};
use crate::columns::{Column, Context, Value};
use crate::commands::ps::read_rows;

use super::sampler::{Prior, SampleSpec};

/// Columns whose value does not change for one process (same PID and start time).
const STATIC_COLUMNS: &[&str] = &["user", "uid", "cmd", "exe", "runtime"];

/// Every process's static columns are read again once in this many refreshes.
pub const STATIC_REFRESH: u64 = 10;

/// True when column `column` is taken from the previous refresh for known processes.
pub fn is_static(column: &Column) -> bool {
    STATIC_COLUMNS.contains(&column.name)
}

/// What the reader threads pass to [`read`].
pub struct Pass<'a> {
    pub procfs: &'a ProcFs,
    pub spec: &'a SampleSpec,
    pub context: &'a Context<'a>,
    pub priors: &'a HashMap<(u32, u32), Prior>,
    /// Counts refreshes, to spread the re-reads of static columns.
    pub refresh: u64,
}

impl Pass<'_> {
    /// Everything a new process needs read.
    fn all_needs(&self) -> Needs {
        let mut needs = self.spec.filter.needs() | Needs::STAT;
        for column in &self.spec.columns {
            needs |= column.needs;
        }
        if self.spec.rates {
            needs |= Needs::STATUS | Needs::IO;
        }
        needs
    }

    /// What a known process needs read: all but the static columns' files.
    fn known_needs(&self) -> Needs {
        let mut needs = self.spec.filter.needs() | Needs::STAT;
        for column in self.spec.columns.iter().filter(|c| !is_static(c)) {
            needs |= column.needs;
        }
        if self.spec.rates {
            needs |= Needs::STATUS | Needs::IO;
        }
        needs
    }
}

/// Reads every PID (or, in thread mode, every thread) and maps each sample through `map`,
/// which gets the previous refresh's static cells when they still apply.
pub fn read<T, F>(pass: &Pass, pids: &[u32], map: F) -> Scan<T>
where
    T: Send,
    F: Fn(&ProcessSample, Option<&[Field<Value>]>) -> Option<T> + Sync,
{
    if pass.spec.threads {
        return read_rows(
            pass.procfs,
            pids,
            &pass.spec.filter,
            pass.all_needs(),
            true,
            |sample| map(sample, None),
        );
    }
    let (all, known) = (pass.all_needs(), pass.known_needs());
    scan(pids, |pid| {
        let dir = pass.procfs.process(pid)?;
        let mut sample = ProcessSample::read_dir(&dir, known)?;
        let start = sample.stat().ok().map(|s| s.starttime_ticks);
        let reusable = pass
            .priors
            .get(&(pid, pid))
            .filter(|prior| Some(prior.start_ticks) == start)
            .filter(|_| !(u64::from(pid) + pass.refresh).is_multiple_of(STATIC_REFRESH))
            .map(|prior| prior.statics.as_slice());
        if reusable.is_none() && all != known {
            let extra = ProcessSample::read_dir(&dir, all)?;
            sample = extra;
        }
        if !pass.spec.filter.keeps(&sample) {
            return Ok(None);
        }
        Ok(map(&sample, reusable))
    })
}

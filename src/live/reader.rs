//! Reading one refresh's processes for the live view. Columns that cannot change while a
//! process lives (its command line, executable, runtime, user) are taken from the previous
//! refresh when the PID still has the same start time, as htop keeps command lines, so a
//! known process costs one `stat` read; each is read again once every [`STATIC_REFRESH`]
//! refreshes (spread over PIDs) so that a retitled command line shows. A process's small
//! files stay open from one refresh to the next (`collect::sampler::kept`).

use std::collections::HashMap;
use std::sync::Arc;

use crate::analyze::filter::FilterProcess;
use crate::collect::listing::read_rows;
use crate::collect::sampler::kept::{FdBudget, KeptProcess, SchedStat};
use crate::collect::scan::{Scan, scan};
use crate::collect::{Field, Needs, ProcFs, ProcessSample};
use crate::columns::{Column, Context, Value};
use crate::model::Unavailable;

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
    /// The files kept open since the previous refresh, by PID.
    pub kept: &'a HashMap<u32, KeptProcess>,
    pub budget: &'a Arc<FdBudget>,
    /// An idle process's previous row may stand (see [`idle_rows_allowed`]; and the
    /// previous snapshot was handed back).
    pub idle_rows: bool,
}

impl Pass<'_> {
    /// Everything a new process needs read; `status` for context switches only when
    /// `switches` (from `schedstat`) did not give them.
    fn all_needs(&self, switches: Option<u64>) -> Needs {
        self.needs(self.spec.columns.iter().copied(), switches)
    }

    /// What a known process needs read: all but the static columns' files.
    fn known_needs(&self, switches: Option<u64>) -> Needs {
        let columns = self.spec.columns.iter().copied().filter(|c| !is_static(c));
        self.needs(columns, switches)
    }

    fn needs<'c>(&self, columns: impl Iterator<Item = &'c Column>, switches: Option<u64>) -> Needs {
        let mut needs = self.spec.filter.needs() | Needs::STAT;
        for column in columns {
            needs |= column.needs;
        }
        if self.spec.rates {
            needs |= Needs::IO;
            if switches.is_none() {
                needs |= Needs::STATUS;
            }
        }
        needs
    }
}

/// What reading one process gave.
pub enum Outcome<T> {
    /// Its row, from what was read.
    Read(T),
    /// A known single-threaded process whose main thread has not run since the previous
    /// refresh (`schedstat` unchanged, read through its kept descriptor): its previous row
    /// stands, nothing else was read.
    Idle { pid: u32, sched: SchedStat },
}

/// A read row, and the process's kept files when they were opened by this read.
pub type ReadRow<T> = (Outcome<T>, Option<KeptProcess>);

/// The files whose values cannot change while a process does not run, except from outside
/// (reclaim shrinking its RSS, a renice, a new parent): those show at its next full read,
/// within [`STATIC_REFRESH`] refreshes.
const IDLE_STABLE: Needs = Needs::STAT
    .union(Needs::COMM)
    .union(Needs::STATUS)
    .union(Needs::RSS)
    .union(Needs::RAW_CMDLINE)
    .union(Needs::EXE)
    .union(Needs::USER_NAMES)
    .union(Needs::OWNER)
    .union(Needs::RUNTIME)
    .union(Needs::IO);

/// Columns computed from the current time: never kept from a previous refresh.
const TIME_DEPENDENT: &[&str] = &["etime", "age"];

/// True when an idle process's previous row may stand for `spec`: a process listing whose
/// columns and filter all read idle-stable files.
pub fn idle_rows_allowed(spec: &SampleSpec) -> bool {
    !spec.threads
        && IDLE_STABLE.contains(spec.filter.needs())
        && spec
            .columns
            .iter()
            .all(|c| IDLE_STABLE.contains(c.needs) && !TIME_DEPENDENT.contains(&c.name))
}

/// What the row mapper gets: the sample, the previous refresh's static cells when they still
/// apply, and the main thread's context switches from `schedstat` when rates are read
/// (`None`: take them from `status`).
pub type Mapper<'m, T> =
    dyn Fn(&ProcessSample, Option<&[Field<Value>]>, Option<SchedStat>) -> Option<T> + Sync + 'm;

/// Reads every PID (or, in thread mode, every thread) and maps each sample through `map`,
/// which gets the previous refresh's static cells when they still apply. A known process
/// is read through its kept files; a new one (or a PID whose kept files say it exited,
/// which may name a new process now) is opened, and its files come back with its row.
pub fn read<T: Send>(pass: &Pass, pids: &[u32], map: &Mapper<T>) -> Scan<ReadRow<T>> {
    if pass.spec.threads {
        let scan = read_rows(
            pass.procfs,
            pids,
            &pass.spec.filter,
            pass.all_needs(None),
            true,
            |sample| map(sample, None, None),
        );
        return Scan {
            rows: scan
                .rows
                .into_iter()
                .map(|row| (Outcome::Read(row), None))
                .collect(),
            vanished: scan.vanished,
            hidden: scan.hidden,
        };
    }
    scan(pids, |pid| {
        if let Some(kept) = pass.kept.get(&pid) {
            match read_process(pass, kept, map) {
                Err(Unavailable::Gone) => {}
                other => return other.map(|row| row.map(|outcome| (outcome, None))),
            }
        }
        let kept = KeptProcess::open(pass.procfs, pid, pass.budget)?;
        let row = read_process(pass, &kept, map)?;
        let kept = kept.counted().then_some(kept);
        Ok(row.map(|outcome| (outcome, kept)))
    })
}

/// Reads one process through `files`: nothing more than `schedstat` when it has not run
/// since a previous row that may stand, what a known process needs when its static cells
/// can be reused, everything otherwise.
fn read_process<T>(
    pass: &Pass,
    files: &KeptProcess,
    map: &Mapper<T>,
) -> Result<Option<Outcome<T>>, Unavailable> {
    let pid = files.dir().pid();
    let sched = files.schedstat();
    let prior = pass
        .priors
        .get(&(pid, pid))
        .filter(|_| !(u64::from(pid) + pass.refresh).is_multiple_of(STATIC_REFRESH));
    if let (Some(prior), Some(sched)) = (prior, sched)
        && pass.idle_rows
        && sched.bound
        && prior.unchanged(sched)
    {
        return Ok(Some(Outcome::Idle { pid, sched }));
    }
    let switches = sched.map(|s| s.timeslices);
    let (all, known) = (pass.all_needs(switches), pass.known_needs(switches));
    let mut sample = ProcessSample::read_dir(files, if prior.is_some() { known } else { all })?;
    let start = sample.stat().ok().map(|s| s.starttime_ticks);
    let reusable = prior
        .filter(|prior| Some(prior.start_ticks) == start)
        .map(|prior| prior.statics.as_slice());
    if prior.is_some() && reusable.is_none() && all != known {
        sample = ProcessSample::read_dir(files, all)?;
    }
    if !pass.spec.filter.keeps(&sample) {
        return Ok(None);
    }
    Ok(map(&sample, reusable, sched).map(Outcome::Read))
}

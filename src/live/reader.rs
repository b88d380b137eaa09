//! Reading one refresh's processes for the live view. Columns that cannot change while a
//! process lives (its command line, executable, runtime, user) are taken from the previous
//! refresh when the PID still has the same start time, as htop keeps command lines, so a
//! known process costs one `stat` read; each is read again once every [`STATIC_REFRESH`]
//! refreshes (spread over PIDs) so that a retitled command line shows. A process's small
//! files stay open from one refresh to the next (`collect::sampler::kept`). The full-screen
//! view may defer columns (see [`Pass::deferred`]): a process's first read leaves them unread,
//! and they are read ([`read_deferred`]) only for the rows it draws or searches.

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
    /// Per column, true when a process's first read leaves it unread (its row is then
    /// `deferred` until [`read_deferred`] fills it); empty when every column is read.
    pub deferred: &'a [bool],
}

impl Pass<'_> {
    /// What a process needs read: every column's files, but the static columns' when
    /// `known` (their cells are reused) and the deferred columns' when `defer`; `status`
    /// for context switches only when `switches` (from `schedstat`) did not give them.
    fn needs(&self, known: bool, defer: bool, switches: Option<u64>) -> Needs {
        let mut needs = self.spec.filter.needs() | Needs::STAT;
        for (at, column) in self.spec.columns.iter().enumerate() {
            let skipped = (known && is_static(column))
                || (defer && self.deferred.get(at).copied().unwrap_or(false));
            if !skipped {
                needs |= column.needs;
            }
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

/// What the row mapper gets besides the sample.
#[derive(Clone, Copy, Default)]
pub struct Reuse<'a> {
    /// The previous refresh's static cells, when they still apply.
    pub statics: Option<&'a [Field<Value>]>,
    /// The main thread's context switches from `schedstat` when rates are read (`None`:
    /// take them from `status`).
    pub sched: Option<SchedStat>,
    /// The deferred columns were not read: their cells are left for [`read_deferred`].
    pub deferred: bool,
}

/// Turns a sample into a row.
pub type Mapper<'m, T> = dyn Fn(&ProcessSample, Reuse) -> Option<T> + Sync + 'm;

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
            pass.needs(false, false, None),
            true,
            |sample| map(sample, Reuse::default()),
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
    let seen = pass.priors.get(&(pid, pid));
    let prior = seen.filter(|_| !(u64::from(pid) + pass.refresh).is_multiple_of(STATIC_REFRESH));
    // A new process is deferred when the view defers; a known one stays so until filled.
    let defer = !pass.deferred.is_empty() && seen.is_none_or(|prior| prior.deferred);
    if let (Some(prior), Some(sched)) = (prior, sched)
        && pass.idle_rows
        && sched.bound
        && prior.unchanged(sched)
    {
        return Ok(Some(Outcome::Idle { pid, sched }));
    }
    let switches = sched.map(|s| s.timeslices);
    let all = pass.needs(false, defer, switches);
    let known = pass.needs(true, defer, switches);
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
    let reuse = Reuse {
        statics: reusable,
        sched,
        deferred: defer,
    };
    Ok(map(&sample, reuse).map(Outcome::Read))
}

/// A row whose deferred cells are to be read: its index in the snapshot, PID and start time.
pub type DeferredRow = (usize, u32, u64);

/// Reads the deferred columns of `rows` (in parallel when there are many), each through
/// its kept files or, for a process not kept, its directory checked against the row's start
/// time; returns each row's index with one cell per deferred column, in column order (`gone`
/// for a process that exited or whose PID now names another).
pub fn read_deferred(pass: &Pass, rows: &[DeferredRow]) -> Vec<(usize, Vec<Field<Value>>)> {
    let columns: Vec<&Column> = pass
        .spec
        .columns
        .iter()
        .zip(pass.deferred)
        .filter(|(_, deferred)| **deferred)
        .map(|(column, _)| *column)
        .collect();
    let needs = columns
        .iter()
        .fold(Needs::STAT, |needs, column| needs | column.needs);
    let read = |(pid, start): (u32, u64)| -> Result<ProcessSample, Unavailable> {
        let sample = match pass.kept.get(&pid) {
            Some(kept) => ProcessSample::read_dir(kept, needs)?,
            None => ProcessSample::read_dir(&pass.procfs.process(pid)?, needs)?,
        };
        match sample.stat() {
            Ok(stat) if stat.starttime_ticks != start => Err(Unavailable::Gone),
            _ => Ok(sample),
        }
    };
    scan(rows, |(index, pid, start)| {
        let cells = match read((pid, start)) {
            Ok(sample) => columns
                .iter()
                .map(|column| column.value(&sample, pass.context))
                .collect(),
            Err(why) => vec![Err(why); columns.len()],
        };
        Ok(Some((index, cells)))
    })
    .rows
}

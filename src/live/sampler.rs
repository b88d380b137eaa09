//! One refresh of the live process table: every process (or thread) read with the columns'
//! needs, with rates over the interval since the previous refresh (CPU%, context switches,
//! I/O bytes). Keeps only the previous refresh's counters, keyed by (PID, TID) and checked
//! against the start time, so state never grows with refreshes and a reused PID never mixes
//! two processes' counters. A process that has not run since (see `reader::Outcome::Idle`)
//! keeps its row from the snapshot handed back, moved rather than read and built again.
//! The full-screen view defers the columns it needs only for the rows it draws
//! ([`Sampler::set_deferral`]); [`Sampler::fill`] reads them for the rows it names.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use crate::collect::listing::candidate_pids;
use crate::collect::sampler::kept::{FdBudget, KeptProcess, SchedStat};
use crate::collect::system::parse_uptime;
use crate::collect::{Field, ProcFs, ProcessSample, SystemInfo, UserNames};
use crate::columns::{Column, Context, Value};
use crate::model::Unavailable;
use crate::render::tui::snapshot::{Exited, Rates, Snapshot, TopRow};

use super::reader::{self, Outcome, Pass, Reuse};
use crate::parse::io::IoCounters;
use crate::query::ProcessFilter;

/// What each refresh reads.
#[derive(Clone)]
pub struct SampleSpec {
    pub columns: Vec<&'static Column>,
    pub filter: ProcessFilter,
    /// One row per thread.
    pub threads: bool,
    /// Also read `status` and `io` for context-switch and I/O rates.
    pub rates: bool,
}

/// The counters of one row at the previous refresh.
#[derive(Debug, Clone)]
pub struct Prior {
    pub start_ticks: u64,
    cpu_ticks: u64,
    ctxt: Option<u64>,
    io: Option<IoCounters>,
    name: Vec<u8>,
    /// The cells of the static columns (see `reader`), in column order.
    pub statics: Vec<Field<Value>>,
    /// Its main thread's schedstat, and its thread count.
    sched: Option<SchedStat>,
    threads: u64,
    /// Its index in the previous snapshot's rows.
    row: usize,
    /// Its row's deferred columns are not read yet (and `statics` holds placeholders for
    /// them).
    pub deferred: bool,
}

impl Prior {
    /// A single-threaded process whose main thread has not run since (same schedstat).
    pub fn unchanged(&self, now: SchedStat) -> bool {
        self.threads == 1
            && self
                .sched
                .is_some_and(|then| (then.run_ns, then.timeslices) == (now.run_ns, now.timeslices))
    }
}

/// What a reader thread keeps of one sample (what the next refresh keeps of it too, built
/// in the reader threads rather than in the serial pass over all rows).
struct Read {
    row: TopRow,
    /// The cells of the static columns, and the name, for its [`Prior`].
    statics: Vec<Field<Value>>,
    name: Vec<u8>,
    cpu_ticks: u64,
    ctxt: Option<u64>,
    io: Option<IoCounters>,
    sched: Option<SchedStat>,
    threads: u64,
}

/// Takes refreshes one after another.
pub struct Sampler {
    spec: SampleSpec,
    system: SystemInfo,
    priors: HashMap<(u32, u32), Prior>,
    previous_at: Option<Instant>,
    refreshes: u64,
    /// Each listed process's files, open for the next refresh (pruned as PIDs go).
    kept: HashMap<u32, KeptProcess>,
    budget: Arc<FdBudget>,
    /// Per column, true when a process's first read leaves it unread; empty: none is.
    deferred: Vec<bool>,
}

impl Sampler {
    pub fn new(spec: SampleSpec, system: SystemInfo) -> Self {
        Self {
            spec,
            system,
            priors: HashMap::new(),
            previous_at: None,
            refreshes: 0,
            kept: HashMap::new(),
            budget: Arc::new(FdBudget::from_rlimit()),
            deferred: Vec::new(),
        }
    }

    pub fn spec(&self) -> &SampleSpec {
        &self.spec
    }

    pub fn system(&self) -> &SystemInfo {
        &self.system
    }

    /// Switches between processes and threads (the next refresh starts without rates).
    pub fn set_threads(&mut self, threads: bool) {
        if self.spec.threads != threads {
            self.spec.threads = threads;
            self.priors.clear();
            self.previous_at = None;
            // No row carries over, so none is left deferred.
            self.deferred.clear();
        }
    }

    /// How many rows' counters are kept (for the tests of bounded state).
    pub fn kept(&self) -> usize {
        self.priors.len()
    }

    /// Reads every process once and computes the rates since the previous refresh.
    /// `previous` is the snapshot this sampler returned last (or a default one): rows of
    /// processes that have not run since are moved from it instead of read and built again.
    pub fn refresh(&mut self, procfs: &ProcFs, users: &UserNames, previous: Snapshot) -> Snapshot {
        if let Some(uptime) = procfs.read("uptime").ok().and_then(|r| parse_uptime(&r)) {
            self.system.uptime_seconds = uptime;
        }
        let now = Instant::now();
        let interval = self
            .previous_at
            .map(|at| now.duration_since(at).as_secs_f64().max(1e-3));
        self.previous_at = Some(now);
        let handed_back = previous.generation == self.refreshes && self.refreshes > 0;
        let mut old_rows = if handed_back {
            previous.rows
        } else {
            Vec::new()
        };
        let pids = candidate_pids(procfs, &self.spec.filter).unwrap_or_default();
        let context = Context {
            system: &self.system,
            users,
            sampled_cpu: None,
            sampled_net: None,
        };
        let columns = &self.spec.columns;
        self.refreshes += 1;
        self.plan_descriptors(procfs, pids.len());
        let idle_rows = handed_back && reader::idle_rows_allowed(&self.spec);
        let pass = self.pass(procfs, &context, idle_rows);
        let deferred = &self.deferred;
        let scanned = reader::read(&pass, &pids, &|sample, reuse| {
            read_one(sample, columns, &context, reuse, deferred)
        });
        let mut snapshot = Snapshot {
            generation: self.refreshes,
            taken_unix: self.system.now_unix(),
            interval_seconds: interval,
            vanished: scanned.vanished,
            rows: Vec::with_capacity(scanned.rows.len()),
            ..Snapshot::default()
        };
        let mut priors = HashMap::with_capacity(scanned.rows.len());
        self.kept.reserve(
            scanned
                .rows
                .iter()
                .filter(|(_, kept)| kept.is_some())
                .count(),
        );
        for (outcome, kept) in scanned.rows {
            let (row, prior) = match outcome {
                Outcome::Read(read) => self.read_row(read, interval, &mut snapshot.exited),
                Outcome::Idle { pid, sched } => self.idle_row(pid, sched, &mut old_rows),
            };
            if let Some(kept) = kept {
                self.kept.insert(row.pid, kept);
            }
            if row.pid == row.tid || !self.spec.threads {
                *snapshot.states.entry(row.state).or_default() += 1;
            }
            priors.insert(
                (row.pid, row.tid),
                Prior {
                    row: snapshot.rows.len(),
                    ..prior
                },
            );
            snapshot.rows.push(row);
        }
        // What is left of the old map exited (or was replaced by a reused PID).
        let gone = self.priors.drain().map(|(key, prior)| exited(key, prior));
        snapshot.exited.extend(gone);
        snapshot.exited.sort_by_key(|e| (e.pid, e.tid));
        self.priors = priors;
        let listed = &self.priors;
        self.kept.retain(|&pid, _| listed.contains_key(&(pid, pid)));
        snapshot
    }

    /// What the reader threads get from this sampler.
    fn pass<'a>(&'a self, procfs: &'a ProcFs, context: &'a Context, idle_rows: bool) -> Pass<'a> {
        Pass {
            procfs,
            spec: &self.spec,
            context,
            priors: &self.priors,
            refresh: self.refreshes,
            kept: &self.kept,
            budget: &self.budget,
            idle_rows,
            deferred: &self.deferred,
        }
    }

    /// Sizes the kept files' budget and the descriptor table for `processes` listed.
    fn plan_descriptors(&self, procfs: &ProcFs, processes: usize) {
        use std::os::fd::AsFd;
        let new = processes.saturating_sub(self.kept.len());
        self.budget.hold_back_for(new);
        if !self.spec.threads {
            self.budget
                .grow_table_for(processes, procfs.handle().as_fd());
        }
    }

    /// The row of a process read this refresh, with its rates, and what to keep of it.
    fn read_row(
        &mut self,
        mut read: Read,
        interval: Option<f64>,
        exited_rows: &mut Vec<Exited>,
    ) -> (TopRow, Prior) {
        let columns = &self.spec.columns;
        let key = (read.row.pid, read.row.tid);
        let prior = match self.priors.remove(&key) {
            Some(prior) if prior.start_ticks == read.row.start_ticks => Some(prior),
            // The PID now names another process: the one it named exited.
            Some(old) => {
                exited_rows.push(exited(key, old));
                None
            }
            None => None,
        };
        read.row.fresh = prior.is_none() && interval.is_some();
        read.row.rates = self.rates(&read, prior.as_ref(), interval);
        if let Some(cpu) = read.row.rates.cpu_percent {
            set_cpu_cell(columns, &mut read.row.cells, cpu);
        }
        let kept = Prior {
            start_ticks: read.row.start_ticks,
            cpu_ticks: read.cpu_ticks,
            ctxt: read.ctxt,
            io: read.io,
            name: read.name,
            statics: read.statics,
            sched: read.sched,
            threads: read.threads,
            row: 0,
            deferred: read.row.deferred,
        };
        (read.row, kept)
    }

    /// The previous row of a process that has not run since: moved, with zero rates.
    fn idle_row(&mut self, pid: u32, sched: SchedStat, old_rows: &mut [TopRow]) -> (TopRow, Prior) {
        // The reader saw this prior and its row (the snapshot was handed back).
        let prior = self
            .priors
            .remove(&(pid, pid))
            .expect("an idle row has a prior");
        let mut row = std::mem::take(&mut old_rows[prior.row]);
        let idle = |rate: Option<f64>| rate.map(|_| 0.0);
        row.fresh = false;
        row.rates = Rates {
            cpu_percent: Some(0.0),
            ctxt_switches_per_second: idle(row.rates.ctxt_switches_per_second),
            read_bytes_per_second: idle(row.rates.read_bytes_per_second),
            write_bytes_per_second: idle(row.rates.write_bytes_per_second),
            rchar_per_second: idle(row.rates.rchar_per_second),
            wchar_per_second: idle(row.rates.wchar_per_second),
        };
        set_cpu_cell(&self.spec.columns, &mut row.cells, 0.0);
        let prior = Prior {
            sched: Some(sched),
            ..prior
        };
        (row, prior)
    }

    /// Rates since `prior`; for a row without one (new, or the first refresh), its counters
    /// over its whole life, which for a process born in the interval is the interval.
    fn rates(&self, read: &Read, prior: Option<&Prior>, interval: Option<f64>) -> Rates {
        let age = self.system.age_seconds(read.row.start_ticks).max(1e-3);
        let (seconds, base) = match (prior, interval) {
            (Some(prior), Some(seconds)) => (seconds, Some(prior)),
            _ => (age, None),
        };
        let per_second = |now: u64, then: u64| now.saturating_sub(then) as f64 / seconds;
        let io_rate = |pick: fn(&IoCounters) -> u64| {
            let now = read.io.as_ref()?;
            let then = base.map_or(Some(0), |b| b.io.as_ref().map(pick))?;
            Some(per_second(pick(now), then))
        };
        let ticks_then = base.map_or(0, |b| b.cpu_ticks);
        let cpu_seconds = self
            .system
            .ticks_to_seconds(read.cpu_ticks.saturating_sub(ticks_then));
        Rates {
            cpu_percent: Some(cpu_seconds / seconds * 100.0),
            ctxt_switches_per_second: read.ctxt.and_then(|now| {
                let then = base.map_or(Some(0), |b| b.ctxt)?;
                Some(per_second(now, then))
            }),
            read_bytes_per_second: io_rate(|io| io.read_bytes),
            write_bytes_per_second: io_rate(|io| io.write_bytes),
            rchar_per_second: io_rate(|io| io.rchar),
            wchar_per_second: io_rate(|io| io.wchar),
        }
    }
}

fn exited((pid, tid): (u32, u32), prior: Prior) -> Exited {
    Exited {
        pid,
        tid,
        name: prior.name,
    }
}

/// Turns one sample into a row with its counters, in the reader thread. Context switches
/// come from `schedstat` when given (its count of timeslices: the switches in, which equal
/// voluntary + involuntary switches out to within the one running now), else `status`.
fn read_one(
    sample: &ProcessSample,
    columns: &[&'static Column],
    context: &Context,
    reuse: Reuse,
    deferred: &[bool],
) -> Option<Read> {
    let stat = sample.stat().ok()?;
    let status = sample.status().ok();
    let unread = if reuse.deferred { deferred } else { &[] };
    let cells = cells(sample, columns, context, reuse.statics, unread);
    let statics = statics_of(columns, &cells);
    let ctxt = reuse.sched.map(|s| s.timeslices).or_else(|| {
        let status = status?;
        Some(
            status.number("voluntary_ctxt_switches")?
                + status.number("nonvoluntary_ctxt_switches")?,
        )
    });
    Some(Read {
        row: TopRow {
            pid: sample.pid,
            tid: sample.tid,
            ppid: stat.ppid,
            start_ticks: stat.starttime_ticks,
            state: stat.state,
            name: stat.comm.clone(),
            cells,
            rates: Rates::default(),
            fresh: false,
            deferred: reuse.deferred,
        },
        statics,
        name: stat.comm.clone(),
        cpu_ticks: stat.cpu_ticks(),
        ctxt,
        io: sample.io().ok(),
        sched: reuse.sched,
        threads: stat.num_threads,
    })
}

/// The cells of the static columns of a row.
fn statics_of(columns: &[&'static Column], cells: &[Field<Value>]) -> Vec<Field<Value>> {
    columns
        .iter()
        .zip(cells)
        .filter(|(column, _)| reader::is_static(column))
        .map(|(_, cell)| cell.clone())
        .collect()
}

/// The row's cells: static ones from `statics` (the previous refresh's) when given, those
/// of the columns marked in `unread` left as [`NOT_READ`], the others extracted.
fn cells(
    sample: &ProcessSample,
    columns: &[&'static Column],
    context: &Context,
    statics: Option<&[Field<Value>]>,
    unread: &[bool],
) -> Vec<Field<Value>> {
    let mut kept = statics.into_iter().flatten();
    columns
        .iter()
        .enumerate()
        .map(|(at, column)| {
            let reused = match (reader::is_static(column), statics) {
                (true, Some(_)) => Some(kept.next().cloned().unwrap_or(NOT_READ)),
                _ => None,
            };
            if unread.get(at).copied().unwrap_or(false) {
                return NOT_READ;
            }
            reused.unwrap_or_else(|| column.value(sample, context))
        })
        .collect()
}

/// The cell of a deferred column not read yet: never drawn nor searched, since the rows
/// drawn or searched are filled first.
const NOT_READ: Field<Value> = Err(Unavailable::ReadError);

/// Puts the interval's CPU% into the `cpu` column, if shown.
fn set_cpu_cell(columns: &[&'static Column], cells: &mut [Field<Value>], cpu: f64) {
    for (column, cell) in columns.iter().zip(cells.iter_mut()) {
        if column.name == "cpu" && cell.is_ok() {
            *cell = Ok(Value::Percent(cpu));
        }
    }
}

#[path = "deferral.rs"]
mod deferral;

#[cfg(test)]
#[path = "sampler_tests.rs"]
mod tests;

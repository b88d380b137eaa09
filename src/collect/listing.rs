//! Reading a process listing: the PIDs to consider, each process (or each of its threads)
//! that passes the filter, and CPU% measured over an interval. Judges nothing.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::collect::scan::{BatchSink, Scan, scan, scan_fed};
use crate::collect::{Needs, ProcFs, ProcessSample, SystemInfo};
use crate::query::ProcessFilter;

/// Keeping or dropping a read process by a filter (method syntax on [`ProcessFilter`]).
/// Implemented in `analyze::filter`, which judges; the readers here only call it.
pub trait FilterProcess {
    /// True when the process passes every condition. Unreadable fields fail a condition.
    fn keeps(&self, process: &ProcessSample) -> bool;
}

/// The PIDs to read: every visible process the filter does not reject by number alone.
/// PIDs named with `--pid` on a proc filesystem are taken as named when they have an entry,
/// without listing `/proc` (a walk over every task: 2 ms at 11000 threads); a thread's ID
/// has an entry too, and the filter refuses it once its `status` is read (see
/// [`ProcessFilter::needs`]).
pub fn candidate_pids(procfs: &ProcFs, filter: &ProcessFilter) -> anyhow::Result<Vec<u32>> {
    if !filter.pids.is_empty() && procfs.is_kernel() {
        let mut pids: Vec<u32> = filter
            .pids
            .iter()
            .copied()
            .filter(|&pid| !filter.rejects_pid(pid) && procfs.has_entry(pid))
            .collect();
        pids.sort_unstable();
        pids.dedup();
        return Ok(pids);
    }
    Ok(procfs
        .pids()
        .map_err(|err| anyhow::anyhow!("cannot list {}: {err}", procfs.root().display()))?
        .into_iter()
        .filter(|&pid| !filter.rejects_pid(pid))
        .collect())
}

/// Reads the processes that pass the filter (or, with `threads`, every thread of each) and
/// maps each through `map`, in the reader threads.
pub fn read_rows<T, F>(
    procfs: &ProcFs,
    pids: &[u32],
    filter: &ProcessFilter,
    needs: Needs,
    threads: bool,
    map: F,
) -> Scan<T>
where
    T: Send,
    F: Fn(&ProcessSample) -> Option<T> + Sync,
{
    if !threads {
        return scan(pids, one_process(procfs, filter, needs, &map));
    }
    let nested = scan(pids, |pid| {
        let dir = procfs.process(pid)?;
        let process = ProcessSample::read_dir(&dir, filter.needs())?;
        if !filter.keeps(&process) {
            return Ok(None);
        }
        let tids = dir.numeric_entries("task")?;
        let rows: Vec<T> = tids
            .into_iter()
            .filter_map(|tid| ProcessSample::read_thread(&dir, tid, needs).ok())
            .filter_map(|thread| map(&thread))
            .collect();
        Ok(Some(rows))
    });
    Scan {
        rows: nested.rows.into_iter().flatten().collect(),
        vanished: nested.vanished,
        hidden: nested.hidden,
    }
}

/// [`read_rows`] of every process the listing of `/proc` finds (one row per process),
/// read as the listing goes: the first processes are read while the kernel lists the rest.
pub fn read_listed_rows<T, F>(
    procfs: &ProcFs,
    filter: &ProcessFilter,
    needs: Needs,
    map: F,
) -> anyhow::Result<Scan<T>>
where
    T: Send,
    F: Fn(&ProcessSample) -> Option<T> + Sync,
{
    let feed = |each: BatchSink<'_, u32>| {
        procfs.pid_batches(|batch, last| {
            let kept: Vec<u32> = batch
                .iter()
                .copied()
                .filter(|&pid| !filter.rejects_pid(pid))
                .collect();
            each(&kept, last);
        })
    };
    scan_fed(feed, one_process(procfs, filter, needs, &map))
        .map_err(|err| anyhow::anyhow!("cannot list {}: {err}", procfs.root().display()))
}

/// Reads one process's `needs` and maps it through `map` when it passes the filter.
fn one_process<'a, T>(
    procfs: &'a ProcFs,
    filter: &'a ProcessFilter,
    needs: Needs,
    map: &'a (impl Fn(&ProcessSample) -> Option<T> + Sync),
) -> impl Fn(u32) -> Result<Option<T>, crate::model::Unavailable> + Sync + 'a {
    move |pid| {
        let sample = ProcessSample::read(procfs, pid, needs)?;
        Ok(filter.keeps(&sample).then(|| map(&sample)).flatten())
    }
}

/// Measures CPU% over `interval`: CPU ticks of every selected process (or thread) read
/// twice. Returns CPU% by (PID, TID) and how many vanished (or were replaced by a reused ID).
pub fn sample_cpu(
    procfs: &ProcFs,
    filter: &ProcessFilter,
    threads: bool,
    pids: &[u32],
    interval: Duration,
    system: &SystemInfo,
) -> (HashMap<(u32, u32), f64>, usize) {
    let needs = filter.needs() | Needs::STAT;
    let ticks = |sample: &ProcessSample| {
        let stat = sample.stat().ok()?;
        Some((
            (sample.pid, sample.tid),
            stat.starttime_ticks,
            stat.cpu_ticks(),
        ))
    };
    let first = read_rows(procfs, pids, filter, needs, threads, ticks);
    let started = Instant::now();
    std::thread::sleep(interval);
    let mut first_pids: Vec<u32> = first.rows.iter().map(|((pid, _), _, _)| *pid).collect();
    first_pids.dedup();
    let second = read_rows(procfs, &first_pids, filter, needs, threads, ticks);
    let elapsed = started.elapsed().as_secs_f64().max(1e-3);
    let before: HashMap<(u32, u32), (u64, u64)> = first
        .rows
        .into_iter()
        .map(|(id, start, t)| (id, (start, t)))
        .collect();
    let mut cpu = HashMap::new();
    let mut gone = first.vanished + second.vanished;
    for (id, start, after) in second.rows {
        match before.get(&id) {
            Some(&(first_start, first_ticks)) if first_start == start => {
                let used = system.ticks_to_seconds(after.saturating_sub(first_ticks));
                cpu.insert(id, used / elapsed * 100.0);
            }
            _ => gone += 1,
        }
    }
    (cpu, gone)
}

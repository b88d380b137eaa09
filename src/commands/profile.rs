//! `procscope profile PID`: samples every thread of a process (and of a cluster primary's
//! workers) for a window without stopping, tracing or signalling them, then says what each
//! thread and role did and, for Node.js, whether the event loop computes or waits and
//! whether the libuv pool is saturated.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use crate::analyze::profile::{Accumulator, Describe, WaitKey, role_rows, thread_row, wait_of};
use crate::analyze::runtime;
use crate::analyze::symbols::Symbolizer;
use crate::collect::net::SocketTables;
use crate::collect::sampler::{RESCAN_EVERY, Sampler};
use crate::collect::target::{NotAProcess, open_process};
use crate::collect::thread_facts::{self, Observed};
use crate::collect::wait_targets::{self, TargetCache};
use crate::collect::{Needs, ProcFs, ProcessDir, ProcessSample, SystemInfo};
use crate::commands::not_a_process;
use crate::model::profile::{EpollSet, ProcessProfile, ProfileReport, ThreadProfile, Verdict};
use crate::model::runtime::{ClusterRole, RuntimeInfo};
use crate::model::text::lossless;
use crate::parse::maps::{Mapping, parse_maps};
use crate::parse::perfmap::PerfMap;
use crate::query::profile::ProfileOptions;

const NEEDS: Needs = Needs::STAT
    .union(Needs::EXE)
    .union(Needs::RUNTIME)
    .union(Needs::CMDLINE);

/// What sampling one process gathered: its samples and the descriptors it waited on.
#[derive(Default)]
struct Gathered {
    accumulator: Accumulator,
    targets: TargetCache,
}

/// One process sampled over windows: its threads' sampler, what was read of it, and what
/// the current window gathered. `procscope profile` runs one window; `top`'s runtime tab
/// runs one per refresh, so both show the same numbers from the same code.
pub struct ProcessSampling {
    sampler: Sampler<ProcessDir>,
    process: ProcessSample,
    gathered: Gathered,
    /// Ticks since the sampler was opened (threads are looked for again every
    /// [`RESCAN_EVERY`]).
    ticks: u32,
    /// When the current window's first tick was read.
    window_start: Option<Instant>,
}

impl ProcessSampling {
    /// Opens `pid` for sampling (no tick read yet).
    pub fn open(procfs: &ProcFs, pid: u32) -> Result<Self, NotAProcess> {
        let (dir, process) = open_process(procfs, pid, NEEDS)?;
        Ok(Self::of(dir, process))
    }

    fn of(dir: ProcessDir, process: ProcessSample) -> Self {
        Self {
            sampler: Sampler::new(dir),
            process,
            gathered: Gathered::default(),
            ticks: 0,
            window_start: None,
        }
    }

    /// `pid` and, for a cluster primary, its workers (recognised from their environment).
    pub fn with_cluster_workers(procfs: &ProcFs, pid: u32) -> Result<Vec<Self>, NotAProcess> {
        let mut all = vec![Self::open(procfs, pid)?];
        all.extend(cluster_workers(procfs, pid));
        Ok(all)
    }

    pub fn pid(&self) -> u32 {
        self.process.pid
    }

    /// The process's start time in clock ticks since boot (its identity with the PID).
    pub fn start_ticks(&self) -> Option<u64> {
        self.process.stat().ok().map(|stat| stat.starttime_ticks)
    }

    /// Reads every thread once and adds the tick to the window; `stat` (CPU ticks, names)
    /// is read when `full`, and always on a window's first tick.
    pub fn tick(&mut self, full: bool) {
        if self.ticks > 0 && self.ticks.is_multiple_of(RESCAN_EVERY) {
            self.sampler.rescan();
        }
        self.ticks += 1;
        let full = full || self.window_start.is_none();
        self.window_start.get_or_insert_with(Instant::now);
        let samples = self.sampler.tick(full);
        for sample in &samples {
            if let Some(fd) = wait_of(sample).0.fd {
                self.gathered.targets.get(self.sampler.dir(), fd);
            }
        }
        self.gathered.accumulator.add(&samples);
    }

    /// Ticks in the current window.
    pub fn window_ticks(&self) -> u32 {
        self.gathered.accumulator.ticks
    }

    /// Seconds from the window's first tick to now.
    pub fn window_seconds(&self) -> f64 {
        self.window_start
            .map_or(0.0, |start| start.elapsed().as_secs_f64())
    }

    /// Forgets the window's samples: the next tick starts a new window.
    pub fn start_window(&mut self) {
        self.gathered = Gathered::default();
        self.window_start = None;
    }

    /// The window's profile over `duration` seconds; blocked program counters are
    /// symbolized only when `symbols` (a live view does without, to stay cheap).
    pub fn profile(&self, duration: f64, system: &SystemInfo, symbols: bool) -> ProcessProfile {
        build(self, duration, system, symbols)
    }
}

/// Samples `pid` (and, for a cluster primary, its workers) and aggregates.
pub fn run(
    pid: u32,
    options: ProfileOptions,
    procfs: &ProcFs,
    system: &SystemInfo,
) -> anyhow::Result<ProfileReport> {
    crate::query::pid::check_pid_max(pid, system.pid_max).map_err(crate::exit::usage)?;
    let mut targets = ProcessSampling::with_cluster_workers(procfs, pid)
        .map_err(|why| not_a_process("profile", pid, why))?;
    let started = Instant::now();
    sample(&mut targets, options);
    let duration = started.elapsed().as_secs_f64();
    let ticks = targets.iter().map(|t| t.window_ticks()).max().unwrap_or(0);
    let processes = targets
        .iter()
        .map(|target| target.profile(duration, system, true))
        .collect();
    Ok(ProfileReport {
        pid,
        hz: options.hz,
        duration_seconds: (duration * 1000.0).round() / 1000.0,
        ticks,
        processes,
    })
}

/// The cluster workers among `pid`'s children (recognised from their environment).
fn cluster_workers(procfs: &ProcFs, pid: u32) -> Vec<ProcessSampling> {
    let Ok(nodes) = crate::collect::tree::read_nodes(procfs) else {
        return Vec::new();
    };
    nodes
        .iter()
        .filter(|node| node.ppid == pid)
        .filter_map(|node| open_process(procfs, node.pid, NEEDS).ok())
        .filter(|(_, sample)| {
            matches!(
                runtime::detect(&sample.runtime_facts()),
                Some((_, RuntimeInfo { cluster: Some(ClusterRole::Worker { primary, .. }), .. })) if primary == pid
            )
        })
        .map(|(dir, process)| ProcessSampling::of(dir, process))
        .collect()
}

/// Reads every thread of every target `hz` times a second for the window. Ticks keep
/// their schedule; a late tick is not made up for with a burst.
fn sample(targets: &mut [ProcessSampling], options: ProfileOptions) {
    let period = Duration::from_secs_f64(1.0 / f64::from(options.hz.max(1)));
    let start = Instant::now();
    let mut tick = 0u32;
    while start.elapsed() < options.duration {
        // `stat` (CPU ticks, names) is read on full ticks: every tenth, and the last.
        let last = start.elapsed() + period >= options.duration;
        let full = tick.is_multiple_of(RESCAN_EVERY) || last;
        for target in targets.iter_mut() {
            target.tick(full);
        }
        tick += 1;
        let next = period * tick;
        let now = start.elapsed();
        if next > now {
            std::thread::sleep(next - now);
        } else {
            // Behind schedule: skip the missed ticks.
            tick = (now.as_secs_f64() / period.as_secs_f64()) as u32;
        }
    }
}

/// The profile of one sampled process.
fn build(
    target: &ProcessSampling,
    duration: f64,
    system: &SystemInfo,
    symbols: bool,
) -> ProcessProfile {
    let (dir, gathered) = (target.sampler.dir(), &target.gathered);
    let maps: Vec<Mapping> = dir
        .read("maps")
        .map(|raw| parse_maps(&raw))
        .unwrap_or_default();
    let tables = SocketTables::of_process(dir);
    let epoll_sets = epoll_sets(dir, gathered, &tables);
    let perf_map = wait_targets::perf_map(dir).filter(|map| symbols && !map.is_empty());
    let wait = |key: &WaitKey| resolve_wait(key, &gathered.targets, &epoll_sets);
    let load = |mapping: &Mapping| wait_targets::module_symbols(dir, mapping);
    let mut symbolizer = symbols.then(|| Symbolizer::new(&maps, &load));
    let mut cache: HashMap<u64, (String, String)> = HashMap::new();
    let mut pc = |pc: u64| {
        cache
            .entry(pc)
            .or_insert_with(|| match &mut symbolizer {
                Some(symbolizer) => locate(symbolizer, perf_map.as_ref(), pc),
                None => (format!("{pc:#x}"), "[pc]".to_owned()),
            })
            .clone()
    };
    let mut describe = Describe {
        wait: &wait,
        pc: &mut pc,
    };
    let cpu = |ticks: u64| system.ticks_to_seconds(ticks) / duration.max(1e-9) * 100.0;
    let mut threads: Vec<ThreadProfile> = gathered
        .accumulator
        .threads
        .iter()
        .map(|(&tid, acc)| {
            let used = acc
                .cpu_first
                .map(|first| acc.cpu_last.saturating_sub(first));
            let cpu_percent = used.map(|t| (cpu(t) * 10.0).round() / 10.0);
            thread_row(tid, acc, &mut describe, cpu_percent)
        })
        .collect();
    let detected = runtime::detect(&target.process.runtime_facts());
    let (summary, verdicts) = match &detected {
        Some((analyzer, info)) => {
            let roles = (*analyzer, info, maps.as_slice());
            judge(target, roles, &mut threads, &epoll_sets, system)
        }
        None => (None, Vec::new()),
    };
    ProcessProfile {
        pid: target.process.pid,
        name: target.process.name().ok().map(|n| lossless(&n).0),
        runtime: detected.map(|(_, info)| info),
        runtime_summary: summary,
        verdicts,
        roles: role_rows(&threads),
        threads,
        epoll_sets,
        perf_map: perf_map.is_some(),
    }
}

/// Gives each thread row its role; the runtime summary and verdicts over the rows.
fn judge(
    target: &ProcessSampling,
    (analyzer, info, maps): (&dyn runtime::Runtime, &RuntimeInfo, &[Mapping]),
    threads: &mut [ThreadProfile],
    epoll_sets: &[EpollSet],
    system: &SystemInfo,
) -> (Option<String>, Vec<Verdict>) {
    let observed = observed(&target.gathered);
    let dir = target.sampler.dir();
    let reads = thread_facts::read(
        dir,
        &target.process,
        &observed,
        system,
        runtime::facts::epoll_fd,
    );
    let (facts, context) = runtime::facts::role_facts(&reads, maps);
    let roles = analyzer.thread_roles(info, &context, &facts);
    let summary = analyzer.summary(info, &roles);
    for (row, role) in threads.iter_mut().zip(roles) {
        row.role = Some(role.role);
        row.role_name = role.detail;
        row.role_evidence = Some(role.evidence);
    }
    (Some(summary), analyzer.verdicts(threads, epoll_sets))
}

/// What the role analysis starts from, per sampled thread (same order as the rows).
fn observed(gathered: &Gathered) -> Vec<Observed> {
    gathered
        .accumulator
        .threads
        .iter()
        .map(|(&tid, acc)| Observed {
            tid,
            name: acc.name.clone(),
            state: acc.telling_state(),
            start_ticks: Some(acc.start_ticks),
            always_running: acc.always_running(),
        })
        .collect()
}

/// The epoll sets any thread waited on.
fn epoll_sets(dir: &ProcessDir, gathered: &Gathered, tables: &SocketTables) -> Vec<EpollSet> {
    let fds: BTreeSet<i64> = gathered
        .accumulator
        .threads
        .values()
        .flat_map(|t| t.waits.keys())
        .filter(|key| {
            matches!(
                key.syscall,
                Some("epoll_wait" | "epoll_pwait" | "epoll_pwait2")
            )
        })
        .filter_map(|key| key.fd)
        .collect();
    fds.into_iter()
        .filter_map(|fd| wait_targets::epoll_set(dir, fd, tables))
        .collect()
}

/// `read(fd 23 → /data/a.csv)`, `epoll_pwait(fd 14: 1 listener, 1 eventfd)`.
fn resolve_wait(
    key: &WaitKey,
    targets: &TargetCache,
    epoll_sets: &[EpollSet],
) -> (String, Option<String>) {
    let (Some(name), Some(fd)) = (key.syscall, key.fd) else {
        return (key.text.clone(), None);
    };
    if let Some(set) = epoll_sets.iter().find(|set| set.fd == fd) {
        return (
            format!("{name}(fd {fd}: {})", set.text),
            Some(set.text.clone()),
        );
    }
    match targets.resolved().get(&fd).and_then(|t| t.as_deref()) {
        Some(target) => {
            let target = String::from_utf8_lossy(target).into_owned();
            (format!("{name}(fd {fd} → {target})"), Some(target))
        }
        None => (key.text.clone(), None),
    }
}

/// A program counter with offset, and as a frame without it; JIT code by the perf map.
fn locate(symbolizer: &mut Symbolizer, perf_map: Option<&PerfMap>, pc: u64) -> (String, String) {
    let location = symbolizer.locate(pc);
    if location.region == crate::model::code::CodeRegion::Jit {
        return match perf_map.and_then(|map| map.lookup(pc)) {
            Some(name) => (format!("[jit] {name}"), format!("[jit] {name}")),
            None => (format!("[jit] {pc:#x}"), "[jit]".to_owned()),
        };
    }
    let frame = match (&location.symbol, &location.module) {
        (Some(symbol), Some(module)) => format!("{symbol} in {module}"),
        (None, Some(module)) => module.clone(),
        _ => format!("[{}]", location.region),
    };
    (location.display(pc), frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::maps::parse_maps;

    #[test]
    fn jit_frames_are_named_from_the_perf_map_else_left_anonymous() {
        let maps = parse_maps(b"3a0c1a000-3a0c1b000 rwxp 00000000 00:00 0 \n");
        let none = |_: &Mapping| crate::parse::elf_symbols::Loaded::NoSymbols;
        let mut symbolizer = Symbolizer::new(&maps, &none);
        let perf = PerfMap::parse(b"3a0c1a2c0 40 LazyCompile:*loop /app/x.js:3\n");
        assert_eq!(
            locate(&mut symbolizer, Some(&perf), 0x3a0c1a2c4).1,
            "[jit] LazyCompile:*loop /app/x.js:3"
        );
        let (location, frame) = locate(&mut symbolizer, None, 0x3a0c1a2c4);
        assert_eq!(
            (location.as_str(), frame.as_str()),
            ("[jit] 0x3a0c1a2c4", "[jit]")
        );
    }
}

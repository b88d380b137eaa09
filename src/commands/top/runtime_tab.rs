//! The detail pane's runtime tab: the process (and a cluster primary's workers) sampled
//! with `procscope profile`'s sampler between refreshes, and at each refresh the window
//! aggregated by the profile's code into the tab's figures. No busy% of its own: every
//! number shown is one of the profile's verdicts or per-thread shares.

use std::time::Duration;

use crate::analyze::runtime::ClusterRole;
use crate::collect::{ProcFs, SystemInfo};
use crate::commands::profile::ProcessSampling;
use crate::model::profile::{ProcessProfile, Verdict};

use crate::render::tui::runtime_load::{ClusterWorkerLoad, LoopLoad, RuntimeLoad};

/// How often the tab's threads are sampled between refreshes.
pub const SAMPLE_PERIOD: Duration = Duration::from_millis(50);

/// The processes the runtime tab samples: the one shown first, then cluster workers.
pub struct RuntimeTab {
    processes: Vec<ProcessSampling>,
}

impl std::fmt::Debug for RuntimeTab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pids: Vec<u32> = self.processes.iter().map(ProcessSampling::pid).collect();
        f.debug_struct("RuntimeTab").field("pids", &pids).finish()
    }
}

impl RuntimeTab {
    /// Opens `pid` (and its cluster workers) when it still has start time `start_ticks`.
    pub fn open(procfs: &ProcFs, pid: u32, start_ticks: u64) -> Option<Self> {
        let processes = ProcessSampling::with_cluster_workers(procfs, pid).ok()?;
        let same = processes.first()?.start_ticks() == Some(start_ticks);
        same.then_some(Self { processes })
    }

    /// One tick of every sampled process.
    pub fn tick(&mut self) {
        for process in &mut self.processes {
            process.tick(false);
        }
    }

    /// Closes the window (a last full tick), aggregates it and starts the next one; `None`
    /// until a window has at least two ticks.
    pub fn refresh(&mut self, procfs: &ProcFs, system: &SystemInfo) -> Option<RuntimeLoad> {
        self.tick_full();
        let enough = self.processes.first()?.window_ticks() >= 2;
        let profiles: Vec<ProcessProfile> = match enough {
            true => self
                .processes
                .iter()
                .map(|p| p.profile(p.window_seconds(), system, false))
                .collect(),
            false => Vec::new(),
        };
        for process in &mut self.processes {
            process.start_window();
        }
        self.follow_workers(procfs, profiles.first());
        runtime_load(&profiles)
    }

    fn tick_full(&mut self) {
        for process in &mut self.processes {
            process.tick(true);
        }
    }

    /// Opens cluster workers that started since, forgets the ones that ended.
    fn follow_workers(&mut self, procfs: &ProcFs, main: Option<&ProcessProfile>) {
        let Some(ClusterRole::Primary { workers }) =
            main.and_then(|m| m.runtime.as_ref()?.cluster.as_ref())
        else {
            return;
        };
        let mut index = 0;
        self.processes.retain(|p| {
            index += 1;
            index == 1 || workers.contains(&p.pid())
        });
        for &pid in workers {
            if self.processes.iter().all(|p| p.pid() != pid)
                && let Ok(worker) = ProcessSampling::open(procfs, pid)
            {
                self.processes.push(worker);
            }
        }
    }
}

/// The verdict about `subject` (`event loop`, `libuv pool`, `V8 workers`).
fn verdict<'a>(profile: &'a ProcessProfile, subject: &str) -> Option<&'a Verdict> {
    profile.verdicts.iter().find(|v| v.subject == subject)
}

/// An event loop's computing and waiting shares, from its verdict.
fn loop_load(verdict: &Verdict) -> LoopLoad {
    LoopLoad {
        computing_percent: verdict.running_percent.unwrap_or(0.0),
        waiting_percent: verdict.waiting_percent.unwrap_or(0.0),
        verdict: verdict.verdict.clone(),
    }
}

/// CPU of a whole process over the window: its threads' CPU together.
fn process_cpu(profile: &ProcessProfile) -> Option<f64> {
    let mut cpu = profile
        .threads
        .iter()
        .filter_map(|t| t.cpu_percent)
        .peekable();
    cpu.peek()?;
    Some(cpu.sum())
}

/// The tab's figures from the profiles of the window (the process first, then its
/// cluster workers); `None` when the first one has no recognised runtime.
pub fn runtime_load(profiles: &[ProcessProfile]) -> Option<RuntimeLoad> {
    let (main, workers) = profiles.split_first()?;
    let info = main.runtime.as_ref()?;
    let v8 = verdict(main, "V8 workers");
    let pool = verdict(main, "libuv pool");
    Some(RuntimeLoad {
        label: info.label(),
        summary: main.runtime_summary.clone(),
        samples: main.threads.iter().map(|t| t.samples).max().unwrap_or(0),
        main_thread: verdict(main, "event loop").map(loop_load),
        pool: pool.map(|v| (v.busy_threads.unwrap_or(0), v.of_threads.unwrap_or(0))),
        v8_workers: v8.map(|v| (v.running_percent.unwrap_or(0.0), v.tids.len())),
        worker_threads: main
            .verdicts
            .iter()
            .filter(|v| v.subject.starts_with("worker_thread"))
            .map(|v| (v.subject.clone(), loop_load(v)))
            .collect(),
        cluster_workers: workers
            .iter()
            .map(|w| ClusterWorkerLoad {
                pid: w.pid,
                cpu_percent: process_cpu(w),
                event_loop: verdict(w, "event loop").map(loop_load),
            })
            .collect(),
        verdicts: main.verdicts.iter().map(|v| v.text.clone()).collect(),
    })
}

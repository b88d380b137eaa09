//! The detail pane's runtime tab: the process (and a cluster primary's workers) sampled
//! with `procscope profile`'s sampler between refreshes, and at each refresh the window
//! aggregated by the profile's code into the tab's figures. No busy% of its own: every
//! number shown is one of the profile's verdicts or per-thread shares.

use std::time::Duration;

use crate::collect::{ProcFs, SystemInfo};
use crate::commands::profile::ProcessSampling;
use crate::model::profile::{ProcessProfile, Verdict};
use crate::model::runtime::ClusterRole;

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

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::analyze::profile::{Accumulator, Describe, WaitKey, thread_row};
    use crate::analyze::runtime::RUNTIMES;
    use crate::collect::sampler::ThreadTick;
    use crate::model::profile::ThreadProfile;
    use crate::model::runtime::RuntimeInfo;
    use crate::parse::syscall::SyscallState;

    /// A thread running, or blocked in system call `nr` on descriptor 5.
    fn tick(tid: u32, running: bool, nr: u64) -> ThreadTick {
        let syscall = match running {
            true => SyscallState::Running,
            false => SyscallState::InSyscall {
                nr,
                args: [5, 0, 0, 0, 0, 0],
                sp: 1,
                pc: 0x10,
            },
        };
        ThreadTick {
            tid,
            name: b"node".to_vec(),
            state: if running { b'R' } else { b'S' },
            cpu_ticks: 0,
            start_ticks: 7,
            syscall: Ok(syscall),
            wchan: None,
        }
    }

    /// Profile rows of the accumulated threads with the given roles (in TID order).
    fn rows(acc: &Accumulator, roles: &[&str], cpu: &[f64]) -> Vec<ThreadProfile> {
        let wait = |key: &WaitKey| (key.text.clone(), None);
        let mut pc = |pc: u64| (format!("{pc:#x}"), "[pc]".to_owned());
        let mut describe = Describe {
            wait: &wait,
            pc: &mut pc,
        };
        acc.threads
            .iter()
            .zip(roles.iter().zip(cpu))
            .map(|((&tid, thread), (role, &cpu))| {
                let mut row = thread_row(tid, thread, &mut describe, Some(cpu));
                row.role = role.parse().ok();
                row
            })
            .collect()
    }

    fn profile(pid: u32, threads: Vec<ThreadProfile>) -> ProcessProfile {
        let verdicts = RUNTIMES[0].verdicts(&threads, &[]);
        ProcessProfile {
            pid,
            name: Some("node".into()),
            runtime: Some(RuntimeInfo {
                runtime: "node".into(),
                version: Some("20.20.2".into()),
                cluster: None,
                settings: Vec::new(),
            }),
            runtime_summary: None,
            verdicts,
            threads,
            roles: Vec::new(),
            epoll_sets: Vec::new(),
            perf_map: false,
        }
    }

    #[test]
    fn the_tab_shows_the_profile_aggregation_of_the_samples() {
        const EPOLL_WAIT: u64 = 232;
        const FUTEX: u64 = 202;
        let (mut primary, mut worker) = (Accumulator::default(), Accumulator::default());
        for i in 0..20 {
            // Main computes in 19 of 20 samples; one pool thread always runs, one waits.
            primary.add(&[
                tick(100, i < 19, EPOLL_WAIT),
                tick(101, true, FUTEX),
                tick(102, false, FUTEX),
            ]);
            // The cluster worker's loop waits in epoll in 15 of 20.
            worker.add(&[tick(200, i < 5, EPOLL_WAIT), tick(201, false, FUTEX)]);
        }
        let roles = ["js-main", "libuv-pool", "libuv-pool"];
        let main = profile(100, rows(&primary, &roles, &[95.0, 99.0, 0.0]));
        let worker_rows = rows(&worker, &["js-main", "v8-worker"], &[25.0, 5.5]);
        let load = runtime_load(&[main, profile(200, worker_rows)]).unwrap();
        let event_loop = load.main_thread.unwrap();
        assert_eq!(
            (event_loop.computing_percent, event_loop.waiting_percent),
            (95.0, 5.0)
        );
        assert_eq!(event_loop.verdict, "computing");
        assert_eq!(load.pool, Some((1, 2)));
        assert_eq!(load.samples, 20);
        let worker = &load.cluster_workers[0];
        assert_eq!((worker.pid, worker.cpu_percent), (200, Some(30.5)));
        let worker_loop = worker.event_loop.as_ref().unwrap();
        assert_eq!(
            (worker_loop.computing_percent, worker_loop.verdict.as_str()),
            (25.0, "waiting")
        );
        assert!(
            load.verdicts
                .iter()
                .any(|v| v.starts_with("event loop computing 95%")),
            "{:?}",
            load.verdicts
        );
    }
}

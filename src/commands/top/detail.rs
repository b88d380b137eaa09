//! The detail pane's data for one process: its threads with CPU% over the interval, its
//! descriptors, its memory by category with growth since the pane opened, its sockets, and
//! for a recognised runtime (Node.js) how busy its main thread, pools and workers are.
//! Only the open tab is read at each refresh; the process is bound by PID and start time,
//! so a reused PID shows as gone rather than as another process.

use std::collections::HashMap;
use std::time::Instant;

use crate::collect::{Needs, ProcFs, ProcessSample, SystemInfo, UserNames};
use crate::commands::{fds, mem, ports, threads};
use crate::model::fd::FdList;
use crate::model::memory::{CategoryRow, MemoryReport};
use crate::model::runtime::{ClusterRole, RuntimeInfo, ThreadRole};
use crate::model::socket::PortList;
use crate::model::thread::ThreadList;

use super::sampler::Snapshot;
use super::view::Tab;

/// A thread counts as busy over an interval when it used at least this much of a core, or
/// was running when read.
const BUSY_PERCENT: f64 = 5.0;

/// How busy a Node.js process's threads and cluster workers were over the interval.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuntimeLoad {
    /// `node 20.20.2 cluster primary`.
    pub label: String,
    pub summary: Option<String>,
    /// CPU% of the JavaScript main thread.
    pub main_thread_percent: Option<f64>,
    /// Busy and total libuv pool threads.
    pub pool: (usize, usize),
    /// Busy and total V8 platform workers.
    pub v8_workers: (usize, usize),
    /// worker_threads: TID, name, CPU%.
    pub worker_threads: Vec<(u32, String, f64)>,
    /// Cluster workers (of a primary): PID and CPU% when in the table.
    pub cluster_workers: Vec<(u32, Option<f64>)>,
}

/// The detail pane of one process.
#[derive(Debug, Default)]
pub struct Detail {
    pub pid: u32,
    pub start_ticks: u64,
    /// The process exited, or its PID now names another process.
    pub gone: bool,
    pub error: Option<String>,
    pub threads: Option<ThreadList>,
    /// CPU% of each thread over the last interval, by TID.
    pub thread_cpu: HashMap<u32, f64>,
    thread_ticks: HashMap<u32, (u64, u64)>,
    thread_at: Option<Instant>,
    pub fds: Option<FdList>,
    pub memory: Option<MemoryReport>,
    /// RSS of each memory category when the pane opened.
    pub memory_baseline: HashMap<String, u64>,
    pub ports: Option<PortList>,
    pub runtime: Option<RuntimeLoad>,
}

/// The key that identifies a memory category across refreshes.
pub fn category_key(row: &CategoryRow) -> String {
    format!(
        "{}/{}/{}",
        row.category,
        row.tid.map_or(String::new(), |t| t.to_string()),
        row.file.as_deref().unwrap_or("")
    )
}

impl Detail {
    pub fn new(pid: u32, start_ticks: u64) -> Self {
        Self {
            pid,
            start_ticks,
            ..Self::default()
        }
    }

    /// Reads what `tab` shows; `snapshot` gives cluster workers' CPU.
    pub fn refresh(
        &mut self,
        tab: Tab,
        procfs: &ProcFs,
        system: &SystemInfo,
        users: &UserNames,
        snapshot: &Snapshot,
    ) {
        if self.gone || !self.still_same(procfs) {
            self.gone = true;
            return;
        }
        let pid = self.pid;
        let result = match tab {
            Tab::Threads | Tab::Runtime => self.read_threads(procfs, system, snapshot),
            Tab::Fds => fds::run(pid, procfs, system).map(|r| self.fds = Some(r.list)),
            Tab::Memory => self.read_memory(procfs, system),
            Tab::Ports => {
                let query = crate::query::ports::PortsQuery {
                    all: true,
                    pid: Some(pid),
                    ..crate::query::ports::PortsQuery::default()
                };
                ports::run(query, procfs, users).map(|r| self.ports = Some(r.list))
            }
        };
        self.error = result.err().map(|e| format!("{e:#}"));
    }

    /// True while the PID still names the process the pane was opened for.
    fn still_same(&self, procfs: &ProcFs) -> bool {
        ProcessSample::read(procfs, self.pid, Needs::STAT)
            .ok()
            .and_then(|s| s.stat().ok().map(|st| st.starttime_ticks))
            == Some(self.start_ticks)
    }

    fn read_memory(&mut self, procfs: &ProcFs, system: &SystemInfo) -> anyhow::Result<()> {
        let query = crate::query::mem::MemQuery {
            libs: false,
            maps: false,
        };
        let report = mem::run(self.pid, query, procfs, system)?.report;
        if self.memory_baseline.is_empty() {
            self.memory_baseline = report
                .categories
                .iter()
                .map(|row| (category_key(row), row.sizes.rss_bytes))
                .collect();
        }
        self.memory = Some(report);
        Ok(())
    }

    fn read_threads(
        &mut self,
        procfs: &ProcFs,
        system: &SystemInfo,
        snapshot: &Snapshot,
    ) -> anyhow::Result<()> {
        let options = crate::query::threads::ThreadsOptions {
            samples: 1,
            roles: true,
            explain: false,
        };
        let list = threads::run(self.pid, options, procfs, system)?.list;
        self.sample_thread_cpu(procfs, system);
        self.runtime = list
            .runtime
            .as_ref()
            .map(|info| runtime_load(info, &list, &self.thread_cpu, snapshot));
        self.threads = Some(list);
        Ok(())
    }

    /// CPU% of each thread since the previous read (over its life on the first).
    fn sample_thread_cpu(&mut self, procfs: &ProcFs, system: &SystemInfo) {
        let Ok(dir) = procfs.process(self.pid) else {
            return;
        };
        let now = Instant::now();
        let interval = self
            .thread_at
            .map(|at| now.duration_since(at).as_secs_f64());
        self.thread_at = Some(now);
        let mut ticks = HashMap::new();
        self.thread_cpu.clear();
        for tid in dir.numeric_entries("task").unwrap_or_default() {
            let Ok(sample) = ProcessSample::read_thread(&dir, tid, Needs::STAT) else {
                continue;
            };
            let Ok(stat) = sample.stat() else { continue };
            let used = stat.cpu_ticks();
            let percent = match (self.thread_ticks.get(&tid), interval) {
                (Some(&(start, before)), Some(seconds)) if start == stat.starttime_ticks => {
                    system.ticks_to_seconds(used.saturating_sub(before)) / seconds.max(1e-3) * 100.0
                }
                _ => system.lifetime_cpu_percent(used, stat.starttime_ticks),
            };
            self.thread_cpu.insert(tid, percent);
            ticks.insert(tid, (stat.starttime_ticks, used));
        }
        // Only the threads alive now are kept.
        self.thread_ticks = ticks;
    }
}

/// The runtime tab's figures from the threads' roles and CPU.
fn runtime_load(
    info: &RuntimeInfo,
    list: &ThreadList,
    cpu: &HashMap<u32, f64>,
    snapshot: &Snapshot,
) -> RuntimeLoad {
    let busy = |tid: u32, state: Option<&str>| {
        cpu.get(&tid).is_some_and(|&p| p >= BUSY_PERCENT) || state == Some("R")
    };
    let count = |role: ThreadRole| {
        let members: Vec<_> = list
            .threads
            .iter()
            .filter(|t| t.role == Some(role))
            .collect();
        let busy = members
            .iter()
            .filter(|t| busy(t.tid, t.state.as_deref()))
            .count();
        (busy, members.len())
    };
    let cluster_workers = match &info.cluster {
        Some(ClusterRole::Primary { workers }) => workers
            .iter()
            .map(|&pid| {
                let cpu = snapshot
                    .rows
                    .iter()
                    .find(|r| r.pid == pid && r.tid == pid)
                    .and_then(|r| r.rates.cpu_percent);
                (pid, cpu)
            })
            .collect(),
        _ => Vec::new(),
    };
    RuntimeLoad {
        label: info.label(),
        summary: list.runtime_summary.clone(),
        main_thread_percent: list
            .threads
            .iter()
            .find(|t| t.role == Some(ThreadRole::JsMain))
            .and_then(|t| cpu.get(&t.tid).copied()),
        pool: count(ThreadRole::LibuvPool),
        v8_workers: count(ThreadRole::V8Worker),
        worker_threads: list
            .threads
            .iter()
            .filter(|t| t.role == Some(ThreadRole::WorkerThread))
            .map(|t| {
                let name = t.role_name.clone().or_else(|| t.name.clone());
                (
                    t.tid,
                    name.unwrap_or_default(),
                    cpu.get(&t.tid).copied().unwrap_or(0.0),
                )
            })
            .collect(),
        cluster_workers,
    }
}

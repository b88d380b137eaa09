//! Reading the detail pane of one process: its threads with CPU% over the interval, its
//! descriptors, its memory by category with growth since the pane opened, its sockets, and
//! for a recognised runtime (Node.js) how busy its main thread, pools and workers are, as
//! `procscope profile` aggregates them (see `runtime_tab`).
//! Only the open tab is read at each refresh; the process is bound by PID and start time,
//! so a reused PID shows as gone rather than as another process.

use std::collections::HashMap;
use std::time::Instant;

use crate::collect::{Needs, ProcFs, ProcessSample, SystemInfo, UserNames};
use crate::commands::{fds, mem, ports, threads};
use crate::render::tui::pane::{DetailPane, category_key};
use crate::render::tui::view::Tab;

use super::runtime_tab::RuntimeTab;

/// The detail pane of one process: what it shows, and what reading it needs kept.
#[derive(Debug, Default)]
pub struct Detail {
    pub pane: DetailPane,
    pub start_ticks: u64,
    thread_ticks: HashMap<u32, (u64, u64)>,
    thread_at: Option<Instant>,
    /// The runtime tab's sampling, while that tab is open.
    runtime_tab: Option<RuntimeTab>,
}

impl Detail {
    pub fn new(pid: u32, start_ticks: u64) -> Self {
        Self {
            pane: DetailPane::new(pid),
            start_ticks,
            ..Self::default()
        }
    }

    /// Reads what `tab` shows.
    pub fn refresh(&mut self, tab: Tab, procfs: &ProcFs, system: &SystemInfo, users: &UserNames) {
        if self.pane.gone || !self.still_same(procfs) {
            self.pane.gone = true;
            return;
        }
        if tab != Tab::Runtime {
            self.runtime_tab = None;
        }
        let pid = self.pane.pid;
        let result = match tab {
            Tab::Threads => self.read_threads(procfs, system),
            Tab::Runtime => {
                self.read_runtime(procfs, system);
                Ok(())
            }
            Tab::Fds => fds::run(pid, procfs, system).map(|r| self.pane.fds = Some(r.list)),
            Tab::Memory => self.read_memory(procfs, system),
            Tab::Ports => {
                let query = crate::query::ports::PortsQuery {
                    all: true,
                    pid: Some(pid),
                    ..crate::query::ports::PortsQuery::default()
                };
                ports::run(query, procfs, users).map(|r| self.pane.ports = Some(r.list))
            }
        };
        self.pane.error = result.err().map(|e| format!("{e:#}"));
        self.pane.sampling = self.runtime_tab.is_some();
    }

    /// True while the PID still names the process the pane was opened for.
    fn still_same(&self, procfs: &ProcFs) -> bool {
        ProcessSample::read(procfs, self.pane.pid, Needs::STAT)
            .ok()
            .and_then(|s| s.stat().ok().map(|st| st.starttime_ticks))
            == Some(self.start_ticks)
    }

    fn read_memory(&mut self, procfs: &ProcFs, system: &SystemInfo) -> anyhow::Result<()> {
        let query = crate::query::mem::MemQuery {
            libs: false,
            maps: false,
        };
        let report = mem::run(self.pane.pid, query, procfs, system)?.report;
        if self.pane.memory_baseline.is_empty() {
            self.pane.memory_baseline = report
                .categories
                .iter()
                .map(|row| (category_key(row), row.sizes.rss_bytes))
                .collect();
        }
        self.pane.memory = Some(report);
        Ok(())
    }

    /// True while the runtime tab samples between refreshes.
    pub fn sampling(&self) -> bool {
        self.runtime_tab.is_some()
    }

    /// What the pane shows, for drawing.
    pub fn pane(&self) -> &DetailPane {
        &self.pane
    }

    /// One sample of the runtime tab's threads (between refreshes).
    pub fn tick(&mut self) {
        if let Some(tab) = &mut self.runtime_tab {
            tab.tick();
        }
    }

    /// Aggregates the runtime tab's window, or starts sampling when the tab just opened.
    fn read_runtime(&mut self, procfs: &ProcFs, system: &SystemInfo) {
        match &mut self.runtime_tab {
            Some(tab) => self.pane.runtime = tab.refresh(procfs, system),
            None => {
                self.runtime_tab = RuntimeTab::open(procfs, self.pane.pid, self.start_ticks);
                if let Some(tab) = &mut self.runtime_tab {
                    tab.tick();
                }
            }
        }
    }

    fn read_threads(&mut self, procfs: &ProcFs, system: &SystemInfo) -> anyhow::Result<()> {
        let options = crate::query::threads::ThreadsOptions {
            samples: 1,
            roles: true,
            explain: false,
        };
        let list = threads::run(self.pane.pid, options, procfs, system)?.list;
        self.sample_thread_cpu(procfs, system);
        self.pane.threads = Some(list);
        Ok(())
    }

    /// CPU% of each thread since the previous read (over its life on the first).
    fn sample_thread_cpu(&mut self, procfs: &ProcFs, system: &SystemInfo) {
        let Ok(dir) = procfs.process(self.pane.pid) else {
            return;
        };
        let now = Instant::now();
        let interval = self
            .thread_at
            .map(|at| now.duration_since(at).as_secs_f64());
        self.thread_at = Some(now);
        let mut ticks = HashMap::new();
        self.pane.thread_cpu.clear();
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
            self.pane.thread_cpu.insert(tid, percent);
            ticks.insert(tid, (stat.starttime_ticks, used));
        }
        // Only the threads alive now are kept.
        self.thread_ticks = ticks;
    }
}

//! One refresh of the live process table as the TUI and the streams draw it: rows with
//! their cells and per-interval rates, the rows gone since the previous refresh, tasks by
//! state. A render-owned view type, filled by the live view's sampler (`live::sampler`).

use std::collections::BTreeMap;

use crate::columns::Value;
use crate::model::Unavailable;

/// Per-interval rates of one row; `None` where the counter could not be read.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rates {
    pub cpu_percent: Option<f64>,
    /// Voluntary + involuntary context switches per second (of the process's main thread,
    /// or of the thread in a thread listing: the kernel counts them per thread).
    pub ctxt_switches_per_second: Option<f64>,
    pub read_bytes_per_second: Option<f64>,
    pub write_bytes_per_second: Option<f64>,
    pub rchar_per_second: Option<f64>,
    pub wchar_per_second: Option<f64>,
}

/// One process (or thread) of a refresh.
#[derive(Debug, Clone, Default)]
pub struct TopRow {
    pub pid: u32,
    pub tid: u32,
    pub ppid: u32,
    /// Start time in clock ticks since boot: with the PID, the process's identity.
    pub start_ticks: u64,
    pub state: u8,
    pub name: Vec<u8>,
    /// One cell per column of the spec; the `cpu` column holds the interval's CPU%.
    pub cells: Vec<Result<Value, Unavailable>>,
    pub rates: Rates,
    /// Not in the previous refresh (or its PID now names another process).
    pub fresh: bool,
    /// The cells of the sampler's deferred columns are not read yet: the live view reads
    /// them before it draws or searches the row.
    pub deferred: bool,
}

/// A row of the previous refresh that is gone now, shown once more as exited.
#[derive(Debug, Clone)]
pub struct Exited {
    pub pid: u32,
    pub tid: u32,
    pub name: Vec<u8>,
}

/// One refresh.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Which refresh of its sampler this is (1 for the first; 0: none), so the sampler can
    /// tell its own previous snapshot when it is handed back.
    pub generation: u64,
    /// When it was taken, in seconds since the epoch.
    pub taken_unix: f64,
    /// Seconds since the previous refresh (`None` on the first).
    pub interval_seconds: Option<f64>,
    pub rows: Vec<TopRow>,
    pub exited: Vec<Exited>,
    /// Processes by state letter.
    pub states: BTreeMap<u8, usize>,
    /// Processes that vanished while they were read.
    pub vanished: usize,
}

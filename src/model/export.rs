//! The payload of `export` and `serve`: per-group (and selected per-process) totals of the
//! same facts `ps` reads. Plain data; the OpenMetrics text is made in `render::openmetrics`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// One collection of every process, grouped.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExportPayload {
    /// Groups by name (sorted, so the exposition is stable).
    pub groups: BTreeMap<String, GroupStats>,
    /// Processes selected for per-PID series (`--pid`, `pids = true` in a rule).
    pub processes: Vec<ProcessStats>,
    /// Processes that exited between the directory listing and the read.
    pub vanished: usize,
    /// Processes whose files we may not read at all.
    pub hidden: usize,
    /// Whether PSS was read (smaps_rollup).
    pub pss: bool,
    /// How long the collection took.
    pub duration_seconds: f64,
}

/// The totals of one group. Sums over its processes unless the field says otherwise.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GroupStats {
    pub num_procs: u64,
    pub cpu_user_seconds: f64,
    pub cpu_system_seconds: f64,
    pub resident_bytes: u64,
    pub virtual_bytes: u64,
    /// Sum of PSS, with `--pss` (only processes whose smaps_rollup was readable).
    pub proportional_bytes: u64,
    pub swap_bytes: u64,
    pub threads: u64,
    pub open_fds: u64,
    /// The smallest (soft limit − open descriptors) of any process whose limit was read.
    pub fd_headroom: Option<u64>,
    /// The largest open/limit ratio of any process whose limit was read.
    pub fd_limit_ratio: Option<f64>,
    /// Open descriptors by kind (`socket`, `pipe`, `path`, `eventfd`...).
    pub fds_by_kind: BTreeMap<&'static str, u64>,
    pub voluntary_ctxt_switches: u64,
    pub involuntary_ctxt_switches: u64,
    /// From `/proc/PID/io` (storage layer bytes), where readable.
    pub read_bytes: u64,
    pub write_bytes: u64,
    /// Processes whose `io` could not be read (another user's, without privileges).
    pub io_unreadable: u64,
    pub major_faults: u64,
    pub minor_faults: u64,
    /// Start time of the oldest process, in Unix seconds.
    pub oldest_start_time_unix: Option<f64>,
    /// Processes by state name (`running`, `sleeping`, `disk_sleep`, `zombie`...).
    pub states: BTreeMap<&'static str, u64>,
    /// Listening sockets held by the group's processes.
    pub ports: BTreeSet<ListeningPort>,
    /// Threads of recognised runtimes by (runtime, role).
    pub roles: BTreeMap<(String, String), RoleStats>,
    /// Node.js cluster workers among the group's processes.
    pub cluster_workers: u64,
}

/// A listening TCP socket or bound UDP socket.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ListeningPort {
    /// `tcp`, `tcp6`, `udp`, `udp6`.
    pub protocol: &'static str,
    pub address: String,
    pub port: u16,
}

/// The threads of one runtime role within a group.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RoleStats {
    pub threads: u64,
    /// Threads running or in a system call other than a futex wait at the read.
    pub busy: u64,
    pub cpu_seconds: f64,
}

/// One process selected for per-PID series.
#[derive(Debug, Clone, Serialize)]
pub struct ProcessStats {
    pub pid: u32,
    pub group: String,
    /// Start time in Unix seconds (with the PID, identifies the process across PID reuse).
    pub start_time_unix: f64,
    pub cpu_user_seconds: f64,
    pub cpu_system_seconds: f64,
    pub resident_bytes: u64,
    pub proportional_bytes: Option<u64>,
    pub threads: u64,
    pub open_fds: Option<u64>,
}

//! The `profile` payload: what each thread of a process did over a sampling window, and
//! runtime verdicts with the numbers behind them.

use schemars::JsonSchema;
use serde::Serialize;

use crate::model::runtime::{RoleEvidence, RuntimeInfo, ThreadRole};

/// One profiling run: the process asked for and, for a cluster primary, its workers.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProfileReport {
    pub pid: u32,
    /// Samples per second asked for.
    pub hz: u32,
    /// The sampling window, measured.
    pub duration_seconds: f64,
    /// How many times every thread was read.
    pub ticks: u32,
    pub processes: Vec<ProcessProfile>,
}

/// The profile of one process.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProcessProfile {
    pub pid: u32,
    pub name: Option<String>,
    /// The runtime recognised from the executable.
    pub runtime: Option<RuntimeInfo>,
    /// The thread roles in one line, counting only what the evidence shows.
    pub runtime_summary: Option<String>,
    /// Conclusions with their numbers: event loop computing or waiting, pool saturation...
    pub verdicts: Vec<Verdict>,
    pub threads: Vec<ThreadProfile>,
    /// The threads of each role together.
    pub roles: Vec<RoleProfile>,
    /// The epoll sets threads waited on, by what they hold.
    pub epoll_sets: Vec<EpollSet>,
    /// JIT frames were named from `/tmp/perf-PID.map` (started with --perf-basic-prof).
    pub perf_map: bool,
}

/// A conclusion about part of a runtime.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Verdict {
    /// `event loop`, `libuv pool`, `V8 workers`, `worker_thread 1234`, `loop alive`.
    pub subject: String,
    /// `computing`, `waiting`, `blocked`, `saturated`, `busy`, `idle`, `partly busy`,
    /// `unclassified`, `kept alive`.
    pub verdict: String,
    /// The sentence with its numbers.
    pub text: String,
    /// Threads the verdict is about.
    pub tids: Vec<u32>,
    /// % of observed samples running (on a CPU or runnable), when it applies.
    pub running_percent: Option<f64>,
    /// % of observed samples waiting in the event loop's epoll, when it applies.
    pub waiting_percent: Option<f64>,
    /// Threads busy in ≥ 90% of their samples, and how many threads were judged.
    pub busy_threads: Option<u32>,
    pub of_threads: Option<u32>,
}

/// What one thread did.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ThreadProfile {
    pub tid: u32,
    pub name: Option<String>,
    pub role: Option<ThreadRole>,
    /// A worker_thread's name, when the runtime set one.
    pub role_name: Option<String>,
    pub role_evidence: Option<RoleEvidence>,
    /// Ticks in which the thread existed and was read.
    pub samples: u32,
    pub running_samples: u32,
    pub running_percent: f64,
    /// CPU used over the window, in % of one core (from its CPU ticks).
    pub cpu_percent: Option<f64>,
    /// Where it waited, most frequent first.
    pub waits: Vec<WaitShare>,
    /// The most frequent program counters while blocked.
    pub top_pcs: Vec<PcShare>,
    /// Samples by wait and blocked function, for folded stacks (`--folded`).
    pub stacks: Vec<StackShare>,
}

/// Samples in one wait at one function (none while running).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StackShare {
    pub wait: String,
    /// `epoll_pwait in libc.so.6`, `[jit] LazyCompile:*loop app.js:3`, `[jit]`.
    pub frame: Option<String>,
    pub samples: u32,
}

/// The share of samples in one state.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WaitShare {
    /// `running`, `read(fd 23 → /data/a.csv)`, `epoll_pwait(fd 14: 1 listener, 1 eventfd)`.
    pub wait: String,
    pub syscall: Option<String>,
    pub fd: Option<i64>,
    /// What the descriptor is, when resolved.
    pub target: Option<String>,
    pub samples: u32,
    pub percent: f64,
}

/// A blocked program counter and how often it was seen.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PcShare {
    pub pc: u64,
    /// `epoll_pwait+0x4e in libc.so.6`, `[jit] LazyCompile:*loop app.js:3`, `[jit]`.
    pub location: String,
    pub samples: u32,
}

/// The threads of one role together.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RoleProfile {
    /// The role; null for the threads of a process without a recognised runtime.
    pub role: Option<ThreadRole>,
    pub threads: u32,
    pub samples: u32,
    pub running_percent: f64,
    /// Waits across these threads (by call and target, not by thread).
    pub waits: Vec<WaitShare>,
}

/// What an epoll instance watches.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EpollSet {
    pub fd: i64,
    pub listeners: u32,
    pub connections: u32,
    /// Other sockets (unix, UDP, unconnected).
    pub sockets: u32,
    pub timerfds: u32,
    pub signalfds: u32,
    pub eventfds: u32,
    pub pipes: u32,
    pub other: u32,
    /// `1 listener, 2 connections, 1 eventfd`.
    pub text: String,
}

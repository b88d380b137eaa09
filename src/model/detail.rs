//! The `show` payload: one process, by section. Every field may be null, with the reason
//! in `unavailable` (keyed `section.field`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use super::Unavailable;
use super::fd::SocketInfo;
use super::fields::DetailField;
use crate::model::runtime::RuntimeInfo;

/// Everything about one process.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProcessDetail {
    pub pid: u32,
    pub identity: Identity,
    pub cpu: CpuSummary,
    pub memory: MemorySummary,
    pub counts: Counts,
    /// Selected resource limits: open files, stack size, processes; all 16 with `--limits`.
    pub limits: Vec<LimitEntry>,
    /// The runtime recognised from the executable (with the cluster role: a primary lists its
    /// workers).
    pub runtime: Option<RuntimeInfo>,
    /// `Node.js v20.20.2 — 1 JavaScript main thread, 4 libuv pool threads...`.
    pub runtime_summary: Option<String>,
    /// Memory by broad kind (RSS and virtual): every mapping is in one group, so the groups'
    /// RSS adds up to the process's (as `smaps_rollup` counts it).
    pub memory_map: Option<Vec<MemoryGroup>>,
    /// Sockets the process listens on (TCP LISTEN, bound UDP, listening unix sockets).
    pub listening: Option<Vec<SocketInfo>>,
    /// The cgroup v2 path (the `0::` line), or on a hybrid host whose v2 line is only `/`,
    /// the v1 lines (`12:memory:/job`) joined with `; `.
    pub cgroup: Option<String>,
    /// Every line of `/proc/PID/cgroup`, v1 and v2.
    pub cgroups: Option<Vec<crate::parse::cgroup::CgroupLine>>,
    /// The exact bytes of `cgroup` (standard base64), only when they are not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cgroup_b64: Option<String>,
    /// Namespaces, capabilities, NoNewPrivs, seccomp, LSM label, OOM and I/O priority, groups.
    pub security: crate::model::security::Security,
    /// The starting environment, with `--env` (secret-looking values redacted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<Vec<crate::model::security::EnvEntry>>,
    /// Why each null field has no value, keyed `section.field` (e.g. `identity.exe`).
    pub unavailable: BTreeMap<DetailField, Unavailable>,
}

/// Who and what the process is.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Identity {
    pub ppid: Option<u32>,
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_b64: Option<String>,
    /// The state letter (R, S, D, Z, T, I...).
    pub state: Option<String>,
    pub state_name: Option<String>,
    pub kind: ProcessKind,
    pub user: Option<String>,
    /// Real, effective, saved and filesystem uid.
    pub uids: Option<Vec<u64>>,
    /// Real, effective, saved and filesystem gid.
    pub gids: Option<Vec<u64>>,
    pub argv: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argv_b64: Option<Vec<String>>,
    /// Present (true) when arguments were left out: more than 4096, or more than 256 KiB.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub argv_truncated: bool,
    /// The exact `cmdline` bytes (base64, at most 256 KiB), with `--raw-cmdline`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmdline_b64: Option<String>,
    pub exe: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exe_b64: Option<String>,
    /// True when the executable file was deleted or replaced after the process started.
    pub exe_deleted: Option<bool>,
    pub cwd: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwd_b64: Option<String>,
    pub start_time_unix: Option<f64>,
    pub age_seconds: Option<f64>,
    /// Controlling terminal, null when there is none.
    pub tty: Option<String>,
    pub session: Option<i32>,
    pub pgid: Option<i32>,
    /// PIDs in each nested PID namespace, outermost first (`NSpid`).
    pub ns_pids: Option<Vec<u64>>,
}

/// Where the CPU time went and how the process is scheduled.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct CpuSummary {
    pub user_seconds: Option<f64>,
    pub system_seconds: Option<f64>,
    /// Lifetime average in % of one core.
    pub cpu_percent: Option<f64>,
    pub nice: Option<i64>,
    pub priority: Option<i64>,
    /// SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE or SCHED_DEADLINE.
    pub policy: Option<String>,
    pub last_cpu: Option<u32>,
    /// CPUs the process may run on, as a list (`0-1`).
    pub affinity: Option<String>,
    pub voluntary_ctxt_switches: Option<u64>,
    pub nonvoluntary_ctxt_switches: Option<u64>,
}

/// Memory figures from stat, status and smaps_rollup.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct MemorySummary {
    pub rss_bytes: Option<u64>,
    pub vsz_bytes: Option<u64>,
    /// Proportional set size: shared pages divided among their users.
    pub pss_bytes: Option<u64>,
    pub swap_bytes: Option<u64>,
    /// VmData: heap and other private data.
    pub data_bytes: Option<u64>,
    /// VmStk: the main thread's stack.
    pub stack_bytes: Option<u64>,
}

/// Threads and descriptors.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Counts {
    pub threads: Option<u64>,
    /// How many threads are in each state (`S`: 6, `R`: 1).
    pub threads_by_state: Option<BTreeMap<String, u64>>,
    /// How many threads have each runtime role (`v8_worker`: 4), for a recognised runtime.
    pub threads_by_role: Option<BTreeMap<crate::model::runtime::ThreadRole, u64>>,
    pub fds: Option<u64>,
    /// How many descriptors of each type (`tcp`: 2, `file`: 5).
    pub fds_by_type: Option<BTreeMap<String, u64>>,
    /// The soft RLIMIT_NOFILE: how many descriptors the process may open.
    pub fd_soft_limit: Option<u64>,
}

/// One resource limit; null means unlimited.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LimitEntry {
    pub name: String,
    pub soft: Option<u64>,
    pub hard: Option<u64>,
    pub unit: String,
}

/// One broad kind of memory in `show`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MemoryGroup {
    /// heap (brk heap and malloc arenas), stacks (main and threads), code (the
    /// executable), libraries, anonymous (other anonymous memory), shared_memory (SysV,
    /// /dev/shm, memfd and shared anonymous), other_files (any other mapped file), or
    /// special (the kernel's [vdso], [vvar], [vsyscall]).
    pub group: String,
    pub rss_bytes: u64,
    pub virtual_bytes: u64,
    pub mappings: u64,
    /// For stacks: how many thread stacks besides the main one belong to a known thread.
    pub thread_stacks: Option<u64>,
    /// For stacks: stacks recognised by their guard page whose thread was not sampled.
    pub unowned_stacks: Option<u64>,
}

/// What a process is: an ordinary one, a zombie (exited, not yet reaped) or a kernel thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProcessKind {
    #[default]
    Process,
    Zombie,
    KernelThread,
}

impl ProcessKind {
    /// The kind in words (`kernel thread`).
    pub fn words(self) -> &'static str {
        match self {
            ProcessKind::Process => "process",
            ProcessKind::Zombie => "zombie",
            ProcessKind::KernelThread => "kernel thread",
        }
    }
}

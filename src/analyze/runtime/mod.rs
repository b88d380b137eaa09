//! Runtime insight: which runtime a process runs (by its executable, not its name), the role
//! of each thread, and the process's place in a runtime's process family. One module per
//! runtime behind the [`Runtime`] interface, so others (the JVM, Python) can be added
//! without touching the commands.

pub mod node;
pub mod node_profile;
pub mod node_roles;

use schemars::JsonSchema;
use serde::Serialize;

use crate::analyze::stacks::StackMapping;
use crate::parse::syscall::SyscallState;

// moved (issue 14): re-export until merge
pub use crate::collect::process::ProcessFacts;

/// A process's runtime: the same JSON object in every command (`ps -o runtime`, `show`,
/// `threads`), and the one source of its table text ([`RuntimeInfo::label`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RuntimeInfo {
    /// `node`.
    #[serde(rename = "name")]
    pub runtime: String,
    /// `20.20.2`, read from the binary.
    pub version: Option<String>,
    /// Its place in a cluster (Node.js cluster primary or worker), when it has one.
    pub cluster: Option<ClusterRole>,
    /// Runtime settings from the environment (`UV_THREADPOOL_SIZE`: `6`).
    pub settings: Vec<(String, String)>,
}

impl RuntimeInfo {
    /// `node 20.20.2`, `node 20.20.2 cluster primary`, `node 20.20.2 cluster worker 2`.
    pub fn label(&self) -> String {
        let mut text = self.runtime.clone();
        if let Some(version) = &self.version {
            text.push(' ');
            text.push_str(version);
        }
        if let Some(role) = self.cluster.as_ref().and_then(ClusterRole::cluster_label) {
            text.push(' ');
            text.push_str(&role);
        }
        text
    }
}

impl ClusterRole {
    /// `cluster primary`, `cluster worker 2`; `None` for a forked child (not a cluster role).
    pub fn cluster_label(&self) -> Option<String> {
        match self {
            Self::Primary { .. } => Some("cluster primary".into()),
            Self::Worker { id, .. } => Some(format!("cluster worker {id}")),
            Self::ForkedChild { .. } => None,
        }
    }

    /// The role as `tree` and `ports` label a process: the cluster role, or `forked child`.
    pub fn label(&self) -> String {
        self.cluster_label()
            .unwrap_or_else(|| "forked child".to_owned())
    }
}

/// A process's role in a runtime's process family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum ClusterRole {
    /// Forked cluster workers (their PIDs).
    Primary { workers: Vec<u32> },
    /// Cluster worker number `id` (NODE_UNIQUE_ID) of `primary`.
    Worker { id: u32, primary: u32 },
    /// A `child_process.fork()` child with an IPC channel (NODE_CHANNEL_FD) of `parent`.
    ForkedChild { parent: u32 },
}

/// What is known about one thread when deciding its role.
#[derive(Debug, Clone)]
pub struct ThreadFacts {
    pub tid: u32,
    pub name: Vec<u8>,
    /// What the thread is blocked in, if sampled.
    pub state: Option<SyscallState>,
    /// The mapping that holds its stack pointer.
    pub stack: Option<StackMapping>,
    /// Where a futex it waits on lives: `heap`, `static` (a module's data or .bss),
    /// `anonymous`.
    pub futex_region: Option<&'static str>,
    /// For a thread in epoll_wait: the descriptors its epoll instance watches.
    pub epoll_targets: Option<Vec<i32>>,
    /// The local ports of listening TCP sockets among those descriptors (an inspector port,
    /// or a server's).
    pub epoll_listener_ports: Vec<u16>,
    /// When the thread started, in clock ticks after boot (`task/TID/stat` starttime):
    /// creation order that survives PID wrap-around.
    pub start_ticks: Option<u64>,
    /// True when the thread was running in every sample taken (it never showed registers).
    pub always_running: bool,
}

/// What is known about the whole process when giving its threads roles.
#[derive(Debug, Clone, Default)]
pub struct RoleContext {
    pub pid: u32,
    /// The process's start, in clock ticks after boot.
    pub start_ticks: Option<u64>,
    /// Clock ticks per second.
    pub ticks_per_second: u64,
    /// RLIMIT_STACK's soft limit: `Some(None)` when unlimited, `None` when unread.
    pub stack_limit: Option<Option<u64>>,
    /// Live V8 isolates counted in the memory map (one remap of the embedded builtins
    /// each), when countable.
    pub isolates: Option<usize>,
    /// The command line (flags such as `--v8-pool-size`, `--inspect`), if readable.
    pub cmdline: Option<Vec<Vec<u8>>>,
    /// The local ports of every listening TCP socket the process holds, if read.
    pub listener_ports: Option<Vec<u16>>,
}

/// Why a thread was given its role.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RoleEvidence {
    /// The rule that decided: `tid equals pid`, `name`, `32 KiB stack, futex in static data`...
    pub rule: String,
    pub name: Option<String>,
    pub stack_bytes: Option<u64>,
    /// `futex`, `epoll_pwait(fd 14)`, `running`.
    pub wait: Option<String>,
    pub futex_address: Option<u64>,
    pub futex_region: Option<String>,
    pub epoll_targets: Option<Vec<i32>>,
    /// The thread's position in creation order (start time, then TID), 0 for the main
    /// thread.
    pub creation_rank: usize,
    /// When the thread started, in clock ticks after boot.
    pub start_ticks: Option<u64>,
    /// The roles whose evidence fits this thread; more than one means `unknown`.
    pub candidates: Vec<String>,
}

/// A thread's role with its evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAssignment {
    /// js-main, libuv-pool, v8-worker, delayed-task-scheduler, signal-inspector,
    /// inspector-io, worker-thread, or unknown.
    pub role: String,
    /// A worker_thread's name, when the runtime set it.
    pub detail: Option<String>,
    pub evidence: RoleEvidence,
}

/// What to look for in an executable to recognise runtimes.
#[derive(Debug, Clone, Copy)]
pub struct BinaryProbe {
    /// Exported symbols that identify a runtime.
    pub symbols: &'static [&'static str],
    /// Shared libraries that carry a runtime (the executable names them in DT_NEEDED).
    pub libraries: &'static [&'static str],
    /// The bytes before a version string in the read-only data.
    pub version_marker: &'static [u8],
}

/// The probe for every known runtime (Node.js is the only one so far).
pub const PROBE: BinaryProbe = BinaryProbe {
    symbols: node::SYMBOLS,
    libraries: &[node::LIBRARY],
    version_marker: node::VERSION_MARKER,
};

/// A runtime the analyzer knows.
pub trait Runtime {
    /// The runtime of a process, if it is this one.
    fn detect(&self, process: &ProcessFacts) -> Option<RuntimeInfo>;
    /// The role of each thread (same order as `threads`): given only when the evidence is
    /// consistent and no other role's evidence also fits, else `unknown` with candidates.
    fn thread_roles(
        &self,
        info: &RuntimeInfo,
        context: &RoleContext,
        threads: &[ThreadFacts],
    ) -> Vec<RoleAssignment>;
    /// A one-line summary of the thread roles (`1 JavaScript main thread, 4 libuv pool
    /// threads...`).
    fn summary(&self, info: &RuntimeInfo, roles: &[RoleAssignment]) -> String;
    /// Conclusions over a profile (threads with roles), each with its numbers.
    fn verdicts(
        &self,
        threads: &[crate::model::profile::ThreadProfile],
        epoll_sets: &[crate::model::profile::EpollSet],
    ) -> Vec<crate::model::profile::Verdict>;
}

/// Every runtime procscope knows.
pub fn runtimes() -> Vec<Box<dyn Runtime>> {
    vec![Box::new(node::Node)]
}

/// The runtime of a process, if any known one matches.
pub fn detect(process: &ProcessFacts) -> Option<(Box<dyn Runtime>, RuntimeInfo)> {
    runtimes().into_iter().find_map(|runtime| {
        let info = runtime.detect(process)?;
        Some((runtime, info))
    })
}

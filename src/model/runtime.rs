//! Runtime payload types shared by every command (`ps -o runtime`, `show`, `threads`,
//! `tree`, `ports`, `profile`): what a process's runtime is, its place in a process family,
//! each thread's role with its evidence, and what a runtime asks `collect` to look for in an
//! executable. Plain values only: detecting and judging is `analyze::runtime`'s.

use schemars::JsonSchema;
use serde::Serialize;

/// The names of the runtimes procscope recognises (`ps --runtime`, export rules), in the
/// order `analyze::runtime::RUNTIMES` tries them; a unit test there keeps the two equal.
pub const RUNTIME_NAMES: &[&str] = &["node", "jvm"];

/// A process's runtime: the same JSON object in every command, and the one source of its
/// table text ([`RuntimeInfo::label`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RuntimeInfo {
    /// `node`, `jvm`.
    #[serde(rename = "name")]
    pub runtime: String,
    /// `20.20.2` (read from the binary), `17.0.15` (from the JDK's `release` file).
    pub version: Option<String>,
    /// Its place in a cluster (Node.js cluster primary or worker), when it has one.
    pub cluster: Option<ClusterRole>,
    /// Runtime settings from the environment (`UV_THREADPOOL_SIZE`: `6`).
    pub settings: Vec<(String, String)>,
}

impl RuntimeInfo {
    /// Whether its children may still make it a cluster primary: it has no role of its own,
    /// or it is a forked child (which can fork workers in turn, as under `node --watch`).
    pub fn may_lead_workers(&self) -> bool {
        matches!(self.cluster, None | Some(ClusterRole::ForkedChild { .. }))
    }

    /// `node 20.20.2`, `node 20.20.2 cluster primary`, `jvm 17.0.15`.
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

    /// The sentence `show` prints: `primary of 2 workers: 11, 12`, `worker 2 of primary 10`,
    /// `forked child of 10 (IPC channel)`.
    pub fn sentence(&self) -> String {
        let list = |pids: &[u32]| {
            pids.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Self::Primary { workers } => format!(
                "primary of {} worker{}: {}",
                workers.len(),
                if workers.len() == 1 { "" } else { "s" },
                list(workers)
            ),
            Self::Worker { id, primary } => format!("worker {id} of primary {primary}"),
            Self::ForkedChild { parent } => format!("forked child of {parent} (IPC channel)"),
        }
    }
}

/// The role of a thread in its runtime. The table text ([`ThreadRole::as_str`]) is the
/// role's name as procscope has always printed it (`js-main`); JSON uses snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ThreadRole {
    /// Node.js: the thread running the JavaScript event loop.
    JsMain,
    /// Node.js: a libuv thread pool thread (fs, dns, crypto, zlib work).
    LibuvPool,
    /// Node.js: a V8 platform worker (GC, compilation).
    V8Worker,
    /// Node.js: the V8 platform's delayed task scheduler.
    DelayedTaskScheduler,
    /// Node.js: the thread that waits for SIGUSR1 to start the inspector.
    SignalInspector,
    /// Node.js: the inspector's I/O thread (`--inspect`).
    InspectorIo,
    /// Node.js: a `worker_threads` Worker (own isolate and event loop).
    WorkerThread,
    /// JVM: the launcher's first thread, waiting for the Java main thread to end.
    Launcher,
    /// JVM: the thread that runs `main`.
    JavaMain,
    /// JVM: the VM thread (safepoints, VM operations).
    Vm,
    /// JVM: a garbage collector thread (`GC Thread#N`, `G1 …`, `ZGC`/`Shenandoah` workers).
    Gc,
    /// JVM: a JIT compiler thread (`C1 CompilerThreadN`, `C2 CompilerThreadN`).
    JitCompiler,
    /// JVM: the `Signal Dispatcher`.
    SignalDispatcher,
    /// JVM: the `Finalizer`.
    Finalizer,
    /// JVM: the `Reference Handler`.
    ReferenceHandler,
    /// JVM: the `Common-Cleaner`.
    CommonCleaner,
    /// JVM: another VM housekeeping thread (`Service Thread`, `VM Periodic Task`,
    /// `Monitor Deflation`, `Notification Thread`, `Sweeper thread`, `Attach Listener`).
    VmService,
    /// JVM: a thread the application started (its name is the application's).
    App,
    /// The evidence does not decide (or fits more than one role).
    Unknown,
}

impl ThreadRole {
    /// The role as tables, folded stacks and metric labels print it (`js-main`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::JsMain => "js-main",
            Self::LibuvPool => "libuv-pool",
            Self::V8Worker => "v8-worker",
            Self::DelayedTaskScheduler => "delayed-task-scheduler",
            Self::SignalInspector => "signal-inspector",
            Self::InspectorIo => "inspector-io",
            Self::WorkerThread => "worker-thread",
            Self::Launcher => "launcher",
            Self::JavaMain => "java-main",
            Self::Vm => "vm",
            Self::Gc => "gc",
            Self::JitCompiler => "jit-compiler",
            Self::SignalDispatcher => "signal-dispatcher",
            Self::Finalizer => "finalizer",
            Self::ReferenceHandler => "reference-handler",
            Self::CommonCleaner => "common-cleaner",
            Self::VmService => "vm-service",
            Self::App => "app",
            Self::Unknown => "unknown",
        }
    }
}

/// A role from its text (`js-main`), as [`ThreadRole::as_str`] writes it.
impl std::str::FromStr for ThreadRole {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ALL_ROLES
            .iter()
            .copied()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| format!("unknown thread role {text:?}"))
    }
}

/// Every role, for parsing.
const ALL_ROLES: &[ThreadRole] = &[
    ThreadRole::JsMain,
    ThreadRole::LibuvPool,
    ThreadRole::V8Worker,
    ThreadRole::DelayedTaskScheduler,
    ThreadRole::SignalInspector,
    ThreadRole::InspectorIo,
    ThreadRole::WorkerThread,
    ThreadRole::Launcher,
    ThreadRole::JavaMain,
    ThreadRole::Vm,
    ThreadRole::Gc,
    ThreadRole::JitCompiler,
    ThreadRole::SignalDispatcher,
    ThreadRole::Finalizer,
    ThreadRole::ReferenceHandler,
    ThreadRole::CommonCleaner,
    ThreadRole::VmService,
    ThreadRole::App,
    ThreadRole::Unknown,
];

/// Roles sort by their text, so lists of candidates read as they always did.
impl Ord for ThreadRole {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for ThreadRole {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for ThreadRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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
    pub candidates: Vec<ThreadRole>,
}

/// What a runtime asks `collect` to look for in a process's executable and memory map. A
/// process is a candidate for the runtime when its executable defines one of `symbols` or
/// names one of `libraries` in DT_NEEDED; only then are its maps searched for `mapped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuntimeProbe {
    /// The runtime's name (`node`, `jvm`), as in [`RuntimeInfo::runtime`].
    pub runtime: &'static str,
    /// Dynamic symbols whose definition identifies the runtime (in the executable, or in a
    /// library of `libraries` it needs).
    pub symbols: &'static [&'static str],
    /// Library name prefixes the executable may need (DT_NEEDED): the runtime itself
    /// (`libnode.so`) or its launcher library (`libjli.so`).
    pub libraries: &'static [&'static str],
    /// Library file name prefixes to find in the process's memory map (`libjvm.so`,
    /// loaded by `dlopen`, so never in DT_NEEDED).
    pub mapped: &'static [&'static str],
    /// Where the version is written.
    pub version: VersionSource,
}

/// Where a runtime's version can be read without running anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSource {
    /// The version characters after this marker in the runtime binary's `.rodata`
    /// (`node.js/v`).
    Marker(&'static [u8]),
    /// A `KEY="1.2.3"` line of a file named `file` in a directory above the mapped library
    /// (at most `levels` up): the JDK's `release` file with `JAVA_VERSION`.
    FileAbove {
        file: &'static str,
        key: &'static str,
        levels: usize,
    },
}

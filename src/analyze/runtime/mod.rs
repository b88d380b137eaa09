//! Runtime insight: which runtime a process runs (by its executable, not its name), the role
//! of each thread, and the process's place in a runtime's process family. One module per
//! runtime behind the [`Runtime`] interface, so others (the JVM, Python) can be added
//! without touching the commands.

pub mod facts;
pub mod family;
pub mod jvm;
pub mod node;
pub mod node_profile;
pub mod node_roles;

use std::sync::LazyLock;

use crate::model::code::StackMapping;
use crate::parse::maps::Mapping;
use crate::parse::syscall::SyscallState;

use crate::collect::process::ProcessFacts;
use crate::model::runtime::{ClusterRole, RoleEvidence, RuntimeInfo};
pub use crate::model::runtime::{RuntimeProbe, ThreadRole, VersionSource};

/// Every runtime procscope knows, in the order they are tried. Adding a runtime is one file
/// and one line here.
pub static RUNTIMES: &[&(dyn Runtime + Sync)] = &[&node::Node, &jvm::Jvm];

/// What `collect` probes executables for: one probe per runtime of [`RUNTIMES`]. Give it to
/// `ProcFs::with_runtimes`.
pub fn probes() -> &'static [RuntimeProbe] {
    static PROBES: LazyLock<Vec<RuntimeProbe>> =
        LazyLock::new(|| RUNTIMES.iter().map(|r| r.probe()).collect());
    &PROBES
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
    /// each), when countable: left `None` by [`facts::role_facts`], counted by Node.js's
    /// `thread_roles` from `maps`.
    pub isolates: Option<usize>,
    /// The command line (flags such as `--v8-pool-size`, `--inspect`), if readable.
    pub cmdline: Option<Vec<Vec<u8>>>,
    /// The local ports of every listening TCP socket the process holds, if read.
    pub listener_ports: Option<Vec<u16>>,
    /// The executable's path, if readable.
    pub exe: Option<Vec<u8>>,
    /// The process's memory map (empty when unread).
    pub maps: Vec<Mapping>,
}

/// A thread's role with its evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAssignment {
    pub role: ThreadRole,
    /// A worker_thread's name, when the runtime set it.
    pub detail: Option<String>,
    pub evidence: RoleEvidence,
}

/// A runtime the analyzer knows: one file each, listed in [`RUNTIMES`].
pub trait Runtime {
    /// What to look for in a process's executable and memory map.
    fn probe(&self) -> RuntimeProbe;
    /// The runtime of a process, if it is this one: its version, process role and the
    /// settings it reads from the environment.
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
        _threads: &[crate::model::profile::ThreadProfile],
        _epoll_sets: &[crate::model::profile::EpollSet],
    ) -> Vec<crate::model::profile::Verdict> {
        Vec::new()
    }
}

/// The value of environment variable `key` of a process, if its environment was read and has
/// it.
pub fn env_value(process: &ProcessFacts, key: &str) -> Option<String> {
    process
        .environ?
        .iter()
        .find(|(k, _)| k == key.as_bytes())
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
}

/// `(name, value)` of each of `keys` a process's environment sets: the settings a runtime
/// reads.
pub fn settings(process: &ProcessFacts, keys: &[&str]) -> Vec<(String, String)> {
    keys.iter()
        .filter_map(|key| Some(((*key).to_owned(), env_value(process, key)?)))
        .collect()
}

/// `Node.js v20.20.2 — 1 JavaScript main thread, …`: the runtime, its version when known,
/// and the parts of a summary.
pub fn summary_line(runtime: &str, version: Option<String>, parts: &[String]) -> String {
    let version = version.map(|v| format!(" {v}")).unwrap_or_default();
    format!("{runtime}{version} — {}", parts.join(", "))
}

/// The runtime of a process, if any known one matches.
pub fn detect(process: &ProcessFacts) -> Option<(&'static dyn Runtime, RuntimeInfo)> {
    RUNTIMES.iter().find_map(|&runtime| {
        let info = runtime.detect(process)?;
        Some((runtime as &'static dyn Runtime, info))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_published_names_are_the_runtimes_list() {
        let names: Vec<&str> = super::RUNTIMES.iter().map(|r| r.probe().runtime).collect();
        assert_eq!(names, crate::model::runtime::RUNTIME_NAMES);
    }
}

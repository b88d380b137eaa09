//! Everything `show` reads about one process, each file a fallible value.

use crate::collect::fds::{FdEntry, read_fds};
use crate::collect::memory::{MemoryFiles, read_memory};
use crate::collect::net::SocketTables;
use crate::collect::process::{Field, ProcessSample, TaskKind, explain};
use crate::collect::scan::scan;
use crate::collect::security::{SecurityFiles, read_security};
use crate::collect::target::{NotAProcess, open_process};
use crate::collect::{Needs, ProcFs, ProcessDir};
use crate::model::Unavailable;
use crate::parse::limits::{Limit, parse_limits};
use crate::parse::smaps::Rollup;

/// The files behind `procscope show PID`.
#[derive(Debug)]
pub struct ProcessDetailFiles {
    /// The process's directory handle, for what a caller derives later (thread roles).
    pub dir: ProcessDir,
    pub sample: ProcessSample,
    /// The link count of the executable file (0: deleted), when it could be stat'ed.
    pub exe_nlink: Option<u64>,
    pub cwd: Field<Vec<u8>>,
    /// The kernel's memory totals (`smaps_rollup`, read once with the memory map).
    pub rollup: Field<Rollup>,
    pub limits: Field<Vec<Limit>>,
    pub cgroup: Field<Vec<u8>>,
    /// The state letter of every thread.
    pub thread_states: Field<Vec<u8>>,
    /// Every open descriptor.
    pub fds: Field<Vec<FdEntry>>,
    /// The socket tables of the process's network namespace, when it holds sockets.
    pub sockets: Option<SocketTables>,
    /// The memory map and thread stack pointers (not for zombies and kernel threads).
    pub memory: Option<MemoryFiles>,
    /// Namespaces, OOM, LSM label, I/O priority and (when asked) the environment.
    pub security: SecurityFiles,
}

/// Reads one process for `show`. A TID is refused: `Tgid` must equal the PID.
pub fn read_detail(procfs: &ProcFs, pid: u32) -> Result<ProcessDetailFiles, NotAProcess> {
    read_detail_with(procfs, pid, false)
}

/// [`read_detail`], with the starting environment too when `environ` is set.
pub fn read_detail_with(
    procfs: &ProcFs,
    pid: u32,
    environ: bool,
) -> Result<ProcessDetailFiles, NotAProcess> {
    // One process: keeping its exact command line too costs nothing more to read.
    let needs =
        Needs::STAT | Needs::STATUS | Needs::RSS | Needs::RAW_CMDLINE | Needs::EXE | Needs::RUNTIME;
    let (dir, sample) = open_process(procfs, pid, needs)?;
    let kind = sample.kind();
    let read = |name: &str| dir.read(name).map_err(|why| explain(why, kind));
    let cwd = dir.readlink("cwd").map_err(|why| explain(why, kind));
    let exe_nlink = dir.stat_target("exe").ok().map(|(_, nlink)| nlink);
    let memory = (kind == TaskKind::Normal).then(|| read_memory(&dir, false));
    let rollup = match (&memory, kind) {
        (Some(memory), _) => memory.rollup,
        (None, TaskKind::KernelThread) => Err(Unavailable::KernelThread),
        (None, _) => Err(Unavailable::Zombie),
    };
    let limits = read("limits").map(|raw| parse_limits(&raw));
    let cgroup = read("cgroup");
    // A zombie's fd directory lists nothing: that is "no files", not "0 open files".
    let fds = match kind {
        TaskKind::Zombie => Err(Unavailable::Zombie),
        _ => read_fds(&dir).map_err(|why| explain(why, kind)),
    };
    let holds_sockets = fds
        .as_ref()
        .is_ok_and(|fds| fds.iter().any(|fd| fd.target.starts_with(b"socket:")));
    let sockets = (fds.as_ref().ok())
        .filter(|_| holds_sockets)
        .map(|entries| SocketTables::for_descriptors(&dir, entries));
    let thread_states = dir.numeric_entries("task").map(|tids| {
        scan(&tids, |tid| {
            let thread = ProcessSample::read_thread(&dir, tid, Needs::STAT)?;
            Ok(thread.stat().ok().map(|stat| stat.state))
        })
        .rows
    });
    let security = read_security(procfs, &dir, environ);
    Ok(ProcessDetailFiles {
        security,
        exe_nlink,
        cwd,
        rollup,
        limits,
        cgroup,
        thread_states,
        fds,
        sockets,
        memory,
        sample,
        dir,
    })
}

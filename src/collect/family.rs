//! The reads behind process families: the runtime facts of the processes that can have a
//! family role (children of a runtime process), cheaply: an executable the runtime cache
//! already knows no runtime claims costs one `stat`. Deriving the family is
//! `analyze::runtime::family`'s.

use std::collections::HashSet;

use crate::collect::runtime::known_without_runtime;
use crate::collect::scan::scan;
use crate::collect::tree::{ProcessNode, read_nodes};
use crate::collect::{Needs, ProcFs, ProcessSample};
use crate::model::Unavailable;
use crate::model::runtime::RuntimeProbe;

/// The runtime facts (executable facts, and the environment of processes a runtime probe
/// claims) of the processes of `nodes` that can have a role in a runtime's process family:
/// the children (kernel threads aside) of a parent a runtime probe claims (a cluster
/// worker's primary, a forked child's parent). Parents are probed once each, children
/// whatever their thread count (an interpreter may not have started a thread yet); an
/// executable the cache knows no runtime claims costs one `stat`.
pub fn read_runtimes(procfs: &ProcFs, nodes: &[ProcessNode]) -> Vec<ProcessSample> {
    let probes = procfs.runtimes();
    let mut parents: Vec<u32> = nodes
        .iter()
        .filter(|n| !n.kernel_thread)
        .map(|n| n.ppid)
        .collect();
    parents.sort_unstable();
    parents.dedup();
    let runtime_parents: HashSet<u32> = scan(&parents, |pid| {
        Ok(read_claimed(procfs, pid, probes)?.map(|_| pid))
    })
    .rows
    .into_iter()
    .collect();
    let children: Vec<u32> = nodes
        .iter()
        .filter(|n| !n.kernel_thread && runtime_parents.contains(&n.ppid))
        .map(|n| n.pid)
        .collect();
    scan(&children, |pid| read_claimed(procfs, pid, probes)).rows
}

/// The runtime facts of `pid` when a runtime probe claims its executable.
fn read_claimed(
    procfs: &ProcFs,
    pid: u32,
    probes: &[RuntimeProbe],
) -> Result<Option<ProcessSample>, Unavailable> {
    if !could_run_a_runtime(procfs, pid, probes) {
        return Ok(None);
    }
    let sample = ProcessSample::read(procfs, pid, Needs::STAT | Needs::RUNTIME)?;
    let claimed = sample
        .binary
        .as_ref()
        .is_some_and(|b| b.as_ref().is_some_and(|b| !b.runtimes.is_empty()));
    Ok(claimed.then_some(sample))
}

/// False when the executable of `pid` is one the cache already knows no runtime claims:
/// one `stat` of `PID/exe` (the executable's device and inode) instead of opening the
/// process. The PID may have been reused since it was listed; that only decides whether the
/// process is read, and what is read then goes through its directory handle.
fn could_run_a_runtime(procfs: &ProcFs, pid: u32, probes: &[RuntimeProbe]) -> bool {
    let Ok(stat) = rustix::fs::statat(
        procfs.handle(),
        format!("{pid}/exe"),
        rustix::fs::AtFlags::empty(),
    ) else {
        return false;
    };
    !known_without_runtime(stat.st_dev, stat.st_ino, probes)
}

/// The runtime facts of the children of `parents` (see [`read_runtimes`]): where the
/// workers of a cluster primary are found. Reads the parent links once.
pub fn read_children_runtimes(procfs: &ProcFs, parents: &[u32]) -> Vec<ProcessSample> {
    let Ok(nodes) = read_nodes(procfs) else {
        return Vec::new();
    };
    let children: Vec<ProcessNode> = nodes
        .into_iter()
        .filter(|n| parents.contains(&n.ppid))
        .collect();
    read_runtimes(procfs, &children)
}

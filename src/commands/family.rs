//! Shim while issue 14 merges: the family of a process is read by
//! `collect::family::read_runtimes` and derived by `analyze::runtime::family::Family`.
//! Nothing here reads or judges; commands call those two directly.

use std::collections::HashMap;

use crate::analyze::runtime::ClusterRole;
use crate::collect::ProcFs;
use crate::collect::tree::ProcessNode;

// moved (issue 14): re-export until merge
pub use crate::analyze::runtime::family::Family;

/// Reads the family of `nodes` (moved: `Family::of(&read_runtimes(procfs, nodes))`).
pub fn read(procfs: &ProcFs, nodes: &[ProcessNode]) -> Family {
    Family::of(&crate::collect::family::read_runtimes(procfs, nodes))
}

/// The cluster role of `pid` when it is a primary (moved: see [`primaries_among`]).
pub fn primary_role(procfs: &ProcFs, pid: u32) -> Option<ClusterRole> {
    primaries_among(procfs, &[pid]).remove(&pid)
}

/// Which of `pids` are cluster primaries, with their workers.
pub fn primaries_among(procfs: &ProcFs, pids: &[u32]) -> HashMap<u32, ClusterRole> {
    Family::of(&crate::collect::family::read_children_runtimes(
        procfs, pids,
    ))
    .primaries_among(pids)
}

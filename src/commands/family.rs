//! Runtime roles across processes: which processes are Node.js cluster workers (from their
//! environment) and which are their primaries, for `tree`, `ports` and `show`.

use std::collections::HashMap;

use crate::analyze::runtime::{ClusterRole, detect};
use crate::collect::scan::scan;
use crate::collect::tree::ProcessNode;
use crate::collect::{Needs, ProcFs, ProcessSample};

/// Cluster roles by PID, as labels (`cluster primary`, `cluster worker 2`).
#[derive(Debug, Default, Clone)]
pub struct Family {
    pub roles: HashMap<u32, ClusterRole>,
}

impl Family {
    /// Reads the runtime of every process that could run one (a runtime always starts
    /// helper threads, so single-threaded processes are skipped) and derives the primaries
    /// from their workers' parents.
    pub fn read(procfs: &ProcFs, nodes: &[ProcessNode]) -> Self {
        let candidates: Vec<u32> = nodes
            .iter()
            .filter(|n| n.threads >= 2 && !n.kernel_thread)
            .map(|n| n.pid)
            .collect();
        let found = scan(&candidates, |pid| {
            let sample =
                ProcessSample::read(procfs, pid, Needs::STAT | Needs::EXE | Needs::RUNTIME)?;
            Ok(detect(&sample.runtime_facts())
                .and_then(|(_, info)| info.cluster)
                .map(|role| (pid, role)))
        });
        let mut roles: HashMap<u32, ClusterRole> = found.rows.into_iter().collect();
        let workers: Vec<(u32, u32)> = roles
            .iter()
            .filter_map(|(&pid, role)| match role {
                ClusterRole::Worker { primary, .. } => Some((pid, *primary)),
                _ => None,
            })
            .collect();
        for (primary, workers) in crate::analyze::runtime::node::primaries(&workers) {
            roles.insert(primary, ClusterRole::Primary { workers });
        }
        Self { roles }
    }

    /// `cluster primary`, `cluster worker N` or `forked child`.
    pub fn label(&self, pid: u32) -> Option<String> {
        self.roles.get(&pid).map(ClusterRole::label)
    }
}

/// The cluster role of `pid` when it is a primary: its workers are the children whose
/// environment names it (a primary itself carries no mark).
pub fn primary_role(procfs: &ProcFs, pid: u32) -> Option<ClusterRole> {
    primaries_among(procfs, &[pid]).remove(&pid)
}

/// Which of `pids` are cluster primaries, with their workers. Reads the parent links once
/// and the runtime of those processes' children only.
pub fn primaries_among(procfs: &ProcFs, pids: &[u32]) -> HashMap<u32, ClusterRole> {
    let Ok(nodes) = crate::collect::tree::read_nodes(procfs) else {
        return HashMap::new();
    };
    let children: Vec<ProcessNode> = nodes
        .into_iter()
        .filter(|n| pids.contains(&n.ppid))
        .collect();
    let mut workers: HashMap<u32, Vec<u32>> = HashMap::new();
    for (&worker, role) in &Family::read(procfs, &children).roles {
        if let ClusterRole::Worker { primary, .. } = role
            && pids.contains(primary)
        {
            workers.entry(*primary).or_default().push(worker);
        }
    }
    workers
        .into_iter()
        .map(|(primary, mut workers)| {
            workers.sort_unstable();
            (primary, ClusterRole::Primary { workers })
        })
        .collect()
}

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

    /// `cluster primary` or `cluster worker N`.
    pub fn label(&self, pid: u32) -> Option<String> {
        match self.roles.get(&pid)? {
            ClusterRole::Primary { .. } => Some("cluster primary".into()),
            ClusterRole::Worker { id, .. } => Some(format!("cluster worker {id}")),
            ClusterRole::ForkedChild { .. } => Some("forked child".into()),
        }
    }
}

//! Process families across runtimes: from each process's own role (a cluster worker names
//! its primary in its environment), the primaries with their workers. Pure: the processes'
//! runtimes are read by `collect::runtime` and detected by [`super::detect`].

use std::collections::{BTreeMap, HashMap};

use super::{ClusterRole, detect};
use crate::collect::ProcessSample;

/// Cluster roles by PID, the primaries included.
#[derive(Debug, Default, Clone)]
pub struct Family {
    pub roles: HashMap<u32, ClusterRole>,
}

impl Family {
    /// The family of the processes read by `collect::family::read_runtimes`.
    pub fn of(samples: &[ProcessSample]) -> Self {
        Self::from_roles(samples.iter().filter_map(|sample| {
            let (_, info) = detect(&sample.runtime_facts())?;
            Some((sample.pid, info.cluster?))
        }))
    }

    /// The family of processes whose own roles are `roles` (workers and forked children):
    /// every parent named by a worker becomes a primary with its workers.
    pub fn from_roles(roles: impl IntoIterator<Item = (u32, ClusterRole)>) -> Self {
        let mut roles: HashMap<u32, ClusterRole> = roles.into_iter().collect();
        let workers: Vec<(u32, u32)> = roles
            .iter()
            .filter_map(|(&pid, role)| match role {
                ClusterRole::Worker { primary, .. } => Some((pid, *primary)),
                _ => None,
            })
            .collect();
        for (primary, workers) in primaries(&workers) {
            roles.insert(primary, ClusterRole::Primary { workers });
        }
        Self { roles }
    }

    /// `cluster primary`, `cluster worker N` or `forked child`.
    pub fn label(&self, pid: u32) -> Option<String> {
        self.roles.get(&pid).map(ClusterRole::label)
    }

    /// The primaries among `pids`, with their workers.
    pub fn primaries_among(&self, pids: &[u32]) -> HashMap<u32, ClusterRole> {
        self.roles
            .iter()
            .filter(|(pid, role)| pids.contains(pid) && matches!(role, ClusterRole::Primary { .. }))
            .map(|(&pid, role)| (pid, role.clone()))
            .collect()
    }
}

/// Cluster primaries: each process whose children include cluster workers, with them
/// (ascending).
pub fn primaries(workers: &[(u32, u32)]) -> BTreeMap<u32, Vec<u32>> {
    let mut primaries: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for &(worker, primary) in workers {
        primaries.entry(primary).or_default().push(worker);
    }
    for list in primaries.values_mut() {
        list.sort_unstable();
    }
    primaries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_make_their_parent_a_primary() {
        assert_eq!(
            primaries(&[(11, 5), (10, 5)]),
            BTreeMap::from([(5, vec![10, 11])])
        );
        let family = Family::from_roles([
            (11, ClusterRole::Worker { id: 2, primary: 5 }),
            (10, ClusterRole::Worker { id: 1, primary: 5 }),
            (20, ClusterRole::ForkedChild { parent: 3 }),
        ]);
        assert_eq!(family.label(5).as_deref(), Some("cluster primary"));
        assert_eq!(family.label(11).as_deref(), Some("cluster worker 2"));
        assert_eq!(family.label(20).as_deref(), Some("forked child"));
        assert_eq!(family.label(3), None);
        assert_eq!(
            family.primaries_among(&[5, 11]),
            HashMap::from([(
                5,
                ClusterRole::Primary {
                    workers: vec![10, 11]
                }
            )])
        );
    }
}

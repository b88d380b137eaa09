//! Evaluating a [`ProcessFilter`] over a read process: which processes a listing keeps.
//! Pure: works on what was collected, never reads /proc itself.

use crate::analyze::placement::placement;
use crate::collect::ProcessSample;
use crate::parse::cgroup::parse_cgroup;
use crate::query::filter::{ProcessFilter, path_within, unit_matches};

// The trait is declared next to the listing readers that call it (collect may not import
// analyze); its one implementation is here.
pub use crate::collect::listing::FilterProcess;

impl FilterProcess for ProcessFilter {
    fn keeps(&self, process: &ProcessSample) -> bool {
        // A PID named on the command line may be a thread's ID, which is no process.
        let thread_id = !self.pids.is_empty() && process.other_thread_group().is_some();
        if self.rejects_pid(process.pid) || thread_id {
            return false;
        }
        let stat = process.stat().ok();
        if !self.ppids.is_empty() && !stat.is_some_and(|s| self.ppids.contains(&s.ppid)) {
            return false;
        }
        if !self.states.is_empty() && !stat.is_some_and(|s| self.states.contains(&s.state)) {
            return false;
        }
        if !self.uids.is_empty() && !process.euid().is_ok_and(|uid| self.uids.contains(&uid)) {
            return false;
        }
        if let Some(wanted) = &self.runtime {
            let detected = crate::analyze::runtime::detect(&process.runtime_facts());
            if detected.is_none_or(|(_, info)| &info.runtime != wanted) {
                return false;
            }
        }
        if !keeps_placement(self, process) {
            return false;
        }
        if let Some(matcher) = &self.matcher {
            let name = process.name().unwrap_or_default();
            let argv = process.cmdline().map(Vec::as_slice).unwrap_or_default();
            return matcher.matches(&name, argv);
        }
        true
    }
}

/// True when the process's cgroup lines meet the unit, container and cgroup conditions.
fn keeps_placement(filter: &ProcessFilter, process: &ProcessSample) -> bool {
    if !filter.selects_by_cgroup() {
        return true;
    }
    let Ok(raw) = process.cgroup() else {
        return false;
    };
    let lines = parse_cgroup(raw);
    let place = placement(&lines);
    let unit_ok = filter.units.is_empty()
        || place
            .unit
            .as_deref()
            .is_some_and(|unit| filter.units.iter().any(|u| unit_matches(unit, u)));
    let container_ok = filter.containers.is_empty()
        || place
            .container
            .as_ref()
            .is_some_and(|c| filter.containers.iter().any(|wanted| c.matches(wanted)));
    let cgroup_ok = filter.cgroups.is_empty()
        || lines.iter().any(|line| {
            filter
                .cgroups
                .iter()
                .any(|wanted| path_within(&line.path, wanted))
        });
    unit_ok && container_ok && cgroup_ok
}

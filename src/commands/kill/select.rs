//! Selecting the targets of `kill`: candidates by PID, port, matcher or tree, each bound to
//! its pidfd while it is selected (see `crate::signal`), the user's criteria re-checked on
//! what was read after the binding, and the dangerous ones refused. Signals nothing.

use std::collections::HashSet;

use crate::analyze::filter::FilterProcess;
use crate::analyze::tree::Forest;
use crate::collect::holders::holds_socket;
use crate::collect::port_holders::listeners_on;
use crate::collect::tree::read_nodes;
use crate::collect::{Needs, ProcFs, ProcessSample, TaskKind};
use crate::exit::{self, Exit};
use crate::query::ProcessFilter;
use crate::signal::{Pidfd, SendError, bind, fdinfo_pid};

use super::KillQuery;

/// What was read about a target after its pidfd was opened.
#[derive(Debug, Clone)]
pub(super) struct Identity {
    pub name: Vec<u8>,
    pub argv: Vec<Vec<u8>>,
    pub ppid: u32,
    /// Start time in clock ticks since boot (with the PID, the process's identity).
    pub start_ticks: u64,
    pub zombie: bool,
    pub kernel_thread: bool,
}

/// One target after selection.
pub(super) struct Selected {
    pub pid: u32,
    /// The network namespace of the socket it was selected by.
    pub netns: Option<u64>,
    pub identity: Option<Identity>,
    pub choice: Choice,
}

/// What selection decided about a target.
pub(super) enum Choice {
    /// Bound: signals go through this pidfd.
    Bound(Pidfd),
    /// Not signalled on purpose.
    Refused(String),
    /// The PID named no process (or its process exited while it was being selected).
    Missing,
    /// Exited but not reaped by its parent: nothing to signal.
    Zombie,
}

impl Selected {
    /// True when the target will be (or would be) signalled.
    pub fn is_bound(&self) -> bool {
        matches!(self.choice, Choice::Bound(_))
    }
}

/// How a candidate was found, and what must still hold once it is bound.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// Named on the command line: whatever holds the PID is the target.
    Explicit,
    /// Holds this socket inode (in this network namespace).
    Port { inode: u64, netns: Option<u64> },
    /// Matches the query's matcher and unit.
    Matched,
    /// A child of this (bound) parent.
    Child(u32),
}

/// procscope itself and every ancestor up to PID 1, with names, never signalled unless named
/// explicitly with `--force`.
struct Protected {
    me: u32,
    ancestors: Vec<(u32, String)>,
}

impl Protected {
    fn read(procfs: &ProcFs) -> Self {
        let me = std::process::id();
        let mut ancestors = Vec::new();
        let mut current = me;
        // A chain longer than this is a cycle in a broken tree; pid_max bounds a real one.
        for _ in 0..4096 {
            let Some(stat) = ProcessSample::read(procfs, current, Needs::STAT)
                .ok()
                .and_then(|s| s.stat().ok().cloned())
            else {
                break;
            };
            if stat.ppid == 0 {
                break;
            }
            let parent = ProcessSample::read(procfs, stat.ppid, Needs::STAT)
                .ok()
                .and_then(|s| s.name().ok())
                .unwrap_or_default();
            let name = String::from_utf8_lossy(&parent).into_owned();
            ancestors.push((stat.ppid, name));
            current = stat.ppid;
        }
        Self { me, ancestors }
    }

    /// Why `pid` is refused, if it is; `explicit_force` lifts the refusal.
    fn refusal(&self, pid: u32, force: bool, explicit: bool) -> Option<String> {
        let lifted = force && explicit;
        if pid == 1 {
            return (!lifted).then(|| {
                if force {
                    "PID 1 (init) is signalled only when named explicitly with --force".to_owned()
                } else {
                    "PID 1 (init) is never signalled without --force".to_owned()
                }
            });
        }
        if lifted {
            return None;
        }
        if pid == self.me {
            return Some("procscope itself".to_owned());
        }
        self.ancestors
            .iter()
            .find(|(ancestor, _)| *ancestor == pid)
            .map(|(_, name)| format!("procscope's ancestor {name} (PID {pid})"))
    }
}

/// Every target in signalling order (children before parents with `--tree`).
pub(super) fn select(query: &KillQuery, procfs: &ProcFs) -> anyhow::Result<Vec<Selected>> {
    let protected = Protected::read(procfs);
    let mut selected = Vec::new();
    let mut seen = HashSet::new();
    for (pid, source) in candidates(query, procfs, &mut selected)? {
        if !seen.insert(pid) {
            continue;
        }
        let chosen = choose(query, procfs, &protected, pid, source, None)?;
        // A matched holder or name that exited (or changed) before its binding is simply no
        // longer selected; a PID the user named is reported.
        if !matches!(chosen.choice, Choice::Missing) || matches!(source, Source::Explicit) {
            selected.push(chosen);
        }
    }
    if query.tree {
        selected = expand_trees(query, procfs, &protected, selected, &mut seen)?;
    }
    Ok(selected)
}

/// The candidates before binding. Thread IDs given as PIDs are refused into `selected` (or,
/// with `--force`, replaced by their process).
fn candidates(
    query: &KillQuery,
    procfs: &ProcFs,
    selected: &mut Vec<Selected>,
) -> anyhow::Result<Vec<(u32, Source)>> {
    let mut found = Vec::new();
    for &pid in &query.pids {
        match thread_group(procfs, pid) {
            Some(tgid) if tgid != pid && query.force => found.push((tgid, Source::Explicit)),
            Some(tgid) if tgid != pid => selected.push(Selected {
                pid,
                netns: None,
                identity: None,
                choice: Choice::Refused(format!(
                    "PID {pid} is a thread of process {tgid}, not a process"
                )),
            }),
            _ => found.push((pid, Source::Explicit)),
        }
    }
    if let Some(port) = query.port {
        found.extend(port_holders(query, port, procfs)?);
    }
    if let Some(filter) = matcher_filter(query) {
        for pid in procfs.pids().unwrap_or_default() {
            if filter.rejects_pid(pid) {
                continue;
            }
            if ProcessSample::read(procfs, pid, filter.needs()).is_ok_and(|s| filter.keeps(&s)) {
                found.push((pid, Source::Matched));
            }
        }
    }
    Ok(found)
}

/// The matcher and unit as a filter, leaving procscope out (its argv holds the pattern), as
/// `ps` does; `None` when neither was given.
fn matcher_filter(query: &KillQuery) -> Option<ProcessFilter> {
    if query.matcher.is_none() && query.unit.is_none() {
        return None;
    }
    Some(ProcessFilter {
        matcher: query.matcher.clone(),
        exclude: Some(std::process::id()),
        units: query.unit.iter().cloned().collect(),
        ..ProcessFilter::default()
    })
}

/// The holders of listeners on `port`: in procscope's own network namespace, or in every
/// one with `--all-netns`.
fn port_holders(
    query: &KillQuery,
    port: u16,
    procfs: &ProcFs,
) -> anyhow::Result<Vec<(u32, Source)>> {
    let found = listeners_on(procfs, port)?;
    let own = found.own_netns;
    if own.is_none() && !query.all_netns {
        return Err(exit::Failure {
            exit: Exit::Fatal,
            message: "cannot read procscope's own network namespace: use --all-netns to select holders in every namespace".into(),
        }
        .into());
    }
    let mut holders = Vec::new();
    let mut elsewhere = 0;
    for listener in &found.listeners {
        if !query.all_netns && listener.netns != own {
            elsewhere += listener.pids.len();
            continue;
        }
        let source = Source::Port {
            inode: listener.inode,
            netns: listener.netns,
        };
        holders.extend(listener.pids.iter().map(|&pid| (pid, source)));
    }
    if holders.is_empty() {
        let hint = if elsewhere > 0 {
            format!(" in this network namespace ({elsewhere} holder(s) in others: --all-netns)")
        } else {
            " (or its holder cannot be read)".to_owned()
        };
        return Err(exit::target(format!(
            "nothing listens on port {port}{hint}"
        )));
    }
    Ok(holders)
}

/// Binds one candidate and decides about it. `parent` is the bound parent of a tree member.
fn choose(
    query: &KillQuery,
    procfs: &ProcFs,
    protected: &Protected,
    pid: u32,
    source: Source,
    parent: Option<&Pidfd>,
) -> anyhow::Result<Selected> {
    let explicit = matches!(source, Source::Explicit);
    let netns = match source {
        Source::Port { netns, .. } => netns,
        _ => None,
    };
    let mut target = Selected {
        pid,
        netns,
        identity: None,
        choice: Choice::Missing,
    };
    if let Some(reason) = protected.refusal(pid, query.force, explicit) {
        target.identity = read_identity(procfs, pid);
        target.choice = Choice::Refused(reason);
        return Ok(target);
    }
    let needs =
        Needs::STAT | Needs::CMDLINE | matcher_filter(query).map_or(Needs::NONE, |f| f.needs());
    let read = || {
        let sample = ProcessSample::read(procfs, pid, needs).ok()?;
        let holds = match source {
            Source::Port { inode, .. } => holds_socket(procfs, pid, inode),
            _ => true,
        };
        Some((sample, holds))
    };
    let fdinfo = |fd: i32| fdinfo_pid(&procfs.read(&format!("self/fdinfo/{fd}")).ok()?);
    let (pidfd, (sample, holds)) = match bind(pid, read, fdinfo) {
        Ok(bound) => bound,
        Err(SendError::Mismatch(seen)) => return Err(mismatch(pid, seen)),
        Err(_) => return Ok(target),
    };
    let identity = identity_of(&sample);
    // The criteria, checked on what was read after the binding: a process that no longer
    // meets them is not the one selected.
    let still_selected = match source {
        Source::Explicit => true,
        Source::Port { .. } => holds,
        Source::Matched => matcher_filter(query).is_some_and(|f| f.keeps(&sample)),
        Source::Child(ppid) => {
            identity.as_ref().is_some_and(|i| i.ppid == ppid)
                && parent.is_some_and(|p| p.not_reaped().is_ok())
        }
    };
    if !still_selected || identity.is_none() {
        return Ok(target);
    }
    target.choice = match &identity {
        Some(i) if i.kernel_thread && !query.force => Choice::Refused(
            "a kernel thread; signals do not stop it (use --force to try anyway)".to_owned(),
        ),
        Some(i) if i.zombie => Choice::Zombie,
        _ => Choice::Bound(pidfd),
    };
    target.identity = identity;
    Ok(target)
}

/// The fatal error when the kernel's PID for a pidfd is not the selected one.
fn mismatch(pid: u32, seen: Option<i64>) -> anyhow::Error {
    let seen = seen.map_or_else(|| "an unreadable PID".to_owned(), |p| format!("PID {p}"));
    exit::Failure {
        exit: Exit::Fatal,
        message: format!(
            "refusing to signal: the pidfd opened for PID {pid} names {seen} in /proc/self/fdinfo (another PID namespace?)"
        ),
    }
    .into()
}

fn identity_of(sample: &ProcessSample) -> Option<Identity> {
    let stat = sample.stat().ok()?;
    Some(Identity {
        name: stat.comm.clone(),
        argv: sample.cmdline().cloned().unwrap_or_default(),
        ppid: stat.ppid,
        start_ticks: stat.starttime_ticks,
        zombie: sample.kind() == TaskKind::Zombie,
        kernel_thread: sample.kind() == TaskKind::KernelThread,
    })
}

/// The identity of a process that will not be signalled, for display only.
fn read_identity(procfs: &ProcFs, pid: u32) -> Option<Identity> {
    identity_of(&ProcessSample::read(procfs, pid, Needs::STAT | Needs::CMDLINE).ok()?)
}

/// Adds every descendant of each bound target, each bound in turn and checked to be the
/// child of its bound parent; returns the targets with children before parents.
fn expand_trees(
    query: &KillQuery,
    procfs: &ProcFs,
    protected: &Protected,
    roots: Vec<Selected>,
    seen: &mut HashSet<u32>,
) -> anyhow::Result<Vec<Selected>> {
    let nodes = read_nodes(procfs)?;
    let forest = Forest::new(nodes.iter().map(|n| (n.pid, n.ppid)));
    let mut ordered = Vec::new();
    for root in roots {
        if !root.is_bound() {
            ordered.push(root);
            continue;
        }
        // Parents are bound before their children (breadth first) ...
        let mut family = vec![root];
        let mut next = 0;
        while next < family.len() {
            let (parent_pid, parent_fd) = match &family[next].choice {
                Choice::Bound(fd) => (family[next].pid, Some(fd)),
                _ => (family[next].pid, None),
            };
            let mut children = Vec::new();
            if let Some(parent_fd) = parent_fd {
                for &child in forest.children(parent_pid) {
                    if seen.insert(child) {
                        let source = Source::Child(parent_pid);
                        let chosen =
                            choose(query, procfs, protected, child, source, Some(parent_fd))?;
                        if !matches!(chosen.choice, Choice::Missing) {
                            children.push(chosen);
                        }
                    }
                }
            }
            family.extend(children);
            next += 1;
        }
        // ... and signalled after them (deepest first).
        let order = forest.descendants_children_first(family[0].pid);
        family.sort_by_key(|member| order.iter().position(|&p| p == member.pid));
        ordered.extend(family);
    }
    Ok(ordered)
}

/// The thread group of `pid` (itself for a process), if it exists.
fn thread_group(procfs: &ProcFs, pid: u32) -> Option<u32> {
    let sample = ProcessSample::read(procfs, pid, Needs::STATUS).ok()?;
    let tgid = sample.status().ok()?.number("Tgid")?;
    u32::try_from(tgid).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protected() -> Protected {
        Protected {
            me: 500,
            ancestors: vec![
                (400, "timeout".into()),
                (300, "bash".into()),
                (1, "init".into()),
            ],
        }
    }

    #[test]
    fn init_needs_force_and_its_pid() {
        let p = protected();
        assert!(
            p.refusal(1, false, true)
                .unwrap()
                .contains("without --force")
        );
        assert!(
            p.refusal(1, true, false)
                .unwrap()
                .contains("named explicitly")
        );
        assert_eq!(p.refusal(1, true, true), None);
    }

    #[test]
    fn every_ancestor_is_named() {
        let p = protected();
        assert_eq!(
            p.refusal(400, false, true).unwrap(),
            "procscope's ancestor timeout (PID 400)"
        );
        assert_eq!(
            p.refusal(300, true, false).unwrap(),
            "procscope's ancestor bash (PID 300)"
        );
        assert_eq!(p.refusal(300, true, true), None);
        assert_eq!(p.refusal(500, false, true).unwrap(), "procscope itself");
        assert_eq!(p.refusal(600, false, false), None);
    }
}

//! The validated `kill` request: what to select (PIDs, port, name or pattern, unit, tree),
//! which signal, and how to wait, escalate and confirm. Validation only; selecting is
//! `commands::kill`'s job.

use std::time::Duration;

use crate::query::matcher::Matcher;
use crate::query::signal::SignalChoice;

/// The validated request.
#[derive(Debug, Clone)]
pub struct KillQuery {
    pub pids: Vec<u32>,
    pub port: Option<u16>,
    /// With `port`: holders in every network namespace, not only procscope's own.
    pub all_netns: bool,
    /// `--name` (exact name) or `--pattern` (regex over name and command line), the same
    /// matcher `ps` uses.
    pub matcher: Option<Matcher>,
    /// `--unit`: the processes of this systemd unit (with a matcher: those that match).
    pub unit: Option<String>,
    pub tree: bool,
    pub signal: SignalChoice,
    pub wait: bool,
    pub timeout: Option<Duration>,
    pub escalate: bool,
    pub force: bool,
    pub dry_run: bool,
    pub yes: bool,
}

/// The matcher of `--name` (the exact process name) or `--pattern` (a regex over name and
/// command line); `--name` wins when both are given.
pub fn kill_matcher(name: Option<&str>, pattern: Option<&str>) -> Result<Option<Matcher>, String> {
    match (name, pattern) {
        (Some(name), _) => Some(Matcher::new(name, true, false)),
        (None, Some(pattern)) => Some(Matcher::new(pattern, false, true)),
        (None, None) => None,
    }
    .transpose()
}

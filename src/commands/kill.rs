//! `procscope kill TARGET...`: select processes by PID, port, name, pattern or tree, each
//! bound to its pidfd while it is selected; refuse the dangerous ones; (the caller confirms;) signal and
//! wait through the pidfds only; optionally escalate to SIGKILL. Fails closed when the proc
//! tree's PIDs may not be the caller's.

mod select;

use std::time::{Duration, Instant};

use crate::collect::procfs::PidView;
use crate::collect::{ProcFs, SystemInfo};
use crate::exit::{self, Exit};
use crate::model::kill::{KillOutcome, KillPayload, KillResult};
use crate::model::text::{lossless, lossless_list};
use crate::query::signal::SignalChoice;
use crate::signal::{Pidfd, SendError, wait_all};

use crate::model::report::KillReport;
use crate::query::kill::KillQuery;
use select::{Choice, Selected, select};

/// How long to wait for a process to die after SIGKILL.
const AFTER_KILL: Duration = Duration::from_secs(5);

impl KillQuery {
    /// Selection by something other than explicit PIDs asks for confirmation (unless
    /// `--yes` or `--dry-run`).
    pub fn needs_confirmation(&self) -> bool {
        self.port.is_some() || self.matcher.is_some() || self.unit.is_some() || self.tree
    }

    /// True when the run waits for the targets to exit.
    fn waits(&self) -> bool {
        self.wait || self.timeout.is_some()
    }
}

/// The targets of a query, each bound to its pidfd (or refused), nothing signalled yet.
pub struct Prepared {
    selected: Vec<Selected>,
}

/// A prepared target as a caller that confirms by itself (the live view) shows it.
#[derive(Debug, Clone)]
pub struct PreparedTarget {
    pub pid: u32,
    pub name: Option<Vec<u8>>,
    pub argv: Vec<Vec<u8>>,
    /// Start time (clock ticks since boot) read after the binding.
    pub start_ticks: Option<u64>,
    /// Bound: a signal would go through its pidfd.
    pub bound: bool,
    /// Why it is not signalled (refused, zombie, gone).
    pub refusal: Option<String>,
}

impl Prepared {
    /// Every target, as bound or refused.
    pub fn targets(&self) -> Vec<PreparedTarget> {
        self.selected
            .iter()
            .map(|target| {
                let identity = target.identity.as_ref();
                PreparedTarget {
                    pid: target.pid,
                    name: identity.map(|i| i.name.clone()),
                    argv: identity.map(|i| i.argv.clone()).unwrap_or_default(),
                    start_ticks: identity.map(|i| i.start_ticks),
                    bound: target.is_bound(),
                    refusal: match &target.choice {
                        Choice::Bound(_) => None,
                        Choice::Refused(reason) => Some(reason.clone()),
                        Choice::Missing => Some("no such process (it exited)".into()),
                        Choice::Zombie => Some("a zombie: it has exited already".into()),
                    },
                }
            })
            .collect()
    }
}

/// Checks that the proc tree's PIDs are ours and selects (binds or refuses) every target,
/// nothing signalled yet; exit 1 when nothing matched. The caller confirms when
/// [`KillQuery::needs_confirmation`] says so, then calls [`finish`].
pub fn prepare(
    query: &KillQuery,
    procfs: &ProcFs,
    system: &SystemInfo,
) -> anyhow::Result<Prepared> {
    match procfs.pid_view() {
        PidView::Live => {}
        PidView::Elsewhere(why) | PidView::Foreign(why) => {
            return Err(exit::Failure {
                exit: Exit::Fatal,
                message: format!(
                    "refusing to signal: {why}, so its PIDs may not be the caller's (nothing signalled)"
                ),
            }
            .into());
        }
    }
    for &pid in &query.pids {
        crate::query::pid::check_pid_max(pid, system.pid_max).map_err(exit::usage)?;
    }
    let selected = select(query, procfs)?;
    if selected.is_empty() {
        return Err(exit::target("nothing to signal: no process matched"));
    }
    Ok(Prepared { selected })
}

/// Signals (and waits for) the bound targets of a prepared query through their pidfds: the
/// second half, after [`prepare`].
pub fn finish(prepared: Prepared, query: &KillQuery) -> KillReport {
    if let Some(pause) = test_pause() {
        std::thread::sleep(pause);
    }
    let selected = prepared.selected;
    let mut results = Vec::with_capacity(selected.len());
    let mut sent: Vec<(usize, &Pidfd, Instant)> = Vec::new();
    for target in &selected {
        let mut result = base_result(target, query.signal);
        if let Choice::Bound(pidfd) = &target.choice
            && let Some(at) = signal_one(query, pidfd, &mut result)
        {
            sent.push((results.len(), pidfd, at));
        }
        results.push(result);
    }
    if query.waits() && !sent.is_empty() {
        wait_and_escalate(query, &sent, &mut results);
    }
    KillReport {
        payload: KillPayload { results },
        waited: query.waits(),
    }
}

/// The result of a target as selected (refused, missing, zombie; bound ones are filled in
/// by [`signal_one`]).
fn base_result(target: &Selected, signal: SignalChoice) -> KillResult {
    let identity = target.identity.as_ref();
    let (argv, argv_b64) = identity.map_or((None, None), |i| {
        let (texts, exact) = lossless_list(&i.argv);
        (Some(texts), exact)
    });
    let mut result = KillResult {
        pid: target.pid,
        name: identity.map(|i| lossless(&i.name).0),
        argv,
        argv_b64,
        netns: target.netns,
        signal: signal.full_name(),
        result: KillOutcome::AlreadyGone,
        reason: None,
        parent_pid: None,
        exit_seconds: None,
    };
    match &target.choice {
        Choice::Refused(reason) => {
            result.result = KillOutcome::Refused;
            result.reason = Some(reason.clone());
        }
        Choice::Zombie => {
            let parent = identity.map(|i| i.ppid);
            result.result = KillOutcome::Zombie;
            result.parent_pid = parent;
            result.reason = parent.map(|p| format!("not reaped by its parent PID {p}"));
        }
        Choice::Missing | Choice::Bound(_) => {}
    }
    result
}

/// Signals one bound target (or, with `--dry-run`, does not). Returns when the signal was
/// sent.
fn signal_one(query: &KillQuery, pidfd: &Pidfd, result: &mut KillResult) -> Option<Instant> {
    if query.dry_run {
        result.result = KillOutcome::WouldSignal;
        return None;
    }
    match pidfd.send(query.signal) {
        Ok(()) => {
            result.result = KillOutcome::Signalled;
            return Some(Instant::now());
        }
        Err(SendError::Exited) if query.waits() || query.tree => {
            result.result = KillOutcome::Exited;
            result.reason = Some("exited on its own before its signal".into());
        }
        Err(SendError::Exited) => {
            result.result = KillOutcome::Gone;
            result.reason = Some(
                "exited before its signal: nothing was sent (its PID, if reused, was not signalled)"
                    .into(),
            );
        }
        Err(SendError::PermissionDenied) => result.result = KillOutcome::PermissionDenied,
        Err(SendError::Failed(errno)) => {
            result.result = KillOutcome::Failed;
            result.reason = Some(std::io::Error::from_raw_os_error(errno).to_string());
        }
        Err(SendError::Mismatch(_)) => {
            result.result = KillOutcome::Failed;
            result.reason = Some("its pidfd names another PID".into());
        }
    }
    None
}

/// Waits for the signalled targets, each timed from its own signal to its own exit; with
/// `--escalate`, sends SIGKILL to those still running at the timeout.
fn wait_and_escalate(
    query: &KillQuery,
    sent: &[(usize, &Pidfd, Instant)],
    results: &mut [KillResult],
) {
    let deadline = query.timeout.map(|t| Instant::now() + t);
    let targets: Vec<&Pidfd> = sent.iter().map(|(_, t, _)| *t).collect();
    let waited = wait_all(&targets, deadline);
    let mut survivors = Vec::new();
    for (&(slot, target, at), exit) in sent.iter().zip(waited) {
        let result = &mut results[slot];
        match exit {
            Some(exited_at) => {
                result.result = KillOutcome::Exited;
                result.exit_seconds = Some(seconds_between(at, exited_at));
            }
            None if query.escalate => match target.send(SignalChoice::KILL) {
                Ok(()) => survivors.push((slot, target, at)),
                Err(_) => result.result = KillOutcome::Exited,
            },
            None => {
                result.result = KillOutcome::StillRunning;
                result.reason = Some(format!(
                    "did not exit within {:?}",
                    query.timeout.unwrap_or_default()
                ));
            }
        }
    }
    if survivors.is_empty() {
        return;
    }
    let targets: Vec<&Pidfd> = survivors.iter().map(|(_, t, _)| *t).collect();
    let waited = wait_all(&targets, Some(Instant::now() + AFTER_KILL));
    for ((slot, _, at), exit) in survivors.iter().zip(waited) {
        let result = &mut results[*slot];
        result.signal = format!("{} then SIGKILL", result.signal);
        match exit {
            Some(exited_at) => {
                result.result = KillOutcome::Escalated;
                result.exit_seconds = Some(seconds_between(*at, exited_at));
            }
            None => {
                result.result = KillOutcome::StillRunning;
                result.reason = Some("survived SIGKILL (uninterruptible sleep?)".into());
            }
        }
    }
}

/// Seconds from `from` to `to`, to the millisecond.
fn seconds_between(from: Instant, to: Instant) -> f64 {
    (to.saturating_duration_since(from).as_secs_f64() * 1000.0).round() / 1000.0
}

/// A test hook, compiled only with the `test-hooks` feature (which the test suite enables):
/// `PROCSCOPE_TEST_PAUSE_MS` pauses between selecting (and binding) the targets and
/// signalling them, so a test can force the reuse of a selected PID in that window.
#[cfg(feature = "test-hooks")]
fn test_pause() -> Option<Duration> {
    let ms: u64 = std::env::var("PROCSCOPE_TEST_PAUSE_MS")
        .ok()?
        .parse()
        .ok()?;
    Some(Duration::from_millis(ms.min(60_000)))
}

/// Release builds have no test hooks.
#[cfg(not(feature = "test-hooks"))]
fn test_pause() -> Option<Duration> {
    None
}

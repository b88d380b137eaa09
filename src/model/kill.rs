//! The `kill` payload: what happened to each target. Types only; no decisions here.

use schemars::JsonSchema;
use serde::Serialize;

/// What happened to one target. The wire strings are snake_case, like every enum of the
/// JSON contract (`still_running`, `permission_denied`), and the table shows the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KillOutcome {
    /// The signal was sent (and no wait was asked for).
    Signalled,
    /// It exited: after its signal (`exit_seconds` set), or on its own before its signal
    /// was due (with `--wait` or `--tree`; `exit_seconds` null).
    Exited,
    /// It exited only after the SIGKILL that followed the timeout.
    Escalated,
    /// Still running when the wait ended.
    StillRunning,
    /// The PID named no process when it was selected.
    AlreadyGone,
    /// The selected process exited before its signal (without `--wait`/`--tree`): nothing
    /// was sent, so its PID, if reused, was not signalled.
    Gone,
    PermissionDenied,
    /// Not signalled on purpose; `reason` says why.
    Refused,
    /// `--dry-run`: would be signalled.
    WouldSignal,
    /// The kernel refused the signal for another reason (`reason`).
    Failed,
    /// Already exited but not reaped by its parent (`parent_pid`): a signal cannot change
    /// it. Counts as done only with `--wait`.
    Zombie,
}

/// The outcome for one target.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct KillResult {
    pub pid: u32,
    pub name: Option<String>,
    /// The command line when it was selected (empty for kernel threads and zombies).
    pub argv: Option<Vec<String>>,
    /// The exact bytes (base64) of each argument, when one is not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argv_b64: Option<Vec<String>>,
    /// The network namespace (inode) of the socket it was selected by (`--port`).
    pub netns: Option<u64>,
    /// `SIGTERM`, `SIGKILL`...
    pub signal: String,
    pub result: KillOutcome,
    /// Why a target was refused, failed, or is in its state.
    pub reason: Option<String>,
    /// For a zombie: the parent that has not reaped it.
    pub parent_pid: Option<u32>,
    /// With `--wait`: seconds from this target's signal to its own exit.
    pub exit_seconds: Option<f64>,
}

/// The `kill` payload.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct KillPayload {
    pub results: Vec<KillResult>,
}

impl KillOutcome {
    /// The outcome as it appears in JSON and tables (`still_running`).
    pub fn wire_name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

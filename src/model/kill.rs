//! The `kill` payload: what happened to each target.

use schemars::JsonSchema;
use serde::Serialize;

/// The outcome for one target.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct KillResult {
    pub pid: u32,
    pub name: Option<String>,
    /// `SIGTERM`, `SIGKILL`...
    pub signal: String,
    /// signalled, exited, escalated, still-running, already-gone, gone (the PID now names
    /// another process: not signalled), permission-denied, refused, would-signal, failed.
    pub result: String,
    /// Why a target was refused or failed.
    pub reason: Option<String>,
    /// With `--wait`: seconds from the signal to the exit.
    pub exit_seconds: Option<f64>,
}

/// The `kill` payload.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct KillPayload {
    pub results: Vec<KillResult>,
}

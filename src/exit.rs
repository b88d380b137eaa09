//! Exit codes and the errors that carry them.

/// The documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything asked for was done.
    Success = 0,
    /// Nothing matched, or a named target was gone, denied or failed (the rest was printed).
    Partial = 1,
    /// The command line was wrong.
    Usage = 2,
    /// procscope could not work at all (e.g. /proc not readable, output not writable).
    Fatal = 3,
}

/// An error with the exit code it ends the run with. Its message is one line.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// A usage error (exit 2).
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    Failure {
        exit: Exit::Usage,
        message: message.into(),
    }
    .into()
}

/// A named target that is gone, denied or not a process (exit 1).
pub fn target(message: impl Into<String>) -> anyhow::Error {
    Failure {
        exit: Exit::Partial,
        message: message.into(),
    }
    .into()
}

/// A named process that could not be reported on at all (exit 1): which one and why, so a
/// `--json` run can still print a document with the entry in `errors`.
#[derive(Debug)]
pub struct TargetError {
    pub pid: u32,
    pub reason: crate::model::Unavailable,
    pub message: String,
}

impl std::fmt::Display for TargetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TargetError {}

/// A named process that is gone, denied, a zombie or not a process (exit 1).
pub fn target_pid(
    pid: u32,
    reason: crate::model::Unavailable,
    message: impl Into<String>,
) -> anyhow::Error {
    TargetError {
        pid,
        reason,
        message: message.into(),
    }
    .into()
}

/// The exit code an error ends the run with: its own, else fatal.
pub fn code_of(error: &anyhow::Error) -> Exit {
    if error.downcast_ref::<TargetError>().is_some() {
        return Exit::Partial;
    }
    error
        .downcast_ref::<Failure>()
        .map_or(Exit::Fatal, |failure| failure.exit)
}

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

/// The exit code an error ends the run with: its own, else fatal.
pub fn code_of(error: &anyhow::Error) -> Exit {
    error
        .downcast_ref::<Failure>()
        .map_or(Exit::Fatal, |failure| failure.exit)
}

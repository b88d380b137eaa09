//! Why a value is missing: the reasons a /proc read can fail, kept apart all the way to the output.

use schemars::JsonSchema;
use serde::Serialize;

/// The reason a field has no value. Serialized in snake_case (`permission_denied`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unavailable {
    /// The kernel refused the read (EACCES, EPERM): another user's process, or a non-dumpable one.
    PermissionDenied,
    /// The process or thread exited while it was being read (ENOENT, ESRCH).
    Gone,
    /// The process has exited but was not reaped: it has no memory, files or command line.
    Zombie,
    /// A kernel thread has no user-space memory, executable or command line.
    KernelThread,
    /// This kernel does not provide the value.
    Unsupported,
    /// The thread was on a CPU each time it was sampled, so no registers were captured.
    Running,
    /// The read did not finish in time (a process stuck in uninterruptible sleep, a FUSE mapping).
    TimedOut,
    /// The file was larger than any such file can be (a fixture's `/dev/zero`): not read.
    TooLarge,
    /// Any other read error (EIO and the like) or a file whose content could not be parsed.
    ReadError,
}

impl Unavailable {
    /// Maps an OS error number to the reason it stands for.
    pub fn from_errno(errno: i32) -> Self {
        match errno {
            libc::ENOENT | libc::ESRCH => Self::Gone,
            libc::EACCES | libc::EPERM => Self::PermissionDenied,
            libc::ENOSYS | libc::EOPNOTSUPP | libc::EINVAL => Self::Unsupported,
            _ => Self::ReadError,
        }
    }

    /// Maps an I/O error to the reason it stands for.
    pub fn from_io(err: &std::io::Error) -> Self {
        match err.raw_os_error() {
            Some(errno) => Self::from_errno(errno),
            None if err.kind() == std::io::ErrorKind::NotFound => Self::Gone,
            None if err.kind() == std::io::ErrorKind::PermissionDenied => Self::PermissionDenied,
            None => Self::ReadError,
        }
    }

    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PermissionDenied => "permission_denied",
            Self::Gone => "gone",
            Self::Zombie => "zombie",
            Self::KernelThread => "kernel_thread",
            Self::Unsupported => "unsupported",
            Self::Running => "running",
            Self::TimedOut => "timed_out",
            Self::TooLarge => "too_large",
            Self::ReadError => "read_error",
        }
    }

    /// A short phrase for people, used in tables and hints.
    pub fn describe(self) -> &'static str {
        match self {
            Self::PermissionDenied => "permission denied",
            Self::Gone => "process gone",
            Self::Zombie => "zombie process",
            Self::KernelThread => "kernel thread",
            Self::Unsupported => "not supported by this kernel",
            Self::Running => "running, not sampled",
            Self::TimedOut => "read timed out",
            Self::TooLarge => "file too large",
            Self::ReadError => "read error",
        }
    }
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_maps_to_reason() {
        assert_eq!(Unavailable::from_errno(libc::ESRCH), Unavailable::Gone);
        assert_eq!(Unavailable::from_errno(libc::ENOENT), Unavailable::Gone);
        assert_eq!(
            Unavailable::from_errno(libc::EPERM),
            Unavailable::PermissionDenied
        );
        assert_eq!(
            Unavailable::from_errno(libc::EACCES),
            Unavailable::PermissionDenied
        );
        assert_eq!(Unavailable::from_errno(libc::EIO), Unavailable::ReadError);
    }

    #[test]
    fn json_names_are_snake_case() {
        let json = serde_json::to_string(&Unavailable::PermissionDenied).unwrap();
        assert_eq!(json, "\"permission_denied\"");
        assert_eq!(Unavailable::KernelThread.as_str(), "kernel_thread");
    }
}

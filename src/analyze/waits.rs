//! What a thread is waiting on, in words: the blocked system call with its key argument, the
//! kernel wait channel when that says more, or `running`.

use crate::analyze::syscalls::{self, SyscallWait};
use crate::parse::syscall::SyscallState;

/// A thread's wait, described.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    /// `read(fd 3)`, `futex`, `running`, `user space`, or the wait channel.
    pub text: String,
    /// The system call, when blocked in one.
    pub syscall: Option<SyscallWait>,
}

/// Describes a thread's state from its `syscall` file and, if read, its wait channel.
pub fn describe(state: &SyscallState, wchan: Option<&[u8]>) -> Wait {
    match state {
        SyscallState::Running => Wait {
            text: "running".into(),
            syscall: None,
        },
        SyscallState::InSyscall { nr, args, .. } => {
            let call = syscalls::describe(*nr, args);
            Wait {
                text: call.text.clone(),
                syscall: Some(call),
            }
        }
        // Not in a system call: a signal or tracing stop, or a page fault; the wait channel
        // (do_signal_stop, ptrace_stop...) says which.
        SyscallState::Outside { .. } => Wait {
            text: wchan.map_or_else(
                || "user space".to_owned(),
                |w| String::from_utf8_lossy(w).into_owned(),
            ),
            syscall: None,
        },
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    #[test]
    fn words_for_each_state() {
        let read = SyscallState::InSyscall {
            nr: 0,
            args: [5, 0, 0, 0, 0, 0],
            sp: 1,
            pc: 2,
        };
        assert_eq!(describe(&read, Some(b"pipe_read")).text, "read(fd 5)");
        assert_eq!(describe(&read, None).syscall.unwrap().fd, Some(5));
        assert_eq!(describe(&SyscallState::Running, None).text, "running");
        let stopped = SyscallState::Outside { sp: 1, pc: 2 };
        assert_eq!(
            describe(&stopped, Some(b"do_signal_stop")).text,
            "do_signal_stop"
        );
        assert_eq!(describe(&stopped, None).text, "user space");
    }
}

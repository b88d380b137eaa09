//! Signalling one process safely: the target is opened as a pidfd, its identity (start time
//! and name) is checked against what was selected, and the signal goes through the pidfd,
//! so a reused PID is never hit. Waiting for the exit polls the pidfd.

use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, poll};
use rustix::process::{Pid, PidfdFlags, Signal, pidfd_open, pidfd_send_signal};

/// The standard signals by number and name, for parsing and `--list-signals`.
pub const SIGNALS: &[(i32, &str, &str)] = &[
    (1, "HUP", "hangup; many daemons reload their configuration"),
    (2, "INT", "interrupt, as Ctrl-C"),
    (3, "QUIT", "quit and dump core"),
    (4, "ILL", "illegal instruction"),
    (5, "TRAP", "trace trap"),
    (6, "ABRT", "abort and dump core"),
    (7, "BUS", "bus error"),
    (8, "FPE", "arithmetic error"),
    (9, "KILL", "kill; cannot be caught or ignored"),
    (10, "USR1", "user-defined 1 (Node.js opens its debugger!)"),
    (11, "SEGV", "invalid memory reference"),
    (12, "USR2", "user-defined 2"),
    (13, "PIPE", "broken pipe"),
    (14, "ALRM", "timer"),
    (
        15,
        "TERM",
        "terminate (the default); can be caught for a clean shutdown",
    ),
    (16, "STKFLT", "stack fault"),
    (17, "CHLD", "child stopped or exited"),
    (18, "CONT", "continue if stopped"),
    (19, "STOP", "stop; cannot be caught or ignored"),
    (20, "TSTP", "stop from the terminal, as Ctrl-Z"),
    (21, "TTIN", "background read from the terminal"),
    (22, "TTOU", "background write to the terminal"),
    (23, "URG", "urgent socket data"),
    (24, "XCPU", "CPU time limit exceeded"),
    (25, "XFSZ", "file size limit exceeded"),
    (26, "VTALRM", "virtual timer"),
    (27, "PROF", "profiling timer"),
    (28, "WINCH", "terminal window size changed"),
    (29, "IO", "I/O possible"),
    (30, "PWR", "power failure"),
    (31, "SYS", "bad system call"),
];

/// A signal chosen by the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalChoice {
    pub number: i32,
    pub name: &'static str,
}

impl SignalChoice {
    pub const TERM: SignalChoice = SignalChoice {
        number: 15,
        name: "TERM",
    };
    pub const KILL: SignalChoice = SignalChoice {
        number: 9,
        name: "KILL",
    };

    /// `SIGTERM`.
    pub fn full_name(self) -> String {
        format!("SIG{}", self.name)
    }
}

/// Parses `TERM`, `SIGTERM`, `term`, `15`.
pub fn parse_signal(text: &str) -> Result<SignalChoice, String> {
    let upper = text.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    let found = match bare.parse::<i32>() {
        Ok(number) => SIGNALS.iter().find(|(n, _, _)| *n == number),
        Err(_) => SIGNALS.iter().find(|(_, name, _)| *name == bare),
    };
    found
        .map(|&(number, name, _)| SignalChoice { number, name })
        .ok_or_else(|| format!("'{text}' is not a signal: expected a name like TERM, SIGKILL or HUP, or a number from 1 to 31 (see --list-signals)"))
}

/// What is known about a target when it was selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub pid: u32,
    pub starttime_ticks: u64,
    pub name: Vec<u8>,
}

/// Why a target could not be signalled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// It exited before the signal, or the PID now names another process.
    Gone,
    PermissionDenied,
    /// Any other error from the kernel.
    Failed(i32),
}

/// An opened target: the pidfd of a process whose identity was confirmed.
#[derive(Debug)]
pub struct Target {
    pub identity: Identity,
    pidfd: OwnedFd,
}

/// Opens `identity.pid` as a pidfd and confirms, through `current` (which re-reads the
/// process's start time and name *after* the pidfd exists), that it is still the process
/// that was selected. A changed identity is `Gone`: the new process is never signalled.
pub fn open_target(
    identity: &Identity,
    current: impl Fn() -> Option<(u64, Vec<u8>)>,
) -> Result<Target, SendError> {
    let pid = i32::try_from(identity.pid)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or(SendError::Gone)?;
    let pidfd = pidfd_open(pid, PidfdFlags::empty()).map_err(errno_error)?;
    match current() {
        Some((start, name)) if start == identity.starttime_ticks && name == identity.name => {
            Ok(Target {
                identity: identity.clone(),
                pidfd,
            })
        }
        _ => Err(SendError::Gone),
    }
}

impl Target {
    /// Sends `signal` through the pidfd.
    pub fn send(&self, signal: SignalChoice) -> Result<(), SendError> {
        let signal =
            Signal::from_named_raw(signal.number).ok_or(SendError::Failed(libc::EINVAL))?;
        pidfd_send_signal(&self.pidfd, signal).map_err(errno_error)
    }

    /// True once the process has exited.
    pub fn exited(&self) -> bool {
        let mut fds = [PollFd::new(&self.pidfd, PollFlags::IN)];
        let zero = rustix::event::Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        poll(&mut fds, Some(&zero)).is_ok_and(|ready| ready > 0)
    }
}

/// Waits until each target has exited or `deadline` passes (`None`: no limit). Returns, per
/// target, how long it took to exit, or `None` if it was still running at the deadline.
pub fn wait_all(targets: &[&Target], deadline: Option<Instant>) -> Vec<Option<Duration>> {
    let started = Instant::now();
    let mut done: Vec<Option<Duration>> = vec![None; targets.len()];
    loop {
        let pending: Vec<usize> = (0..targets.len()).filter(|&i| done[i].is_none()).collect();
        if pending.is_empty() {
            return done;
        }
        let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if remaining == Some(Duration::ZERO) {
            return done;
        }
        let mut fds: Vec<PollFd> = pending
            .iter()
            .map(|&i| PollFd::new(&targets[i].pidfd, PollFlags::IN))
            .collect();
        let timeout = remaining.map(|r| rustix::event::Timespec {
            tv_sec: r.as_secs() as i64,
            tv_nsec: i64::from(r.subsec_nanos()),
        });
        match poll(&mut fds, timeout.as_ref()) {
            Ok(_) => {
                for (slot, fd) in pending.iter().zip(&fds) {
                    if !fd.revents().is_empty() {
                        done[*slot] = Some(started.elapsed());
                    }
                }
            }
            Err(rustix::io::Errno::INTR) => {}
            Err(_) => return done,
        }
    }
}

fn errno_error(errno: rustix::io::Errno) -> SendError {
    match errno.raw_os_error() {
        libc::ESRCH => SendError::Gone,
        libc::EPERM | libc::EACCES => SendError::PermissionDenied,
        other => SendError::Failed(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names_and_numbers() {
        for text in ["TERM", "SIGTERM", "term", "sigTerm", "15"] {
            assert_eq!(parse_signal(text), Ok(SignalChoice::TERM), "{text}");
        }
        assert_eq!(parse_signal("9"), Ok(SignalChoice::KILL));
        assert_eq!(parse_signal("hup").unwrap().number, 1);
        for bad in ["", "0", "-1", "32", "65", "SIGFOO", "TERMX", "1e1"] {
            assert!(parse_signal(bad).is_err(), "{bad}");
        }
        assert!(parse_signal("FOO").unwrap_err().contains("'FOO'"));
    }

    #[test]
    fn every_listed_signal_is_known_to_the_kernel_interface() {
        for &(number, name, _) in SIGNALS {
            assert!(Signal::from_named_raw(number).is_some(), "{name}");
        }
    }

    #[test]
    fn a_changed_identity_is_never_signalled() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let identity = Identity {
            pid: child.id(),
            starttime_ticks: 1,
            name: b"sleep".to_vec(),
        };
        // The current start time differs from the selected one: treated as another process.
        let opened = open_target(&identity, || Some((2, b"sleep".to_vec())));
        assert_eq!(opened.unwrap_err(), SendError::Gone);
        assert!(child.try_wait().unwrap().is_none(), "still alive");
        let matching = open_target(&identity, || Some((1, b"sleep".to_vec()))).unwrap();
        matching.send(SignalChoice::KILL).unwrap();
        let waited = wait_all(&[&matching], Some(Instant::now() + Duration::from_secs(5)));
        assert!(waited[0].is_some());
        assert!(matching.exited());
        child.wait().unwrap();
    }
}

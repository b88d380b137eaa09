//! Signalling one process safely: each target is bound to a pidfd while it is selected, and
//! every later step (confirmation, signal, wait) goes through that pidfd, so a reused PID is
//! never hit. This module makes the pidfd calls; it reads no /proc file itself.
//!
//! Why the binding is sound. `pidfd_open(pid)` returns a handle on the process P that holds
//! `pid` at that moment; the handle never moves to another process. The identity (start time,
//! name, state, parent, command line) is read from `/proc/pid` only *after* the open, and
//! then P is confirmed alive through the pidfd (a signal 0 succeeds until P is reaped). A
//! process keeps its PID from fork until it is reaped, so P held `pid` during the whole
//! read: the identity read belongs to P, even if a same-named process reused the PID in the
//! same clock tick before the open (which only means P *is* that new process, and the user's
//! criteria are checked against it). The pidfd's own view, `Pid:` in
//! `/proc/self/fdinfo/<pidfd>`, must equal the selected PID: otherwise the proc tree and the
//! kernel number processes differently (another PID namespace) and nothing is bound. After
//! that, a P that exits is reported as exited; its PID, reused or not, is never signalled.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::query::signal::SignalChoice;
use rustix::event::{PollFd, PollFlags, poll};
use rustix::process::{Pid, PidfdFlags, Signal, pidfd_open};

/// Why a target could not be bound or signalled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// The process exited (it may be a zombie, or reaped and its PID free or reused).
    Exited,
    PermissionDenied,
    /// The pidfd's own PID (from its fdinfo) is not the one selected: the proc tree and the
    /// kernel number processes differently. `None`: the fdinfo could not be read.
    Mismatch(Option<i64>),
    /// Any other error from the kernel.
    Failed(i32),
}

/// A process bound at selection: signals and waits go through this handle only.
#[derive(Debug)]
pub struct Pidfd {
    pid: u32,
    fd: OwnedFd,
}

/// Binds `pid` (see the module comment): opens its pidfd, then reads its identity with
/// `read`, checks the pidfd's own PID with `fdinfo_pid` (given the pidfd's descriptor number,
/// returns `Pid:` of `/proc/self/fdinfo/N`), and confirms through the pidfd that the process
/// has not been reaped, so that what `read` saw belongs to it.
pub fn bind<T>(
    pid: u32,
    read: impl FnOnce() -> Option<T>,
    fdinfo_pid: impl FnOnce(i32) -> Option<i64>,
) -> Result<(Pidfd, T), SendError> {
    let raw = i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or(SendError::Exited)?;
    let fd = pidfd_open(raw, PidfdFlags::empty()).map_err(errno_error)?;
    let pidfd = Pidfd { pid, fd };
    let identity = read().ok_or(SendError::Exited)?;
    match fdinfo_pid(pidfd.fd.as_raw_fd()) {
        Some(-1) => return Err(SendError::Exited),
        Some(seen) if seen == i64::from(pid) => {}
        seen => return Err(SendError::Mismatch(seen)),
    }
    pidfd.not_reaped()?;
    Ok((pidfd, identity))
}

/// The `Pid:` value of a pidfd's fdinfo text (-1 once the process is reaped).
pub fn fdinfo_pid(fdinfo: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(fdinfo).ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("Pid:"))
        .and_then(|value| value.trim().parse().ok())
}

impl Pidfd {
    /// The PID the process had when it was bound.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Ok while the process exists (running, stopped or a zombie), through signal 0; a
    /// permission error also proves it exists.
    pub fn not_reaped(&self) -> Result<(), SendError> {
        match raw_send(&self.fd, 0) {
            Ok(()) | Err(SendError::PermissionDenied) => Ok(()),
            Err(other) => Err(other),
        }
    }

    /// Sends `signal` through the pidfd, unless the process has already exited (then
    /// `Exited`: a zombie would accept the signal, uselessly).
    pub fn send(&self, signal: SignalChoice) -> Result<(), SendError> {
        if self.exited() {
            return Err(SendError::Exited);
        }
        Signal::from_named_raw(signal.number).ok_or(SendError::Failed(libc::EINVAL))?;
        raw_send(&self.fd, signal.number)
    }

    /// True once the process has exited (a zombie has exited).
    pub fn exited(&self) -> bool {
        let mut fds = [PollFd::new(&self.fd, PollFlags::IN)];
        let zero = rustix::event::Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        poll(&mut fds, Some(&zero)).is_ok_and(|ready| ready > 0)
    }
}

/// `pidfd_send_signal(fd, signal, NULL, 0)`; signal 0 only checks. (rustix has no signal 0.)
fn raw_send(fd: &OwnedFd, signal: i32) -> Result<(), SendError> {
    // SAFETY: a valid descriptor, a signal number, a null siginfo and no flags.
    let done = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0u32,
        )
    };
    if done == 0 {
        Ok(())
    } else {
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        Err(errno_error(rustix::io::Errno::from_raw_os_error(errno)))
    }
}

/// Waits until each target has exited or `deadline` passes (`None`: no limit). Returns, per
/// target, when its exit was seen, or `None` if it was still running at the deadline.
pub fn wait_all(targets: &[&Pidfd], deadline: Option<Instant>) -> Vec<Option<Instant>> {
    let mut done: Vec<Option<Instant>> = vec![None; targets.len()];
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
            .map(|&i| PollFd::new(&targets[i].fd, PollFlags::IN))
            .collect();
        let timeout = remaining.map(|r| rustix::event::Timespec {
            tv_sec: r.as_secs() as i64,
            tv_nsec: i64::from(r.subsec_nanos()),
        });
        match poll(&mut fds, timeout.as_ref()) {
            Ok(_) => {
                let now = Instant::now();
                for (slot, fd) in pending.iter().zip(&fds) {
                    if !fd.revents().is_empty() {
                        done[*slot] = Some(now);
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
        libc::ESRCH => SendError::Exited,
        libc::EPERM | libc::EACCES => SendError::PermissionDenied,
        other => SendError::Failed(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::signal::SIGNALS;

    #[test]
    fn every_listed_signal_is_known_to_the_kernel_interface() {
        for &(number, name, _) in SIGNALS {
            assert!(Signal::from_named_raw(number).is_some(), "{name}");
        }
    }

    /// `Pid:` of the pidfd's fdinfo, read as the kill command does (test-only path).
    fn own_fdinfo_pid(fd: i32) -> Option<i64> {
        fdinfo_pid(&std::fs::read(format!("/proc/self/fdinfo/{fd}")).ok()?)
    }

    #[test]
    fn fdinfo_pid_values() {
        assert_eq!(
            fdinfo_pid(b"pos:\t0\nflags:\t02000002\nPid:\t4242\nNSpid:\t4242\n"),
            Some(4242)
        );
        assert_eq!(fdinfo_pid(b"Pid:\t-1\n"), Some(-1));
        assert_eq!(fdinfo_pid(b"pos:\t0\n"), None);
    }

    #[test]
    fn a_bound_target_is_signalled_and_waited_through_its_pidfd() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let (pidfd, name) = bind(child.id(), || Some("sleep"), own_fdinfo_pid).unwrap();
        assert_eq!((pidfd.pid(), name), (child.id(), "sleep"));
        assert!(!pidfd.exited());
        pidfd.send(SignalChoice::KILL).unwrap();
        let waited = wait_all(&[&pidfd], Some(Instant::now() + Duration::from_secs(30)));
        assert!(waited[0].is_some());
        // A zombie has exited: nothing more is sent to it.
        assert_eq!(pidfd.send(SignalChoice::TERM), Err(SendError::Exited));
        assert!(pidfd.not_reaped().is_ok(), "a zombie still holds its PID");
        child.wait().unwrap();
        assert_eq!(pidfd.not_reaped(), Err(SendError::Exited));
        assert_eq!(pidfd.send(SignalChoice::TERM), Err(SendError::Exited));
    }

    #[test]
    fn a_pidfd_that_names_another_pid_binds_nothing() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let mismatch = bind(child.id(), || Some(()), |_| Some(1)).unwrap_err();
        assert_eq!(mismatch, SendError::Mismatch(Some(1)));
        let unreadable = bind(child.id(), || Some(()), |_| None).unwrap_err();
        assert_eq!(unreadable, SendError::Mismatch(None));
        let vanished = bind(child.id(), || None::<()>, own_fdinfo_pid).unwrap_err();
        assert_eq!(vanished, SendError::Exited);
        assert!(
            child.try_wait().unwrap().is_none(),
            "still alive, never signalled"
        );
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

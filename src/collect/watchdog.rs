//! Bounded reads: a file read that blocks (a FIFO where a proc file should be, a FUSE-backed
//! command line) is interrupted after [`TIMEOUT`] and reported as `timed_out`, so one stuck
//! process cannot hang a listing. A watchdog thread signals (SIGURG, handled by a no-op
//! without SA_RESTART) any reader thread stuck past the deadline; the interrupted system
//! call returns EINTR. A read in uninterruptible sleep (D state) cannot be interrupted.
//!
//! Each reader thread holds one slot of a fixed table while it lives (released by a
//! thread-local destructor when the thread ends, so slots are recycled). The watchdog
//! signals a thread only while holding its slot's lock and only while that thread is inside
//! a guarded call; the thread must take the same lock to leave the call, so the signal
//! always targets a live thread that is still in its guarded read, never one that exited.

use std::sync::{Condvar, Mutex, MutexGuard, Once, PoisonError};
use std::time::{Duration, Instant};

use nix::sys::pthread::{Pthread, pthread_kill, pthread_self};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

/// How long one read may block.
pub const TIMEOUT: Duration = Duration::from_millis(1000);
const CHECK_EVERY: Duration = Duration::from_millis(100);
/// Reader threads that can be guarded at the same time; a thread beyond them reads unguarded.
const SLOTS: usize = 64;

/// One slot: the thread holding it, when its current guarded call started (`None` outside
/// a call), and whether the watchdog signalled it during that call.
struct SlotState {
    owner: Option<Pthread>,
    started: Option<Instant>,
    fired: bool,
}

struct Slot(Mutex<SlotState>);

#[allow(clippy::declare_interior_mutable_const)]
const FREE: Slot = Slot(Mutex::new(SlotState {
    owner: None,
    started: None,
    fired: false,
}));
static TABLE: [Slot; SLOTS] = [FREE; SLOTS];
static START: Once = Once::new();
/// Set once the watchdog thread stopped sharing the descriptor table (or never will).
static TABLE_LEFT: (Mutex<bool>, Condvar) = (Mutex::new(false), Condvar::new());

impl Slot {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The current thread's slot index; the slot is freed when the thread ends.
struct Registration(Option<usize>);

impl Registration {
    fn claim() -> Self {
        let me = pthread_self();
        Self(TABLE.iter().position(|slot| {
            let mut state = slot.lock();
            let free = state.owner.is_none();
            if free {
                *state = SlotState {
                    owner: Some(me),
                    started: None,
                    fired: false,
                };
            }
            free
        }))
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(index) = self.0 {
            *TABLE[index].lock() = SlotState {
                owner: None,
                started: None,
                fired: false,
            };
        }
    }
}

thread_local! {
    static MY_SLOT: Registration = Registration::claim();
}

extern "C" fn ignore(_: libc::c_int) {}

fn start_watchdog() {
    START.call_once(|| {
        let action = SigAction::new(
            SigHandler::Handler(ignore),
            SaFlags::empty(),
            SigSet::empty(),
        );
        // SAFETY: the handler does nothing, so it is async-signal-safe; SIGURG is otherwise
        // ignored by default and used for nothing else in procscope.
        if unsafe { sigaction(Signal::SIGURG, &action) }.is_err() {
            table_left();
            return;
        }
        let spawned = std::thread::Builder::new()
            .name("procscope-watchdog".into())
            .spawn(|| {
                leave_descriptor_table();
                table_left();
                loop {
                    std::thread::sleep(CHECK_EVERY);
                    TABLE.iter().for_each(interrupt_if_overdue);
                }
            });
        if spawned.is_err() {
            table_left();
        }
    });
}

fn table_left() {
    let (left, changed) = &TABLE_LEFT;
    *left.lock().unwrap_or_else(PoisonError::into_inner) = true;
    changed.notify_all();
}

/// Waits (at most `limit`) until the watchdog thread, if started, no longer shares the
/// descriptor table: a thread just started may not have run yet. Called before the table
/// is grown, so that growing it waits for no RCU grace period.
pub fn wait_until_table_unshared(limit: Duration) {
    if !START.is_completed() {
        return;
    }
    let (left, changed) = &TABLE_LEFT;
    let guard = left.lock().unwrap_or_else(PoisonError::into_inner);
    let _ = changed.wait_timeout_while(guard, limit, |left| !*left);
}

/// Gives the watchdog thread an empty descriptor table of its own (it only sleeps and
/// signals). While another thread shares the process's table, the kernel waits for an RCU
/// grace period (about 12 ms here) each time it grows the table, which the live view does
/// once before keeping a descriptor per file of every process; alone, the growth is
/// immediate. `close_range(0, ~0, CLOSE_RANGE_UNSHARE)` unshares and closes the copies in
/// one call, so no descriptor stays open here after the others close it. On a kernel
/// without it (before 5.9) the table stays shared, which only costs that wait.
fn leave_descriptor_table() {
    // SAFETY: closes only this thread's private copy of the table; no descriptor owned
    // elsewhere in the process is affected.
    let _ = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            0u32,
            u32::MAX,
            libc::CLOSE_RANGE_UNSHARE,
        )
    };
}

/// Signals the slot's thread if its guarded call has run past the deadline. The lock is
/// held across the signal: the thread cannot leave the call (nor end) meanwhile.
fn interrupt_if_overdue(slot: &Slot) {
    let mut state = slot.lock();
    if let (Some(owner), Some(started)) = (state.owner, state.started)
        && started.elapsed() > TIMEOUT
    {
        state.fired = true;
        let _ = pthread_kill(owner, Signal::SIGURG);
    }
}

fn my_slot() -> Option<&'static Slot> {
    // `try_with`: during thread teardown the registration may already be gone.
    MY_SLOT
        .try_with(|registration| registration.0)
        .ok()
        .flatten()
        .map(|index| &TABLE[index])
}

/// Runs a blocking open or read under the watchdog. When the watchdog interrupted it, the
/// call saw EINTR and [`timed_out`] is true (the caller reports `timed_out`).
pub fn guarded<T>(call: impl FnOnce() -> T) -> T {
    start_watchdog();
    let Some(slot) = my_slot() else {
        return call();
    };
    {
        let mut state = slot.lock();
        state.fired = false;
        state.started = Some(Instant::now());
    }
    let result = call();
    let fired = {
        let mut state = slot.lock();
        state.started = None;
        state.fired
    };
    if fired {
        // A signal sent just before we took the lock may still be pending: let the kernel
        // deliver it now (on the way back from this call, which cannot fail with EINTR),
        // not in some later, unguarded system call.
        // SAFETY: sched_yield has no preconditions.
        unsafe { libc::sched_yield() };
    }
    result
}

/// True when the current thread's last guarded call was interrupted by the watchdog.
pub fn timed_out() -> bool {
    my_slot().is_some_and(|slot| slot.lock().fired)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Opens a FIFO nobody writes to under the watchdog: blocks until interrupted.
    fn blocked_open(fifo: &std::path::Path) -> rustix::io::Result<rustix::fd::OwnedFd> {
        // rustix does not retry EINTR, unlike std.
        guarded(|| rustix::fs::open(fifo, rustix::fs::OFlags::RDONLY, rustix::fs::Mode::empty()))
    }

    fn fifo_in(dir: &tempfile::TempDir) -> std::path::PathBuf {
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        fifo
    }

    fn slots_in_use() -> usize {
        TABLE
            .iter()
            .filter(|slot| slot.lock().owner.is_some())
            .count()
    }

    #[test]
    fn a_blocked_fifo_read_is_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = fifo_in(&dir);
        let started = Instant::now();
        let opened = blocked_open(&fifo);
        assert_eq!(opened.err(), Some(rustix::io::Errno::INTR), "interrupted");
        assert!(timed_out());
        assert!(started.elapsed() >= TIMEOUT, "not before the deadline");
        // The next guarded call starts clean.
        assert!(guarded(|| 1) == 1 && !timed_out());
    }

    #[test]
    fn slots_are_recycled_when_reader_threads_end() {
        // Far more short-lived reader threads than slots, one after another.
        for _ in 0..SLOTS * 3 {
            std::thread::spawn(|| {
                guarded(|| ());
                assert!(my_slot().is_some(), "a slot was free");
            })
            .join()
            .unwrap();
        }
        // Other tests of this binary may hold a few slots, never all of them.
        assert!(slots_in_use() < SLOTS / 2, "{} in use", slots_in_use());
        // A thread started after all of them is still guarded.
        let dir = tempfile::tempdir().unwrap();
        let fifo = fifo_in(&dir);
        let interrupted = std::thread::spawn(move || {
            let opened = blocked_open(&fifo);
            opened.is_err() && timed_out()
        })
        .join()
        .unwrap();
        assert!(interrupted);
    }

    /// The descriptors in the table of thread `tid` of this process.
    fn descriptors_of(tid: &str) -> Vec<String> {
        std::fs::read_dir(format!("/proc/self/task/{tid}/fd"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn the_watchdog_thread_shares_no_descriptor_table() {
        guarded(|| ());
        wait_until_table_unshared(Duration::from_secs(60));
        // A descriptor this test opens shows in this thread's table only.
        let file = tempfile::tempfile().unwrap();
        let mine = std::os::fd::AsRawFd::as_raw_fd(&file).to_string();
        let me = rustix::thread::gettid().as_raw_nonzero().to_string();
        assert!(descriptors_of(&me).contains(&mine));
        let watchdog = std::fs::read_dir("/proc/self/task")
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .find(|tid| {
                let comm = std::fs::read_to_string(format!("/proc/self/task/{tid}/comm"));
                comm.is_ok_and(|name| name.trim_end() == "procscope-watch")
            })
            .expect("the watchdog thread runs");
        assert_eq!(descriptors_of(&watchdog), Vec::<String>::new());
    }
}

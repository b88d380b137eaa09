//! Bounded reads: a file read that blocks (a FIFO where a proc file should be, a FUSE-backed
//! command line) is interrupted after [`TIMEOUT`] and reported as `timed_out`, so one stuck
//! process cannot hang a listing. A watchdog thread signals (SIGURG, handled by a no-op
//! without SA_RESTART) any reader thread stuck past the deadline; the interrupted system
//! call returns EINTR. A read in uninterruptible sleep (D state) cannot be interrupted.

use std::cell::Cell;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nix::sys::pthread::{Pthread, pthread_kill, pthread_self};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

/// How long one read may block.
pub const TIMEOUT: Duration = Duration::from_millis(1000);
const CHECK_EVERY: Duration = Duration::from_millis(100);
const SLOTS: usize = 64;

/// One reader thread's state: its pthread, when its current read started (ms since the
/// watchdog's epoch, 0 when idle), and whether it was interrupted.
struct Slot {
    thread: AtomicU64,
    started_ms: AtomicU64,
    fired: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const IDLE: Slot = Slot {
    thread: AtomicU64::new(0),
    started_ms: AtomicU64::new(0),
    fired: AtomicBool::new(false),
};
static TABLE: [Slot; SLOTS] = [IDLE; SLOTS];
static NEXT_SLOT: AtomicU64 = AtomicU64::new(0);
static START: Once = Once::new();
static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

thread_local! {
    static MY_SLOT: Cell<Option<usize>> = const { Cell::new(None) };
}

extern "C" fn ignore(_: libc::c_int) {}

fn now_ms() -> u64 {
    let epoch = EPOCH.get_or_init(Instant::now);
    epoch.elapsed().as_millis() as u64 + 1
}

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
            return;
        }
        let _ = std::thread::Builder::new()
            .name("procscope-watchdog".into())
            .spawn(|| {
                loop {
                    std::thread::sleep(CHECK_EVERY);
                    let now = now_ms();
                    for slot in &TABLE {
                        let started = slot.started_ms.load(Ordering::Acquire);
                        if started != 0 && now.saturating_sub(started) > TIMEOUT.as_millis() as u64
                        {
                            slot.fired.store(true, Ordering::Release);
                            let thread = slot.thread.load(Ordering::Acquire) as Pthread;
                            let _ = pthread_kill(thread, Signal::SIGURG);
                        }
                    }
                }
            });
    });
}

fn my_slot() -> Option<&'static Slot> {
    MY_SLOT.with(|cell| {
        if cell.get().is_none() {
            let index = NEXT_SLOT.fetch_add(1, Ordering::Relaxed) as usize;
            if index >= SLOTS {
                return None;
            }
            TABLE[index]
                .thread
                .store(pthread_self() as u64, Ordering::Release);
            cell.set(Some(index));
        }
        cell.get().map(|index| &TABLE[index])
    })
}

/// Runs a blocking open or read under the watchdog. Returns `Err(())` if the watchdog
/// interrupted it (the caller reports `timed_out`).
pub fn guarded<T>(call: impl FnOnce() -> T) -> T {
    start_watchdog();
    let slot = my_slot();
    if let Some(slot) = slot {
        slot.fired.store(false, Ordering::Release);
        slot.started_ms.store(now_ms(), Ordering::Release);
    }
    let result = call();
    if let Some(slot) = slot {
        slot.started_ms.store(0, Ordering::Release);
    }
    result
}

/// True when the current thread's last guarded call was interrupted by the watchdog.
pub fn timed_out() -> bool {
    MY_SLOT.with(|cell| {
        cell.get()
            .is_some_and(|index| TABLE[index].fired.load(Ordering::Acquire))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blocked_fifo_read_is_interrupted() {
        let dir = std::env::temp_dir().join(format!("procscope-watchdog-{}", std::process::id()));
        let _ = std::fs::create_dir(&dir);
        let fifo = dir.join("fifo");
        let _ = std::fs::remove_file(&fifo);
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let started = Instant::now();
        // Opening a FIFO for reading blocks until a writer comes; nobody will. (rustix does
        // not retry EINTR, unlike std.)
        let opened = guarded(|| {
            rustix::fs::open(&fifo, rustix::fs::OFlags::RDONLY, rustix::fs::Mode::empty())
        });
        assert!(opened.is_err(), "interrupted");
        assert!(timed_out());
        assert!(started.elapsed() >= TIMEOUT && started.elapsed() < TIMEOUT * 5);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

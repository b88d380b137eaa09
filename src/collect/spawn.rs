//! Starting helper threads so that they and the caller run on different CPUs before the
//! caller goes on with long system calls of its own.
//!
//! The kernel may queue a new thread on its parent's CPU, and wake a sleeping thread on
//! its waker's, when the machine's CPUs looked busy a moment ago (which procscope's own
//! readers make them look). On a kernel without preemption of system calls (`PREEMPT_NONE`,
//! common on servers) the queued thread then waits for whatever its neighbour does next:
//! reading one process's `stat` or CPU clock can be a 2 ms pass over 10000 threads, and an
//! idle CPU takes the waiting thread only at the busy one's next tick (up to 4 ms at
//! 250 Hz). Measured on a 2-CPU machine: the second reader of a 100-process listing started
//! 2.2 ms late in one run of ten to one of two. So the caller sleeps until its helpers run,
//! and if it then shares a CPU with one of them, it moves itself to another CPU it may use
//! (and at once allows all of them again, so the scheduler stays free to move it later).

use std::sync::{Condvar, Mutex, PoisonError};
use std::thread::{Scope, ScopedJoinHandle};
use std::time::Duration;

use rustix::thread::{CpuSet, sched_getaffinity, sched_setaffinity};

/// The caller waits at most this long for its helpers (a loaded machine may not run them
/// sooner; it then reads on without them).
const START_LIMIT: Duration = Duration::from_millis(5);

/// The CPUs the helper threads started on, as they start.
#[derive(Default)]
pub struct StartGate {
    started_on: Mutex<Vec<Option<usize>>>,
    changed: Condvar,
}

impl StartGate {
    /// Spawns `body` as a scoped thread that first reports to this gate. `None` when the
    /// thread cannot be started (no PIDs or memory left).
    pub fn spawn<'scope, T: Send + 'scope>(
        &'scope self,
        scope: &'scope Scope<'scope, '_>,
        body: impl FnOnce() -> T + Send + 'scope,
    ) -> Option<ScopedJoinHandle<'scope, T>> {
        std::thread::Builder::new()
            .spawn_scoped(scope, move || {
                self.arrive();
                body()
            })
            .ok()
    }

    fn arrive(&self) {
        let cpu = current_cpu();
        self.lock().push(cpu);
        self.changed.notify_all();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Option<usize>>> {
        self.started_on
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Sleeps until `count` spawned threads have started (or [`START_LIMIT`] passed), then
    /// leaves their CPUs if the calling thread shares one with them.
    pub fn wait_for(&self, count: usize) {
        let started = self.lock();
        let (started, _) = self
            .changed
            .wait_timeout_while(started, START_LIMIT, |started| started.len() < count)
            .unwrap_or_else(PoisonError::into_inner);
        let taken: Vec<usize> = started.iter().flatten().copied().collect();
        drop(started);
        let _ = move_off(&taken);
    }
}

/// The CPU the calling thread runs on.
fn current_cpu() -> Option<usize> {
    // SAFETY: sched_getcpu takes no argument and only reads the CPU number.
    usize::try_from(unsafe { libc::sched_getcpu() }).ok()
}

/// Moves the calling thread to a CPU it may use that none in `taken` is, when it runs on
/// one of `taken`, then allows it every CPU it was allowed before; returns the CPU it was
/// moved to. Does nothing when no other CPU is allowed or the affinity cannot be changed.
fn move_off(taken: &[usize]) -> Option<usize> {
    let mine = current_cpu()?;
    if !taken.contains(&mine) {
        return None;
    }
    let allowed = sched_getaffinity(None).ok()?;
    let free = (0..CpuSet::MAX_CPU).find(|&cpu| allowed.is_set(cpu) && !taken.contains(&cpu))?;
    let mut only = CpuSet::new();
    only.set(free);
    // A mask without the current CPU migrates the thread before the call returns.
    sched_setaffinity(None, &only).ok()?;
    let landed = current_cpu();
    let _ = sched_setaffinity(None, &allowed);
    landed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caller_goes_on_once_every_helper_runs() {
        let gate = StartGate::default();
        let ran = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            let helpers: Vec<_> = (0..3)
                .filter_map(|_| {
                    gate.spawn(scope, || {
                        ran.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                    })
                })
                .collect();
            gate.wait_for(helpers.len());
            assert_eq!(gate.lock().len(), 3);
        });
        assert_eq!(ran.into_inner(), 3);
    }

    #[test]
    fn a_helper_that_never_starts_delays_the_caller_only_up_to_the_limit() {
        let gate = StartGate::default();
        let began = std::time::Instant::now();
        gate.wait_for(1);
        let waited = began.elapsed();
        assert!(waited >= START_LIMIT, "{waited:?}");
    }

    #[test]
    fn moving_off_a_shared_cpu_lands_elsewhere_and_keeps_every_allowed_cpu() {
        let allowed = sched_getaffinity(None).unwrap();
        let cpus: Vec<usize> = (0..CpuSet::MAX_CPU)
            .filter(|&c| allowed.is_set(c))
            .collect();
        let [shared, ..] = cpus[..] else { return };
        if cpus.len() < 2 {
            assert_eq!(move_off(&[shared]), None, "nowhere to go");
            return;
        }
        // Put this thread on `shared` first (the scheduler may move it again between two
        // calls, so try a few times).
        let landed = (0..20).find_map(|_| {
            let mut only = CpuSet::new();
            only.set(shared);
            sched_setaffinity(None, &only).unwrap();
            sched_setaffinity(None, &allowed).unwrap();
            move_off(&[shared])
        });
        assert_eq!(
            sched_getaffinity(None).unwrap(),
            allowed,
            "every CPU allowed again"
        );
        let landed = landed.expect("moved off the shared CPU");
        assert_ne!(landed, shared);
        assert!(allowed.is_set(landed));
    }
}

//! Snapshot streams (`ps --watch`, `top --batch`): one refresh per interval handed to the
//! caller's printer, until `-n` snapshots, SIGINT, or a closed pipe (the printer's error).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

use crate::collect::machine::MachineSampler;
use crate::collect::{ProcFs, SystemInfo, UserNames};
use crate::exit::Exit;

use super::TopQuery;
use crate::render::tui::snapshot::Snapshot;
use crate::render::watch::Frame;

use super::sampler::Sampler;
use super::timings::Timings;
use super::view::Rebuild;

/// Set by the SIGINT handler; the stream stops before its next snapshot.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// How long one wait slice is: the latency of noticing SIGINT.
const SLICE: Duration = Duration::from_millis(50);

/// Prints a snapshot per interval through `print`. The first snapshot comes one interval
/// after a baseline reading, so every snapshot has rates. The baseline, which prints
/// nothing, reads the counters of the rates and the sort column; the other columns of its
/// rows (which the first snapshot shows for processes that did not run since) are read
/// after it, while the first interval passes.
pub fn run(
    query: &TopQuery,
    procfs: &ProcFs,
    system: &SystemInfo,
    users: &UserNames,
    with_machine: bool,
    print: &mut dyn FnMut(&Frame) -> std::io::Result<()>,
) -> anyhow::Result<Exit> {
    catch_interrupt();
    let mut sampler = Sampler::new(query.spec.clone(), system.clone());
    let mut machine = with_machine.then(MachineSampler::new);
    let mut view = query.view();
    let mut timings = Timings::open(query.timings.as_deref())?;
    timings.read_starts();
    let mut snapshot = Snapshot::default();
    sampler.set_deferral(procfs, users, &mut snapshot, (query.sort, true));
    let mut snapshot = sampler.refresh(procfs, users, snapshot);
    if let Some(machine) = &mut machine {
        machine.refresh(procfs);
    }
    timings.read_ends(snapshot.rows.len());
    // The baseline is read, not printed.
    timings.drawn(false);
    let mut next = Instant::now() + query.delay;
    timings.fill(snapshot.rows.len(), || {
        sampler.set_deferral(procfs, users, &mut snapshot, (query.sort, false));
    });
    let mut printed = 0;
    while query.count.is_none_or(|count| printed < count) {
        if !sleep_until(next) {
            break;
        }
        next += query.delay;
        timings.read_starts();
        snapshot = sampler.refresh(procfs, users, snapshot);
        let figures = machine.as_mut().map(|m| m.refresh(procfs));
        view.rebuild(&snapshot);
        timings.read_ends(snapshot.rows.len());
        print(&Frame {
            snapshot: &snapshot,
            view: &view,
            machine: figures.as_ref(),
        })?;
        timings.drawn(true);
        printed += 1;
        // A slow refresh must not make the next ones come in a burst.
        next = next.max(Instant::now());
    }
    Ok(Exit::Success)
}

/// Sleeps until `deadline` in short slices; false when SIGINT came.
fn sleep_until(deadline: Instant) -> bool {
    loop {
        if INTERRUPTED.load(Ordering::SeqCst) {
            return false;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(SLICE));
    }
}

/// Turns SIGINT into a clean stop after the snapshot being printed.
fn catch_interrupt() {
    let action = SigAction::new(
        SigHandler::Handler(on_interrupt),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    let _ = unsafe { sigaction(Signal::SIGINT, &action) };
}

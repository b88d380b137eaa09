//! A process's CPU time from the kernel's process CPU clock: every thread's time, live and
//! exited, summed in one pass (`stat` makes two, for the times and the faults).

/// The clock ID of `pid`'s process CPU clock (the kernel's `MAKE_PROCESS_CPUCLOCK(pid,
/// CPUCLOCK_SCHED)`, as glibc's `clock_getcpuclockid` makes it, without the extra call with
/// which glibc first checks the process).
fn process_clock(pid: u32) -> Option<libc::clockid_t> {
    let pid = libc::clockid_t::try_from(pid).ok().filter(|&pid| pid > 0)?;
    const CPUCLOCK_SCHED: libc::clockid_t = 2;
    Some((!pid << 3) | CPUCLOCK_SCHED)
}

/// The CPU time of process `pid` (a PID of procscope's own PID namespace) in nanoseconds, or
/// `None` when it has exited or the kernel refuses.
pub fn process_cpu_nanos(pid: u32) -> Option<u64> {
    let clock = nix::time::ClockId::from_raw(process_clock(pid)?);
    let time = nix::time::clock_gettime(clock).ok()?;
    let seconds = u64::try_from(time.tv_sec()).ok()?;
    let nanos = u64::try_from(time.tv_nsec()).ok()?;
    seconds.checked_mul(1_000_000_000)?.checked_add(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Burns CPU on `threads` threads until each has used `each` of it.
    fn burn(threads: usize, each: std::time::Duration) {
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    let clock = nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID;
                    let start = nix::time::clock_gettime(clock).unwrap();
                    while nix::time::clock_gettime(clock).unwrap() - start < each.into() {
                        std::hint::black_box(0);
                    }
                });
            }
        });
    }

    #[test]
    fn the_clock_counts_every_thread_including_exited_ones() {
        let me = std::process::id();
        let before = process_cpu_nanos(me).unwrap();
        // Threads that used 4 x 50 ms and exited: the process's clock holds their time.
        burn(4, std::time::Duration::from_millis(50));
        let after = process_cpu_nanos(me).unwrap();
        assert!(after - before >= 200_000_000, "{before} -> {after}");
        let own = nix::time::clock_gettime(nix::time::ClockId::CLOCK_PROCESS_CPUTIME_ID).unwrap();
        let own = u64::try_from(own.tv_sec()).unwrap() * 1_000_000_000
            + u64::try_from(own.tv_nsec()).unwrap();
        assert!(own >= after, "own {own} < read {after}");
    }

    /// A directory opened before anything asked for the tree's PID view (as `kill` does)
    /// judges the view itself, and one opened after reuses the answer: neither may wait on
    /// the other (a deadlock once), and both read the clock of our own, live process.
    #[test]
    fn process_directories_read_the_clock_before_and_after_the_pid_view() {
        use crate::collect::procfs::{Files, ProcFs};
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let me = std::process::id();
            let procfs = ProcFs::open(std::path::Path::new("/proc")).unwrap();
            let before = procfs.process(me).unwrap().cpu_clock_nanos();
            let _ = procfs.pid_view();
            let after = procfs.process(me).unwrap().cpu_clock_nanos();
            done.send((before, after)).unwrap();
        });
        let (before, after) = finished
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("opening a process directory hung");
        assert!(before.is_some() && after >= before, "{before:?} {after:?}");
    }

    #[test]
    fn no_clock_for_pid_zero_or_out_of_range() {
        assert_eq!(process_clock(0), None);
        assert_eq!(process_clock(u32::MAX), None);
        assert_eq!(process_clock(1), Some(!1 << 3 | 2));
    }
}

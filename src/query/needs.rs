//! Which per-process /proc files a request needs, so a listing reads nothing else.

/// A set of per-process files. Combine with `|`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs(u32);

impl Needs {
    pub const NONE: Self = Self(0);
    /// `/proc/PID/stat`.
    pub const STAT: Self = Self(1);
    /// `/proc/PID/status`.
    pub const STATUS: Self = Self(1 << 1);
    /// `/proc/PID/cmdline`.
    pub const CMDLINE: Self = Self(1 << 2);
    /// `/proc/PID/exe` (a link).
    pub const EXE: Self = Self(1 << 3);
    /// The user table (not a /proc file, but loaded only when names are shown or matched).
    pub const USER_NAMES: Self = Self(1 << 4);
    /// The number of entries in `/proc/PID/fd`.
    pub const FD_COUNT: Self = Self(1 << 5);
    /// `syscall`: the blocked system call, stack pointer and program counter.
    pub const SYSCALL: Self = Self(1 << 6);
    /// `wchan`: the kernel function a sleeping task waits in.
    pub const WCHAN: Self = Self(1 << 7);
    /// The executable's runtime facts (cached per executable) and, for a recognised
    /// runtime, the starting environment.
    pub const RUNTIME: Self = Self(1 << 8);
    /// The exact bytes of `cmdline` kept as well (`--raw-cmdline`); implies `CMDLINE`.
    pub const RAW_CMDLINE: Self = Self(1 << 9 | 1 << 2);
    /// The exact resident set size, as procps reads it: `VmRSS` when `status` is read anyway,
    /// else `statm` (stat's field 24 lags on kernels with per-CPU RSS counters).
    pub const RSS: Self = Self(1 << 10);
    /// `/proc/PID/cgroup`: the unit, container and cgroup columns.
    pub const CGROUP: Self = Self(1 << 11);
    /// `/proc/PID/environ`: `env:NAME` columns.
    pub const ENVIRON: Self = Self(1 << 12);
    /// `/proc/PID/smaps_rollup`: the proportional set size.
    pub const PSS: Self = Self(1 << 13);
    /// The namespace links under `/proc/PID/ns`.
    pub const NAMESPACES: Self = Self(1 << 14);
    /// `oom_score`, `oom_score_adj` and `attr/current` (the LSM label).
    pub const SECURITY: Self = Self(1 << 15);
    /// `io`: read and written bytes (readable for our own processes, or as root).
    pub const IO: Self = Self(1 << 16);
    /// `/proc/PID/comm`: the name alone, read when nothing needs `stat` (a process's `stat`
    /// sums the times of all its threads: 3 ms for 10000 threads).
    pub const COMM: Self = Self(1 << 17);
    /// The effective uid: the owner of `/proc/PID` (one `fstat`), or `status` where that
    /// is not the euid (threads, fixture trees).
    pub const OWNER: Self = Self(1 << 18);
    /// `stat`'s page-fault counters, which the kernel sums over the threads.
    pub const FAULTS: Self = Self(1 << 19);
    /// The caller takes a many-threaded process's CPU time from the kernel's process CPU
    /// clock (the same sum in one pass over the threads, not stat's two) and its other `stat`
    /// fields from the leader thread's: for requests without [`Needs::FAULTS`] that use
    /// only the CPU total (`ProcessSample::cpu_ticks`), never the user/system split.
    pub const CPU_CLOCK: Self = Self(1 << 20);

    /// Both sets together (usable in constants).
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// True when every file in `other` is in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Needs {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for Needs {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_and_contains() {
        let needs = Needs::STAT | Needs::CMDLINE;
        assert!(needs.contains(Needs::STAT));
        assert!(needs.contains(Needs::CMDLINE));
        assert!(!needs.contains(Needs::STATUS));
        assert!(needs.contains(Needs::NONE));
    }
}

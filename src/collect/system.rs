//! System facts every command needs (clock ticks, page size, boot time, uptime, memory,
//! pid_max), read once from the proc root so that a fixture tree gives deterministic output.

use nix::unistd::SysconfVar;

use crate::collect::procfs::ProcFs;
use crate::parse::keyed::Keyed;
use crate::parse::stat::parse_num;
use crate::query::pid::PID_MAX_LIMIT;

/// What to suggest when the kernel denied reads: root and the owner see more, unless this
/// already runs as root (then a capability root lacks here, or a security module, is what
/// stands in the way).
pub fn denied_hint() -> &'static str {
    if nix::unistd::geteuid().is_root() {
        "denied even to root here (capabilities this process lacks, or a security module)"
    } else {
        "run as root or as the owner to see them"
    }
}

/// The system files are generated in one piece: a short read is their end (one system call
/// fewer each), and none is near this size.
const SYSTEM_FILE_LIMIT: u64 = 1 << 20;

/// Facts about the system, injected into every computation that needs them.
#[derive(Debug, Clone)]
pub struct SystemInfo {
    pub ticks_per_second: u64,
    pub page_size: u64,
    /// Boot time in seconds since the epoch (`btime` in `stat`).
    pub boot_time_unix: u64,
    /// Seconds since boot (`uptime`); "now" is `boot_time_unix + uptime_seconds`.
    pub uptime_seconds: f64,
    pub mem_total_bytes: Option<u64>,
    pub pid_max: u32,
    /// Our own PID as the proc tree sees it (`self` link); may differ from getpid() across
    /// PID namespaces.
    pub self_pid: Option<u32>,
}

impl SystemInfo {
    /// Reads the facts from the proc tree. Files a fixture omits fall back to Linux defaults.
    /// A proc tree without `stat` or `uptime` (one mounted with `subset=pid`) falls back to
    /// the kernel's own clocks.
    pub fn read(procfs: &ProcFs) -> anyhow::Result<Self> {
        let from_files = procfs
            .read_whole("stat", SYSTEM_FILE_LIMIT)
            .ok()
            .and_then(|stat| parse_btime(&stat))
            .zip(
                procfs
                    .read_whole("uptime", SYSTEM_FILE_LIMIT)
                    .ok()
                    .and_then(|raw| parse_uptime(&raw)),
            );
        let (boot_time_unix, uptime_seconds) = match from_files {
            Some(times) => times,
            None => kernel_clocks().ok_or_else(|| {
                anyhow::anyhow!(
                    "cannot tell the boot time: {} has no stat or uptime",
                    procfs.root().display()
                )
            })?,
        };
        let mem_total_bytes = procfs
            .read_whole("meminfo", SYSTEM_FILE_LIMIT)
            .ok()
            .and_then(|raw| Keyed::new(raw).kib_as_bytes("MemTotal"));
        let pid_max = procfs
            .read_whole("sys/kernel/pid_max", SYSTEM_FILE_LIMIT)
            .ok()
            .and_then(|raw| parse_num(raw.trim_ascii()))
            .unwrap_or(PID_MAX_LIMIT);
        let self_pid = std::fs::read_link(procfs.root().join("self"))
            .ok()
            .and_then(|target| target.to_str()?.parse().ok());
        Ok(Self {
            ticks_per_second: sysconf(SysconfVar::CLK_TCK, 100),
            page_size: sysconf(SysconfVar::PAGE_SIZE, 4096),
            boot_time_unix,
            uptime_seconds,
            mem_total_bytes,
            pid_max,
            self_pid,
        })
    }

    /// Seconds since the epoch, as the proc tree sees "now".
    pub fn now_unix(&self) -> f64 {
        self.boot_time_unix as f64 + self.uptime_seconds
    }

    /// Converts clock ticks to seconds.
    pub fn ticks_to_seconds(&self, ticks: u64) -> f64 {
        ticks as f64 / self.ticks_per_second as f64
    }

    /// Start time of a process (stat field 22) in seconds since the epoch.
    pub fn start_time_unix(&self, starttime_ticks: u64) -> f64 {
        self.boot_time_unix as f64 + self.ticks_to_seconds(starttime_ticks)
    }

    /// How long a process has run, in seconds.
    pub fn age_seconds(&self, starttime_ticks: u64) -> f64 {
        (self.uptime_seconds - self.ticks_to_seconds(starttime_ticks)).max(0.0)
    }

    /// Lifetime CPU usage in percent of one core, as `ps` computes it.
    pub fn lifetime_cpu_percent(&self, cpu_ticks: u64, starttime_ticks: u64) -> f64 {
        let age = self.age_seconds(starttime_ticks);
        if age <= 0.0 {
            return 0.0;
        }
        self.ticks_to_seconds(cpu_ticks) / age * 100.0
    }
}

/// The boot time and uptime from the kernel's clocks (`CLOCK_BOOTTIME`), for proc trees
/// without `stat` and `uptime`.
fn kernel_clocks() -> Option<(u64, f64)> {
    let boot = rustix::time::clock_gettime(rustix::time::ClockId::Boottime);
    let uptime = boot.tv_sec as f64 + boot.tv_nsec as f64 / 1e9;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs_f64();
    Some(((now - uptime).round() as u64, uptime))
}

/// Finds the boot time in `/proc/stat` (`btime 1795674721`, space-separated).
pub fn parse_btime(stat: &[u8]) -> Option<u64> {
    stat.split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(b"btime "))
        .and_then(|value| parse_num(value.trim_ascii()))
}

/// Parses `/proc/uptime` (`267.51 385.23`): the first number.
pub fn parse_uptime(raw: &[u8]) -> Option<f64> {
    let first = raw.split(|b| b.is_ascii_whitespace()).next()?;
    std::str::from_utf8(first).ok()?.parse().ok()
}

fn sysconf(name: SysconfVar, fallback: u64) -> u64 {
    nix::unistd::sysconf(name)
        .ok()
        .flatten()
        .and_then(|value| u64::try_from(value).ok())
        .filter(|&value| value > 0)
        .unwrap_or(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_first_number() {
        assert_eq!(parse_uptime(b"267.51 385.23\n"), Some(267.51));
        assert_eq!(parse_uptime(b"x"), None);
    }

    #[test]
    fn btime_from_stat() {
        let stat = b"cpu  1 2 3\nintr 5\nctxt 9\nbtime 1795674721\nprocesses 10\n";
        assert_eq!(parse_btime(stat), Some(1795674721));
        assert_eq!(parse_btime(b"cpu 1\n"), None);
    }
}

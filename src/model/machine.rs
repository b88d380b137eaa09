//! The machine-wide figures of the live view's header: uptime, load, CPU by mode, memory,
//! swap, and network and disk throughput.

use crate::parse::cpustat::CpuShare;

/// One refresh of the machine's figures. Rates are over the last refresh interval (zero on
/// the first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Machine {
    pub uptime_seconds: u64,
    /// 1, 5 and 15 minute load averages.
    pub load: [f64; 3],
    /// All CPUs together, then each core.
    pub cpu_total: CpuShare,
    pub cpus: Vec<CpuShare>,
    pub mem_total_bytes: u64,
    pub mem_used_bytes: u64,
    pub swap_total_bytes: u64,
    pub swap_used_bytes: u64,
    pub net_rx_bytes_per_second: f64,
    pub net_tx_bytes_per_second: f64,
    pub disk_read_bytes_per_second: f64,
    pub disk_write_bytes_per_second: f64,
}

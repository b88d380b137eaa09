//! The machine-wide figures of the live view: load, uptime, memory, swap, network and disk
//! throughput from `sysinfo`, CPU time by mode (user, system, iowait, steal) from the proc
//! tree's `stat`. Keeps only the previous reading, so nothing grows with refreshes.

use std::collections::HashSet;
use std::time::Instant;

use sysinfo::{DiskRefreshKind, Disks, MemoryRefreshKind, Networks, System};

use crate::collect::ProcFs;
use crate::model::machine::Machine;
use crate::parse::cpustat::{CpuTimes, parse_cpu_times};

/// Reads the machine's figures, one refresh after another.
pub struct MachineSampler {
    system: Option<System>,
    networks: Option<Networks>,
    disks: Option<Disks>,
    previous_cpu: Option<(CpuTimes, Vec<CpuTimes>)>,
    previous_at: Option<Instant>,
}

impl MachineSampler {
    /// Starts with nothing read: the first refresh has no rates yet.
    pub fn new() -> Self {
        Self {
            system: System::new().ok(),
            networks: Networks::new().ok(),
            disks: Disks::new().ok(),
            previous_cpu: None,
            previous_at: None,
        }
    }

    /// Reads every figure; rates cover the time since the previous call.
    pub fn refresh(&mut self, procfs: &ProcFs) -> Machine {
        let now = Instant::now();
        let seconds = self
            .previous_at
            .map_or(0.0, |at| now.duration_since(at).as_secs_f64());
        self.previous_at = Some(now);
        let mut machine = Machine {
            uptime_seconds: System::uptime().unwrap_or(0),
            load: System::load_average().map_or([0.0; 3], |l| [l.one, l.five, l.fifteen]),
            ..Machine::default()
        };
        self.read_cpu(procfs, &mut machine);
        if let Some(system) = &mut self.system {
            system.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram().with_swap());
            machine.mem_total_bytes = system.total_memory();
            machine.mem_used_bytes = system.used_memory();
            machine.swap_total_bytes = system.total_swap();
            machine.swap_used_bytes = system.used_swap();
        }
        let per_second = |bytes: u64| {
            if seconds > 0.0 {
                bytes as f64 / seconds
            } else {
                0.0
            }
        };
        if let Some(networks) = &mut self.networks {
            networks.refresh(true);
            let (rx, tx) = networks
                .iter()
                .filter(|(name, _)| name.as_encoded_bytes() != b"lo")
                .fold((0, 0), |(rx, tx), (_, data)| {
                    (rx + data.received(), tx + data.transmitted())
                });
            machine.net_rx_bytes_per_second = per_second(rx);
            machine.net_tx_bytes_per_second = per_second(tx);
        }
        if let Some(disks) = &mut self.disks {
            disks.refresh_specifics(true, DiskRefreshKind::nothing().with_io_usage());
            // Several mounts of one device report the same counters: count each device once.
            let mut seen = HashSet::new();
            let (read, written) = disks
                .iter()
                .filter(|disk| seen.insert(disk.name().to_owned()))
                .fold((0, 0), |(r, w), disk| {
                    let usage = disk.usage();
                    (r + usage.read_bytes, w + usage.written_bytes)
                });
            machine.disk_read_bytes_per_second = per_second(read);
            machine.disk_write_bytes_per_second = per_second(written);
        }
        machine
    }

    fn read_cpu(&mut self, procfs: &ProcFs, machine: &mut Machine) {
        let Ok(raw) = procfs.read("stat") else { return };
        let (Some(total), each) = parse_cpu_times(&raw) else {
            return;
        };
        if let Some((before, before_each)) = &self.previous_cpu {
            machine.cpu_total = total.share_since(before);
            machine.cpus = each
                .iter()
                .zip(before_each)
                .map(|(now, then)| now.share_since(then))
                .collect();
        } else {
            machine.cpus = vec![Default::default(); each.len()];
        }
        self.previous_cpu = Some((total, each));
    }
}

impl Default for MachineSampler {
    fn default() -> Self {
        Self::new()
    }
}

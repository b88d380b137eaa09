//! The summary above the process table: uptime, load, tasks by state, CPU by mode (all CPUs
//! and each core), memory and swap, network and disk throughput. The same lines head each
//! snapshot of `top --batch`.

use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};

use super::snapshot::Snapshot;
use crate::model::machine::Machine;
use crate::parse::cpustat::CpuShare;
use crate::text::units::{bytes, percent};

/// The summary as plain lines.
pub fn lines(machine: &Machine, snapshot: &Snapshot) -> Vec<String> {
    let [one, five, fifteen] = machine.load;
    let mut out = vec![
        format!(
            "up {}, load average {one:.2} {five:.2} {fifteen:.2}",
            uptime(machine.uptime_seconds)
        ),
        tasks(snapshot),
        format!("%CPU all: {}", shares(&machine.cpu_total)),
        format!(
            "Mem {} used of {}, Swap {} used of {}",
            bytes(machine.mem_used_bytes),
            bytes(machine.mem_total_bytes),
            bytes(machine.swap_used_bytes),
            bytes(machine.swap_total_bytes)
        ),
        format!(
            "Net rx {}/s tx {}/s, Disk read {}/s write {}/s",
            bytes(machine.net_rx_bytes_per_second as u64),
            bytes(machine.net_tx_bytes_per_second as u64),
            bytes(machine.disk_read_bytes_per_second as u64),
            bytes(machine.disk_write_bytes_per_second as u64)
        ),
    ];
    let cores: Vec<String> = machine
        .cpus
        .iter()
        .enumerate()
        .map(|(i, cpu)| format!("cpu{i} {}%", percent(cpu.busy())))
        .collect();
    for chunk in cores.chunks(8) {
        out.push(chunk.join("  "));
    }
    out
}

/// The summary for the screen: the same lines, with a bar per core when colour is on.
pub fn styled(machine: &Machine, snapshot: &Snapshot, color: bool) -> Vec<Line<'static>> {
    let plain = lines(machine, snapshot);
    let label = if color {
        Style::default().fg(Color::Cyan)
    } else {
        Style::default()
    };
    plain
        .into_iter()
        .map(|line| match line.split_once(' ') {
            Some((first, rest)) => Line::from(vec![
                Span::styled(first.to_owned(), label),
                Span::raw(format!(" {rest}")),
            ]),
            None => Line::from(line),
        })
        .collect()
}

/// `3d 04:12` or `04:12`.
fn uptime(seconds: u64) -> String {
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let clock = format!("{:02}:{:02}", rest / 3600, rest % 3600 / 60);
    if days > 0 {
        format!("{days}d {clock}")
    } else {
        clock
    }
}

fn shares(cpu: &CpuShare) -> String {
    format!(
        "{} us, {} sy, {} wa, {} st",
        percent(cpu.user),
        percent(cpu.system),
        percent(cpu.iowait),
        percent(cpu.steal)
    )
}

/// `Tasks 245: 2 running, 240 sleeping, 0 disk, 1 stopped, 2 zombie`.
fn tasks(snapshot: &Snapshot) -> String {
    let count = |letters: &[u8]| -> usize {
        letters
            .iter()
            .map(|l| snapshot.states.get(l).copied().unwrap_or(0))
            .sum()
    };
    let total: usize = snapshot.states.values().sum();
    format!(
        "Tasks {total}: {} running, {} sleeping, {} disk, {} stopped, {} zombie",
        count(b"R"),
        count(b"SI"),
        count(b"D"),
        count(b"tT"),
        count(b"ZX")
    )
}

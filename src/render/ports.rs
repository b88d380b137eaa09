//! The `ports` table: one line per socket and holder, like `ss -ltnp`.

use crate::model::fields::SocketField;
use crate::model::report::PortsReport;
use crate::model::socket::{PortRow, SocketHolder, endpoint};
use crate::render::table::{self, Align, Text};
use crate::render::{Sheet, Style};
use crate::text::units;

impl PortsReport {
    /// The table's columns: queues for every-state listings, `ss -o -i` facts with
    /// `--info`, rates with `--interval`, the namespace when there are several.
    fn columns(&self) -> Vec<(&'static str, Align)> {
        let mut columns = vec![
            ("PROTO", Align::Left),
            ("LOCAL", Align::Left),
            ("REMOTE", Align::Left),
            ("STATE", Align::Left),
        ];
        if self.view.queues {
            columns.extend([("RECV-Q", Align::Right), ("SEND-Q", Align::Right)]);
        }
        columns.extend([
            ("PID", Align::Right),
            ("PROCESS", Align::Left),
            ("FD", Align::Left),
            ("USER", Align::Left),
        ]);
        if self.view.info {
            columns.extend([
                ("TIMER", Align::Left),
                ("RETRANS", Align::Right),
                ("RTT", Align::Right),
            ]);
        }
        if self.view.rates {
            columns.extend([("TX/s", Align::Right), ("RX/s", Align::Right)]);
        }
        if self.list.namespaces > 1 {
            columns.push(("NETNS", Align::Left));
        }
        columns
    }
}

/// The text of one cell: column `name` of `socket`'s row for `holder`.
fn cell(name: &str, socket: &PortRow, holder: Option<&SocketHolder>) -> String {
    let info = &socket.socket;
    let dash = || "-".to_owned();
    let number = |value: Option<u32>| value.map_or_else(dash, |v| v.to_string());
    match name {
        "PROTO" => info.proto.clone(),
        "LOCAL" => match (&info.local_address, info.local_port, &info.path) {
            (Some(address), Some(port), _) => endpoint(address, port),
            (_, _, Some(path)) => path.clone(),
            _ => dash(),
        },
        "REMOTE" => match (&info.remote_address, info.remote_port, &socket.peer_holders) {
            (Some(address), Some(port), _) if port != 0 => endpoint(address, port),
            (_, _, Some(peers)) => peer_text(peers),
            _ => dash(),
        },
        "STATE" => info.state.clone().unwrap_or_else(dash),
        "RECV-Q" => number(socket.recv_queue),
        "SEND-Q" => number(socket.send_queue),
        "PID" => holder.map_or_else(dash, |h| h.pid.to_string()),
        "PROCESS" => match holder {
            Some(h) => holder_text(h),
            None if socket.unavailable.contains_key(&SocketField::Holders) => {
                "- (permission denied)".into()
            }
            None => dash(),
        },
        "FD" => holder.map_or_else(dash, |h| join_fds(&h.fds)),
        "USER" => holder
            .and_then(|h| h.user.clone())
            .or_else(|| socket.user.clone())
            .unwrap_or_else(dash),
        "TIMER" => socket.timer.as_ref().map_or_else(dash, |t| {
            format!("{},{}ms,{}", t.kind, t.expires_ms, t.retransmits)
        }),
        "RETRANS" => socket.tcp_info.as_ref().map_or_else(dash, |t| {
            format!("{}/{}", t.retransmits, t.total_retransmits)
        }),
        "RTT" => socket.tcp_info.as_ref().map_or_else(dash, |t| {
            format!(
                "{:.1}/{:.1}ms",
                f64::from(t.rtt_us) / 1000.0,
                f64::from(t.rttvar_us) / 1000.0
            )
        }),
        "TX/s" => socket
            .throughput
            .map_or_else(dash, |t| rate(t.tx_bytes_per_second)),
        "RX/s" => socket
            .throughput
            .map_or_else(dash, |t| rate(t.rx_bytes_per_second)),
        "NETNS" => socket.netns.map_or_else(dash, |n| n.to_string()),
        _ => dash(),
    }
}

fn join_fds(fds: &[u32]) -> String {
    fds.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

/// `<-> nginx 9594 fd 3`: the processes at the other end of a unix socket.
fn peer_text(peers: &[SocketHolder]) -> String {
    if peers.is_empty() {
        return "<-> -".into();
    }
    let ends: Vec<String> = peers
        .iter()
        .map(|p| {
            let name = p.name.clone().unwrap_or_else(|| "-".into());
            format!("{name} {} fd {}", p.pid, join_fds(&p.fds))
        })
        .collect();
    format!("<-> {}", ends.join(", "))
}

/// Bytes per second, people-sized (`1.2M`).
fn rate(bytes_per_second: f64) -> String {
    units::bytes(bytes_per_second.round() as u64)
}

/// `node [cluster primary]`.
fn holder_text(holder: &SocketHolder) -> String {
    let name = holder.name.clone().unwrap_or_else(|| "-".into());
    match &holder.role {
        Some(role) => format!("{name} [{role}]"),
        None => name,
    }
}

impl Sheet for PortsReport {
    fn table(&self, style: &Style) -> String {
        let columns = self.columns();
        let mut rows = Vec::new();
        for socket in &self.list.sockets {
            let holders: Vec<Option<&SocketHolder>> = if socket.holders.is_empty() {
                vec![None]
            } else {
                socket.holders.iter().map(Some).collect()
            };
            for holder in holders {
                rows.push(
                    columns
                        .iter()
                        .map(|(name, _)| Text::plain(cell(name, socket, holder)))
                        .collect(),
                );
            }
        }
        if rows.is_empty() {
            return String::new();
        }
        table::render(&columns, rows, *style)
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let unknown = self
            .list
            .sockets
            .iter()
            .filter(|s| s.unavailable.contains_key(&SocketField::Holders))
            .count();
        if unknown > 0 {
            notes.push(format!(
                "{} without a known holder: {} could not be read (permission denied); {}",
                units::count(unknown as u64, "socket", "sockets"),
                units::count(self.list.denied_processes as u64, "process", "processes"),
                self.denied_hint
            ));
        }
        if let Some(limits) = &self.list.throughput_limits {
            notes.push(format!("throughput: {}", limits.join("; ")));
        }
        if self.list.sockets.is_empty()
            && let Some(port) = self.view.port
        {
            notes.push(format!(
                "nothing {} port {port}",
                if self.view.all { "uses" } else { "listens on" }
            ));
        }
        notes
    }
}

//! `procscope ports [PORT]`: which process listens on (or talks over) which port, across
//! every network namespace, with every holder of a shared socket.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use crate::analyze::sockets::{
    endpoint, inet_info, tcp_stats, throughput, throughput_limits, unix_info,
};
use crate::collect::holders::{HolderScan, Kind, scan_holders};
use crate::collect::net::{Proto, SocketTables, tcp_byte_counters};
use crate::collect::port_holders::{own_netns, socket_tables};
use crate::collect::{Needs, ProcFs, ProcessSample, UserNames};
use crate::commands::holder_names::HolderNames;
use crate::exit::Exit;
use crate::model::Unavailable;
use crate::model::fd::SocketInfo;
use crate::model::socket::{PortList, PortRow, SocketHolder, SocketTimer};
use crate::parse::tcp_info::InetDetails;
use crate::render::json;
use crate::render::table::{self, Align, Text};
use crate::render::{Report, Style, units};

// moved (issue 14): re-export until merge
pub use crate::query::ports::PortsQuery;

impl PortsQuery {
    fn state_matches(&self, state: Option<&str>) -> bool {
        self.states.is_empty() || state.is_some_and(|s| self.states.iter().any(|w| w == s))
    }

    fn wants(&self, proto: Proto) -> bool {
        let none_chosen = !self.tcp && !self.udp && !self.unix;
        if proto.is_tcp() {
            self.tcp || none_chosen
        } else {
            self.udp || none_chosen
        }
    }
}

/// The sockets, ready to render.
pub struct PortsReport {
    pub list: PortList,
    pub query: PortsQuery,
    /// The hint for sockets whose holders were denied (see `SystemInfo::denied_hint`).
    pub denied_hint: &'static str,
}

/// Lists the sockets that match, with their holders.
pub fn run(query: PortsQuery, procfs: &ProcFs, users: &UserNames) -> anyhow::Result<PortsReport> {
    // The first sample of the byte counters, then the wait; the second is taken after the
    // listing, and the rate divides by the time between the two.
    let sampled = query.interval.map(|interval| {
        let before = tcp_byte_counters();
        let start = std::time::Instant::now();
        std::thread::sleep(interval);
        (before, start)
    });
    let holders = scan_holders(procfs, Kind::Sockets, true);
    let own_netns = own_netns(procfs);
    let tables = socket_tables(procfs, &holders, own_netns)?;
    let mut names = HolderNames::new(procfs, users);
    let mut sockets = Vec::new();
    for (netns, table) in &tables {
        for (info, uid, details) in matching(&query, table) {
            let mut row = PortRow {
                socket: info,
                uid,
                user: uid.map(|uid| users.name(uid)),
                netns: *netns,
                holders: Vec::new(),
                shared: false,
                peer_holders: None,
                recv_queue: details.map(|d| d.recv_queue),
                send_queue: details.map(|d| d.send_queue),
                timer: details.and_then(|d| d.timer).map(|t| SocketTimer {
                    kind: t.kind.into(),
                    expires_ms: t.expires_ms,
                    retransmits: t.retransmits,
                }),
                tcp_info: details.and_then(|d| d.tcp).map(tcp_stats),
                throughput: None,
                unavailable: BTreeMap::new(),
            };
            attach_holders(&mut row, &holders, &mut names);
            if query
                .pid
                .is_none_or(|pid| row.holders.iter().any(|h| h.pid == pid))
            {
                sockets.push(row);
            }
        }
    }
    if let Some((before, started)) = &sampled {
        attach_throughput(&mut sockets, before, *started);
    }
    label_runtime_roles(procfs, &mut sockets);
    let list = PortList {
        sockets,
        netns: own_netns,
        namespaces: tables.len(),
        denied_processes: holders.denied,
        throughput_limits: sampled.is_some().then(throughput_limits),
    };
    Ok(PortsReport {
        list,
        query,
        denied_hint: crate::collect::system::denied_hint(),
    })
}

/// The sockets of one table that the query asks for: their description, creator uid,
/// and queues/timer/tcp_info (internet sockets).
fn matching<'t>(
    query: &PortsQuery,
    table: &'t SocketTables,
) -> Vec<(SocketInfo, Option<u32>, Option<&'t InetDetails>)> {
    let mut found = Vec::new();
    for (proto, socket) in &table.inet {
        let listening = if proto.is_tcp() {
            socket.state == 0x0A
        } else {
            socket.remote.1 == 0
        };
        let info = inet_info(*proto, socket);
        let every_state = query.all || !query.states.is_empty();
        // `ports PORT --all` finds the clients too: sockets whose remote port is PORT.
        let on_port = |p: u16| socket.local.1 == p || (every_state && socket.remote.1 == p);
        if query.wants(*proto)
            && (every_state || listening)
            && query.port.is_none_or(on_port)
            && query.state_matches(info.state.as_deref())
        {
            found.push((info, Some(socket.uid), Some(&socket.details)));
        }
    }
    if query.unix && query.port.is_none() {
        for socket in &table.unix {
            let info = unix_info(socket);
            let every_state = query.all || !query.states.is_empty();
            if (every_state || socket.listening) && query.state_matches(info.state.as_deref()) {
                found.push((info, None, None));
            }
        }
    }
    found
}

/// Each TCP connection's throughput since `started`, from the counters sampled then and now.
fn attach_throughput(
    sockets: &mut [PortRow],
    before: &std::collections::HashMap<u64, (u64, u64)>,
    started: std::time::Instant,
) {
    let after = tcp_byte_counters();
    let seconds = started.elapsed().as_secs_f64();
    for row in sockets {
        let inode = row.socket.inode;
        if let (Some(b), Some(a)) = (before.get(&inode), after.get(&inode)) {
            row.throughput = Some(throughput(*b, *a, seconds));
        }
    }
}

/// Fills in who holds the socket (and, for a connected unix socket, who holds its peer).
fn attach_holders(row: &mut PortRow, holders: &HolderScan, names: &mut HolderNames) {
    let inode = row.socket.inode;
    // Inode 0: a connection no file refers to (not accepted yet, or TIME_WAIT).
    if inode == 0 {
        return;
    }
    row.holders = holders
        .by_inode
        .get(&inode)
        .map(|list| group_holders(list, names))
        .unwrap_or_default();
    row.shared = row.holders.len() > 1;
    if row.holders.is_empty() && holders.denied > 0 {
        row.unavailable
            .insert("holders".into(), Unavailable::PermissionDenied);
    }
    if let Some(peer) = row.socket.peer_inode {
        row.peer_holders = Some(
            holders
                .by_inode
                .get(&peer)
                .map(|list| group_holders(list, names))
                .unwrap_or_default(),
        );
    }
}

/// Marks holders that have a role in a runtime's process family (cluster primary, worker).
/// The family is read only when some holder runs a recognised runtime at all.
fn label_runtime_roles(procfs: &ProcFs, sockets: &mut [PortRow]) {
    let mut pids: Vec<u32> = sockets
        .iter()
        .flat_map(|s| s.holders.iter().map(|h| h.pid))
        .collect();
    pids.sort_unstable();
    pids.dedup();
    let any_runtime = pids.iter().any(|&pid| {
        ProcessSample::read(procfs, pid, Needs::STAT | Needs::EXE | Needs::RUNTIME)
            .is_ok_and(|sample| crate::analyze::runtime::detect(&sample.runtime_facts()).is_some())
    });
    if !any_runtime {
        return;
    }
    let Ok(nodes) = crate::collect::tree::read_nodes(procfs) else {
        return;
    };
    let family = crate::analyze::runtime::family::Family::of(
        &crate::collect::family::read_runtimes(procfs, &nodes),
    );
    for holder in sockets.iter_mut().flat_map(|s| s.holders.iter_mut()) {
        holder.role = family.label(holder.pid);
    }
}

fn group_holders(
    list: &[crate::collect::holders::Holder],
    names: &mut HolderNames,
) -> Vec<SocketHolder> {
    let mut grouped: Vec<SocketHolder> = Vec::new();
    for holder in list {
        match grouped.iter_mut().find(|g| g.pid == holder.pid) {
            Some(group) => group.fds.push(holder.fd),
            None => {
                let (name, user) = names.of(holder.pid);
                grouped.push(SocketHolder {
                    pid: holder.pid,
                    name,
                    user,
                    fds: vec![holder.fd],
                    role: None,
                });
            }
        }
    }
    grouped
}

impl PortsReport {
    /// The table's columns: queues for every-state listings, `ss -o -i` facts with
    /// `--info`, rates with `--interval`, the namespace when there are several.
    fn columns(&self) -> Vec<(&'static str, Align)> {
        let query = &self.query;
        let mut columns = vec![
            ("PROTO", Align::Left),
            ("LOCAL", Align::Left),
            ("REMOTE", Align::Left),
            ("STATE", Align::Left),
        ];
        if query.all || !query.states.is_empty() {
            columns.extend([("RECV-Q", Align::Right), ("SEND-Q", Align::Right)]);
        }
        columns.extend([
            ("PID", Align::Right),
            ("PROCESS", Align::Left),
            ("FD", Align::Left),
            ("USER", Align::Left),
        ]);
        if query.info {
            columns.extend([
                ("TIMER", Align::Left),
                ("RETRANS", Align::Right),
                ("RTT", Align::Right),
            ]);
        }
        if query.interval.is_some() {
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
            None if socket.unavailable.contains_key("holders") => "- (permission denied)".into(),
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
    crate::render::units::bytes(bytes_per_second.round() as u64)
}

/// `node [cluster primary]`.
fn holder_text(holder: &SocketHolder) -> String {
    let name = holder.name.clone().unwrap_or_else(|| "-".into());
    match &holder.role {
        Some(role) => format!("{name} [{role}]"),
        None => name,
    }
}

impl Report for PortsReport {
    fn command(&self) -> &'static str {
        "ports"
    }

    fn json(&self) -> Map<String, Json> {
        json::members(&self.list)
    }

    fn ndjson(&self) -> Option<Vec<Json>> {
        Some(json::rows(&self.list.sockets))
    }

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
            .filter(|s| s.unavailable.contains_key("holders"))
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
            && let Some(port) = self.query.port
        {
            notes.push(format!(
                "nothing {} port {port}",
                if self.query.all { "uses" } else { "listens on" }
            ));
        }
        notes
    }

    fn exit(&self) -> Exit {
        if self.list.sockets.is_empty() && (self.query.port.is_some() || self.query.pid.is_some()) {
            Exit::Partial
        } else {
            Exit::Success
        }
    }
}

/// The JSON Schema of `ports --json`.
pub fn schema() -> Json {
    crate::render::json::document_schema(
        "ports",
        "procscope ports --json",
        crate::render::json::schema_of::<PortList>(),
    )
}

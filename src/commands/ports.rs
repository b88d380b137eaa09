//! `procscope ports [PORT]`: which process listens on (or talks over) which port, across
//! every network namespace, with every holder of a shared socket.

use std::collections::BTreeMap;

use crate::analyze::sockets::{inet_info, tcp_stats, throughput, throughput_limits, unix_info};
use crate::collect::holder_names::HolderNames;
use crate::collect::holders::{HolderScan, Kind, scan_holders};

use crate::collect::net::{Proto, SocketTables, Wanted, tcp_byte_counters};
use crate::collect::port_holders::{is_listening, own_netns, socket_tables};
use crate::collect::{ProcFs, UserNames};
use crate::model::Unavailable;
use crate::model::fd::SocketInfo;
use crate::model::fields::SocketField;
use crate::model::report::PortsReport;
use crate::model::report::PortsView;
use crate::model::socket::{PortList, PortRow, SocketHolder, SocketTimer};
use crate::parse::tcp_info::InetDetails;
use crate::query::ports::PortsQuery;

impl PortsQuery {
    fn state_matches(&self, state: Option<&str>) -> bool {
        self.states.is_empty() || state.is_some_and(|s| self.states.iter().any(|w| w == s))
    }

    /// Every state is listed, not only listening TCP and bound UDP sockets.
    fn every_state(&self) -> bool {
        self.all || !self.states.is_empty()
    }

    /// The socket tables the listing needs: of TCP only the listeners unless every state
    /// is listed, the unix table only for `--unix` without a port, never the netlink one.
    fn tables(&self) -> Wanted {
        Wanted {
            listening_only: !self.every_state(),
            unix: self.unix && self.port.is_none(),
            netlink: false,
        }
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
    let tables = socket_tables(procfs, &holders, own_netns, query.tables())?;
    let mut names = HolderNames::new(procfs, users);
    let mut sockets = Vec::new();
    for (netns, table) in &tables {
        for (info, uid, details) in matching(&query, table) {
            let mut row = port_row(info, uid, details, *netns, users);
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
        view: view_of(&query),
        denied_hint: crate::collect::system::denied_hint(),
    })
}

/// What of the request the output shows.
fn view_of(query: &PortsQuery) -> PortsView {
    PortsView {
        port: query.port,
        named_target: query.port.is_some() || query.pid.is_some(),
        all: query.all,
        queues: query.every_state(),
        info: query.info,
        rates: query.interval.is_some(),
    }
}

/// The row of one socket, before its holders are attached.
fn port_row(
    info: SocketInfo,
    uid: Option<u32>,
    details: Option<&InetDetails>,
    netns: Option<u64>,
    users: &UserNames,
) -> PortRow {
    PortRow {
        socket: info,
        uid,
        user: uid.map(|uid| users.name(uid)),
        netns,
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
    }
}

/// The sockets of one table that the query asks for: their description, creator uid,
/// and queues/timer/tcp_info (internet sockets).
fn matching<'t>(
    query: &PortsQuery,
    table: &'t SocketTables,
) -> Vec<(SocketInfo, Option<u32>, Option<&'t InetDetails>)> {
    let mut found = Vec::new();
    let every_state = query.every_state();
    for (proto, socket) in &table.inet {
        // `ports PORT --all` finds the clients too: sockets whose remote port is PORT.
        let on_port = |p: u16| socket.local.1 == p || (every_state && socket.remote.1 == p);
        if !(query.wants(*proto)
            && (every_state || is_listening(*proto, socket))
            && query.port.is_none_or(on_port))
        {
            continue;
        }
        let info = inet_info(*proto, socket);
        if query.state_matches(info.state.as_deref()) {
            found.push((info, Some(socket.uid), Some(&socket.details)));
        }
    }
    if query.unix && query.port.is_none() {
        for socket in &table.unix {
            let info = unix_info(socket);
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
            .insert(SocketField::Holders, Unavailable::PermissionDenied);
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

/// Labels the holders that are cluster primaries, workers or forked children of a
/// runtime: each holder's own facts (a worker names its primary in its environment), and
/// for a runtime process whose facts tell no role, its children's.
fn label_runtime_roles(procfs: &ProcFs, sockets: &mut [PortRow]) {
    let mut pids: Vec<u32> = sockets
        .iter()
        .flat_map(|s| s.holders.iter().map(|h| h.pid))
        .collect();
    pids.sort_unstable();
    pids.dedup();
    let mut samples = crate::collect::family::runtimes_of(procfs, &pids);
    let unmarked: Vec<u32> = samples
        .iter()
        .filter(|sample| {
            crate::analyze::runtime::detect(&sample.runtime_facts())
                .is_some_and(|(_, info)| info.may_lead_workers())
        })
        .map(|sample| sample.pid)
        .collect();
    if !unmarked.is_empty() {
        samples.extend(crate::collect::family::read_children_runtimes(
            procfs, &unmarked,
        ));
    }
    let family = crate::analyze::runtime::family::Family::of(&samples);
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

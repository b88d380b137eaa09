//! `procscope ports [PORT]`: which process listens on (or talks over) which port, across
//! every network namespace, with every holder of a shared socket.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value as Json};

use crate::analyze::sockets::{endpoint, inet_info, unix_info};
use crate::collect::holders::{HolderScan, Kind, netns_of, scan_holders};
use crate::collect::net::{Proto, SocketTables};
use crate::collect::{Needs, ProcFs, ProcessSample, UserNames};
use crate::commands::holder_names::HolderNames;
use crate::exit::{self, Exit};
use crate::model::Unavailable;
use crate::model::fd::SocketInfo;
use crate::model::socket::{PortList, PortRow, SocketHolder};
use crate::render::json;
use crate::render::table::{self, Align, Text};
use crate::render::{Report, Style};

/// What `ports` lists.
#[derive(Debug, Clone, Default)]
pub struct PortsQuery {
    pub port: Option<u16>,
    /// Every state, not only listening TCP and bound UDP.
    pub all: bool,
    pub tcp: bool,
    pub udp: bool,
    pub unix: bool,
    /// Keep only sockets held by this process.
    pub pid: Option<u32>,
}

impl PortsQuery {
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
}

/// Lists the sockets that match, with their holders.
pub fn run(query: PortsQuery, procfs: &ProcFs, users: &UserNames) -> anyhow::Result<PortsReport> {
    let holders = scan_holders(procfs, Kind::Sockets, true);
    let own_netns = procfs
        .process(std::process::id())
        .ok()
        .and_then(|dir| netns_of(&dir));
    let tables = namespaces(procfs, &holders, own_netns);
    let unreadable = |t: &SocketTables| {
        Proto::ALL
            .iter()
            .all(|p| t.missing.iter().any(|(name, _)| *name == p.name()))
    };
    if tables.iter().all(|(_, t)| unreadable(t)) {
        return Err(exit::Failure {
            exit: Exit::Fatal,
            message: format!(
                "no socket tables under {}/net (a proc mounted with subset=pid has none): sockets cannot be listed",
                procfs.root().display()
            ),
        }
        .into());
    }
    let mut names = HolderNames::new(procfs, users);
    let mut sockets = Vec::new();
    for (netns, table) in &tables {
        let mut found: Vec<(SocketInfo, Option<u32>)> = Vec::new();
        for (proto, socket) in &table.inet {
            let listening = if proto.is_tcp() {
                socket.state == 0x0A
            } else {
                socket.remote.1 == 0
            };
            if query.wants(*proto)
                && (query.all || listening)
                && query.port.is_none_or(|p| socket.local.1 == p)
            {
                found.push((inet_info(*proto, socket), Some(socket.uid)));
            }
        }
        if query.unix && query.port.is_none() {
            for socket in table.unix.iter().filter(|s| query.all || s.listening) {
                found.push((unix_info(socket), None));
            }
        }
        for (info, uid) in found {
            let inode = info.inode;
            let mut row = PortRow {
                socket: info,
                uid,
                user: uid.map(|uid| users.name(uid)),
                netns: *netns,
                holders: Vec::new(),
                unavailable: BTreeMap::new(),
            };
            // Inode 0: a connection no file refers to (not accepted yet, or TIME_WAIT).
            if inode != 0 {
                row.holders = holders
                    .by_inode
                    .get(&inode)
                    .map(|list| group_holders(list, &mut names))
                    .unwrap_or_default();
                if row.holders.is_empty() && holders.denied > 0 {
                    row.unavailable
                        .insert("holders".into(), Unavailable::PermissionDenied);
                }
            }
            if query
                .pid
                .is_none_or(|pid| row.holders.iter().any(|h| h.pid == pid))
            {
                sockets.push(row);
            }
        }
    }
    label_runtime_roles(procfs, &mut sockets);
    let list = PortList {
        sockets,
        netns: own_netns,
        namespaces: tables.len(),
        denied_processes: holders.denied,
    };
    Ok(PortsReport { list, query })
}

/// Marks holders that are Node.js cluster primaries or workers. The family is read only
/// when some holder runs Node.js at all.
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
    let family = crate::commands::family::Family::read(procfs, &nodes);
    for holder in sockets.iter_mut().flat_map(|s| s.holders.iter_mut()) {
        holder.role = family.label(holder.pid);
    }
}

/// The socket tables of every network namespace: ours through the proc root, each other
/// one once, through one of its processes. Without any namespace known (a fixture tree),
/// the proc root's tables alone.
fn namespaces(
    procfs: &ProcFs,
    holders: &HolderScan,
    own: Option<u64>,
) -> Vec<(Option<u64>, SocketTables)> {
    let mut tables = Vec::new();
    if let Some(own) = own {
        tables.push((Some(own), SocketTables::of_root(procfs)));
    }
    let mut seen: HashSet<u64> = own.into_iter().collect();
    let mut by_pid: Vec<(&u32, &u64)> = holders.netns.iter().collect();
    by_pid.sort();
    for (&pid, &netns) in by_pid {
        if seen.insert(netns)
            && let Ok(dir) = procfs.process(pid)
        {
            tables.push((Some(netns), SocketTables::of_process(&dir)));
        }
    }
    if tables.is_empty() {
        tables.push((None, SocketTables::of_root(procfs)));
    }
    tables
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
        let multiple_ns = self.list.namespaces > 1;
        let mut headers = vec![
            ("PROTO", Align::Left),
            ("LOCAL", Align::Left),
            ("REMOTE", Align::Left),
            ("STATE", Align::Left),
            ("PID", Align::Right),
            ("PROCESS", Align::Left),
            ("FD", Align::Left),
            ("USER", Align::Left),
        ];
        if multiple_ns {
            headers.push(("NETNS", Align::Left));
        }
        let mut rows = Vec::new();
        for socket in &self.list.sockets {
            let info = &socket.socket;
            let local = match (&info.local_address, info.local_port, &info.path) {
                (Some(address), Some(port), _) => endpoint(address, port),
                (_, _, Some(path)) => path.clone(),
                _ => "-".into(),
            };
            let remote = match (&info.remote_address, info.remote_port) {
                (Some(address), Some(port)) if port != 0 => endpoint(address, port),
                _ => "-".into(),
            };
            let base = [
                Text::plain(info.proto.clone()),
                Text::plain(local),
                Text::plain(remote),
                Text::plain(info.state.clone().unwrap_or_else(|| "-".into())),
            ];
            let netns = socket.netns.map_or_else(|| "-".into(), |n| n.to_string());
            let unknown_owner = if socket.unavailable.contains_key("holders") {
                "- (permission denied)"
            } else {
                "-"
            };
            let holders: Vec<Option<&SocketHolder>> = if socket.holders.is_empty() {
                vec![None]
            } else {
                socket.holders.iter().map(Some).collect()
            };
            for holder in holders {
                let mut row = base.to_vec();
                match holder {
                    Some(h) => row.extend([
                        Text::plain(h.pid.to_string()),
                        Text::plain(holder_text(h)),
                        Text::plain(
                            h.fds
                                .iter()
                                .map(u32::to_string)
                                .collect::<Vec<_>>()
                                .join(","),
                        ),
                        Text::plain(
                            h.user
                                .clone()
                                .or_else(|| socket.user.clone())
                                .unwrap_or_else(|| "-".into()),
                        ),
                    ]),
                    None => row.extend([
                        Text::plain("-"),
                        Text::plain(unknown_owner),
                        Text::plain("-"),
                        Text::plain(socket.user.clone().unwrap_or_else(|| "-".into())),
                    ]),
                }
                if multiple_ns {
                    row.push(Text::plain(netns.clone()));
                }
                rows.push(row);
            }
        }
        if rows.is_empty() {
            return String::new();
        }
        table::render(&headers, rows, *style)
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
                "{unknown} socket(s) without a known holder: {} process(es) could not be read (permission denied); run as root to see every holder",
                self.list.denied_processes
            ));
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

//! Sockets from sock_diag against `ss` and `lsof -i`: unix socket peers (nginx master ↔
//! workers, psql ↔ its backend over the unix socket) against `ss -xap`; TCP states and
//! Recv-Q/Send-Q (the redis client's 52 unread bytes, a connection whose queues are full)
//! against `ss -tan`; `ports --state established` against `ss -tnp state established`;
//! `ports PORT --all` (the listener and the clients) against `lsof -i TCP:PORT`. TCP
//! counters and timers: `compare_tcp_info`.

use std::collections::{BTreeMap, BTreeSet};

use crate::compare_files::bracketed;
use crate::peers::{
    Diffs, LsofFile, assert_agree, lsof_files, peer, procscope, settle, setup, suite_pids,
};
use crate::servers::Servers;

/// (pid, fd) of every holder.
type Holders = BTreeSet<(u64, u64)>;

fn json_holders(list: &serde_json::Value) -> Holders {
    let mut found = BTreeSet::new();
    for holder in list.as_array().into_iter().flatten() {
        for fd in holder["fds"].as_array().into_iter().flatten() {
            found.insert((holder["pid"].as_u64().unwrap(), fd.as_u64().unwrap()));
        }
    }
    found
}

/// `users:(("name",pid=N,fd=M),...)` of an `ss -p` line.
fn ss_holders(line: &str) -> Holders {
    let user = regex::Regex::new(r"pid=(\d+),fd=(\d+)").unwrap();
    user.captures_iter(line)
        .map(|c| (c[1].parse().unwrap(), c[2].parse().unwrap()))
        .collect()
}

/// A unix socket: (type, peer inode, holders, bound path or abstract `@name`).
type UnixEnd = (String, u64, Holders, Option<String>);

/// procscope's unix sockets by inode, with the holders of each peer as procscope names them.
fn procscope_unix() -> (BTreeMap<u64, UnixEnd>, BTreeMap<u64, Holders>) {
    let doc = procscope(&["ports", "--unix", "--all", "--json"]);
    let (mut ends, mut peers) = (BTreeMap::new(), BTreeMap::new());
    for socket in doc["sockets"].as_array().into_iter().flatten() {
        let inode = socket["inode"].as_u64().unwrap_or(0);
        let kind = socket["socket_type"].as_str().unwrap_or("").to_owned();
        let peer = socket["peer_inode"].as_u64().unwrap_or(0);
        let path = socket["path"].as_str().map(str::to_owned);
        ends.insert(inode, (kind, peer, json_holders(&socket["holders"]), path));
        peers.insert(inode, json_holders(&socket["peer_holders"]));
    }
    (ends, peers)
}

/// `ss -Hxap`: Netid State Recv-Q Send-Q Local Inode Peer PeerInode users:(...).
fn ss_unix() -> Option<BTreeMap<u64, UnixEnd>> {
    let text = peer("ss", &["-H", "-xap"])?;
    let mut ends = BTreeMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (Some(inode), Some(peer)) = (
            f.get(5).and_then(|v| v.parse().ok()),
            f.get(7).and_then(|v| v.parse().ok()),
        ) else {
            continue;
        };
        let kind = match f[0] {
            "u_str" => "stream",
            "u_dgr" => "dgram",
            "u_seq" => "seqpacket",
            other => other,
        };
        let path = Some(f[4]).filter(|p| *p != "*").map(str::to_owned);
        ends.insert(inode, (kind.to_owned(), peer, ss_holders(line), path));
    }
    Some(ends)
}

#[test]
fn unix_peers_match_ss() {
    let Some(servers) = setup() else { return };
    let found = settle("ports --unix --all vs ss -xap", |diffs| {
        let keep = suite_pids(servers);
        let (ours, our_peers) = procscope_unix();
        let Some(theirs) = ss_unix() else { return };
        let held = |ends: &BTreeMap<u64, UnixEnd>| -> BTreeSet<u64> {
            ends.iter()
                .filter(|(_, end)| end.2.iter().any(|(pid, _)| keep.contains(pid)))
                .map(|(inode, _)| *inode)
                .collect()
        };
        // The suite's sockets, their types, peers and holders: exact.
        let (our_set, their_set) = (held(&ours), held(&theirs));
        diffs.sets("unix sockets of the suite", "inodes", &our_set, &their_set);
        let mut pairs = 0;
        for inode in our_set.intersection(&their_set) {
            let what = format!("unix socket {inode}");
            let (kind, peer, holders, path) = &ours[inode];
            diffs.eq("type", &what, kind, &theirs[inode].0);
            diffs.eq("peer inode", &what, *peer, theirs[inode].1);
            diffs.eq("holders", &what, holders, &theirs[inode].2);
            diffs.eq("path", &what, path, &theirs[inode].3);
            // The peer's holders as ss lists them on the peer's own line.
            let their_peer = theirs
                .get(peer)
                .map(|end| end.2.clone())
                .unwrap_or_default();
            diffs.eq("peer holders", &what, &our_peers[inode], &their_peer);
            pairs += usize::from(!their_peer.is_empty());
        }
        expect_pairs(diffs, servers, &ours, &our_peers, pairs);
    });
    assert_agree("unix_peers_match_ss", &found);
}

/// The pairs the suite made must be there: nginx's master ↔ worker socketpairs, and each
/// psql client over the unix socket ↔ a postgres backend.
fn expect_pairs(
    diffs: &mut Diffs,
    servers: &Servers,
    ours: &BTreeMap<u64, UnixEnd>,
    peers: &BTreeMap<u64, Holders>,
    pairs: usize,
) {
    let linked = |from: &BTreeSet<u64>, to: &BTreeSet<u64>| {
        ours.iter().any(|(inode, end)| {
            end.2.iter().any(|h| from.contains(&h.0))
                && peers[inode].iter().any(|h| to.contains(&h.0))
        })
    };
    let family = |top: u32| -> BTreeSet<u64> {
        crate::peers::family_of(top)
            .into_iter()
            .map(u64::from)
            .collect()
    };
    if let Some(nginx) = servers.get("nginx") {
        let master = BTreeSet::from([u64::from(nginx.root)]);
        let workers: BTreeSet<u64> = &family(nginx.root) - &master;
        diffs.eq(
            "master ↔ worker pair",
            "nginx",
            linked(&master, &workers),
            true,
        );
    }
    if let Some(postgres) = servers.get("postgres") {
        let backends = &family(postgres.root) - &BTreeSet::from([u64::from(postgres.root)]);
        let psql: BTreeSet<u64> = postgres.clients.iter().map(|&p| u64::from(p)).collect();
        diffs.eq(
            "psql ↔ backend pair",
            "postgres",
            linked(&psql, &backends),
            true,
        );
    }
    let paired = servers.get("nginx").is_some() || servers.get("postgres").is_some();
    diffs.eq("connected pairs compared", "suite", pairs > 0, paired);
}

/// A TCP socket's ends: ("address:port", "address:port").
pub(crate) type Ends = (String, String);
/// (state, Recv-Q, Send-Q, holders).
type TcpRow = (String, u64, u64, Holders);

/// A `ports --json` socket's ends, as ss and lsof write them.
pub(crate) fn json_ends(socket: &serde_json::Value) -> Ends {
    let end = |address: &str, port: &str| {
        let address = socket[address].as_str().unwrap_or("");
        endpoint(address, socket[port].as_u64().unwrap_or(0))
    };
    (
        end("local_address", "local_port"),
        end("remote_address", "remote_port"),
    )
}

fn endpoint(address: &str, port: u64) -> String {
    format!("{}:{port}", bracketed(address))
}

/// procscope's TCP sockets by their ends (`ports ARGS --json`).
fn procscope_tcp(args: &[&str]) -> BTreeMap<Ends, TcpRow> {
    let mut all = vec!["ports", "--tcp", "--json"];
    all.extend_from_slice(args);
    let doc = procscope(&all);
    let mut rows = BTreeMap::new();
    for socket in doc["sockets"].as_array().into_iter().flatten() {
        let text = |key: &str| socket[key].as_str().unwrap_or("").to_owned();
        let ends = json_ends(socket);
        let queue = |key: &str| socket[key].as_u64().unwrap_or(u64::MAX);
        let row = (
            text("state"),
            queue("recv_queue"),
            queue("send_queue"),
            json_holders(&socket["holders"]),
        );
        rows.insert(ends, row);
    }
    rows
}

/// ss's state names as procscope (and the kernel's tcp_states.h) spell them.
fn ss_state(name: &str) -> String {
    match name {
        "ESTAB" => "ESTABLISHED",
        "FIN-WAIT-1" => "FIN_WAIT1",
        "FIN-WAIT-2" => "FIN_WAIT2",
        "UNCONN" => "CLOSE",
        other => return other.replace('-', "_"),
    }
    .to_owned()
}

/// `ss -H -tnp ARGS`: rows by ends. With a state filter ss leaves out the State column.
fn ss_tcp(args: &[&str], state_column: bool) -> Option<BTreeMap<Ends, TcpRow>> {
    let mut all = vec!["-H", "-tnp"];
    all.extend_from_slice(args);
    let text = peer("ss", &all)?;
    let mut rows = BTreeMap::new();
    for line in text.lines() {
        let mut f: Vec<&str> = line.split_whitespace().collect();
        if !state_column {
            f.insert(0, "ESTAB");
        }
        if f.len() < 5 {
            continue;
        }
        let (Ok(recv), Ok(send)) = (f[1].parse(), f[2].parse()) else {
            continue;
        };
        let ends = (wildcard(f[3]), wildcard(f[4]));
        rows.insert(ends, (ss_state(f[0]), recv, send, ss_holders(line)));
    }
    Some(rows)
}

/// ss's `*` (any address, no port) as procscope's numbers: `0.0.0.0:*` → `0.0.0.0:0`.
pub(crate) fn wildcard(end: &str) -> String {
    let end = end
        .strip_suffix(":*")
        .map_or(end.to_owned(), |e| format!("{e}:0"));
    end.strip_prefix("*:")
        .map_or(end.clone(), |p| format!("0.0.0.0:{p}"))
}

/// Only the rows on the suite's TCP ports (either end), so other software cannot interfere.
pub(crate) fn on_ports<T>(rows: BTreeMap<Ends, T>, ports: &BTreeSet<String>) -> BTreeMap<Ends, T> {
    let port = |end: &str| end.rsplit(':').next().unwrap_or("").to_owned();
    rows.into_iter()
        .filter(|((l, r), _)| ports.contains(&port(l)) || ports.contains(&port(r)))
        .collect()
}

pub(crate) fn tcp_ports(servers: &Servers) -> BTreeSet<String> {
    servers
        .list
        .iter()
        .filter(|s| s.name != "python-udp")
        .flat_map(|s| s.ports.iter().map(u16::to_string))
        .collect()
}

fn compare_tcp(
    diffs: &mut Diffs,
    what: &str,
    ours: &BTreeMap<Ends, TcpRow>,
    theirs: &BTreeMap<Ends, TcpRow>,
) {
    let our_set: BTreeSet<&Ends> = ours.keys().collect();
    let their_set: BTreeSet<&Ends> = theirs.keys().collect();
    diffs.sets("connections", what, &our_set, &their_set);
    for ends in our_set.intersection(&their_set) {
        let label = format!("{what} {} -> {}", ends.0, ends.1);
        // State, queues and holders: exact (idle servers; the full queues stay full).
        diffs.eq(
            "state, Recv-Q, Send-Q, holders",
            &label,
            &ours[*ends],
            &theirs[*ends],
        );
    }
}

#[test]
fn tcp_queues_match_ss() {
    let Some(servers) = setup() else { return };
    let ports = tcp_ports(servers);
    let found = settle("ports --all vs ss -tanp", |diffs| {
        let ours = on_ports(procscope_tcp(&["--all"]), &ports);
        let Some(theirs) = ss_tcp(&["-a"], true) else {
            return;
        };
        let theirs = on_ports(theirs, &ports);
        compare_tcp(diffs, "tcp", &ours, &theirs);
        expect_unread(diffs, servers, &ours);
    });
    assert_agree("tcp_queues_match_ss", &found);
}

/// The redis client's queues the test caused: one connection with exactly the 52 unread
/// bytes of the ECHO reply, one whose receive queue (client) and send queue (redis) are
/// not empty because the client never reads a 4 MiB reply.
fn expect_unread(diffs: &mut Diffs, servers: &Servers, ours: &BTreeMap<Ends, TcpRow>) {
    let Some(redis) = servers.get("redis") else {
        return;
    };
    let client = u64::from(redis.clients[0]);
    let client_rows: Vec<&TcpRow> = ours
        .values()
        .filter(|row| row.3.iter().any(|h| h.0 == client))
        .collect();
    let unread: Vec<u64> = client_rows.iter().map(|row| row.1).collect();
    diffs.eq(
        "a client connection with the 52 unread bytes",
        "redis client",
        unread.contains(&crate::recipes::UNREAD_REPLY),
        true,
    );
    diffs.eq("client connections", "redis client", client_rows.len(), 2);
    let server_sends = ours
        .values()
        .filter(|row| row.0 == "ESTABLISHED" && row.2 > 0)
        .filter(|row| row.3.iter().any(|h| h.0 == u64::from(redis.root)))
        .count();
    diffs.eq("redis connections with a Send-Q", "redis", server_sends, 1);
}

#[test]
fn established_filter_matches_ss_state() {
    let Some(servers) = setup() else { return };
    let ports = tcp_ports(servers);
    let found = settle(
        "ports --state established vs ss state established",
        |diffs| {
            let ours = on_ports(procscope_tcp(&["--state", "established"]), &ports);
            let Some(theirs) = ss_tcp(&["state", "established"], false) else {
                return;
            };
            compare_tcp(diffs, "established", &ours, &on_ports(theirs, &ports));
            // Only established connections, and (with redis' client) some.
            let other = ours.values().any(|row| row.0 != "ESTABLISHED");
            diffs.eq("states other than ESTABLISHED", "established", other, false);
            if servers.get("redis").is_some() {
                diffs.eq("connections at all", "established", ours.is_empty(), false);
            }
        },
    );
    assert_agree("established_filter_matches_ss_state", &found);
}

/// (pid, fd, "local" or "local->remote") as `lsof -i` names them.
type InetHold = (u64, u64, String);

#[test]
fn ports_all_matches_lsof_i() {
    let Some(servers) = setup() else { return };
    let mut found = Vec::new();
    for server in servers.list.iter().filter(|s| s.name != "python-udp") {
        let port = server.ports[0].to_string();
        found.extend(settle(
            &format!("ports {port} --all vs lsof -i TCP:{port} ({})", server.name),
            |diffs| {
                let mut ours = BTreeSet::new();
                for ((local, remote), (state, _, _, holders)) in procscope_tcp(&[&port, "--all"]) {
                    let name = if state == "LISTEN" {
                        local.clone()
                    } else {
                        format!("{local}->{remote}")
                    };
                    ours.extend(holders.iter().map(|&(pid, fd)| (pid, fd, name.clone())));
                }
                let Some(theirs) = lsof_inet(&port) else {
                    return;
                };
                // Every holder of every socket with the port at either end: exact.
                diffs.sets("holders vs lsof -i", server.name, &ours, &theirs);
                if server.name == "redis" {
                    let client = u64::from(server.clients[0]);
                    let clients = ours.iter().filter(|h| h.0 == client).count();
                    diffs.eq("client sockets found", "redis", clients, 2);
                }
            },
        ));
    }
    assert_agree("ports_all_matches_lsof_i", &found);
}

fn lsof_inet(port: &str) -> Option<BTreeSet<InetHold>> {
    let files = lsof_files("f", &[&format!("-iTCP:{port}")])?;
    let hold = |f: LsofFile| {
        (
            f.pid,
            f.get('f').parse().unwrap_or(u64::MAX),
            f.get('n').into(),
        )
    };
    Some(files.into_iter().map(hold).collect())
}

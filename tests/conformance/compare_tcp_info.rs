//! What `ss -i` and `ss -o` tell about TCP connections, against `ports --info`: the byte
//! counters of tcp_info (52 bytes each way on the redis client's `ECHO` connection) and the
//! armed timers (the zero-window probe of the connection whose reply is never read, the
//! TIME_WAIT sockets of the suite's readiness checks).

use std::collections::BTreeMap;

use crate::compare_sockets::{Ends, json_ends, on_ports, tcp_ports, wildcard};
use crate::peers::{assert_agree, peer, procscope, settle, setup};

/// (bytes_acked, bytes_received) of each established connection.
type Bytes = BTreeMap<Ends, (u64, u64)>;

/// `ss -Htnpi state established`: each socket line is followed by an indented line of
/// tcp_info, where ss leaves out a byte counter that is 0.
fn ss_bytes() -> Option<Bytes> {
    let text = peer("ss", &["-H", "-tnpi", "state", "established"])?;
    let counter = |line: &str, name: &str| -> u64 {
        line.split_whitespace()
            .find_map(|f| f.strip_prefix(name)?.parse().ok())
            .unwrap_or(0)
    };
    let mut found = BTreeMap::new();
    let mut ends = None;
    for line in text.lines() {
        if line.starts_with(char::is_whitespace) {
            if let Some(ends) = ends.take() {
                let bytes = (
                    counter(line, "bytes_acked:"),
                    counter(line, "bytes_received:"),
                );
                found.insert(ends, bytes);
            }
        } else {
            let f: Vec<&str> = line.split_whitespace().collect();
            ends = (f.len() >= 4).then(|| (wildcard(f[2]), wildcard(f[3])));
        }
    }
    Some(found)
}

fn procscope_bytes() -> Bytes {
    let doc = procscope(&["ports", "--tcp", "--state", "established", "--json"]);
    let mut found = BTreeMap::new();
    for socket in doc["sockets"].as_array().into_iter().flatten() {
        let ends = json_ends(socket);
        let info = &socket["tcp_info"];
        let counter = |key: &str| info[key].as_u64().unwrap_or(u64::MAX);
        found.insert(ends, (counter("bytes_acked"), counter("bytes_received")));
    }
    found
}

#[test]
fn tcp_byte_counters_match_ss_info() {
    let Some(servers) = setup() else { return };
    let ports = tcp_ports(servers);
    let found = settle("ports --state established (tcp_info) vs ss -tni", |diffs| {
        let ours = on_ports(procscope_bytes(), &ports);
        let Some(theirs) = ss_bytes() else { return };
        // bytes_acked and bytes_received of idle connections: exact.
        diffs.eq(
            "bytes acked, received",
            "established",
            &ours,
            &on_ports(theirs, &ports),
        );
        // The redis client's first connection carried 52 bytes each way (`ECHO` + 45 bytes
        // + CRLF, and the reply). The kernel's bytes_acked of the connecting end also counts
        // its SYN: 53 there.
        if servers.get("redis").is_some() {
            let ends: Vec<&(u64, u64)> = ours.values().collect();
            diffs.eq(
                "redis end of the ECHO connection",
                "redis",
                ends.contains(&&(52, 52)),
                true,
            );
            diffs.eq(
                "client end of the ECHO connection",
                "redis",
                ends.contains(&&(53, 52)),
                true,
            );
        }
    });
    assert_agree("tcp_byte_counters_match_ss_info", &found);
}

/// (kind, retransmits or probes) of each TCP socket's armed timer; `None` when none is.
type Timers = BTreeMap<Ends, Option<(String, u64)>>;

/// `ss -H -tano`: the State column, queues, ends, then `timer:(KIND,EXPIRES,COUNT)` when one
/// is armed.
fn ss_timers() -> Option<Timers> {
    let text = peer("ss", &["-H", "-tano"])?;
    let timer = regex::Regex::new(r"timer:\((\w+),[^,]*,(\d+)\)").unwrap();
    let mut found = BTreeMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 5 {
            continue;
        }
        let armed = timer
            .captures(line)
            .map(|c| (c[1].to_owned(), c[2].parse().unwrap_or(u64::MAX)));
        found.insert((wildcard(f[3]), wildcard(f[4])), armed);
    }
    Some(found)
}

fn procscope_timers() -> Timers {
    let doc = procscope(&["ports", "--tcp", "--all", "--info", "--json"]);
    let mut found = BTreeMap::new();
    for socket in doc["sockets"].as_array().into_iter().flatten() {
        let ends = json_ends(socket);
        let timer = &socket["timer"];
        let armed = timer["kind"].as_str().map(|kind| {
            let count = timer["retransmits"].as_u64().unwrap_or(u64::MAX);
            (kind.to_owned(), count)
        });
        found.insert(ends, armed);
    }
    found
}

#[test]
fn tcp_timers_match_ss_o() {
    let Some(servers) = setup() else { return };
    let ports = tcp_ports(servers);
    let found = settle("ports --all --info (timer) vs ss -tao", |diffs| {
        let ours = on_ports(procscope_timers(), &ports);
        let Some(theirs) = ss_timers() else { return };
        let theirs = on_ports(theirs, &ports);
        // The kind of timer and its count of retransmissions or probes: exact (a timer's
        // time left runs down between the reads and is not compared).
        diffs.eq("timers (kind, count)", "tcp", &ours, &theirs);
        if servers.get("redis").is_some() {
            let persist = ours.values().flatten().filter(|t| t.0 == "persist").count();
            diffs.eq("zero-window probe timers", "redis", persist, 1);
        }
    });
    assert_agree("tcp_timers_match_ss_o", &found);
}

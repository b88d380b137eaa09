//! Descriptors against `lsof -p`, listening sockets against `lsof -i` and `ss -ltnup`, unix
//! listeners against `ss -xlp`.

use std::collections::{BTreeMap, BTreeSet};

use crate::peers::{LsofFile, assert_agree, family, lsof_files, peer, procscope, settle, setup};

/// `lsof -F` output as records: for each process `p`, its fds as (fd field, type, name).
fn lsof_records(args: &[&str]) -> Option<Vec<(u64, String, String, String)>> {
    let files = lsof_files("ft", args)?;
    let record = |f: &LsofFile| {
        (
            f.pid,
            f.get('f').into(),
            f.get('t').into(),
            f.get('n').into(),
        )
    };
    Some(files.iter().map(record).collect())
}

#[test]
fn fds_match_lsof() {
    let Some(servers) = setup() else { return };
    let mut found = Vec::new();
    for server in &servers.list {
        for pid in family(server) {
            found.extend(settle(
                &format!("fds vs lsof -p {pid} ({})", server.name),
                |diffs| {
                    let Some(records) = lsof_records(&["-p", &pid.to_string()]) else {
                        return;
                    };
                    let doc = procscope(&["fds", &pid.to_string(), "--json"]);
                    let what = format!("PID {pid}");
                    // Numbered descriptors only (lsof also lists cwd, txt, mem...).
                    let theirs: BTreeMap<u64, (String, String)> = records
                        .into_iter()
                        .filter_map(|(_, fd, kind, name)| {
                            let number = fd.trim_end_matches(|c: char| !c.is_ascii_digit());
                            Some((number.parse().ok()?, (kind, name)))
                        })
                        .collect();
                    let ours: BTreeMap<u64, (String, String)> = doc["fds"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|fd| {
                            let kind = fd["type"].as_str().unwrap_or("").to_owned();
                            let target = fd["target"].as_str().unwrap_or("").to_owned();
                            (fd["fd"].as_u64().unwrap(), (kind, target))
                        })
                        .collect();
                    // Descriptor set: exact (idle servers; re-read if one opened or closed).
                    let our_set: BTreeSet<u64> = ours.keys().copied().collect();
                    let their_set: BTreeSet<u64> = theirs.keys().copied().collect();
                    diffs.sets("fd set", &what, &our_set, &their_set);
                    for fd in our_set.intersection(&their_set) {
                        let (their_kind, their_name) = &theirs[fd];
                        // Regular files and directories: the same path, exactly.
                        if their_kind == "REG" || their_kind == "DIR" {
                            let path = their_name.trim_end_matches(" (deleted)");
                            diffs.eq(
                                "fd target",
                                &format!("{what} fd {fd}"),
                                ours[fd].1.trim_end_matches(" (deleted)"),
                                path,
                            );
                        }
                        if their_kind == "FIFO" {
                            diffs.eq(
                                "fd type",
                                &format!("{what} fd {fd}"),
                                ours[fd].0.as_str(),
                                "pipe",
                            );
                        }
                        if their_kind == "unix" {
                            diffs.eq(
                                "fd type",
                                &format!("{what} fd {fd}"),
                                ours[fd].0.as_str(),
                                "unix",
                            );
                        }
                    }
                },
            ));
        }
    }
    assert_agree("fds_match_lsof", &found);
}

/// A holder tuple: (pid, fd, proto, "address:port") with IPv6 addresses in brackets.
type Holder = (u64, u64, String, String);

pub(crate) fn bracketed(address: &str) -> String {
    if address.contains(':') {
        format!("[{address}]")
    } else {
        address.to_owned()
    }
}

fn procscope_holders(port: u16) -> BTreeSet<Holder> {
    let doc = procscope(&["ports", &port.to_string(), "--json"]);
    let mut found = BTreeSet::new();
    for socket in doc["sockets"].as_array().into_iter().flatten() {
        let address = format!(
            "{}:{}",
            bracketed(socket["local_address"].as_str().unwrap_or("")),
            socket["local_port"]
        );
        let proto = socket["proto"]
            .as_str()
            .unwrap_or("")
            .trim_end_matches('6')
            .to_owned();
        for holder in socket["holders"].as_array().into_iter().flatten() {
            for fd in holder["fds"].as_array().into_iter().flatten() {
                found.insert((
                    holder["pid"].as_u64().unwrap(),
                    fd.as_u64().unwrap(),
                    proto.clone(),
                    address.clone(),
                ));
            }
        }
    }
    found
}

fn lsof_holders(port: u16) -> Option<BTreeSet<Holder>> {
    let mut found = BTreeSet::new();
    // Asked per protocol, as `-F` names carry none: TCP listeners, then bound UDP sockets.
    for (proto, args) in [
        (
            "tcp",
            vec!["-sTCP:LISTEN".to_owned(), format!("-iTCP:{port}")],
        ),
        ("udp", vec![format!("-iUDP:{port}")]),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        for (pid, fd, _, name) in lsof_records(&args)? {
            let Ok(fd) = fd.trim_end_matches(|c: char| !c.is_ascii_digit()).parse() else {
                continue;
            };
            // A connected socket's name is `local->remote`; listeners have only `local`.
            if !name.contains("->") {
                found.insert((pid, fd, proto.to_owned(), name));
            }
        }
    }
    Some(found)
}

/// `ss -Hltnup` (or `ss -Hxlp`) lines: holder tuples from `users:(("name",pid=N,fd=M),...)`.
fn ss_holders(args: &str, port: Option<u16>) -> Option<BTreeSet<Holder>> {
    let text = peer("ss", &["-H", args])?;
    let user = regex::Regex::new(r"pid=(\d+),fd=(\d+)").unwrap();
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        // Netid State Recv-Q Send-Q Local Peer [Process]
        if f.len() < 6 {
            continue;
        }
        let local = f[4].to_owned();
        if let Some(port) = port
            && !local.ends_with(&format!(":{port}"))
        {
            continue;
        }
        for cap in user.captures_iter(line) {
            found.insert((
                cap[1].parse().unwrap(),
                cap[2].parse().unwrap(),
                f[0].to_owned(),
                local.clone(),
            ));
        }
    }
    Some(found)
}

#[test]
fn listeners_match_lsof_and_ss() {
    let Some(servers) = setup() else { return };
    let mut found = Vec::new();
    for server in &servers.list {
        for &port in &server.ports {
            found.extend(settle(
                &format!("ports {port} vs lsof -i and ss -ltnup ({})", server.name),
                |diffs| {
                    let ours = procscope_holders(port);
                    let what = format!("port {port} ({})", server.name);
                    // Holder tuples (pid, fd, proto, address): exact.
                    if let Some(theirs) = lsof_holders(port) {
                        diffs.sets("holders vs lsof -i", &what, &ours, &theirs);
                    }
                    if let Some(theirs) = ss_holders("-ltnup", Some(port)) {
                        diffs.sets("holders vs ss -ltnup", &what, &ours, &theirs);
                    }
                    diffs.eq("listening at all", &what, ours.is_empty(), false);
                },
            ));
        }
    }
    assert_agree("listeners_match_lsof_and_ss", &found);
}

#[test]
fn unix_listeners_match_ss() {
    let Some(servers) = setup() else { return };
    let mut found = Vec::new();
    if servers.get("postgres").is_none() {
        return;
    }
    found.extend(settle("ports --unix vs ss -xlp", |diffs| {
        let Some(theirs) = ss_holders("-xlp", None) else {
            return;
        };
        let ours_doc = procscope(&["ports", "--unix", "--json"]);
        let mut ours = BTreeSet::new();
        for socket in ours_doc["sockets"].as_array().into_iter().flatten() {
            let path = socket["path"].as_str().unwrap_or("").to_owned();
            for holder in socket["holders"].as_array().into_iter().flatten() {
                for fd in holder["fds"].as_array().into_iter().flatten() {
                    ours.insert((
                        holder["pid"].as_u64().unwrap(),
                        fd.as_u64().unwrap(),
                        "u_str".to_owned(),
                        path.clone(),
                    ));
                }
            }
        }
        // Only the suite's own sockets (in its temporary directories): other software on
        // the machine may come and go. Exact.
        let ours_here: BTreeSet<Holder> = ours
            .into_iter()
            .filter(|h| h.3.contains("procscope-conformance-"))
            .collect();
        let theirs_here: BTreeSet<Holder> = theirs
            .into_iter()
            .filter(|h| h.3.contains("procscope-conformance-"))
            .map(|(pid, fd, kind, local)| {
                (
                    pid,
                    fd,
                    kind,
                    local
                        .rsplit_once(' ')
                        .map_or(local.clone(), |(p, _)| p.to_owned()),
                )
            })
            .collect();
        diffs.sets(
            "unix listeners",
            "postgres socket",
            &ours_here,
            &theirs_here,
        );
        diffs.eq(
            "unix listeners found",
            "postgres socket",
            theirs_here.is_empty(),
            false,
        );
    }));
    assert_agree("unix_listeners_match_ss", &found);
}

//! The STAT column against `ps -o stat`, and `ps --group-by name|user` totals against a
//! hand sum over `ps -o rss,nlwp`, the test's own count of /proc/PID/fd and
//! /proc/PID/smaps_rollup (`--pss`), for the processes of each server.

use std::collections::{BTreeMap, BTreeSet};

use crate::peers::{Diffs, assert_agree, family_of, fields, peer, procscope, settle, setup};
use crate::servers::Server;

/// The server's processes and its clients' (psql, the redis client).
fn processes(server: &Server) -> Vec<u32> {
    let tops = std::iter::once(server.root).chain(server.clients.iter().copied());
    let mut all: Vec<u32> = tops.flat_map(family_of).collect();
    all.sort_unstable();
    all
}

fn pid_list(pids: &[u32]) -> String {
    pids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn stat_matches_ps() {
    let Some(servers) = setup() else { return };
    let mut found = Vec::new();
    let mut modifiers = BTreeSet::new();
    for server in &servers.list {
        let list = pid_list(&processes(server));
        found.extend(settle(
            &format!("STAT vs ps -o stat ({})", server.name),
            |diffs| {
                let doc = procscope(&["ps", "-o", "pid,stat", "--pid", &list, "--json"]);
                let ours: BTreeMap<u64, String> = doc["processes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| {
                        (
                            r["pid"].as_u64().unwrap(),
                            r["stat"].as_str().unwrap_or("").to_owned(),
                        )
                    })
                    .collect();
                let Some(text) = peer("ps", &["-o", "pid=,stat=", "-p", &list]) else {
                    return;
                };
                let theirs: BTreeMap<u64, String> = text
                    .lines()
                    .filter_map(|line| {
                        let (f, _) = fields(line, 2)?;
                        Some((f[0].parse().ok()?, f[1].to_owned()))
                    })
                    .collect();
                let our_pids: BTreeSet<&u64> = ours.keys().collect();
                let their_pids: BTreeSet<&u64> = theirs.keys().collect();
                diffs.sets("pids", server.name, &our_pids, &their_pids);
                for pid in our_pids.intersection(&their_pids) {
                    let what = format!("PID {pid} ({})", server.name);
                    let (ours, theirs) = (&ours[*pid], &theirs[*pid]);
                    // State letter: R/S may flip between the reads (see Diffs::state); the
                    // modifiers (<, N, L, s, l, +) do not change on an idle server: exact.
                    diffs.state("stat letter", &what, &ours[..1], &theirs[..1]);
                    diffs.eq("stat modifiers", &what, &ours[1..], &theirs[1..]);
                    modifiers.extend(theirs[1..].chars());
                }
            },
        ));
    }
    // The suite has session leaders, multi-threaded processes, a niced redis client and a
    // UDP server at a raised priority.
    let wanted = BTreeSet::from(['s', 'l', 'N', '<']);
    if servers.missing.is_empty() && !wanted.is_subset(&modifiers) {
        found.push(format!(
            "STAT modifiers seen: {modifiers:?}, wanted {wanted:?}"
        ));
    }
    assert_agree("stat_matches_ps", &found);
}

/// One process by the peers: (name, user, RSS KiB, threads, fds, PSS KiB).
struct Counted {
    name: String,
    user: String,
    rss_kib: u64,
    threads: u64,
    fds: u64,
    pss_kib: u64,
}

/// `ps -o pid=,rss=,nlwp=,user:64=,comm=` plus the test's count of /proc/PID/fd and the
/// `Pss:` line of /proc/PID/smaps_rollup.
fn counted(pids: &[u32]) -> Option<BTreeMap<u64, Counted>> {
    let text = peer(
        "ps",
        &[
            "-o",
            "pid=,rss=,nlwp=,user:64=,comm=",
            "-p",
            &pid_list(pids),
        ],
    )?;
    let mut rows = BTreeMap::new();
    for line in text.lines() {
        let Some((f, name)) = fields(line, 4) else {
            continue;
        };
        let Ok(pid) = f[0].parse::<u64>() else {
            continue;
        };
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count() as u64);
        let rollup =
            std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        let pss_kib = rollup
            .lines()
            .find_map(|l| l.strip_prefix("Pss:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0);
        rows.insert(
            pid,
            Counted {
                name: name.trim().to_owned(),
                user: f[3].to_owned(),
                rss_kib: f[1].parse().unwrap_or(0),
                threads: f[2].parse().unwrap_or(0),
                fds,
                pss_kib,
            },
        );
    }
    Some(rows)
}

#[test]
fn group_by_sums_match_a_hand_sum() {
    let Some(servers) = setup() else { return };
    let mut found = Vec::new();
    for server in &servers.list {
        let pids = processes(server);
        for key in ["name", "user"] {
            found.extend(settle(
                &format!("ps --group-by {key} --pss vs a hand sum ({})", server.name),
                |diffs| {
                    let list = pid_list(&pids);
                    let args = ["ps", "--group-by", key, "--pss", "--pid", &list, "--json"];
                    let doc = procscope(&args);
                    let Some(rows) = counted(&pids) else { return };
                    compare_groups(diffs, key, server.name, &doc, &rows);
                },
            ));
        }
    }
    assert_agree("group_by_sums_match_a_hand_sum", &found);
}

fn compare_groups(
    diffs: &mut Diffs,
    key: &str,
    server: &str,
    doc: &serde_json::Value,
    rows: &BTreeMap<u64, Counted>,
) {
    let mut hand: BTreeMap<&str, Vec<(&u64, &Counted)>> = BTreeMap::new();
    for (pid, row) in rows {
        let group = if key == "name" { &row.name } else { &row.user };
        hand.entry(group.as_str()).or_default().push((pid, row));
    }
    let groups: BTreeMap<&str, &serde_json::Value> = doc["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| (g["key"].as_str().unwrap_or(""), g))
        .collect();
    let our_keys: BTreeSet<&&str> = groups.keys().collect();
    let hand_keys: BTreeSet<&&str> = hand.keys().collect();
    diffs.sets(&format!("{key} groups"), server, &our_keys, &hand_keys);
    for (group, members) in &hand {
        let Some(ours) = groups.get(group) else {
            continue;
        };
        let what = format!("{server}, {key} {group}");
        let sum = |f: fn(&Counted) -> u64| members.iter().map(|(_, c)| f(c)).sum::<u64>();
        let pids: BTreeSet<u64> = members.iter().map(|(p, _)| **p).collect();
        let our_pids: BTreeSet<u64> = ours["pids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_u64())
            .collect();
        // Members, counts, threads and descriptors: exact (idle servers).
        diffs.sets("pids", &what, &our_pids, &pids);
        diffs.eq(
            "processes",
            &what,
            ours["processes"].as_u64(),
            Some(pids.len() as u64),
        );
        diffs.eq(
            "threads",
            &what,
            ours["threads"].as_u64(),
            Some(sum(|c| c.threads)),
        );
        diffs.eq("fds", &what, ours["fds"].as_u64(), Some(sum(|c| c.fds)));
        // RSS: each process may touch or free pages between the reads, so the tolerance is
        // the sum of the per-process one used against ps (1% or 64 KiB). PSS: the sum of
        // 2% or 256 KiB each, as the readers' own mappings of shared libraries change the
        // divisor (see compare_memory).
        let kib = |field: &str| ours[field].as_u64().unwrap_or(0) / 1024;
        let rss_tolerance = sum(|c| (c.rss_kib / 100).max(64));
        diffs.near(
            "rss",
            &what,
            kib("rss_bytes"),
            sum(|c| c.rss_kib),
            rss_tolerance,
        );
        let pss_tolerance = sum(|c| (c.pss_kib / 50).max(256));
        diffs.near(
            "pss",
            &what,
            kib("pss_bytes"),
            sum(|c| c.pss_kib),
            pss_tolerance,
        );
    }
}

//! Process rows against `ps -eo`, `/proc/PID/status` and threads against `top -H`.

use std::collections::{BTreeMap, BTreeSet};

use crate::peers::{
    Diffs, assert_agree, descendants, family, fields, peer, procscope, ps_rows, settle, setup,
};

/// One `ps -eo pid,ppid,user,stat,rss,vsz,nlwp,args` row.
struct PsLine {
    ppid: u64,
    user: String,
    state: char,
    rss_kib: u64,
    vsz_kib: u64,
    threads: u64,
    args: String,
}

fn ps_peer() -> Option<BTreeMap<u64, PsLine>> {
    let text = peer(
        "ps",
        &[
            "-eo",
            "pid,ppid,user:64,stat,rss,vsz,nlwp,args",
            "--no-headers",
            "-ww",
        ],
    )?;
    Some(
        text.lines()
            .filter_map(|line| {
                let (f, args) = fields(line, 7)?;
                Some((
                    f[0].parse().ok()?,
                    PsLine {
                        ppid: f[1].parse().ok()?,
                        user: f[2].to_owned(),
                        state: f[3].chars().next()?,
                        rss_kib: f[4].parse().ok()?,
                        vsz_kib: f[5].parse().ok()?,
                        threads: f[6].parse().ok()?,
                        args: args.to_owned(),
                    },
                ))
            })
            .collect(),
    )
}

/// RSS tolerance: 1% or 64 KiB, whichever is larger. Reason: a live server touches or
/// frees pages between procscope's read and ps's (node's GC, postgres' shared buffers);
/// both must read the same counter (statm), so a larger gap is a real difference.
fn rss_tolerance(kib: u64) -> u64 {
    (kib / 100).max(64)
}

#[test]
fn ps_rows_match_ps() {
    let Some(servers) = setup() else { return };
    let mut found = Vec::new();
    for server in &servers.list {
        found.extend(settle(
            &format!("ps vs ps -eo ({})", server.name),
            |diffs| {
                let Some(theirs) = ps_peer() else { return };
                let ours = ps_rows("pid,ppid,user,state,rss,vsz,threads,cmd");
                let root = u64::from(server.root);
                let parents = |rows: BTreeMap<u64, u64>| descendants(&rows, root);
                // PID set: exact (the servers are idle; no process comes or goes).
                let our_set = parents(
                    ours.iter()
                        .map(|(p, r)| (*p, r["ppid"].as_u64().unwrap_or(0)))
                        .collect(),
                );
                let their_set = parents(theirs.iter().map(|(p, l)| (*p, l.ppid)).collect());
                diffs.sets("pid set", server.name, &our_set, &their_set);
                for pid in our_set.intersection(&their_set) {
                    compare_row(diffs, *pid, &ours[pid], &theirs[pid]);
                }
            },
        ));
    }
    assert_agree("ps_rows_match_ps", &found);
}

fn compare_row(diffs: &mut Diffs, pid: u64, row: &serde_json::Value, line: &PsLine) {
    let what = format!("PID {pid} ({})", line.args.split(' ').next().unwrap_or(""));
    diffs.eq("ppid", &what, row["ppid"].as_u64(), Some(line.ppid));
    diffs.eq(
        "user",
        &what,
        row["user"].as_str(),
        Some(line.user.as_str()),
    );
    diffs.state(
        "state",
        &what,
        row["state"].as_str().unwrap_or(""),
        &line.state.to_string(),
    );
    let rss = row["rss_bytes"].as_u64().unwrap_or(0) / 1024;
    diffs.near("rss", &what, rss, line.rss_kib, rss_tolerance(line.rss_kib));
    // VSZ and threads: exact (idle servers map and spawn nothing between the reads).
    diffs.eq(
        "vsz",
        &what,
        row["vsz_bytes"].as_u64().map(|b| b / 1024),
        Some(line.vsz_kib),
    );
    diffs.eq(
        "threads",
        &what,
        row["threads"].as_u64(),
        Some(line.threads),
    );
    // args: exact, as ps joins the NUL-separated command line with spaces. JSON argv must
    // not carry the NUL padding of a rewritten title as empty arguments: ps shows none.
    let argv: Vec<&str> = row["argv"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    // Tolerance: ps prints a control character of the command line (the newlines of a
    // `python3 -c` script) as a space; JSON keeps it exactly, so it is mapped for comparing.
    let shown: String = argv
        .join(" ")
        .chars()
        .map(|c| if c.is_ascii_control() { ' ' } else { c })
        .collect();
    diffs.eq(
        "args",
        &what,
        shown.trim_end().to_owned(),
        line.args.trim_end().to_owned(),
    );
    let empty_tail = argv.iter().rev().take_while(|a| a.is_empty()).count();
    diffs.eq("argv empty padding entries", &what, empty_tail, 0);
}

/// `Name`, `State`, `PPid`, `Uid` (effective), `Threads` and `VmRSS` of /proc/PID/status.
fn status_of(pid: u32) -> Option<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(
        text.lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
            .collect(),
    )
}

#[test]
fn show_matches_proc_status() {
    let Some(servers) = setup() else { return };
    let mut found = Vec::new();
    for server in &servers.list {
        for pid in family(server) {
            found.extend(settle(
                &format!("show vs /proc/{pid}/status ({})", server.name),
                |diffs| {
                    let doc = procscope(&["show", &pid.to_string(), "--json"]);
                    let Some(status) = status_of(pid) else { return };
                    let process = &doc["process"];
                    let what = format!("PID {pid} ({})", status["Name"]);
                    let word = |key: &str, n: usize| {
                        status[key].split_whitespace().nth(n).map(str::to_owned)
                    };
                    diffs.eq(
                        "name",
                        &what,
                        process["identity"]["name"].as_str().map(str::to_owned),
                        Some(status["Name"].clone()),
                    );
                    diffs.state(
                        "state",
                        &what,
                        process["identity"]["state"].as_str().unwrap_or(""),
                        &word("State", 0).unwrap_or_default(),
                    );
                    diffs.eq(
                        "ppid",
                        &what,
                        process["identity"]["ppid"].as_u64().map(|p| p.to_string()),
                        word("PPid", 0),
                    );
                    diffs.eq(
                        "euid",
                        &what,
                        process["identity"]["uids"][1]
                            .as_u64()
                            .map(|p| p.to_string()),
                        word("Uid", 1),
                    );
                    diffs.eq(
                        "threads",
                        &what,
                        process["counts"]["threads"].as_u64().map(|p| p.to_string()),
                        word("Threads", 0),
                    );
                    let vm_rss: u64 = word("VmRSS", 0).and_then(|v| v.parse().ok()).unwrap_or(0);
                    let rss = process["memory"]["rss_bytes"].as_u64().unwrap_or(0) / 1024;
                    // Same tolerance and reason as against ps.
                    diffs.near("rss vs VmRSS", &what, rss, vm_rss, rss_tolerance(vm_rss));
                },
            ));
        }
    }
    assert_agree("show_matches_proc_status", &found);
}

/// `top -H -b -n1 -p PIDS`: TID → (state, command) of every thread.
fn top_threads(pids: &[u32]) -> Option<BTreeMap<u64, (String, String)>> {
    let list = pids
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let text = peer("top", &["-H", "-b", "-n1", "-w", "512", "-p", &list])?;
    let mut rows = BTreeMap::new();
    let mut in_table = false;
    for line in text.lines() {
        if line.trim_start().starts_with("PID ") {
            in_table = true;
            continue;
        }
        // PID USER PR NI VIRT RES SHR S %CPU %MEM TIME+ COMMAND
        if let Some((f, command)) = fields(line, 11).filter(|_| in_table)
            && let Ok(tid) = f[0].parse()
        {
            rows.insert(tid, (f[7].to_owned(), command.trim_end().to_owned()));
        }
    }
    Some(rows)
}

#[test]
fn threads_match_top() {
    let Some(servers) = setup() else { return };
    let mut found = Vec::new();
    for server in &servers.list {
        let pids = family(server);
        found.extend(settle(
            &format!("threads vs top -H ({})", server.name),
            |diffs| {
                let Some(theirs) = top_threads(&pids) else {
                    return;
                };
                let mut ours = BTreeMap::new();
                for pid in &pids {
                    let doc = procscope(&["threads", &pid.to_string(), "--json"]);
                    for thread in doc["threads"].as_array().into_iter().flatten() {
                        ours.insert(
                            thread["tid"].as_u64().unwrap(),
                            (
                                thread["state"].as_str().unwrap_or("").to_owned(),
                                thread["name"].as_str().unwrap_or("").to_owned(),
                            ),
                        );
                    }
                }
                let our_tids: BTreeSet<u64> = ours.keys().copied().collect();
                let their_tids: BTreeSet<u64> = theirs.keys().copied().collect();
                // TID set: exact. State: exact after re-reads (a thread may wake between them).
                diffs.sets("thread set", server.name, &our_tids, &their_tids);
                for tid in our_tids.intersection(&their_tids) {
                    let what = format!("TID {tid}");
                    diffs.state("thread state", &what, &ours[tid].0, &theirs[tid].0);
                    // top prints the thread's name (comm), as procscope's name.
                    diffs.eq("thread name", &what, &ours[tid].1, &theirs[tid].1);
                }
            },
        ));
    }
    assert_agree("threads_match_top", &found);
}

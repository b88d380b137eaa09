//! Holders of files against `lsof FILE`, `lsof +D DIR`, `fuser -v FILE` and deleted-but-open
//! files against `lsof +L1`, on files the servers hold: nginx's error log (descriptors in
//! the master and both workers), PostgreSQL's data directory (every backend's cwd, WAL and
//! relation files), a WAL segment, the nginx executable, the C library every server maps, the log nginx keeps after it was
//! unlinked and the file the redis client unlinked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::peers::{Diffs, assert_agree, lsof_files, peer, procscope, settle, setup, suite_pids};
use crate::servers::{Servers, installed, required};

/// One hold: (pid, how, mode, offset) where `how` is the fd number or `cwd`, `root`, `exe`,
/// `mapped`, and the mode (`r`, `w` or `rw`) and file offset are those of a descriptor.
type Hold = (u64, String, String, Option<u64>);

/// procscope's holds of each file in a `who` document, keyed by the file's path.
fn who_holds(doc: &serde_json::Value, keep: &BTreeSet<u64>) -> BTreeMap<String, BTreeSet<Hold>> {
    let mut found: BTreeMap<String, BTreeSet<Hold>> = BTreeMap::new();
    for file in doc["files"].as_array().into_iter().flatten() {
        for holder in file["holders"].as_array().into_iter().flatten() {
            let pid = holder["pid"].as_u64().unwrap();
            if !keep.contains(&pid) {
                continue;
            }
            let access = holder["access"].as_str().unwrap_or("").to_owned();
            let how = holder["fd"].as_u64().map_or(access, |fd| fd.to_string());
            let mode = holder["mode"].as_str().unwrap_or("").to_owned();
            let offset = holder["offset"].as_u64();
            // `--recursive` names each file by the path its holder sees.
            let path = holder["path"].as_str().unwrap_or("").to_owned();
            found
                .entry(path)
                .or_default()
                .insert((pid, how, mode, offset));
        }
    }
    found
}

/// `lsof -F pfaon` records as holds by path. lsof's `u` (read and write) is procscope's `rw`;
/// its `txt` is the executable, `mem` a mapped file, `rtd` the root directory; offsets are
/// decimal after `0t` or hexadecimal after `0x`.
fn lsof_holds(args: &[&str], keep: &BTreeSet<u64>) -> Option<BTreeMap<String, BTreeSet<Hold>>> {
    let mut found: BTreeMap<String, BTreeSet<Hold>> = BTreeMap::new();
    for file in lsof_files("fao", args)? {
        if !keep.contains(&file.pid) {
            continue;
        }
        let how = match file.get('f') {
            "txt" => "exe",
            "mem" => "mapped",
            "rtd" => "root",
            other => other,
        };
        let mode = match file.get('a').trim() {
            "u" => "rw",
            other => other,
        };
        let path = file.get('n').trim_end_matches(" (deleted)").to_owned();
        let offset = file.get('o');
        let offset = match offset.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => offset.strip_prefix("0t").and_then(|d| d.parse().ok()),
        };
        let hold = (file.pid, how.to_owned(), mode.to_owned(), offset);
        found.entry(path).or_default().insert(hold);
    }
    Some(found)
}

/// The holds of every path together (one file asked for, seen by its holders' paths).
fn all_holds(by_path: BTreeMap<String, BTreeSet<Hold>>) -> BTreeSet<Hold> {
    by_path.into_values().flatten().collect()
}

/// `fuser -v [-m] FILE` rows as PID → (user, access letters), both streams read in order
/// (fuser prints each PID on stdout and the rest of its row on stderr).
fn fuser_rows(options: &str, path: &str) -> Option<BTreeMap<u64, (String, BTreeSet<char>)>> {
    if !installed("fuser") {
        assert!(!required(), "peer tool fuser is missing");
        crate::notice!("fuser is not installed; its comparison skipped");
        return None;
    }
    let text = peer("sh", &["-c", "fuser $1 \"$2\" 2>&1", "sh", options, path])?;
    let row = regex::Regex::new(r"(\S+)\s+(\d+)\s+([.cerfFmM]{5})\s").unwrap();
    // A process can have several rows (one per kind of access, in mount mode): merged.
    let mut rows: BTreeMap<u64, (String, BTreeSet<char>)> = BTreeMap::new();
    for c in text.lines().filter_map(|line| row.captures(line)) {
        let entry = rows.entry(c[2].parse().unwrap()).or_default();
        entry.0 = c[1].to_owned();
        entry.1.extend(c[3].chars().filter(|&l| l != '.'));
    }
    Some(rows)
}

/// The letters fuser shows for procscope's holds of one process: `F` for a descriptor open
/// for writing, else `f`; `c` cwd, `r` root, `e` executable, `m` a mapping (which fuser
/// does not show for the executable itself).
fn fuser_letters(holds: &BTreeSet<Hold>, pid: u64) -> BTreeSet<char> {
    let mut letters = BTreeSet::new();
    let own = holds.iter().filter(|hold| hold.0 == pid);
    for (_, how, mode, _) in own {
        let letter = match how.as_str() {
            "cwd" => 'c',
            "root" => 'r',
            "exe" => 'e',
            "mapped" => 'm',
            _ if mode.contains('w') => 'F',
            _ => 'f',
        };
        letters.insert(letter);
    }
    if letters.contains(&'F') {
        letters.remove(&'f');
    }
    if letters.contains(&'e') {
        letters.remove(&'m');
    }
    letters
}

/// The files to ask about, by server: (path, what it is).
fn held_files(servers: &Servers) -> Vec<(String, &'static str)> {
    let mut files = Vec::new();
    if let Some(nginx) = servers.get("nginx") {
        files.push((path(&nginx.dir.join("error.log")), "nginx error log"));
        if let Ok(exe) = std::fs::read_link(format!("/proc/{}/exe", nginx.root)) {
            files.push((path(&exe), "nginx executable"));
        }
        if let Some(libc) = mapped_library(nginx.root, "/libc.so") {
            files.push((libc, "C library (mapped by every server)"));
        }
    }
    if let Some(postgres) = servers.get("postgres") {
        let data = postgres.dir.join("data");
        files.push((path(&data), "postgres data directory (cwd)"));
        if let Some(segment) = first_wal_segment(&data) {
            files.push((segment, "postgres WAL segment"));
        }
    }
    files
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// The path of the first mapping of `pid` whose path contains `part`, by the test's own
/// reading of /proc/PID/maps.
fn mapped_library(pid: u32, part: &str) -> Option<String> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).ok()?;
    maps.lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .find(|p| p.contains(part))
        .map(str::to_owned)
}

/// The first WAL segment (24 hex digits) in `data/pg_wal`, by the test's own listing.
fn first_wal_segment(data: &Path) -> Option<String> {
    let mut names: Vec<String> = std::fs::read_dir(data.join("pg_wal"))
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.len() == 24 && n.chars().all(|c| c.is_ascii_hexdigit()))
        .collect();
    names.sort();
    Some(path(&data.join("pg_wal").join(names.first()?)))
}

#[test]
fn who_matches_lsof_and_fuser() {
    let Some(servers) = setup() else { return };
    let files = held_files(servers);
    let paths: Vec<&str> = files.iter().map(|(path, _)| path.as_str()).collect();
    // All files in one run of each tool (each scans every process on the machine).
    let found = settle("who FILE... vs lsof FILE... and fuser -v FILE", |diffs| {
        let keep = suite_pids(servers);
        let args = [&["who", "--json"][..], &paths].concat();
        let doc = procscope(&args);
        let ours = who_holds(&doc, &keep);
        let theirs = lsof_holds(&paths, &keep);
        for (file, what) in &files {
            let held = ours.get(file).cloned().unwrap_or_default();
            // Holds (pid, fd or kind, mode, offset): exact (idle servers).
            if let Some(theirs) = &theirs {
                let their_held = theirs.get(file).cloned().unwrap_or_default();
                diffs.sets("holds vs lsof FILE", what, &held, &their_held);
            }
            if let Some(rows) = fuser_rows("-v", file) {
                compare_fuser(diffs, (what, "fFcrem"), &doc, &held, &rows, &keep);
            }
            diffs.eq("held at all", what, held.is_empty(), false);
        }
    });
    assert_agree("who_matches_lsof_and_fuser", &found);
}

/// PIDs, users and the access letters in `compared` against `fuser -v`: exact.
fn compare_fuser(
    diffs: &mut Diffs,
    (what, compared): (&str, &str),
    doc: &serde_json::Value,
    ours: &BTreeSet<Hold>,
    rows: &BTreeMap<u64, (String, BTreeSet<char>)>,
    keep: &BTreeSet<u64>,
) {
    let their_pids: BTreeSet<u64> = rows.keys().filter(|p| keep.contains(p)).copied().collect();
    let our_pids: BTreeSet<u64> = ours.iter().map(|h| h.0).collect();
    diffs.sets("pids vs fuser -v", what, &our_pids, &their_pids);
    let users: BTreeMap<u64, &str> = doc["files"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|file| file["holders"].as_array().into_iter().flatten())
        .map(|h| (h["pid"].as_u64().unwrap(), h["user"].as_str().unwrap_or("")))
        .collect();
    for pid in our_pids.intersection(&their_pids) {
        let (user, letters) = &rows[pid];
        let who = format!("{what}, PID {pid}");
        let only = |set: BTreeSet<char>| -> BTreeSet<char> {
            set.into_iter().filter(|l| compared.contains(*l)).collect()
        };
        let (ours, theirs) = (only(fuser_letters(ours, *pid)), only(letters.clone()));
        diffs.eq("access vs fuser -v", &who, &ours, &theirs);
        diffs.eq(
            "user vs fuser -v",
            &who,
            users.get(pid).copied(),
            Some(user),
        );
    }
}

#[test]
fn who_mount_matches_fuser_m() {
    let Some(servers) = setup() else { return };
    let Some(any) = servers.list.first() else {
        return;
    };
    // The file system the suite's temporary directories are on (with the root and most
    // executables here, so every process of the suite uses it one way or another).
    let dir = path(&any.dir);
    let found = settle(&format!("who --mount {dir} vs fuser -vm"), |diffs| {
        let keep = suite_pids(servers);
        let doc = procscope(&["who", "--mount", &dir, "--json"]);
        let ours = all_holds(who_holds(&doc, &keep));
        let Some(rows) = fuser_rows("-vm", &dir) else {
            return;
        };
        // Letters c, r, e only: fuser 23.6 in mount mode leaves out the F of some processes
        // (seen: redis, node, python, the nginx master) for descriptors on that file system
        // that `fuser -v FILE` and lsof do report (their log files); f, F and m are
        // compared per file in who_matches_lsof_and_fuser.
        compare_fuser(diffs, ("mount", "cre"), &doc, &ours, &rows, &keep);
        diffs.eq("held at all", "mount", ours.is_empty(), false);
    });
    assert_agree("who_mount_matches_fuser_m", &found);
}

#[test]
fn who_recursive_matches_lsof_plus_d() {
    let Some(servers) = setup() else { return };
    let Some(postgres) = servers.get("postgres") else {
        return;
    };
    let data = path(&postgres.dir.join("data"));
    let found = settle(&format!("who --recursive {data} vs lsof +D"), |diffs| {
        let keep = suite_pids(servers);
        let doc = procscope(&["who", "--recursive", &data, "--json"]);
        let ours = who_holds(&doc, &keep);
        let Some(theirs) = lsof_holds(&["+D", &data], &keep) else {
            return;
        };
        // Every file below the data directory and its holds: exact.
        let flat = |m: &BTreeMap<String, BTreeSet<Hold>>| -> BTreeSet<(String, Hold)> {
            m.iter()
                .flat_map(|(p, hs)| hs.iter().map(move |h| (p.clone(), h.clone())))
                .collect()
        };
        diffs.sets(
            "holds vs lsof +D",
            "postgres data",
            &flat(&ours),
            &flat(&theirs),
        );
        diffs.eq("files held at all", "postgres data", ours.len() > 1, true);
    });
    assert_agree("who_recursive_matches_lsof_plus_d", &found);
}

/// One deleted file's hold: (pid, fd or kind, size, path).
type DeletedHold = (u64, String, Option<u64>, String);

#[test]
fn who_deleted_matches_lsof_l1() {
    let Some(servers) = setup() else { return };
    let found = settle("who --deleted vs lsof +L1", |diffs| {
        let keep = suite_pids(servers);
        let doc = procscope(&["who", "--deleted", "--json"]);
        let mut ours = BTreeSet::new();
        for file in doc["files"].as_array().into_iter().flatten() {
            let size = file["size_bytes"].as_u64();
            for holder in file["holders"].as_array().into_iter().flatten() {
                let pid = holder["pid"].as_u64().unwrap();
                if keep.contains(&pid) {
                    let how = holder["fd"].as_u64().map_or_else(
                        || holder["access"].as_str().unwrap_or("").to_owned(),
                        |fd| fd.to_string(),
                    );
                    let path = holder["path"].as_str().unwrap_or("").to_owned();
                    ours.insert((pid, how, size, path));
                }
            }
        }
        let Some(theirs) = lsof_deleted(&keep) else {
            return;
        };
        // Holds, sizes and paths of the suite's processes: exact.
        diffs.sets("deleted holds vs lsof +L1", "suite", &ours, &theirs);
        expect_deleted(diffs, servers, &ours);
    });
    assert_agree("who_deleted_matches_lsof_l1", &found);
}

/// `lsof +L1 -F pfsn`: deleted files held open, as holds of the suite's processes.
fn lsof_deleted(keep: &BTreeSet<u64>) -> Option<BTreeSet<DeletedHold>> {
    let files = lsof_files("fs", &["+L1"])?;
    let holds = files.into_iter().filter(|file| keep.contains(&file.pid));
    Some(
        holds
            .map(|file| {
                let how = match file.get('f') {
                    "txt" => "exe",
                    other => other,
                };
                let path = file.get('n').trim_end_matches(" (deleted)").to_owned();
                (file.pid, how.to_owned(), file.get('s').parse().ok(), path)
            })
            .collect(),
    )
}

/// The deleted files the suite made must be among them: nginx's unlinked log in the
/// master and both workers (whatever nginx wrote to it), and the redis client's
/// 100000-byte file.
fn expect_deleted(diffs: &mut Diffs, servers: &Servers, ours: &BTreeSet<DeletedHold>) {
    let count = |suffix: &str, size: Option<u64>| {
        ours.iter()
            .filter(|h| h.3.ends_with(suffix) && size.is_none_or(|size| h.2 == Some(size)))
            .map(|h| h.0)
            .collect::<BTreeSet<u64>>()
            .len()
    };
    if servers.get("nginx").is_some() {
        diffs.eq(
            "holders of nginx's gone.log",
            "nginx",
            count("/gone.log", None),
            3,
        );
    }
    if servers.get("redis").is_some() {
        let size = crate::recipes::HELD_DELETED;
        diffs.eq(
            "holders of held.bin",
            "redis client",
            count("/held.bin", Some(size)),
            1,
        );
    }
}

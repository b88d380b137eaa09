//! `who PATH` / `--recursive` / `--mount` / `--deleted` against lsof and fuser, on files the
//! tests create and processes the tests start.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};

use crate::common::{Owned, json, run, sleep_holding};

fn have(tool: &str) -> bool {
    crate::common::have_tool(tool)
}

/// (pid, fd) pairs lsof lists for `args` (`-F pf` output: `p` lines, then `f` lines).
fn lsof_fds(args: &[&str]) -> BTreeSet<(u64, String)> {
    let out = Command::new("lsof")
        .args(["-w", "-F", "pfs"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut pid = 0;
    let mut found = BTreeSet::new();
    for line in text.lines() {
        if let Some(p) = line.strip_prefix('p') {
            pid = p.parse().unwrap();
        } else if let Some(fd) = line.strip_prefix('f') {
            found.insert((pid, fd.to_owned()));
        }
    }
    found
}

/// The PIDs fuser names for `args` (it prints them on stdout, the rest on stderr).
fn fuser_pids(args: &[&str]) -> BTreeSet<u64> {
    let out = Command::new("fuser").args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|pid| pid.trim_end_matches(|c: char| c.is_ascii_alphabetic()))
        .filter_map(|pid| pid.parse().ok())
        .collect()
}

/// (pid, lsof-style FD) of every holder in a `who --json` document.
fn who_fds(doc: &serde_json::Value) -> BTreeSet<(u64, String)> {
    let mut found = BTreeSet::new();
    for file in doc["files"].as_array().unwrap() {
        for holder in file["holders"].as_array().unwrap() {
            let fd = match holder["access"].as_str().unwrap() {
                "fd" => holder["fd"].to_string(),
                "cwd" => "cwd".into(),
                "root" => "rtd".into(),
                "exe" => "txt".into(),
                _ => "mem".into(),
            };
            found.insert((holder["pid"].as_u64().unwrap(), fd));
        }
    }
    found
}

fn only(set: &BTreeSet<(u64, String)>, pids: &[u64]) -> BTreeSet<(u64, String)> {
    set.iter()
        .filter(|(pid, _)| pids.contains(pid))
        .cloned()
        .collect()
}

#[test]
fn who_file_finds_the_descriptor_offset_and_mode_like_lsof_and_fuser() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("held.txt");
    std::fs::write(&path, b"0123456789").unwrap();
    let mut file = std::fs::File::open(&path).unwrap();
    file.read_exact(&mut [0u8; 3]).unwrap();
    let child = sleep_holding(file.as_raw_fd());
    let pids = [u64::from(child.pid()), u64::from(std::process::id())];
    let path_text = path.to_str().unwrap();
    let out = run(&["who", "--json", path_text]);
    assert_eq!(out.status.code(), Some(0));
    let doc = json(&out);
    let holder = doc["files"][0]["holders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["pid"] == child.pid())
        .cloned()
        .expect("the child holds the file");
    assert_eq!(holder["fd"], file.as_raw_fd());
    assert_eq!(holder["offset"], 3);
    assert_eq!(holder["mode"], "r");
    assert_eq!(doc["files"][0]["size_bytes"], 10);
    let ours = only(&who_fds(&doc), &pids);
    if have("lsof") {
        let theirs = only(&lsof_fds(&[path_text]), &pids);
        let theirs: BTreeSet<(u64, String)> = theirs
            .into_iter()
            .map(|(pid, fd)| (pid, fd.trim_end_matches(char::is_alphabetic).to_owned()))
            .collect();
        assert_eq!(ours, theirs, "who vs lsof");
    }
    if have("fuser") {
        let ours: BTreeSet<u64> = ours.iter().map(|(pid, _)| *pid).collect();
        let theirs: BTreeSet<u64> = fuser_pids(&[path_text])
            .into_iter()
            .filter(|pid| pids.contains(pid))
            .collect();
        assert_eq!(ours, theirs, "who vs fuser");
    }
}

#[test]
fn who_dir_finds_a_working_directory_and_recursive_finds_files_below() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    let inner = sub.join("deep.log");
    std::fs::write(&inner, b"x").unwrap();
    let mut in_dir = Command::new("sleep");
    in_dir
        .arg("300")
        .current_dir(dir.path())
        .stdin(Stdio::null());
    let cwd_child = Owned(in_dir.spawn().unwrap()).sleeping();
    let file = std::fs::File::open(&inner).unwrap();
    let file_child = sleep_holding(file.as_raw_fd());
    let dir_text = dir.path().to_str().unwrap();

    let plain = json(&run(&["who", "--json", dir_text]));
    let found = who_fds(&plain);
    assert!(
        found.contains(&(u64::from(cwd_child.pid()), "cwd".into())),
        "{plain}"
    );
    assert!(
        !found
            .iter()
            .any(|(pid, _)| *pid == u64::from(file_child.pid()))
    );
    if have("fuser") {
        assert!(fuser_pids(&[dir_text]).contains(&u64::from(cwd_child.pid())));
    }

    let deep = json(&run(&["who", "--json", "--recursive", dir_text]));
    let found = who_fds(&deep);
    let fd = file.as_raw_fd().to_string();
    assert!(
        found.contains(&(u64::from(file_child.pid()), fd.clone())),
        "{deep}"
    );
    assert!(found.contains(&(u64::from(cwd_child.pid()), "cwd".into())));
    if have("lsof") {
        let pids = [u64::from(file_child.pid()), u64::from(cwd_child.pid())];
        let theirs = only(&lsof_fds(&["+D", dir_text]), &pids);
        assert!(
            theirs.contains(&(u64::from(file_child.pid()), fd.clone())),
            "{theirs:?}"
        );
        assert!(theirs.contains(&(u64::from(cwd_child.pid()), "cwd".into())));
    }

    let mount = json(&run(&["who", "--json", "--mount", dir_text]));
    let found = who_fds(&mount);
    assert!(found.contains(&(u64::from(file_child.pid()), fd)));
    if have("fuser") {
        assert!(fuser_pids(&["-m", dir_text]).contains(&u64::from(file_child.pid())));
    }
}

#[test]
fn who_deleted_lists_an_unlinked_file_with_its_size_like_lsof_l1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gone.bin");
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(&[7u8; 5000]).unwrap();
    let child = sleep_holding(file.as_raw_fd());
    std::fs::remove_file(&path).unwrap();
    let doc = json(&run(&["who", "--json", "--deleted"]));
    assert_eq!(doc["mode"], "deleted");
    let files = doc["files"].as_array().unwrap();
    let ours = files
        .iter()
        .find(|f| {
            f["holders"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h["pid"] == child.pid())
        })
        .expect("the child's deleted file is listed");
    assert_eq!(ours["deleted"], true);
    assert_eq!(ours["size_bytes"], 5000);
    assert_eq!(ours["path"], path.to_str().unwrap());
    let sizes: Vec<u64> = files
        .iter()
        .map(|f| f["size_bytes"].as_u64().unwrap_or(0))
        .collect();
    assert!(
        sizes.windows(2).all(|w| w[0] >= w[1]),
        "largest first: {sizes:?}"
    );
    if have("lsof") {
        let pid = child.pid().to_string();
        let out = Command::new("lsof")
            .args(["-w", "-a", "+L1", "-p", &pid, "-F", "fs"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let fd_line = format!("f{}", file.as_raw_fd());
        let mut lines = text.lines().skip_while(|l| *l != fd_line.as_str());
        assert_eq!(lines.next(), Some(fd_line.as_str()), "lsof +L1: {text}");
        assert_eq!(lines.next(), Some("s5000"), "lsof +L1: {text}");
        let ours = who_fds(&doc);
        assert!(ours.contains(&(u64::from(child.pid()), file.as_raw_fd().to_string())));
    }
}

#[test]
fn who_exits_1_when_nobody_holds_the_file_and_2_on_bad_usage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lonely");
    std::fs::write(&path, b"").unwrap();
    let out = run(&["who", "--json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["files"], serde_json::json!([]));
    let missing = run(&["who", dir.path().join("nope").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(run(&["who"]).status.code(), Some(2));
    assert_eq!(run(&["who", "--deleted", "/tmp"]).status.code(), Some(2));
}

#[test]
fn who_output_matches_its_schema() {
    let schema = json(&run(&["schema", "who"]));
    let validator = jsonschema::validator_for(&schema).unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    let child = sleep_holding(file.as_file().as_raw_fd());
    let doc = json(&run(&["who", "--json", file.path().to_str().unwrap()]));
    assert!(validator.is_valid(&doc), "{doc}");
    assert!(
        who_fds(&doc)
            .iter()
            .any(|(pid, _)| *pid == u64::from(child.pid()))
    );
    let ndjson = run(&["who", "--ndjson", file.path().to_str().unwrap()]);
    let line: serde_json::Value =
        serde_json::from_str(crate::common::stdout(&ndjson).lines().next().unwrap()).unwrap();
    assert_eq!(line["inode"], doc["files"][0]["inode"]);
}

//! `show`'s security section, environment and limits on processes the test starts, against
//! getpcaps/capsh, readlink of /proc/PID/ns, ps supgrp, ionice and /proc/PID/limits.

use std::process::Command;

use crate::common::{Owned, json_ok, run, stdout};

/// Starts `program args` and waits until it has become `sleep` and sleeps; `None` (with a
/// notice) when the set-up tool cannot do it here (a sandbox refusing namespaces, say).
fn sleeper(program: &str, args: &[&str]) -> Option<Owned> {
    let mut child = Owned::spawn(program, args);
    for _ in 0..400 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", child.pid())).unwrap_or_default();
        if stat.contains("(sleep) S") {
            return Some(child);
        }
        if let Ok(Some(status)) = child.0.try_wait() {
            eprintln!("notice: {program} {args:?} failed here ({status}); test skipped");
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("{program} {args:?} did not become a sleeping sleep");
}

fn show(pid: u32, extra: &[&str]) -> serde_json::Value {
    let pid = pid.to_string();
    let mut args = vec!["show", &pid, "--json"];
    args.extend_from_slice(extra);
    json_ok(&run(&args))["process"].clone()
}

fn tool(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn names(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn capabilities_match_getpcaps_and_capsh() {
    let Some(child) = sleeper(
        "setpriv",
        &["--bounding-set=-all,+kill,+net_raw", "--", "sleep", "300"],
    ) else {
        return;
    };
    let caps = show(child.pid(), &[])["security"]["capabilities"].clone();
    let effective = names(&caps["effective"]["names"]);
    assert_eq!(effective, ["cap_kill", "cap_net_raw"], "{caps}");
    assert_eq!(names(&caps["bounding"]["names"]), effective);
    let (Some(getpcaps), Some(decoded)) = (
        tool("getpcaps", &[&child.pid().to_string()]),
        tool(
            "capsh",
            &[&format!(
                "--decode={}",
                caps["effective"]["mask"].as_str().unwrap()
            )],
        ),
    ) else {
        eprintln!("notice: getpcaps/capsh (libcap2-bin) not installed; peer comparison skipped");
        return;
    };
    // getpcaps: "PID: cap_kill,cap_net_raw=ep"; capsh: "0x...=cap_kill,cap_net_raw".
    let from_getpcaps = getpcaps
        .split_once(": ")
        .unwrap()
        .1
        .split('=')
        .next()
        .unwrap();
    let from_capsh = decoded.split_once('=').unwrap().1;
    assert_eq!(from_getpcaps, effective.join(","));
    assert_eq!(from_capsh, effective.join(","));
}

#[test]
fn namespaces_of_an_unshared_process_match_its_links() {
    let Some(child) = sleeper("unshare", &["-Urn", "sleep", "300"]) else {
        return;
    };
    let pid = child.pid();
    let security = show(pid, &[])["security"].clone();
    let list = security["namespaces"].as_array().unwrap();
    let link = |who: &str, kind: &str| std::fs::read_link(format!("/proc/{who}/ns/{kind}")).ok();
    for kind in ["pid", "net", "mnt", "user", "uts", "ipc", "cgroup"] {
        let entry = list.iter().find(|e| e["kind"] == kind).unwrap();
        let target = link(&pid.to_string(), kind).unwrap();
        assert_eq!(
            target.to_string_lossy(),
            format!("{kind}:[{}]", entry["inode"]),
            "{kind}"
        );
        let reference = link("1", kind).or_else(|| link("self", kind)).unwrap();
        assert_eq!(entry["same_as_init"], reference == target, "{kind}");
    }
    for kind in ["net", "user"] {
        let entry = list.iter().find(|e| e["kind"] == kind).unwrap();
        assert_eq!(entry["same_as_init"], false, "{kind} was unshared");
    }
}

#[test]
fn groups_oom_io_priority_and_no_new_privs_as_set_up() {
    let Some(child) = sleeper(
        "setpriv",
        &[
            "--no-new-privs",
            "--regid=65534",
            "--groups=100,4",
            "--",
            "choom",
            "-n",
            "500",
            "--",
            "ionice",
            "-c2",
            "-n5",
            "sleep",
            "300",
        ],
    ) else {
        return;
    };
    let pid = child.pid();
    let security = show(pid, &[])["security"].clone();
    assert_eq!(security["no_new_privs"], true);
    assert_eq!(security["oom_score_adj"], 500);
    let oom: i64 = std::fs::read_to_string(format!("/proc/{pid}/oom_score"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        (security["oom_score"].as_i64().unwrap() - oom).abs() <= 1,
        "{security}"
    );
    assert_eq!(security["io_priority"]["class"], "best-effort");
    assert_eq!(security["io_priority"]["level"], 5);
    if let Some(peer) = tool("ionice", &["-p", &pid.to_string()]) {
        assert_eq!(peer, "best-effort: prio 5");
    }
    let groups = security["groups"].as_array().unwrap();
    let gids: Vec<u64> = groups.iter().map(|g| g["gid"].as_u64().unwrap()).collect();
    // The kernel keeps supplementary groups sorted.
    assert_eq!(gids, [65534, 4, 100], "{security}");
    assert_eq!(groups[0]["effective"], true);
    // procps names the supplementary groups the same way (NSS).
    let supgrp = tool("ps", &["-o", "supgrp=", "-p", &pid.to_string()]).unwrap();
    let ours: Vec<&str> = groups[1..]
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    let mut theirs: Vec<&str> = supgrp.split(',').collect();
    let mut sorted = ours.clone();
    sorted.sort_unstable();
    theirs.sort_unstable();
    assert_eq!(sorted, theirs);
}

#[test]
fn environment_is_redacted_unless_asked_and_limits_are_all_sixteen() {
    let child = Owned(
        Command::new("sleep")
            .arg("300")
            .env_clear()
            .env("GREETING", "hello")
            .env("DB_PASSWORD", "hunter2")
            .spawn()
            .unwrap(),
    );
    let pid = child.pid();
    let mut detail = show(pid, &["--env"]);
    for _ in 0..200 {
        if detail["environment"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
        detail = show(pid, &["--env"]);
    }
    let env = detail["environment"].as_array().unwrap();
    let value = |name: &str| env.iter().find(|e| e["name"] == name).unwrap().clone();
    assert_eq!(value("GREETING")["value"], "hello");
    assert_eq!(value("DB_PASSWORD")["value"], "<redacted>");
    assert_eq!(value("DB_PASSWORD")["redacted"], true);
    let shown = show(pid, &["--env", "--show-secrets"]);
    let shown = shown["environment"].as_array().unwrap();
    assert!(
        shown
            .iter()
            .any(|e| e["name"] == "DB_PASSWORD" && e["value"] == "hunter2")
    );
    let table = stdout(&run(&["show", &pid.to_string(), "--env"]));
    assert!(
        table.contains("DB_PASSWORD=<redacted>") && !table.contains("hunter2"),
        "{table}"
    );
    assert!(show(pid, &[]).get("environment").is_none());

    let limits = show(pid, &["--limits"])["limits"].clone();
    let kernel = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let listed: Vec<&str> = limits
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), kernel.lines().count() - 1);
    assert_eq!(listed.len(), 16);
    for name in listed {
        assert!(kernel.contains(name), "{name}");
    }
    assert_eq!(show(pid, &[])["limits"].as_array().unwrap().len(), 3);
}

#[test]
fn security_columns_match_procps() {
    let Some(child) = sleeper(
        "unshare",
        &["-Urn", "choom", "-n", "300", "--", "sleep", "300"],
    ) else {
        return;
    };
    let pid = child.pid().to_string();
    let columns = "pid,netns,pidns,mntns,userns,utsns,ipcns,oom,oomadj";
    let ours = json_ok(&run(&["ps", "--json", "-o", columns, "--pid", &pid]));
    let row = &ours["processes"][0];
    let theirs = tool(
        "ps",
        &[
            "-o",
            "netns=,pidns=,mntns=,userns=,utsns=,ipcns=,oom=,oomadj=",
            "-p",
            &pid,
        ],
    )
    .unwrap();
    let theirs: Vec<&str> = theirs.split_whitespace().collect();
    let keys = [
        "netns_inode",
        "pidns_inode",
        "mntns_inode",
        "userns_inode",
        "utsns_inode",
        "ipcns_inode",
        "oom_score",
        "oom_score_adj",
    ];
    for (key, peer) in keys.iter().zip(&theirs) {
        assert_eq!(row[key].to_string(), *peer, "{key}: {row}");
    }
    assert_eq!(row["oom_score_adj"], 300);
    let caps = json_ok(&run(&[
        "ps",
        "--json",
        "-o",
        "caps,seccomp,nnp",
        "--pid",
        &pid,
    ]));
    // In its own user namespace the process holds every capability there.
    assert_eq!(caps["processes"][0]["cap_effective"], "all");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let mode = status
        .lines()
        .find_map(|l| l.strip_prefix("Seccomp:"))
        .unwrap()
        .trim();
    let expected = ["disabled", "strict", "filter"][mode.parse::<usize>().unwrap().min(2)];
    assert_eq!(caps["processes"][0]["seccomp"], expected);
    assert_eq!(caps["processes"][0]["no_new_privs"], 0);
}

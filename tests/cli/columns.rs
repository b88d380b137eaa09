//! The ps habits and placement columns: STAT vs `ps -o stat`, ids and faults vs ps, several
//! sort keys, `env:NAME` with redaction, unit/container/cgroup on a fixture tree, and
//! `ps --unit` / `kill --unit` on a cgroup the test makes.

use std::process::Command;

use crate::common::{Owned, json, json_ok, pids, row_of, run, run_fixture_tree, stdout};

/// `ps -o FIELD= -p PID` of procps, trimmed.
fn procps(field: &str, pid: u32) -> String {
    let output = Command::new("ps")
        .args(["-o", &format!("{field}="), "-p", &pid.to_string()])
        .output()
        .expect("ps runs");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// procscope's value of column `name` for `pid`, as JSON.
fn ours(name: &str, pid: u32) -> serde_json::Value {
    let doc = json_ok(&run(&[
        "ps",
        "--json",
        "-o",
        name,
        "--pid",
        &pid.to_string(),
    ]));
    let key = doc["processes"][0]
        .as_object()
        .and_then(|row| row.keys().find(|k| *k != "pid").cloned())
        .unwrap_or_else(|| panic!("a {name} value in {doc}"));
    doc["processes"][0][key].clone()
}

/// The children of our child `pid` (read only: they are never signalled by PID).
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Polls until `pid`'s command is `comm` and it sleeps.
fn wait_sleeping(pid: u32, comm: &str) -> bool {
    for _ in 0..400 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat.contains(&format!("({comm})"))
            && stat
                .rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('S'))
        {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    false
}

#[test]
fn stat_matches_procps_for_leaders_threads_nice_and_foreground() {
    let leader = Owned::spawn("setsid", &["sleep", "300"]).sleeping();
    let niced = Owned::spawn("nice", &["-n", "7", "sleep", "300"]).sleeping();
    let threaded = Owned::spawn(
        "python3",
        &[
            "-c",
            "import threading,time\nfor _ in range(3): threading.Thread(target=time.sleep, args=(300,), daemon=True).start()\ntime.sleep(300)",
        ],
    );
    for _ in 0..400 {
        if ours("threads", threaded.pid()) == 4 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // A foreground job on a terminal: `script` gives `sleep` a pty whose foreground group
    // is the sleep's.
    let script = Owned::spawn("script", &["-qfc", "exec sleep 300", "/dev/null"]);
    let mut foreground = None;
    for _ in 0..400 {
        if let Some(&child) = children_of(script.pid()).first()
            && wait_sleeping(child, "sleep")
        {
            foreground = Some(child);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let foreground = foreground.expect("script starts sleep");
    let mut seen = Vec::new();
    for pid in [
        leader.pid(),
        niced.pid(),
        threaded.pid(),
        foreground,
        std::process::id(),
    ] {
        let expected = procps("stat", pid);
        assert_eq!(ours("stat", pid), expected.as_str(), "PID {pid}");
        seen.push(expected);
    }
    // The cases the test set up, as procps names them.
    assert!(
        seen[0].starts_with('S') && seen[0].contains('s'),
        "{seen:?}"
    );
    assert!(seen[1].contains('N'), "{seen:?}");
    assert!(seen[2].contains('l'), "{seen:?}");
    assert!(seen[3].contains('+') && seen[3].contains('s'), "{seen:?}");
    drop(script);
}

#[test]
fn ids_faults_and_times_match_procps() {
    let sleeper = Owned::spawn("sleep", &["300"]).sleeping();
    let pid = sleeper.pid();
    for (ours_name, field) in [
        ("gid", "gid"),
        ("group", "group"),
        ("ruid", "ruid"),
        ("suid", "suid"),
        ("minflt", "min_flt"),
        ("majflt", "maj_flt"),
        ("vsz", "vsz"),
    ] {
        let mut value = ours(ours_name, pid);
        // procps gives VSZ in KiB.
        if ours_name == "vsz" {
            value = (value.as_u64().unwrap() / 1024).into();
        }
        let text = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned);
        assert_eq!(text, procps(field, pid), "{ours_name} of PID {pid}");
    }
    // lstart in the same time zone (the tests run procscope with TZ=UTC): the same text.
    let procps_start = Command::new("ps")
        .args(["-o", "lstart=", "-p", &pid.to_string()])
        .env("TZ", "UTC")
        .output()
        .unwrap();
    let procps_text = String::from_utf8_lossy(&procps_start.stdout).to_string();
    let ours_text = stdout(&run(&[
        "ps",
        "--no-header",
        "-o",
        "lstart",
        "--pid",
        &pid.to_string(),
    ]));
    let words = |text: &str| {
        text.split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(words(&ours_text), words(&procps_text));
    assert!(ours("lstart", pid).as_f64().unwrap() > 1.0e9);
}

#[test]
fn several_sort_keys_with_directions() {
    let sleepers: Vec<Owned> = (0..3)
        .map(|_| Owned::spawn("sleep", &["300"]).sleeping())
        .collect();
    let list = sleepers
        .iter()
        .map(|s| s.pid().to_string())
        .collect::<Vec<_>>()
        .join(",");
    let doc = json_ok(&run(&[
        "ps",
        "--json",
        "-o",
        "pid,name",
        "-s",
        "name,-pid",
        "--pid",
        &list,
    ]));
    let mut expected: Vec<u64> = sleepers.iter().map(|s| u64::from(s.pid())).collect();
    expected.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(pids(&doc["processes"]), expected);
    let bad = run(&["ps", "-s", "rss,,cpu"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(crate::common::stderr(&bad).contains("'rss,,cpu'"));
}

#[test]
fn default_listing_has_stat_vsz_and_tty() {
    let header = stdout(&run(&["ps", "--pid", &std::process::id().to_string()]));
    let header = header.lines().next().unwrap();
    let words: Vec<&str> = header.split_whitespace().collect();
    for name in ["STAT", "VSZ", "RSS", "TTY", "COMMAND"] {
        assert!(words.contains(&name), "{header}");
    }
    assert!(!words.contains(&"S"), "{header}");
}

#[test]
fn env_columns_redact_secret_names_unless_asked() {
    let child = Owned(
        Command::new("sleep")
            .arg("300")
            .env("PROCSCOPE_VISIBLE", "hello world")
            .env("API_TOKEN", "s3cret")
            .spawn()
            .unwrap(),
    );
    let pid = child.pid().to_string();
    assert!(wait_sleeping(child.pid(), "sleep"));
    let cols = "pid,env:PROCSCOPE_VISIBLE,env:API_TOKEN,env:PROCSCOPE_UNSET";
    let ask = |extra: &[&str], var: Option<&str>| {
        let mut command = crate::common::command(&["ps", "--json", "-o", cols, "--pid", &pid]);
        command.args(extra);
        match var {
            Some(v) => command.env("PROCSCOPE_SECRET_PATTERNS", v),
            None => command.env_remove("PROCSCOPE_SECRET_PATTERNS"),
        };
        row_of(&json_ok(&command.output().unwrap()), child.pid())
    };
    let row = ask(&[], None);
    assert_eq!(row["env_PROCSCOPE_VISIBLE"], "hello world");
    assert_eq!(row["env_API_TOKEN"], "<redacted>");
    assert!(row["env_PROCSCOPE_UNSET"].is_null());
    assert_eq!(ask(&["--show-secrets"], None)["env_API_TOKEN"], "s3cret");
    let custom = ask(&["--secret-pattern", "visible"], Some("NOTHING"));
    assert_eq!(custom["env_PROCSCOPE_VISIBLE"], "<redacted>");
    assert_eq!(custom["env_API_TOKEN"], "s3cret");
    let from_var = ask(&[], Some("VISIBLE"));
    assert_eq!(from_var["env_PROCSCOPE_VISIBLE"], "<redacted>");
    assert_eq!(from_var["env_API_TOKEN"], "s3cret");
    let table = stdout(&run(&["ps", "-o", "pid,env:API_TOKEN", "--pid", &pid]));
    assert!(
        table.contains("<redacted>") && !table.contains("s3cret"),
        "{table}"
    );
}

#[test]
fn units_containers_and_cgroups_from_a_fixture_tree() {
    let tree = "containers";
    let doc = json_ok(&run_fixture_tree(
        tree,
        &["ps", "--json", "-o", "pid,unit,container,cgroup"],
    ));
    let docker = row_of(&doc, 77);
    assert_eq!(docker["container"]["engine"], "docker");
    assert_eq!(
        docker["container"]["id"],
        "3f4e5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081"
    );
    let pod = row_of(&doc, 555);
    assert_eq!(pod["container"]["orchestrator"], "kubernetes");
    assert_eq!(
        pod["container"]["pod_uid"],
        "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
    );
    assert_eq!(row_of(&doc, 42)["unit"], "nginx.service");
    assert_eq!(row_of(&doc, 1)["unit"], "init.scope");
    assert!(row_of(&doc, 1)["container"].is_null());
    let table = stdout(&run_fixture_tree(tree, &["ps", "-o", "pid,container"]));
    assert!(table.contains("docker 3f4e5a6b7c8d\n"), "{table}");
    assert!(table.contains("k8s 9b1c2d3e4f50"), "{table}");
    let select = |args: &[&str]| {
        let mut all = vec!["ps", "--json", "-o", "pid"];
        all.extend_from_slice(args);
        pids(&json(&run_fixture_tree(tree, &all))["processes"])
    };
    assert_eq!(select(&["--container", "docker"]), [77]);
    assert_eq!(select(&["--container", "9b1c2d3e"]), [555]);
    assert_eq!(select(&["--container", "k8s"]), [555]);
    assert_eq!(select(&["--unit", "nginx"]), [42]);
    assert_eq!(select(&["--cgroup", "/kubepods/burstable"]), [555]);
    assert_eq!(select(&["--cgroup", "/system.slice"]), [42, 77]);
    assert!(select(&["--unit", "nosuch"]).is_empty());
    let relative = run_fixture_tree(tree, &["ps", "--cgroup", "system.slice"]);
    assert_eq!(relative.status.code(), Some(2));
}

#[test]
fn ps_unit_and_kill_unit_on_a_cgroup_the_test_made() {
    let Some(root) = crate::hostile_text::writable_cgroup2() else {
        eprintln!("notice: no writable cgroup2 mount; ps/kill --unit live test skipped");
        return;
    };
    let unit = format!("procscope-test-{}.service", std::process::id());
    let group = root.join(&unit);
    std::fs::create_dir(&group).unwrap();
    let mut target = Owned::spawn("sleep", &["300"]).sleeping();
    let bystander = Owned::spawn("sleep", &["300"]).sleeping();
    let moved = std::fs::write(group.join("cgroup.procs"), target.pid().to_string());
    if let Err(err) = moved {
        drop(target);
        let _ = std::fs::remove_dir(&group);
        eprintln!(
            "notice: cannot move a process into {}: {err}; test skipped",
            group.display()
        );
        return;
    }
    let short = unit.trim_end_matches(".service");
    let listed = json_ok(&run(&["ps", "--json", "-o", "pid,unit", "--unit", short]));
    assert_eq!(pids(&listed["processes"]), [u64::from(target.pid())]);
    assert_eq!(listed["processes"][0]["unit"], unit.as_str());
    let killed = run(&["kill", "--unit", &unit, "--yes", "--json"]);
    let status = target.0.wait().unwrap();
    let _ = std::fs::remove_dir(&group);
    let doc = json_ok(&killed);
    assert_eq!(doc["results"].as_array().unwrap().len(), 1, "{doc}");
    assert_eq!(doc["results"][0]["pid"], target.pid());
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    assert!(
        std::fs::read_to_string(format!("/proc/{}/stat", bystander.pid())).is_ok(),
        "the bystander outside the unit lives"
    );
}

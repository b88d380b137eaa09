//! Values exactly as the peer tools give them (issue 13): RSS like procps, users through NSS,
//! denied fds still counted, zombies named as such, cgroup lines, pipe ends, man pages.

use std::process::Command;

use crate::common::{Owned, json, json_ok, row_of, run, stderr, stdout};

/// Root only: makes (once) a system user whose login shell is /bin/false, which a user
/// table that skips such shells (sysinfo's) would not know. Returns its uid.
fn false_shell_user(name: &str) -> Option<u32> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("notice: not root, so no test user can be made; NSS user test skipped");
        return None;
    }
    let exists = Command::new("id").arg("-u").arg(name).output().ok()?;
    if !exists.status.success() {
        // Two tests may race to create it: whichever loses finds it made by the other.
        let _ = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/bin/false",
                name,
            ])
            .status();
    }
    let out = Command::new("id").arg("-u").arg(name).output().ok()?;
    let uid = String::from_utf8(out.stdout).ok()?.trim().parse().ok();
    assert!(uid.is_some(), "useradd {name} made no user");
    uid
}

/// Polls until `pid`'s comm is `comm` (a child that execs in two steps, like setpriv).
fn wait_comm(pid: u32, comm: &str) {
    for _ in 0..400 {
        let now = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if now.trim_end() == comm {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("process {pid} never became {comm}");
}

#[test]
fn a_user_with_a_false_shell_shows_by_name_and_filters() {
    let name = "psc-svcfalse";
    let Some(uid) = false_shell_user(name) else {
        return;
    };
    let sleeper = Owned::spawn(
        "setpriv",
        &[
            &format!("--reuid={uid}"),
            &format!("--regid={uid}"),
            "--clear-groups",
            "--",
            "sleep",
            "300",
        ],
    );
    wait_comm(sleeper.pid(), "sleep");
    let pid = sleeper.pid().to_string();
    let listing = json_ok(&run(&["ps", "--json", "-o", "pid,user", "--pid", &pid]));
    assert_eq!(row_of(&listing, sleeper.pid())["user"], name);
    let by_user = json_ok(&run(&["ps", "--json", "-o", "pid,user", "--user", name]));
    assert_eq!(row_of(&by_user, sleeper.pid())["user"], name);
    let show = json_ok(&run(&["show", &pid, "--json"]));
    assert_eq!(show["process"]["identity"]["user"], name);
}

/// `VmRSS` of a process in bytes, from its status file.
fn vm_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        * 1024
}

#[test]
fn rss_is_exact_in_ps_show_and_mem() {
    // A sleeping `sleep` touches no memory, so its RSS stays put between the reads; poll in
    // case it was still faulting pages in when the first read happened.
    let sleeper = Owned::spawn("sleep", &["300"]).sleeping();
    let pid = sleeper.pid().to_string();
    let mut last = Vec::new();
    for _ in 0..50 {
        let before = vm_rss(sleeper.pid());
        // Without USER only statm is read; with it, status's VmRSS.
        let statm = json_ok(&run(&["ps", "--json", "-o", "pid,rss", "--pid", &pid]));
        let status = json_ok(&run(&["ps", "--json", "-o", "pid,user,rss", "--pid", &pid]));
        let show = json_ok(&run(&["show", &pid, "--json"]));
        let mem = json_ok(&run(&["mem", &pid, "--json"]));
        last = vec![
            row_of(&statm, sleeper.pid())["rss_bytes"].as_u64().unwrap(),
            row_of(&status, sleeper.pid())["rss_bytes"]
                .as_u64()
                .unwrap(),
            show["process"]["memory"]["rss_bytes"].as_u64().unwrap(),
            mem["memory"]["rollup"]["rss_bytes"].as_u64().unwrap(),
        ];
        if before == vm_rss(sleeper.pid()) && last.iter().all(|&rss| rss == before) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!(
        "ps (statm), ps (status), show, mem: {last:?}, VmRSS {}",
        vm_rss(sleeper.pid())
    );
}

#[test]
fn cgroup_of_a_hybrid_host_shows_the_v1_controllers_and_json_every_line() {
    use crate::common::run_fixture;
    let table = stdout(&run_fixture(&["show", "77"]));
    let line = table.lines().find(|l| l.contains("cgroup")).unwrap();
    assert!(
        line.contains("12:memory:/process_api/job-7"),
        "the v2 line is only /, so the v1 memory controller shows: {line}"
    );
    let doc = json_ok(&run_fixture(&["show", "77", "--json"]));
    let lines = doc["process"]["cgroups"].as_array().unwrap();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0]["controllers"][0], "memory");
    assert_eq!(lines[3]["hierarchy"], 0);
    assert_eq!(lines[3]["path"], "/");
    // A pure v2 host: the unified path.
    let init = json_ok(&run_fixture(&["show", "1", "--json"]));
    assert_eq!(init["process"]["cgroup"], "/init.scope");
}

#[test]
fn tree_of_a_pid_shows_its_root_user_like_pstree_u() {
    let Some(uid) = false_shell_user("psc-svcfalse") else {
        return;
    };
    let sleeper = Owned::spawn(
        "setpriv",
        &[
            &format!("--reuid={uid}"),
            &format!("--regid={uid}"),
            "--clear-groups",
            "--",
            "sleep",
            "300",
        ],
    );
    wait_comm(sleeper.pid(), "sleep");
    let text = stdout(&run(&["tree", &sleeper.pid().to_string(), "--ascii"]));
    let root = text.lines().nth(1).unwrap_or_default();
    assert_eq!(
        root,
        format!("{} sleep (psc-svcfalse)", sleeper.pid()),
        "{text}"
    );
    let doc = json_ok(&run(&["tree", &sleeper.pid().to_string(), "--json"]));
    assert_eq!(
        doc["ancestors"].as_array().unwrap().last().unwrap()["uid"],
        0
    );
    // The peer says the same, when it is installed.
    match Command::new("pstree")
        .args(["-u", "-p", &sleeper.pid().to_string()])
        .output()
    {
        Ok(peer) => assert!(
            String::from_utf8_lossy(&peer.stdout)
                .contains(&format!("{},psc-svcfalse", sleeper.pid())),
            "pstree: {}",
            String::from_utf8_lossy(&peer.stdout)
        ),
        Err(_) => eprintln!("notice: pstree not installed; compared with the expected text only"),
    }
}

#[test]
fn counts_read_in_the_singular_and_thread_cpu_is_rounded() {
    let sleeper = Owned::spawn("sleep", &["300"]).sleeping();
    let pid = sleeper.pid().to_string();
    let text = stdout(&run(&["threads", &pid]));
    assert!(text.contains("  1 thread: "), "{text}");
    // A busy thread of our own gives a CPU share with many decimals before rounding.
    let spin = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = spin.clone();
    let busy = std::thread::spawn(move || {
        while flag.load(std::sync::atomic::Ordering::Relaxed) {
            std::hint::black_box(0u64);
        }
    });
    let doc = json_ok(&run(&[
        "threads",
        &std::process::id().to_string(),
        "--json",
    ]));
    spin.store(false, std::sync::atomic::Ordering::Relaxed);
    busy.join().unwrap();
    for thread in doc["threads"].as_array().unwrap() {
        let cpu = thread["cpu_percent"].as_f64().unwrap();
        assert!(
            ((cpu * 100.0).round() - cpu * 100.0).abs() < 1e-6,
            "two decimals like ps: {cpu}"
        );
    }
}

#[test]
fn ps_aux_and_ps_ef_are_the_full_listing() {
    let sleeper = Owned::spawn("sleep", &["300"]).sleeping();
    for habit in ["aux", "-ef"] {
        let output = run(&["ps", habit, "--json", "-o", "pid"]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "ps {habit}: {}",
            stderr(&output)
        );
        row_of(&json(&output), sleeper.pid());
    }
    let unknown = run(&["ps", "-x"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("unknown option '-x'"),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn exited_processes_are_counted_only_when_selected() {
    use crate::common::run_fixture;
    // PID 999 of the fixture vanished before its stat could be read.
    let all = run_fixture(&["ps", "-o", "pid,name"]);
    assert!(
        stderr(&all).contains("1 process exited"),
        "{}",
        stderr(&all)
    );
    for selection in [["--pid", "1"], ["--user", "root"]] {
        let mut args = vec!["ps", "-o", "pid,name"];
        args.extend(selection);
        let output = run_fixture(&args);
        assert!(
            !stderr(&output).contains("exited"),
            "{selection:?}: {}",
            stderr(&output)
        );
    }
    let named = run_fixture(&["ps", "-o", "pid,name", "--pid", "999,1"]);
    assert!(
        stderr(&named).contains("1 process exited"),
        "{}",
        stderr(&named)
    );
}

#[test]
fn json_errors_name_the_missing_targets_also_on_exit_1() {
    use crate::common::run_fixture;
    for command in ["show", "threads", "fds", "mem", "tree"] {
        let output = run_fixture(&[command, "12345", "--json"]);
        assert_eq!(output.status.code(), Some(1), "{command}");
        let doc = json(&output);
        assert_eq!(doc["command"], command);
        assert_eq!(doc["errors"][0]["pid"], 12345, "{doc}");
        assert_eq!(doc["errors"][0]["reason"], "gone", "{doc}");
        let schema = json(&run(&["schema", command]));
        let validator = jsonschema::validator_for(&schema).unwrap();
        assert!(validator.is_valid(&doc), "{command}: {doc}");
        // Without an error the payload stays required.
        let mut empty = doc.clone();
        empty["errors"] = serde_json::json!([]);
        assert!(!validator.is_valid(&empty), "{command}");
    }
    // A named PID that is gone makes the run partial (exit 1); the rest is still listed.
    let ps = run_fixture(&["ps", "--json", "-o", "pid", "--pid", "12345,1"]);
    assert_eq!(ps.status.code(), Some(1));
    let doc = json(&ps);
    assert_eq!(doc["errors"][0]["pid"], 12345, "{doc}");
}

#[test]
fn every_page_the_main_man_page_refers_to_can_be_printed() {
    let main = stdout(&run(&["man"]));
    let referenced: Vec<&str> = main
        .lines()
        .filter_map(|line| line.strip_prefix("procscope\\-")?.strip_suffix("(1)"))
        .collect();
    assert!(
        referenced.contains(&"ps") && referenced.contains(&"kill"),
        "{main}"
    );
    for name in referenced {
        let output = run(&["man", name]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "man {name}: {}",
            stderr(&output)
        );
        let page = stdout(&output);
        assert!(page.contains(&format!(".TH procscope-{name} 1")), "{page}");
        assert!(
            page.contains("\\-\\-json"),
            "global options are on {name}'s page"
        );
    }
    let ps = stdout(&run(&["man", "ps"]));
    assert!(ps.contains("\\-\\-columns"), "{ps}");
    let wrong = run(&["man", "nosuch"]);
    assert_eq!(wrong.status.code(), Some(2));
}

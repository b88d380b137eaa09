//! Values exactly as the peer tools give them (issue 13): RSS like procps, users through NSS,
//! denied fds still counted, zombies named as such, cgroup lines, pipe ends, man pages.

use std::process::Command;

use crate::common::{Owned, json, json_ok, row_of, run, stderr, stdout};

/// Root only: makes (once) a system user whose login shell is /bin/false, which a user
/// table that skips such shells (sysinfo's) would not know. Returns its uid.
fn false_shell_user(name: &str) -> Option<u32> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        crate::common::notice!("not root, so no test user can be made; NSS user test skipped");
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

/// `sleep 300` running as `uid` (root only), once it has exec'd.
fn sleep_as(uid: u32) -> Owned {
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
    sleeper
}

#[test]
fn a_user_with_a_false_shell_shows_by_name_and_filters() {
    let name = "psc-svcfalse";
    let Some(uid) = false_shell_user(name) else {
        return;
    };
    let sleeper = sleep_as(uid);
    let pid = sleeper.pid().to_string();
    let listing = json_ok(&run(&["ps", "--json", "-o", "pid,user", "--pid", &pid]));
    assert_eq!(row_of(&listing, sleeper.pid())["user"], name);
    let by_user = json_ok(&run(&["ps", "--json", "-o", "pid,user", "--user", name]));
    assert_eq!(row_of(&by_user, sleeper.pid())["user"], name);
    let show = json_ok(&run(&["show", &pid, "--json"]));
    assert_eq!(show["process"]["identity"]["user"], name);
}

/// A `kB` line (`VmRSS:`, `Rss:`) of a /proc file of `pid`, in bytes.
fn kib_line(pid: u32, file: &str, key: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).unwrap();
    let line = text.lines().find(|l| l.starts_with(key)).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        * 1024
}

/// `VmRSS` of a process in bytes, from its status file.
fn vm_rss(pid: u32) -> u64 {
    kib_line(pid, "status", "VmRSS:")
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
    let sleeper = sleep_as(uid);
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
        Err(_) => {
            crate::common::notice!("pstree not installed; compared with the expected text only")
        }
    }
}

#[test]
fn counts_read_in_the_singular_and_thread_cpu_is_rounded() {
    let sleeper = Owned::spawn("sleep", &["300"]).sleeping();
    let pid = sleeper.pid().to_string();
    let text = stdout(&run(&["threads", &pid]));
    assert!(text.contains("  1 thread: "), "{text}");
    // A busy child (threads of the test process itself would disturb the stack-size tests
    // through glibc's stack cache) gives a CPU share with many decimals before rounding.
    let busy = Owned::spawn("sh", &["-c", "while :; do :; done"]);
    wait_for(|| cpu_ticks(busy.pid()) > 0);
    let doc = json_ok(&run(&["threads", &busy.pid().to_string(), "--json"]));
    let cpu = doc["threads"][0]["cpu_percent"].as_f64().unwrap();
    assert!(cpu > 0.0, "{doc}");
    assert!(
        ((cpu * 100.0).round() - cpu * 100.0).abs() < 1e-6,
        "two decimals like ps: {cpu}"
    );
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields
        .get(11)
        .and_then(|u| u.parse::<u64>().ok())
        .unwrap_or(0)
        + fields
            .get(12)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
}

/// Polls until `done` holds (at most about 10 s).
fn wait_for(done: impl Fn() -> bool) {
    for _ in 0..2000 {
        if done() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("condition never held");
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

/// Runs procscope as root without any capability (an empty bounding set), so the kernel
/// lists the fd directories of root's full-capability processes but denies their links, as
/// it does for PID 1 on some hosts. `None` (with a notice) when not root.
fn run_without_caps(args: &[&str]) -> Option<std::process::Output> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        crate::common::notice!("not root; the denied-links tests are skipped");
        return None;
    }
    let output = Command::new("setpriv")
        .arg("--bounding-set=-all")
        .arg("--")
        .arg(crate::common::bin())
        .args(args)
        .env("TZ", "UTC")
        .output()
        .expect("setpriv runs");
    Some(output)
}

#[test]
fn fds_whose_links_are_denied_are_counted_and_marked() {
    let file = tempfile::tempfile().unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
    let holder = crate::common::sleep_holding(fd);
    let pid = holder.pid().to_string();
    let expected = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count();
    let Some(output) = run_without_caps(&["fds", &pid, "--json"]) else {
        return;
    };
    let doc = json_ok(&output);
    let fds = doc["fds"].as_array().unwrap();
    assert_eq!(fds.len(), expected, "{doc}");
    assert!(fds.iter().any(|f| f["fd"] == fd), "{doc}");
    for entry in fds {
        assert_eq!(
            entry["unavailable"]["target"], "permission_denied",
            "{entry}"
        );
        assert_eq!(entry["type"], "unknown");
    }
    let table = run_without_caps(&["fds", &pid]).unwrap();
    let text = stdout(&table);
    assert!(text.contains(&format!("{expected} fds")), "{text}");
    let note = stderr(&table);
    assert!(note.contains("denied even to root"), "{note}");
    assert!(!note.contains("run as root"), "{note}");
    let show = json_ok(&run_without_caps(&["show", &pid, "--json"]).unwrap());
    assert_eq!(show["process"]["counts"]["fds"], expected, "{show}");
    assert_eq!(
        show["process"]["counts"]["fds_by_type"]["unknown"],
        expected
    );
    // Its sockets are behind the denied links: "none listening" would be a guess.
    assert_eq!(
        show["process"]["unavailable"]["listening"],
        "permission_denied"
    );
}

#[test]
fn as_root_the_holder_hint_does_not_say_run_as_root() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let Some(output) = run_without_caps(&["ports", &port]) else {
        return;
    };
    let note = stderr(&output);
    assert!(note.contains("1 socket without a known holder"), "{note}");
    assert!(note.contains("denied even to root"), "{note}");
    assert!(!note.contains("run as root"), "{note}");
}

/// A zombie the test owns: `sleep 300` (our child) whose own child exited unreaped. Dropping
/// the returned child ends the sleep, and init reaps the zombie.
fn zombie() -> (Owned, u32) {
    let parent = Owned::spawn("sh", &["-c", "sleep 0 & exec sleep 300"]);
    for _ in 0..400 {
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            let Some((_, rest)) = stat.rsplit_once(')') else {
                continue;
            };
            let fields: Vec<&str> = rest.split_whitespace().collect();
            if fields.first() == Some(&"Z") && fields.get(1) == Some(&&*parent.pid().to_string()) {
                let pid = entry.file_name().to_str().unwrap().parse().unwrap();
                return (parent, pid);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("no zombie appeared under {}", parent.pid());
}

#[test]
fn zombies_have_no_wait_pc_or_fds() {
    let (_parent, zombie) = zombie();
    let pid = zombie.to_string();
    let threads = run(&["threads", &pid]);
    let text = stdout(&threads);
    assert!(
        !text.contains("user space") && !text.contains("unmapped"),
        "{text}"
    );
    assert!(stderr(&threads).contains("zombie"), "{}", stderr(&threads));
    let doc = json_ok(&run(&["threads", &pid, "--json"]));
    let row = &doc["threads"][0];
    assert_eq!(row["wait"], serde_json::Value::Null, "{row}");
    assert_eq!(row["unavailable"]["pc"], "zombie", "{row}");
    let listing = json_ok(&run(&[
        "ps",
        "-L",
        "--json",
        "--pid",
        &pid,
        "-o",
        "tid,wait,fds",
    ]));
    let row = row_of(&listing, zombie);
    assert_eq!(row["unavailable"]["wait"], "zombie", "{row}");
    assert_eq!(row["unavailable"]["fds"], "zombie", "{row}");
    let fds = run(&["fds", &pid]);
    assert_eq!(fds.status.code(), Some(1), "{}", stdout(&fds));
    assert!(stderr(&fds).contains("is a zombie"), "{}", stderr(&fds));
    let fds_json = json(&run(&["fds", &pid, "--json"]));
    assert_eq!(fds_json["errors"][0]["reason"], "zombie", "{fds_json}");
    let show = json_ok(&run(&["show", &pid, "--json"]));
    assert_eq!(show["process"]["counts"]["fds"], serde_json::Value::Null);
    assert_eq!(show["process"]["unavailable"]["counts.fds"], "zombie");
}

#[test]
fn ps_threads_hint_counts_threads() {
    let Some(user) = crate::permission::unprivileged() else {
        return;
    };
    // A root-owned process with four threads (the test user may not read their syscall).
    let threaded = Owned::spawn(
        "python3",
        &[
            "-c",
            "import threading,time\nfor _ in range(3): threading.Thread(target=time.sleep, args=(300,), daemon=True).start()\ntime.sleep(300)",
        ],
    );
    let pid = threaded.pid();
    wait_for(|| {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .is_ok_and(|status| status.contains("Threads:\t4\n"))
    });
    let output = user.run(&[
        "ps",
        "-L",
        "--pid",
        &pid.to_string(),
        "-o",
        "tid,wait",
        "--no-header",
    ]);
    let rows = stdout(&output).lines().count();
    assert_eq!(rows, 4, "{}", stdout(&output));
    let note = stderr(&output);
    assert!(
        note.contains(&format!("permission denied ({rows} threads: WAIT)")),
        "{note}"
    );
}

#[test]
fn pipe_peers_are_the_other_end_only_with_a_direction() {
    use std::os::fd::AsRawFd;
    let (read_end, write_end) = std::io::pipe().unwrap();
    let writer_a = crate::common::sleep_holding(write_end.as_raw_fd());
    let writer_b = crate::common::sleep_holding(write_end.as_raw_fd());
    let fd = write_end.as_raw_fd();
    let doc = json_ok(&run(&[
        "fds",
        &writer_a.pid().to_string(),
        "--json",
        "--peers",
    ]));
    let row = doc["fds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["fd"] == fd)
        .unwrap();
    let peers = row["pipe_peers"].as_array().unwrap();
    let me = std::process::id();
    // The write end's peers are the readers: this test's read end, and nothing else (not
    // writer B, not this test's own write end).
    assert_eq!(peers.len(), 1, "{row}");
    assert_eq!(peers[0]["pid"], me);
    assert_eq!(peers[0]["fd"], read_end.as_raw_fd());
    assert_eq!(peers[0]["direction"], "read");
    assert!(
        row["description"].as_str().unwrap().contains(" -> "),
        "{row}"
    );
    // The read end's peers are every writer.
    let own = json_ok(&run(&["fds", &me.to_string(), "--json", "--peers"]));
    let row = own["fds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["fd"] == read_end.as_raw_fd())
        .unwrap();
    let mut writers: Vec<(u64, &str)> = row["pipe_peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["pid"].as_u64().unwrap(), p["direction"].as_str().unwrap()))
        .collect();
    writers.sort_unstable();
    let mut expected = vec![
        (u64::from(me), "write"),
        (u64::from(writer_a.pid()), "write"),
        (u64::from(writer_b.pid()), "write"),
    ];
    expected.sort_unstable();
    assert_eq!(writers, expected, "{row}");
}

#[test]
fn ps_runtime_is_the_runtime_object_and_matches_the_schema() {
    let output = crate::common::run_fixture_tree("node", &["ps", "-o", "pid,runtime", "--json"]);
    let doc = json_ok(&output);
    let runtime = &row_of(&doc, 9012)["runtime"];
    assert_eq!(runtime["name"], "node", "{doc}");
    assert_eq!(runtime["version"], "20.20.2");
    let schema = json(&run(&["schema", "ps"]));
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(validator.is_valid(&doc), "{doc}");
    let mut wrong = doc.clone();
    wrong["processes"][0]["runtime"] = serde_json::json!("node 20.20.2");
    assert!(
        !validator.is_valid(&wrong),
        "a string is no longer a runtime"
    );
    let show = json_ok(&crate::common::run_fixture_tree(
        "node",
        &["show", "9012", "--json"],
    ));
    assert_eq!(&show["process"]["runtime"], runtime);
    let text = stdout(&crate::common::run_fixture_tree(
        "node",
        &["ps", "-o", "runtime", "--no-header"],
    ));
    assert_eq!(text, "node 20.20.2\n");
}

/// `Rss:` of smaps_rollup, in bytes.
fn rollup_rss(pid: u32) -> u64 {
    kib_line(pid, "smaps_rollup", "Rss:")
}

#[test]
fn show_memory_map_groups_add_up_to_the_rss() {
    // python maps other files and the kernel's vdso, which the five classic groups leave
    // out, and here a shared anonymous mapping (shared memory).
    let sleeper = Owned::spawn(
        "python3",
        &[
            "-c",
            "import mmap,time; m = mmap.mmap(-1, 1 << 20, flags=mmap.MAP_SHARED); m.write(b'x' * (1 << 20)); time.sleep(300)",
        ],
    );
    let mut last = (0, 0);
    for _ in 0..200 {
        let before = rollup_rss(sleeper.pid());
        let doc = json_ok(&run(&["show", &sleeper.pid().to_string(), "--json"]));
        let groups = doc["process"]["memory_map"].as_array().unwrap();
        let sum: u64 = groups
            .iter()
            .map(|g| g["rss_bytes"].as_u64().unwrap())
            .sum();
        let shared = groups
            .iter()
            .find(|g| g["group"] == "shared_memory")
            .unwrap();
        last = (sum, before);
        if sum == before
            && before == rollup_rss(sleeper.pid())
            && shared["rss_bytes"].as_u64().unwrap() >= 1 << 20
        {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("groups sum to {}, smaps_rollup says {}", last.0, last.1);
}

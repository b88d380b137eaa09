//! Proof under stress: blocking reads, hidepid and subset=pid mounts, a foreign PID
//! namespace, permissions, churn and scale. Heavy cases are `#[ignore]`d and run by
//! `cargo test -- --include-ignored` (which CI runs).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Owned, bin, json, run, stderr, stdout};
use crate::permission::unprivileged;

/// Copies a fixture tree to a temporary directory (to add what git cannot hold, a FIFO).
fn fixture_copy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", crate::common::fixture(name).display()))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

#[test]
fn a_fifo_as_cmdline_times_out_and_the_listing_finishes() {
    let tree = fixture_copy("basic");
    let cmdline = tree.path().join("1/cmdline");
    std::fs::remove_file(&cmdline).unwrap();
    nix_mkfifo(&cmdline);
    let started = Instant::now();
    let output = run(&["--proc-root", tree.path().to_str().unwrap(), "ps", "--json"]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the listing finished"
    );
    assert_eq!(output.status.code(), Some(0));
    let doc = json(&output);
    let init = crate::common::row_of(&doc, 1);
    assert_eq!(init["argv"], serde_json::Value::Null);
    assert_eq!(init["unavailable"]["argv"], "timed_out");
    assert_eq!(
        doc["processes"].as_array().unwrap().len(),
        5,
        "every other process still listed"
    );
    let table = run(&["--proc-root", tree.path().to_str().unwrap(), "ps"]);
    assert!(
        stderr(&table).contains("read timed out (1 process: COMMAND)"),
        "{}",
        stderr(&table)
    );
}

fn nix_mkfifo(path: &std::path::Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

/// A procfs mounted at a temporary directory with `options`; unmounted when dropped.
struct ProcMount {
    dir: tempfile::TempDir,
}

impl ProcMount {
    fn new(options: &str) -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .ok()?;
        let mounted = Command::new("mount")
            .args(["-t", "proc", "-o", options, "proc"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .ok()?;
        if !mounted.success() {
            crate::common::notice!("cannot mount a procfs with {options}; test skipped");
            return None;
        }
        Some(Self { dir })
    }

    fn path(&self) -> &str {
        self.dir.path().to_str().unwrap()
    }
}

impl Drop for ProcMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn hidepid_hides_other_users_processes() {
    let Some(user) = unprivileged() else { return };
    let Some(mount) = ProcMount::new("hidepid=2") else {
        return;
    };
    let root_sleeper = Owned::spawn("sleep", &["300"]).sleeping();
    let output = user.run(&[
        "--proc-root",
        mount.path(),
        "ps",
        "--json",
        "-o",
        "pid,user,cmd",
    ]);
    let doc = crate::common::json_ok(&output);
    let rows = doc["processes"].as_array().unwrap();
    assert!(
        !rows.iter().any(|r| r["pid"] == root_sleeper.pid()),
        "a root process is simply absent"
    );
    assert!(rows.iter().all(|r| r["user"] == "procscope-test"), "{doc}");
    assert!(!rows.is_empty(), "its own process is listed");
    let show = user.run(&[
        "--proc-root",
        mount.path(),
        "show",
        &root_sleeper.pid().to_string(),
    ]);
    assert_eq!(show.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&show.stderr),
        format!("procscope: no process with PID {}\n", root_sleeper.pid())
    );
}

#[test]
fn subset_pid_has_no_sockets_and_says_so() {
    let Some(mount) = ProcMount::new("subset=pid") else {
        return;
    };
    let ports = run(&["--proc-root", mount.path(), "ports"]);
    assert_eq!(ports.status.code(), Some(3));
    assert!(
        stderr(&ports).contains("no socket tables under") && stderr(&ports).contains("subset=pid"),
        "{}",
        stderr(&ports)
    );
    let ps = run(&[
        "--proc-root",
        mount.path(),
        "ps",
        "--pid",
        &std::process::id().to_string(),
        "-o",
        "pid,start",
    ]);
    assert_eq!(ps.status.code(), Some(0), "{}", stderr(&ps));
    assert!(stdout(&ps).contains(&std::process::id().to_string()));
}

#[test]
fn a_foreign_pid_namespace_warns_listings_and_refuses_kill() {
    let probe = Command::new("unshare").args(["-Urpf", "true"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        crate::common::notice!("user namespaces are unavailable here; PID namespace test skipped");
        return;
    }
    let sentinel = Owned::spawn("sleep", &["300"]).sleeping();
    // Inside a new PID namespace with the host's /proc: listings run and warn once; kill
    // refuses.
    for (args, code) in [
        (vec!["ps".to_owned()], 0),
        (vec!["show".to_owned(), "1".to_owned()], 0),
        (vec!["kill".to_owned(), sentinel.pid().to_string()], 3),
    ] {
        let output = Command::new("unshare")
            .args(["-Urpf"])
            .arg(bin())
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {err}");
        assert!(
            err.contains("belongs to another PID namespace"),
            "{args:?}: {err}"
        );
        // Listings may add their usual notes (processes that vanished meanwhile).
        let warnings = err.lines().filter(|l| l.contains("PID namespace")).count();
        assert_eq!(warnings, 1, "{args:?}: {err}");
        if code == 3 {
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(err.starts_with("procscope: refusing to signal:"), "{err}");
            assert!(output.stdout.is_empty());
        } else {
            assert!(err.contains("may not match the caller's"), "{err}");
            assert!(!output.stdout.is_empty());
        }
    }
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", sentinel.pid())).unwrap();
    assert!(stat.contains(") S "), "the sentinel was not signalled");
}

/// Heavy tests take this lock so they never run at the same time (their timings and the
/// churn helper would disturb each other).
static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn heavy() -> std::sync::MutexGuard<'static, ()> {
    HEAVY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A process of the test user that made itself non-dumpable (like ssh-agent), run by the
/// system's python (the test user cannot reach a per-user one).
fn non_dumpable(user: &crate::permission::Unprivileged) -> Option<std::process::Child> {
    let python = ["/usr/bin/python3", "/usr/local/bin/python3"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
    let script = "import ctypes, sys, time; ctypes.CDLL(None).prctl(4, 0, 0, 0, 0); print('ready', flush=True); time.sleep(300)";
    let mut child = Command::new("setpriv")
        .args([
            &format!("--reuid={}", user.uid),
            &format!("--regid={}", user.uid),
            "--clear-groups",
            "--",
            python,
            "-c",
            script,
        ])
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let line = crate::common::first_line(&mut child);
    assert_eq!(line.trim(), "ready");
    Some(child)
}

#[test]
fn every_command_as_an_unprivileged_user() {
    let Some(user) = unprivileged() else { return };
    let root_sleeper = Owned::spawn("sleep", &["300"]).sleeping();
    let Some(mut hidden) = non_dumpable(&user) else {
        crate::common::notice!("no system python3 for the test user; permission suite skipped");
        return;
    };
    for target in [root_sleeper.pid(), hidden.id()] {
        let pid = target.to_string();
        let expectations: [(&[&str], &[i32]); 8] = [
            (&["ps", "--pid", &pid, "-o", "pid,user,exe,fds,cmd"], &[0]),
            (&["ps", "--threads", "--pid", &pid], &[0]),
            (&["show", &pid], &[0]),
            (&["threads", &pid], &[0]),
            (&["fds", &pid], &[1]),
            (&["mem", &pid], &[1]),
            (&["tree", &pid], &[0]),
            (&["kill", &pid, "--dry-run"], &[0]),
        ];
        for (args, codes) in expectations {
            let output = user.run(args);
            let err = String::from_utf8_lossy(&output.stderr);
            assert!(
                codes.contains(&output.status.code().unwrap_or(-1)),
                "{args:?} on {target}: {:?} {err}",
                output.status.code()
            );
            assert!(!err.contains("panicked"), "{args:?}: {err}");
        }
        let doc: serde_json::Value =
            serde_json::from_slice(&user.run(&["show", &pid, "--json"]).stdout).unwrap();
        assert_eq!(
            doc["process"]["unavailable"]["identity.exe"], "permission_denied",
            "{target}"
        );
        assert_eq!(
            doc["process"]["identity"]["argv"]
                .as_array()
                .map(Vec::is_empty),
            Some(false),
            "argv is readable"
        );
        let threads: serde_json::Value =
            serde_json::from_slice(&user.run(&["threads", &pid, "--json"]).stdout).unwrap();
        assert_eq!(
            threads["threads"][0]["unavailable"]["pc"],
            "permission_denied"
        );
    }
    let _ = hidden.kill();
    let _ = hidden.wait();
}

/// A helper that forks and reaps short-lived children as fast as it can (about 500/s here).
pub fn churn() -> Owned {
    Owned::spawn(
        "sh",
        &[
            "-c",
            "while :; do for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true & done; wait; done",
        ],
    )
}

#[test]
#[ignore = "heavy: runs list commands 400 times under process churn"]
fn list_commands_under_churn() {
    let _heavy = heavy();
    let _churn = churn();
    let mut runs = 0;
    for args in [&["ps"][..], &["ps", "--threads"], &["tree"], &["ports"]] {
        for _ in 0..100 {
            let output = run(args);
            let err = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(0), "{args:?}: {err}");
            assert!(!err.contains("panicked"));
            runs += 1;
        }
    }
    eprintln!("churn: {runs} list runs, 0 failures");
}

#[test]
#[ignore = "heavy: single-process commands on processes that exit meanwhile"]
fn single_process_commands_on_exiting_targets() {
    let _heavy = heavy();
    let _churn = churn();
    let mut gone = 0;
    for round in 0..60 {
        let target = Owned::spawn("sleep", &["0.05"]);
        std::thread::sleep(Duration::from_millis(round % 60));
        for command in ["show", "threads", "fds", "mem"] {
            let output = run(&[command, &target.pid().to_string()]);
            let err = String::from_utf8_lossy(&output.stderr);
            match output.status.code() {
                Some(0) => {}
                Some(1) => {
                    gone += 1;
                    assert_eq!(err.trim_end().lines().count(), 1, "{command}: {err}");
                    assert!(err.starts_with("procscope: "), "{err}");
                }
                other => panic!("{command} on an exiting process: {other:?} {err}"),
            }
            assert!(!err.contains("panicked"));
        }
    }
    eprintln!("exiting targets: 240 runs, {gone} reported the target gone (exit 1)");
}

/// Peak RSS in KiB of one run, from GNU time, if installed.
fn peak_rss(args: &[&str]) -> Option<u64> {
    let output = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg(bin())
        .args(args)
        .stdout(Stdio::null())
        .output()
        .ok()?;
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .last()?
        .trim()
        .parse()
        .ok()
}

#[test]
#[ignore = "heavy: 10000 threads, 20000 fds, a 4 MiB command line, 5000 processes"]
fn scale() {
    let _heavy = heavy();
    // 10000 threads in one process.
    let script = "import threading, time\nthreading.stack_size(64*1024)\nev = threading.Event()\nfor _ in range(10000): threading.Thread(target=ev.wait, daemon=True).start()\nprint('ready', flush=True)\ntime.sleep(600)";
    let mut threads = Command::new("python3")
        .args(["-c", script])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    crate::common::first_line(&mut threads);
    let pid = threads.id().to_string();
    for args in [
        vec!["threads", &pid, "--json"],
        vec!["mem", &pid, "--json"],
        vec!["ps", "--threads", "--pid", &pid, "--json"],
    ] {
        let started = Instant::now();
        let output = run(&args);
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        eprintln!(
            "scale: {args:?} on 10000 threads: {:?}, peak RSS {:?} KiB",
            started.elapsed(),
            peak_rss(&args)
        );
    }
    let doc = json(&run(&["threads", &pid, "--json"]));
    assert_eq!(doc["threads"].as_array().unwrap().len(), 10001);
    let _ = threads.kill();
    let _ = threads.wait();

    // 20000 descriptors (or as many as the hard limit allows).
    let script = "import os, resource, time\nsoft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\nn = min(20000, hard - 100)\nresource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))\nnull = os.open('/dev/null', os.O_RDONLY)\nheld = [os.dup(null) for _ in range(n - 1)]\nprint(n, flush=True)\ntime.sleep(600)";
    let mut fds = Command::new("python3")
        .args(["-c", script])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let line = crate::common::first_line(&mut fds);
    let count: usize = line.trim().parse().unwrap();
    let pid = fds.id().to_string();
    let started = Instant::now();
    let doc = json(&run(&["fds", &pid, "--json"]));
    assert!(doc["fds"].as_array().unwrap().len() >= count);
    eprintln!(
        "scale: fds on {count} descriptors: {:?}, peak RSS {:?} KiB",
        started.elapsed(),
        peak_rss(&["fds", &pid])
    );
    let started = Instant::now();
    assert_eq!(run(&["ports", "--all"]).status.code(), Some(0));
    eprintln!(
        "scale: ports --all with {count} descriptors open: {:?}",
        started.elapsed()
    );
    let _ = fds.kill();
    let _ = fds.wait();

    // A 4 MiB command line: 33 arguments just under the kernel's 128 KiB per argument;
    // the whole argv must fit a quarter of the stack limit, so the child gets no limit.
    let big: Vec<String> = (0..33)
        .map(|i| format!("{i:02}{}", "x".repeat(127 * 1024)))
        .collect();
    // `sh -c 'read x' sh ARGS...`: sh keeps the arguments and waits on its stdin.
    let mut sleeper = Command::new("sh");
    sleeper
        .args(["-c", "read x", "sh"])
        .args(&big)
        .stdin(Stdio::piped());
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe; it only raises the child's own stack limit.
    unsafe {
        sleeper.pre_exec(|| {
            let unlimited = libc::rlimit {
                rlim_cur: libc::RLIM_INFINITY,
                rlim_max: libc::RLIM_INFINITY,
            };
            libc::setrlimit(libc::RLIMIT_STACK, &unlimited);
            Ok(())
        });
    }
    let long = Owned(sleeper.spawn().expect("a 4 MiB command line starts")).sleeping();
    let pid = long.pid().to_string();
    let doc = json(&run(&["ps", "--pid", &pid, "--json", "-o", "cmd"]));
    // Read up to the 256 KiB cap (whole arguments in order, the rest flagged), not all 4 MiB.
    let row = &doc["processes"][0];
    let argv = row["argv"].as_array().unwrap();
    assert_eq!(row["argv_truncated"], true, "4 MiB is past the cap");
    assert_eq!(argv[..3], ["sh", "-c", "read x"]);
    let read: usize = argv.iter().map(|a| a.as_str().unwrap().len()).sum();
    assert!((200 << 10..=256 << 10).contains(&read), "{read} bytes read");
    assert!(argv[4].as_str().unwrap().starts_with("00xxx"));
    assert_eq!(run(&["show", &pid]).status.code(), Some(0));
    drop(long);

    // 5000 processes.
    let sleepers: Vec<Owned> = (0..5000)
        .map(|_| {
            Owned(
                Command::new("sleep")
                    .arg("600")
                    .stdin(Stdio::null())
                    .spawn()
                    .unwrap(),
            )
        })
        .collect();
    for args in [&["ps"][..], &["tree"], &["ports"], &["ps", "--threads"]] {
        let started = Instant::now();
        let output = run(args);
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        eprintln!(
            "scale: {args:?} with 5000 extra processes: {:?}, peak RSS {:?} KiB",
            started.elapsed(),
            peak_rss(args)
        );
    }
    let listed = json(&run(&["ps", "--json", "-o", "pid"]));
    let pids: std::collections::HashSet<u64> = listed["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_u64().unwrap())
        .collect();
    assert!(sleepers.iter().all(|s| pids.contains(&u64::from(s.pid()))));
}

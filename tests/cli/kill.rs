//! `kill` outcomes and selection against the test's own children: zombies, per-target exit
//! times, the matcher shared with `ps`, network namespaces; and `ps --state` lists.

use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};

use crate::common::{Owned, first_line, json, json_ok, pids, run, sleep_holding, stderr, stdout};

/// The state letter of `pid`.
fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.trim_start().chars().next()
}

/// Polls until `pid` is in state `letter`.
fn wait_state(pid: u32, letter: char) {
    for _ in 0..1000 {
        if state(pid) == Some(letter) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("{pid} never reached state {letter}");
}

/// A child that has exited and that this test has not reaped: a zombie.
fn zombie() -> std::process::Child {
    let child = Command::new("true").spawn().unwrap();
    wait_state(child.id(), 'Z');
    child
}

#[test]
fn a_zombie_is_named_with_its_parent_and_done_only_for_wait() {
    let mut child = zombie();
    let pid = child.id().to_string();
    let me = std::process::id();
    let output = run(&["kill", &pid, "--json"]);
    assert_eq!(output.status.code(), Some(1), "nothing could be signalled");
    let result = &json(&output)["results"][0];
    assert_eq!(result["result"], "zombie", "{result}");
    assert_eq!(result["parent_pid"], me);
    assert_eq!(
        result["reason"],
        format!("not reaped by its parent PID {me}")
    );
    let table = stdout(&run(&["kill", &pid]));
    assert!(
        table.contains(&format!("zombie (not reaped by its parent PID {me})")),
        "{table}"
    );
    let waited = run(&["kill", &pid, "--wait", "--json"]);
    assert_eq!(json_ok(&waited)["results"][0]["result"], "zombie");
    child.wait().unwrap();
}

#[test]
fn each_target_is_timed_to_its_own_exit() {
    let sleeper = Owned::spawn("sleep", &["300"]).sleeping();
    // Exits 1.5 s after its SIGTERM; says when its handler is in place.
    let slow = r#"
import signal, sys, time
def term(*_):
    time.sleep(1.5)
    sys.exit(0)
signal.signal(signal.SIGTERM, term)
print("ready", flush=True)
while True:
    time.sleep(1)
"#;
    let mut child = Command::new("python3")
        .args(["-c", slow])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert_eq!(first_line(&mut child), "ready\n");
    let mut slow = Owned(child);
    let output = run(&[
        "kill",
        &sleeper.pid().to_string(),
        &slow.pid().to_string(),
        "--wait",
        "--timeout",
        "30s",
        "--json",
    ]);
    let doc = json_ok(&output);
    let seconds: Vec<f64> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["exit_seconds"].as_f64().unwrap())
        .collect();
    assert!(seconds[1] >= 1.5, "the slow one took its 1.5 s: {doc}");
    assert!(seconds[0] < seconds[1], "each has its own time: {doc}");
    assert_eq!(slow.0.wait().unwrap().code(), Some(0));
}

#[test]
fn pattern_and_name_select_what_ps_selects() {
    // A sleep whose name (from the link it was started by) is unique; its command line is
    // the full path, so `^name$` matches the name only.
    let dir = tempfile::tempdir().unwrap();
    let name = format!("pk{}", std::process::id());
    let link = dir.path().join(&name);
    std::os::unix::fs::symlink("/bin/sleep", &link).unwrap();
    let child = Owned::spawn(&link, &["300"]).sleeping();
    let regex = format!("^{name}$");
    let listed = pids(&json_ok(&run(&["ps", &regex, "--regex", "--json"]))["processes"]);
    assert_eq!(listed, vec![u64::from(child.pid())]);
    let selected = json_ok(&run(&["kill", "--pattern", &regex, "--dry-run", "--json"]));
    assert_eq!(pids(&selected["results"]), listed);
    assert_eq!(selected["results"][0]["result"], "would_signal");
    let exact = pids(&json_ok(&run(&["ps", &name, "--exact", "--json"]))["processes"]);
    let by_name = json_ok(&run(&["kill", "--name", &name, "--dry-run", "--json"]));
    assert_eq!(pids(&by_name["results"]), exact);
    assert_eq!(exact, listed);
    // The dry run shows the command line, to check a selection before it is sent.
    let table = stdout(&run(&["kill", "--pattern", &regex, "--dry-run"]));
    assert!(
        table.lines().next().unwrap().ends_with("COMMAND"),
        "{table}"
    );
    assert!(
        table.contains(&format!("{} 300", link.display())),
        "{table}"
    );
    for empty in [
        &["ps", ""][..],
        &["ps", "", "--regex"],
        &["ps", "", "--exact"],
    ] {
        let output = run(empty);
        assert_eq!(output.status.code(), Some(2), "{empty:?}");
        assert!(stderr(&output).contains("empty pattern"), "{empty:?}");
    }
}

/// The inode of this process's network namespace.
fn own_netns() -> u64 {
    let link = std::fs::read_link("/proc/self/ns/net").unwrap();
    let text = link.to_string_lossy();
    text.trim_start_matches("net:[")
        .trim_end_matches(']')
        .parse()
        .unwrap()
}

#[test]
fn kill_by_port_stays_in_its_network_namespace() {
    let probe = Command::new("unshare").args(["-Urn", "true"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        crate::common::notice!(
            "user namespaces are unavailable here; network namespace test skipped"
        );
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut holder = sleep_holding(listener.as_raw_fd());
    drop(listener);
    // The same port on the loopback of another (new, empty) network namespace, brought up
    // with SIOCSIFFLAGS (no `ip` needed).
    let serve = format!(
        r#"
import fcntl, socket, struct, time
s = socket.socket()
flags = struct.unpack("16sH", fcntl.ioctl(s, 0x8913, struct.pack("16sH14x", b"lo", 0))[:18])[1]
fcntl.ioctl(s, 0x8914, struct.pack("16sH14x", b"lo", flags | 1))
s.bind(("127.0.0.1", {port}))
s.listen()
print("ready", flush=True)
time.sleep(300)
"#
    );
    let mut other = Command::new("unshare")
        .args(["-Urn", "python3", "-c", &serve])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(first_line(&mut other), "ready\n");
    let other = Owned(other);
    let port = port.to_string();
    let own = json_ok(&run(&["kill", "--port", &port, "--dry-run", "--json"]));
    assert_eq!(
        pids(&own["results"]),
        vec![u64::from(holder.pid())],
        "{own}"
    );
    assert_eq!(own["results"][0]["netns"], own_netns());
    let every = json_ok(&run(&[
        "kill",
        "--port",
        &port,
        "--all-netns",
        "--dry-run",
        "--json",
    ]));
    let mut found = pids(&every["results"]);
    found.sort_unstable();
    let mut expected = vec![u64::from(holder.pid()), u64::from(other.pid())];
    expected.sort_unstable();
    assert_eq!(found, expected, "{every}");
    assert_ne!(every["results"][0]["netns"], every["results"][1]["netns"]);
    let table = stdout(&run(&["kill", "--port", &port, "--all-netns", "--dry-run"]));
    assert!(table.lines().next().unwrap().contains("NETNS"), "{table}");
    let killed = json_ok(&run(&[
        "kill",
        "--port",
        &port,
        "--yes",
        "--wait",
        "--timeout",
        "10s",
        "--json",
    ]));
    assert_eq!(pids(&killed["results"]), vec![u64::from(holder.pid())]);
    assert_eq!(killed["results"][0]["result"], "exited");
    holder.0.wait().unwrap();
    let mut other = other;
    assert!(
        other.0.try_wait().unwrap().is_none(),
        "the other namespace's listener runs on"
    );
}

#[test]
fn ps_state_takes_a_comma_list() {
    let mut dead = zombie();
    let mut stopped = Owned::spawn("sleep", &["300"]).sleeping();
    crate::common::signal_own_child(&mut stopped.0, libc::SIGSTOP);
    wait_state(stopped.pid(), 'T');
    let running = Owned::spawn("sleep", &["300"]).sleeping();
    let wanted = format!("{},{},{}", dead.id(), stopped.pid(), running.pid());
    let doc = json_ok(&run(&["ps", "--state", "Z,T", "--pid", &wanted, "--json"]));
    let mut expected = vec![u64::from(dead.id()), u64::from(stopped.pid())];
    expected.sort_unstable();
    assert_eq!(pids(&doc["processes"]), expected);
    let bad = run(&["ps", "--state", "Z,,T"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("'Z,,T'"));
    dead.wait().unwrap();
}

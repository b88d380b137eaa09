//! Text other users control never reaches the terminal raw: socket names, cgroup paths,
//! environment values, process names with bidi/zero-width/backslash, and what a user typed
//! quoted back in an error. Every target is a process the test starts (or the test itself).

use std::process::Command;

use crate::common::{Owned, run, spawn_ready, stderr};

/// Bytes a terminal would act on: ESC, BEL, CSI (C1), and the invisible code points.
fn assert_inert(what: &str, output: &[u8]) {
    let text = String::from_utf8_lossy(output);
    for bad in [
        "\x1b", "\x07", "\u{9b}", "\u{85}", "\u{200b}", "\u{200d}", "\u{202e}", "\u{2066}",
        "\u{feff}", "\u{2028}",
    ] {
        assert!(!text.contains(bad), "{what} printed {bad:?} raw:\n{text}");
    }
}

/// A python3 child whose comm is `name` (set through /proc/self/comm), waiting on stdin.
fn named_child(name: &str) -> Owned {
    let script = "import sys; open('/proc/self/comm', 'w').write(sys.argv[1]); print('ready', flush=True); sys.stdin.read()";
    spawn_ready(Command::new("python3").args(["-c", script, name])).expect("python3 starts")
}

#[test]
fn abstract_socket_name_with_escapes_is_escaped_in_fds_and_show() {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixListener};
    let name = format!("t\x1b]0;pwned\x07\x1b[2J\nx{}", std::process::id());
    let address = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let _listener = UnixListener::bind_addr(&address).unwrap();
    for command in ["fds", "show"] {
        let text = table_of(command, std::process::id());
        assert!(
            text.contains("@t\\e]0;pwned\\x07\\e[2J"),
            "{command} does not show the escaped name:\n{text}"
        );
    }
}

/// A writable cgroup v2 hierarchy (from /proc/self/mountinfo), if any.
pub fn writable_cgroup2() -> Option<std::path::PathBuf> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    mountinfo.lines().find_map(|line| {
        let (mount, fs) = line.split_once(" - ")?;
        if !fs.starts_with("cgroup2 ") {
            return None;
        }
        let point = std::path::PathBuf::from(mount.split(' ').nth(4)?);
        let probe = point.join(format!("procscope-probe-{}", std::process::id()));
        std::fs::create_dir(&probe).ok()?;
        std::fs::remove_dir(&probe).ok()?;
        Some(point)
    })
}

#[test]
fn cgroup_path_with_escapes_is_escaped_in_show() {
    let Some(root) = writable_cgroup2() else {
        crate::common::notice!("no writable cgroup2 mount; cgroup escaping test skipped");
        return;
    };
    use std::os::unix::ffi::OsStrExt;
    let name = format!("procscope-\x1b]0;x\x07-{}-", std::process::id());
    let mut name = name.into_bytes();
    name.push(0xff);
    let group = root.join(std::ffi::OsStr::from_bytes(&name));
    std::fs::create_dir(&group).unwrap();
    let child = Owned::spawn("sleep", &["1000"]).sleeping();
    let pid = child.pid().to_string();
    let moved = std::fs::write(group.join("cgroup.procs"), &pid);
    let outputs = moved
        .as_ref()
        .ok()
        .map(|_| (run(&["show", &pid]), run(&["show", &pid, "--json"])));
    drop(child);
    // The child is reaped: the group is empty and can go.
    let _ = std::fs::remove_dir(&group);
    if let Err(err) = moved {
        crate::common::notice!(
            "cannot move a process into {}: {err}; test skipped",
            group.display()
        );
        return;
    }
    let (table, json) = outputs.unwrap();
    let text = inert_text("show", &table);
    assert!(
        text.contains(&format!(
            "procscope-\\e]0;x\\x07-{}-\\xff",
            std::process::id()
        )),
        "show does not show the escaped cgroup:\n{text}"
    );
    // JSON keeps the exact bytes: the path relative to the hierarchy ends in the name.
    use base64::Engine;
    let document = crate::common::json_ok(&json);
    let exact = base64::engine::general_purpose::STANDARD
        .decode(document["process"]["cgroup_b64"].as_str().unwrap())
        .unwrap();
    assert!(exact.ends_with(&name), "{document}");
}

#[test]
fn node_environment_value_is_escaped_in_show_and_threads() {
    let Some(node) = spawn_ready(
        Command::new("node")
            .args(["-e", "console.log('ready'); setInterval(() => {}, 1000)"])
            .env("UV_THREADPOOL_SIZE", "4\x1b[2J"),
    ) else {
        crate::common::notice!("node is not installed; environment escaping test skipped");
        return;
    };
    for command in ["show", "threads"] {
        let text = table_of(command, node.pid());
        assert!(
            text.contains("UV_THREADPOOL_SIZE=4\\e[2J"),
            "{command} does not show the escaped value:\n{text}"
        );
    }
}

#[test]
fn error_messages_escape_what_the_user_typed() {
    // clap strips ANSI sequences from its own messages, but not C1 controls.
    let cases: [(&[&str], &str); 4] = [
        (&["ps", "--user", "\x1b]0;x\x07"], "\\e]0;x\\x07"),
        (&["ps", "-o", "pid,\x1b[2J\u{202e}"], "\\e[2J\\u{202e}"),
        (&["kill", "--dry-run", "--pattern", "(\x1b[2J"], "(\\e[2J"),
        (&["threads", "\u{9b}1m"], "\\u{9b}1m"),
    ];
    for (args, shown) in cases {
        let output = run(args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert_inert(&format!("{args:?}"), &output.stderr);
        assert!(
            stderr(&output).contains(shown),
            "{args:?} does not quote the input escaped: {}",
            stderr(&output)
        );
    }
}

fn table_of(command: &str, pid: u32) -> String {
    inert_text(command, &run(&[command, &pid.to_string()]))
}

/// The stdout of a successful run, checked to hold nothing a terminal acts on.
fn inert_text(command: &str, output: &std::process::Output) -> String {
    assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
    assert_inert(command, &output.stdout);
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn bidi_zero_width_and_backslash_names_are_escaped() {
    let cases = [
        ("s\u{200b}s\u{200d}hd", "s\\u{200b}s\\u{200d}hd"),
        ("x\u{202e}gpj\u{2066}", "x\\u{202e}gpj\\u{2066}"),
        ("a\\nb", "a\\\\nb"),
        ("a\nb", "a\\nb"),
    ];
    for (name, shown) in cases {
        let child = named_child(name);
        for command in ["show", "threads"] {
            let text = table_of(command, child.pid());
            assert!(text.contains(shown), "{command} {name:?}:\n{text}");
        }
        let output = run(&["ps", "--pid", &child.pid().to_string(), "-o", "pid,name"]);
        assert_inert("ps", &output.stdout);
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains(shown), "ps {name:?}:\n{text}");
    }
    // A literal backslash-n and a newline never print the same.
    let literal = named_child("a\\nb");
    let newline = named_child("a\nb");
    let name_line = |pid: u32| {
        let text = table_of("show", pid);
        text.lines()
            .next()
            .unwrap()
            .split("  ")
            .nth(1)
            .unwrap()
            .to_owned()
    };
    assert_ne!(name_line(literal.pid()), name_line(newline.pid()));
}

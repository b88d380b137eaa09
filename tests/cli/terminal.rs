//! Terminal conventions, under a real pseudo-terminal (`script` with `stty cols N`):
//! `TERM=dumb` means no colour, every line fits the width, narrow terminals keep the
//! columns that answer the question, long values wrap in linear time, and pretty JSON
//! escapes C1 controls.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use procscope::text::escape::display_width;

use crate::common::{Owned, bin, json_ok, run, spawn_ready};

/// `'text'` for sh, any bytes but NUL.
fn quoted(text: &OsStr) -> Vec<u8> {
    let mut out = vec![b'\''];
    for &byte in text.as_bytes() {
        if byte == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(byte);
        }
    }
    out.push(b'\'');
    out
}

/// The shell command that runs procscope with `args` on a terminal `columns` wide.
fn terminal_script(columns: u16, args: &[&OsStr]) -> OsString {
    let mut script = format!("stty cols {columns} rows 50 && exec ").into_bytes();
    script.extend(quoted(bin().as_os_str()));
    for arg in args {
        script.push(b' ');
        script.extend(quoted(arg));
    }
    // Hints on stderr are not tables: only what stdout shows is checked.
    script.extend_from_slice(b" 2>/dev/null");
    OsString::from_vec(script)
}

/// Runs procscope on a pseudo-terminal `columns` wide with `TERM=term`; returns what it
/// printed on stdout, with the terminal's CR LF made LF.
fn on_terminal(columns: u16, term: &str, args: &[&str]) -> String {
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    let output = Command::new("script")
        .args(["-qec".as_ref(), terminal_script(columns, &args).as_os_str()])
        .arg("/dev/null")
        .env("TERM", term)
        .env("TZ", "UTC")
        .env_remove("NO_COLOR")
        .env_remove("COLUMNS")
        .stdin(Stdio::null())
        .output()
        .expect("script runs");
    String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n")
}

/// Text with SGR colour sequences removed.
fn without_colour(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("\x1b[") {
        out.push_str(&rest[..start]);
        let tail = &rest[start + 2..];
        let end = tail.find('m').map_or(tail.len(), |i| i + 1);
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn assert_fits(what: &str, text: &str, columns: usize) {
    for line in without_colour(text).lines() {
        assert!(
            display_width(line) <= columns,
            "{what} at {columns} columns printed a line {} wide: {line:?}\n{text}",
            display_width(line)
        );
    }
}

#[test]
fn term_dumb_gets_no_colour() {
    let own = std::process::id().to_string();
    let colourful = on_terminal(80, "xterm-256color", &["ps", "--pid", &own]);
    assert!(colourful.contains("\x1b[1m"), "{colourful:?}");
    let dumb = on_terminal(80, "dumb", &["ps", "--pid", &own]);
    assert!(dumb.contains(&own), "{dumb:?}");
    assert!(!dumb.contains('\x1b'), "TERM=dumb got colour: {dumb:?}");
}

#[test]
fn every_line_fits_narrow_terminals() {
    let child = Owned::spawn("sleep", &["1000"]).sleeping();
    let pid = child.pid().to_string();
    for columns in [10, 20, 40] {
        for command in ["show", "threads", "fds", "mem", "tree"] {
            for term in ["dumb", "xterm"] {
                let text = on_terminal(columns, term, &[command, &pid]);
                assert!(text.contains(&pid), "{command}: {text}");
                assert_fits(command, &text, usize::from(columns));
            }
        }
        let text = on_terminal(columns, "dumb", &["ps", "--pid", &pid]);
        assert_fits("ps", &text, usize::from(columns));
    }
}

#[test]
fn kill_keeps_result_visible_when_narrow() {
    // Only inside a new PID namespace, where PID 1 is `script` itself; --dry-run besides.
    for columns in [10u16, 20, 40] {
        let args = [OsStr::new("kill"), OsStr::new("1"), OsStr::new("--dry-run")];
        let output = Command::new("unshare")
            .args(["-Urpf", "--mount-proc", "script", "-qec"])
            .arg(terminal_script(columns, &args))
            .arg("/dev/null")
            .env("TERM", "dumb")
            .stdin(Stdio::null())
            .output()
            .expect("unshare runs");
        let text = String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n");
        if !output.status.success() && !text.contains("PID") {
            crate::common::notice!(
                "unshare -Urpf is not permitted here ({}); narrow kill test skipped",
                String::from_utf8_lossy(&output.stderr).trim()
            );
            return;
        }
        assert_fits("kill", &text, usize::from(columns));
        let mut lines = text.lines();
        assert!(lines.next().unwrap().contains("RESULT"), "{text}");
        assert!(
            lines.next().unwrap().contains("refuse"),
            "{columns} columns hide the refusal:\n{text}"
        );
    }
}

#[test]
fn threads_at_80_columns_keep_wait_and_pc() {
    let Some(node) = spawn_ready(
        Command::new("node").args(["-e", "console.log('ready'); setInterval(() => {}, 100000)"]),
    ) else {
        crate::common::notice!("node is not installed; threads width test skipped");
        return;
    };
    let pid = node.pid().to_string();
    // The main thread waits in epoll between timers; poll until both reads agree.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let doc = json_ok(&run(&["threads", &pid, "--json"]));
        let main = doc["threads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["tid"] == doc["pid"])
            .cloned()
            .unwrap();
        let (Some(wait), Some(pc)) = (main["wait"].as_str(), main["pc_text"].as_str()) else {
            assert!(
                Instant::now() < deadline,
                "no WAIT/PC for the main thread: {doc}"
            );
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        let symbol = pc.split('+').next().unwrap();
        let text = on_terminal(80, "dumb", &["threads", &pid]);
        assert_fits("threads", &text, 80);
        let header = text
            .lines()
            .find(|l| l.trim_start().starts_with("TID"))
            .unwrap();
        assert!(
            header.contains(" WAIT ") && header.ends_with(" PC"),
            "{text}"
        );
        let row = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{pid} ")))
            .unwrap();
        if row.contains(&format!(" {wait} ")) && row.contains(symbol) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "WAIT {wait:?} or PC {symbol:?} not readable at 80 columns:\n{text}"
        );
    }
}

#[test]
fn show_wraps_a_one_megabyte_command_line_quickly() {
    let chunk = "x".repeat(65_536);
    let mut args = vec!["-c", "read -r line", "sh"];
    args.extend(std::iter::repeat_n(chunk.as_str(), 16));
    let mut child = Command::new("sh")
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("sh starts");
    let _stdin = child.stdin.take();
    let holder = Owned(child).sleeping();
    let started = Instant::now();
    let text = on_terminal(80, "dumb", &["show", &holder.pid().to_string()]);
    let took = started.elapsed();
    assert_fits("show", &text, 80);
    let command_rows: String = text
        .lines()
        .skip_while(|line| !line.starts_with("  command "))
        .take_while(|line| line.starts_with("  command ") || line.starts_with(&" ".repeat(13)))
        .collect();
    // Shown whole as far as it is read: procscope reads at most 256 KiB of a command line
    // (the rest is flagged `argv_truncated`), so the 1 MB line shows its first 256 KiB.
    let doc = crate::common::json_ok(&crate::common::run(&[
        "show",
        &holder.pid().to_string(),
        "--json",
    ]));
    let read: usize = doc["process"]["identity"]["argv"]
        .as_array()
        .expect("argv")
        .iter()
        .map(|arg| arg.as_str().unwrap_or_default().matches('x').count())
        .sum();
    assert_eq!(
        doc["process"]["identity"]["argv_truncated"], true,
        "1 MB is past the cap"
    );
    assert!(read > 200_000, "{read} bytes of the command line read");
    assert_eq!(
        command_rows.matches('x').count(),
        read,
        "the command line is not shown whole"
    );
    // A regression guard, not a benchmark: quadratic wrapping took 18 s for 1 MB.
    assert!(took < Duration::from_secs(10), "show took {took:?}");
}

#[test]
fn pretty_json_on_a_terminal_escapes_c1() {
    let script = "import sys; open('/proc/self/comm', 'w').write('a\\x9b2Jb\\x85'); print('ready', flush=True); sys.stdin.read()";
    let holder = spawn_ready(Command::new("python3").args(["-c", script])).expect("python3 starts");
    let text = on_terminal(80, "xterm", &["show", &holder.pid().to_string(), "--json"]);
    assert!(
        !text.contains('\u{9b}') && !text.contains('\u{85}'),
        "{text:?}"
    );
    assert!(text.contains("a\\u009b2Jb\\u0085"), "{text}");
    let document: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(document["process"]["identity"]["name"], "a\u{9b}2Jb\u{85}");
}

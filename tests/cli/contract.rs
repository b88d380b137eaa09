//! The command-line contract: every bad input gets a one-line error naming the value and
//! the documented exit code, and never a panic.

use crate::common::{Owned, run, stderr, stdout};

fn assert_usage_error(args: &[&str], needle: &str) {
    let output = run(args);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{args:?} gives one line: {err}"
    );
    assert!(
        err.contains(needle),
        "{args:?}: {err:?} should name {needle:?}"
    );
    assert!(!err.contains("panicked"));
    assert_eq!(stdout(&output), "");
}

#[test]
fn bad_pids_for_show() {
    assert_usage_error(&["show", "abc"], "'abc'");
    assert_usage_error(&["show", "-1"], "-1");
    assert_usage_error(&["show", "0"], "PID 0");
    assert_usage_error(&["show", "4294967295"], "'4294967295' is out of range");
    assert_usage_error(&["show", "2147483648"], "'2147483648' is out of range");
    assert_usage_error(&["show", "99999999"], "'99999999' is out of range");
    assert_usage_error(&["show", "1e3"], "'1e3'");
    assert_usage_error(&["show", "0x10"], "'0x10'");
    assert_usage_error(&["show", "+5"], "'+5'");
}

#[test]
fn pid_above_this_systems_pid_max() {
    let pid_max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    if pid_max < 4_194_304 {
        let above = (pid_max + 1).to_string();
        assert_usage_error(
            &["show", &above],
            &format!("PID {above} is above this system's pid_max ({pid_max})"),
        );
    }
}

#[test]
fn missing_process_is_exit_1() {
    // A child that has exited and been reaped: its PID names no process (until reused).
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let output = run(&["show", &pid.to_string()]);
    if output.status.code() == Some(1) {
        assert_eq!(
            stderr(&output),
            format!("procscope: no process with PID {pid}\n")
        );
    } else {
        // The PID was reused at once by some other process; it must then be shown.
        assert_eq!(output.status.code(), Some(0));
    }
}

#[test]
fn bad_listing_options() {
    assert_usage_error(
        &["ps", "-o", "nosuch"],
        "unknown column 'nosuch': valid columns are pid, tid, tgid, ppid, user",
    );
    assert_usage_error(&["ps", "-o", "pid,nosuch"], "'nosuch'");
    assert_usage_error(&["ps", "--sort", "nosuch"], "unknown column 'nosuch'");
    assert_usage_error(&["ps", "--interval", "xyz"], "'xyz' is not a duration");
    assert_usage_error(&["ps", "--interval", "5h"], "unknown unit 'h'");
    assert_usage_error(&["ps", "--state", "Q"], "'Q'");
    assert_usage_error(
        &["ps", "--user", "no-such-user-procscope"],
        "unknown user 'no-such-user-procscope'",
    );
    assert_usage_error(&["ps", "--regex", "("], "invalid regex '('");
    assert_usage_error(&["ps", "--pid", "0"], "PID 0");
    assert_usage_error(&["show", "1", "--ndjson"], "--ndjson needs a list command");
    assert_usage_error(&["nosuchcommand"], "nosuchcommand");
}

#[test]
fn column_help_lists_every_column() {
    let output = run(&["ps", "-o", "help"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    for name in [
        "pid", "ppid", "user", "uid", "state", "cpu", "mem", "rss", "vsz", "threads", "nice",
        "priority", "start", "time", "tty", "name", "cmd", "exe",
    ] {
        assert!(
            text.lines()
                .any(|line| line.starts_with(&format!("{name} "))),
            "{name} in {text}"
        );
    }
}

#[test]
fn no_arguments_runs_ps() {
    let sleeper = Owned::spawn("sleep", &["300"]).sleeping();
    let output = run(&["--json"]);
    assert_eq!(output.status.code(), Some(0));
    let doc = crate::common::json(&output);
    assert_eq!(doc["command"], "ps");
    assert!(
        doc["processes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row["pid"] == sleeper.pid())
    );
}

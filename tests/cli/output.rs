//! Output behaviour: closed pipes, colour, completions and the man page.

use std::process::Stdio;

use crate::common::{bin, command, run, stdout};

/// Runs procscope with its standard output on a pipe whose reader is already closed, so its
/// first write fails with EPIPE (SIGPIPE ignored, as Rust binaries do) every time, not only
/// when a `head` happens to exit first.
fn into_closed_pipe(args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    command(args).stdout(Stdio::from(writer)).output().unwrap()
}

/// Asserts that a run into a closed pipe ended quietly: exit 0 (not a signal), no message.
fn ended_quietly(args: &[&str]) {
    let output = into_closed_pipe(args);
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?} into a closed pipe: {err}"
    );
    assert_no_error(&err, args);
}

/// No error message: a listing's footer notes (processes that exited meanwhile) may remain.
fn assert_no_error(err: &str, args: &[&str]) {
    assert!(
        !err.contains("procscope:") && !err.contains("panicked") && !err.contains("Broken pipe"),
        "{args:?} into a closed pipe: {err}"
    );
}

#[test]
fn closed_pipe_ends_quietly() {
    ended_quietly(&["ps"]);
    ended_quietly(&["ps", "--json"]);
    // Also through a real `head` (which may or may not close first).
    let output = std::process::Command::new("bash")
        .args(["-c", "set -o pipefail; \"$PROCSCOPE\" ps | head -1"])
        .env("PROCSCOPE", bin())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("PID"));
    assert_no_error(
        &String::from_utf8_lossy(&output.stderr),
        &["ps", "| head -1"],
    );
}

#[test]
fn full_disk_is_a_fatal_error() {
    let full = std::fs::File::create("/dev/full");
    let Ok(full) = full else {
        crate::common::notice!("/dev/full is not available; skipped");
        return;
    };
    let output = command(&["ps"]).stdout(Stdio::from(full)).output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.starts_with("procscope: ") && err.contains("No space left on device"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn colour_on_request_only() {
    let always = stdout(&run(&["ps", "--pid", "1", "--color", "always"]));
    assert!(always.contains("\x1b[1mPID"), "{always:?}");
    let never = stdout(&run(&["ps", "--pid", "1", "--color", "never"]));
    assert!(!never.contains('\x1b'));
    // Not a terminal: auto means no colour.
    let auto = stdout(&run(&["ps", "--pid", "1"]));
    assert!(!auto.contains('\x1b'));
}

#[test]
fn completions_and_man_page() {
    let bash = stdout(&run(&["completions", "bash"]));
    assert!(bash.contains("_procscope()"), "bash completion function");
    assert!(bash.contains("show"));
    let zsh = stdout(&run(&["completions", "zsh"]));
    assert!(zsh.starts_with("#compdef procscope"));
    let fish = stdout(&run(&["completions", "fish"]));
    assert!(fish.contains("complete -c procscope"));
    let man = stdout(&run(&["man"]));
    assert!(man.contains(".TH procscope"), "{man}");
    assert!(man.contains("Exit codes"));
}

/// Every command, with arguments that name processes this test owns.
fn every_command(own: u32) -> Vec<Vec<String>> {
    let me = std::process::id().to_string();
    let own = own.to_string();
    [
        vec!["ps"],
        vec!["ps", "--threads"],
        vec!["ps", "--tree"],
        vec!["tree"],
        vec!["ports", "--all"],
        vec!["show", &me],
        vec!["threads", &me],
        vec!["fds", &me],
        vec!["mem", &me],
        vec!["kill", &own, "--dry-run"],
        vec!["schema", "ps"],
    ]
    .into_iter()
    .map(|args| args.into_iter().map(str::to_owned).collect())
    .collect()
}

#[test]
fn every_command_survives_head_closed_stdout_and_a_full_disk() {
    let sleeper = crate::common::Owned::spawn("sleep", &["300"]).sleeping();
    for args in every_command(sleeper.pid()) {
        let line = args.join(" ");
        // A reader that is gone before the first write: EPIPE, exit 0, nothing on stderr.
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        ended_quietly(&argv);
        if args[0] != "schema" {
            let mut with_json = argv.clone();
            with_json.push("--json");
            ended_quietly(&with_json);
        }
        // Standard output closed: Rust discards writes to a closed stdout; exit 0.
        let mut closed = command(&args.iter().map(String::as_str).collect::<Vec<_>>());
        use std::os::unix::process::CommandExt;
        // SAFETY: close is async-signal-safe; it only closes the child's stdout.
        unsafe {
            closed.pre_exec(|| {
                libc::close(1);
                Ok(())
            });
        }
        let output = closed.output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{line} with stdout closed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        // A full disk: one line and exit 3.
        if let Ok(full) = std::fs::File::create("/dev/full") {
            let output = command(&args.iter().map(String::as_str).collect::<Vec<_>>())
                .stdout(Stdio::from(full))
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(3), "{line} to /dev/full: {err}");
            assert!(
                err.contains("No space left on device") && !err.contains("panicked"),
                "{line}: {err}"
            );
        }
    }
}

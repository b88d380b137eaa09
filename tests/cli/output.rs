//! Output behaviour: closed pipes, colour, completions and the man page.

use std::process::Stdio;

use crate::common::{bin, command, run, stdout};

fn through_pipe(shell: &str) -> (String, String) {
    let script = format!("set -o pipefail; {shell}; echo \"status=${{PIPESTATUS[0]}}\" >&2");
    let output = std::process::Command::new("bash")
        .args(["-c", &script])
        .env("PROCSCOPE", bin())
        .env("TZ", "UTC")
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn closed_pipe_ends_quietly() {
    let (out, err) = through_pipe("\"$PROCSCOPE\" ps | head -1");
    assert!(out.contains("PID"), "{out}");
    assert!(err.ends_with("status=0\n"), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("procscope:"),
        "{err}"
    );

    let (out, err) = through_pipe("\"$PROCSCOPE\" ps --json | head -c 10");
    assert_eq!(out, "{\"schema_v");
    assert!(err.ends_with("status=0\n"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn full_disk_is_a_fatal_error() {
    let full = std::fs::File::create("/dev/full");
    let Ok(full) = full else {
        eprintln!("notice: /dev/full is not available; skipped");
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
        // A reader that stops after one line (and one that stops after 10 bytes of JSON).
        let (_, err) = through_pipe(&format!("\"$PROCSCOPE\" {line} | head -1"));
        assert!(err.ends_with("status=0\n"), "{line}: {err}");
        assert!(!err.contains("panicked"), "{line}: {err}");
        if args[0] != "schema" {
            let (_, err) = through_pipe(&format!("\"$PROCSCOPE\" {line} --json | head -c 10"));
            assert!(
                err.ends_with("status=0\n") && !err.contains("panicked"),
                "{line} --json: {err}"
            );
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

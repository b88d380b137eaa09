//! `procscope top` and `ps --watch`: snapshot streams checked against processes the test
//! started, the batch view under a fork/exit storm, and the full-screen view driven through
//! a real terminal (tmux): filter, sort, detail pane, kill, resize, quit, and the runtime
//! tab of a busy Node.js process (the figures of `procscope profile`'s sampler).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Owned, command, stderr};
use crate::stress::churn;

/// Reads NDJSON lines from a running procscope until it ends; `on_line` sees each object.
fn read_lines(child: &mut Child, mut on_line: impl FnMut(&serde_json::Value)) {
    let out = child.stdout.take().expect("piped stdout");
    for line in BufReader::new(out).lines() {
        let line = line.expect("utf-8 line");
        let value: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("an NDJSON line ({e}): {line}"));
        on_line(&value);
    }
}

#[test]
fn watch_ndjson_snapshots_rates_and_a_process_that_exits() {
    let sleeper = Owned::spawn("sleep", &["1000"]).sleeping();
    // Exits when the test closes its stdin; a thread reaps it at once, so it leaves /proc.
    let mut mortal = Command::new("sh")
        .args(["-c", "read x"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mortal_pid = mortal.id();
    let mut mortal_stdin = mortal.stdin.take();
    let reaper = std::thread::spawn(move || mortal.wait());
    let pids = format!("{},{mortal_pid}", sleeper.pid());
    let mut watch = command(&[
        "ps", "--watch", "200ms", "--ndjson", "-n", "5", "--pid", &pids,
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut snapshots: Vec<(f64, Vec<u64>)> = Vec::new();
    read_lines(&mut watch, |row| {
        let at = row["snapshot"].as_f64().expect("a snapshot timestamp");
        if snapshots.last().is_none_or(|(last, _)| *last != at) {
            snapshots.push((at, Vec::new()));
            if snapshots.len() == 2 {
                mortal_stdin.take();
            }
        }
        for key in [
            "cpu_percent",
            "ctxt_switches_per_second",
            "read_bytes_per_second",
        ] {
            assert!(row[key].is_number(), "{key} in {row}");
        }
        assert!(row["interval_seconds"].as_f64().unwrap() > 0.0);
        snapshots
            .last_mut()
            .unwrap()
            .1
            .push(row["pid"].as_u64().unwrap());
    });
    let output = watch.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(output.stderr.is_empty(), "{}", stderr(&output));
    reaper.join().unwrap().unwrap();
    assert_eq!(snapshots.len(), 5, "{snapshots:?}");
    assert!(
        snapshots.windows(2).all(|w| w[0].0 < w[1].0),
        "monotonic: {snapshots:?}"
    );
    let sleeper_pid = u64::from(sleeper.pid());
    assert!(
        snapshots
            .iter()
            .all(|(_, pids)| pids.contains(&sleeper_pid))
    );
    assert!(snapshots[0].1.contains(&u64::from(mortal_pid)));
    assert!(
        !snapshots[4].1.contains(&u64::from(mortal_pid)),
        "{snapshots:?}"
    );
}

#[test]
fn watch_ends_cleanly_on_sigint_and_on_a_closed_pipe() {
    let sleeper = Owned::spawn("sleep", &["1000"]).sleeping();
    let pid = sleeper.pid().to_string();
    for interrupt in [true, false] {
        let mut watch = command(&["ps", "--watch", "100ms", "--ndjson", "--pid", &pid])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(watch.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert!(line.contains(&format!("\"pid\":{pid}")), "{line}");
        if interrupt {
            // Our own un-reaped child.
            crate::common::signal_own_child(&mut watch, libc::SIGINT);
            let mut rest = String::new();
            std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
            assert!(
                rest.is_empty() || rest.ends_with('\n'),
                "whole lines: {rest:?}"
            );
        } else {
            drop(out);
        }
        let output = watch.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(output.stderr.is_empty(), "{}", stderr(&output));
    }
}

#[test]
fn batch_survives_a_fork_exit_storm() {
    let _churn = churn();
    let output = command(&["top", "--batch", "-n", "30", "-d", "100ms"])
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(text.matches("load average").count(), 30);
    assert_eq!(
        text.matches("\n  PID ").count() + text.matches("\nPID ").count(),
        30
    );
}

#[test]
fn top_refuses_json_and_a_pipe() {
    let output = command(&["top", "--json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--ndjson"));
    let output = command(&["top"]).stdout(Stdio::piped()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--batch"), "{}", stderr(&output));
}

/// A tmux server of this test only (its own socket), killed when dropped.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Runs `script` (a shell command line) in a `width`x`height` tmux session on a server
    /// of its own (`label` tells the tests' servers apart); `None`, with a notice, when tmux
    /// is not installed (CI installs it: there the test must not skip).
    pub fn start(label: &str, script: &str, (width, height): (u16, u16)) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI installs tmux: the terminal test must not skip there"
            );
            eprintln!("notice: tmux is not installed; skipping the terminal test (CI installs it)");
            return None;
        }
        let tmux = Tmux {
            socket: format!("procscope-top-{label}-{}", std::process::id()),
        };
        let (width, height) = (width.to_string(), height.to_string());
        let started = tmux.tmux(&[
            "new-session",
            "-d",
            "-s",
            "top",
            "-x",
            &width,
            "-y",
            &height,
            script,
        ]);
        assert!(started.status.success(), "{}", stderr(&started));
        Some(tmux)
    }

    pub fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux runs")
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "top"];
        args.extend_from_slice(keys);
        assert!(self.tmux(&args).status.success());
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "top"]).stdout).into()
    }

    /// Polls the screen until `check` holds (a minute at most, for a loaded machine).
    pub fn until(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.screen();
            if check(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "{what}; the screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// The first table row of the screen (the line after the PID header).
pub fn first_row(screen: &str) -> String {
    let mut lines = screen
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("PID"));
    lines.nth(1).unwrap_or_default().to_owned()
}

/// Sorts by CPU through the sort menu (F6/s, cursor to `cpu`, Enter): `busy` comes first.
fn sort_by_cpu(tmux: &Tmux, busy: &str) {
    tmux.keys(&["s"]);
    let screen = tmux.until("the sort menu", |s| s.contains("Sort by"));
    let below = screen
        .lines()
        .skip_while(|l| !l.contains("Sort by"))
        .skip(1);
    let steps = below.take_while(|l| !l.contains(" cpu ")).count();
    for _ in 0..steps {
        tmux.keys(&["Down"]);
    }
    tmux.keys(&["Enter"]);
    tmux.until("the busy loop sorts first", |s| {
        s.contains("%CPU▼") && first_row(s).trim_start().starts_with(busy)
    });
}

/// Types `/NAME` Enter: only `kept` is listed, `dropped` is not.
fn filter_to(tmux: &Tmux, name: &str, kept: &str, dropped: &str) {
    tmux.keys(&["/"]);
    tmux.keys(&["-l", name]);
    tmux.keys(&["Enter"]);
    tmux.until("the filter keeps the sleep only", |s| {
        first_row(s).trim_start().starts_with(kept)
            && !s.lines().any(|l| l.trim_start().starts_with(dropped))
    });
}

/// `k`, Enter (TERM), the confirmation naming PID and command line, `y`.
fn kill_from_the_ui(tmux: &Tmux, pid: &str) {
    tmux.keys(&["k"]);
    tmux.until("the signal menu", |s| s.contains("Send signal"));
    tmux.keys(&["Enter"]);
    tmux.until("the confirmation with the command line", |s| {
        s.contains(&format!("SIGTERM to PID {pid}")) && s.contains("command:")
    });
    tmux.keys(&["y"]);
}

#[test]
fn full_screen_view_in_a_real_terminal() {
    let Some(tmux) = top_in_tmux(
        "main",
        &format!(
            "-d 300ms -s pid -o pid,user,stat,cpu,rss,name,cmd --ppid {}",
            std::process::id()
        ),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let name = format!("pstop{}", std::process::id() % 100_000);
    let program = dir.path().join(&name);
    std::fs::copy("/bin/sleep", &program).unwrap();
    let mut sleeper = Owned::spawn(&program, &["1000"]).sleeping();
    let busy = Owned::spawn("sh", &["-c", "while :; do :; done"]);
    let (sleeper_pid, busy_pid) = (sleeper.pid().to_string(), busy.pid().to_string());
    tmux.until("the test's sleep appears", |s| {
        s.contains(&name) && s.contains(&sleeper_pid)
    });
    sort_by_cpu(&tmux, &busy_pid);
    filter_to(&tmux, &name, &sleeper_pid, &busy_pid);
    // Its threads, with what each waits on.
    tmux.keys(&["Enter"]);
    tmux.until("the detail pane shows its thread and WAIT", |s| {
        s.contains("WAIT") && s.contains("Threads") && s.contains("nanosleep")
    });
    tmux.keys(&["Escape"]);
    kill_from_the_ui(&tmux, &sleeper_pid);
    // Our own child: reap it, then its row goes.
    let status = sleeper.0.wait().unwrap();
    let signal = std::os::unix::process::ExitStatusExt::signal(&status);
    assert_eq!(signal, Some(libc::SIGTERM));
    tmux.until("the row disappears", |s| {
        !s.lines().any(|l| l.trim_start().starts_with(&sleeper_pid))
    });
    // A narrow terminal still shows the table.
    tmux.tmux(&["resize-window", "-t", "top", "-x", "60", "-y", "40"]);
    let narrow = tmux.until("a 60-column view", |s| {
        s.contains("PID") && s.lines().all(|l| l.chars().count() <= 60)
    });
    assert!(narrow.contains("load average"), "{narrow}");
    tmux.keys(&["q"]);
    let done = tmux.until("top exits 0", |s| s.contains("EXIT=0"));
    assert!(
        !done.contains("load average"),
        "the alternate screen is gone:\n{done}"
    );
    drop(busy);
}

/// Starts `procscope top ARGS` in a `width`x`height` tmux session on a server of its own
/// (`label` tells the tests' servers apart); `EXIT=CODE` shows when it ends.
pub fn top_in_tmux_sized(label: &str, args: &str, size: (u16, u16)) -> Option<Tmux> {
    let script = format!(
        "{} top {args}; echo EXIT=$?; sleep 60",
        crate::common::bin().display()
    );
    Tmux::start(label, &script, size)
}

/// Starts `procscope top ARGS` in a 120x40 tmux session (see [`top_in_tmux_sized`]).
fn top_in_tmux(label: &str, args: &str) -> Option<Tmux> {
    top_in_tmux_sized(label, args, (120, 40))
}

/// The percentage after `label` on the screen (`JS main thread busy 97.0% ...`).
fn percent_after(screen: &str, label: &str) -> Option<f64> {
    let at = screen.find(label)? + label.len();
    let number: String = screen[at..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    number.parse().ok()
}

/// The runtime tab of a `while (true) {}` Node.js process shows what `procscope profile`
/// says of it: the main thread's event loop computing in ≥ 90% of the interval's samples,
/// with the verdict sentence of the profile. Samples count a runnable thread as running,
/// so a loaded machine does not lower the share.
#[test]
fn runtime_tab_shows_the_profile_of_a_busy_main_loop() {
    if !crate::node::node_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs node: the runtime tab test must not skip there"
        );
        return;
    }
    let node = crate::node::start("console.log('ready'); while (true) {}", &[]);
    let pid = node.pid().to_string();
    let Some(tmux) = top_in_tmux("runtime", &format!("-d 500ms --pid {pid} -o pid,cpu,name"))
    else {
        return;
    };
    tmux.until("the node process is listed", |s| {
        first_row(s).trim_start().starts_with(&pid)
    });
    tmux.keys(&["Enter"]);
    tmux.until("the detail pane opens", |s| s.contains("Runtime"));
    tmux.keys(&["BTab"]);
    let label = "JS main thread busy";
    let screen = tmux.until("the runtime tab shows the main loop computing", |s| {
        percent_after(s, label).is_some_and(|p| p >= 90.0)
    });
    assert!(screen.contains("event loop computing"), "{screen}");
    assert!(
        screen.contains("samples per thread this interval"),
        "{screen}"
    );
    let samples = screen
        .split("(")
        .filter_map(|part| {
            part.split_once(" samples per thread")?
                .0
                .parse::<u32>()
                .ok()
        })
        .next();
    assert!(samples.is_some_and(|n| n >= 2), "{screen}");
    tmux.keys(&["q"]);
    tmux.until("top exits 0", |s| s.contains("EXIT=0"));
    drop(node);
}

//! The full-screen view's first refresh reads the columns other than the sort column only
//! for the rows it draws: a command line off screen is read when a filter searches it or
//! when it scrolls into view, and a view of 200 processes opens about a screenful of
//! `cmdline` files, not 200. A stream's baseline defers them too, and reads them before its
//! first snapshot, which prints them for every row.

use std::time::Duration;

use crate::common::{Owned, bin, command, stderr, stdout};
use crate::top::{Tmux, first_row, top_in_tmux_sized};

/// Children of this test: 40 idle `sleep`s, then (a few clock ticks later, so it sorts
/// after them by start time) the target `sleep 1000 0.N`, whose command line holds a token
/// that nothing else shows (`test` tells the tests apart). Returns the fillers, the target
/// and the token.
fn fillers_then_target(test: u32) -> (Vec<Owned>, Owned, String) {
    let fillers: Vec<Owned> = (0..40).map(|_| Owned::spawn("sleep", &["1000"])).collect();
    std::thread::sleep(Duration::from_millis(50));
    let token = format!("0.{test}{}", 10_000_000 + std::process::id());
    let target = Owned::spawn("sleep", &["1000", &token]).sleeping();
    (fillers, target, token)
}

/// `top` over this test's children, oldest first, in a terminal 12 rows high: a handful of
/// table rows, the first refresh only (`-d 60s`). The target is off the first screen.
fn top_of_children(label: &str, target: &Owned) -> Option<(Tmux, String)> {
    let args = format!(
        "-d 60s -s start -o pid,start,rss,cmd --ppid {}",
        std::process::id()
    );
    let tmux = top_in_tmux_sized(label, &args, (120, 12))?;
    let pid = target.pid().to_string();
    let screen = tmux.until("the first screen", |s| !first_row(s).trim().is_empty());
    assert!(
        !rows(&screen).any(|row| row.starts_with(&pid)),
        "the target sorts below the fillers, off screen:\n{screen}"
    );
    Some((tmux, pid))
}

/// The table rows of a screen, leading blanks trimmed.
fn rows(screen: &str) -> impl Iterator<Item = &str> {
    screen
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("PID"))
        .skip(1)
        .map(str::trim_start)
}

#[test]
fn a_filter_on_the_first_refresh_finds_a_command_line_that_was_off_screen() {
    let (fillers, target, token) = fillers_then_target(1);
    let Some((tmux, pid)) = top_of_children("deferred-filter", &target) else {
        return;
    };
    // Only the target's command line holds the token; its name is `sleep` like the others.
    tmux.keys(&["/"]);
    tmux.keys(&["-l", &token]);
    tmux.keys(&["Enter"]);
    let screen = tmux.until("the filter finds the target", |s| {
        first_row(s).trim_start().starts_with(&pid)
    });
    let row = first_row(&screen);
    assert!(row.contains(&format!("sleep 1000 {token}")), "{screen}");
    assert_eq!(rows(&screen).filter(|r| r.contains("sleep")).count(), 1);
    tmux.keys(&["q"]);
    tmux.until("top exits 0", |s| s.contains("EXIT=0"));
    drop((fillers, target));
}

#[test]
fn a_row_scrolled_into_view_shows_its_command_line() {
    let (fillers, target, token) = fillers_then_target(2);
    let Some((tmux, pid)) = top_of_children("deferred-scroll", &target) else {
        return;
    };
    // Down from the top, one row at a time, until the target is on screen (other tests'
    // children may sort around it).
    let mut screen = tmux.screen();
    for _ in 0..200 {
        if rows(&screen).any(|row| row.starts_with(&pid)) {
            break;
        }
        tmux.keys(&["Down"]);
        screen = tmux.screen();
    }
    let screen = tmux.until("the target's row shows its command line", |s| {
        rows(s).any(|row| row.starts_with(&pid) && row.contains(&format!("sleep 1000 {token}")))
    });
    // Every row drawn has its resident size and command line read.
    for row in rows(&screen).filter(|r| r.contains("sleep")) {
        assert!(row.contains("sleep 1000"), "{screen}");
    }
    tmux.keys(&["q"]);
    tmux.until("top exits 0", |s| s.contains("EXIT=0"));
    drop((fillers, target));
}

/// `top -d 60s` in a new PID namespace (everything in it dies with its init) holding 200
/// idle `sleep`s, under `strace -e openat`, in a 120x40 terminal until `q`: the first
/// refresh opens every process's `stat` but the `cmdline` and `statm` of no more processes
/// than the screen has rows. Without deferral it opened each of them for all 200.
#[test]
fn the_first_refresh_opens_the_command_line_of_the_rows_on_screen_only() {
    if !crate::budget::traceable_namespaces("counting the first refresh's opens") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("opens");
    let inside = format!(
        "i=0; while [ \\$i -lt 200 ]; do sleep 600 & i=\\$((i+1)); done; \
         strace -f -qq -e trace=openat -o '{log}' '{bin}' top -d 60s -o pid,user,rss,cmd",
        log = log.display(),
        bin = bin().display()
    );
    let script = format!(
        "unshare -Urpf --kill-child --mount-proc sh -c \"{inside}\"; echo EXIT=$?; sleep 60"
    );
    let Some(tmux) = Tmux::start("deferred-opens", &script, (120, 40)) else {
        return;
    };
    tmux.until("the first screen", |s| {
        rows(s).filter(|r| r.contains("sleep 600")).count() >= 20
    });
    tmux.keys(&["q"]);
    tmux.until("top exits 0", |s| s.contains("EXIT=0"));
    let opens = std::fs::read_to_string(&log).unwrap();
    let count = |file: &str| {
        let quoted = format!("\"{file}\"");
        opens.lines().filter(|l| l.contains(&quoted)).count()
    };
    assert!(
        count("stat") >= 200,
        "every process's stat: {}",
        count("stat")
    );
    assert!(count("cmdline") <= 40, "{} cmdline opens", count("cmdline"));
    assert!(count("statm") <= 40, "{} statm opens", count("statm"));
}

/// `top --batch` and `ps --watch --ndjson` print, in their first snapshot, the command line,
/// user and resident size of an idle process (whose row comes from the baseline, which
/// deferred those columns and read them during the first interval).
#[test]
fn the_first_snapshot_of_a_stream_shows_every_column_of_an_idle_process() {
    let token = format!("0.3{}", 10_000_000 + std::process::id());
    let target = Owned::spawn("sleep", &["1000", &token]).sleeping();
    let pid = target.pid().to_string();
    // One snapshot of the target alone, with `columns`.
    let snapshot = |args: &[&str], columns: &str| {
        let output = command(args)
            .args(["-o", columns, "--pid", &pid])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        stdout(&output)
    };
    let text = snapshot(
        &["top", "--batch", "-n", "1", "-d", "300ms"],
        "pid,user,rss,cmd",
    );
    let row = text
        .lines()
        .map(str::trim_start)
        .find(|line| line.starts_with(&pid))
        .unwrap_or_else(|| panic!("the target's row:\n{text}"));
    let user = nix::unistd::User::from_uid(nix::unistd::geteuid())
        .unwrap()
        .map_or_else(|| nix::unistd::geteuid().to_string(), |user| user.name);
    let words: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(words[1], user, "{text}");
    assert_ne!(words[2], "-", "its resident size: {text}");
    assert!(row.contains(&format!("sleep 1000 {token}")), "{text}");
    let ndjson = snapshot(
        &["ps", "--watch", "300ms", "--ndjson", "-n", "1"],
        "pid,rss,cmd",
    );
    let object: serde_json::Value = serde_json::from_str(ndjson.trim()).unwrap();
    assert_eq!(object["argv"], serde_json::json!(["sleep", "1000", token]));
    assert!(
        object["rss_bytes"].as_u64().is_some_and(|rss| rss > 0),
        "{object}"
    );
    drop(target);
}

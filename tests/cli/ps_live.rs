//! `ps` against processes the test starts: a sleep, a sleep with a hostile executable name,
//! a busy loop for `--interval`.

use std::os::unix::ffi::OsStrExt;

use crate::common::{Owned, json, row_of, run, stdout};

#[test]
fn own_sleep_row_in_table_and_json() {
    let sleeper = Owned::spawn("sleep", &["300"]).sleeping();
    let pid = sleeper.pid().to_string();
    let output = run(&["ps", "--pid", &pid, "--wide"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let headers: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        headers,
        [
            "PID", "PPID", "USER", "STAT", "%CPU", "%MEM", "VSZ", "RSS", "TTY", "THR", "START",
            "TIME", "COMMAND"
        ]
    );
    let fields: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(fields[0], pid);
    assert_eq!(fields[1], std::process::id().to_string());
    assert_eq!(fields[2], users_name());
    // S, or S+ when the test runs in a terminal's foreground group.
    assert!(fields[3].trim_end_matches('+') == "S", "{text}");
    assert_eq!(fields[9], "1", "threads");
    assert_eq!(&fields[12..], ["sleep", "300"]);

    let doc = json(&run(&["ps", "--json", "--pid", &pid]));
    let row = row_of(&doc, sleeper.pid());
    assert_eq!(row["ppid"], std::process::id());
    assert_eq!(row["argv"], serde_json::json!(["sleep", "300"]));
    // The default state column is STAT (ps's letter and modifiers).
    assert_eq!(row["stat"].as_str().unwrap().trim_end_matches('+'), "S");
    assert_eq!(row["threads"], 1);
    assert!(row["rss_bytes"].as_u64().unwrap() > 0);
    assert!(row["start_time_unix"].as_f64().unwrap() > 1.6e9);
}

fn users_name() -> String {
    // The test runs as some user; its name is what `id -un` says.
    let out = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn pattern_finds_own_sleep_and_not_procscope_itself() {
    let marker = format!("{}", 1000 + std::process::id() % 5000);
    let sleeper = Owned::spawn("sleep", &[&format!("{marker}.25")]);
    let doc = json(&run(&["ps", "--json", &format!("{marker}.25")]));
    let pids = crate::common::pids(&doc["processes"]);
    assert_eq!(pids, vec![u64::from(sleeper.pid())]);
}

#[test]
fn hostile_executable_name() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("a) R 1 (b");
    std::os::unix::fs::symlink(which("sleep"), &link).unwrap();
    let sleeper = Owned::spawn(&link, &["300"]).sleeping();
    let pid = sleeper.pid().to_string();
    let doc = json(&run(&[
        "ps",
        "--json",
        "--pid",
        &pid,
        "-o",
        "pid,name,state,ppid,cmd",
    ]));
    let row = row_of(&doc, sleeper.pid());
    assert_eq!(row["name"], "a) R 1 (b");
    assert_eq!(row["state"], "S");
    assert_eq!(row["ppid"], std::process::id());
    assert_eq!(row["argv"][1], "300");
    let text = stdout(&run(&[
        "ps",
        "--pid",
        &pid,
        "-o",
        "pid,name,state",
        "--no-header",
    ]));
    assert_eq!(text, format!("{pid} a) R 1 (b S\n"));
}

#[test]
fn control_bytes_in_a_name_are_escaped_in_tables_and_exact_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"x\ny\x1b[31m\xff");
    let link = dir.path().join(name);
    std::os::unix::fs::symlink(which("sleep"), &link).unwrap();
    let sleeper = Owned::spawn(&link, &["300"]).sleeping();
    let pid = sleeper.pid().to_string();
    let output = run(&["ps", "--pid", &pid, "-o", "pid,name", "--no-header"]);
    assert_eq!(
        output.stdout,
        format!("{pid} x\\ny\\e[31m\\xff\n").into_bytes()
    );
    let doc = json(&run(&["ps", "--json", "--pid", &pid, "-o", "name"]));
    let row = row_of(&doc, sleeper.pid());
    use base64::Engine;
    let exact = base64::engine::general_purpose::STANDARD
        .decode(row["name_b64"].as_str().unwrap())
        .unwrap();
    assert_eq!(exact, b"x\ny\x1b[31m\xff");
}

#[test]
fn interval_measures_current_cpu() {
    let busy = Owned::spawn("sh", &["-c", "while :; do :; done"]);
    let sleeper = Owned::spawn("sleep", &["300"]).sleeping();
    let pids = format!("{},{}", busy.pid(), sleeper.pid());
    let doc = json(&run(&[
        "ps",
        "--json",
        "--pid",
        &pids,
        "--interval",
        "400ms",
        "-o",
        "pid,cpu",
    ]));
    let busy_cpu = row_of(&doc, busy.pid())["cpu_percent"].as_f64().unwrap();
    let idle_cpu = row_of(&doc, sleeper.pid())["cpu_percent"].as_f64().unwrap();
    assert!(busy_cpu > 30.0, "busy loop at {busy_cpu}%");
    assert!(idle_cpu < 5.0, "sleep at {idle_cpu}%");
}

#[test]
fn ndjson_is_one_object_per_line() {
    let a = Owned::spawn("sleep", &["300"]).sleeping();
    let b = Owned::spawn("sleep", &["301"]).sleeping();
    let pids = format!("{},{}", a.pid(), b.pid());
    let text = stdout(&run(&["ps", "--ndjson", "--pid", &pids, "-o", "pid,cmd"]));
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["pid"], a.pid());
    assert_eq!(rows[1]["argv"], serde_json::json!(["sleep", "301"]));
}

pub fn which(program: &str) -> std::path::PathBuf {
    let out = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .unwrap();
    std::path::PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

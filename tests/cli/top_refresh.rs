//! The live view's refresh: `--timings` writes one line per refresh, and a refresh lists
//! every process when the descriptor limit cannot keep each one's files open.

use std::collections::HashSet;

use crate::common::{Owned, bin, command, stderr};

/// The `KEY VALUE` pairs of one `--timings` line.
fn fields(line: &str) -> Vec<(&str, &str)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    words.chunks(2).map(|pair| (pair[0], pair[1])).collect()
}

#[test]
fn timings_has_a_line_per_refresh_read_and_render() {
    let sleeper = Owned::spawn("sleep", &["1000"]).sleeping();
    let pid = sleeper.pid().to_string();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("timings");
    let args = ["top", "--batch", "-n", "3", "-d", "100ms", "-o", "pid,cmd"];
    let output = command(&args)
        .args(["--pid", &pid, "--timings", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = std::fs::read_to_string(&file).unwrap();
    // The baseline read (printed nothing), the read of the columns it deferred (while the
    // first interval passes: `cmd` here), then the three snapshots.
    let (fills, lines): (Vec<&str>, Vec<&str>) = text.lines().partition(|l| l.starts_with("fill "));
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(text.lines().nth(1), fills.first().copied(), "{text}");
    let fill = fields(fills[0]);
    let keys: Vec<&str> = fill.iter().map(|(key, _)| *key).collect();
    assert_eq!(keys, ["fill", "rows", "read_ms", "read_cpu_ms"], "{text}");
    assert_eq!(
        (fill[0].1, fill[1].1),
        ("1", "1"),
        "the baseline's row: {text}"
    );
    for (at, line) in lines.iter().enumerate() {
        let fields = fields(line);
        let keys: Vec<&str> = fields.iter().map(|(key, _)| *key).collect();
        let expected = [
            "refresh",
            "rows",
            "read_ms",
            "read_cpu_ms",
            "render_ms",
            "render_cpu_ms",
            "total_ms",
        ];
        assert_eq!(keys, expected, "{line}");
        assert_eq!(fields[0].1, (at + 1).to_string(), "{line}");
        assert_eq!(fields[1].1, "1", "only the test's sleep: {line}");
        let ms: Vec<f64> = fields[2..]
            .iter()
            .map(|(_, v)| v.parse().unwrap())
            .collect();
        assert!(ms.iter().all(|ms| *ms >= 0.0), "{line}");
        let (read, render, total) = (ms[0], ms[2], ms[4]);
        assert!((read + render - total).abs() < 0.2, "{line}");
        if at == 0 {
            assert_eq!(render, 0.0, "the baseline prints nothing: {line}");
        }
    }
    // Appends: a second run adds its lines.
    let again = command(&args)
        .args(["--pid", &pid, "--timings", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 10);
    let bad = command(&[
        "top",
        "--batch",
        "-n",
        "1",
        "--timings",
        "/nonexistent/dir/t",
    ])
    .output()
    .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("/nonexistent/dir/t"),
        "{}",
        stderr(&bad)
    );
}

/// More processes than a low descriptor limit can keep open: each refresh still lists them
/// all (before, the uncounted directory handles ran the process out of descriptors, and
/// the next refresh could not even list /proc).
#[test]
fn a_refresh_lists_every_process_when_descriptors_run_short() {
    // 520 descriptors: 8 above the reserve for kept files; 560 processes of our own.
    let sleepers: Vec<Owned> = (0..560).map(|_| Owned::spawn("sleep", &["1000"])).collect();
    let ours: HashSet<String> = sleepers.iter().map(|s| s.pid().to_string()).collect();
    let script = format!(
        "ulimit -n 520 && exec {} top --batch -n 3 -d 100ms -o pid,cmd",
        bin().display()
    );
    let output = std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    let snapshots: Vec<&str> = text.split("load average").skip(1).collect();
    assert_eq!(snapshots.len(), 3, "{}", stderr(&output));
    for snapshot in snapshots {
        let listed: HashSet<String> = snapshot
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .map(String::from)
            .collect();
        let missing = ours.difference(&listed).count();
        assert_eq!(missing, 0, "of {} of ours:\n{snapshot:.2000}", ours.len());
    }
    drop(sleepers);
}

/// `user` and `uid` come from the owner of `/proc/PID`, which is the effective uid even for
/// a process that is not dumpable (whose files belong to root): a `sleep` run with another
/// effective uid shows it, as `status` does.
#[test]
fn user_is_the_effective_uid_of_a_non_dumpable_process() {
    if !is_root() {
        eprintln!("skipping: setting another effective uid needs root");
        return;
    }
    let sleeper = Owned::spawn("setpriv", &["--euid=65534", "sleep", "1000"]).sleeping();
    let pid = sleeper.pid().to_string();
    // Poll until setpriv has become the sleep.
    let comm = || std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    while comm().trim() != "sleep" {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let euid = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .unwrap()
        .to_owned();
    assert_eq!(euid, "65534", "{status}");
    let stat_owner = std::os::unix::fs::MetadataExt::uid(
        &std::fs::metadata(format!("/proc/{pid}/stat")).unwrap(),
    );
    assert_eq!(stat_owner, 0, "not dumpable: its files belong to root");
    let output = command(&["ps", "--json", "-o", "pid,uid", "--pid", &pid])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let text = json.to_string();
    assert!(text.contains("\"uid\":65534"), "{text}");
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1).map(|euid| euid == "0"))
        .unwrap_or(false)
}

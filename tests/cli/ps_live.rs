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

/// utime + stime of `pid` in clock ticks, from /proc/PID/stat.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    // After the name: state is field 3, utime 14 and stime 15 (1-based).
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// Runs `ps --interval 400ms -o pid,cpu` on `pids` and returns each one's CPU%, with the
/// ticks each used from just before procscope started to just after it ended.
fn interval_cpu(pids: &[u32]) -> Vec<(f64, u64)> {
    let before: Vec<u64> = pids.iter().map(|&p| cpu_ticks(p)).collect();
    let list = pids
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let doc = json(&run(&[
        "ps",
        "--json",
        "--pid",
        &list,
        "--interval",
        "400ms",
        "-o",
        "pid,cpu",
    ]));
    pids.iter()
        .zip(before)
        .map(|(&pid, before)| {
            let cpu = row_of(&doc, pid)["cpu_percent"].as_f64().unwrap();
            (cpu, cpu_ticks(pid) - before)
        })
        .collect()
}

/// CPU% over an interval is judged by the clock ticks the processes really used, not by a
/// wall-time percentage a loaded machine may not grant: a process that used no tick in the
/// window is at exactly 0 even though its lifetime average is high; a busy loop is above 0
/// whenever it got ticks, and never above what its ticks allow.
#[test]
fn interval_measures_current_cpu() {
    // SAFETY: sysconf has no preconditions.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let busy = Owned::spawn("sh", &["-c", "while :; do :; done"]);
    // Burns CPU first, then sleeps: a lifetime average above 0, a current use of 0.
    let burnt = Owned::spawn(
        "sh",
        &[
            "-c",
            "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; exec sleep 300",
        ],
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !(cpu_ticks(burnt.pid()) > 0
        && std::fs::read_to_string(format!("/proc/{}/comm", burnt.pid()))
            .is_ok_and(|c| c.trim() == "sleep"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the burner never slept"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let burnt = burnt.sleeping();
    let mut busy_seen = false;
    for _ in 0..20 {
        let measured = interval_cpu(&[busy.pid(), burnt.pid()]);
        let (busy_cpu, busy_ticks) = measured[0];
        let (burnt_cpu, burnt_ticks) = measured[1];
        assert_eq!(burnt_ticks, 0, "the sleeper used no tick");
        assert_eq!(
            burnt_cpu, 0.0,
            "no tick in the window is 0%, not the lifetime average"
        );
        // The window lasts at least 400 ms and lies inside the bracket: its ticks, at most
        // busy_ticks (+1 for a tick counted at the edge), over 0.4 s bound the percentage.
        let ceiling = (busy_ticks + 1) as f64 / ticks_per_second / 0.4 * 100.0 + 0.1;
        assert!(
            busy_cpu <= ceiling,
            "busy loop at {busy_cpu}% with {busy_ticks} ticks"
        );
        if busy_cpu > 0.0 {
            busy_seen = true;
            break;
        }
        crate::common::notice!(
            "the busy loop got no tick in the window ({busy_ticks} around it); again"
        );
    }
    assert!(
        busy_seen,
        "a busy loop never measured above 0% in 20 windows"
    );
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

/// Threads that used `each` of CPU time apiece, then exited.
fn burn_on_threads(threads: usize, each: std::time::Duration) {
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut used = libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                };
                let budget = i64::try_from(each.as_nanos()).unwrap();
                while used.tv_sec * 1_000_000_000 + used.tv_nsec < budget {
                    // SAFETY: a valid clock ID and a valid out pointer.
                    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut used) };
                }
            });
        }
    });
}

/// A process of many threads (here the test process, with 70 parked) has its CPU time read
/// from the kernel's process CPU clock and its other fields from the leader's `stat`: the
/// time must still be every thread's, exited ones included, as stat's sum says (and as a
/// listing that shows fault counters, which reads that sum, says too).
#[test]
fn cpu_time_of_a_many_threaded_process_counts_every_thread() {
    let mut gate = crate::common::Gate::default();
    gate.park_many(70);
    burn_on_threads(4, std::time::Duration::from_millis(100));
    let pid = std::process::id();
    for columns in [None, Some("pid,time,threads,minflt")] {
        let before = cpu_ticks(pid);
        let mut args = vec![
            "ps".to_owned(),
            "--json".into(),
            "--pid".into(),
            pid.to_string(),
        ];
        if let Some(columns) = columns {
            args.extend(["-o".to_owned(), columns.to_owned()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let doc = json(&run(&args));
        let after = cpu_ticks(pid);
        let row = row_of(&doc, pid);
        assert!(row["threads"].as_u64().unwrap() >= 71, "{row}");
        let seconds = row["cpu_time_seconds"].as_f64().unwrap();
        let ticks = (seconds * 100.0).round() as u64;
        // The burning threads alone used 40 ticks: the leader's own time is far less.
        assert!(before >= 40, "{before}");
        // The clock's total in ticks is at most one above stat's two rounded parts.
        assert!(
            before <= ticks && ticks <= after + 1,
            "{columns:?}: {ticks} ticks, stat said {before} before and {after} after"
        );
    }
    gate.open();
}

/// `--pid` names processes: the thread's ID of a thread the test parked (which `/proc`
/// answers a lookup for, though it lists only processes) is no process, listed or
/// `--threads`, while the test process named beside it is one.
#[test]
fn a_thread_id_named_as_a_pid_is_no_process() {
    let mut gate = crate::common::Gate::default();
    let tid = gate.park_many(1)[0];
    let me = std::process::id();
    for threads in [false, true] {
        let mut args = vec!["ps", "--json", "--pid"];
        let pids = format!("{me},{tid}");
        args.push(&pids);
        if threads {
            args.push("--threads");
        }
        let output = run(&args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let doc = json(&output);
        let rows = doc["processes"].as_array().unwrap();
        assert!(
            !rows.is_empty() && rows.iter().all(|row| row["pid"] == me),
            "{doc}"
        );
        if threads {
            assert!(rows.iter().any(|row| row["tid"] == tid), "{doc}");
        }
        assert_eq!(doc["errors"][0]["pid"], tid, "{doc}");
        assert_eq!(doc["errors"].as_array().unwrap().len(), 1, "{doc}");
    }
    gate.open();
}

/// `ps --pid` on the live `/proc` reads the named processes without listing `/proc` (a walk
/// over every task in the namespace): no `getdents` at all for the default columns.
#[test]
fn ps_pid_reads_without_listing_proc() {
    if !crate::budget::strace_ready() {
        return;
    }
    let sleeper = Owned::spawn("sleep", &["300"]).sleeping();
    let log = tempfile::NamedTempFile::new().unwrap();
    let output = std::process::Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=getdents64,getdents", "-o"])
        .arg(log.path())
        .arg(crate::common::bin())
        .args(["ps", "--pid", &sleeper.pid().to_string()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(stdout(&output).contains("sleep 300"), "{output:?}");
    let trace = std::fs::read_to_string(log.path()).unwrap();
    assert_eq!(trace.matches("getdents").count(), 0, "{trace}");
}

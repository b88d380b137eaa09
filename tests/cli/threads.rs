//! `threads` and `ps --threads`: the test's own named threads parked in known places, a
//! fixture tree with every `syscall` format, 2000 threads, and an unprivileged reader.

use std::io::Read;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use crate::common::{Gate, Owned, gettid, json, run, run_fixture_tree, stderr, stdout};

/// The system call number a thread of ours is blocked in, once it is.
fn wait_blocked_in(tid: u32, nr: &[u64]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let text =
            std::fs::read_to_string(format!("/proc/self/task/{tid}/syscall")).unwrap_or_default();
        let first = text
            .split_whitespace()
            .next()
            .and_then(|w| w.parse::<u64>().ok());
        if first.is_some_and(|first| nr.contains(&first)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("thread {tid} never blocked in {nr:?}");
}

const READ: u64 = 0;
const FUTEX: u64 = 202;
const NANOSLEEP: u64 = 35;
const CLOCK_NANOSLEEP: u64 = 230;

/// Threads of the test process, each parked where the test put it; stopped on drop.
struct Parked {
    reader: u32,
    read_fd: i32,
    waiter: u32,
    sleeper: u32,
    spinner: u32,
    small_stack: u32,
    stop: Arc<AtomicBool>,
    writer: Option<std::io::PipeWriter>,
    gate: Gate,
    handles: Vec<std::thread::JoinHandle<()>>,
}

impl Parked {
    fn start() -> Self {
        let (mut pipe_reader, writer) = std::io::pipe().unwrap();
        let read_fd = pipe_reader.as_raw_fd();
        let stop = Arc::new(AtomicBool::new(false));
        let (tids, tid_rx) = mpsc::channel();
        let mut handles = Vec::new();

        let tx = tids.clone();
        handles.push(
            std::thread::Builder::new()
                .name("pt-reader".into())
                .spawn(move || {
                    tx.send(("reader", gettid())).unwrap();
                    let mut byte = [0u8; 1];
                    let _ = pipe_reader.read(&mut byte);
                })
                .unwrap(),
        );

        let mut gate = Gate::default();
        let waiter = gate.park(std::thread::Builder::new().name("pt-futex".into()));
        let small_stack = gate.park(
            std::thread::Builder::new()
                .name("pt-stack1m".into())
                .stack_size(1 << 20),
        );

        let tx = tids.clone();
        let flag = stop.clone();
        handles.push(
            std::thread::Builder::new()
                .name("pt-sleep".into())
                .spawn(move || {
                    tx.send(("sleeper", gettid())).unwrap();
                    // Long sleeps: awake (not in nanosleep) only for an instant every 5 s,
                    // even on a loaded machine; dropping waits for at most one of them.
                    while !flag.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_secs(5));
                    }
                })
                .unwrap(),
        );

        let tx = tids.clone();
        let flag = stop.clone();
        handles.push(
            std::thread::Builder::new()
                .name("pt-spin".into())
                .spawn(move || {
                    tx.send(("spinner", gettid())).unwrap();
                    let mut x = 0u64;
                    while !flag.load(Ordering::Relaxed) {
                        x = std::hint::black_box(x.wrapping_add(1));
                    }
                })
                .unwrap(),
        );

        drop(tids);

        let mut by_role = std::collections::HashMap::new();
        for (role, tid) in tid_rx.iter().take(3) {
            by_role.insert(role, tid);
        }
        let parked = Self {
            reader: by_role["reader"],
            read_fd,
            waiter,
            sleeper: by_role["sleeper"],
            spinner: by_role["spinner"],
            small_stack,
            stop,
            writer: Some(writer),
            gate,
            handles,
        };
        wait_blocked_in(parked.reader, &[READ]);
        wait_blocked_in(parked.waiter, &[FUTEX]);
        wait_blocked_in(parked.small_stack, &[FUTEX]);
        wait_blocked_in(parked.sleeper, &[NANOSLEEP, CLOCK_NANOSLEEP]);
        parked
    }
}

impl Drop for Parked {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        drop(self.writer.take());
        self.gate.open();
        for handle in self.handles.drain(..) {
            let _ = handle.join();
        }
    }
}

fn thread(doc: &serde_json::Value, tid: u32) -> &serde_json::Value {
    doc["threads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tid"] == tid)
        .unwrap_or_else(|| panic!("tid {tid} listed"))
}

#[test]
fn own_parked_threads_are_seen_exactly() {
    let parked = Parked::start();
    let me = std::process::id().to_string();
    let output = run(&["threads", &me, "--json", "--samples", "3"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc = json(&output);
    assert_eq!(doc["command"], "threads");
    assert_eq!(doc["pid"], std::process::id());

    let reader = thread(&doc, parked.reader);
    assert_eq!(reader["name"], "pt-reader");
    assert_eq!(reader["state"], "S");
    assert_eq!(reader["syscall"], "read");
    assert_eq!(reader["wait_fd"], parked.read_fd);
    assert_eq!(reader["wait"], format!("read(fd {})", parked.read_fd));
    assert!(
        reader["pc_location"]["module"]
            .as_str()
            .unwrap()
            .starts_with("libc"),
        "{reader}"
    );
    assert!(
        reader["pc_location"]["symbol"]
            .as_str()
            .unwrap()
            .contains("read"),
        "{reader}"
    );
    assert!(
        reader["pc_text"].as_str().unwrap().contains(" in libc"),
        "{reader}"
    );

    let waiter = thread(&doc, parked.waiter);
    assert_eq!(waiter["name"], "pt-futex");
    assert_eq!(waiter["syscall"], "futex");
    assert_eq!(waiter["wait"], "futex");
    assert_eq!(waiter["state"], "S");

    let sleeper = thread(&doc, parked.sleeper);
    assert_eq!(sleeper["name"], "pt-sleep");
    let call = sleeper["syscall"].as_str().unwrap();
    assert!(
        call == "clock_nanosleep" || call == "nanosleep",
        "{sleeper}"
    );

    let spinner = thread(&doc, parked.spinner);
    assert_eq!(spinner["name"], "pt-spin");
    assert_eq!(spinner["state"], "R", "{spinner}");

    let small = thread(&doc, parked.small_stack);
    assert_eq!(small["name"], "pt-stack1m");
    let size = small["stack"]["size_bytes"].as_u64().unwrap();
    // What glibc granted for the 1 MiB asked: it may reuse a larger cached stack.
    let granted = crate::common::stack_size_of(parked.gate.pthread(1));
    assert!(
        (granted - (64 << 10)..=granted + (64 << 10)).contains(&size),
        "a stack of {granted} bytes, saw {size}"
    );
    assert_eq!(small["stack"]["main"], false);
    assert!(
        small["stack"]["guard_bytes"].as_u64().unwrap() >= 4096,
        "{small}"
    );

    let main = thread(&doc, std::process::id());
    assert_eq!(main["stack"]["main"], true, "{main}");

    // The same threads in the table.
    let text = stdout(&run(&["threads", &me, "--wide"]));
    let line = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some(&parked.reader.to_string()))
        .unwrap();
    assert!(
        line.contains(" pt-reader ") && line.contains(&format!("read(fd {})", parked.read_fd)),
        "{line}"
    );
    drop(parked);
}

#[test]
fn ps_threads_lists_own_threads_with_tgid() {
    let parked = Parked::start();
    let me = std::process::id();
    let doc = json(&run(&[
        "ps",
        "--threads",
        "--json",
        "--pid",
        &me.to_string(),
    ]));
    let rows = doc["processes"].as_array().unwrap();
    let reader = rows
        .iter()
        .find(|r| r["tid"] == parked.reader)
        .expect("reader thread listed");
    assert_eq!(reader["tgid"], me);
    assert_eq!(reader["pid"], me);
    assert_eq!(reader["name"], "pt-reader");
    assert_eq!(reader["wait"], format!("read(fd {})", parked.read_fd));
    assert!(rows.iter().all(|r| r["tgid"] == me));
    let text = stdout(&run(&[
        "ps",
        "-L",
        "--pid",
        &me.to_string(),
        "--no-header",
        "-o",
        "tgid,tid,name",
    ]));
    assert!(
        text.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == [me.to_string(), parked.waiter.to_string(), "pt-futex".into()]),
        "{text}"
    );
    drop(parked);
}

#[test]
fn fixture_syscall_formats() {
    let output = run_fixture_tree("threads", &["threads", "300"]);
    assert_eq!(output.status.code(), Some(0));
    let expected = "\
PID 300  worker  4 threads: 1 running, 2 sleeping, 1 stopped
TID NAME     S %CPU USER  SYS CPU CTXSW     STACK WAIT           PC
300 worker   S  0.0 0:00 0:00   1  12/3 132K main read(fd 3)     libc.so.6+0x11a6be
301 pool-1   S  0.0 0:00 0:00   1   4/0      8.0M futex          libc.so.6+0x91d36
302 spin     R  1.1 1:30 0:00   1 1/900         - running        -
303 jit-stop T  0.0 0:00 0:00   1   2/1      1.0M do_signal_stop [jit] 0x7f3b20000abc
";
    assert_eq!(stdout(&output), expected);
    assert_eq!(
        stderr(&output),
        "- means unavailable: 1 thread was running when sampled; --samples N re-reads them\n"
    );

    let doc = json(&run_fixture_tree("threads", &["threads", "300", "--json"]));
    let rows = doc["threads"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(
        rows[0]["syscall_args"],
        serde_json::json!([3, 0x7ffd3a1c8000u64, 0x1000, 0, 0, 0])
    );
    // wchan is read only where the system call says little (here: the stopped thread).
    assert_eq!(rows[0]["wchan"], serde_json::Value::Null);
    assert_eq!(rows[3]["wchan"], "do_signal_stop");
    assert_eq!(rows[1]["stack"]["guard_bytes"], 4096);
    assert_eq!(rows[1]["stack"]["size_bytes"], 8 << 20);
    assert_eq!(rows[2]["unavailable"]["pc"], "running");
    assert_eq!(rows[2]["wait"], "running");
    assert_eq!(rows[3]["pc_location"]["region"], "jit");
    assert_eq!(rows[3]["sp"], 0x7f3b2a3fef00u64);
    assert_eq!(doc["by_state"], serde_json::json!({"R": 1, "S": 2, "T": 1}));
}

#[test]
fn two_thousand_threads_are_all_listed() {
    let mut gate = Gate::default();
    let tids = gate.park_many(2000);
    let doc = json(&run(&[
        "threads",
        &std::process::id().to_string(),
        "--json",
    ]));
    let listed: std::collections::HashSet<u64> = doc["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tid"].as_u64().unwrap())
        .collect();
    gate.open();
    let missing: Vec<&u32> = tids
        .iter()
        .filter(|tid| !listed.contains(&u64::from(**tid)))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of 2000 threads missing",
        missing.len()
    );
}

#[test]
fn threads_of_a_thread_id_is_refused() {
    let parked = Parked::start();
    let output = run(&["threads", &parked.waiter.to_string()]);
    assert_eq!(output.status.code(), Some(1));
    let me = std::process::id();
    assert_eq!(
        stderr(&output),
        format!(
            "procscope: PID {} is a thread of process {me}, not a process: try `procscope threads {me}`\n",
            parked.waiter
        )
    );
    drop(parked);
}

#[test]
fn threads_of_own_sleep_child() {
    let sleeper = Owned::spawn("sleep", &["300"]).sleeping();
    let doc = json(&run(&["threads", &sleeper.pid().to_string(), "--json"]));
    let rows = doc["threads"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["tid"], sleeper.pid());
    assert_eq!(rows[0]["name"], "sleep");
    assert_eq!(rows[0]["stack"]["main"], true);
    let call = rows[0]["syscall"].as_str().unwrap();
    assert!(
        call == "clock_nanosleep" || call == "nanosleep",
        "{}",
        rows[0]
    );
}

/// The context-switch counters (from taskstats when procscope may ask the kernel, else from
/// `status`) are the kernel's own: each parked thread's, frozen while it waits, equal what
/// its `status` says after the run.
#[test]
fn context_switches_of_parked_threads_equal_their_status() {
    let mut gate = Gate::default();
    let tids = gate.park_many(40);
    for &tid in &tids {
        wait_blocked_in(tid, &[FUTEX]);
    }
    let output = run(&["threads", &std::process::id().to_string(), "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc = json(&output);
    for &tid in &tids {
        let status = format!("/proc/self/task/{tid}/status");
        let row = thread(&doc, tid);
        for key in ["voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"] {
            let counted = crate::common::status_number(&status, key);
            assert_eq!(row[key], counted, "{row}");
        }
    }
    gate.open();
}

//! `procscope profile` against real Node.js processes the tests start, with answers the
//! scripts cause: a busy or idle event loop, a read blocked on a FIFO, a saturated libuv
//! pool, a busy worker_thread, a cluster with one busy and one idle worker. Percentages
//! are shares of samples (state R = running or runnable), so a loaded machine does not
//! change them; no wall-clock thresholds.

use crate::common::{json_ok, run};
use crate::node::{NodeProcess, SERVER, node_available, start, start_file};

/// Profiles `pid` for 3 s at 50 Hz and validates the document against the schema.
fn profile(pid: u32) -> serde_json::Value {
    let doc = json_ok(&run(&[
        "profile",
        &pid.to_string(),
        "--for",
        "3s",
        "--hz",
        "50",
        "--json",
    ]));
    let schema = json_ok(&run(&["schema", "profile"]));
    let validator = jsonschema::validator_for(&schema).expect("the profile schema compiles");
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}\n{doc}");
    assert!(doc["ticks"].as_u64().unwrap() >= 10, "{doc}");
    doc
}

/// The verdict about `subject` in the profile of process `pid`.
fn verdict(doc: &serde_json::Value, pid: u32, subject: &str) -> serde_json::Value {
    let process = process(doc, pid);
    process["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["subject"].as_str().unwrap().starts_with(subject))
        .unwrap_or_else(|| panic!("a verdict on {subject}: {process}"))
        .clone()
}

fn process(doc: &serde_json::Value, pid: u32) -> serde_json::Value {
    doc["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == pid)
        .unwrap_or_else(|| panic!("process {pid} profiled: {doc}"))
        .clone()
}

fn percent(value: &serde_json::Value, key: &str) -> f64 {
    value[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} in {value}"))
}

fn node(script: &str, env: &[(&str, &str)]) -> Option<NodeProcess> {
    node_available().then(|| start(script, env))
}

#[test]
fn busy_main_loop_is_computing() {
    let Some(node) = node("console.log('ready'); while (true) {}", &[]) else {
        return;
    };
    let doc = profile(node.pid());
    let event_loop = verdict(&doc, node.pid(), "event loop");
    assert_eq!(event_loop["verdict"], "computing", "{event_loop}");
    assert!(
        percent(&event_loop, "running_percent") >= 90.0,
        "{event_loop}"
    );
    let folded = run(&[
        "profile",
        &node.pid().to_string(),
        "--for",
        "1s",
        "--folded",
    ]);
    let text = String::from_utf8(folded.stdout).unwrap();
    assert!(
        text.lines().any(|l| l.starts_with("js-main;running ")),
        "{text}"
    );
    for line in text.lines() {
        let (stack, count) = line.rsplit_once(' ').unwrap();
        assert!(
            count.parse::<u32>().unwrap() > 0 && stack.split(';').count() >= 2,
            "{line}"
        );
    }
}

#[test]
fn idle_server_is_waiting_and_its_listener_keeps_it_alive() {
    let Some(node) = node(SERVER, &[]) else {
        return;
    };
    let doc = profile(node.pid());
    let event_loop = verdict(&doc, node.pid(), "event loop");
    assert_eq!(event_loop["verdict"], "waiting", "{event_loop}");
    assert!(
        percent(&event_loop, "waiting_percent") >= 95.0,
        "{event_loop}"
    );
    let alive = verdict(&doc, node.pid(), "loop alive");
    assert!(
        alive["text"].as_str().unwrap().contains("1 listener"),
        "{alive}"
    );
    let pool = verdict(&doc, node.pid(), "libuv pool");
    assert_eq!(pool["of_threads"], 0, "{pool}");
}

#[test]
fn read_on_a_fifo_names_the_fifo() {
    if !node_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("input.fifo");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    // Held open read-write (no data ever): node's open succeeds and its read blocks.
    let _held = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&fifo)
        .unwrap();
    let script = format!(
        "console.log('ready'); while (true) require('fs').readFileSync({:?});",
        fifo.to_str().unwrap()
    );
    let node = start(&script, &[]);
    let doc = profile(node.pid());
    let main = process(&doc, node.pid())["threads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tid"] == node.pid())
        .unwrap()
        .clone();
    let top = &main["waits"][0];
    assert_eq!(top["syscall"], "read", "{main}");
    assert_eq!(top["target"], fifo.to_str().unwrap(), "{main}");
    assert!(
        top["wait"]
            .as_str()
            .unwrap()
            .ends_with(&format!("→ {})", fifo.display())),
        "{top}"
    );
    assert!(percent(top, "percent") >= 90.0, "{main}");
    assert_eq!(
        verdict(&doc, node.pid(), "event loop")["verdict"],
        "blocked"
    );
}

/// `jobs` pbkdf2 jobs always in flight on a pool of `size`.
fn pool_load(jobs: u32, size: &str) -> Option<NodeProcess> {
    let script = format!(
        "const c = require('crypto'); function go() {{ c.pbkdf2('a', 'b', 200000, 32, 'sha256', go); }} for (let i = 0; i < {jobs}; i++) go(); console.log('ready');"
    );
    node(&script, &[("UV_THREADPOOL_SIZE", size)])
}

fn assert_saturated(node: &NodeProcess, size: u64) {
    let doc = profile(node.pid());
    let pool = verdict(&doc, node.pid(), "libuv pool");
    assert_eq!(pool["verdict"], "saturated", "{pool}\n{doc}");
    assert_eq!(
        (pool["busy_threads"].as_u64(), pool["of_threads"].as_u64()),
        (Some(size), Some(size)),
        "{pool}"
    );
    let summary = process(&doc, node.pid())["runtime_summary"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!summary.contains("not started"), "{summary}");
}

#[test]
fn pbkdf2_saturates_a_pool_of_4() {
    if let Some(node) = pool_load(4, "4") {
        assert_saturated(&node, 4);
    }
}

#[test]
fn sixteen_jobs_saturate_a_pool_of_8() {
    if let Some(node) = pool_load(16, "8") {
        assert_saturated(&node, 8);
    }
}

#[test]
fn busy_worker_thread_computes_while_main_waits() {
    // The running Worker alone keeps the process alive: main has nothing to wake up for.
    let script = "const { Worker } = require('worker_threads'); new Worker('while (true) {}', { eval: true }); setTimeout(() => console.log('ready'), 300);";
    let Some(node) = node(script, &[]) else {
        return;
    };
    let doc = profile(node.pid());
    let worker = verdict(&doc, node.pid(), "worker_thread");
    assert_eq!(worker["verdict"], "computing", "{doc}");
    assert!(percent(&worker, "running_percent") >= 90.0, "{worker}");
    let main = verdict(&doc, node.pid(), "event loop");
    assert_eq!(main["verdict"], "waiting", "{main}");
    assert!(percent(&main, "waiting_percent") >= 90.0, "{main}");
}

#[test]
fn cluster_tells_a_busy_worker_from_an_idle_one() {
    if !node_available() {
        return;
    }
    // The busy worker spins in slices so it still notices its primary leaving (it exits
    // when the IPC channel closes; no worker is ever signalled by PID).
    let script = "const cluster = require('cluster');
        if (cluster.isPrimary) {
          const busy = cluster.fork({ BUSY: '1' }); const idle = cluster.fork();
          let online = 0;
          for (const w of [busy, idle]) w.on('online', () => { if (++online === 2) console.log(busy.process.pid + ',' + idle.process.pid); });
        } else if (process.env.BUSY) {
          (function spin() { const end = Date.now() + 50; while (Date.now() < end) {} setImmediate(spin); })();
        } else { setInterval(() => {}, 1000); }";
    let primary = start_file(script, &[]);
    let pids: Vec<u32> = primary
        .ready
        .split(',')
        .map(|p| p.parse().unwrap())
        .collect();
    let doc = profile(primary.pid());
    assert_eq!(doc["processes"].as_array().unwrap().len(), 3, "{doc}");
    let busy = verdict(&doc, pids[0], "event loop");
    let idle = verdict(&doc, pids[1], "event loop");
    assert_eq!(
        (busy["verdict"].as_str(), idle["verdict"].as_str()),
        (Some("computing"), Some("waiting")),
        "{doc}"
    );
    assert!(percent(&busy, "running_percent") >= 90.0, "{busy}");
    assert!(percent(&idle, "waiting_percent") >= 95.0, "{idle}");
}

#[test]
fn bad_arguments_are_usage_errors() {
    let out = run(&["profile", "1", "--hz", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["profile", "1", "--for", "soon"]);
    assert_eq!(out.status.code(), Some(2));
}

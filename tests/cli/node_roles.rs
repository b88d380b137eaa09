//! Thread roles against ground truth nobody tuned: a Node.js version that names its threads
//! (24, fetched by .ci/run into PROCSCOPE_NODE24) records every thread's name, then renames
//! its own threads to `node` (a `-r` preload writing /proc/self/task/*/comm: the kernel lets
//! only the process itself do that), and procscope's roles are compared with the recorded
//! names. `unknown` is allowed; a wrong role is not.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::common::{bin, first_line, json_ok, run};

/// Records every thread's name as JSON on stdout, then renames every thread to `node`. A
/// thread starts with its creator's name and names itself a moment later, so the names are
/// read once no thread but the main one still carries the main thread's name (2 s at most).
const PRELOAD: &str = "const fs = require('fs');
globalThis.__truth = function () {
  const read = () => {
    const names = {};
    for (const tid of fs.readdirSync('/proc/self/task')) {
      try { names[tid] = fs.readFileSync('/proc/self/task/' + tid + '/comm', 'utf8').trim(); } catch (e) {}
    }
    return names;
  };
  const main = String(process.pid);
  const unsettled = (names) => Object.keys(names).some((tid) => tid !== main && names[tid] === names[main]);
  let names = read();
  for (let i = 0; i < 200 && unsettled(names); i++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    names = read();
  }
  for (const tid of Object.keys(names)) {
    try { fs.writeFileSync('/proc/self/task/' + tid + '/comm', 'node'); } catch (e) {}
  }
  console.log(JSON.stringify(names));
};";

/// The node binary that names its threads, if there is one.
fn named_node() -> Option<PathBuf> {
    let path = std::env::var_os("PROCSCOPE_NODE24")
        .map(PathBuf::from)
        .or_else(|| {
            let cached = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("target/ci-cache/node24/package/bin/node");
            cached.exists().then_some(cached)
        })
        .filter(|path| path.exists());
    if path.is_none() {
        assert!(
            std::env::var_os("PROCSCOPE_REQUIRE_NODE").is_none(),
            "PROCSCOPE_REQUIRE_NODE=1 but PROCSCOPE_NODE24 names no node binary"
        );
        eprintln!(
            "notice: no Node.js that names its threads (PROCSCOPE_NODE24); ground-truth role tests skipped"
        );
    }
    path
}

/// The process title one scenario sets.
const TITLE: &str = "my-api";

/// The role a recorded thread name proves (`workers` are the names the script gave).
fn truth(name: &str, workers: &[&str]) -> &'static str {
    match name {
        // process.title renames the main thread.
        "MainThread" | "node-MainThread" | TITLE => "js_main",
        "DelayedTaskSche" => "delayed_task_scheduler",
        "V8Worker" | "node-V8Worker" => "v8_worker",
        "SignalInspector" => "signal_inspector",
        "InspectorIo" => "inspector_io",
        "libuv-worker" => "libuv_pool",
        "WorkerThread" => "worker_thread",
        other if workers.contains(&other) => "worker_thread",
        other => panic!("a thread name this test does not know: {other}"),
    }
}

/// Compares the roles of `doc` (threads or one profiled process) with the recorded names:
/// no wrong role, the main thread right, and most threads decided.
fn compare(doc: &serde_json::Value, names: &BTreeMap<String, String>, workers: &[&str]) {
    let mut wrong = Vec::new();
    let mut unknown = 0;
    for thread in doc["threads"].as_array().unwrap() {
        let tid = thread["tid"].to_string();
        let Some(name) = names.get(&tid) else {
            continue; // started after the names were recorded
        };
        let expected = truth(name, workers);
        match thread["role"].as_str().unwrap() {
            "unknown" => unknown += 1,
            role if role == expected => {}
            role => wrong.push(format!(
                "{tid} {name}: {role}, evidence {}",
                thread["role_evidence"]
            )),
        }
    }
    assert!(wrong.is_empty(), "wrong roles: {wrong:#?}\n{doc}");
    assert!(
        unknown * 2 <= names.len(),
        "{unknown} of {} unknown: {doc}",
        names.len()
    );
}

/// Runs a scenario: `script` calls `__truth()` once set up.
fn scenario(script: &str, args: &[&str], env: &[(&str, &str)], workers: &[&str]) {
    let Some(node) = named_node() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let preload = dir.path().join("truth.js");
    std::fs::write(&preload, PRELOAD).unwrap();
    let app = dir.path().join("app.js");
    std::fs::write(&app, script).unwrap();
    let mut command = Command::new(node);
    command
        .args(args)
        .arg("-r")
        .arg(&preload)
        .arg(&app)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command.envs(env.iter().copied());
    let child = crate::common::Owned(command.spawn().unwrap());
    let mut child = child;
    let names: BTreeMap<String, String> =
        serde_json::from_str(first_line(&mut child.0).trim()).expect("the recorded names");
    let pid = child.pid().to_string();
    let threads = json_ok(&run(&["threads", &pid, "--json", "--samples", "20"]));
    compare(&threads, &names, workers);
    let profile = json_ok(&run(&[
        "profile", &pid, "--for", "1s", "--hz", "50", "--json",
    ]));
    compare(&profile["processes"][0], &names, workers);
}

const SERVER: &str =
    "require('http').createServer((q, r) => r.end('ok')).listen(0, '127.0.0.1', () => __truth());";

#[test]
fn idle_server() {
    scenario(SERVER, &[], &[], &[]);
}

#[test]
fn worker_in_atomics_wait() {
    let script = "const { Worker } = require('worker_threads'); const sab = new SharedArrayBuffer(4);
        const w = new Worker(\"const { workerData, parentPort } = require('worker_threads'); parentPort.postMessage('up'); Atomics.wait(new Int32Array(workerData), 0, 0);\", { eval: true, workerData: sab });
        w.on('message', () => setTimeout(__truth, 300)); setInterval(() => {}, 1000);";
    scenario(script, &[], &[], &[]);
}

#[test]
fn worker_with_an_8_mib_stack_serving_http() {
    let script = "const { Worker } = require('worker_threads');
        const w = new Worker(\"require('http').createServer((q, r) => r.end()).listen(0, '127.0.0.1', () => require('worker_threads').parentPort.postMessage('up'));\", { eval: true, name: 'server-worker', resourceLimits: { stackSizeMb: 8 } });
        w.on('message', () => setTimeout(__truth, 300)); setInterval(() => {}, 1000);";
    scenario(script, &[], &[], &["server-worker"]);
}

#[test]
fn busy_pools_and_a_busy_main_thread() {
    let pool = "const c = require('crypto'); function go() { c.pbkdf2('a', 'b', 200000, 32, 'sha256', go); } for (let i = 0; i < 16; i++) go(); setTimeout(__truth, 300);";
    scenario(pool, &[], &[("UV_THREADPOOL_SIZE", "8")], &[]);
    let small = "const c = require('crypto'); function go() { c.pbkdf2('a', 'b', 200000, 32, 'sha256', go); } for (let i = 0; i < 4; i++) go(); setTimeout(__truth, 300);";
    scenario(small, &[], &[("UV_THREADPOOL_SIZE", "4")], &[]);
    scenario("__truth(); while (true) {}", &[], &[], &[]);
}

#[test]
fn inspector_title_and_named_workers() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let inspect = format!("--inspect=127.0.0.1:{port}");
    let script = "process.title = 'my-api'; const { Worker } = require('worker_threads');
        new Worker('setInterval(() => {}, 1000)', { eval: true, name: 'bg-one' }); new Worker('setInterval(() => {}, 1000)', { eval: true });
        setTimeout(__truth, 800); setInterval(() => {}, 1000);";
    scenario(script, &[&inspect], &[], &["bg-one"]);
    scenario(SERVER, &["--v8-pool-size=2"], &[], &[]);
}

/// In a new PID namespace whose PIDs wrap while the process runs: a worker started late
/// gets a lower TID than the threads started with the process.
#[test]
fn late_worker_after_pid_wrap() {
    let Some(node) = named_node() else {
        return;
    };
    let unshare_works = Command::new("unshare")
        .args(["-Urpf", "--mount-proc", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !unshare_works {
        assert!(
            std::env::var_os("PROCSCOPE_REQUIRE_NODE").is_none(),
            "unshare -Urpf fails"
        );
        eprintln!("notice: unshare -Urpf unavailable; PID wrap-around role test skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("truth.js"), PRELOAD).unwrap();
    let app = "const fs = require('fs'); const { Worker } = require('worker_threads');
        setTimeout(() => console.log('armed'), 1500);
        const poll = setInterval(() => { if (!fs.existsSync(process.env.GO)) return; clearInterval(poll);
          new Worker('setInterval(() => {}, 1000)', { eval: true }).on('online', () => setTimeout(__truth, 300)); }, 50);
        setInterval(() => {}, 1000);";
    std::fs::write(dir.path().join("app.js"), app).unwrap();
    // Everything inside dies with the namespace's init (this shell) when it exits.
    let shell = r#"set -e
        wait_for() { i=0; until grep -q "$1" "$D/out"; do i=$((i + 1)); [ $i -lt 600 ] || exit 9; sleep 0.05; done; }
        M=$(cat /proc/sys/kernel/pid_max)
        echo $((M - 200)) > /proc/sys/kernel/ns_last_pid
        GO="$D/go" "$NODE" -r "$D/truth.js" "$D/app.js" > "$D/out" &
        N=$!
        wait_for armed
        echo $((M - 1)) > /proc/sys/kernel/ns_last_pid
        : > "$D/go"
        wait_for '^{'
        "$PS" threads $N --json --samples 20 > "$D/threads.json"
        grep '^{' "$D/out""#;
    let out = Command::new("unshare")
        .args(["-Urpf", "--mount-proc", "sh", "-c", shell])
        .env("D", dir.path())
        .env("NODE", node)
        .env("PS", bin())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names: BTreeMap<String, String> = serde_json::from_slice(&out.stdout).unwrap();
    let threads: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("threads.json")).unwrap()).unwrap();
    let lowest = names
        .keys()
        .map(|t| t.parse::<u32>().unwrap())
        .min()
        .unwrap();
    let pid = threads["pid"].as_u64().unwrap() as u32;
    assert!(lowest < pid, "the PIDs wrapped: {names:?}");
    assert_eq!(names[&lowest.to_string()], "WorkerThread", "{names:?}");
    compare(&threads, &names, &[]);
    let late = threads["threads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tid"] == lowest)
        .unwrap();
    assert_ne!(late["role"], "delayed_task_scheduler", "{late}");
}

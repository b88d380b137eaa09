//! Node.js insight against real Node.js processes the tests start (skipped with a notice
//! when `node` is missing, unless PROCSCOPE_REQUIRE_NODE=1), and a captured fixture.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{json, run, run_fixture_tree, stderr, stdout};

/// A Node.js process running a script in its own process group; when dropped, the whole
/// group (it and any cluster workers) is killed (SIGKILL, never SIGUSR1) while the leader is
/// still our un-reaped child, so the group ID cannot name anyone else.
pub struct NodeProcess {
    child: Child,
    /// The first line the script printed.
    pub ready: String,
    /// Where a script file lives, when it needs one (cluster workers re-run the file).
    _dir: Option<tempfile::TempDir>,
}

impl NodeProcess {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        // SAFETY: killpg on the group this test created; its leader is our un-reaped child.
        unsafe { libc::killpg(self.child.id() as i32, libc::SIGKILL) };
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn node_available() -> bool {
    let found = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("PROCSCOPE_REQUIRE_NODE").is_none(),
            "PROCSCOPE_REQUIRE_NODE=1 but node is missing"
        );
        crate::common::notice!("node is not installed; Node.js tests skipped");
    }
    found
}

fn node_version() -> String {
    let out = Command::new("node").arg("--version").output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .trim_start_matches('v')
        .to_owned()
}

/// Starts `node -e script` with `env`, waits for its first line of output.
pub fn start(script: &str, env: &[(&str, &str)]) -> NodeProcess {
    start_with(&["-e", script], env, None)
}

/// Starts the script from a file (cluster workers re-run their primary's file).
pub fn start_file(script: &str, env: &[(&str, &str)]) -> NodeProcess {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.js");
    std::fs::write(&path, script).unwrap();
    start_with(&[path.to_str().unwrap()], env, Some(dir))
}

pub fn start_with(
    args: &[&str],
    env: &[(&str, &str)],
    dir: Option<tempfile::TempDir>,
) -> NodeProcess {
    let mut command = Command::new("node");
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("node starts");
    let line = crate::common::first_line(&mut child);
    NodeProcess {
        child,
        ready: line.trim().to_owned(),
        _dir: dir,
    }
}

/// Thread roles of `pid`, once every thread is caught blocked (they settle after start).
fn roles_of(pid: u32) -> (BTreeMap<String, usize>, serde_json::Value) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let doc = json(&run(&[
            "threads",
            &pid.to_string(),
            "--json",
            "--samples",
            "20",
        ]));
        let mut counts = BTreeMap::new();
        for thread in doc["threads"].as_array().unwrap() {
            *counts
                .entry(thread["role"].as_str().unwrap_or("none").to_owned())
                .or_insert(0) += 1;
        }
        if !counts.contains_key("unknown") || Instant::now() > deadline {
            return (counts, doc);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs
        .iter()
        .map(|(role, n)| ((*role).to_owned(), *n))
        .collect()
}

pub const SERVER: &str = "require('http').createServer((q, r) => r.end('ok')).listen(0, '127.0.0.1', function () { console.log(this.address().port); });";

#[test]
fn idle_http_server() {
    if !node_available() {
        return;
    }
    let node = start(SERVER, &[]);
    let (roles, doc) = roles_of(node.pid());
    assert_eq!(
        roles,
        counts(&[
            ("js_main", 1),
            ("v8_worker", 4),
            ("signal_inspector", 1),
            ("delayed_task_scheduler", 1)
        ]),
        "{doc}"
    );
    assert_eq!(doc["runtime"]["name"], "node");
    assert_eq!(doc["runtime"]["version"], node_version());
    let main = doc["threads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tid"] == node.pid())
        .unwrap();
    assert_eq!(main["role"], "js_main");
    assert!(
        main["role_evidence"]["rule"]
            .as_str()
            .unwrap()
            .contains("TID equals PID")
    );
    let summary = doc["runtime_summary"].as_str().unwrap();
    assert!(
        summary.starts_with(&format!(
            "Node.js v{} — 1 JavaScript main thread",
            node_version()
        )),
        "{summary}"
    );
    assert!(summary.contains("libuv pool not started yet"), "{summary}");
}

const POOL_WORK: &str = "const c = require('crypto'); let left = 8; for (let i = 0; i < 8; i++) c.pbkdf2('a', 'b', 1000, 32, 'sha256', () => { if (--left === 0) require('fs').readFile('/etc/hostname', () => console.log('ready')); }); setInterval(() => {}, 1000);";

#[test]
fn libuv_pool_after_fs_and_crypto_work() {
    if !node_available() {
        return;
    }
    let node = start(POOL_WORK, &[]);
    let (roles, doc) = roles_of(node.pid());
    assert_eq!(roles.get("libuv_pool"), Some(&4), "{doc}");
    assert_eq!(roles.get("v8_worker"), Some(&4), "{doc}");
    let sized = start(POOL_WORK, &[("UV_THREADPOOL_SIZE", "6")]);
    let (roles, doc) = roles_of(sized.pid());
    assert_eq!(roles.get("libuv_pool"), Some(&6), "{doc}");
    assert!(
        doc["runtime_summary"]
            .as_str()
            .unwrap()
            .contains("6 libuv pool threads (UV_THREADPOOL_SIZE=6)"),
        "{doc}"
    );
}

#[test]
fn two_worker_threads() {
    if !node_available() {
        return;
    }
    let script = "const { Worker } = require('worker_threads'); const code = 'setInterval(() => {}, 1000)'; new Worker(code, { eval: true, name: 'bg-worker' }); new Worker(code, { eval: true }); setTimeout(() => console.log('ready'), 500); setInterval(() => {}, 1000);";
    let node = start(script, &[]);
    let (roles, doc) = roles_of(node.pid());
    assert_eq!(roles.get("worker_thread"), Some(&2), "{doc}");
    assert_eq!(roles.get("js_main"), Some(&1));
    let workers: Vec<&serde_json::Value> = doc["threads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["role"] == "worker_thread")
        .collect();
    for worker in workers {
        let stack = worker["role_evidence"]["stack_bytes"].as_u64().unwrap();
        assert!(
            (4 << 20..=(4 << 20) + (64 << 10)).contains(&stack),
            "{worker}"
        );
    }
}

#[test]
fn process_title_does_not_hide_node() {
    if !node_available() {
        return;
    }
    let node = start(&format!("process.title = 'my-api'; {SERVER}"), &[]);
    let doc = json(&run(&[
        "ps",
        "--json",
        "--pid",
        &node.pid().to_string(),
        "-o",
        "pid,name,runtime",
    ]));
    let row = &doc["processes"][0];
    assert_eq!(row["name"], "my-api", "comm is the title");
    assert_eq!(row["runtime"]["name"], "node");
    assert_eq!(row["runtime"]["version"], node_version());
    let listed = json(&run(&["ps", "--runtime", "node", "--json", "-o", "pid"]));
    assert!(
        listed["processes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["pid"] == node.pid())
    );
}

fn cluster(policy: Option<&str>) -> (NodeProcess, u16, Vec<u32>) {
    let script = "const cluster = require('cluster'); const http = require('http');
        if (cluster.isPrimary) {
          const port = Number(process.env.TEST_PORT); const pids = []; let listening = 0;
          for (let i = 0; i < 2; i++) { const w = cluster.fork(); pids.push(w.process.pid);
            w.on('listening', () => { if (++listening === 2) console.log(pids.join(',')); }); }
        } else { http.createServer((q, r) => r.end('ok')).listen(Number(process.env.TEST_PORT), '127.0.0.1'); }";
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let port_text = port.to_string();
    let mut env = vec![("TEST_PORT", port_text.as_str())];
    if let Some(policy) = policy {
        env.push(("NODE_CLUSTER_SCHED_POLICY", policy));
    }
    let node = start_file(script, &env);
    let workers: Vec<u32> = node
        .ready
        .split(',')
        .filter_map(|p| p.parse().ok())
        .collect();
    (node, port, workers)
}

#[test]
fn cluster_roles_round_robin() {
    if !node_available() {
        return;
    }
    let (primary, port, workers) = cluster(None);
    assert_eq!(workers.len(), 2, "{}", primary.ready);
    let tree = json(&run(&["tree", &primary.pid().to_string(), "--json"]));
    let root = &tree["tree"][0];
    assert_eq!(root["role"], "cluster primary");
    let children: BTreeMap<u64, String> = root["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["pid"].as_u64().unwrap(),
                c["role"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        children.get(&u64::from(workers[0])).map(String::as_str),
        Some("cluster worker 1")
    );
    assert_eq!(
        children.get(&u64::from(workers[1])).map(String::as_str),
        Some("cluster worker 2")
    );
    let ports = json(&run(&["ports", &port.to_string(), "--json"]));
    let holders: Vec<(u64, String)> = ports["sockets"][0]["holders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["pid"].as_u64().unwrap(),
                h["role"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        holders,
        vec![(u64::from(primary.pid()), "cluster primary".to_owned())],
        "round-robin: only the primary listens"
    );
    let ps = json(&run(&[
        "ps",
        "--json",
        "--pid",
        &workers[1].to_string(),
        "-o",
        "runtime",
    ]));
    assert_eq!(ps["processes"][0]["runtime"]["cluster"]["role"], "worker");
    assert_eq!(ps["processes"][0]["runtime"]["cluster"]["id"], 2);
    let worker_text = stdout(&run(&[
        "ps",
        "--no-header",
        "--pid",
        &workers[1].to_string(),
        "-o",
        "runtime",
    ]));
    assert_eq!(
        worker_text.trim_end(),
        format!("node {} cluster worker 2", node_version())
    );
    let show = json(&run(&["show", &primary.pid().to_string(), "--json"]));
    assert_eq!(show["process"]["runtime"]["cluster"]["role"], "primary");
    assert_eq!(
        show["process"]["runtime"]["cluster"]["workers"],
        serde_json::json!(workers)
    );
    // ps marks the primary too, selected alone or in the whole listing, with the same
    // object show and threads give; the table text is that object's label.
    let primary_pid = primary.pid().to_string();
    let ps = json(&run(&[
        "ps",
        "--json",
        "--pid",
        &primary_pid,
        "-o",
        "runtime",
    ]));
    assert_eq!(ps["processes"][0]["runtime"], show["process"]["runtime"]);
    let threads = json(&run(&["threads", &primary_pid, "--json"]));
    assert_eq!(threads["runtime"], show["process"]["runtime"]);
    let all = json(&run(&["ps", "--json", "-o", "pid,runtime"]));
    assert_eq!(
        crate::common::row_of(&all, primary.pid())["runtime"],
        show["process"]["runtime"]
    );
    let text = stdout(&run(&[
        "ps",
        "--no-header",
        "--pid",
        &primary_pid,
        "-o",
        "runtime",
    ]));
    assert_eq!(
        text.trim_end(),
        format!("node {} cluster primary", node_version())
    );
}

#[test]
fn cluster_roles_sched_none_share_the_listener() {
    if !node_available() {
        return;
    }
    let (primary, port, workers) = cluster(Some("none"));
    assert_eq!(workers.len(), 2, "{}", primary.ready);
    let ports = json(&run(&["ports", &port.to_string(), "--json"]));
    let mut holders: Vec<u64> = ports["sockets"][0]["holders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["pid"].as_u64().unwrap())
        .collect();
    holders.sort_unstable();
    let mut expected: Vec<u64> = vec![
        u64::from(primary.pid()),
        u64::from(workers[0]),
        u64::from(workers[1]),
    ];
    expected.sort_unstable();
    assert_eq!(holders, expected, "{ports}");
}

#[test]
fn non_node_processes_get_no_runtime() {
    let sleeper = crate::common::Owned::spawn("sleep", &["300"]).sleeping();
    let python =
        crate::common::Owned::spawn("python3", &["-c", "import time; time.sleep(300)"]).sleeping();
    let pids = format!("{},{}", sleeper.pid(), python.pid());
    let doc = json(&run(&["ps", "--json", "--pid", &pids, "-o", "pid,runtime"]));
    for row in doc["processes"].as_array().unwrap() {
        assert_eq!(row["runtime"], serde_json::Value::Null, "{row}");
    }
    assert_eq!(doc["processes"].as_array().unwrap().len(), 2);
    let threads = json(&run(&["threads", &sleeper.pid().to_string(), "--json"]));
    assert_eq!(threads["threads"][0]["role"], serde_json::Value::Null);
    assert_eq!(threads["runtime"], serde_json::Value::Null);
}

#[test]
fn names_from_newer_node_versions() {
    // The fixture's executable link points at the system's node binary (to be recognised).
    if !node_available() {
        return;
    }
    let output = run_fixture_tree("node-names", &["threads", "9012", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc = json(&output);
    let role_of = |tid: u64| {
        doc["threads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["tid"] == tid)
            .unwrap()["role"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(role_of(9012), "js_main");
    assert_eq!(role_of(9014), "delayed_task_scheduler");
    assert_eq!(role_of(9015), "v8_worker");
    assert_eq!(role_of(9019), "signal_inspector");
    assert_eq!(role_of(9020), "worker_thread");
    assert_eq!(role_of(9022), "libuv_pool");
    // A user-named Worker caught running has no evidence of its own, but it is the only
    // thread left for the third isolate counted in the memory map.
    assert_eq!(role_of(9021), "worker_thread");
    // The captured node 20 process (all threads named `node`) is classified by evidence.
    let captured = json(&run_fixture_tree("node", &["threads", "9012", "--json"]));
    let roles: Vec<&str> = captured["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        vec![
            "js_main",
            "delayed_task_scheduler",
            "v8_worker",
            "v8_worker",
            "v8_worker",
            "v8_worker",
            "signal_inspector",
            "worker_thread",
            "worker_thread",
            "libuv_pool",
            "libuv_pool",
            "libuv_pool",
            "libuv_pool"
        ]
    );
}

/// Pool work, then a listener on a loopback port it prints; `MARKER` names the process.
const POOL_THEN_LISTEN: &str = "const c = require('crypto'); let left = 4; for (let i = 0; i < 4; i++) c.pbkdf2('a', 'b', 1000, 32, 'sha256', () => { if (--left === 0) require('http').createServer((q, r) => r.end('ok')).listen(0, '127.0.0.1', function () { console.log(this.address().port); }); }); /* MARKER */";

/// The value of the sample `series` (name and labels exactly) in an exposition.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn export_has_thread_role_port_and_per_pid_series() {
    if !node_available() {
        return;
    }
    let marker = format!("export-test-{}", std::process::id());
    let node = start(&POOL_THEN_LISTEN.replace("MARKER", &marker), &[]);
    let port = node.ready.clone();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("groups.toml");
    std::fs::write(
        &config,
        format!("[[group]]\ncmdline = '{marker}'\nname = 'app'\n"),
    )
    .unwrap();
    let (roles, doc) = roles_of(node.pid());
    assert_eq!(roles.get("js_main"), Some(&1), "{doc}");
    assert!(roles.contains_key("libuv_pool"), "{doc}");
    let pid = node.pid().to_string();
    let args = [
        "export",
        "--config",
        config.to_str().unwrap(),
        "--pid",
        &pid,
    ];
    // Roles settle as threads block; poll until the export agrees with `threads`.
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let output = run(&args);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let text = String::from_utf8(output.stdout).unwrap();
        let agrees = roles.iter().all(|(role, &count)| {
            // JSON spells roles in snake_case, metric labels as tables do (`js-main`).
            let series = format!(
                "procscope_group_runtime_threads{{group=\"app\",runtime=\"node\",role=\"{}\"}}",
                role.replace('_', "-")
            );
            sample(&text, &series) == Some(count as f64)
        });
        if agrees || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    for (role, count) in &roles {
        let series = format!(
            "procscope_group_runtime_threads{{group=\"app\",runtime=\"node\",role=\"{}\"}}",
            role.replace('_', "-")
        );
        assert_eq!(
            sample(&text, &series),
            Some(*count as f64),
            "{series} in\n{text}"
        );
    }
    let busy = sample(
        &text,
        "procscope_group_runtime_busy_threads{group=\"app\",runtime=\"node\",role=\"libuv-pool\"}",
    );
    assert!(
        busy.is_some_and(|b| b <= roles["libuv_pool"] as f64),
        "{text}"
    );
    let port_info = format!(
        "procscope_group_listening_port_info{{group=\"app\",protocol=\"tcp\",address=\"127.0.0.1\",port=\"{port}\"}}"
    );
    assert_eq!(sample(&text, &port_info), Some(1.0), "{text}");
    assert_eq!(
        sample(&text, "procscope_group_num_procs{group=\"app\"}"),
        Some(1.0),
        "{text}"
    );
    let per_pid = format!("procscope_process_threads{{group=\"app\",pid=\"{pid}\",start_time=\"");
    let line = text
        .lines()
        .find(|l| l.starts_with(&per_pid))
        .unwrap_or_else(|| panic!("{text}"));
    let threads = doc["threads"].as_array().unwrap().len() as f64;
    assert_eq!(
        line.rsplit(' ').next().unwrap().parse::<f64>().unwrap(),
        threads,
        "{line}"
    );
    // Nothing per PID for processes not selected.
    assert_eq!(
        text.matches("procscope_process_threads{").count(),
        1,
        "{text}"
    );
}
